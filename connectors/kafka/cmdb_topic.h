// CmdbTopicConsumer: reads `kafka.cmdb_topic`, a compacted topic of CIs, into the CMDB
// (daemon/cmdb/cmdb_feeds.h): key = CI id, value = the CI as JSON in the cmdb.files schema, a
// null value (tombstone) deletes the CI. Changes are gathered and applied at most once per
// `cmdb_debounce` (one snapshot rebuild and hot swap for the group), stored with the partitions'
// next offsets in one write, so a restart resumes after them and knows every CI already.
// An invalid CI (not JSON, unknown class, an edge to a missing CI, an alias of another CI …) or a
// delete that would break the CMDB is rejected: logged, counted and produced to
// `dead_letter_topic` with the error in header vigil-error.
// Every vigild reads the whole topic, so each instance needs its own `cmdb_group`.
// Metrics: vigil_cmdb_topic_changes_total{result=applied|rejected}, vigil_cmdb_topic_cis.
// Thread-safety: start()/stop() on the main thread; one poll thread owns the consumer.
#pragma once

#include <memory>
#include <string_view>

#include <prometheus/registry.h>
#include <yaml-cpp/yaml.h>

#include "connectors/kafka/kafka_config.h"
#include "daemon/status.h"

namespace vigil::cmdb {
class CmdbFeeds;
}  // namespace vigil::cmdb

namespace vigil::connectors::kafka {

class CmdbTopicConsumer {
 public:
  // REQUIRES: !config.cmdb_topic.empty(). `feeds` outlives the consumer.
  CmdbTopicConsumer(KafkaConfig config, cmdb::CmdbFeeds& feeds, prometheus::Registry& registry);
  ~CmdbTopicConsumer();

  Status start();
  // Applies what was read, then stops. Idempotent.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Factory: the consumer of `section`'s cmdb_topic, or nullptr when it names none.
Result<std::unique_ptr<CmdbTopicConsumer>> makeCmdbTopicConsumer(const YAML::Node& section, std::string_view file,
                                                                 cmdb::CmdbFeeds& feeds,
                                                                 prometheus::Registry& registry);

}  // namespace vigil::connectors::kafka
