#include "connectors/kafka/kafka_output.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_metrics.h"
#include "daemon/store/store.h"

namespace vigil::connectors::kafka {

namespace {

constexpr size_t kMaxInFlight = 100000;       // records produced but not yet confirmed
constexpr size_t kReadChunk = 2000;           // change records read per store call
constexpr auto kPositionInterval = std::chrono::milliseconds(100);

std::string outputPositionKey(const std::string& topic) { return "output/kafka/" + topic; }

}  // namespace

class KafkaOutput::Impl final : public RdKafka::DeliveryReportCb {
 public:
  Impl(KafkaConfig config, store::Store& store, prometheus::Registry& registry)
      : config_(std::move(config)), store_(store), metrics_(registry) {}

  Status start();
  void stop();
  void wake() {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_one();
  }
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }

  // RdKafka::DeliveryReportCb; called on: the output thread, inside poll()/flush().
  void dr_cb(RdKafka::Message& message) override;

 private:
  void run();
  // Produces records after sent_; false on a store error.
  void produceAvailable();
  void advance(bool force);

  const KafkaConfig config_;
  store::Store& store_;
  KafkaMetrics metrics_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> delivered_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // GUARDED_BY(mu_)

  // Output-thread state.
  uint64_t sent_ = 0;           // highest seq handed to the producer
  uint64_t stored_ = 0;         // position last written to the store
  std::set<uint64_t> pending_;  // produced, no delivery report yet
  bool failed_ = false;         // a delivery failed: production stops (fatal producer state)
  std::chrono::steady_clock::time_point last_store_{};
};

Status KafkaOutput::Impl::start() {
  auto position = store_.getPosition(0, outputPositionKey(config_.output_topic));
  if (!position) return position.error();
  if (*position) sent_ = std::stoull(**position);
  stored_ = sent_;
  delivered_ = sent_;
  metrics_.output_seq.Set(static_cast<double>(sent_));
  auto conf = makeConf(config_, {{"linger.ms", "5"}, {"message.timeout.ms", "0"}},
                       {{"enable.idempotence", "true"}});
  if (!conf) return conf.error();
  std::string error;
  if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), error) != RdKafka::Conf::CONF_OK) {
    return Status::internal("kafka: " + error);
  }
  producer_.reset(RdKafka::Producer::create(conf->get(), error));
  if (!producer_) return Status::invalidArgument("kafka output producer: " + error);
  spdlog::info("kafka: producing incident changes to {} from seq {}", config_.output_topic, sent_ + 1);
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void KafkaOutput::Impl::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  wake();
  thread_.join();
}

void KafkaOutput::Impl::run() {
  while (!stopping_.load(std::memory_order_relaxed)) {
    produceAvailable();
    producer_->poll(0);
    advance(false);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return woken_; });
    woken_ = false;
  }
  // The pipeline has stopped: everything committed is in the log now.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    produceAvailable();
    producer_->poll(50);
  } while ((!pending_.empty() || store_.lastChangeSeq() > sent_) && !failed_ &&
           std::chrono::steady_clock::now() < deadline);
  if (!pending_.empty()) spdlog::warn("kafka: {} incident changes unconfirmed at shutdown", pending_.size());
  advance(true);
}

void KafkaOutput::Impl::produceAvailable() {
  while (!failed_ && pending_.size() < kMaxInFlight && store_.lastChangeSeq() > sent_) {
    size_t produced = 0;
    Status s = store_.readChanges(sent_, kReadChunk, [&](const store::ChangeRecord& record) {
      const auto j = nlohmann::json::parse(record.json, nullptr, false);
      std::string key;
      if (j.is_object() && j.contains("incident") && j["incident"].contains("id")) {
        key = std::to_string(j["incident"]["id"].get<uint64_t>());
      }
      const std::string seq = std::to_string(record.seq);
      for (;;) {
        // The seq also as a header, so a consumer can drop repeats without parsing the value.
        RdKafka::Headers* headers = RdKafka::Headers::create();
        headers->add("vigil-seq", seq);
        const auto err = producer_->produce(config_.output_topic, RdKafka::Topic::PARTITION_UA,
                                            RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(record.json.data()),
                                            record.json.size(), key.data(), key.size(), 0, headers,
                                            reinterpret_cast<void*>(static_cast<uintptr_t>(record.seq)));
        if (err == RdKafka::ERR_NO_ERROR) break;  // librdkafka owns the headers now
        delete headers;
        if (err != RdKafka::ERR__QUEUE_FULL || stopping_) {
          spdlog::error("kafka: producing to {}: {}", config_.output_topic, RdKafka::err2str(err));
          failed_ = true;
          return false;
        }
        producer_->poll(100);
      }
      pending_.insert(record.seq);
      sent_ = record.seq;
      ++produced;
      return pending_.size() < kMaxInFlight;
    });
    if (!s.isOk()) {
      spdlog::error("kafka: reading the change log: {}", s.toString());
      return;
    }
    if (produced == 0) {
      // Trimmed by retention below what we need: say so and continue at the oldest kept.
      spdlog::error("kafka: change records after seq {} are gone (retention); output skips them", sent_);
      sent_ = store_.lastChangeSeq();
      return;
    }
  }
}

void KafkaOutput::Impl::advance(bool force) {
  const uint64_t confirmed = pending_.empty() ? sent_ : *pending_.begin() - 1;
  delivered_ = confirmed;
  metrics_.output_seq.Set(static_cast<double>(confirmed));
  const auto now = std::chrono::steady_clock::now();
  if (confirmed == stored_ || (!force && now - last_store_ < kPositionInterval)) return;
  if (Status s = store_.putPosition(0, outputPositionKey(config_.output_topic), std::to_string(confirmed)); !s) {
    spdlog::error("kafka: recording the output position: {}", s.toString());
    return;
  }
  stored_ = confirmed;
  last_store_ = now;
}

void KafkaOutput::Impl::dr_cb(RdKafka::Message& message) {
  const auto seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message.msg_opaque()));
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    pending_.erase(seq);
    metrics_.output_produced.Increment();
    return;
  }
  // With idempotence and no message timeout only fatal errors get here. Keep the position at
  // the last confirmed record so a restart sends from there.
  metrics_.output_failed.Increment();
  if (!failed_) spdlog::critical("kafka: incident change {} not delivered: {}; output stops", seq, message.errstr());
  failed_ = true;
}

KafkaOutput::KafkaOutput(KafkaConfig config, store::Store& store, prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(config), store, registry)) {}
KafkaOutput::~KafkaOutput() { stop(); }
Status KafkaOutput::start() { return impl_->start(); }
void KafkaOutput::stop() { impl_->stop(); }
uint64_t KafkaOutput::deliveredSeq() const { return impl_->delivered(); }
void KafkaOutput::onCommitted(const incidents::ChangeSet& /*changes*/) { impl_->wake(); }

Result<std::unique_ptr<KafkaOutput>> makeKafkaOutput(const YAML::Node& section, std::string_view file,
                                                     store::Store& store, prometheus::Registry& registry) {
  auto config = parseKafkaConfig(section, file);
  if (!config) return fail(config.error());
  if (config->output_topic.empty()) return std::unique_ptr<KafkaOutput>();
  return std::make_unique<KafkaOutput>(std::move(*config), store, registry);
}

}  // namespace vigil::connectors::kafka
