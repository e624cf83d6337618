// Pipeline: the correlator. Sources offer EventBatches into a bounded queue; one correlator thread
// takes them in groups, runs the rules and the incident engine over every event, commits all the
// resulting changes plus the sources' positions in one store batch, and only then acknowledges the
// sources and tells the listeners. It owns all mutable incident state: one writer, no locks on the
// hot path.
// The store commit of a batch overlaps the processing of the next one (pipeline_commit.cc).
// Thread-safety: offer()/push()/setRules()/ready() from any thread; start()/stop() on the main
// thread. Listeners, on_commit and command callbacks are called on the committer thread, one batch
// at a time and in order.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <optional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "connectors/source.h"
#include "daemon/cmdb/ci_index.h"
#include "daemon/cmdb/service_health.h"
#include "daemon/cmdb/unbound_log.h"
#include "daemon/bounded_queue.h"
#include "daemon/event_hook.h"
#include "daemon/incidents/active_by_ci.h"
#include "daemon/incidents/incident_engine.h"
#include "daemon/metrics/metrics.h"
#include "daemon/store/store.h"
#include "rules/rule_set.h"

namespace vigil {

struct PipelineOptions {
  size_t queue_capacity_events = 65536;  // backpressure threshold (events waiting)
  // ... and in memory the waiting events hold (approxMemoryBytes): a fast source of large events
  // (a file replay, a syslog flood) is held back before the queue costs more than this.
  size_t queue_capacity_bytes = size_t{32} << 20;
  size_t max_batch_events = 8192;        // events per store commit at most
  std::chrono::milliseconds commit_retry_interval{1000};
  // Called on the correlator thread at least every 500 ms while it is healthy (the systemd
  // watchdog hangs off it, so a wedged correlator gets the daemon restarted).
  std::function<void()> heartbeat;
  // The correlator's wall clock (commands, timers of idle rounds); tests and `vigilctl rules
  // test` pass a virtual one. Metrics latencies always use the real clock.
  std::function<TimePoint()> clock = [] { return Clock::now(); };
  // How often an idle correlator wakes up to run the components' timers.
  std::chrono::milliseconds tick_interval{500};
  // An event from a CI whose dependency has an incident that opened within this window becomes
  // a symptom of it instead of an incident of its own.
  std::chrono::milliseconds symptom_window{std::chrono::minutes(10)};
};

// Each business service's health as of the last commit, with the CMDB snapshot it refers to.
struct ServiceHealthView {
  std::shared_ptr<const cmdb::CiSnapshot> cmdb;
  std::vector<cmdb::ServiceHealth> services;
};

// Correlator work besides the event → rules → engine step: timers (pair timeouts, heartbeats,
// SLA clocks, auto-close, maintenance ends) and keyed state of its own kept in the store.
// Every method is called on the correlator thread, so a component needs no locks.
class CorrelatorComponent {
 public:
  virtual ~CorrelatorComponent() = default;
  // At start, before the first batch: reload the component's state from the store.
  virtual Status restore(const store::Store& /*store*/) { return Status::ok(); }
  // Once per batch before its events, and at least every tick interval when idle: act on what
  // is due at `now` (through the engine, so the changes commit with the batch).
  virtual void onTick(TimePoint /*now*/, incidents::IncidentEngine& /*engine*/) {}
  // Once per batch, before onTick: the rule set this batch runs (changes on a hot reload).
  virtual void onRules(const std::shared_ptr<const rules::RuleSet>& /*rules*/) {}
  // Once per batch, before onTick: the CMDB snapshot this batch binds against.
  virtual void onCmdb(const std::shared_ptr<const cmdb::CiSnapshot>& /*cmdb*/) {}
  // For every event, after the rules and before the incident step: may refine the decision
  // (hold the event back, rekey it) and act on timers due by the event's time first.
  virtual void onEvent(Event& /*event*/, rules::Decision& /*decision*/, incidents::IncidentEngine& /*engine*/) {}
  // The batch's changes as taken from the engine, before collectStateOps.
  virtual void onChanges(const incidents::ChangeSet& /*changes*/) {}
  // When an incident opens or is reopened (during a batch, before its change is recorded): set
  // fields of the component's own on it.
  virtual void onOpened(incidents::Incident& /*incident*/) {}
  // Just before the batch commits: append the component's state changes (same WriteBatch).
  virtual void collectStateOps(std::vector<store::StateOp>& /*out*/) {}
  // Scale-out takeover: `partition`'s state was just restored into the store and the engine
  // holds its active incidents: load the component's state of that partition (replacing any).
  virtual Status loadPartition(const store::Store& /*store*/, uint16_t /*partition*/) { return Status::ok(); }
  // Scale-out: `partition` moved to another instance: drop its state from memory (the store's
  // copy is dropped by the caller), so no timer acts on it here any more.
  virtual void forgetPartition(uint16_t /*partition*/) {}

  // Set by Pipeline::addComponent().
  void setCommitBarrier(std::function<void()> barrier) { commit_barrier_ = std::move(barrier); }

 protected:
  // Call before reading incidents from the store during a batch: the batch before may still be
  // being committed (pipeline_commit.cc); this waits until the store holds it.
  void awaitCommitted() const {
    if (commit_barrier_) commit_barrier_();
  }

 private:
  std::function<void()> commit_barrier_;
};

// Told about every committed batch, after the sources were acknowledged (on the committer thread).
class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
  virtual void onCommitted(const incidents::ChangeSet& changes) = 0;
};

class Pipeline final : public connectors::EventSink {
 public:
  Pipeline(PipelineOptions options, std::shared_ptr<const rules::RuleSet> rules, store::Store& store,
           metrics::PipelineMetrics& metrics);
  ~Pipeline() override;

  // REQUIRES: before start().
  void addListener(ChangeListener* listener) { listeners_.push_back(listener); }
  // REQUIRES: before start(). Components run in the order they were added.
  void addComponent(CorrelatorComponent* component) {
    component->setCommitBarrier([this] { awaitCommitted(); });
    components_.push_back(component);
  }
  // REQUIRES: before start(). Hooks see every event, in the order they were added.
  void addEventHook(EventHook* hook) { event_hooks_.push_back(hook); }
  // REQUIRES: before start(). Every batch then reserves ids for its events when it is offered.
  void setEventIdSource(EventIdSource* ids) { event_ids_ = ids; }
  // REQUIRES: before start(). Scale-out edge: batches offered go to `intake` (the ingest topic)
  // instead of the correlator.
  void setIntake(connectors::EventSink* intake) { intake_ = intake; }
  // Runs `task` on the correlator thread between batches (after every batch queued before it is
  // committed): scale-out hands partitions' in-memory state over this way. Blocks while the
  // queue is full; false once the pipeline is stopped.
  bool submitTask(std::function<void(incidents::IncidentEngine&)> task);
  // Scale-out, on the correlator thread only (from a submitTask task): the engine and every
  // component load `partition`'s state from the store (a takeover), or forget it (moved away).
  Status loadPartition(uint16_t partition);
  void forgetPartition(uint16_t partition);
  // Restores the active incidents from the store and starts the correlator thread.
  Status start();
  // Refuses new batches, processes and commits everything queued, then joins the thread.
  void stop();

  // EventSink
  bool offer(connectors::EventBatch& batch) override;
  bool push(connectors::EventBatch batch) override;
  // offer() with ids the caller reserved from the id source (so it can answer with them).
  bool offer(connectors::EventBatch& batch, uint64_t first_event_id);

  // A person's action on an incident, applied by the correlator like events (one writer) and
  // answered once committed, with the incident as stored or the reason it was refused.
  using CommandCallback = std::function<void(Result<incidents::Incident>)>;
  // Non-blocking; false when the queue is full or closed.
  bool submit(incidents::IncidentCommand command, CommandCallback done);

  // Hot reload: the next batch uses the new rules.
  void setRules(std::shared_ptr<const rules::RuleSet> rules);
  std::shared_ptr<const rules::RuleSet> rules() const;
  // Hot reload of the CMDB: the next batch binds against the new snapshot.
  void setCmdb(std::shared_ptr<const cmdb::CiSnapshot> cmdb);
  std::shared_ptr<const cmdb::CiSnapshot> cmdb() const;
  std::shared_ptr<const ServiceHealthView> serviceHealth() const;
  const cmdb::UnboundLog& unbound() const { return unbound_; }
  // False while the store refuses commits (for example a full disk).
  bool ready() const { return ready_.load(std::memory_order_relaxed); }
  size_t queueDepth() const { return queue_.weight(); }

 private:
  // What the queue carries: a batch of events from a source, or one command from a person.
  struct WorkItem {
    connectors::EventBatch batch;
    std::optional<incidents::IncidentCommand> command;
    CommandCallback command_done;
    std::optional<Result<incidents::Incident>> command_result;  // set by process()
    uint64_t first_event_id = 0;  // the batch's events have ids first_event_id, +1, … (0: none)
    std::function<void(incidents::IncidentEngine&)> task;  // submitTask()
    metrics::StageMarks marks;  // when it passed each stage (vigil_pipeline_stage_seconds)
  };

  void run();
  void process(std::vector<WorkItem>& work);
  // process() on the runs of work between tasks, and the tasks in their turn.
  void processWithTasks(std::vector<WorkItem>& work);
  void applyCommand(WorkItem& item, TimePoint now);
  // Takes the event's binding (sets event.ci) before the rules see it; null when unbound.
  const cmdb::ConfigurationItem* bind(Event& event, const cmdb::Binding& binding);
  // The incident step with the event hooks around it: they may hold the event back, and each
  // learns its verdict.
  incidents::ApplyOutcome applyWithHooks(const Event& event, const cmdb::CiSnapshot& cmdb,
                                         const rules::Decision& decision, const incidents::OpenContext* context);
  void updateServiceHealth(const std::shared_ptr<const cmdb::CiSnapshot>& cmdb);
  // Keeps active_by_ci_ in step with the batch's changes, while the CMDB has services to need it.
  void trackActiveByCi(const cmdb::CiSnapshot& cmdb, const incidents::ChangeSet& changes);
  void commitWithRetry(incidents::ChangeSet& changes, const std::vector<connectors::SourcePosition>& positions);

  // The commit stage (pipeline_commit.cc): a processed batch is committed on the committer thread
  // while the correlator processes the next one. At most one batch is in flight; its sources are
  // acknowledged, its commands answered and the listeners told on the committer thread, in batch
  // order, once it is durable.
  struct PendingCommit {
    incidents::ChangeSet changes;
    std::vector<connectors::SourcePosition> positions;
    std::vector<WorkItem> work;  // acknowledged and answered once committed
    size_t events = 0;
    size_t active_incidents = 0;          // the engine's count right after the batch
  };
  void startCommitter();
  // Waits for the batch in flight, then stops the committer thread.
  void stopCommitter();
  // Group commit: while the committer is busy, a processed batch is not handed over (which would
  // block the correlator) but kept in pending_ and the engine, and the next batches join it; the
  // committer takes them all at once when it is free. True when the batch was deferred so.
  bool deferCommit();
  // Takes the engine's changes of everything processed since the last hand-over and hands them
  // to the committer (waiting for it).
  void commitProcessed();
  // commitProcessed() if a batch was deferred; unless `wait`, only once the committer is free.
  void flushDeferred(bool wait);
  // Hands pending_ over to the committer once the batch before it is done; pending_ then holds
  // that batch's emptied buffers (they keep their capacity).
  void handOffPending();
  // The most events the next group may take from the queue (slow start, pipeline.cc).
  size_t groupLimit() const;
  // Marks when `work` passed `mark` (StageMarks), for the per-stage latency metrics.
  static void markStage(std::vector<WorkItem>& work, TimePoint metrics::StageMarks::*mark);
  // Waits until no batch is in flight: the store holds everything processed so far.
  void awaitCommitted();
  void commitLoop();
  void finishCommit(PendingCommit& batch);

  const PipelineOptions options_;
  store::Store& store_;
  metrics::PipelineMetrics& metrics_;
  std::vector<ChangeListener*> listeners_;
  std::vector<CorrelatorComponent*> components_;
  std::vector<EventHook*> event_hooks_;
  EventIdSource* event_ids_ = nullptr;
  connectors::EventSink* intake_ = nullptr;

  mutable std::mutex rules_mu_;
  std::shared_ptr<const rules::RuleSet> rules_;  // GUARDED_BY(rules_mu_)
  std::shared_ptr<const cmdb::CiSnapshot> cmdb_;  // GUARDED_BY(rules_mu_)
  std::shared_ptr<const ServiceHealthView> health_;  // GUARDED_BY(rules_mu_)
  cmdb::UnboundLog unbound_;                     // thread-safe
  std::vector<cmdb::Binding> bindings_;          // the batch's, reused (correlator thread)
  incidents::ActiveSeverityByCi active_by_ci_;  // worst active severity per CI, for service health (correlator thread)

  BoundedQueue<WorkItem> queue_;
  std::atomic<bool> ready_{true};
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  // Correlator-thread state.
  incidents::IncidentEngine engine_;
  PendingCommit pending_;  // the batch being processed
  size_t last_handed_events_ = 0;  // events in the last batch handed to the committer

  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  bool commit_busy_ = false;  // GUARDED_BY(commit_mu_): in_flight_ belongs to the committer
  bool commit_stop_ = false;  // GUARDED_BY(commit_mu_)
  bool commit_deferred_ = false;  // GUARDED_BY(commit_mu_): pending_ holds a deferred batch
  PendingCommit in_flight_;
  std::thread committer_;
  verdicts::Verdict verdict_;  // reused per event, keeps its strings' capacity
};

}  // namespace vigil
