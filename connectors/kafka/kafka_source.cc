#include "connectors/kafka/kafka_source.h"

#include <atomic>
#include <deque>
#include <map>
#include <pthread.h>
#include <set>
#include <thread>

#include <librdkafka/rdkafka.h>
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

// Messages are read through librdkafka's C API: rd_kafka_consume_batch_queue takes a whole
// batch under one queue lock and hands out the messages themselves, where the C++ API wraps
// each one in an allocated RdKafka::Message.
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;

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

  // One partition's messages of a consume round, decoded into one batch.
  struct RoundPartition {
    rd_kafka_topic_t* topic = nullptr;  // librdkafka's handle: one per topic, compared by address
    int32_t partition = 0;
    size_t messages = 0;       // of the round: the batch is sized for them
    size_t decoded = 0;        // of those, the ones that decoded
    int64_t next_offset = -1;  // after the round's last message
    bool assigned = false;     // false: revoked meanwhile, the new owner reads its messages
    Pending pending;
  };

  void run();
  void consumeRound(std::chrono::milliseconds timeout);
  // Decodes `messages` (any partitions, each partition's in offset order) into one batch per
  // partition and offers them. Does not destroy the messages.
  void handleMessages(rd_kafka_message_t* const* messages, size_t count, TimePoint received_at);
  RoundPartition& roundPartition(const rd_kafka_message_t& msg);
  void logConsumeError(const rd_kafka_message_t& msg);
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
  QueuePtr messages_;  // every assigned partition's messages
  std::map<TopicPartition, QueuePtr> partition_queues_;
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
  std::vector<rd_kafka_message_t*> polled_;  // one round's messages, reused
  std::vector<RoundPartition> round_;        // one round's batches, one per partition
  size_t last_round_partition_ = 0;          // where the message before was filed
};

Status KafkaSource::Impl::start(EventSink& sink) {
  sink_ = &sink;
  auto conf = makeConf(config_, consumerDefaults(config_),
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
  messages_.reset(rd_kafka_queue_new(consumer_->c_ptr()));
  if (Status s = dead_letter_.start(); !s) return s;
  if (auto err = consumer_->subscribe(config_.topics); err != RdKafka::ERR_NO_ERROR) {
    return Status::invalidArgument("kafka subscribe: " + RdKafka::err2str(err));
  }
  spdlog::info("kafka: consuming {} topic(s) from {} as group {} ({})", config_.topics.size(), config_.brokers,
               config_.group, config_.assignment_strategy);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "vigil-kafka");  // for top -H and perf
    run();
  });
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
  polled_.resize(config_.batch_max_events);
  // Take what is there without waiting; only an empty queue waits (up to `timeout`) for the
  // first message. rd_kafka_consume_batch_queue alone would wait until the batch is full.
  ssize_t n = rd_kafka_consume_batch_queue(messages_.get(), 0, polled_.data(), polled_.size());
  if (n == 0) {
    n = rd_kafka_consume_batch_queue(messages_.get(), static_cast<int>(timeout.count()), polled_.data(), 1);
    if (n == 1) n += rd_kafka_consume_batch_queue(messages_.get(), 0, polled_.data() + 1, polled_.size() - 1);
  }
  if (n <= 0) return;
  handleMessages(polled_.data(), static_cast<size_t>(n), Clock::now());
  for (ssize_t i = 0; i < n; ++i) rd_kafka_message_destroy(polled_[i]);
}

void KafkaSource::Impl::serveEvents(std::chrono::milliseconds timeout) {
  int wait_ms = static_cast<int>(timeout.count());
  for (;;) {
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(wait_ms));
    wait_ms = 0;
    if (!msg || msg->err() == RdKafka::ERR__TIMED_OUT) return;
    // Not forwarded yet (assigned a moment ago): treat it like any other message.
    rd_kafka_message_t* raw = msg->c_ptr();
    handleMessages(&raw, 1, Clock::now());
  }
}

void KafkaSource::Impl::logConsumeError(const rd_kafka_message_t& msg) {
  if (msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
  uint64_t suppressed = 0;
  if (error_log_.allow(suppressed)) {
    spdlog::warn("kafka: consume: {} ({} similar suppressed)", rd_kafka_message_errstr(&msg), suppressed);
  }
}

KafkaSource::Impl::RoundPartition& KafkaSource::Impl::roundPartition(const rd_kafka_message_t& msg) {
  // A fetch delivers runs of one partition's messages: the partition before is the usual hit.
  if (last_round_partition_ < round_.size()) {
    RoundPartition& last = round_[last_round_partition_];
    if (last.topic == msg.rkt && last.partition == msg.partition) return last;
  }
  for (size_t i = 0; i < round_.size(); ++i) {
    if (round_[i].topic == msg.rkt && round_[i].partition == msg.partition) {
      last_round_partition_ = i;
      return round_[i];
    }
  }
  last_round_partition_ = round_.size();
  RoundPartition& rp = round_.emplace_back();
  rp.topic = msg.rkt;
  rp.partition = msg.partition;
  rp.pending.tp = {rd_kafka_topic_name(msg.rkt), msg.partition};
  rp.assigned = assigned_.count(rp.pending.tp) != 0;
  return rp;
}

void KafkaSource::Impl::handleMessages(rd_kafka_message_t* const* messages, size_t count, TimePoint received_at) {
  round_.clear();
  last_round_partition_ = 0;
  // First pass: which partitions, and how many messages each, so every batch is sized once.
  for (size_t i = 0; i < count; ++i) {
    if (messages[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) ++roundPartition(*messages[i]).messages;
  }
  for (auto& rp : round_) {
    if (rp.assigned) rp.pending.batch.events.reserve(rp.messages);
  }
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_message_t& msg = *messages[i];
    if (msg.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      logConsumeError(msg);
      continue;
    }
    RoundPartition& rp = roundPartition(msg);
    if (!rp.assigned) continue;  // revoked meanwhile: the new owner reads it
    const TopicPartition& tp = rp.pending.tp;
    if (!resumed_at_.empty()) {
      if (auto resumed = resumed_at_.find(tp); resumed != resumed_at_.end()) {
        if (msg.offset > resumed->second) checkDeletedUnread(tp, resumed->second, msg.offset);
        resumed_at_.erase(resumed);
      }
    }
    const std::string_view payload(static_cast<const char*>(msg.payload), msg.payload ? msg.len : 0);
    std::optional<TimePoint> message_time;
    rd_kafka_timestamp_type_t ts_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    const int64_t ts = rd_kafka_message_timestamp(&msg, &ts_type);
    if (ts_type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts > 0) message_time = TimePoint(std::chrono::milliseconds(ts));
    Status s = decoder_.decode(payload, tp.first, tp.second, received_at, message_time, rp.pending.batch.events);
    if (!s.isOk()) {
      metrics_.messages(tp.first, false).Increment();
      metrics_.dropped(tp.first).Increment();
      dead_letter_.send(msg, s.message());
    } else {
      ++rp.decoded;
    }
    rp.next_offset = msg.offset + 1;
  }
  for (auto& rp : round_) {
    if (!rp.assigned || rp.next_offset < 0) continue;
    const TopicPartition& tp = rp.pending.tp;
    if (rp.decoded > 0) metrics_.messages(tp.first, true).Increment(static_cast<double>(rp.decoded));
    // Positions are written with the batch, so a skipped message is not read again either.
    rp.pending.batch.positions.push_back(
        {static_cast<uint16_t>(tp.second), positionKey(tp.first, tp.second), std::to_string(rp.next_offset)});
    offerOrHold(std::move(rp.pending));
  }
  round_.clear();
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
    QueuePtr queue(rd_kafka_queue_get_partition(consumer_->c_ptr(), p->topic().c_str(), p->partition()));
    if (queue) {
      rd_kafka_queue_forward(queue.get(), messages_.get());
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
      rd_kafka_queue_forward(q->second.get(), nullptr);
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
