#include "daemon/metrics/collectors.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include "daemon/store/store.h"
#include "daemon/store/wal_sync_stats.h"

namespace vigil::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void addValue(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

std::string readWhole(const char* path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

double bootTime() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

size_t openFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  size_t n = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the descriptor opendir() itself holds
}

class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector() : boot_time_(bootTime()), ticks_(sysconf(_SC_CLK_TCK)), page_(sysconf(_SC_PAGESIZE)) {}

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    ProcStat stat;
    if (parseProcStat(readWhole("/proc/self/stat"), boot_time_, ticks_, page_, stat)) {
      out.push_back(family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                           MetricType::Counter));
      addValue(out.back(), stat.cpu_seconds);
      out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge));
      addValue(out.back(), stat.resident_bytes);
      out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge));
      addValue(out.back(), stat.virtual_bytes);
      out.push_back(family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                           MetricType::Gauge));
      addValue(out.back(), stat.start_time_seconds);
    }
    out.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge));
    addValue(out.back(), static_cast<double>(openFds()));
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      out.push_back(family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge));
      addValue(out.back(), static_cast<double>(limit.rlim_cur));
    }
    return out;
  }

 private:
  const double boot_time_;
  const long ticks_;
  const long page_;
};

// A figure RocksDB keeps per column family, exported with a cf label.
struct PerCfProperty {
  const char* property;
  const char* metric;
  const char* help;
};
constexpr PerCfProperty kPerCf[] = {
    {"rocksdb.live-sst-files-size", "vigil_store_live_sst_bytes", "Size of the live SST files, by column family"},
    {"rocksdb.cur-size-all-mem-tables", "vigil_store_memtable_bytes",
     "Size of the active and unflushed memtables, by column family"},
    {"rocksdb.estimate-num-keys", "vigil_store_estimated_keys", "RocksDB's estimate of the keys, by column family"},
    {"rocksdb.estimate-pending-compaction-bytes", "vigil_store_pending_compaction_bytes",
     "Bytes compaction has to rewrite to bring every level under its target, by column family"},
};

// A DB-wide figure.
struct DbProperty {
  const char* property;
  const char* metric;
  const char* help;
};
constexpr DbProperty kDb[] = {
    {"rocksdb.is-write-stopped", "vigil_store_write_stopped", "1 while RocksDB stops writes (a write stall)"},
    {"rocksdb.actual-delayed-write-rate", "vigil_store_delayed_write_rate_bytes",
     "Bytes per second RocksDB slows writes down to; 0 when writes are not delayed"},
    {"rocksdb.num-running-compactions", "vigil_store_running_compactions", "Compactions running now"},
    {"rocksdb.num-running-flushes", "vigil_store_running_flushes", "Memtable flushes running now"},
};

double parseDouble(const std::string& text) {
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

class StoreCollector final : public prometheus::Collectable {
 public:
  explicit StoreCollector(const store::Store& store) : store_(store) {}

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    for (const auto& p : kPerCf) {
      out.push_back(family(p.metric, p.help, MetricType::Gauge));
      for (auto& [cf, value] : store_.intPropertyByColumnFamily(p.property)) {
        addValue(out.back(), static_cast<double>(value), {{"cf", cf}});
      }
    }
    for (const auto& p : kDb) {
      out.push_back(family(p.metric, p.help, MetricType::Gauge));
      addValue(out.back(), static_cast<double>(store_.dbIntProperty(p.property)));
    }
    // Compaction totals from the column family statistics RocksDB keeps anyway (no Statistics
    // object needed): the "Sum" row over all levels, where a flush counts as a compaction into L0.
    auto count = family("vigil_store_compactions_total", "Compactions completed since start, by column family",
                        MetricType::Counter);
    auto written = family("vigil_store_compaction_written_bytes_total",
                          "Bytes written by compactions since start, by column family", MetricType::Counter);
    for (auto& [cf, stats] : store_.mapPropertyByColumnFamily("rocksdb.cfstats")) {
      auto n = stats.find("compaction.Sum.CompCount");
      auto gb = stats.find("compaction.Sum.WriteGB");
      addValue(count, n == stats.end() ? 0 : parseDouble(n->second), {{"cf", cf}});
      addValue(written, gb == stats.end() ? 0 : parseDouble(gb->second) * (1ull << 30), {{"cf", cf}});
    }
    out.push_back(std::move(count));
    out.push_back(std::move(written));
    out.push_back(walSyncFamily(store_.walSyncs()));
    return out;
  }

 private:
  static MetricFamily walSyncFamily(const store::WalSyncHistogram& h) {
    auto f = family("vigil_store_wal_sync_duration_seconds",
                    "Time of each write-ahead log sync (one per commit with store.sync): slow syncs with "
                    "fast commits' CPU mean the disk made the commit wait",
                    MetricType::Histogram);
    ClientMetric m;
    m.histogram.sample_count = h.count;
    m.histogram.sample_sum = h.sum_seconds;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.buckets.size(); ++i) {
      cumulative += h.buckets[i];
      const double bound = i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back({cumulative, bound});
    }
    f.metric.push_back(std::move(m));
    return f;
  }

  const store::Store& store_;
};

}  // namespace

bool parseProcStat(std::string_view stat, double boot_time, long ticks_per_second, long page_size, ProcStat& out) {
  // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return false;
  std::istringstream in{std::string(stat.substr(close + 1))};
  // Fields from 3 (state) on; we need 14 utime, 15 stime, 22 starttime, 23 vsize, 24 rss.
  std::vector<std::string> fields;
  std::string field;
  while (in >> field && fields.size() < 22) fields.push_back(field);
  if (fields.size() < 22) return false;
  auto num = [&](int index) { return std::strtod(fields[index - 3].c_str(), nullptr); };
  const double ticks = static_cast<double>(ticks_per_second);
  out.cpu_seconds = (num(14) + num(15)) / ticks;
  out.start_time_seconds = boot_time + num(22) / ticks;
  out.virtual_bytes = num(23);
  out.resident_bytes = num(24) * static_cast<double>(page_size);
  return true;
}

std::shared_ptr<prometheus::Collectable> makeProcessCollector() { return std::make_shared<ProcessCollector>(); }

std::shared_ptr<prometheus::Collectable> makeStoreCollector(const store::Store& store) {
  return std::make_shared<StoreCollector>(store);
}

}  // namespace vigil::metrics
