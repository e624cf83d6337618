#include "connectors/kafka/scaleout_core.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include "connectors/kafka/changelog_batches.h"
#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/read_model.h"
#include "connectors/kafka/standby_replicas.h"

namespace vigil::connectors::kafka {

namespace {

std::string markerKey(uint16_t partition, uint64_t epoch) {
  std::string k(1, kMarkerTag);
  k.push_back(static_cast<char>(partition >> 8));
  k.push_back(static_cast<char>(partition & 0xff));
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((epoch >> (8 * i)) & 0xff));
  return k;
}

}  // namespace

class ScaleoutCore::Impl final : public RdKafka::DeliveryReportCb {
 public:
  Impl(KafkaConfig kafka, ScaleoutConfig scaleout, store::Store& store, Pipeline& pipeline,
       prometheus::Registry& registry)
      : kafka_(std::move(kafka)),
        scaleout_(std::move(scaleout)),
        applied_key_("changelog/" + scaleout_.changelog_topic),
        owner_url_(scaleout_.read_side.advertised_url),
        store_(store),
        pipeline_(pipeline),
        records_(prometheus::BuildCounter()
                     .Name("vigil_scaleout_changelog_records_total")
                     .Help("Partition-state records by what happened to them: produced to the changelog, "
                           "restored from it, discarded by a restore (a batch its writer did not finish), "
                           "or skipped (a commit for a partition this instance does not own)")
                     .Register(registry)),
        produced_(records_.Add({{"result", "produced"}})),
        restored_(records_.Add({{"result", "restored"}})),
        discarded_(records_.Add({{"result", "discarded"}})),
        skipped_(records_.Add({{"result", "skipped"}})),
        owned_gauge_(prometheus::BuildGauge()
                         .Name("vigil_scaleout_owned_partitions")
                         .Help("Ingest partitions whose state this instance owns")
                         .Register(registry)
                         .Add({})),
        restore_seconds_(prometheus::BuildGauge()
                             .Name("vigil_scaleout_last_restore_seconds")
                             .Help("How long the last partition takeover took (changelog restore and load)")
                             .Register(registry)
                             .Add({})) {}

  Status start();
  Status forgetUntilAssigned();
  void beginShutdown() { shutting_down_ = true; }
  void setStandby(StandbyReplicas* standby) { standby_ = standby; }
  void stop();
  void assigned(const std::vector<TopicPartition>& partitions);
  void revoked(const std::vector<TopicPartition>& partitions, bool lost);
  // Drops the stored partitions that are neither in `assigned` nor owned.
  void sweep(const std::vector<TopicPartition>& assigned);
  void dr_cb(RdKafka::Message& message) override;
  uint64_t durableChangeSeq() const { return durable_seq_.load(std::memory_order_acquire); }

 private:
  // The changelog records produced between two commits' ends, and the change seq the commit
  // that closed them reached.
  struct Slot {
    size_t in_flight = 0;
    uint64_t seq = 0;
    bool closed = false;
  };
  struct Delivery {
    size_t in_flight = 0;
    int64_t next_offset = 0;  // after the last record delivered (or restored)
  };

  void onRecords(std::vector<store::PartitionRecord>&& records);
  void onCommit(uint64_t last_change_seq);
  // Moves durable_seq_ over the slots whose records are all delivered. REQUIRES: mu_ held.
  void advanceDurable();
  void produce(uint16_t partition, const std::string& key, const std::optional<std::string>& value,
               const std::string& epoch);
  // Where a takeover's restore ended, and the epoch of the new ownership.
  struct Restored {
    int64_t end = 0;
    uint64_t epoch = 0;
  };
  // Brings the local copy of `partition` up to the changelog's end and fences older writers.
  Result<Restored> restore(uint16_t partition);
  // Runs `task` on the correlator and waits for it; false when the pipeline is stopped.
  bool onCorrelator(std::function<void(incidents::IncidentEngine&)> task);

  const KafkaConfig kafka_;
  const ScaleoutConfig scaleout_;
  const std::string applied_key_;  // local position: how far the changelog is applied, or kDirtyPosition
  const std::string owner_url_;    // this instance's advertised URL (read side)
  store::Store& store_;
  Pipeline& pipeline_;
  prometheus::Family<prometheus::Counter>& records_;
  prometheus::Counter& produced_;
  prometheus::Counter& restored_;
  prometheus::Counter& discarded_;
  prometheus::Counter& skipped_;
  prometheus::Gauge& owned_gauge_;
  prometheus::Gauge& restore_seconds_;
  StandbyReplicas* standby_ = nullptr;  // set before the source starts; none: no standby replicas
  std::unique_ptr<RdKafka::Producer> producer_;
  std::thread poll_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> swept_{false};

  std::mutex records_mu_;  // serialises onRecords()
  std::mutex mu_;
  std::condition_variable delivered_cv_;
  std::map<uint16_t, uint64_t> owned_;      // partition → epoch of this ownership; GUARDED_BY(mu_)
  std::map<uint16_t, Delivery> delivery_;   // GUARDED_BY(mu_)
  bool failed_ = false;                     // a record was not delivered; GUARDED_BY(mu_)
  std::map<uint64_t, Slot> slots_;          // by slot number, oldest first; GUARDED_BY(mu_)
  uint64_t open_slot_ = 0;                  // the slot records go to now; GUARDED_BY(mu_)
  std::atomic<uint64_t> durable_seq_{0};
};

Status ScaleoutCore::Impl::start() {
  // Compressed batches: a changelog record repeats most of its key and value from its neighbours,
  // and a broker's per-partition size limits (retention, the mock cluster's 5 MiB) count the
  // compressed bytes. A commit's records are produced together, so they batch without more linger.
  auto conf = makeConf(kafka_, {{"linger.ms", "5"}, {"compression.type", "zstd"}, {"message.timeout.ms", "0"},
                                {"queue.buffering.max.messages", "1000000"}},
                       {{"enable.idempotence", "true"}, {"acks", "all"}});
  if (!conf) return conf.error();
  std::string error;
  if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), error) != RdKafka::Conf::CONF_OK) {
    return Status::internal("kafka: " + error);
  }
  producer_.reset(RdKafka::Producer::create(conf->get(), error));
  if (!producer_) return Status::invalidArgument("kafka changelog producer: " + error);
  poll_thread_ = std::thread([this] {
    while (!stopping_.load(std::memory_order_relaxed)) producer_->poll(50);
  });
  durable_seq_ = store_.lastChangeSeq();
  store_.setPartitionObserver([this](std::vector<store::PartitionRecord>&& records) { onRecords(std::move(records)); });
  store_.setCommitObserver([this](uint64_t seq) { onCommit(seq); });
  spdlog::info("scale-out core: partition state changes go to {}", scaleout_.changelog_topic);
  return Status::ok();
}

Status ScaleoutCore::Impl::forgetUntilAssigned() {
  auto stored = store_.partitionsWithState();
  if (!stored) return stored.error();
  const bool ok = onCorrelator([&](incidents::IncidentEngine& engine) {
    std::set<uint16_t> partitions(stored->begin(), stored->end());
    engine.forEachActive([&](const incidents::Incident& in) { partitions.insert(in.partition()); });
    for (uint16_t p : partitions) pipeline_.forgetPartition(p);
  });
  return ok ? Status::ok() : Status::unavailable("scale-out: the pipeline is not running");
}

void ScaleoutCore::Impl::stop() {
  if (!poll_thread_.joinable()) return;
  stopping_ = true;
  poll_thread_.join();
  if (producer_->flush(10000) != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("scale-out core: {} changelog records unconfirmed at shutdown", producer_->outq_len());
  }
}

bool ScaleoutCore::Impl::onCorrelator(std::function<void(incidents::IncidentEngine&)> task) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  if (!pipeline_.submitTask([task = std::move(task), done](incidents::IncidentEngine& engine) {
        task(engine);
        done->set_value();
      })) {
    return false;
  }
  future.wait();
  return true;
}

void ScaleoutCore::Impl::onRecords(std::vector<store::PartitionRecord>&& records) {
  // One batch at a time, markers included, even while produce() waits for room without mu_:
  // the webhooks' threads write partition records too.
  std::lock_guard serial(records_mu_);
  std::lock_guard lock(mu_);
  // The epochs are read once: produce() may let go of the lock while the queue is full.
  std::map<uint16_t, uint64_t> touched;  // partition → epoch, for the markers
  for (const auto& record : records) {
    auto [it, inserted] = touched.try_emplace(record.partition, 0);
    if (inserted) {
      auto owner = owned_.find(record.partition);
      if (owner != owned_.end()) it->second = owner->second;
    }
    if (it->second == 0) {
      skipped_.Increment();
      continue;
    }
    produce(record.partition, record.key, record.value, std::to_string(it->second));
  }
  for (const auto& [partition, epoch] : touched) {
    if (epoch != 0) produce(partition, markerKey(partition, epoch), std::string("1"), std::to_string(epoch));
  }
}

void ScaleoutCore::Impl::onCommit(uint64_t last_change_seq) {
  std::lock_guard lock(mu_);
  Slot& slot = slots_[open_slot_++];
  slot.seq = last_change_seq;
  slot.closed = true;
  advanceDurable();
}

void ScaleoutCore::Impl::advanceDurable() {
  if (failed_) return;  // a lost record: nothing after it is durable
  while (!slots_.empty() && slots_.begin()->second.closed && slots_.begin()->second.in_flight == 0) {
    durable_seq_.store(slots_.begin()->second.seq, std::memory_order_release);
    slots_.erase(slots_.begin());
  }
}

void ScaleoutCore::Impl::produce(uint16_t partition, const std::string& key, const std::optional<std::string>& value,
                                 const std::string& epoch) {
  for (;;) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    headers->add(std::string(kEpochHeader), epoch);
    // Markers name their writer: the read side of every core learns each partition's owner.
    if (key[0] == kMarkerTag && !owner_url_.empty()) headers->add(std::string(kOwnerHeader), owner_url_);
    const auto err = producer_->produce(
        scaleout_.changelog_topic, partition, RdKafka::Producer::RK_MSG_COPY,
        value ? const_cast<char*>(value->data()) : nullptr, value ? value->size() : 0, key.data(), key.size(), 0,
        headers, reinterpret_cast<void*>(static_cast<uintptr_t>((open_slot_ << 16) | partition)));
    if (err == RdKafka::ERR_NO_ERROR) {
      ++delivery_[partition].in_flight;
      ++slots_[open_slot_].in_flight;
      produced_.Increment();
      return;
    }
    delete headers;
    if (err != RdKafka::ERR__QUEUE_FULL) {
      spdlog::critical("scale-out core: producing to {}: {}; partition {} is no longer replicated",
                       scaleout_.changelog_topic, RdKafka::err2str(err), partition);
      failed_ = true;
      return;
    }
    // The poll thread makes room; it needs no lock for that (dr_cb takes it briefly).
    mu_.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    mu_.lock();
  }
}

void ScaleoutCore::Impl::dr_cb(RdKafka::Message& message) {
  const auto opaque = reinterpret_cast<uintptr_t>(message.msg_opaque());
  const auto partition = static_cast<uint16_t>(opaque & 0xffff);
  std::lock_guard lock(mu_);
  if (auto slot = slots_.find(opaque >> 16); slot != slots_.end() && slot->second.in_flight > 0) {
    --slot->second.in_flight;
  }
  Delivery& d = delivery_[partition];
  if (d.in_flight > 0) --d.in_flight;
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    d.next_offset = std::max(d.next_offset, message.offset() + 1);
  } else {
    if (!failed_) spdlog::critical("scale-out core: changelog record not delivered: {}", message.errstr());
    failed_ = true;
  }
  advanceDurable();
  delivered_cv_.notify_all();
}

Result<ScaleoutCore::Impl::Restored> ScaleoutCore::Impl::restore(uint16_t partition) {
  // A trusted local copy (a clean stop's, or a standby replica's) is read on from where it is
  // applied; any other is dropped and restored from the start.
  auto local = openLocalCopy(store_, partition, applied_key_);
  if (!local) return fail(local.error());
  const std::string where = scaleout_.changelog_topic + "/" + std::to_string(partition);
  const auto deadline = std::chrono::steady_clock::now() + scaleout_.restore_timeout;
  int64_t low = 0, high = 0;
  for (;;) {  // the producer is connected already: no consumer for a copy that is up to date
    const auto err = producer_->query_watermark_offsets(scaleout_.changelog_topic, partition, &low, &high, 5000);
    if (err == RdKafka::ERR_NO_ERROR) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(Status::unavailable("changelog " + where + ": " + RdKafka::err2str(err)));
    }
  }
  const int64_t position = local->next;
  if (low > position) {
    // Records the state needs are gone: a size- or time-retained topic instead of a compacted
    // one (the mock cluster keeps 5 MB per partition). Loading the rest would be a wrong state.
    return fail(Status::failedPrecondition(
        "changelog " + where + " starts at offset " + std::to_string(low) + " but the state needs it from " +
        std::to_string(position) + ": the topic must be compacted (cleanup.policy=compact), not deleted by retention"));
  }

  ChangelogBatches batches(store_, partition, applied_key_, *local);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;  // created when there is something to read
  auto readTo = [&](int64_t end) -> Status {
    if (batches.next() < end && !consumer) {
      auto created = makeAssigningConsumer(kafka_, "changelog-restore");
      if (!created) return created.error();
      consumer = std::move(*created);
      std::vector<RdKafka::TopicPartition*> assignment{
          RdKafka::TopicPartition::create(scaleout_.changelog_topic, partition, batches.next())};
      consumer->assign(assignment);
      RdKafka::TopicPartition::destroy(assignment);
    }
    while (batches.next() < end) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::unavailable("restoring " + where + " took longer than restore_timeout");
      }
      std::unique_ptr<RdKafka::Message> msg(consumer->consume(500));
      if (!msg || msg->err() == RdKafka::ERR__TIMED_OUT) continue;
      if (msg->err() != RdKafka::ERR_NO_ERROR) {
        spdlog::warn("scale-out core: reading the changelog: {}", msg->errstr());
        continue;
      }
      if (Status s = batches.add(*msg); !s.isOk()) return s;
    }
    return Status::ok();
  };
  Status s = readTo(high);
  // Fence: this ownership's epoch is newer than any written so far, and its first marker goes
  // out before anything else of it; whatever an older writer closes after it is discarded by
  // every later restore (and by this one, which reads up to it).
  const uint64_t epoch = batches.newestEpochSeen() + 1;
  if (s.isOk()) {
    std::unique_lock lock(mu_);
    produce(partition, markerKey(partition, epoch), std::string("1"), std::to_string(epoch));
    const bool delivered = delivered_cv_.wait_until(lock, deadline, [&] {
      return delivery_[partition].in_flight == 0 || failed_;
    });
    if (!delivered || failed_) {
      s = Status::unavailable("changelog " + where + ": the takeover's fence marker was not delivered");
    } else {
      high = delivery_[partition].next_offset;  // just after the fence
    }
  }
  // Read up to the fence, unless it directly follows what was read: it closes nothing, and
  // nothing of an older writer lies before it.
  if (s.isOk() && high - 1 > batches.next()) s = readTo(high);
  if (consumer) consumer->close();
  if (!s.isOk()) return fail(s);
  batches.discardOpen();
  if (Status w = batches.writeClosed(); !w.isOk()) return fail(w);
  restored_.Increment(static_cast<double>(batches.written()));
  discarded_.Increment(static_cast<double>(batches.discarded()));
  spdlog::info("scale-out core: restored {} records of partition {} from offset {} to {} ({} of unfinished or "
               "fenced batches discarded); epoch {}", batches.written(), partition, position, high,
               batches.discarded(), epoch);
  return Restored{high, epoch};
}

void ScaleoutCore::Impl::sweep(const std::vector<TopicPartition>& assigned) {
  auto stored = store_.partitionsWithState();
  if (!stored) {
    spdlog::error("scale-out core: listing the stored partitions: {}", stored.error().toString());
    return;
  }
  std::set<uint16_t> keep;
  for (const auto& tp : assigned) keep.insert(static_cast<uint16_t>(tp.second));
  {
    std::lock_guard lock(mu_);
    for (const auto& [partition, epoch] : owned_) keep.insert(partition);
  }
  size_t swept = 0, kept = 0;
  for (uint16_t partition : *stored) {
    if (keep.contains(partition)) continue;
    // Dirty, not just empty: if it comes back later it is restored from the changelog's start.
    // With standby replicas, a trusted copy may be (or become) one of theirs: they decide.
    Result<bool> dropped = true;
    if (standby_ != nullptr) {
      dropped = standby_->sweep(partition);
    } else if (Status s = dropLocalCopy(store_, partition, applied_key_); !s.isOk()) {
      dropped = fail(s);
    }
    if (!dropped) {
      spdlog::error("scale-out core: sweeping partition {}: {}", partition, dropped.error().toString());
      continue;
    }
    ++(*dropped ? swept : kept);
  }
  if (swept + kept > 0) {
    spdlog::info("scale-out core: dropped {} partitions the group gave to others meanwhile ({} kept for the standby "
                 "replicas)", swept, kept);
  }
}

void ScaleoutCore::Impl::assigned(const std::vector<TopicPartition>& partitions) {
  // A standby replica of a partition stops applying it: the restore reads on from its copy.
  if (standby_ != nullptr) {
    for (const auto& tp : partitions) standby_->claim(static_cast<uint16_t>(tp.second));
  }
  // The first assignment since the start says which partitions are ours: the stored copies of
  // the others moved while this instance was down and must not show in its API.
  if (!swept_.exchange(true)) sweep(partitions);
  for (const auto& [topic, number] : partitions) {
    const auto start = std::chrono::steady_clock::now();
    const auto partition = static_cast<uint16_t>(number);
    auto restored = restore(partition);
    if (!restored) {
      // Consuming on top of a partial state would count events twice: stop the daemon instead.
      spdlog::critical("scale-out core: taking over partition {}: {}; exiting", partition,
                       restored.error().toString());
      std::_Exit(1);
    }
    if (Status s = store_.putPosition(partition, applied_key_, kDirtyPosition); !s.isOk()) {
      spdlog::critical("scale-out core: {}; exiting", s.toString());
      std::_Exit(1);
    }
    Status loaded = Status::ok();
    onCorrelator([&](incidents::IncidentEngine&) { loaded = pipeline_.loadPartition(partition); });
    if (!loaded.isOk()) {
      spdlog::critical("scale-out core: loading partition {}: {}; exiting", partition, loaded.toString());
      std::_Exit(1);
    }
    {
      std::lock_guard lock(mu_);
      owned_[partition] = restored->epoch;  // never 0 ("not owned")
      delivery_[partition] = Delivery{0, restored->end};
      owned_gauge_.Set(static_cast<double>(owned_.size()));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    restore_seconds_.Set(seconds);
    spdlog::info("scale-out core: took over {}/{} in {:.3f} s", topic, partition, seconds);
  }
}

void ScaleoutCore::Impl::revoked(const std::vector<TopicPartition>& partitions, bool lost) {
  for (const auto& [topic, number] : partitions) {
    const auto partition = static_cast<uint16_t>(number);
    onCorrelator([this, partition](incidents::IncidentEngine&) { pipeline_.forgetPartition(partition); });
    int64_t end = 0;
    uint64_t epoch = 0;
    bool complete = false;
    {
      std::unique_lock lock(mu_);
      if (auto it = owned_.find(partition); it != owned_.end()) epoch = it->second;
      owned_.erase(partition);
      owned_gauge_.Set(static_cast<double>(owned_.size()));
      complete = delivered_cv_.wait_for(lock, std::chrono::seconds(30),
                                        [&] { return delivery_[partition].in_flight == 0 || failed_; }) &&
                 !failed_;
      end = delivery_[partition].next_offset;
      delivery_.erase(partition);
    }
    if (!complete) spdlog::error("scale-out core: changelog records of partition {} unconfirmed at handover", partition);
    Status s = Status::ok();
    if (complete && !lost && shutting_down_) {
      // A restart that gets the partition back applies only what others wrote after this.
      s = store_.putPosition(partition, applied_key_, std::to_string(end) + " " + std::to_string(epoch));
    } else {
      s = dropLocalCopy(store_, partition, applied_key_);
    }
    if (!s.isOk()) spdlog::error("scale-out core: handing over partition {}: {}", partition, s.toString());
    if (standby_ != nullptr) standby_->release(partition);
    spdlog::info("scale-out core: {} {}/{} (changelog end {})", lost ? "lost" : "handed over", topic, partition, end);
  }
}

ScaleoutCore::ScaleoutCore(KafkaConfig kafka, ScaleoutConfig scaleout, store::Store& store, Pipeline& pipeline,
                           prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(kafka), std::move(scaleout), store, pipeline, registry)) {}
ScaleoutCore::~ScaleoutCore() { stop(); }
Status ScaleoutCore::start() { return impl_->start(); }
Status ScaleoutCore::forgetUntilAssigned() { return impl_->forgetUntilAssigned(); }
void ScaleoutCore::beginShutdown() { impl_->beginShutdown(); }
void ScaleoutCore::setStandby(StandbyReplicas* standby) { impl_->setStandby(standby); }
void ScaleoutCore::stop() { impl_->stop(); }
uint64_t ScaleoutCore::durableChangeSeq() const { return impl_->durableChangeSeq(); }
void ScaleoutCore::assigned(const std::vector<TopicPartition>& partitions) { impl_->assigned(partitions); }
void ScaleoutCore::revoked(const std::vector<TopicPartition>& partitions, bool lost) {
  impl_->revoked(partitions, lost);
}

}  // namespace vigil::connectors::kafka
