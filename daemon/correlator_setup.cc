#include "daemon/correlator_setup.h"

#include "daemon/rules_runtime/rule_metrics.h"
#include "daemon/rules_runtime/shadow_rules.h"

namespace vigil {

std::unique_ptr<Correlator> Correlator::build(CorrelatorDeps deps) {
  std::unique_ptr<Correlator> c(new Correlator());
  c->pipeline_ = std::make_unique<Pipeline>(deps.options, deps.rules, deps.store, deps.metrics);
  Pipeline& pipeline = *c->pipeline_;
  if (deps.cmdb) pipeline.setCmdb(deps.cmdb);

  // Observers and components in the order they run. Add new correlation features here, so that
  // vigild and `vigilctl rules test` both get them.
  c->shadow_ = std::make_unique<ShadowRules>(deps.registry);
  pipeline.addObserver(c->shadow_.get());
  c->components_.push_back(std::make_unique<RuleMetrics>(deps.registry, pipeline));

  for (auto& component : c->components_) pipeline.addComponent(component.get());
  return c;
}

Correlator::~Correlator() {
  if (pipeline_) pipeline_->stop();
}

}  // namespace vigil
