#include "daemon/verdicts/verdict.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "daemon/binary_codec.h"
#include "daemon/time_util.h"

namespace vigil::verdicts {

namespace {

constexpr std::array<std::string_view, kReasonCount> kReasonNames = {
    "opened", "no_match", "no_state", "dropped", "maintenance", "symptom", "held", "deduplicated",
    "resolved", "unmatched_resolve"};

constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kChunkVersion = 0x81;  // never a record's first byte

struct Reader {
  std::string_view in;
  bool ok = true;

  uint64_t varint() {
    uint64_t v = 0;
    if (readVarint(in, v)) return v;
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

char* writeString(char* p, std::string_view s) {
  p = writeVarint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// A record's layout (version, reason, varints, length-prefixed strings), measured first and then
// written in place: one resize of the output per record instead of a dozen appends, and no copy
// through a scratch string.
class RecordWriter {
 public:
  explicit RecordWriter(const VerdictRecordRef& r)
      : r_(r), at_(zigzagEncode(toUnixMillis(r.at))), event_time_(zigzagEncode(toUnixMillis(r.event_time))) {
    size_ = 2 + varintSize(r.event_id) + varintSize(at_) + varintSize(event_time_) + varintSize(r.verdict.incident);
    for (std::string_view s : strings()) size_ += varintSize(s.size()) + s.size();
  }
  size_t size() const { return size_; }
  char* write(char* p) const {
    *p++ = static_cast<char>(kFormatVersion);
    *p++ = static_cast<char>(r_.verdict.reason);
    p = writeVarint(p, r_.event_id);
    p = writeVarint(p, at_);
    p = writeVarint(p, event_time_);
    p = writeVarint(p, r_.verdict.incident);
    for (std::string_view s : strings()) p = writeString(p, s);
    return p;
  }

 private:
  std::array<std::string_view, 6> strings() const {
    return {r_.ci, r_.host, r_.verdict.rule, r_.verdict.key, r_.verdict.window, r_.verdict.detail};
  }

  const VerdictRecordRef r_;  // a copy (a few words): encode() passes a temporary
  uint64_t at_, event_time_;
  size_t size_ = 0;
};

}  // namespace

void encode(const VerdictRecord& r, std::string& out) {
  const RecordWriter writer({.event_id = r.event_id, .at = r.at, .event_time = r.event_time, .ci = r.ci,
                             .host = r.host, .verdict = r.verdict});
  out.resize(writer.size());
  writer.write(out.data());
}

bool decode(std::string_view in, VerdictRecord& r) {
  if (in.size() < 2 || static_cast<uint8_t>(in[0]) != kFormatVersion) return false;
  const auto reason = static_cast<uint8_t>(in[1]);
  if (reason >= kReasonCount) return false;
  r.verdict.reason = static_cast<Reason>(reason);
  Reader reader{in.substr(2)};
  r.event_id = reader.varint();
  r.at = fromUnixMillis(zigzagDecode(reader.varint()));
  r.event_time = fromUnixMillis(zigzagDecode(reader.varint()));
  r.verdict.incident = reader.varint();
  reader.string(r.ci);
  reader.string(r.host);
  reader.string(r.verdict.rule);
  reader.string(r.verdict.key);
  reader.string(r.verdict.window);
  reader.string(r.verdict.detail);
  return reader.ok;
}

void appendToChunk(const VerdictRecordRef& record, std::string& chunk) {
  if (chunk.empty()) chunk.push_back(static_cast<char>(kChunkVersion));
  const RecordWriter writer(record);
  const size_t at = chunk.size();
  chunk.resize(at + varintSize(writer.size()) + writer.size());  // grows geometrically, as append does
  writer.write(writeVarint(chunk.data() + at, writer.size()));
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
