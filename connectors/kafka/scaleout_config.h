// Configuration of scale-out: the `scaleout:` section of vigild's YAML (docs/scale-out.md).
//
//   scaleout:
//     role: core                      # standalone | edge | core
//     ingest_topic: vigil.ingest      # edge produces decoded events here, keyed by domain
//     changelog_topic: vigil.changelog  # core: compacted, as many partitions as ingest_topic
//     domain: topology_root           # topology_root | ci | host
//     standby_replicas: 1             # core: warm copies of each partition on other cores
//
// Every key, its default and its meaning:
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "connectors/kafka/read_side_config.h"
#include "daemon/status.h"
#include "daemon/yaml_util.h"

namespace vigil::connectors::kafka {

inline constexpr std::array<ConfigKey, 6> kScaleoutConfigKeys = {{
    {"role", "standalone",
     "standalone: correlate locally. edge: decode syslog and HTTP intake, bind to the CMDB and "
     "produce each event to ingest_topic keyed by its correlation domain (no local incidents). "
     "core: consume ingest_topic (kafka.topics) in the consumer group, own the state of the "
     "assigned partitions and keep it in changelog_topic."},
    {"ingest_topic", "vigil.ingest", "The topic edges produce to and cores consume (kafka.topics must be it)."},
    {"changelog_topic", "vigil.changelog",
     "Core: every committed change of a partition's state goes here (key: the store key; value: "
     "the record, or a tombstone). Create it compacted, with ingest_topic's partition count."},
    {"domain", "topology_root",
     "Edge: the ingest key. topology_root: the CI's topology root (everything that can be "
     "suppressed under one another lands in one partition); ci: the CI itself; host: the "
     "event's host. Unbound events are keyed by host."},
    {"restore_timeout", "5m", "Core: longest a partition's restore from the changelog may take (1s..1h)."},
    {"standby_replicas", "0",
     "Core: how many cores besides its owner keep a warm copy of each partition, applying its "
     "changelog as it is written, so a takeover after the owner died restores only the tail "
     "(0..32; 0: off). Needs the read side (advertised_url). The group's assignor does not know "
     "the copies: a takeover is sure to land on one only when every other core keeps one."},
}};

enum class Role : uint8_t { kStandalone, kEdge, kCore };
enum class DomainKey : uint8_t { kTopologyRoot, kCi, kHost };

struct ScaleoutConfig {
  Role role = Role::kStandalone;
  std::string ingest_topic = "vigil.ingest";
  std::string changelog_topic = "vigil.changelog";
  DomainKey domain = DomainKey::kTopologyRoot;
  std::chrono::milliseconds restore_timeout{std::chrono::minutes(5)};
  size_t standby_replicas = 0;  // core: warm copies per partition besides the owner's (standby_replicas.h)
  ReadSideConfig read_side;  // core: the API answers for every partition (read_side_config.h)
};

// Parses the `scaleout:` mapping of `file` (absent: standalone). `kafka` is the `kafka:`
// section: edge and core need it, and core consumes exactly ingest_topic. Never throws.
Result<ScaleoutConfig> parseScaleoutConfig(const YAML::Node& node, const YAML::Node& kafka, std::string_view file);

}  // namespace vigil::connectors::kafka
