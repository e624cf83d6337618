#include "connectors/kafka/kafka_output.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_metrics.h"
#include "connectors/kafka/output_tail.h"
#include "daemon/store/store.h"

namespace vigil::connectors::kafka {

namespace {

constexpr size_t kMaxInFlight = 100000;       // records produced but not yet confirmed
constexpr size_t kReadChunk = 2000;           // change records read per store call
constexpr auto kPositionInterval = std::chrono::milliseconds(100);
constexpr auto kTailTimeout = std::chrono::seconds(5);
constexpr auto kTailRetry = std::chrono::seconds(1);

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
  // Reads the topic's tail into tails_; false (logged) while the broker cannot tell.
  bool readTail();
  // Produces records after sent_; false on a store error.
  void produceAvailable();
  void waitWoken(std::chrono::milliseconds timeout);
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
  std::vector<uint64_t> tails_;  // per partition: the last seq found there at start
  RateLimitedLog tail_log_{std::chrono::seconds(30)};
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
  while (!stopping_.load(std::memory_order_relaxed) && !readTail()) waitWoken(kTailRetry);
  if (tails_.empty()) return;  // stopped before a broker answered: nothing was produced
  while (!stopping_.load(std::memory_order_relaxed)) {
    produceAvailable();
    producer_->poll(0);
    advance(false);
    waitWoken(std::chrono::milliseconds(20));
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

void KafkaOutput::Impl::waitWoken(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return woken_; });
  woken_ = false;
}

bool KafkaOutput::Impl::readTail() {
  auto tails = readOutputTail(*producer_, config_, kTailTimeout);
  if (!tails) {
    uint64_t suppressed = 0;
    if (tail_log_.allow(suppressed)) {
      spdlog::warn("kafka: output waits for the topic's last records: {} ({} similar suppressed)",
                   tails.error().toString(), suppressed);
    }
    return false;
  }
  const uint64_t newest = *std::max_element(tails->begin(), tails->end());
  // Every record there came from this store's change log, so none is newer than its last seq;
  // a newer one belongs to another history (a data dir started afresh): nothing of it counts.
  if (newest > store_.lastChangeSeq()) {
    spdlog::warn("kafka: {} holds change seq {} but the store's last is {}: a different history; "
                 "producing from seq {} regardless", config_.output_topic, newest, store_.lastChangeSeq(), sent_ + 1);
    std::fill(tails->begin(), tails->end(), 0);
  } else if (newest > sent_) {
    spdlog::info("kafka: {} already holds changes up to seq {} (position {}): those are not sent again",
                 config_.output_topic, newest, sent_);
  }
  tails_ = std::move(*tails);
  return true;
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
      const auto partition = static_cast<int32_t>(rd_kafka_msg_partitioner_consistent(
          nullptr, key.data(), key.size(), static_cast<int32_t>(tails_.size()), nullptr, nullptr));
      if (record.seq <= tails_[partition]) {
        // Delivered before a crash that kept it from being recorded: already in its partition.
        sent_ = record.seq;
        ++produced;
        metrics_.output_present.Increment();
        return true;
      }
      const std::string seq = std::to_string(record.seq);
      for (;;) {
        // The seq also as a header: the tail read at start (and any consumer) finds it without
        // parsing the value.
        RdKafka::Headers* headers = RdKafka::Headers::create();
        headers->add("vigil-seq", seq);
        const auto err = producer_->produce(config_.output_topic, partition,
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
