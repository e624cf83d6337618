#include "daemon/correlator_setup.h"

#include <prometheus/counter.h>

#include "daemon/correlation/correlation_component.h"
#include "daemon/rules_runtime/rule_metrics.h"
#include "daemon/rules_runtime/shadow_rules.h"
#include "daemon/sla/sla_clocks.h"
#include "daemon/verdicts/verdict_log.h"

namespace vigil {

std::unique_ptr<Correlator> Correlator::build(CorrelatorDeps deps) {
  std::unique_ptr<Correlator> c(new Correlator());
  c->pipeline_ = std::make_unique<Pipeline>(deps.options, deps.rules, deps.store, deps.metrics);
  Pipeline& pipeline = *c->pipeline_;
  if (deps.cmdb) pipeline.setCmdb(deps.cmdb);

  // Components and hooks in the order they run. Add new correlation features here, so that
  // vigild, its replay and `vigilctl rules test` all get them.
  auto& late_events = prometheus::BuildCounter()
                          .Name("vigil_events_late_total")
                          .Help("Events older than the correlation clock minus rules.allowed_lateness")
                          .Register(deps.registry)
                          .Add({});
  c->components_.push_back(std::make_unique<correlation::CorrelationComponent>(
      correlation::CorrelationOptions{deps.allowed_lateness, deps.wall_clock, &late_events}, deps.rules));
  if (deps.sla) {
    auto clocks = std::make_unique<sla::SlaClocks>(std::move(*deps.sla), deps.registry);
    c->sla_ = clocks.get();
    c->components_.push_back(std::move(clocks));
  }
  c->components_.push_back(std::make_unique<RuleMetrics>(deps.registry, pipeline));
  for (auto& component : c->components_) pipeline.addComponent(component.get());

  c->verdicts_ = std::make_unique<verdicts::VerdictLog>(deps.verdicts, deps.options.clock, deps.registry);
  c->maintenance_ = std::make_unique<maintenance::MaintenanceManager>(deps.options.clock, deps.options.symptom_window);
  c->maintenance_->setConfigWindows(std::move(deps.maintenance_windows));
  c->shadow_ = std::make_unique<ShadowRules>(deps.registry);
  pipeline.setEventIdSource(c->verdicts_.get());
  pipeline.addEventHook(c->verdicts_.get());
  pipeline.addEventHook(c->maintenance_.get());
  pipeline.addEventHook(c->shadow_.get());
  pipeline.addComponent(c->verdicts_.get());
  pipeline.addComponent(c->maintenance_.get());
  return c;
}

Correlator::~Correlator() {
  if (pipeline_) pipeline_->stop();
}

}  // namespace vigil
