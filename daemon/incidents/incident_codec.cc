#include "daemon/incidents/incident_codec.h"

#include "daemon/binary_codec.h"

namespace vigil::incidents {

namespace {

constexpr uint8_t kFormat = 1;

enum OptionalBits : uint8_t { kAcked = 1, kResolved = 2, kClosed = 4, kParent = 8 };

void putString(std::string& out, std::string_view s) {
  appendVarint(out, s.size());
  out.append(s);
}

// Milliseconds since the epoch, zig-zag encoded so times before 1970 stay small too.
void putTime(std::string& out, TimePoint t) {
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  appendVarint(out, zigzagEncode(ms));
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }

  uint64_t varint() {
    std::string_view rest = data_.substr(pos_);
    uint64_t v = 0;
    if (!readVarint(rest, v)) return fail();
    pos_ = data_.size() - rest.size();
    return v;
  }
  uint8_t byte() {
    if (pos_ >= data_.size()) return static_cast<uint8_t>(fail());
    return static_cast<uint8_t>(data_[pos_++]);
  }
  std::string string() {
    const uint64_t n = varint();
    if (!ok_ || n > data_.size() - pos_) return (fail(), std::string());
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  TimePoint time() {
    const int64_t ms = zigzagDecode(varint());
    return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
  }
  // A count of following items, each at least one byte long: guards against absurd allocations.
  size_t count() {
    const uint64_t n = varint();
    if (n > data_.size() - pos_) return (fail(), 0);
    return n;
  }
  bool atEnd() const { return pos_ == data_.size(); }
  // A length-prefixed payload, as a view into the data.
  std::string_view bytes() {
    const uint64_t n = varint();
    if (!ok_ || n > data_.size() - pos_) return (fail(), std::string_view());
    const std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  uint64_t fail() {
    ok_ = false;
    pos_ = data_.size();
    return 0;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Appends one extension record (see ExtensionTag).
void putExtension(std::string& out, ExtensionTag tag, std::string_view payload) {
  appendVarint(out, static_cast<uint8_t>(tag));
  putString(out, payload);
}

// The extension records of `in`. Write a field only when it differs from its default, so
// records of incidents that do not use a feature stay as small as format 1.
void putSample(std::string& out, const EventSample& e) {
  putTime(out, e.at);
  putString(out, e.source);
  out.push_back(static_cast<char>(e.severity));
  out.push_back(static_cast<char>(e.state));
  putString(out, e.message);
}

EventSample readSample(Reader& r) {
  EventSample e;
  e.at = r.time();
  e.source = r.string();
  e.severity = static_cast<Severity>(std::min<uint8_t>(r.byte(), static_cast<uint8_t>(Severity::kInfo)));
  e.state = static_cast<EventState>(std::min<uint8_t>(r.byte(), static_cast<uint8_t>(EventState::kOk)));
  e.message = r.string();
  return e;
}

enum CorrelationBits : uint8_t { kFlapping = 1, kStale = 2 };

void encodeExtensions(const Incident& in, std::string& out) {
  // One payload buffer per thread, kept: the committer encodes every changed incident.
  thread_local std::string payload;
  if (!in.description.empty()) putExtension(out, ExtensionTag::kDescription, in.description);
  if (!in.provenance.empty()) {
    payload.clear();
    putString(payload, in.provenance.rule_set_version);
    putString(payload, in.provenance.primitive);
    appendVarint(payload, in.provenance.events.size());
    for (const auto& e : in.provenance.events) putSample(payload, e);
    putExtension(out, ExtensionTag::kProvenance, payload);
  }
  if (in.flapping || in.stale) {
    const char bits = static_cast<char>((in.flapping ? kFlapping : 0) | (in.stale ? kStale : 0));
    putExtension(out, ExtensionTag::kCorrelationFlags, std::string_view(&bits, 1));
  }
  if (in.sla != SlaStatus{}) {
    const SlaStatus& sla = in.sla;
    payload.clear();
    payload.push_back(static_cast<char>((sla.started_at ? 1 : 0) | (sla.acknowledge_due ? 2 : 0) |
                                        (sla.resolve_due ? 4 : 0) | (sla.acknowledge_breached ? 8 : 0) |
                                        (sla.resolve_breached ? 16 : 0)));
    if (sla.started_at) putTime(payload, *sla.started_at);
    if (sla.acknowledge_due) putTime(payload, *sla.acknowledge_due);
    if (sla.resolve_due) putTime(payload, *sla.resolve_due);
    putExtension(out, ExtensionTag::kSla, payload);
  }
  if (!in.escalations.empty()) {
    payload.clear();
    appendVarint(payload, in.escalations.size());
    for (const auto& name : in.escalations) putString(payload, name);
    putExtension(out, ExtensionTag::kEscalations, payload);
  }
}

// Fills the field of one extension record; false when the payload is malformed. Unknown tags
// are skipped (a record written by a newer vigild).
bool decodeExtension(uint64_t tag, std::string_view payload, Incident& in) {
  Reader r(payload);
  switch (tag) {
    case static_cast<uint8_t>(ExtensionTag::kProvenance):
      in.provenance.rule_set_version = r.string();
      in.provenance.primitive = r.string();
      for (size_t n = r.count(); n > 0 && r.ok(); --n) in.provenance.events.push_back(readSample(r));
      return r.ok() && r.atEnd();
    case static_cast<uint8_t>(ExtensionTag::kCorrelationFlags): {
      const uint8_t bits = r.byte();
      in.flapping = (bits & kFlapping) != 0;
      in.stale = (bits & kStale) != 0;
      return r.ok();
    }
    case static_cast<uint8_t>(ExtensionTag::kDescription):
      in.description.assign(payload);
      return true;
    case static_cast<uint8_t>(ExtensionTag::kSla): {
      const uint8_t bits = r.byte();
      if (bits & 1) in.sla.started_at = r.time();
      if (bits & 2) in.sla.acknowledge_due = r.time();
      if (bits & 4) in.sla.resolve_due = r.time();
      in.sla.acknowledge_breached = (bits & 8) != 0;
      in.sla.resolve_breached = (bits & 16) != 0;
      return r.ok() && r.atEnd();
    }
    case static_cast<uint8_t>(ExtensionTag::kEscalations):
      for (size_t n = r.count(); n > 0 && r.ok(); --n) in.escalations.push_back(r.string());
      return r.ok() && r.atEnd();
    default:
      return true;
  }
}

// The fields before the timeline, through the revision.
void encodeHead(const Incident& in, std::string& out) {
  out.push_back(static_cast<char>(kFormat));
  appendVarint(out, in.id);
  putString(out, in.key);
  putString(out, in.title);
  out.push_back(static_cast<char>(in.state));
  out.push_back(static_cast<char>(in.severity));
  out.push_back(static_cast<char>(in.priority));
  putString(out, in.host);
  putString(out, in.type);
  putString(out, in.ci);
  appendVarint(out, in.services.size());
  for (const auto& s : in.services) putString(out, s);
  putString(out, in.assignment_group);
  putString(out, in.assignee);
  appendVarint(out, in.event_count);
  putTime(out, in.first_seen);
  putTime(out, in.last_seen);
  const uint8_t bits = (in.acknowledged_at ? kAcked : 0) | (in.resolved_at ? kResolved : 0) |
                       (in.closed_at ? kClosed : 0) | (in.parent ? kParent : 0);
  out.push_back(static_cast<char>(bits));
  if (in.acknowledged_at) putTime(out, *in.acknowledged_at);
  if (in.resolved_at) putTime(out, *in.resolved_at);
  if (in.closed_at) putTime(out, *in.closed_at);
  if (in.parent) appendVarint(out, *in.parent);
  appendVarint(out, in.symptom_count);
  putString(out, in.rule);
  appendVarint(out, in.labels.size());
  for (const auto& [k, v] : in.labels) {
    putString(out, k);
    putString(out, v);
  }
  appendVarint(out, in.revision);
}

void encodeDetails(const Incident& in, std::string& out) {
  appendVarint(out, in.timeline.size());
  for (const auto& t : in.timeline) {
    putTime(out, t.at);
    putString(out, t.action);
    putString(out, t.actor);
    putString(out, t.detail);
  }
  appendVarint(out, in.recent_events.size());
  for (const auto& e : in.recent_events) putSample(out, e);
}

// In place of the details: no timeline entries, no recent events (two varint zeros).
constexpr std::string_view kNoDetails("\0\0", 2);

}  // namespace

void encodeIncident(const Incident& in, bool with_details, std::string& out) {
  encodeHead(in, out);
  if (with_details) {
    encodeDetails(in, out);
  } else {
    out.append(kNoDetails);
  }
  encodeExtensions(in, out);
}

void encodeIncidentAndSummary(const Incident& in, std::string& full, std::string& summary) {
  const size_t start = full.size();
  encodeHead(in, full);
  const size_t head_end = full.size();
  encodeDetails(in, full);
  const size_t details_end = full.size();
  encodeExtensions(in, full);
  summary.append(full, start, head_end - start);
  summary.append(kNoDetails);
  summary.append(full, details_end);
}

Result<Incident> decodeIncident(std::string_view data) {
  Reader r(data);
  if (r.byte() != kFormat) return fail(Status::corruption("incident record: unknown format"));
  Incident in;
  in.id = r.varint();
  in.key = r.string();
  in.title = r.string();
  const uint8_t state = r.byte(), severity = r.byte();
  in.priority = r.byte();
  if (state > static_cast<uint8_t>(IncidentState::kClosed) || severity > static_cast<uint8_t>(Severity::kInfo) ||
      in.priority < 1 || in.priority > 5) {
    return fail(Status::corruption("incident record: bad state, severity or priority"));
  }
  in.state = static_cast<IncidentState>(state);
  in.severity = static_cast<Severity>(severity);
  in.host = r.string();
  in.type = r.string();
  in.ci = r.string();
  for (size_t n = r.count(); n > 0 && r.ok(); --n) in.services.push_back(r.string());
  in.assignment_group = r.string();
  in.assignee = r.string();
  in.event_count = r.varint();
  in.first_seen = r.time();
  in.last_seen = r.time();
  const uint8_t bits = r.byte();
  if (bits & kAcked) in.acknowledged_at = r.time();
  if (bits & kResolved) in.resolved_at = r.time();
  if (bits & kClosed) in.closed_at = r.time();
  if (bits & kParent) in.parent = r.varint();
  in.symptom_count = r.varint();
  in.rule = r.string();
  for (size_t n = r.count(); n > 0 && r.ok(); --n) {
    std::string k = r.string();
    in.labels.set(k, r.string());
  }
  in.revision = r.varint();
  for (size_t n = r.count(); n > 0 && r.ok(); --n) {
    TimelineEntry t;
    t.at = r.time();
    t.action = r.string();
    t.actor = r.string();
    t.detail = r.string();
    in.timeline.push_back(std::move(t));
  }
  for (size_t n = r.count(); n > 0 && r.ok(); --n) in.recent_events.push_back(readSample(r));
  while (r.ok() && !r.atEnd()) {
    const uint64_t tag = r.varint();
    const std::string_view payload = r.bytes();
    if (r.ok() && !decodeExtension(tag, payload, in)) {
      return fail(Status::corruption("incident record: bad extension field " + std::to_string(tag)));
    }
  }
  if (!r.ok() || !r.atEnd()) return fail(Status::corruption("incident record: truncated or trailing bytes"));
  return in;
}

}  // namespace vigil::incidents
