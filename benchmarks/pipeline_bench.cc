// End-to-end correlator throughput in one process: rules → incident engine → one synced RocksDB
// commit per batch, as vigild runs it (WAL on, sync on, the correlation component in place; these
// rules keep no correlation state). Reports events/s for three workloads.
#include <benchmark/benchmark.h>

#include <future>

#include "daemon/correlation/correlation_component.h"
#include "daemon/maintenance/maintenance.h"
#include "daemon/pipeline.h"
#include "daemon/verdicts/verdict_log.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

constexpr const char* kRules = R"(
rules:
  - name: link-down
    match:
      message: {regex: 'Interface (?P<interface>\S+), changed state to down'}
    set: {type: link, state: problem, severity: major}
    key: '{{host}}/link/{{interface}}'
    title: 'Link down on {{host}} {{interface}}'
  - name: link-up
    match:
      message: {regex: 'Interface (?P<interface>\S+), changed state to up'}
    set: {type: link, state: ok}
    key: '{{host}}/link/{{interface}}'
)";

enum Workload { kDedup, kNoise, kOpenResolve };

std::vector<Event> makeEvents(Workload workload, size_t n) {
  std::vector<Event> events(n);
  for (size_t i = 0; i < n; ++i) {
    Event& e = events[i];
    e.source = "bench";
    e.received_at = Clock::now();
    e.host = "sw" + std::to_string(i % 1000);
    switch (workload) {
      case kDedup:  // 1000 incidents, each updated n/1000 times
        e.message = "%LINK-3-UPDOWN: Interface Gi0/1, changed state to down";
        break;
      case kNoise:  // matches no rule
        e.message = "%SYS-5-CONFIG_I: Configured from console by admin on vty0";
        break;
      case kOpenResolve:  // distinct interfaces: every pair opens and resolves its own incident
        e.message = "%LINK-3-UPDOWN: Interface Gi0/" + std::to_string(i / 2) + ", changed state to " +
                    (i % 2 ? "up" : "down");
        break;
    }
  }
  return events;
}

// `with_verdicts`: as vigild runs, with the verdict log and the maintenance hook (no window in
// force), so the pair of figures is the cost of recording every verdict.
void runPipeline(benchmark::State& state, Workload workload, bool with_verdicts = false) {
  const size_t n = 200000;
  const size_t batch = 1024;
  auto rules = *rules::RuleSet::loadString(kRules, "bench.yaml");
  for (auto _ : state) {
    state.PauseTiming();
    testing::TempDir dir;
    auto store = std::move(*store::Store::open({.path = dir.file("db")}));
    metrics::MetricsRegistry registry;
    metrics::PipelineMetrics metrics(registry.registry());
    PipelineOptions options;
    correlation::CorrelationComponent correlation({}, rules);  // as vigild runs it
    verdicts::VerdictLog verdict_log(verdicts::VerdictOptions{}, options.clock, registry.registry());
    maintenance::MaintenanceManager maintenance(options.clock);
    Pipeline pipeline(options, rules, *store, metrics);
    pipeline.addComponent(&correlation);
    if (with_verdicts) {
      pipeline.setEventIdSource(&verdict_log);
      pipeline.addEventHook(&verdict_log);
      pipeline.addEventHook(&maintenance);
      pipeline.addComponent(&verdict_log);
      pipeline.addComponent(&maintenance);
    }
    (void)pipeline.start();
    auto events = makeEvents(workload, n);
    state.ResumeTiming();
    std::promise<void> done;
    for (size_t i = 0; i < n; i += batch) {
      connectors::EventBatch b;
      b.events.assign(std::make_move_iterator(events.begin() + i),
                      std::make_move_iterator(events.begin() + std::min(n, i + batch)));
      if (i + batch >= n) b.on_commit = [&](const Status&) { done.set_value(); };
      pipeline.push(std::move(b));
    }
    done.get_future().wait();
    state.PauseTiming();
    pipeline.stop();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void BM_PipelineDedup(benchmark::State& s) { runPipeline(s, kDedup); }
void BM_PipelineNoMatch(benchmark::State& s) { runPipeline(s, kNoise); }
void BM_PipelineOpenResolve(benchmark::State& s) { runPipeline(s, kOpenResolve); }
void BM_PipelineDedupVerdicts(benchmark::State& s) { runPipeline(s, kDedup, true); }
void BM_PipelineNoMatchVerdicts(benchmark::State& s) { runPipeline(s, kNoise, true); }
void BM_PipelineOpenResolveVerdicts(benchmark::State& s) { runPipeline(s, kOpenResolve, true); }
BENCHMARK(BM_PipelineDedupVerdicts)->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK(BM_PipelineNoMatchVerdicts)->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK(BM_PipelineOpenResolveVerdicts)->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK(BM_PipelineDedup)->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK(BM_PipelineNoMatch)->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK(BM_PipelineOpenResolve)->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();

}  // namespace
}  // namespace vigil
