// IncidentEngine: the live incident state — which key has which active incident — and the
// lifecycle steps the rules' decisions drive (open, update, resolve).
// Thread-safety: owned by the correlator thread; not thread-safe. Nothing here touches the store:
// changes accumulate until takeChanges(), and the pipeline commits them in one batch.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/event.h"
#include "daemon/incidents/incident.h"
#include "daemon/incidents/key_index.h"
#include "daemon/status.h"
#include "daemon/store/state_op.h"
#include "rules/decision.h"

namespace vigil::incidents {

enum class ChangeKind : uint8_t { kOpened, kUpdated, kAcknowledged, kResolved, kClosed, kReopened };
inline constexpr ChangeKind kLastChangeKind = ChangeKind::kReopened;
std::string_view changeKindName(ChangeKind kind);

// Sets (id present) or removes (no id) the key → active incident index entry.
struct KeyOp {
  uint16_t partition;
  std::string key;
  std::optional<IncidentId> id;
};

struct IncidentChange {
  ChangeKind kind;
  IncidentId id;
  Severity severity;  // at the time of the change
  uint64_t seq = 0;   // position in the store's change log, assigned at commit
  uint8_t priority = 5;  // at the time of the change
};

// Everything one pipeline batch changed, ready to commit. Incidents appear once each, in their
// final state, however many events touched them: the store writes once per incident per batch.
// They are shared with the engine, not copied: the engine copies an incident only when it changes
// it again while a batch still holds it (see IncidentEngine::own).
struct ChangeSet {
  std::vector<std::shared_ptr<const Incident>> incidents;
  std::vector<IncidentChange> changes;
  std::vector<KeyOp> key_ops;  // in order: a key may be put and deleted within one batch
  std::vector<std::pair<uint16_t, uint64_t>> next_sequences;              // (partition, next)
  std::vector<store::StateOp> state_ops;  // other keyed state changed by the batch, in order


  bool empty() const { return incidents.empty() && state_ops.empty(); }
  void clear();
};

// What a person (through the API or vigilctl) does to an incident.
struct IncidentCommand {
  enum class Verb : uint8_t { kAcknowledge, kResolve, kClose, kReopen, kAssign, kComment, kSetSeverity, kSetPriority };
  Verb verb = Verb::kComment;
  IncidentId id = 0;
  std::string actor;     // who: a user or token name
  std::string text;      // comment, or the note that goes with a transition
  std::optional<std::string> group;     // kAssign
  std::optional<std::string> assignee;  // kAssign
  Severity severity = Severity::kInfo;  // kSetSeverity
  uint8_t priority = 5;                 // kSetPriority
};
std::string_view verbName(IncidentCommand::Verb verb);

enum class ApplyOutcome : uint8_t { kIgnored, kDropped, kOpened, kUpdated, kResolved, kUnmatchedResolve, kSymptom, kHeld };
inline constexpr size_t kApplyOutcomeCount = static_cast<size_t>(ApplyOutcome::kHeld) + 1;

// What the CMDB adds to an incident when it opens.
struct OpenContext {
  std::vector<std::string> services;       // business services it affects
  std::string assignment_group;            // the CI's owner group
  std::optional<IncidentId> parent;        // an active incident on a CI this one depends on
};

class IncidentEngine {
 public:
  // Startup: seed with the store's active incidents and per-partition id sequences.
  void restore(Incident incident);
  void setNextSequence(uint16_t partition, uint64_t next);
  // Scale-out: forgets a partition that moved to another instance (between batches only).
  void dropPartition(uint16_t partition);

  // `context` (may be null) is used only when the decision opens a new incident.
  ApplyOutcome apply(const Event& event, const rules::Decision& decision, const OpenContext* context = nullptr);

  // The earliest (lowest id) active incident on `ci` that is not itself a symptom (a candidate
  // parent). Only a CMDB with dependencies asks: the index it reads is built on the first call
  // and kept from then on, so without topology no open or resolve pays for it.
  std::optional<IncidentId> rootIncidentOn(const std::string& ci) const;
  const Incident* findById(IncidentId id) const;
  // Visits every active incident (for service health).
  template <typename F>
  void forEachActive(F&& f) const {
    for (const auto& [id, in] : active_) f(*in);
  }

  // Applies a person's command at `now`. An incident that is not active (resolved, closed) must
  // be passed in `stored` (read from the store by the caller). Errors: kNotFound, and
  // kFailedPrecondition for a transition its state does not allow (the API's 409).
  Result<Incident> command(const IncidentCommand& cmd, TimePoint now, std::optional<Incident> stored);
  bool isActive(IncidentId id) const { return active_.contains(id); }

  // Called on every incident that opens or is reopened, before its change is recorded, so a
  // component (SLA clocks) can set fields of its own on it.
  void setOpenHook(std::function<void(Incident&)> hook) { open_hook_ = std::move(hook); }
  // A component's change to an active incident (timers: SLA breach, escalation), recorded as an
  // update. False when the incident is not active.
  bool update(IncidentId id, const std::function<void(Incident&)>& change);

  // Moves every change since the last call into `out` (cleared first) and bumps revisions. The
  // pointers handed out during the batch (findActive, modifyActive, ...) stay valid until here.
  void takeChanges(ChangeSet& out);

  size_t activeCount() const { return active_.size(); }
  // Grows with every change to the active incidents that leaves no change record (restore,
  // dropPartition): a view kept in step through takeChanges() rebuilds when it moved.
  uint64_t unrecordedChanges() const { return unrecorded_changes_; }
  // The active incident under `key`, to change fields other than its key and state (the
  // correlator marks it flapping or stale, raises its severity); it is marked as updated, so
  // call this only when changing something. Null when there is none.
  Incident* modifyActive(uint16_t partition, const std::string& key);
  // Remembers its last answer (not thread-safe even though const, like the rest of the engine).
  const Incident* findActive(uint16_t partition, const std::string& key) const;

 private:
  using IncidentPtr = std::shared_ptr<Incident>;
  // The incident in `slot`, to change: copied first if a batch handed out by takeChanges() still
  // shares it (the committer reads it on its thread). The copy replaces it in the slot; the
  // original is kept until the next takeChanges(), so pointers to it stay valid for this batch.
  Incident& own(IncidentPtr& slot);

  // The last key looked up and its active incident (null: none). One event's steps (its open
  // context, the hooks, apply, its verdict, the correlator) ask for the same key several times;
  // each lookup hashed the key and searched two maps. Forgotten whenever the key index or the set
  // of active incidents changes.
  struct LastLookup {
    bool valid = false;
    uint16_t partition = 0;
    std::string key;
    IncidentPtr* slot = nullptr;  // in active_ (its nodes do not move)
  };
  IncidentPtr* lookupActive(uint16_t partition, const std::string& key) const;
  void remember(uint16_t partition, const std::string& key, IncidentPtr* slot) const;
  void forgetLookup() const { last_lookup_.valid = false; }
  mutable LastLookup last_lookup_;

  struct Partition {
    KeyIndex by_key;  // into active_
    uint64_t next_sequence = 1;
    bool sequence_dirty = false;
  };

  Incident& open(const Event& event, const rules::Decision& decision, Partition& partition,
                 const OpenContext* context);
  void markDirty(const Incident& incident, ChangeKind kind);
  static void addSample(Incident& incident, const Event& event);
  // Adds the labels of the decision's `annotate:` to the incident.
  static void annotate(Incident& incident, const rules::Decision& decision);
  void deactivate(Incident& incident);
  // Keep roots_by_ci_ (once built) and symptoms_ in step with which incidents are active.
  void track(const Incident& incident);
  void untrack(const Incident& incident);

  std::unordered_map<uint16_t, Partition> partitions_;
  std::unordered_map<IncidentId, IncidentPtr> active_;
  std::unordered_map<IncidentId, IncidentPtr> retired_;  // changed in this batch, no longer active
  std::vector<IncidentPtr> superseded_;  // replaced by copies in this batch (own)
  std::vector<IncidentId> dirty_order_;
  std::unordered_map<IncidentId, size_t> last_change_;  // dirty id → its last entry in changes_
  std::vector<IncidentChange> changes_;
  std::vector<KeyOp> key_ops_;
  // Incidents whose key put is in key_ops_ (opened or reopened in this batch) → its position:
  // if one stops being active in the same batch, its put and delete cancel out (the key had no
  // active incident before the put), so neither is written.
  std::unordered_map<IncidentId, size_t> key_put_in_batch_;
  std::vector<size_t> cancelled_key_ops_;  // positions in key_ops_ to leave out
  void putKey(uint16_t partition, const std::string& key, IncidentId id);
  // Active, parent-less incidents by CI, each list sorted by id; built by the first rootIncidentOn.
  mutable std::unordered_map<std::string, std::vector<IncidentId>> roots_by_ci_;
  mutable bool roots_indexed_ = false;
  std::unordered_map<IncidentId, std::vector<IncidentId>> symptoms_;      // parent → active symptoms
  std::function<void(Incident&)> open_hook_;
  uint64_t unrecorded_changes_ = 0;
};

}  // namespace vigil::incidents
