// CMDB binding over a generated 1-million-CI CMDB: host-name, short-name, IP, CIDR lookups/s,
// the index's memory per CI, and the time to build a snapshot / load YAML for 100k CIs.
//
//   build-cmdb/benchmarks/cmdb_bind_bench
//
// Target: >= 5 M host-name lookups/s/core. Lookups walk a pre-shuffled query list so every one
// lands on a cold part of the index, as events from many hosts do.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/cmdb/ci_index.h"
#include "daemon/cmdb/cmdb_loader.h"
#include "daemon/cmdb/service_health.h"

namespace vigil::cmdb {
namespace {

// CMDB_BENCH_CIS overrides the size, e.g. 10000 to see the cost with the index in cache.
const size_t kCis = [] {
  const char* env = std::getenv("CMDB_BENCH_CIS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : size_t{1'000'000};
}();
constexpr size_t kSwitchEvery = 48;  // one access switch per 47 servers

std::string num(size_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%07zu", i);
  return buf;
}
std::string fqdn(size_t i) { return "host-" + num(i) + ".dc" + std::to_string(i % 20) + ".example.net"; }
// 10.0.0.0/8 holds 16 M addresses: CI i gets 10.(i>>16).(i>>8).(i), offset so .0 is skipped.
uint32_t ipOf(size_t i) { return (10u << 24) | static_cast<uint32_t>(i * 2 + 1); }
std::string ipText(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

// Servers with an FQDN and an IP; every kSwitchEvery-th CI is a switch that also owns the /24
// around its servers, and every 4096th a /16: three prefix lengths in play.
std::vector<ConfigurationItem> generateCis(size_t n) {
  std::vector<ConfigurationItem> cis(n);
  for (size_t i = 0; i < n; ++i) {
    ConfigurationItem& ci = cis[i];
    ci.id = "ci-" + num(i);
    ci.aliases = {fqdn(i), ipText(ipOf(i))};
    if (i % kSwitchEvery == 0) {
      ci.ci_class = CiClass::kSwitch;
      ci.aliases.push_back(ipText(ipOf(i) & 0xffffff00u) + "/24");
      if (i % (kSwitchEvery * 4096) == 0) ci.aliases.push_back(ipText(ipOf(i) & 0xffff0000u) + "/16");
    } else {
      ci.ci_class = CiClass::kServer;
      ci.depends_on = {"ci-" + num(i - i % kSwitchEvery)};
    }
  }
  // /24s overlap when 48 servers span two of them: keep the first claim only.
  std::vector<std::string> seen;
  for (auto& ci : cis) {
    if (ci.aliases.size() < 3) continue;
    if (!seen.empty() && seen.back() == ci.aliases[2]) ci.aliases.resize(2);
    else seen.push_back(ci.aliases[2]);
  }
  return cis;
}

size_t rssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

struct Fixture {
  std::shared_ptr<const CiSnapshot> snap;
  size_t rss_delta = 0;
  double build_seconds = 0;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture f;
    const size_t before = rssBytes();
    std::vector<ConfigurationItem> cis = generateCis(kCis);
    const auto start = std::chrono::steady_clock::now();
    auto built = buildSnapshot(std::move(cis));
    f.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!built) {
      std::fprintf(stderr, "%s\n", built.error().message().substr(0, 2000).c_str());
      std::abort();
    }
    f.snap = *built;
    f.rss_delta = rssBytes() - before;
    return f;
  }();
  return f;
}

// Queries laid out contiguously in shuffled order, so the query text is streamed but the index
// slots it hits are random.
struct Queries {
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;
  std::vector<std::string_view> views;
  explicit Queries(const std::vector<std::string>& texts) {
    for (const auto& t : texts) {
      spans.emplace_back(arena.size(), t.size());
      arena += t;
    }
    for (const auto& [off, len] : spans) views.emplace_back(arena.data() + off, len);
  }
};

template <typename Make>
Queries makeQueries(size_t count, Make make) {
  std::mt19937_64 rng(42);
  std::vector<std::string> texts;
  texts.reserve(count);
  for (size_t k = 0; k < count; ++k) texts.push_back(make(rng() % kCis, rng));
  return Queries(texts);
}

void runLookups(benchmark::State& state, const Queries& q, MatchKind expect) {
  const CiSnapshot& snap = *fixture().snap;
  if (snap.bindHost(q.views[0]).kind != expect) {
    state.SkipWithError("unexpected match kind");
    return;
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(snap.bindHost(q.views[i]));
    if (++i == q.views.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_BindHostFqdn(benchmark::State& state) {
  static const Queries q = makeQueries(1 << 20, [](size_t i, auto&) { return fqdn(i); });
  runLookups(state, q, MatchKind::kHost);
}
void BM_BindHostUpperCase(benchmark::State& state) {
  static const Queries q = makeQueries(1 << 20, [](size_t i, auto&) {
    std::string s = fqdn(i);
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  });
  runLookups(state, q, MatchKind::kHost);
}
void BM_BindShortName(benchmark::State& state) {
  static const Queries q = makeQueries(1 << 20, [](size_t i, auto&) { return "host-" + num(i); });
  runLookups(state, q, MatchKind::kShortName);
}
void BM_BindIp(benchmark::State& state) {
  static const Queries q = makeQueries(1 << 20, [](size_t i, auto&) { return ipText(ipOf(i)); });
  runLookups(state, q, MatchKind::kIp);
}
void BM_BindCidr(benchmark::State& state) {  // even addresses: not a CI's own IP → a /24 or /16
  static const Queries q = makeQueries(1 << 20, [](size_t i, auto&) { return ipText(ipOf(i) + 1); });
  runLookups(state, q, MatchKind::kCidr);
}
void BM_BindUnknownHost(benchmark::State& state) {
  static const Queries q =
      makeQueries(1 << 20, [](size_t i, auto&) { return "nohost-" + num(i) + ".example.org"; });
  runLookups(state, q, MatchKind::kNone);
}

// The whole bind(Event) path with an explicit CI id.
void BM_BindEventExplicitCi(benchmark::State& state) {
  const CiSnapshot& snap = *fixture().snap;
  std::vector<Event> events(1 << 16);
  std::mt19937_64 rng(7);
  for (Event& e : events) e.ci = "ci-" + num(rng() % kCis);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(snap.bind(events[i]));
    i = (i + 1) & (events.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}

// bindAll() over a correlator-sized batch: host-name events, misses overlapped by prefetching.
void bindAllHosts(benchmark::State& state, bool explicit_ci) {
  const CiSnapshot& snap = *fixture().snap;
  std::vector<Event> events(1 << 18);
  std::mt19937_64 rng(11);
  for (Event& e : events) {
    const size_t i = rng() % kCis;
    if (explicit_ci) e.ci = "ci-" + num(i);
    else e.host = fqdn(i);
  }
  constexpr size_t kBatch = 512;
  std::vector<Binding> out(kBatch);
  size_t base = 0;
  for (auto _ : state) {
    snap.bindAll(std::span<const Event>(events).subspan(base, kBatch), out);
    benchmark::DoNotOptimize(out.data());
    base = (base + kBatch) & (events.size() - 1);
  }
  if (out[0].kind != (explicit_ci ? MatchKind::kExplicitCi : MatchKind::kHost)) {
    state.SkipWithError("unexpected match kind");
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
void BM_BindAllHostFqdn(benchmark::State& state) { bindAllHosts(state, false); }
void BM_BindAllExplicitCi(benchmark::State& state) { bindAllHosts(state, true); }

void BM_IndexMemory1M(benchmark::State& state) {
  const Fixture& f = fixture();
  for (auto _ : state) benchmark::DoNotOptimize(f.snap->size());
  state.counters["index_bytes_per_ci"] =
      static_cast<double>(f.snap->indexMemoryBytes()) / static_cast<double>(kCis);
  state.counters["rss_bytes_per_ci"] = static_cast<double>(f.rss_delta) / static_cast<double>(kCis);
  state.counters["build_1m_seconds"] = f.build_seconds;
}

void BM_BuildSnapshot100k(benchmark::State& state) {
  const std::vector<ConfigurationItem> cis = generateCis(100'000);
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<ConfigurationItem> copy = cis;
    state.ResumeTiming();
    auto snap = buildSnapshot(std::move(copy));
    if (!snap) state.SkipWithError("build failed");
    benchmark::DoNotOptimize(snap);
  }
  state.SetItemsProcessed(state.iterations() * 100'000);
}

void BM_LoadYaml100k(benchmark::State& state) {
  std::string yaml = "cis:\n";
  for (const ConfigurationItem& ci : generateCis(100'000)) {
    yaml += "  - id: " + ci.id + "\n    class: " + std::string(ciClassName(ci.ci_class)) +
            "\n    aliases: [";
    for (size_t k = 0; k < ci.aliases.size(); ++k) yaml += (k ? ", " : "") + ci.aliases[k];
    yaml += "]\n";
    if (!ci.depends_on.empty()) yaml += "    depends_on: [" + ci.depends_on[0] + "]\n";
  }
  for (auto _ : state) {
    auto snap = loadCmdbString(yaml, "bench.yaml");
    if (!snap) state.SkipWithError("load failed");
    benchmark::DoNotOptimize(snap);
  }
  state.SetItemsProcessed(state.iterations() * 100'000);
  state.counters["yaml_bytes"] = static_cast<double>(yaml.size());
}

// Service health as the pipeline recomputes it after every batch with changes: 1 M CIs, 50
// services of 100 servers each, 1 000 CIs with an active incident.
void BM_ServiceHealth1M(benchmark::State& state) {
  static const std::shared_ptr<const CiSnapshot> snap = [] {
    std::vector<ConfigurationItem> cis = generateCis(kCis);
    for (size_t s = 0; s < 50; ++s) {
      ConfigurationItem service;
      service.id = "service-" + std::to_string(s);
      service.ci_class = CiClass::kService;
      for (size_t m = 1; m <= 100; ++m) service.members.push_back("ci-" + num((s * 100 + m) * 7 % kCis | 1));
      cis.push_back(std::move(service));
    }
    auto built = buildSnapshot(std::move(cis));
    return built ? *built : nullptr;
  }();
  if (!snap) {
    state.SkipWithError("build failed");
    return;
  }
  std::unordered_map<std::string, Severity> active;
  for (size_t i = 0; i < 1000; ++i) active.emplace("ci-" + num(i * 997 % kCis), Severity::kMajor);
  for (auto _ : state) benchmark::DoNotOptimize(computeServiceHealth(*snap, active));
}

BENCHMARK(BM_BindHostFqdn)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BindHostUpperCase)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BindShortName)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BindIp)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BindCidr)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BindUnknownHost)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BindEventExplicitCi)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BindAllHostFqdn)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BindAllExplicitCi)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_IndexMemory1M)->Iterations(1);
BENCHMARK(BM_ServiceHealth1M)->Unit(benchmark::kMicrosecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_BuildSnapshot100k)->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_LoadYaml100k)->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace vigil::cmdb
