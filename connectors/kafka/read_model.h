// ReadModel: the read side of a scale-out core (docs/scale-out.md). Every core reads the whole
// changelog topic (all partitions, from the beginning, with its own consumer outside the group)
// and keeps, in memory, the incidents of every partition plus each partition's owner:
//  - incident records (the store's `incidents` family) are applied per closed batch only, as a
//    restore does: held until their epoch's marker, dropped when another epoch starts first;
//    each is kept re-encoded without timeline and recent events (a few hundred bytes);
//  - every applied incident change is also rendered once as a change record for the live
//    stream (a backlog of read_model_stream_backlog records);
//  - batch markers carry the header vigil-owner (the writer's advertised URL); a core that takes
//    a partition over writes one at once, so the owner changes when the takeover is done.
// The API lists the partitions owned by others from here and its own from its store, and
// forwards commands on others' incidents to their owner (daemon/api/peer_forwarder.h).
// Thread-safety: start()/stop() on the main thread; one consumer thread writes; ReadSide
// methods from any thread (shared lock).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <prometheus/registry.h>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/scaleout_config.h"
#include "daemon/api/read_side.h"

namespace vigil::connectors::kafka {

// The changelog header that names a batch's writer (set on markers by ScaleoutCore).
inline constexpr std::string_view kOwnerHeader = "vigil-owner";

class ReadModel final : public api::ReadSide {
 public:
  // REQUIRES: !scaleout.read_side.advertised_url.empty().
  ReadModel(KafkaConfig kafka, ScaleoutConfig scaleout, prometheus::Registry& registry);
  ~ReadModel() override;

  // Starts the consumer thread (it retries until the changelog topic exists).
  Status start();
  void stop();
  // Each partition's owner as the last batch marker read names it (this instance's included);
  // nullopt until the changelog was read up to where it ended at the start. Any thread.
  std::optional<std::map<uint16_t, std::string>> owners() const;

  // ReadSide
  const std::string& selfUrl() const override;
  std::optional<std::string> remoteOwner(uint16_t partition) const override;
  void scanRemote(incidents::IncidentId before,
                  const std::function<bool(incidents::Incident&&, const std::string& owner)>& visit) const override;
  std::optional<std::pair<incidents::Incident, std::string>> getRemote(incidents::IncidentId id) const override;
  std::unordered_map<std::string, Severity> activeSeverityByCi() const override;
  uint64_t lastFeedSeq() const override;
  void readFeed(uint64_t after, size_t limit,
                const std::function<void(uint64_t, const std::string&)>& visit) const override;
  void setFeedListener(std::function<void()> wake) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::connectors::kafka
