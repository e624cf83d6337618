// The store's binary encoding of an incident: varints and length-prefixed strings (LevelDB's
// coding style), led by a format byte so later layouts can be read side by side. JSON is only
// rendered for readers (API, outputs), off the correlator thread.
#pragma once

#include <string>
#include <string_view>

#include "daemon/incidents/incident.h"
#include "daemon/status.h"

namespace vigil::incidents {

// Appends the encoding to `out`. Without details the timeline and recent events are left out
// (used for change-log records).
void encodeIncident(const Incident& incident, bool with_details, std::string& out);
// Both encodings at once, as encodeIncident with and without details would append them: the
// summary is copied from the full encoding's parts rather than encoded a second time (the
// committer writes both for every changed incident).
void encodeIncidentAndSummary(const Incident& incident, std::string& full, std::string& summary);
Result<Incident> decodeIncident(std::string_view data);

// Fields added after format 1 go in a trailing section of (varint tag, length-prefixed payload)
// records, so a new field needs no format change and a reader skips tags it does not know.
// Tag ranges, so features can grow without colliding:
//   1–15 rules provenance and correlation, 16–31 SLA and escalation, 32–47 maintenance and
//   verdicts, 48–63 everything else.
enum class ExtensionTag : uint8_t {
  kProvenance = 1,        // rule-set version, primitive, triggering events
  kCorrelationFlags = 2,  // flapping, stale
  kDescription = 15,      // the incident description rendered from a rule's `description:`
  kSla = 16,          // SlaStatus: flag byte, then the times it has
  kEscalations = 17,  // count, then the names of the escalation steps applied
};

}  // namespace vigil::incidents
