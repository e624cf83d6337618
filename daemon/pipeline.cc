#include "daemon/pipeline.h"

#include <pthread.h>

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

#include "daemon/incidents/open_context.h"

namespace vigil {

Pipeline::Pipeline(PipelineOptions options, std::shared_ptr<const rules::RuleSet> rules,
                   store::Store& store, metrics::PipelineMetrics& metrics)
    : options_(options),
      store_(store),
      metrics_(metrics),
      rules_(std::move(rules)),
      cmdb_(cmdb::CiSnapshot::empty()),
      queue_(options.queue_capacity_events, options.queue_capacity_bytes) {}

Pipeline::~Pipeline() { stop(); }

Status Pipeline::start() {
  if (Status s = store_.restoreInto(engine_); !s.isOk()) return s;
  for (auto* component : components_) {
    if (Status s = component->restore(store_); !s.isOk()) return s;
  }
  if (!components_.empty()) {
    engine_.setOpenHook([this](incidents::Incident& in) {
      for (auto* component : components_) component->onOpened(in);
    });
  }
  metrics_.active_incidents.Set(static_cast<double>(engine_.activeCount()));
  metrics_.ready.Set(1);
  trackActiveByCi(*cmdb(), incidents::ChangeSet{});
  updateServiceHealth(cmdb());
  metrics_.assurance.recount(engine_);
  spdlog::info("pipeline: restored {} active incidents", engine_.activeCount());
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Pipeline::stop() {
  stopping_ = true;
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

bool Pipeline::offer(connectors::EventBatch& batch) {
  return offer(batch, event_ids_ && !batch.events.empty() ? event_ids_->reserve(batch.events.size()) : 0);
}

bool Pipeline::offer(connectors::EventBatch& batch, uint64_t first_event_id) {
  if (intake_) return intake_->offer(batch);
  WorkItem item;
  item.first_event_id = first_event_id;
  item.batch = std::move(batch);
  item.marks.queued = Clock::now();
  const size_t weight = std::max<size_t>(1, item.batch.events.size());
  if (queue_.tryPush(item, weight, approxMemoryBytes(item.batch.events))) return true;
  batch = std::move(item.batch);  // refused: hand it back untouched
  return false;
}

bool Pipeline::push(connectors::EventBatch batch) {
  if (intake_) return intake_->push(std::move(batch));
  const size_t weight = std::max<size_t>(1, batch.events.size());
  const size_t bytes = approxMemoryBytes(batch.events);
  WorkItem item;
  if (event_ids_ && !batch.events.empty()) item.first_event_id = event_ids_->reserve(batch.events.size());
  item.batch = std::move(batch);
  item.marks.queued = Clock::now();
  return queue_.push(std::move(item), weight, bytes);
}

bool Pipeline::submitTask(std::function<void(incidents::IncidentEngine&)> task) {
  WorkItem item;
  item.task = std::move(task);
  return queue_.push(std::move(item), 1);
}

Status Pipeline::loadPartition(uint16_t partition) {
  forgetPartition(partition);
  if (Status s = store_.restorePartitionInto(engine_, partition); !s.isOk()) return s;
  for (auto* component : components_) {
    if (Status s = component->loadPartition(store_, partition); !s.isOk()) return s;
  }
  return Status::ok();
}

void Pipeline::forgetPartition(uint16_t partition) {
  engine_.dropPartition(partition);
  for (auto* component : components_) component->forgetPartition(partition);
}

bool Pipeline::submit(incidents::IncidentCommand command, CommandCallback done) {
  WorkItem item;
  item.command = std::move(command);
  item.command_done = std::move(done);
  return queue_.tryPush(item, 1);
}

void Pipeline::setRules(std::shared_ptr<const rules::RuleSet> rules) {
  std::lock_guard lock(rules_mu_);
  rules_ = std::move(rules);
}

std::shared_ptr<const rules::RuleSet> Pipeline::rules() const {
  std::lock_guard lock(rules_mu_);
  return rules_;
}

void Pipeline::setCmdb(std::shared_ptr<const cmdb::CiSnapshot> cmdb) {
  std::lock_guard lock(rules_mu_);
  cmdb_ = cmdb ? std::move(cmdb) : cmdb::CiSnapshot::empty();
}

std::shared_ptr<const cmdb::CiSnapshot> Pipeline::cmdb() const {
  std::lock_guard lock(rules_mu_);
  return cmdb_;
}

std::shared_ptr<const ServiceHealthView> Pipeline::serviceHealth() const {
  std::lock_guard lock(rules_mu_);
  return health_;
}

const cmdb::ConfigurationItem* Pipeline::bind(Event& event, const cmdb::Binding& binding) {
  if (binding.ci == nullptr) {
    unbound_.record(event);
    return nullptr;
  }
  event.ci = binding.ci->id;
  return binding.ci;
}

incidents::ApplyOutcome Pipeline::applyWithHooks(const Event& event, const cmdb::CiSnapshot& cmdb,
                                                 const rules::Decision& decision,
                                                 const incidents::OpenContext* context) {
  verdict_.reset();
  auto outcome = incidents::ApplyOutcome::kIgnored;
  bool held = false;
  for (auto* hook : event_hooks_) {
    if ((held = hook->intercept(event, cmdb, decision, engine_, verdict_))) break;
  }
  if (!held) {
    const incidents::Incident* existing =
        decision.action == rules::Action::kNone ? nullptr : engine_.findActive(event.partition, decision.key);
    const incidents::IncidentId existing_id = existing ? existing->id : 0;
    outcome = engine_.apply(event, decision, context);
    classifyOutcome(event, decision, outcome, existing_id, engine_, verdict_);
  }
  for (auto* hook : event_hooks_) hook->onVerdict(event, verdict_);
  return outcome;
}

void Pipeline::trackActiveByCi(const cmdb::CiSnapshot& cmdb, const incidents::ChangeSet& changes) {
  if (cmdb.services().empty()) {
    active_by_ci_.clear();  // not kept while nothing reads it
  } else {
    active_by_ci_.update(engine_, changes);
  }
}

void Pipeline::updateServiceHealth(const std::shared_ptr<const cmdb::CiSnapshot>& cmdb) {
  if (cmdb->services().empty()) {
    metrics_.assurance.setHealth({}, std::chrono::steady_clock::now());
    return;
  }
  auto view = std::make_shared<ServiceHealthView>();
  view->cmdb = cmdb;
  view->services = cmdb::computeServiceHealth(
      *cmdb, [this](const cmdb::ConfigurationItem& ci) { return active_by_ci_.worst(ci.id); });
  metrics_.assurance.setHealth(view->services, std::chrono::steady_clock::now());
  std::lock_guard lock(rules_mu_);
  health_ = std::move(view);
}

void Pipeline::run() {
  pthread_setname_np(pthread_self(), "vigil-correlat");  // for top -H and perf (15 chars at most)
  startCommitter();
  std::vector<WorkItem> work;
  // The timeout bounds how long a quiet pipeline sleeps: an idle round still runs the timers.
  while (queue_.popBatch(work, groupLimit(), options_.tick_interval)) {
    if (options_.heartbeat && ready_) options_.heartbeat();
    metrics_.assurance.advance(std::chrono::steady_clock::now());  // down/degraded time keeps counting
    metrics_.queue_depth.Set(static_cast<double>(queue_.weight()));
    markStage(work, &metrics::StageMarks::popped);
    processWithTasks(work);
    work.clear();
    flushDeferred(/*wait=*/false);  // the committer became free (it interrupts the pop)
  }
  flushDeferred(/*wait=*/true);
  stopCommitter();
}

// Slow start: a backlog (a start, a replay, a burst after a quiet spell) taken as one group of
// max_batch_events would keep the committer idle while it is processed and the correlator idle
// while it is committed. So a group takes at most max_batch_events / 16 more events than the last
// batch handed over, and while a processed batch waits for the busy committer only
// max_batch_events / 16, so that it is handed over soon after the committer is free, not after
// a whole group. Under steady load the batches still grow to max_batch_events.
size_t Pipeline::groupLimit() const {
  const size_t step = std::max<size_t>(1, options_.max_batch_events / 16);
  if (pending_.events > 0) return step;
  return std::min(last_handed_events_ + step, options_.max_batch_events);
}

void Pipeline::processWithTasks(std::vector<WorkItem>& work) {
  const bool has_task = std::any_of(work.begin(), work.end(), [](const WorkItem& w) { return bool(w.task); });
  if (!has_task) {
    if (!work.empty() || !components_.empty()) process(work);
    return;
  }
  std::vector<WorkItem> run;
  for (auto& item : work) {
    if (!item.task) {
      run.push_back(std::move(item));
      continue;
    }
    if (!run.empty()) process(run);
    run.clear();
    flushDeferred(/*wait=*/true);
    awaitCommitted();  // the task sees the store with every batch before it
    item.task(engine_);
    metrics_.active_incidents.Set(static_cast<double>(engine_.activeCount()));
  }
  if (!run.empty()) process(run);
}

void Pipeline::applyCommand(WorkItem& item, TimePoint now) {
  std::optional<incidents::Incident> stored;
  if (!engine_.isActive(item.command->id)) {
    // Resolved and closed incidents live only in the store; reading it here is the one writer
    // reading its own committed state, once the batch in flight has landed.
    awaitCommitted();
    auto read = store_.getIncident(item.command->id);
    if (!read) {
      item.command_result = fail(read.error());
      return;
    }
    stored = std::move(*read);
  }
  item.command_result = engine_.command(*item.command, now, std::move(stored));
}

void Pipeline::process(std::vector<WorkItem>& work) {
  const auto rules = this->rules();
  const auto cmdb = this->cmdb();
  rules::Decision decision;
  incidents::OpenContext context;
  auto& positions = pending_.positions;
  size_t events = 0;
  const TimePoint now = options_.clock();
  for (auto* component : components_) component->onRules(rules);
  for (auto* component : components_) component->onCmdb(cmdb);
  for (auto* component : components_) component->onTick(now, engine_);
  for (auto& item : work) {
    if (item.command) {
      applyCommand(item, now);
      continue;
    }
    auto& batch = item.batch;
    // Positions first: a batch of only undecodable messages still moves its source forward.
    for (auto& p : batch.positions) positions.push_back(std::move(p));
    if (batch.events.empty()) continue;
    // Batches come from one source each; count once per batch, not per event.
    auto& counters = metrics_.source(batch.events.front().source);
    counters.received.Increment(static_cast<double>(batch.events.size()));
    // The whole batch at once: the index's cache misses of many events overlap.
    if (bindings_.size() < batch.events.size()) bindings_.resize(batch.events.size());
    cmdb->bindAll(batch.events, bindings_);
    // Counted per batch, as each Increment is an atomic read-modify-write.
    std::array<uint64_t, cmdb::kMatchKindCount> by_match{};
    std::array<uint64_t, incidents::kApplyOutcomeCount> by_outcome{};
    uint64_t next_id = item.first_event_id;
    for (size_t i = 0; i < batch.events.size(); ++i) {
      Event& event = batch.events[i];
      const uint64_t id = next_id != 0 ? next_id++ : 0;
      for (auto* hook : event_hooks_) hook->onIntake(event, id);
      ++by_match[static_cast<size_t>(bindings_[i].kind)];
      // The next event's CI: bindAll found it, but a batch's CIs do not stay in the cache until
      // their event comes, and the first read of one (its id, by bind) was a miss.
      // Its message likewise: the reader thread wrote it, and the rules' first read of it missed.
      if (i + 1 < batch.events.size()) {
        if (bindings_[i + 1].ci != nullptr) {
          __builtin_prefetch(bindings_[i + 1].ci);
          __builtin_prefetch(reinterpret_cast<const char*>(bindings_[i + 1].ci) + 64);
        }
        const char* message = batch.events[i + 1].message.data();
        __builtin_prefetch(message);
        __builtin_prefetch(message + 64);
      }
      const cmdb::ConfigurationItem* ci = bind(event, bindings_[i]);
      for (auto* hook : event_hooks_) hook->beforeRules(event, ci);
      rules->evaluate(event, ci, decision);
      for (auto* component : components_) component->onEvent(event, decision, engine_);
      const bool has_context =
          incidents::buildOpenContext(event, ci, decision, *cmdb, engine_, options_.symptom_window, context);
      const auto outcome = event_hooks_.empty()
                               ? engine_.apply(event, decision, has_context ? &context : nullptr)
                               : applyWithHooks(event, *cmdb, decision, has_context ? &context : nullptr);
      for (auto* hook : event_hooks_) hook->afterIncidentStep(event, *rules, decision, outcome);
      ++by_outcome[static_cast<size_t>(outcome)];
    }
    for (size_t k = 0; k < by_match.size(); ++k) {
      if (by_match[k] == 0) continue;
      counters.binding(cmdb::matchKindName(static_cast<cmdb::MatchKind>(k))).Increment(static_cast<double>(by_match[k]));
    }
    for (size_t o = 0; o < by_outcome.size(); ++o) {
      if (by_outcome[o] == 0) continue;
      counters.outcome(static_cast<incidents::ApplyOutcome>(o)).Increment(static_cast<double>(by_outcome[o]));
    }
    events += batch.events.size();
  }

  pending_.events += events;
  markStage(work, &metrics::StageMarks::processed);
  if (pending_.work.empty()) {
    pending_.work.swap(work);  // work gets the emptied vector of an earlier batch
  } else {
    for (auto& item : work) pending_.work.push_back(std::move(item));
    work.clear();
  }
  if (!deferCommit()) commitProcessed();
}

void Pipeline::commitProcessed() {
  const auto cmdb = this->cmdb();
  auto& changes = pending_.changes;
  engine_.takeChanges(changes);
  trackActiveByCi(*cmdb, changes);
  for (auto* component : components_) component->onChanges(changes);
  for (auto* component : components_) component->collectStateOps(changes.state_ops);
  if (changes.empty() && pending_.positions.empty() && pending_.work.empty()) return;  // an idle tick with nothing due

  // Health and gauges from the engine as this batch left it, before the next batch changes it:
  // published ahead of the commit, so whoever hears "committed" sees them too.
  if (!changes.changes.empty() || !health_ || health_->cmdb != cmdb) {
    updateServiceHealth(cmdb);
    metrics_.assurance.recount(engine_, changes);
  }
  pending_.active_incidents = engine_.activeCount();
  handOffPending();
}

// A failed commit is retried until it succeeds (disk full, I/O error): the sources are not
// acknowledged meanwhile, the queue fills and backpressure holds the senders. Only shutdown ends
// the retries, and then the sources hear the batch failed.
void Pipeline::commitWithRetry(incidents::ChangeSet& changes,
                               const std::vector<connectors::SourcePosition>& positions) {
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    Status s = store_.commit(changes, positions);
    if (s.isOk()) {
      metrics_.commit_seconds.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      if (!ready_.exchange(true)) {
        spdlog::info("store: commits succeed again");
        metrics_.ready.Set(1);
      }
      return;
    }
    metrics_.commit_failures.Increment();
    if (ready_.exchange(false)) {
      spdlog::error("store: commit failed, holding input until it succeeds: {}", s.toString());
      metrics_.ready.Set(0);
    }
    if (stopping_) {
      spdlog::error("store: giving up on an uncommitted batch at shutdown: {}", s.toString());
      return;
    }
    std::this_thread::sleep_for(options_.commit_retry_interval);
  }
}

}  // namespace vigil
