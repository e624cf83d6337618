// IngestForwarder: the edge role of scale-out. Takes the batches syslog and HTTP intake offer to
// the pipeline, binds each event to its CI, and produces it as JSON to the ingest topic keyed by
// its correlation domain (the CI's topology root by default), with an idempotent producer and
// acks=all. A batch's on_commit is called once every one of its events is acknowledged by the
// brokers (or one failed), so HTTP answers 202 and TCP syslog reads on only then.
// Thread-safety: offer()/push() from any thread; on_commit runs on the forwarder's poll thread.
#pragma once

#include <functional>
#include <memory>

#include <prometheus/registry.h>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/scaleout_config.h"
#include "connectors/source.h"
#include "daemon/cmdb/ci_index.h"

namespace vigil::connectors::kafka {

// The ingest key of `event` (whose `ci` is set when it is bound to `ci`, which may be null).
std::string correlationDomain(const Event& event, const cmdb::ConfigurationItem* ci,
                              const cmdb::CiSnapshot& cmdb, DomainKey mode);

class IngestForwarder final : public EventSink {
 public:
  using CmdbSource = std::function<std::shared_ptr<const cmdb::CiSnapshot>()>;
  IngestForwarder(KafkaConfig kafka, ScaleoutConfig scaleout, CmdbSource cmdb, prometheus::Registry& registry);
  ~IngestForwarder() override;

  Status start();
  // Waits (up to 10 s) for outstanding deliveries, then stops. Idempotent.
  void stop();
  // True while a broker is reachable.
  bool ready() const;

  // EventSink
  bool offer(EventBatch& batch) override;
  bool push(EventBatch batch) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::connectors::kafka
