#include "daemon/maintenance/maintenance.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/binary_codec.h"
#include "daemon/event_json.h"
#include "daemon/incidents/open_context.h"
#include "daemon/time_util.h"
#include "daemon/yaml_util.h"

namespace vigil::maintenance {

namespace {

using nlohmann::json;
using store::Column;
using store::StateOp;

std::string heldKey(uint16_t partition, const std::string& key) {
  std::string k = "h";
  k.push_back(static_cast<char>(partition >> 8));
  k.push_back(static_cast<char>(partition & 0xff));
  k += key;
  return k;
}

json timeOrNull(const std::optional<TimePoint>& t) { return t ? json(formatRfc3339(*t)) : json(nullptr); }

// Reads a stored API window back; nullopt (logged) when it no longer parses.
std::optional<MaintenanceWindow> readStoredWindow(std::string_view value) {
  const json j = json::parse(value, nullptr, false);
  if (!j.is_object() || !j.contains("definition")) return std::nullopt;
  auto node = loadYamlString(j["definition"].dump(), "store");
  if (!node) return std::nullopt;
  ConfigErrors errors;
  auto w = parseWindow(*node, "store", "api", true, errors);
  if (!w) {
    spdlog::error("maintenance: stored window does not parse: {}", errors.status().message());
    return std::nullopt;
  }
  auto time = [&](const char* key) -> std::optional<TimePoint> {
    return j.contains(key) && j[key].is_string() ? parseRfc3339(j[key].get<std::string>()) : std::nullopt;
  };
  w->created_at = time("created_at").value_or(TimePoint{});
  w->updated_at = time("updated_at").value_or(TimePoint{});
  w->ended_at = time("ended_at");
  if (j.contains("ended_by") && j["ended_by"].is_string()) w->ended_by = j["ended_by"].get<std::string>();
  return w;
}

}  // namespace

bool MaintenanceManager::Live::activeAt(TimePoint t) {
  if (t >= span_from && t < span_to) return active;
  const auto position = window->schedule.at(t);
  if (position.covering) {
    span_from = position.covering->start;
    span_to = position.covering->end;
    active = true;
  } else {
    span_from = t;
    span_to = position.next_start.value_or(TimePoint::max());
    active = false;
  }
  return active;
}

MaintenanceManager::MaintenanceManager(std::function<TimePoint()> clock, std::chrono::milliseconds symptom_window)
    : clock_(std::move(clock)), symptom_window_(symptom_window) {}

void MaintenanceManager::setConfigWindows(std::vector<WindowPtr> windows) {
  std::lock_guard lock(mu_);
  incoming_config_ = std::move(windows);
}

void MaintenanceManager::submit(std::shared_ptr<MaintenanceCommand> command) {
  std::lock_guard lock(mu_);
  inbox_.push_back(std::move(command));
}

std::vector<WindowPtr> MaintenanceManager::windows() const {
  std::lock_guard lock(mu_);
  return published_;
}

WindowPtr MaintenanceManager::find(std::string_view id) const {
  std::lock_guard lock(mu_);
  for (const auto& w : published_) {
    if (w->id == id) return w;
  }
  return nullptr;
}

Status MaintenanceManager::restore(const store::Store& store) {
  Status s = store.scan(Column::kMaintenance, 0, "w/", [&](std::string_view, std::string_view value) {
    if (auto w = readStoredWindow(value)) {
      const std::string id = w->id;
      api_windows_[id] = std::make_shared<const MaintenanceWindow>(std::move(*w));
    }
    return true;
  });
  if (!s.isOk()) return s;
  auto counters = store.get(Column::kMaintenance, 0, "n");
  if (!counters) return counters.error();
  if (*counters) {
    const json j = json::parse(**counters, nullptr, false);
    if (j.is_object()) {
      next_id_ = j.value("next_id", uint64_t{1});
      next_audit_ = j.value("next_audit", uint64_t{1});
    }
  }
  // Held keys live under their own partition (they move with it in scale-out); older stores kept
  // them all under partition 0: those are rewritten in place at the next commit.
  auto partitions = store.partitionsWithState();
  if (!partitions) return partitions.error();
  if (s = loadHeld(store, 0); !s.isOk()) return s;
  for (uint16_t partition : *partitions) {
    if (partition == 0) continue;
    if (s = loadHeld(store, partition); !s.isOk()) return s;
  }
  {
    std::lock_guard lock(mu_);  // the config's windows count from the first event on
    if (incoming_config_) config_windows_ = std::move(*incoming_config_);
    incoming_config_.reset();
  }
  rebuild();
  spdlog::info("maintenance: restored {} API windows, {} held keys", api_windows_.size(), held_.size());
  return Status::ok();
}

void MaintenanceManager::rebuild() {
  std::vector<WindowPtr> all = config_windows_;
  for (const auto& [id, w] : api_windows_) all.push_back(w);
  std::vector<Live> live;
  for (const auto& w : all) {
    if (w->ended_at) continue;
    // Keep the caches of windows that did not change.
    auto old = std::find_if(live_.begin(), live_.end(), [&](const Live& l) { return l.window == w; });
    live.push_back(old != live_.end() ? std::move(*old) : Live{.window = w});
  }
  live_ = std::move(live);
  std::lock_guard lock(mu_);
  published_ = std::move(all);
}

const MaintenanceManager::Live* MaintenanceManager::covering(const Event& event, const cmdb::CiSnapshot& cmdb) {
  const TimePoint t = event.time();
  for (auto& live : live_) {
    if (!live.activeAt(t)) continue;
    if (live.cmdb_generation != cmdb.generation()) {
      live.cis = live.window->coveredCis(cmdb);
      live.cmdb_generation = cmdb.generation();
    }
    if ((!event.ci.empty() && live.cis.contains(event.ci)) || live.window->matcherCovers(event)) return &live;
  }
  return nullptr;
}

bool MaintenanceManager::intercept(const Event& event, const cmdb::CiSnapshot& cmdb, const rules::Decision& decision,
                                   const incidents::IncidentEngine& engine, verdicts::Verdict& verdict) {
  if (live_.empty() && held_.empty()) return false;
  if (decision.action != rules::Action::kOpen && decision.action != rules::Action::kResolve) return false;
  // An incident open before the window keeps receiving its updates and its clear.
  if (engine.findActive(event.partition, decision.key) != nullptr) return false;
  HeldKey key{event.partition, decision.key};
  auto it = held_.find(key);
  const Live* live = covering(event, cmdb);
  if (decision.action == rules::Action::kResolve) {
    if (it == held_.end()) return false;
    it->second.problem = false;
    it->second.event = event;
    it->second.dirty = true;
    verdict.reason = verdicts::Reason::kMaintenance;
    verdict.window = it->second.window;
    verdict.detail = "cleared during the window: nothing will open when it ends";
  } else {
    if (live == nullptr) return false;
    if (it == held_.end()) it = held_.emplace(std::move(key), Held{}).first;
    Held& held = it->second;
    held.event = event;
    held.event.occurred_at = event.time();  // kept across a restart, whatever the source gave
    held.title = decision.title;
    held.rule = decision.rule;
    held.window = live->window->id;
    held.problem = true;
    held.dirty = true;
    verdict.reason = verdicts::Reason::kMaintenance;
    verdict.window = held.window;
    verdict.detail = "held: opens when the window ends if the problem is still there";
  }
  verdict.rule = decision.rule;
  verdict.key = decision.key;
  return true;
}

void MaintenanceManager::onTick(TimePoint now, incidents::IncidentEngine& engine) {
  std::vector<std::shared_ptr<MaintenanceCommand>> commands;
  std::optional<std::vector<WindowPtr>> config;
  {
    std::lock_guard lock(mu_);
    commands.swap(inbox_);
    config.swap(incoming_config_);
  }
  if (config) config_windows_ = std::move(*config);
  for (auto& command : commands) applyCommand(*command, now);
  if (config || !commands.empty()) rebuild();

  // Release held keys whose window is over (ended, removed, or past its occurrence).
  for (auto it = held_.begin(); it != held_.end();) {
    auto live = std::find_if(live_.begin(), live_.end(), [&](const Live& l) { return l.window->id == it->second.window; });
    if (live != live_.end() && live->activeAt(now)) {
      ++it;
      continue;
    }
    Held& held = it->second;
    if (held.problem) {
      rules::Decision decision;
      decision.action = rules::Action::kOpen;
      decision.key = it->first.second;
      decision.title = held.title;
      decision.rule = held.rule;
      held.event.labels.set("maintenance_window", held.window);
      // The incident opens as it would have without the window: with the CMDB's context.
      incidents::OpenContext context;
      const bool has_context =
          cmdb_ && incidents::buildOpenContext(held.event, cmdb_->find(held.event.ci), decision, *cmdb_, engine,
                                               symptom_window_, context);
      engine.apply(held.event, decision, has_context ? &context : nullptr);
      spdlog::info("maintenance: window {} ended with '{}' still failing: incident opened", held.window, decision.key);
    }
    pending_.push_back(StateOp::erase(Column::kMaintenance, it->first.first, heldKey(it->first.first, it->first.second)));
    it = held_.erase(it);
  }
}

Status MaintenanceManager::loadHeld(const store::Store& store, uint16_t stored_under) {
  return store.scan(Column::kMaintenance, stored_under, "h", [&](std::string_view key, std::string_view value) {
    if (key.size() < 3) return true;
    const json j = json::parse(value, nullptr, false);
    if (!j.is_object()) return true;
    EventDecoder decoder;
    std::vector<Event> events;
    if (!decoder.decode(j.value("event", "{}"), "maintenance", Clock::now(), events).isOk() || events.size() != 1) {
      return true;
    }
    const auto partition = static_cast<uint16_t>((static_cast<uint8_t>(key[1]) << 8) | static_cast<uint8_t>(key[2]));
    const bool misplaced = partition != stored_under;  // an older store's layout
    Held held{.event = std::move(events.front()), .title = j.value("title", ""), .rule = j.value("rule", ""),
              .window = j.value("window", ""), .problem = j.value("problem", true), .dirty = misplaced};
    if (misplaced) pending_.push_back(StateOp::erase(Column::kMaintenance, stored_under, std::string(key)));
    held.event.partition = partition;
    held_.insert_or_assign(HeldKey{partition, std::string(key.substr(3))}, std::move(held));
    return true;
  });
}

Status MaintenanceManager::loadPartition(const store::Store& store, uint16_t partition) {
  forgetPartition(partition);
  return loadHeld(store, partition);
}

void MaintenanceManager::forgetPartition(uint16_t partition) {
  std::erase_if(held_, [&](const auto& held) { return held.first.first == partition; });
}

void MaintenanceManager::applyCommand(MaintenanceCommand& command, TimePoint now) {
  using Verb = MaintenanceCommand::Verb;
  if (command.verb == Verb::kCreate) {
    MaintenanceWindow w = std::move(*command.window);
    w.id = "mw-" + std::to_string(next_id_++);
    w.origin = "api";
    w.created_at = w.updated_at = now;
    auto stored = std::make_shared<const MaintenanceWindow>(std::move(w));
    api_windows_[stored->id] = stored;
    persistWindow(*stored);
    appendAudit(*stored, command.actor, "created", now);
    persistCounters();
    command.result = *stored;
    return;
  }
  auto it = api_windows_.find(command.id);
  if (it == api_windows_.end()) {
    const bool from_config = std::any_of(config_windows_.begin(), config_windows_.end(),
                                         [&](const WindowPtr& w) { return w->id == command.id; });
    command.result = fail(from_config ? Status::failedPrecondition("window '" + command.id +
                                                                   "' comes from a config file; change it there")
                                      : Status::notFound("no maintenance window '" + command.id + "'"));
    return;
  }
  if (it->second->ended_at) {
    command.result = fail(Status::failedPrecondition("window '" + command.id + "' has ended"));
    return;
  }
  MaintenanceWindow w = command.verb == Verb::kReplace ? std::move(*command.window) : *it->second;
  w.id = it->second->id;
  w.origin = "api";
  w.created_at = it->second->created_at;
  w.updated_at = now;
  if (command.verb == Verb::kEnd) {
    w.ended_at = now;
    w.ended_by = command.actor;
  }
  auto stored = std::make_shared<const MaintenanceWindow>(std::move(w));
  it->second = stored;
  persistWindow(*stored);
  appendAudit(*stored, command.actor, command.verb == Verb::kEnd ? "ended" : "changed", now);
  persistCounters();
  command.result = *stored;
}

void MaintenanceManager::persistWindow(const MaintenanceWindow& w) {
  json j = {{"definition", json::parse(definitionJson(w))},
            {"created_at", formatRfc3339(w.created_at)},
            {"updated_at", formatRfc3339(w.updated_at)},
            {"ended_at", timeOrNull(w.ended_at)},
            {"ended_by", w.ended_by.empty() ? json(nullptr) : json(w.ended_by)}};
  pending_.push_back(StateOp::put(Column::kMaintenance, 0, "w/" + w.id, j.dump()));
}

void MaintenanceManager::appendAudit(const MaintenanceWindow& w, const std::string& actor, const char* action,
                                     TimePoint now) {
  const uint64_t seq = next_audit_++;
  json j = {{"seq", seq}, {"at", formatRfc3339(now)}, {"actor", actor}, {"action", action},
            {"definition", json::parse(definitionJson(w))}};
  std::string key = "a/" + w.id + "/";
  appendBigEndian(key, seq, 8);
  pending_.push_back(StateOp::put(Column::kMaintenance, 0, std::move(key), j.dump()));
}

void MaintenanceManager::persistCounters() {
  pending_.push_back(StateOp::put(Column::kMaintenance, 0, "n",
                                  json{{"next_id", next_id_}, {"next_audit", next_audit_}}.dump()));
}

void MaintenanceManager::collectStateOps(std::vector<store::StateOp>& out) {
  for (auto& [key, held] : held_) {
    if (!held.dirty) continue;
    held.dirty = false;
    json j = {{"event", encodeEventJson(held.event)}, {"title", held.title},
              {"rule", held.rule}, {"window", held.window}, {"problem", held.problem}};
    pending_.push_back(StateOp::put(Column::kMaintenance, key.first, heldKey(key.first, key.second), j.dump()));
  }
  for (auto& op : pending_) out.push_back(std::move(op));
  pending_.clear();
}

Result<std::vector<json>> MaintenanceManager::audit(const store::Store& store, std::string_view id) {
  std::vector<json> entries;
  Status s = store.scan(Column::kMaintenance, 0, "a/" + std::string(id) + "/", [&](std::string_view, std::string_view value) {
    json j = json::parse(value, nullptr, false);
    if (j.is_object()) entries.push_back(std::move(j));
    return true;
  });
  if (!s.isOk()) return fail(s);
  return entries;
}

std::vector<std::string> MaintenanceManager::preview(const MaintenanceWindow& window, const cmdb::CiSnapshot& cmdb) {
  auto covered = window.coveredCis(cmdb);
  std::vector<std::string> out;
  for (const auto& ci : cmdb.items()) {
    bool in = covered.contains(ci.id);
    if (!in && window.hasMatcher()) {
      Event probe;
      probe.ci = ci.id;
      probe.host = ci.aliases.empty() ? ci.id : ci.aliases.front();
      in = window.matcherCovers(probe);
    }
    if (in) out.push_back(ci.id);
  }
  return out;
}

}  // namespace vigil::maintenance
