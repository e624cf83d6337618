#include "daemon/event.h"

#include <algorithm>

namespace vigil {

namespace {
constexpr std::string_view kSeverityNames[] = {"critical", "major", "minor", "warning", "info"};

size_t heapBytes(const std::string& s) {
  static const size_t kInline = std::string().capacity();  // short strings live in the object
  return s.capacity() > kInline ? s.capacity() + 1 : 0;
}
}  // namespace

size_t approxMemoryBytes(std::span<const Event> events) {
  size_t bytes = events.size() * sizeof(Event);
  for (const Event& e : events) {
    bytes += heapBytes(e.source) + heapBytes(e.host) + heapBytes(e.ci) + heapBytes(e.type) + heapBytes(e.message);
    if (!e.labels.empty()) {
      bytes += e.labels.size() * sizeof(Labels::Entry);
      for (const auto& [k, v] : e.labels) bytes += heapBytes(k) + heapBytes(v);
    }
  }
  return bytes;
}

std::string_view severityName(Severity severity) {
  return kSeverityNames[static_cast<size_t>(severity)];
}

std::optional<Severity> parseSeverity(std::string_view name) {
  for (size_t i = 0; i < std::size(kSeverityNames); ++i) {
    if (name == kSeverityNames[i]) {
      return static_cast<Severity>(i);
    }
  }
  // Common synonyms senders use.
  if (name == "error" || name == "high") return Severity::kMajor;
  if (name == "warn" || name == "low") return Severity::kWarning;
  if (name == "fatal" || name == "emergency" || name == "alert") return Severity::kCritical;
  if (name == "notice" || name == "informational" || name == "debug" || name == "ok") {
    return Severity::kInfo;
  }
  return std::nullopt;
}

std::string_view eventStateName(EventState state) {
  switch (state) {
    case EventState::kProblem: return "problem";
    case EventState::kOk: return "ok";
    case EventState::kNone: break;
  }
  return "";
}

std::optional<EventState> parseEventState(std::string_view name) {
  if (name == "problem" || name == "firing" || name == "trigger") return EventState::kProblem;
  if (name == "ok" || name == "resolved" || name == "clear" || name == "resolve") {
    return EventState::kOk;
  }
  if (name.empty()) return EventState::kNone;
  return std::nullopt;
}

const std::string* Labels::find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

void Labels::set(std::string_view key, std::string_view value) {
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v.assign(value);
      return;
    }
  }
  entries_.emplace_back(std::string(key), std::string(value));
}

bool Labels::erase(std::string_view key) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.first == key; });
  if (it == entries_.end()) {
    return false;
  }
  entries_.erase(it);
  return true;
}

}  // namespace vigil
