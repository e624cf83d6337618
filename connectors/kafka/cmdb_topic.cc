#include "connectors/kafka/cmdb_topic.h"

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include "connectors/kafka/dead_letter.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_metrics.h"
#include "daemon/cmdb/cmdb_feeds.h"

namespace vigil::connectors::kafka {

namespace {
constexpr size_t kMaxPending = 10000;  // changes gathered before a rebuild regardless of the debounce

struct PartitionListGuard {
  std::vector<RdKafka::TopicPartition*> items;
  ~PartitionListGuard() { RdKafka::TopicPartition::destroy(items); }
};

}  // namespace

class CmdbTopicConsumer::Impl final : public RdKafka::RebalanceCb {
 public:
  Impl(KafkaConfig config, cmdb::CmdbFeeds& feeds, prometheus::Registry& registry)
      : config_(std::move(config)),
        feeds_(feeds),
        metrics_(registry),
        dead_letter_(config_, metrics_),
        changes_(prometheus::BuildCounter()
                     .Name("vigil_cmdb_topic_changes_total")
                     .Help("CI upserts and deletes read from the CMDB topic, by result")
                     .Register(registry)),
        applied_(changes_.Add({{"result", "applied"}})),
        rejected_(changes_.Add({{"result", "rejected"}})),
        cis_(prometheus::BuildGauge()
                 .Name("vigil_cmdb_topic_cis")
                 .Help("CIs the CMDB topic holds (stored)")
                 .Register(registry)
                 .Add({})) {}

  Status start();
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // RdKafka::RebalanceCb; called on: the poll thread, inside consume().
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

 private:
  void run();
  void take(std::unique_ptr<RdKafka::Message> msg);
  void apply();

  const KafkaConfig config_;
  cmdb::CmdbFeeds& feeds_;
  KafkaMetrics metrics_;
  DeadLetterProducer dead_letter_;
  prometheus::Family<prometheus::Counter>& changes_;
  prometheus::Counter& applied_;
  prometheus::Counter& rejected_;
  prometheus::Gauge& cis_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Poll-thread state: what was read since the last apply.
  std::vector<cmdb::CmdbFeeds::TopicChange> pending_;
  std::vector<std::unique_ptr<RdKafka::Message>> messages_;  // parallel to pending_, for the DLQ
  std::map<int32_t, int64_t> next_offsets_;
  std::chrono::steady_clock::time_point last_apply_{};
  RateLimitedLog error_log_{std::chrono::seconds(10)};
};

Status CmdbTopicConsumer::Impl::start() {
  const std::string group = config_.cmdb_group.empty() ? config_.group + "-cmdb" : config_.cmdb_group;
  // Eager assignment: the whole topic is read by this instance; offsets come from the store.
  auto conf = makeConf(config_, {{"auto.offset.reset", "earliest"}, {"enable.partition.eof", "false"}},
                       {{"group.id", group},
                        {"enable.auto.commit", "false"},
                        {"enable.auto.offset.store", "false"},
                        {"partition.assignment.strategy", "range"}});
  if (!conf) return conf.error();
  std::string error;
  if ((*conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), error) != RdKafka::Conf::CONF_OK) {
    return Status::internal("kafka: " + error);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer_) return Status::invalidArgument("kafka cmdb consumer: " + error);
  if (Status s = dead_letter_.start(); !s) return s;
  if (auto err = consumer_->subscribe({config_.cmdb_topic}); err != RdKafka::ERR_NO_ERROR) {
    return Status::invalidArgument("kafka subscribe " + config_.cmdb_topic + ": " + RdKafka::err2str(err));
  }
  cis_.Set(static_cast<double>(feeds_.topicCiCount()));
  spdlog::info("kafka: reading CIs from {} as group {}", config_.cmdb_topic, group);
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void CmdbTopicConsumer::Impl::run() {
  while (!stopping_.load(std::memory_order_relaxed)) {
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(100));
    if (msg && msg->err() == RdKafka::ERR_NO_ERROR) {
      take(std::move(msg));
    } else if (msg && msg->err() != RdKafka::ERR__TIMED_OUT && msg->err() != RdKafka::ERR__PARTITION_EOF) {
      uint64_t suppressed = 0;
      if (error_log_.allow(suppressed)) {
        spdlog::warn("kafka: cmdb topic: {} ({} similar suppressed)", msg->errstr(), suppressed);
      }
    }
    // Debounce: the first change after a quiet period applies at once, later ones wait.
    const auto now = std::chrono::steady_clock::now();
    if (!pending_.empty() && (now - last_apply_ >= config_.cmdb_debounce || pending_.size() >= kMaxPending)) apply();
    dead_letter_.poll();
  }
  apply();
  if (auto err = consumer_->close(); err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: closing the cmdb consumer: {}", RdKafka::err2str(err));
  }
  dead_letter_.flush();
}

void CmdbTopicConsumer::Impl::take(std::unique_ptr<RdKafka::Message> msg) {
  cmdb::CmdbFeeds::TopicChange change;
  if (const std::string* key = msg->key()) change.id = *key;
  if (msg->payload() != nullptr && msg->len() > 0) {
    change.json = std::string(static_cast<const char*>(msg->payload()), msg->len());
  }
  change.where = msg->topic_name() + "/" + std::to_string(msg->partition()) + "@" + std::to_string(msg->offset());
  next_offsets_[msg->partition()] = msg->offset() + 1;
  if (!change.json && change.id.empty()) {
    rejected_.Increment();
    dead_letter_.send(*msg, "a CMDB tombstone needs the CI id as key");
    return;
  }
  pending_.push_back(std::move(change));
  messages_.push_back(std::move(msg));
}

void CmdbTopicConsumer::Impl::apply() {
  if (pending_.empty() && next_offsets_.empty()) return;
  last_apply_ = std::chrono::steady_clock::now();
  auto rejected = feeds_.applyTopic(pending_, next_offsets_);
  if (!rejected) {
    // Nothing changed: read them again from the stored offsets.
    spdlog::error("kafka: storing CMDB topic changes: {}; reading them again", rejected.error().toString());
    PartitionListGuard list;
    if (consumer_->assignment(list.items) == RdKafka::ERR_NO_ERROR) {
      for (auto* p : list.items) {
        const auto offset = feeds_.topicOffset(p->partition());
        p->set_offset(offset ? *offset : RdKafka::Topic::OFFSET_BEGINNING);
        consumer_->seek(*p, 1000);
      }
    }
  } else {
    for (const auto& r : *rejected) {
      rejected_.Increment();
      dead_letter_.send(*messages_[r.index], r.error);
    }
    applied_.Increment(static_cast<double>(pending_.size() - rejected->size()));
    cis_.Set(static_cast<double>(feeds_.topicCiCount()));
    if (pending_.size() > rejected->size()) {
      spdlog::info("kafka: CMDB topic: {} change(s) applied, {} rejected; {} CIs from the topic",
                   pending_.size() - rejected->size(), rejected->size(), feeds_.topicCiCount());
    }
  }
  pending_.clear();
  messages_.clear();
  next_offsets_.clear();
}

void CmdbTopicConsumer::Impl::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                                           std::vector<RdKafka::TopicPartition*>& partitions) {
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    for (auto* p : partitions) {
      const auto offset = feeds_.topicOffset(p->partition());
      p->set_offset(offset ? *offset : RdKafka::Topic::OFFSET_BEGINNING);
      spdlog::info("kafka: CMDB topic {}/{} from {}", p->topic(), p->partition(),
                   offset ? "stored offset " + std::to_string(*offset) : std::string("the beginning"));
    }
    consumer->assign(partitions);
  } else {
    apply();  // what was read of the revoked partitions is stored before they go
    consumer->unassign();
  }
}

CmdbTopicConsumer::CmdbTopicConsumer(KafkaConfig config, cmdb::CmdbFeeds& feeds, prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(config), feeds, registry)) {}
CmdbTopicConsumer::~CmdbTopicConsumer() { stop(); }
Status CmdbTopicConsumer::start() { return impl_->start(); }
void CmdbTopicConsumer::stop() { impl_->stop(); }

Result<std::unique_ptr<CmdbTopicConsumer>> makeCmdbTopicConsumer(const YAML::Node& section, std::string_view file,
                                                                 cmdb::CmdbFeeds& feeds,
                                                                 prometheus::Registry& registry) {
  auto config = parseKafkaConfig(section, file);
  if (!config) return fail(config.error());
  if (config->cmdb_topic.empty()) return std::unique_ptr<CmdbTopicConsumer>();
  return std::make_unique<CmdbTopicConsumer>(std::move(*config), feeds, registry);
}

}  // namespace vigil::connectors::kafka
