#include "rules/correlation.h"

namespace vigil::rules {

std::string_view primitiveName(Primitive primitive) {
  switch (primitive) {
    case Primitive::kNone: return "none";
    case Primitive::kThreshold: return "threshold";
    case Primitive::kPair: return "pair";
    case Primitive::kFlapping: return "flapping";
    case Primitive::kGroup: return "group";
    case Primitive::kHeartbeat: return "heartbeat";
  }
  return "none";
}

std::string_view timeoutActionName(TimeoutAction action) {
  switch (action) {
    case TimeoutAction::kResolve: return "resolve";
    case TimeoutAction::kStale: return "stale";
    case TimeoutAction::kEscalate: return "escalate";
  }
  return "resolve";
}

std::string formatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  const std::pair<int64_t, const char*> units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (const auto& [size, name] : units) {
    if (s >= size) {
      out += std::to_string(s / size) + name;
      s %= size;
    }
  }
  return out;
}

void describeCorrelation(Correlation& c) {
  const CorrelationSpec& s = c.spec;
  switch (s.primitive) {
    case Primitive::kNone: c.description.clear(); break;
    case Primitive::kThreshold:
      c.description = "threshold " + std::to_string(s.count) + " in " + formatDuration(s.window);
      break;
    case Primitive::kPair:
      c.description = "pair timeout " + formatDuration(s.timeout) + " then " +
                      std::string(timeoutActionName(s.on_timeout));
      break;
    case Primitive::kFlapping:
      c.description = "flapping " + std::to_string(s.changes) + " changes in " + formatDuration(s.window) +
                      ", quiet " + formatDuration(s.quiet);
      break;
    case Primitive::kGroup:
      c.description = "group by " + (s.group_by ? s.group_by->text : std::string()) + " in " +
                      formatDuration(s.window);
      break;
    case Primitive::kHeartbeat: c.description = "heartbeat every " + formatDuration(s.every); break;
  }
  // The hash covers what the state means; lifecycle hooks keep no per-key window state.
  uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : c.description) h = (h ^ ch) * 1099511628211ull;
  c.spec_hash = h;
}

}  // namespace vigil::rules
