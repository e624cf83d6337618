// ReadSide: what the API of a scale-out core knows about the incidents of partitions that other
// cores own (docs/scale-out.md, "Read side"), so any instance lists every incident, names its
// owner, and routes an incident command to the owner instead of answering 404.
// Thread-safety: every method is safe from any thread (the API's io threads).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "daemon/incidents/incident.h"

namespace vigil::api {

class ReadSide {
 public:
  virtual ~ReadSide() = default;
  // This instance's advertised URL: the owner named on the incidents of its own partitions.
  virtual const std::string& selfUrl() const = 0;
  // The advertised URL of the instance that owns `partition` when that is another one; nullopt
  // when this instance owns it or no owner announced itself yet (the local store answers).
  virtual std::optional<std::string> remoteOwner(uint16_t partition) const = 0;
  // Visits the incidents of partitions other instances own, highest id first, starting below
  // `before` (0: from the top), until `visit` returns false. Incidents come without timeline
  // and recent events.
  virtual void scanRemote(incidents::IncidentId before,
                          const std::function<bool(incidents::Incident&&, const std::string& owner)>& visit) const = 0;
  // One incident of a partition another instance owns, with its owner's URL.
  virtual std::optional<std::pair<incidents::Incident, std::string>> getRemote(incidents::IncidentId id) const = 0;
  // The worst severity among the active incidents of every partition, per CI (service health).
  virtual std::unordered_map<std::string, Severity> activeSeverityByCi() const = 0;

  // The live feed of every partition's incident changes, as the read model applies them; what
  // GET /api/v1/stream serves on a core. Records are {"seq","change","incident"} JSON like the
  // store's change log, with their own seq (increasing across restarts; a bounded backlog).
  virtual uint64_t lastFeedSeq() const = 0;
  // Visits records with seq > after, oldest first, at most `limit`.
  virtual void readFeed(uint64_t after, size_t limit,
                        const std::function<void(uint64_t seq, const std::string& json)>& visit) const = 0;
  // `wake` is called (on the read model's thread) after records were added. REQUIRES: once,
  // before the read side starts serving.
  virtual void setFeedListener(std::function<void()> wake) = 0;
};

}  // namespace vigil::api
