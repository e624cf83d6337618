#include "connectors/kafka/kafka_source.h"

#include <atomic>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "connectors/kafka/commit_tracker.h"
#include "connectors/kafka/dead_letter.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_decoder.h"
#include "connectors/kafka/kafka_metrics.h"
#include "connectors/kafka/kafka_stats.h"
#include "daemon/store/store.h"

namespace vigil::connectors::kafka {

std::string positionKey(std::string_view topic, int32_t partition) {
  return "kafka/" + std::string(topic) + "/" + std::to_string(partition);
}

namespace {

// Owns the RdKafka::TopicPartition pointers librdkafka's C++ API hands around.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> items;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
};

}  // namespace

class KafkaSource::Impl final : public RdKafka::RebalanceCb, public RdKafka::EventCb {
 public:
  Impl(KafkaConfig config, const store::Store& store, SourceContext& context)
      : config_(std::move(config)),
        store_(store),
        metrics_(context.registry),
        decoder_(config_.field_mapping),
        dead_letter_(config_, metrics_) {}

  Status start(EventSink& sink);
  void stop();
  bool ready() const { return ready_.load(std::memory_order_relaxed); }
  const KafkaConfig& config() const { return config_; }
  void setHandoff(PartitionHandoff* handoff) { handoff_ = handoff; }

  // RdKafka::RebalanceCb; called on: the poll thread, inside consume().
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;
  // RdKafka::EventCb; called on: the poll thread, inside consume().
  void event_cb(RdKafka::Event& event) override;

 private:
  struct Pending {
    TopicPartition tp;
    EventBatch batch;
  };

  void run();
  void consumeRound(std::chrono::milliseconds timeout);
  void handleMessage(RdKafka::Message& msg, std::map<TopicPartition, Pending>& building,
                     TimePoint received_at);
  void offerOrHold(Pending pending);
  void retryHeld();
  void serveEvents(std::chrono::milliseconds timeout);
  void setPaused(bool paused);
  // Commits the offsets of committed batches to the group (sync on revocation/close).
  void commitCompletions(bool sync);
  void onAssign(std::vector<RdKafka::TopicPartition*>& partitions);
  void onRevoke(std::vector<RdKafka::TopicPartition*>& partitions, bool lost);
  // The first message after resuming at `stored` came at `first`: reports what retention deleted.
  void checkDeletedUnread(const TopicPartition& tp, int64_t stored, int64_t first);

  const KafkaConfig config_;
  const store::Store& store_;
  PartitionHandoff* handoff_ = nullptr;
  KafkaMetrics metrics_;
  KafkaMessageDecoder decoder_;
  DeadLetterProducer dead_letter_;
  std::shared_ptr<CommitTracker> tracker_ = std::make_shared<CommitTracker>();
  EventSink* sink_ = nullptr;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::Queue> messages_;  // every assigned partition's messages
  std::map<TopicPartition, std::unique_ptr<RdKafka::Queue>> partition_queues_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};

  // Poll-thread state.
  std::set<TopicPartition> assigned_;
  std::map<TopicPartition, int64_t> committed_next_;  // next offset committed with the incidents
  std::map<TopicPartition, int64_t> resumed_at_;      // stored offset, until its first message
  std::deque<Pending> held_;                         // refused by the pipeline, in order
  size_t held_events_ = 0;
  std::chrono::steady_clock::time_point held_since_{};
  bool paused_ = false;
  std::chrono::milliseconds backoff_{2};
  RateLimitedLog error_log_{std::chrono::seconds(10)};
};

Status KafkaSource::Impl::start(EventSink& sink) {
  sink_ = &sink;
  auto conf = makeConf(config_,
                       {{"auto.offset.reset", "earliest"},
                        {"partition.assignment.strategy", config_.assignment_strategy},
                        {"statistics.interval.ms", std::to_string(config_.lag_interval.count())},
                        {"enable.partition.eof", "false"}},
                       {{"group.id", config_.group},
                        {"enable.auto.commit", "false"},
                        {"enable.auto.offset.store", "false"}});
  if (!conf) return conf.error();
  std::string error;
  if ((*conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), error) != RdKafka::Conf::CONF_OK ||
      (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(this), error) != RdKafka::Conf::CONF_OK) {
    return Status::internal("kafka: " + error);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer_) return Status::invalidArgument("kafka consumer: " + error);
  messages_.reset(RdKafka::Queue::create(consumer_.get()));
  if (Status s = dead_letter_.start(); !s) return s;
  if (auto err = consumer_->subscribe(config_.topics); err != RdKafka::ERR_NO_ERROR) {
    return Status::invalidArgument("kafka subscribe: " + RdKafka::err2str(err));
  }
  spdlog::info("kafka: consuming {} topic(s) from {} as group {} ({})", config_.topics.size(), config_.brokers,
               config_.group, config_.assignment_strategy);
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void KafkaSource::Impl::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

// Messages arrive on messages_ (every assigned partition's queue is forwarded there); the
// consumer's own queue then carries only rebalances, errors and statistics. So while the pipeline
// refuses batches the thread stops reading messages but keeps serving the group, and librdkafka's
// bounded prefetch holds the rest. Only a stall longer than pause_after pauses the partitions:
// a pause drops the prefetched messages and costs a fetch round trip on resume.
void KafkaSource::Impl::run() {
  while (!stopping_.load(std::memory_order_relaxed)) {
    commitCompletions(/*sync=*/false);
    serveEvents(held_.empty() ? std::chrono::milliseconds(0) : backoff_);
    if (!held_.empty()) retryHeld();
    if (held_.empty()) {
      setPaused(false);
      backoff_ = std::chrono::milliseconds(2);
      consumeRound(config_.poll_timeout);
    } else {
      backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(50));
      if (std::chrono::steady_clock::now() - held_since_ > config_.pause_after) setPaused(true);
    }
    dead_letter_.poll();
  }
  // Shutdown: what the pipeline did not take is simply not acknowledged; it is consumed again.
  held_.clear();
  held_events_ = 0;
  std::vector<TopicPartition> all(assigned_.begin(), assigned_.end());
  if (!tracker_->waitIdle(all, std::chrono::seconds(10))) {
    spdlog::warn("kafka: batches still in flight at shutdown; their offsets stay uncommitted in the group");
  }
  commitCompletions(/*sync=*/true);
  if (auto err = consumer_->close(); err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: closing the consumer: {}", RdKafka::err2str(err));
  }
  dead_letter_.flush();
  ready_ = false;
  metrics_.ready.Set(0);
}

void KafkaSource::Impl::consumeRound(std::chrono::milliseconds timeout) {
  std::map<TopicPartition, Pending> building;
  const TimePoint received_at = Clock::now();
  size_t messages = 0;
  int wait_ms = static_cast<int>(timeout.count());
  while (messages < config_.batch_max_events) {
    std::unique_ptr<RdKafka::Message> msg(messages_->consume(wait_ms));
    wait_ms = 0;  // the first call waits; the rest take only what is already there
    if (!msg || msg->err() == RdKafka::ERR__TIMED_OUT) break;
    if (msg->err() == RdKafka::ERR_NO_ERROR) {
      ++messages;
      handleMessage(*msg, building, received_at);
    } else if (msg->err() != RdKafka::ERR__PARTITION_EOF) {
      uint64_t suppressed = 0;
      if (error_log_.allow(suppressed)) {
        spdlog::warn("kafka: consume: {} ({} similar suppressed)", msg->errstr(), suppressed);
      }
      break;
    }
  }
  for (auto& [tp, pending] : building) offerOrHold(std::move(pending));
}

void KafkaSource::Impl::serveEvents(std::chrono::milliseconds timeout) {
  int wait_ms = static_cast<int>(timeout.count());
  for (;;) {
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(wait_ms));
    wait_ms = 0;
    if (!msg || msg->err() == RdKafka::ERR__TIMED_OUT) return;
    if (msg->err() == RdKafka::ERR_NO_ERROR) {
      // Not forwarded yet (assigned a moment ago): treat it like any other message.
      std::map<TopicPartition, Pending> building;
      handleMessage(*msg, building, Clock::now());
      for (auto& [tp, pending] : building) offerOrHold(std::move(pending));
    } else if (msg->err() != RdKafka::ERR__PARTITION_EOF) {
      uint64_t suppressed = 0;
      if (error_log_.allow(suppressed)) {
        spdlog::warn("kafka: consume: {} ({} similar suppressed)", msg->errstr(), suppressed);
      }
    }
  }
}

void KafkaSource::Impl::handleMessage(RdKafka::Message& msg, std::map<TopicPartition, Pending>& building,
                                      TimePoint received_at) {
  TopicPartition tp{msg.topic_name(), msg.partition()};
  if (assigned_.count(tp) == 0) return;  // revoked meanwhile: the new owner reads it
  if (auto resumed = resumed_at_.find(tp); resumed != resumed_at_.end()) {
    if (msg.offset() > resumed->second) checkDeletedUnread(tp, resumed->second, msg.offset());
    resumed_at_.erase(resumed);
  }
  auto [it, inserted] = building.try_emplace(tp);
  Pending& pending = it->second;
  if (inserted) pending.tp = tp;
  const std::string_view payload(static_cast<const char*>(msg.payload()), msg.len());
  std::optional<TimePoint> message_time;
  const auto ts = msg.timestamp();
  if (ts.type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE && ts.timestamp > 0) {
    message_time = TimePoint(std::chrono::milliseconds(ts.timestamp));
  }
  Status s = decoder_.decode(payload, tp.first, tp.second, received_at, message_time, pending.batch.events);
  metrics_.messages(tp.first, s.isOk()).Increment();
  if (!s.isOk()) {
    metrics_.dropped(tp.first).Increment();
    dead_letter_.send(msg, s.message());
  }
  // Positions are written with the batch, so a skipped message is not read again either.
  const std::string next = std::to_string(msg.offset() + 1);
  if (pending.batch.positions.empty()) {
    pending.batch.positions.push_back({static_cast<uint16_t>(tp.second), positionKey(tp.first, tp.second), next});
  } else {
    pending.batch.positions.front().value = next;
  }
}

void KafkaSource::Impl::offerOrHold(Pending pending) {
  const int64_t next = std::stoll(pending.batch.positions.front().value);
  pending.batch.on_commit = [tracker = tracker_, tp = pending.tp, next](const Status& s) {
    tracker->committed(tp, next, s);
  };
  if (held_.empty()) {
    tracker_->sent(pending.tp);
    if (sink_->offer(pending.batch)) return;
    tracker_->unsent(pending.tp);
  }
  if (held_.empty()) held_since_ = std::chrono::steady_clock::now();
  held_events_ += std::max<size_t>(1, pending.batch.events.size());
  held_.push_back(std::move(pending));
}

void KafkaSource::Impl::retryHeld() {
  while (!held_.empty()) {
    Pending& front = held_.front();
    tracker_->sent(front.tp);
    if (!sink_->offer(front.batch)) {
      tracker_->unsent(front.tp);
      return;
    }
    held_events_ -= std::max<size_t>(1, front.batch.events.size());
    held_.pop_front();
  }
}

void KafkaSource::Impl::setPaused(bool paused) {
  if (paused == paused_ && !paused) return;
  PartitionList list;
  if (consumer_->assignment(list.items) != RdKafka::ERR_NO_ERROR || list.items.empty()) {
    paused_ = paused;
    return;
  }
  const auto err = paused ? consumer_->pause(list.items) : consumer_->resume(list.items);
  if (err != RdKafka::ERR_NO_ERROR) spdlog::warn("kafka: {}: {}", paused ? "pause" : "resume", RdKafka::err2str(err));
  if (paused != paused_) {
    spdlog::debug("kafka: {} {} partition(s)", paused ? "paused" : "resumed", list.items.size());
    (paused ? metrics_.pauses : metrics_.resumes).Increment();
  }
  paused_ = paused;
  metrics_.paused.Set(paused ? 1 : 0);
  metrics_.paused_partitions.Set(paused ? static_cast<double>(list.items.size()) : 0);
}

void KafkaSource::Impl::commitCompletions(bool sync) {
  std::map<TopicPartition, int64_t> offsets;
  for (const auto& c : tracker_->take()) {
    if (!c.ok) continue;  // only at shutdown: the batch was not committed and is read again
    auto& next = committed_next_[c.tp];
    next = std::max(next, c.next_offset);
    if (assigned_.count(c.tp) != 0) offsets[c.tp] = next;
  }
  if (offsets.empty()) return;
  PartitionList list;
  for (const auto& [tp, next] : offsets) {
    list.items.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, next));
  }
  const auto err = sync ? consumer_->commitSync(list.items) : consumer_->commitAsync(list.items);
  if (err != RdKafka::ERR_NO_ERROR) spdlog::debug("kafka: group offset commit: {}", RdKafka::err2str(err));
}

void KafkaSource::Impl::rebalance_cb(RdKafka::KafkaConsumer* /*consumer*/, RdKafka::ErrorCode err,
                                     std::vector<RdKafka::TopicPartition*>& partitions) {
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    onAssign(partitions);
  } else {
    onRevoke(partitions, consumer_->assignment_lost());
  }
}

void KafkaSource::Impl::onAssign(std::vector<RdKafka::TopicPartition*>& partitions) {
  metrics_.assigned.Increment();
  if (handoff_) {
    std::vector<TopicPartition> tps;
    for (auto* p : partitions) tps.emplace_back(p->topic(), p->partition());
    handoff_->assigned(tps);
  }
  for (auto* p : partitions) {
    TopicPartition tp{p->topic(), p->partition()};
    auto stored = store_.getPosition(static_cast<uint16_t>(tp.second), positionKey(tp.first, tp.second));
    if (!stored) {
      spdlog::error("kafka: reading the stored offset of {}/{}: {}", tp.first, tp.second, stored.error().toString());
    }
    if (stored && *stored) {
      const int64_t offset = std::stoll(**stored);
      p->set_offset(offset);
      committed_next_[tp] = offset;
      resumed_at_[tp] = offset;
    } else {
      p->set_offset(handoff_ && handoff_->offsetsOnlyFromState()
                        ? RdKafka::Topic::OFFSET_BEGINNING
                        : RdKafka::Topic::OFFSET_INVALID);  // the group's committed offset, else earliest
    }
    assigned_.insert(tp);
    spdlog::info("kafka: assigned {}/{} at {}", tp.first, tp.second,
                 stored && *stored ? "stored offset " + **stored
                 : handoff_ && handoff_->offsetsOnlyFromState() ? std::string("the beginning")
                                                                  : std::string("the group's offset"));
  }
  const bool cooperative = consumer_->rebalance_protocol() == "COOPERATIVE";
  if (cooperative) {
    if (auto e = consumer_->incremental_assign(partitions)) spdlog::error("kafka: assign: {}", e->str()), delete e;
  } else if (auto e = consumer_->assign(partitions); e != RdKafka::ERR_NO_ERROR) {
    spdlog::error("kafka: assign: {}", RdKafka::err2str(e));
  }
  for (auto* p : partitions) {
    std::unique_ptr<RdKafka::Queue> queue(consumer_->get_partition_queue(p));
    if (queue) {
      queue->forward(messages_.get());
      partition_queues_[{p->topic(), p->partition()}] = std::move(queue);
    }
  }
  // Newly assigned partitions must not run ahead while older batches are held back.
  if (paused_) setPaused(true);
}

void KafkaSource::Impl::onRevoke(std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
  (lost ? metrics_.lost : metrics_.revoked).Increment();
  std::vector<TopicPartition> tps;
  for (auto* p : partitions) tps.emplace_back(p->topic(), p->partition());
  std::erase_if(held_, [&](const Pending& p) { return std::find(tps.begin(), tps.end(), p.tp) != tps.end(); });
  held_events_ = 0;
  for (const auto& p : held_) held_events_ += std::max<size_t>(1, p.batch.events.size());
  // Pending batches are committed before the partitions are released, so the next owner starts
  // after them (the store and the group agree).
  if (!tracker_->waitIdle(tps, std::chrono::seconds(30))) {
    spdlog::warn("kafka: revoked partitions still have batches in flight after 30 s");
  }
  if (!lost) commitCompletions(/*sync=*/true);
  if (handoff_) handoff_->revoked(tps, lost);
  for (const auto& tp : tps) {
    if (auto q = partition_queues_.find(tp); q != partition_queues_.end()) {
      q->second->forward(nullptr);
      partition_queues_.erase(q);
    }
    assigned_.erase(tp);
    committed_next_.erase(tp);
    resumed_at_.erase(tp);
    metrics_.removeLag(tp.first, tp.second);
    spdlog::info("kafka: {} {}/{}", lost ? "lost" : "revoked", tp.first, tp.second);
  }
  if (consumer_->rebalance_protocol() == "COOPERATIVE") {
    if (auto e = consumer_->incremental_unassign(partitions)) spdlog::error("kafka: unassign: {}", e->str()), delete e;
  } else {
    consumer_->unassign();
  }
  if (held_.empty()) setPaused(false);
}

void KafkaSource::Impl::checkDeletedUnread(const TopicPartition& tp, int64_t stored, int64_t first) {
  // A gap alone is no loss (transaction markers, compaction); a log start past the stored offset
  // is: librdkafka then resets to the earliest offset without a word.
  int64_t low = -1;
  int64_t high = -1;
  if (consumer_->get_watermark_offsets(tp.first, tp.second, &low, &high) != RdKafka::ERR_NO_ERROR || low <= stored) {
    return;
  }
  const int64_t deleted = std::min(low, first) - stored;
  metrics_.deletedUnread(tp.first).Increment(static_cast<double>(deleted));
  spdlog::error("kafka: {}/{}: offsets {}..{} were deleted by the broker (retention) before vigil read them: "
                "{} message(s) lost; consuming from {}", tp.first, tp.second, stored, stored + deleted - 1, deleted, first);
}

void KafkaSource::Impl::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_STATS: {
      const KafkaStats stats = parseKafkaStats(event.str());
      ready_ = stats.broker_up;
      metrics_.ready.Set(stats.broker_up ? 1 : 0);
      for (const auto& [tp, high] : stats.high_watermarks) {
        if (assigned_.count(tp) == 0 || high < 0) continue;
        auto it = committed_next_.find(tp);
        if (it != committed_next_.end()) metrics_.lag(tp.first, tp.second).Set(static_cast<double>(high - it->second));
      }
      break;
    }
    case RdKafka::Event::EVENT_ERROR: {
      if (event.err() == RdKafka::ERR__ALL_BROKERS_DOWN) {
        ready_ = false;
        metrics_.ready.Set(0);
      }
      uint64_t suppressed = 0;
      if (event.fatal()) {
        spdlog::critical("kafka: fatal consumer error: {}", event.str());
      } else if (error_log_.allow(suppressed)) {
        spdlog::warn("kafka: {} ({} similar suppressed)", event.str(), suppressed);
      }
      break;
    }
    case RdKafka::Event::EVENT_LOG:
      spdlog::debug("kafka: {} {}", event.fac(), event.str());
      break;
    default:
      break;
  }
}

KafkaSource::KafkaSource(KafkaConfig config, const store::Store& store, SourceContext& context)
    : impl_(std::make_unique<Impl>(std::move(config), store, context)) {}
KafkaSource::~KafkaSource() { stop(); }
Status KafkaSource::start(EventSink& sink) { return impl_->start(sink); }
void KafkaSource::stop() { impl_->stop(); }
bool KafkaSource::ready() const { return impl_->ready(); }
void KafkaSource::setHandoff(PartitionHandoff* handoff) { impl_->setHandoff(handoff); }
std::vector<std::string> KafkaSource::endpoints() const { return {"kafka://" + impl_->config().brokers}; }

Result<std::unique_ptr<KafkaSource>> makeKafkaSource(const YAML::Node& section, std::string_view file,
                                                     const store::Store& store, SourceContext& context) {
  auto config = parseKafkaConfig(section, file);
  if (!config) return fail(config.error());
  return std::make_unique<KafkaSource>(std::move(*config), store, context);
}

}  // namespace vigil::connectors::kafka
