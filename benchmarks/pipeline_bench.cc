// End-to-end correlator throughput in one process: rules → incident engine → one synced RocksDB
// commit per batch (WAL on, sync on). Reports events/s for three workloads, each twice: the bare
// pipeline, and the correlator as vigild builds it (correlator_setup.h: correlation primitives,
// rule metrics, verdict log, maintenance, shadow hook; these rules keep no correlation state), so
// the pair of figures is the cost of those components — mostly recording every verdict.
#include <benchmark/benchmark.h>

#include <future>

#include "daemon/correlator_setup.h"
#include "daemon/pipeline.h"
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

void runPipeline(benchmark::State& state, Workload workload, bool as_vigild = false) {
  const size_t n = 200000;
  const size_t batch = 1024;
  auto rules = *rules::RuleSet::loadString(kRules, "bench.yaml");
  for (auto _ : state) {
    state.PauseTiming();
    testing::TempDir dir;
    auto store = std::move(*store::Store::open({.path = dir.file("db")}));
    metrics::MetricsRegistry registry;
    metrics::PipelineMetrics metrics(registry.registry());
    std::unique_ptr<Pipeline> bare;
    std::unique_ptr<Correlator> correlator;
    if (as_vigild) {
      correlator = Correlator::build({.options = {}, .rules = rules, .cmdb = nullptr, .store = *store,
                                      .metrics = metrics, .registry = registry.registry()});
    } else {
      bare = std::make_unique<Pipeline>(PipelineOptions{}, rules, *store, metrics);
    }
    Pipeline& pipeline = as_vigild ? correlator->pipeline() : *bare;
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
void BM_VigildDedup(benchmark::State& s) { runPipeline(s, kDedup, true); }
void BM_VigildNoMatch(benchmark::State& s) { runPipeline(s, kNoise, true); }
void BM_VigildOpenResolve(benchmark::State& s) { runPipeline(s, kOpenResolve, true); }
#define VIGIL_PIPELINE_BENCHMARK(name) \
  BENCHMARK(name)->Unit(benchmark::kMillisecond)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime()
VIGIL_PIPELINE_BENCHMARK(BM_PipelineDedup);
VIGIL_PIPELINE_BENCHMARK(BM_VigildDedup);
VIGIL_PIPELINE_BENCHMARK(BM_PipelineNoMatch);
VIGIL_PIPELINE_BENCHMARK(BM_VigildNoMatch);
VIGIL_PIPELINE_BENCHMARK(BM_PipelineOpenResolve);
VIGIL_PIPELINE_BENCHMARK(BM_VigildOpenResolve);

}  // namespace
}  // namespace vigil
