// The correlator as vigild runs it: the Pipeline plus every CorrelatorComponent and EventHook
// registered on it. vigild (daemon.cc), `vigild --replay` and `vigilctl rules test` build it
// here, so the rules test runs exactly the code the daemon runs — every correlation feature
// registered below is covered by rule-file tests without a second implementation.
// Thread-safety: build and start/stop on one thread (main); see Pipeline for the rest.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <prometheus/registry.h>

#include "daemon/cmdb/ci_index.h"
#include "daemon/maintenance/maintenance.h"
#include "daemon/metrics/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/sla/sla_policy.h"
#include "daemon/store/store.h"
#include "daemon/verdicts/verdict.h"
#include "rules/rule_set.h"

namespace vigil {

class ShadowRules;
namespace correlation {
class CorrelationComponent;
}
namespace verdicts {
class VerdictLog;
}
namespace sla {
class SlaClocks;
}

struct CorrelatorDeps {
  PipelineOptions options;
  std::shared_ptr<const rules::RuleSet> rules;
  std::shared_ptr<const cmdb::CiSnapshot> cmdb;  // null = empty
  store::Store& store;
  metrics::PipelineMetrics& metrics;
  prometheus::Registry& registry;  // for the components' own metrics
  // rules.allowed_lateness (docs/rules.md, "Event time").
  std::chrono::milliseconds allowed_lateness{std::chrono::minutes(5)};
  // Live: windows follow the pipeline clock. Replay and rules tests: event time only, so the
  // same input gives the same incidents however fast it is read.
  bool wall_clock = true;
  verdicts::VerdictOptions verdicts;
  std::vector<maintenance::WindowPtr> maintenance_windows;
  std::optional<sla::SlaPolicy> sla;  // none: no SLA clocks or escalation (replay, rules test)
};

class Correlator {
 public:
  // Builds the pipeline and registers its components (not started).
  static std::unique_ptr<Correlator> build(CorrelatorDeps deps);
  ~Correlator();

  Pipeline& pipeline() { return *pipeline_; }
  // Candidate rules beside the live ones (shadow mode); inactive until given a rule set.
  ShadowRules& shadow() { return *shadow_; }
  maintenance::MaintenanceManager& maintenance() { return *maintenance_; }
  verdicts::VerdictLog& verdicts() { return *verdicts_; }
  // The SLA clocks (config reload swaps their policy); null when built without `sla`.
  sla::SlaClocks* sla() { return sla_; }

 private:
  Correlator() = default;

  // Declared before the pipeline: destroyed after it has stopped.
  std::vector<std::unique_ptr<CorrelatorComponent>> components_;
  std::unique_ptr<ShadowRules> shadow_;
  std::unique_ptr<verdicts::VerdictLog> verdicts_;
  sla::SlaClocks* sla_ = nullptr;  // owned by components_
  std::unique_ptr<maintenance::MaintenanceManager> maintenance_;
  std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace vigil
