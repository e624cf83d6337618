// MaintenanceManager: the maintenance windows in force and what they hold back. An event whose
// rules decided to open an incident, with no incident open under its key, is held instead when
// an active window covers it (by the event's own time): it is recorded with the verdict
// "maintenance" and opens nothing. Updates and resolves of incidents that were already open
// pass through. When the window ends and the last event of a held key was a problem, the
// incident that was held opens then (labelled maintenance_window=ID).
//
// Windows come from config files (setConfigWindows, on start and SIGHUP) and from the API
// (submit). Both hand over to the correlator thread, which applies them at its next round: one
// writer. API windows and their audit trail live in the store (Column::kMaintenance, partition 0):
//   "w/" id                  → {"definition": {...}, "created_at", "updated_at", "ended_at", "ended_by"}
//   "a/" id "/" u64 BE seq   → {"seq", "at", "actor", "action": created|changed|ended, "definition"}
//   "h" u16 BE partition key → a held key: its last event, the decision and the window; stored
//                             under that partition (not 0), so it moves with it in scale-out
//   "n"                      → {"next_id", "next_audit"}
// Thread-safety: the hook and component methods run on the correlator thread; submit(),
// setConfigWindows(), windows(), find() and the static readers are safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/event_hook.h"
#include "daemon/maintenance/window.h"
#include "daemon/pipeline.h"
#include "daemon/store/store.h"

namespace vigil::maintenance {

using WindowPtr = std::shared_ptr<const MaintenanceWindow>;

struct MaintenanceCommand {
  enum class Verb : uint8_t { kCreate, kReplace, kEnd };
  Verb verb = Verb::kCreate;
  std::string id;  // kReplace, kEnd
  std::optional<MaintenanceWindow> window;  // kCreate, kReplace: the parsed definition
  std::string actor;
  // Set on the correlator thread when the command was applied (read it after the commit).
  std::optional<Result<MaintenanceWindow>> result;
};

class MaintenanceManager final : public EventHook, public CorrelatorComponent {
 public:
  // `symptom_window`: as the pipeline's, for the incidents that open when a window ends.
  MaintenanceManager(std::function<TimePoint()> clock, std::chrono::milliseconds symptom_window);

  // Any thread: the config's windows replace the previous config windows at the next round.
  void setConfigWindows(std::vector<WindowPtr> windows);
  // Any thread: queued for the correlator's next round. Read command->result once a pipeline
  // batch offered after this call has committed.
  void submit(std::shared_ptr<MaintenanceCommand> command);

  // Any thread: the windows as of the last round (config and API, ended API ones included).
  std::vector<WindowPtr> windows() const;
  WindowPtr find(std::string_view id) const;
  TimePoint now() const { return clock_(); }

  // The audit trail of a window, oldest first (committed state; any thread).
  static Result<std::vector<nlohmann::json>> audit(const store::Store& store, std::string_view id);
  // Which CIs `window` covers in `cmdb` (matcher scopes tried on each CI's id and host aliases).
  static std::vector<std::string> preview(const MaintenanceWindow& window, const cmdb::CiSnapshot& cmdb);

  // EventHook
  bool intercept(const Event& event, const cmdb::CiSnapshot& cmdb, const rules::Decision& decision,
                 const incidents::IncidentEngine& engine, verdicts::Verdict& verdict) override;
  // CorrelatorComponent
  Status restore(const store::Store& store) override;
  void onTick(TimePoint now, incidents::IncidentEngine& engine) override;
  void onCmdb(const std::shared_ptr<const cmdb::CiSnapshot>& cmdb) override { cmdb_ = cmdb; }
  void collectStateOps(std::vector<store::StateOp>& out) override;
  Status loadPartition(const store::Store& store, uint16_t partition) override;
  void forgetPartition(uint16_t partition) override;

 private:
  // A window as the correlator evaluates it, with caches.
  struct Live {
    WindowPtr window;
    uint64_t cmdb_generation = ~uint64_t{0};
    std::unordered_set<std::string> cis;
    TimePoint span_from = TimePoint::max(), span_to = TimePoint::min();  // `active` holds in [from, to)
    bool active = false;
    bool activeAt(TimePoint t);
  };
  struct Held {
    Event event;  // the last event of the key during the window
    std::string title;
    std::string rule;
    std::string window;
    bool problem = true;
    bool dirty = true;
  };
  using HeldKey = std::pair<uint16_t, std::string>;

  // Loads the held-key records stored under one partition.
  Status loadHeld(const store::Store& store, uint16_t stored_under);
  const Live* covering(const Event& event, const cmdb::CiSnapshot& cmdb);
  void applyCommand(MaintenanceCommand& command, TimePoint now);
  void rebuild();
  void persistWindow(const MaintenanceWindow& w);
  void appendAudit(const MaintenanceWindow& w, const std::string& actor, const char* action, TimePoint now);
  void persistCounters();

  std::function<TimePoint()> clock_;
  const std::chrono::milliseconds symptom_window_;

  mutable std::mutex mu_;
  std::optional<std::vector<WindowPtr>> incoming_config_;          // GUARDED_BY(mu_)
  std::vector<std::shared_ptr<MaintenanceCommand>> inbox_;          // GUARDED_BY(mu_)
  std::vector<WindowPtr> published_;                               // GUARDED_BY(mu_)

  // Correlator-thread state.
  std::shared_ptr<const cmdb::CiSnapshot> cmdb_;  // the current batch's
  std::vector<WindowPtr> config_windows_;
  std::map<std::string, WindowPtr> api_windows_;
  std::vector<Live> live_;  // windows not ended
  std::map<HeldKey, Held> held_;
  std::vector<HeldKey> released_;
  std::vector<store::StateOp> pending_;
  uint64_t next_id_ = 1;
  uint64_t next_audit_ = 1;
};

}  // namespace vigil::maintenance
