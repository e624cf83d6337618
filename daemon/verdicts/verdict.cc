#include "daemon/verdicts/verdict.h"

#include <nlohmann/json.hpp>

#include "daemon/time_util.h"

namespace vigil::verdicts {

namespace {

constexpr std::array<std::string_view, kReasonCount> kReasonNames = {
    "opened", "no_match", "no_state", "dropped", "maintenance", "symptom", "held", "deduplicated",
    "resolved", "unmatched_resolve"};

constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kChunkVersion = 0x81;  // never a record's first byte

void putVarint(std::string& out, uint64_t v) {
  char bytes[10];  // one append, not a capacity check per byte: every verdict writes a dozen
  size_t n = 0;
  while (v >= 0x80) {
    bytes[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  bytes[n++] = static_cast<char>(v);
  out.append(bytes, n);
}

void putString(std::string& out, std::string_view s) {
  putVarint(out, s.size());
  out.append(s);
}

// Zig-zag, so times before 1970 (never expected, but possible in an event) stay small.
uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

struct Reader {
  std::string_view in;
  bool ok = true;

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in.empty()) break;
      const auto byte = static_cast<uint8_t>(in.front());
      in.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    ok = false;
    return 0;
  }
  void string(std::string& out) {
    const uint64_t n = varint();
    if (!ok || n > in.size()) {
      ok = false;
      return;
    }
    out.assign(in.substr(0, n));
    in.remove_prefix(n);
  }
};

}  // namespace

std::string_view reasonName(Reason reason) { return kReasonNames[static_cast<size_t>(reason)]; }

std::optional<Reason> parseReason(std::string_view name) {
  for (size_t i = 0; i < kReasonNames.size(); ++i) {
    if (kReasonNames[i] == name) return static_cast<Reason>(i);
  }
  return std::nullopt;
}

namespace {

void encodeRef(const VerdictRecordRef& r, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(r.verdict.reason));
  putVarint(out, r.event_id);
  putVarint(out, zigzag(toUnixMillis(r.at)));
  putVarint(out, zigzag(toUnixMillis(r.event_time)));
  putVarint(out, r.verdict.incident);
  putString(out, r.ci);
  putString(out, r.host);
  putString(out, r.verdict.rule);
  putString(out, r.verdict.key);
  putString(out, r.verdict.window);
  putString(out, r.verdict.detail);
}

}  // namespace

void encode(const VerdictRecord& r, std::string& out) {
  encodeRef({.event_id = r.event_id, .at = r.at, .event_time = r.event_time, .ci = r.ci, .host = r.host,
             .verdict = r.verdict},
            out);
}

bool decode(std::string_view in, VerdictRecord& r) {
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != kFormatVersion) return false;
  const auto reason = static_cast<uint8_t>(in[1]);
  if (reason >= kReasonCount) return false;
  r.verdict.reason = static_cast<Reason>(reason);
  Reader reader{in.substr(2)};
  r.event_id = reader.varint();
  r.at = fromUnixMillis(unzigzag(reader.varint()));
  r.event_time = fromUnixMillis(unzigzag(reader.varint()));
  r.verdict.incident = reader.varint();
  reader.string(r.ci);
  reader.string(r.host);
  reader.string(r.verdict.rule);
  reader.string(r.verdict.key);
  reader.string(r.verdict.window);
  reader.string(r.verdict.detail);
  return reader.ok;
}

void appendToChunk(const VerdictRecordRef& record, std::string& chunk, std::string& scratch) {
  if (chunk.empty()) chunk.push_back(static_cast<char>(kChunkVersion));
  encodeRef(record, scratch);
  putString(chunk, scratch);
}

bool forEachInChunk(std::string_view chunk, const std::function<bool(VerdictRecord&)>& visit) {
  VerdictRecord record;
  if (!chunk.empty() && static_cast<uint8_t>(chunk[0]) == kFormatVersion) {
    if (!decode(chunk, record)) return false;
    visit(record);
    return true;
  }
  if (chunk.empty() || static_cast<uint8_t>(chunk[0]) != kChunkVersion) return false;
  Reader reader{chunk.substr(1)};
  while (reader.ok && !reader.in.empty()) {
    const uint64_t n = reader.varint();
    if (!reader.ok || n > reader.in.size() || !decode(reader.in.substr(0, n), record)) return false;
    reader.in.remove_prefix(n);
    if (!visit(record)) break;
  }
  return reader.ok;
}

void toJson(const VerdictRecord& r, nlohmann::json& out) {
  auto orNull = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  out = {{"event_id", std::to_string(r.event_id)},
         {"reason", reasonName(r.verdict.reason)},
         {"detail", orNull(r.verdict.detail)},
         {"rule", orNull(r.verdict.rule)},
         {"key", orNull(r.verdict.key)},
         {"window_id", orNull(r.verdict.window)},
         {"incident_id", r.verdict.incident ? nlohmann::json(r.verdict.incident) : nlohmann::json(nullptr)},
         {"ci", orNull(r.ci)},
         {"host", orNull(r.host)},
         {"time", formatRfc3339(r.at)},
         {"event_time", formatRfc3339(r.event_time)}};
}

}  // namespace vigil::verdicts
