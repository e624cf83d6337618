#include "daemon/correlation/state_record.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "daemon/time_util.h"

namespace vigil::correlation {

namespace {

template <typename Int>
void appendInt(std::string& out, Int value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void appendMs(std::string& out, TimePoint t) { appendInt(out, toUnixMillis(t)); }

void appendOptionalMs(std::string& out, const std::optional<TimePoint>& t) {
  if (t) {
    appendMs(out, *t);
  } else {
    out.append("null");
  }
}

void appendBool(std::string& out, bool value) { out.append(value ? "true" : "false"); }

// `"name":` (names are fixed ASCII: no escaping).
void appendName(std::string& out, std::string_view name, bool first = false) {
  if (!first) out.push_back(',');
  out.push_back('"');
  out.append(name);
  out.append("\":");
}

// `,"name":"text"` (the first member without the comma).
void appendStringMember(std::string& out, std::string_view name, std::string_view text, bool first = false) {
  appendName(out, name, first);
  appendJsonString(out, text);
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  bool plain = true;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x80) {
      // UTF-8, valid or not: nlohmann's serializer decides what is replaced, as it always did.
      out.append(nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return;
    }
    plain = plain && b >= 0x20 && c != '"' && c != '\\';
  }
  out.push_back('"');
  if (plain) {
    out.append(text);
  } else {
    for (char c : text) {
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out.append("\\u00");
            out.push_back(kHex[(c >> 4) & 0xf]);
            out.push_back(kHex[c & 0xf]);
          } else {
            out.push_back(c);
          }
      }
    }
  }
  out.push_back('"');
}

std::string encodeEntryRecord(const EntryRecord& e) {
  size_t size = 192 + e.rule.size() + e.hash.size() + e.key.size() + e.target.size() + e.title.size() +
                e.host.size() + e.ci.size() + e.type.size() + e.times.size() * 15;
  for (const auto& h : e.held) size += 40 + h.source.size() + h.message.size();
  std::string out;
  out.reserve(size);
  // The members in sorted order, as a std::map-backed nlohmann::json object dumps them.
  out.push_back('{');
  appendStringMember(out, "ci", e.ci, true);
  appendName(out, "deadline");
  appendOptionalMs(out, e.deadline);
  appendName(out, "flapping");
  appendBool(out, e.flapping);
  appendStringMember(out, "hash", e.hash);
  appendName(out, "held");
  out.push_back('[');
  for (size_t i = 0; i < e.held.size(); ++i) {
    const rules::TriggerEvent& h = e.held[i];
    if (i > 0) out.push_back(',');
    out.push_back('[');
    appendMs(out, h.at);
    out.push_back(',');
    appendJsonString(out, h.source);
    out.push_back(',');
    appendInt(out, static_cast<int>(h.severity));
    out.push_back(',');
    appendInt(out, static_cast<int>(h.state));
    out.push_back(',');
    appendJsonString(out, h.message);
    out.push_back(']');
  }
  out.push_back(']');
  appendStringMember(out, "host", e.host);
  appendStringMember(out, "key", e.key);
  appendName(out, "last_state");
  appendInt(out, static_cast<int>(e.last_state));
  appendName(out, "opened");
  appendBool(out, e.opened);
  appendStringMember(out, "rule", e.rule);
  appendName(out, "severity");
  appendInt(out, static_cast<int>(e.severity));
  appendStringMember(out, "target", e.target);
  appendName(out, "times");
  out.push_back('[');
  for (size_t i = 0; i < e.times.size(); ++i) {
    if (i > 0) out.push_back(',');
    appendMs(out, e.times[i]);
  }
  out.push_back(']');
  appendStringMember(out, "title", e.title);
  appendStringMember(out, "type", e.type);
  out.push_back('}');
  return out;
}

std::string encodeResolvedRecord(const ResolvedRecord& r) {
  std::string out;
  out.reserve(96 + r.rule.size() + r.key.size());
  out.push_back('{');
  appendName(out, "deadline", true);
  appendOptionalMs(out, r.deadline);
  appendName(out, "id");
  appendInt(out, r.id);
  appendStringMember(out, "key", r.key);
  appendName(out, "resolved_at");
  appendMs(out, r.resolved_at);
  appendStringMember(out, "rule", r.rule);
  out.push_back('}');
  return out;
}

}  // namespace vigil::correlation
