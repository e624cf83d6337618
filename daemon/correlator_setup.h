// The correlator as vigild runs it: the Pipeline plus every CorrelatorComponent and EventObserver
// registered on it. vigild (daemon.cc) and `vigilctl rules test` build it here, so the rules test
// runs exactly the code the daemon runs — every correlation feature registered below is covered
// by rule-file tests without a second implementation.
// Thread-safety: build and start/stop on one thread (main); see Pipeline for the rest.
#pragma once

#include <memory>
#include <vector>

#include <prometheus/registry.h>

#include "daemon/cmdb/ci_index.h"
#include "daemon/metrics/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/store/store.h"
#include "rules/rule_set.h"

namespace vigil {

class ShadowRules;

struct CorrelatorDeps {
  PipelineOptions options;
  std::shared_ptr<const rules::RuleSet> rules;
  std::shared_ptr<const cmdb::CiSnapshot> cmdb;  // null = empty
  store::Store& store;
  metrics::PipelineMetrics& metrics;
  prometheus::Registry& registry;  // for the components' own metrics
};

class Correlator {
 public:
  // Builds the pipeline and registers its components (not started).
  static std::unique_ptr<Correlator> build(CorrelatorDeps deps);
  ~Correlator();

  Pipeline& pipeline() { return *pipeline_; }
  // Candidate rules beside the live ones (shadow mode); inactive until given a rule set.
  ShadowRules& shadow() { return *shadow_; }

 private:
  Correlator() = default;

  // Declared before the pipeline: destroyed after it has stopped.
  std::vector<std::unique_ptr<CorrelatorComponent>> components_;
  std::unique_ptr<ShadowRules> shadow_;
  std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace vigil
