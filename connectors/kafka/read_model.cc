#include "connectors/kafka/read_model.h"

#include <atomic>
#include <charconv>
#include <deque>
#include <map>
#include <shared_mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include "connectors/kafka/changelog_batches.h"
#include "connectors/kafka/changelog_progress.h"
#include "connectors/kafka/kafka_client.h"
#include "daemon/incidents/incident_codec.h"
#include "daemon/incidents/incident_engine.h"

namespace vigil::connectors::kafka {

namespace {

constexpr char kIncidentsFamily = '\x01';  // first key byte of an incident record (store_partition.cc)

std::string header(RdKafka::Message& msg, std::string_view name) {
  RdKafka::Headers* headers = msg.headers();
  if (headers == nullptr) return {};
  const RdKafka::Headers::Header h = headers->get_last(std::string(name));
  if (h.err() != RdKafka::ERR_NO_ERROR || h.value() == nullptr) return {};
  return {static_cast<const char*>(h.value()), h.value_size()};
}

incidents::IncidentId idOf(std::string_view key) {  // key: family byte + u64 BE id
  incidents::IncidentId id = 0;
  for (size_t i = 1; i < 9; ++i) id = (id << 8) | static_cast<uint8_t>(key[i]);
  return id;
}

}  // namespace

class ReadModel::Impl {
 public:
  Impl(KafkaConfig kafka, ScaleoutConfig scaleout, prometheus::Registry& registry)
      : kafka_(std::move(kafka)),
        scaleout_(std::move(scaleout)),
        self_(scaleout_.read_side.advertised_url),

        incidents_gauge_(prometheus::BuildGauge()
                             .Name("vigil_scaleout_read_model_incidents")
                             .Help("Incidents of every partition held by the read model (its own partitions' included)")
                             .Register(registry)
                             .Add({})),
        lag_gauge_(prometheus::BuildGauge()
                       .Name("vigil_scaleout_read_model_lag_records")
                       .Help("Changelog records not yet read by the read model, summed over the partitions")
                       .Register(registry)
                       .Add({})),
        dropped_(prometheus::BuildCounter()
                     .Name("vigil_scaleout_read_model_dropped_total")
                     .Help("Incidents not kept by the read model because it held read_model_max_incidents")
                     .Register(registry)
                     .Add({})) {}

  Status start() {
    auto consumer = makeAssigningConsumer(kafka_, "read-model");
    if (!consumer) return consumer.error();
    consumer_ = std::move(*consumer);
    thread_ = std::thread([this] { run(); });
    spdlog::info("scale-out read side: reading {} as {}", scaleout_.changelog_topic, self_);
    return Status::ok();
  }

  void stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    thread_.join();
    consumer_->close();
  }

  const std::string& selfUrl() const { return self_; }

  std::optional<std::string> remoteOwner(uint16_t partition) const {
    std::shared_lock lock(mu_);
    return remoteOwnerLocked(partition);
  }

  std::optional<std::map<uint16_t, std::string>> owners() const {
    if (!caught_up_.load(std::memory_order_acquire)) return std::nullopt;
    std::shared_lock lock(mu_);
    return owners_;
  }

  void scanRemote(incidents::IncidentId before,
                  const std::function<bool(incidents::Incident&&, const std::string&)>& visit) const {
    std::shared_lock lock(mu_);
    auto it = before == 0 ? incidents_.end() : incidents_.lower_bound(before);
    while (it != incidents_.begin()) {
      --it;
      const auto owner = remoteOwnerLocked(incidents::partitionOf(it->first));
      if (!owner) continue;
      auto in = incidents::decodeIncident(it->second);
      if (!in) continue;  // written by a newer vigil: it is still listed by its owner
      if (!visit(std::move(*in), *owner)) return;
    }
  }

  std::unordered_map<std::string, Severity> activeSeverityByCi() const {
    std::unordered_map<std::string, Severity> worst;
    std::shared_lock lock(mu_);
    for (const auto& [id, active] : active_) {
      auto [it, inserted] = worst.try_emplace(active.first, active.second);
      if (!inserted) it->second = std::min(it->second, active.second);
    }
    return worst;
  }

  uint64_t lastFeedSeq() const {
    std::shared_lock lock(mu_);
    return feed_seq_;
  }

  void readFeed(uint64_t after, size_t limit, const std::function<void(uint64_t, const std::string&)>& visit) const {
    std::shared_lock lock(mu_);
    if (feed_.empty() || feed_.back().first <= after) return;
    // Seqs are consecutive within the backlog.
    size_t i = after < feed_.front().first ? 0 : static_cast<size_t>(after - feed_.front().first + 1);
    for (size_t n = 0; i < feed_.size() && n < limit; ++i, ++n) visit(feed_[i].first, feed_[i].second);
  }

  void setFeedListener(std::function<void()> wake) { wake_ = std::move(wake); }

  std::optional<std::pair<incidents::Incident, std::string>> getRemote(incidents::IncidentId id) const {
    std::shared_lock lock(mu_);
    const auto owner = remoteOwnerLocked(incidents::partitionOf(id));
    auto it = incidents_.find(id);
    if (!owner || it == incidents_.end()) return std::nullopt;
    auto in = incidents::decodeIncident(it->second);
    if (!in) return std::nullopt;
    return std::pair{std::move(*in), *owner};
  }

 private:
  struct Pending {
    std::string epoch;
    uint64_t newest_epoch = 0;  // a takeover's epoch is above every earlier one: older writers are fenced
    std::vector<std::pair<incidents::IncidentId, std::optional<std::string>>> records;
  };

  // REQUIRES: mu_ held (shared or exclusive).
  std::optional<std::string> remoteOwnerLocked(uint16_t partition) const {
    auto it = owners_.find(partition);
    if (it == owners_.end() || it->second == self_) return std::nullopt;
    return it->second;
  }

  void run() {
    // The changelog's partition count; the topic may not exist yet when the core starts.
    int32_t partitions = 0;
    while (!stopping_ && partitions == 0) {
      partitions = partitionCount();
      if (partitions == 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (stopping_) return;
    std::vector<RdKafka::TopicPartition*> assignment;
    for (int32_t p = 0; p < partitions; ++p) {
      assignment.push_back(
          RdKafka::TopicPartition::create(scaleout_.changelog_topic, p, RdKafka::Topic::OFFSET_BEGINNING));
    }
    consumer_->assign(assignment);
    RdKafka::TopicPartition::destroy(assignment);
    std::vector<Pending> pending(static_cast<size_t>(partitions));
    // Once read up to the ends as of the start, the owners are those of the present.
    ChangelogProgress progress(static_cast<size_t>(partitions));
    for (int32_t p = 0; p < partitions && !stopping_; ++p) {
      int64_t low = 0, high = 0;
      while (!stopping_ && consumer_->query_watermark_offsets(scaleout_.changelog_topic, p, &low, &high, 5000) !=
                               RdKafka::ERR_NO_ERROR) {
      }
      progress.setStart(static_cast<size_t>(p), low, high);
    }
    auto noteCaughtUp = [&] {
      if (caught_up_.load(std::memory_order_relaxed) || !progress.caughtUp()) return;
      caught_up_.store(true, std::memory_order_release);
      spdlog::info("scale-out read side: read the changelog up to where it ended at the start");
    };
    noteCaughtUp();
    auto last_lag = std::chrono::steady_clock::now();
    while (!stopping_) {
      std::unique_ptr<RdKafka::Message> msg(consumer_->consume(200));
      if (msg && msg->err() == RdKafka::ERR_NO_ERROR && msg->partition() < partitions) {
        progress.read(static_cast<size_t>(msg->partition()), msg->offset());
        apply(*msg, pending[static_cast<size_t>(msg->partition())]);
        noteCaughtUp();
      } else if (msg && msg->err() != RdKafka::ERR__TIMED_OUT && msg->err() != RdKafka::ERR__PARTITION_EOF) {
        spdlog::warn("scale-out read side: {}", msg->errstr());
      }
      if (std::chrono::steady_clock::now() - last_lag > std::chrono::milliseconds(500)) {
        last_lag = std::chrono::steady_clock::now();
        int64_t lag = 0;
        for (int32_t p = 0; p < partitions; ++p) {
          int64_t low = 0, high = 0;
          if (consumer_->get_watermark_offsets(scaleout_.changelog_topic, p, &low, &high) == RdKafka::ERR_NO_ERROR) {
            progress.skipDeleted(static_cast<size_t>(p), low);
            lag += progress.lag(static_cast<size_t>(p), high);
          }
        }
        lag_gauge_.Set(static_cast<double>(lag));
        noteCaughtUp();
      }
    }
  }

  int32_t partitionCount() {
    std::unique_ptr<RdKafka::Topic> topic(
        RdKafka::Topic::create(consumer_.get(), scaleout_.changelog_topic, nullptr, error_));
    if (!topic) return 0;
    RdKafka::Metadata* raw = nullptr;
    if (consumer_->metadata(false, topic.get(), &raw, 5000) != RdKafka::ERR_NO_ERROR || raw == nullptr) return 0;
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    for (const auto* t : *metadata->topics()) {
      if (t->topic() == scaleout_.changelog_topic && t->err() == RdKafka::ERR_NO_ERROR) {
        return static_cast<int32_t>(t->partitions()->size());
      }
    }
    return 0;
  }

  // Holds a batch's incident records until its marker, as a restore does.
  void apply(RdKafka::Message& msg, Pending& pending) {
    const std::string epoch = header(msg, kEpochHeader);
    uint64_t number = 0;
    std::from_chars(epoch.data(), epoch.data() + epoch.size(), number);
    if (number < pending.newest_epoch) return;  // a replaced owner still writing: as a restore, ignore it
    pending.newest_epoch = number;
    if (epoch != pending.epoch) {  // a new writer: what the previous one left open never closes
      pending.records.clear();
      pending.epoch = epoch;
    }
    const std::string* key = msg.key();
    if (key == nullptr || key->empty()) return;
    if ((*key)[0] == kIncidentsFamily && key->size() == 9) {
      std::optional<std::string> value;
      if (msg.payload() != nullptr) value.emplace(static_cast<const char*>(msg.payload()), msg.len());
      pending.records.emplace_back(idOf(*key), std::move(value));
      return;
    }
    if ((*key)[0] != kMarkerTag) return;  // other state (key index, correlation, offsets)
    const std::string owner = header(msg, kOwnerHeader);
    const auto partition = static_cast<uint16_t>(msg.partition());
    // Decoded and rendered outside the lock (this thread is the only writer, so it reads its
    // own maps without one); the compact form keeps memory per incident small.
    struct Change {
      incidents::IncidentId id = 0;
      std::optional<std::string> compact;  // none: deleted
      std::optional<std::pair<std::string, Severity>> active;
      std::string feed;  // the change record, or empty
    };
    std::vector<Change> changes;
    changes.reserve(pending.records.size());
    for (auto& [id, value] : pending.records) {
      if (!value) {
        changes.push_back({id, std::nullopt, std::nullopt, {}});
        continue;
      }
      auto in = incidents::decodeIncident(*value);
      if (!in) {
        spdlog::warn("scale-out read side: incident {}: {}", id, in.error().toString());
        continue;
      }
      Change change{id, std::string(), std::nullopt, {}};
      incidents::encodeIncident(*in, false, *change.compact);
      if (in->isActive()) change.active.emplace(in->ci, in->severity);
      const auto kind = changeKind(id, in->state);
      nlohmann::json incident;
      incidents::toJson(*in, incident, false);
      const std::string& writer = owner.empty() ? ownerOf(partition) : owner;
      if (!writer.empty()) incident["owner"] = writer;
      change.feed = nlohmann::json{{"change", incidents::changeKindName(kind)}, {"incident", std::move(incident)}}
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      changes.push_back(std::move(change));
    }
    pending.records.clear();
    bool fed = false;
    {
      std::unique_lock lock(mu_);
      if (!owner.empty()) owners_[partition] = owner;
      for (auto& change : changes) {
        if (!change.compact) {
          incidents_.erase(change.id);
          active_.erase(change.id);
          continue;
        }
        auto it = incidents_.find(change.id);
        if (it != incidents_.end()) {
          it->second = std::move(*change.compact);
        } else if (incidents_.size() < scaleout_.read_side.read_model_max_incidents) {
          incidents_.emplace(change.id, std::move(*change.compact));
        } else {
          dropped_.Increment();
          continue;
        }
        if (change.active) {
          active_[change.id] = std::move(*change.active);
        } else {
          active_.erase(change.id);
        }
        // {"seq":N, + the rest: the same shape as the store's change records.
        ++feed_seq_;
        feed_.emplace_back(feed_seq_, "{\"seq\":" + std::to_string(feed_seq_) + "," + change.feed.substr(1));
        if (feed_.size() > scaleout_.read_side.read_model_stream_backlog) feed_.pop_front();
        fed = true;
      }
      incidents_gauge_.Set(static_cast<double>(incidents_.size()));
    }
    if (fed && wake_) wake_();
  }

  // What a change record of the store would call this change (this thread only).
  incidents::ChangeKind changeKind(incidents::IncidentId id, incidents::IncidentState now) const {
    using incidents::ChangeKind;
    using incidents::IncidentState;
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return ChangeKind::kOpened;
    auto before = incidents::decodeIncident(it->second);
    if (!before || before->state == now) return ChangeKind::kUpdated;
    switch (now) {
      case IncidentState::kAcknowledged: return ChangeKind::kAcknowledged;
      case IncidentState::kResolved: return ChangeKind::kResolved;
      case IncidentState::kClosed: return ChangeKind::kClosed;
      case IncidentState::kOpen: return ChangeKind::kReopened;
    }
    return ChangeKind::kUpdated;
  }

  // The partition's owner as last announced (this thread only).
  const std::string& ownerOf(uint16_t partition) const {
    static const std::string kNone;
    auto it = owners_.find(partition);
    return it == owners_.end() ? kNone : it->second;
  }

  const KafkaConfig kafka_;
  const ScaleoutConfig scaleout_;
  const std::string self_;
  prometheus::Gauge& incidents_gauge_;
  prometheus::Gauge& lag_gauge_;
  prometheus::Counter& dropped_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::string error_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> caught_up_{false};  // read every partition up to its end as of the start

  mutable std::shared_mutex mu_;
  std::map<incidents::IncidentId, std::string> incidents_;  // id → compact encoding; GUARDED_BY(mu_)
  std::map<uint16_t, std::string> owners_;  // partition → owner's URL, per the last marker; GUARDED_BY(mu_)
  // id → (CI, severity) of the active incidents, for service health; GUARDED_BY(mu_)
  std::unordered_map<incidents::IncidentId, std::pair<std::string, Severity>> active_;
  std::deque<std::pair<uint64_t, std::string>> feed_;  // (seq, change record JSON); GUARDED_BY(mu_)
  // The last seq given. It starts at the start time in µs, so it keeps increasing across
  // restarts and a client's Last-Event-ID from before one is never taken for a newer position.
  uint64_t feed_seq_ = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::function<void()> wake_;                         // set before start()
};

ReadModel::ReadModel(KafkaConfig kafka, ScaleoutConfig scaleout, prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(kafka), std::move(scaleout), registry)) {}
ReadModel::~ReadModel() { stop(); }
Status ReadModel::start() { return impl_->start(); }
void ReadModel::stop() { impl_->stop(); }
const std::string& ReadModel::selfUrl() const { return impl_->selfUrl(); }
std::optional<std::string> ReadModel::remoteOwner(uint16_t partition) const { return impl_->remoteOwner(partition); }
std::optional<std::map<uint16_t, std::string>> ReadModel::owners() const { return impl_->owners(); }
void ReadModel::scanRemote(incidents::IncidentId before,
                           const std::function<bool(incidents::Incident&&, const std::string&)>& visit) const {
  impl_->scanRemote(before, visit);
}
std::optional<std::pair<incidents::Incident, std::string>> ReadModel::getRemote(incidents::IncidentId id) const {
  return impl_->getRemote(id);
}
std::unordered_map<std::string, Severity> ReadModel::activeSeverityByCi() const { return impl_->activeSeverityByCi(); }
uint64_t ReadModel::lastFeedSeq() const { return impl_->lastFeedSeq(); }
void ReadModel::readFeed(uint64_t after, size_t limit,
                         const std::function<void(uint64_t, const std::string&)>& visit) const {
  impl_->readFeed(after, limit, visit);
}
void ReadModel::setFeedListener(std::function<void()> wake) { impl_->setFeedListener(std::move(wake)); }

}  // namespace vigil::connectors::kafka
