#include "connectors/kafka/standby_replicas.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include "connectors/kafka/changelog_batches.h"
#include "connectors/kafka/kafka_client.h"

namespace vigil::connectors::kafka {

namespace {

constexpr auto kChooseInterval = std::chrono::milliseconds(500);  // how often the owners are looked at
constexpr auto kWriteInterval = std::chrono::milliseconds(200);   // longest closed batches wait while busy

// A rank of `core` for `partition`: FNV-1a over both, then a 64-bit finaliser (splitmix64), so
// it is the same in every process and build.
uint64_t rank(uint16_t partition, const std::string& core) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint8_t byte) { h = (h ^ byte) * 1099511628211ull; };
  mix(static_cast<uint8_t>(partition >> 8));
  mix(static_cast<uint8_t>(partition & 0xff));
  for (char c : core) mix(static_cast<uint8_t>(c));
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

}  // namespace

std::vector<std::string> StandbyReplicas::standbysOf(uint16_t partition, const std::string& owner,
                                                     const std::vector<std::string>& alive, size_t replicas) {
  std::vector<std::pair<uint64_t, std::string>> ranked;
  for (const auto& core : std::set<std::string>(alive.begin(), alive.end())) {
    if (core != owner) ranked.emplace_back(rank(partition, core), core);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> chosen;
  for (size_t i = 0; i < ranked.size() && i < replicas; ++i) chosen.push_back(ranked[i].second);
  return chosen;
}

class StandbyReplicas::Impl {
 public:
  Impl(KafkaConfig kafka, ScaleoutConfig scaleout, store::Store& store, const ReadModel& read_model,
       prometheus::Registry& registry)
      : kafka_(std::move(kafka)),
        scaleout_(std::move(scaleout)),
        applied_key_("changelog/" + scaleout_.changelog_topic),
        self_(scaleout_.read_side.advertised_url),
        store_(store),
        read_model_(read_model),
        partitions_gauge_(prometheus::BuildGauge()
                              .Name("vigil_scaleout_standby_partitions")
                              .Help("Partitions owned by other cores of which this one keeps a warm copy")
                              .Register(registry)
                              .Add({})),
        records_(prometheus::BuildCounter()
                     .Name("vigil_scaleout_standby_records_total")
                     .Help("Changelog records of standby partitions: applied to the local copy, or discarded "
                           "(a batch its writer did not finish, or a fenced writer's)")
                     .Register(registry)),
        applied_(records_.Add({{"result", "applied"}})),
        discarded_(records_.Add({{"result", "discarded"}})),
        lag_gauge_(prometheus::BuildGauge()
                       .Name("vigil_scaleout_standby_lag_records")
                       .Help("Changelog records of the standby partitions not applied yet, summed")
                       .Register(registry)
                       .Add({})) {}

  Status start() {
    auto consumer = makeAssigningConsumer(kafka_, "standby");
    if (!consumer) return consumer.error();
    consumer_ = std::move(*consumer);
    thread_ = std::thread([this] { run(); });
    spdlog::info("scale-out standby: keeping warm copies for {} standby replica(s) per partition",
                 scaleout_.standby_replicas);
    return Status::ok();
  }

  Result<bool> sweep(uint16_t partition) {
    std::lock_guard lock(mu_);  // not while choose() takes the partition up
    if (copies_.contains(partition) || claimed_.contains(partition)) return false;
    auto trusted = hasTrustedCopy(store_, partition, applied_key_);
    if (!trusted) return fail(trusted.error());
    if (*trusted) return false;
    if (Status s = dropLocalCopy(store_, partition, applied_key_); !s.isOk()) return fail(s);
    return true;
  }

  void claim(uint16_t partition) {
    std::lock_guard lock(mu_);
    claimed_.insert(partition);
    auto it = copies_.find(partition);
    if (it == copies_.end()) return;
    // What is closed goes in now: the restore reads that much less.
    write(it->first, it->second);
    spdlog::info("scale-out standby: partition {} is taken over here from its warm copy (changelog offset {})",
                 partition, it->second.batches.next());
    copies_.erase(it);
    reassign_ = true;
    partitions_gauge_.Set(static_cast<double>(copies_.size()));
  }

  void release(uint16_t partition) {
    std::lock_guard lock(mu_);
    claimed_.erase(partition);
  }

  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    thread_.join();
    std::lock_guard lock(mu_);
    for (auto& [partition, copy] : copies_) write(partition, copy);  // kept for a restart
    consumer_->close();
  }

 private:
  struct Copy {
    ChangelogBatches batches;
    size_t counted_applied = 0;
    size_t counted_discarded = 0;
  };

  void run() {
    {
      // The owners are known once the read model has read the changelog as it was at the start.
      std::unique_lock lock(mu_);
      while (!stopping_ && !read_model_.owners()) cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
    bool first = true;
    auto next_choice = std::chrono::steady_clock::now();
    auto last_write = next_choice;
    while (!stopping_) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_choice) {
        choose(first);
        first = false;
        next_choice = now + kChooseInterval;
      }
      bool idle = false;
      {
        std::unique_lock lock(mu_);
        if (reassign_) assign();
        if (copies_.empty()) {
          cv_.wait_for(lock, kChooseInterval);
          continue;
        }
      }
      std::unique_ptr<RdKafka::Message> msg(consumer_->consume(100));
      if (msg && msg->err() == RdKafka::ERR_NO_ERROR) {
        apply(*msg);
      } else {
        idle = true;
        if (msg && msg->err() != RdKafka::ERR__TIMED_OUT && msg->err() != RdKafka::ERR__PARTITION_EOF) {
          uint64_t suppressed = 0;
          if (warn_log_.allow(suppressed)) spdlog::warn("scale-out standby: {} ({} more)", msg->errstr(), suppressed);
        }
      }
      if (idle || std::chrono::steady_clock::now() - last_write >= kWriteInterval) {
        last_write = std::chrono::steady_clock::now();
        std::lock_guard lock(mu_);
        int64_t lag = 0;
        for (auto it = copies_.begin(); it != copies_.end();) {
          if (!write(it->first, it->second)) {
            it = copies_.erase(it);
            continue;
          }
          int64_t low = 0, high = 0;
          if (consumer_->get_watermark_offsets(scaleout_.changelog_topic, it->first, &low, &high) ==
                  RdKafka::ERR_NO_ERROR &&
              high > it->second.batches.next()) {
            lag += high - std::max(it->second.batches.next(), low);
          }
          ++it;
        }
        lag_gauge_.Set(static_cast<double>(lag));
        partitions_gauge_.Set(static_cast<double>(copies_.size()));
      }
    }
  }

  void apply(RdKafka::Message& msg) {
    std::lock_guard lock(mu_);
    auto it = copies_.find(static_cast<uint16_t>(msg.partition()));
    // Not a standby any more, or fetched before the copy was reopened elsewhere.
    if (it == copies_.end() || msg.offset() < it->second.batches.next()) return;
    if (Status s = it->second.batches.add(msg); !s.isOk()) {
      giveUp(it->first, s);
      copies_.erase(it);
      reassign_ = true;
      return;
    }
    count(it->second);
  }

  // Writes the copy's closed batches; false (the copy given up) when that fails. REQUIRES: mu_ held.
  bool write(uint16_t partition, Copy& copy) {
    if (!copy.batches.unwritten()) return true;
    if (Status s = copy.batches.writeClosed(); !s.isOk()) {
      giveUp(partition, s);
      reassign_ = true;
      return false;
    }
    count(copy);
    return true;
  }

  void count(Copy& copy) {
    applied_.Increment(static_cast<double>(copy.batches.written() - copy.counted_applied));
    discarded_.Increment(static_cast<double>(copy.batches.discarded() - copy.counted_discarded));
    copy.counted_applied = copy.batches.written();
    copy.counted_discarded = copy.batches.discarded();
  }

  // A copy that cannot be kept is dropped (dirty: a takeover restores it in full) and not
  // chosen again while it stays this core's standby. REQUIRES: mu_ held.
  void giveUp(uint16_t partition, const Status& why) {
    spdlog::error("scale-out standby: partition {}: {}; no warm copy of it kept here", partition, why.toString());
    drop(partition);
    unusable_.insert(partition);
  }

  // Marks the local copy dirty and drops it (a takeover then restores in full); an error is logged.
  void drop(uint16_t partition) {
    if (Status s = dropLocalCopy(store_, partition, applied_key_); !s.isOk()) {
      spdlog::error("scale-out standby: dropping partition {}: {}", partition, s.toString());
    }
  }

  // The standby partitions of this core from the owners the read model names now.
  void choose(bool first) {
    auto owners = read_model_.owners();
    if (!owners) return;
    std::vector<std::string> alive{self_};
    for (const auto& [partition, owner] : *owners) alive.push_back(owner);
    std::set<uint16_t> wanted;
    std::map<uint16_t, std::string> owner_of;
    for (const auto& [partition, owner] : *owners) {
      if (owner == self_) continue;
      const auto chosen = standbysOf(partition, owner, alive, scaleout_.standby_replicas);
      if (std::find(chosen.begin(), chosen.end(), self_) != chosen.end()) {
        wanted.insert(partition);
        owner_of[partition] = owner;
      }
    }
    std::lock_guard lock(mu_);
    for (auto it = copies_.begin(); it != copies_.end();) {
      if (wanted.contains(it->first)) {
        ++it;
        continue;
      }
      // Another core keeps it now (or this one owns it): a stale copy must not linger.
      drop(it->first);
      spdlog::info("scale-out standby: partition {} is no longer kept warm here", it->first);
      it = copies_.erase(it);
      reassign_ = true;
    }
    std::erase_if(unusable_, [&](uint16_t p) { return !wanted.contains(p); });
    for (uint16_t partition : wanted) {
      if (copies_.contains(partition) || claimed_.contains(partition) || unusable_.contains(partition)) continue;
      auto local = openLocalCopy(store_, partition, applied_key_);
      if (!local) {
        giveUp(partition, local.error());
        continue;
      }
      int64_t low = 0, high = 0;
      if (consumer_->query_watermark_offsets(scaleout_.changelog_topic, partition, &low, &high, 5000) ==
              RdKafka::ERR_NO_ERROR &&
          low > local->next) {
        giveUp(partition, Status::failedPrecondition("the changelog starts at offset " + std::to_string(low) +
                                                     " but the copy needs it from " + std::to_string(local->next)));
        continue;
      }
      spdlog::info("scale-out standby: keeping partition {} (owner {}) warm from changelog offset {}", partition,
                   owner_of[partition], local->next);
      copies_.emplace(partition, Copy{ChangelogBatches(store_, partition, applied_key_, *local)});
      reassign_ = true;
    }
    if (first) {
      // What the store held at the start: copies of the last run, owned or kept warm then.
      if (auto stored = store_.partitionsWithState()) {
        leftover_.insert(stored->begin(), stored->end());
      } else {
        spdlog::error("scale-out standby: listing the stored partitions: {}", stored.error().toString());
      }
    }
    // A leftover copy goes once another core owns it and this one is not its standby; one this
    // core owns (or that the read model names it the owner of) is the group's to decide.
    for (auto it = leftover_.begin(); it != leftover_.end();) {
      const uint16_t partition = *it;
      auto owner = owners->find(partition);
      if (copies_.contains(partition) || claimed_.contains(partition)) {
        it = leftover_.erase(it);
      } else if (owner != owners->end() && owner->second != self_) {
        drop(partition);
        it = leftover_.erase(it);
      } else {
        ++it;
      }
    }
    partitions_gauge_.Set(static_cast<double>(copies_.size()));
  }

  // Reads every copy from where it is applied. REQUIRES: mu_ held; the run thread.
  void assign() {
    reassign_ = false;
    std::vector<RdKafka::TopicPartition*> assignment;
    for (const auto& [partition, copy] : copies_) {
      assignment.push_back(RdKafka::TopicPartition::create(scaleout_.changelog_topic, partition, copy.batches.next()));
    }
    if (const auto err = consumer_->assign(assignment); err != RdKafka::ERR_NO_ERROR) {
      spdlog::error("scale-out standby: assigning the changelog partitions: {}", RdKafka::err2str(err));
      reassign_ = true;
    }
    RdKafka::TopicPartition::destroy(assignment);
  }

  const KafkaConfig kafka_;
  const ScaleoutConfig scaleout_;
  const std::string applied_key_;  // the local position ScaleoutCore's restore reads on from
  const std::string self_;
  store::Store& store_;
  const ReadModel& read_model_;
  prometheus::Gauge& partitions_gauge_;
  prometheus::Family<prometheus::Counter>& records_;
  prometheus::Counter& applied_;
  prometheus::Counter& discarded_;
  prometheus::Gauge& lag_gauge_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::thread thread_;
  RateLimitedLog warn_log_{std::chrono::seconds(10)};

  std::mutex mu_;  // held while a copy is written: claim() waits for it
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  bool reassign_ = false;               // the consumer's assignment lags copies_; GUARDED_BY(mu_)
  std::map<uint16_t, Copy> copies_;     // the standby partitions; GUARDED_BY(mu_)
  std::set<uint16_t> claimed_;          // assigned to this core: never a standby; GUARDED_BY(mu_)
  std::set<uint16_t> unusable_;         // failed while wanted: not retried until unwanted; GUARDED_BY(mu_)
  std::set<uint16_t> leftover_;         // stored at the start, neither kept warm nor owned yet; GUARDED_BY(mu_)
};

StandbyReplicas::StandbyReplicas(KafkaConfig kafka, ScaleoutConfig scaleout, store::Store& store,
                                 const ReadModel& read_model, prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(kafka), std::move(scaleout), store, read_model, registry)) {}
StandbyReplicas::~StandbyReplicas() { stop(); }
Status StandbyReplicas::start() { return impl_->start(); }
Result<bool> StandbyReplicas::sweep(uint16_t partition) { return impl_->sweep(partition); }
void StandbyReplicas::claim(uint16_t partition) { impl_->claim(partition); }
void StandbyReplicas::release(uint16_t partition) { impl_->release(partition); }
void StandbyReplicas::stop() { impl_->stop(); }

}  // namespace vigil::connectors::kafka
