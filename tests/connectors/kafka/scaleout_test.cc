// Scale-out on the mock cluster with real vigild processes (docs/scale-out.md): three cores in
// one consumer group share the ingest partitions; one is killed with SIGKILL mid-stream and the
// others restore its partitions from the changelog and continue, with every event counted once.
// An edge binds events to the CMDB and keys them by correlation domain, so topology suppression
// still works after the domain's partition moved to another core. No sleeps: every wait is on a
// condition, with generous timeouts for a loaded 2-core box.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "tests/connectors/kafka/kafka_test_support.h"
#include "tests/support/webhook_receiver.h"

namespace vigil::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kPartitions = 6;

double ownedPartitions(const VigildInstance& vigild) { return metricValue(vigild, "vigil_scaleout_owned_partitions"); }

bool settled(const std::vector<const VigildInstance*>& cores) { return scaleoutSettled(cores, kPartitions); }

// Starts `n` cores on `cluster` and waits until they share every partition.
void startSettledCores(const MockKafkaCluster& cluster, const std::string& extra_yaml, int n,
                       std::vector<std::unique_ptr<VigildInstance>>& cores) {
  for (int i = 0; i < n; ++i) {
    cores.push_back(std::make_unique<VigildInstance>(scaleoutCoreYaml(cluster) + extra_yaml));
    ASSERT_TRUE(cores.back()->start()) << cores.back()->log();
  }
  std::vector<const VigildInstance*> all;
  for (const auto& core : cores) all.push_back(core.get());
  ASSERT_TRUE(waitFor([&] { return settled(all); }, seconds(60))) << cores[0]->log();
}

// No partition the cores own reports consumer lag (a partition that never had an event reports
// none: callers also wait for the counts).
bool caughtUp(const std::vector<const VigildInstance*>& cores) {
  for (const auto* c : cores) {
    for (int p = 0; p < kPartitions; ++p) {
      if (metricValue(*c, "vigil_kafka_consumer_lag{partition=\"" + std::to_string(p) + "\",topic=\"ingest\"}") > 0) {
        return false;
      }
    }
  }
  return true;
}

struct Census {
  uint64_t events = 0;
  std::map<std::string, int> incidents_per_key;  // a key listed twice is a duplicated incident
};

Census census(const std::vector<const VigildInstance*>& cores) {
  Census c;
  for (const auto* core : cores) {
    for (const auto& in : allIncidents(*core)) {
      if (in["owner"] != core->url("")) continue;  // every core lists all (the read side): count at the owner
      c.events += in["event_count"].get<uint64_t>();
      ++c.incidents_per_key[in["key"].get<std::string>()];
    }
  }
  return c;
}

// Every one of `produced` events counted once, and each of `hosts` hosts' incidents open on one
// core only.
void expectCountedOnce(const Census& c, int produced, int hosts) {
  EXPECT_EQ(c.events, static_cast<uint64_t>(produced)) << "an event was counted twice or lost";
  EXPECT_EQ(c.incidents_per_key.size(), static_cast<size_t>(hosts));
  for (const auto& [key, n] : c.incidents_per_key) EXPECT_EQ(n, 1) << key << " is open on more than one core";
}

// The core owning the most partitions (the one whose kill moves the most).
size_t busiestCore(const std::vector<std::unique_ptr<VigildInstance>>& cores) {
  size_t busiest = 0;
  for (size_t i = 1; i < cores.size(); ++i) {
    if (ownedPartitions(*cores[i]) > ownedPartitions(*cores[busiest])) busiest = i;
  }
  return busiest;
}

std::vector<const VigildInstance*> allBut(const std::vector<std::unique_ptr<VigildInstance>>& cores, size_t left_out) {
  std::vector<const VigildInstance*> rest;
  for (size_t i = 0; i < cores.size(); ++i) {
    if (i != left_out) rest.push_back(cores[i].get());
  }
  return rest;
}

// kcat runs of `per_host` disk events for each of `hosts` hosts (key = host, spread over the
// partitions), starting at event number `first`. Returns how many were produced.
int produceRound(MockKafkaCluster& cluster, int hosts, int per_host, int first) {
  int produced = 0;
  for (int h = 0; h < hosts; ++h) {
    std::vector<std::string> lines;
    for (int i = 0; i < per_host; ++i) lines.push_back(diskEvent("h" + std::to_string(h), first + i));
    if (!cluster.produce("ingest", "h" + std::to_string(h), lines)) return produced;
    produced += per_host;
  }
  return produced;
}

TEST(Scaleout, ThreeCoresKillNineOneMidStreamEveryEventCountedOnce) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  std::vector<std::unique_ptr<VigildInstance>> cores;
  ASSERT_NO_FATAL_FAILURE(startSettledCores(cluster, "", 3, cores));
  std::vector<const VigildInstance*> all = {cores[0].get(), cores[1].get(), cores[2].get()};

  constexpr int kHosts = 24;
  constexpr int kPerHost = 5;
  constexpr int kRounds = 6;
  int produced = 0;
  for (int round = 0; round < 3; ++round) produced += produceRound(cluster, kHosts, kPerHost, round * kPerHost);
  // Kill the core with the most partitions once it has counted part of the stream.
  const size_t victim = busiestCore(cores);
  const double victim_partitions = ownedPartitions(*cores[victim]);
  ASSERT_GT(victim_partitions, 0);
  uint64_t counted_at_kill = 0;
  ASSERT_TRUE(waitFor([&] {
    counted_at_kill = census(all).events;
    return counted_at_kill >= static_cast<uint64_t>(produced) / 3;
  }, seconds(60)));
  ASSERT_EQ(cores[victim]->kill(), -SIGKILL);
  const std::vector<const VigildInstance*> survivors = allBut(cores, victim);
  for (int round = 3; round < kRounds; ++round) produced += produceRound(cluster, kHosts, kPerHost, round * kPerHost);
  ASSERT_EQ(produced, kHosts * kPerHost * kRounds);

  // The survivors take the victim's partitions over (after its session times out) and catch up.
  ASSERT_TRUE(waitFor([&] { return settled(survivors) && caughtUp(survivors); }, seconds(120)))
      << survivors[0]->log() << survivors[1]->log();
  Census c;
  ASSERT_TRUE(waitFor([&] {
    c = census(survivors);
    return c.events >= static_cast<uint64_t>(produced);
  }, seconds(60))) << "counted " << c.events << " of " << produced;
  expectCountedOnce(c, produced, kHosts);
  for (const auto* s : survivors) {
    EXPECT_GT(metricValue(*s, "vigil_scaleout_changelog_records_total{result=\"produced\"}"), 0) << s->log();
  }
  double restored = 0, discarded = 0;
  for (const auto* s : survivors) {
    restored += metricValue(*s, "vigil_scaleout_changelog_records_total{result=\"restored\"}");
    discarded += metricValue(*s, "vigil_scaleout_changelog_records_total{result=\"discarded\"}");
  }
  EXPECT_GT(restored, 0) << "the victim's partitions were not restored from the changelog";
  std::printf("killed a core owning %.0f of %d partitions with %llu of %d events counted; survivors restored %.0f "
              "changelog records (%.0f of unfinished batches discarded), counted %llu\n",
              victim_partitions, kPartitions, static_cast<unsigned long long>(counted_at_kill), produced, restored,
              discarded, static_cast<unsigned long long>(c.events));
}

double sumMetric(const std::vector<const VigildInstance*>& cores, const std::string& series) {
  double sum = 0;
  for (const auto* c : cores) sum += std::max(0.0, metricValue(*c, series));
  return sum;
}

// Changelog records per partition, as the topic holds them now.
std::map<int, size_t> changelogRecordsPerPartition(const MockKafkaCluster& cluster) {
  std::string out;
  run({"kcat", "-b", cluster.bootstrap(), "-C", "-q", "-e", "-t", "changelog", "-f", "%p\n"}, &out);
  std::map<int, size_t> records;
  size_t start = 0;
  for (size_t end; (end = out.find('\n', start)) != std::string::npos; start = end + 1) {
    ++records[std::stoi(out.substr(start, end - start))];
  }
  return records;
}

// The partitions of the incidents `core` lists as its own.
std::set<int> partitionsOwnedBy(const VigildInstance& core) {
  std::set<int> partitions;
  for (const auto& in : allIncidents(core)) {
    if (in["owner"] == core.url("")) partitions.insert(static_cast<int>(in["id"].get<uint64_t>() >> 48));
  }
  return partitions;
}

// How far each core's log reached: takeovers after it are the ones firstTakeovers() sees.
std::vector<size_t> logMarks(const std::vector<const VigildInstance*>& cores) {
  std::vector<size_t> marks;
  for (const auto* c : cores) marks.push_back(c->log().size());
  return marks;
}

// The records restored by the first takeover of each of `partitions` found in the cores' logs
// after `marks` (the earliest by time stamp). A later takeover of the same partition (the group
// declared a survivor's partitions lost, which drops its copies) is not the one measured.
std::map<int, double> firstTakeovers(const std::vector<const VigildInstance*>& cores, const std::vector<size_t>& marks,
                                     const std::set<int>& partitions) {
  static const std::regex kRestored(R"(ts=(\S+) level=info scale-out core: restored (\d+) records of partition (\d+) )");
  std::map<int, std::pair<std::string, double>> first;  // partition → (time stamp, records)
  for (size_t i = 0; i < cores.size(); ++i) {
    const std::string log = cores[i]->log();
    const std::string after = log.substr(std::min(marks[i], log.size()));
    for (std::sregex_iterator it(after.begin(), after.end(), kRestored), end; it != end; ++it) {
      const int partition = std::stoi((*it)[3]);
      if (!partitions.contains(partition)) continue;
      auto [at, inserted] = first.try_emplace(partition, (*it)[1], std::stod((*it)[2]));
      if (!inserted && (*it)[1].str() < at->second.first) at->second = {(*it)[1], std::stod((*it)[2])};
    }
  }
  std::map<int, double> records;
  for (const auto& [partition, restore] : first) records[partition] = restore.second;
  return records;
}

// Three cores, each partition kept warm by both cores that do not own it (standby_replicas: 2, so
// wherever the group moves a partition, its new owner has a copy). After a kill -9, the takeover of
// the victim's partitions restores only the changelog's tail, not the partitions' records, and
// every event is still counted once. (With standby_replicas: 0 the takeover restores them all.)
TEST(Scaleout, StandbyReplicasMakeATakeoverAfterKillNineRestoreOnlyTheTail) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  std::vector<std::unique_ptr<VigildInstance>> cores;
  ASSERT_NO_FATAL_FAILURE(startSettledCores(cluster, "  standby_replicas: 2\n", 3, cores));
  std::vector<const VigildInstance*> all = {cores[0].get(), cores[1].get(), cores[2].get()};

  constexpr int kHosts = 24;
  constexpr int kPerHost = 5;
  int produced = 0;
  for (int round = 0; round < 3; ++round) produced += produceRound(cluster, kHosts, kPerHost, round * kPerHost);
  // Every core keeps the partitions it does not own warm, and has applied all of them.
  ASSERT_TRUE(waitFor([&] {
    return settled(all) && census(all).events == static_cast<uint64_t>(produced) &&
           sumMetric(all, "vigil_scaleout_standby_partitions") == 2 * kPartitions &&
           sumMetric(all, "vigil_scaleout_standby_lag_records") == 0 &&
           sumMetric(all, "vigil_scaleout_standby_records_total{result=\"applied\"}") > 0;
  }, seconds(120))) << cores[0]->log();
  const size_t victim = busiestCore(cores);
  // The records a takeover of the victim's partitions would read without a copy.
  const std::set<int> victim_partitions = partitionsOwnedBy(*cores[victim]);
  ASSERT_FALSE(victim_partitions.empty());
  const auto per_partition = changelogRecordsPerPartition(cluster);
  const std::vector<const VigildInstance*> survivors = allBut(cores, victim);
  const std::vector<size_t> marks = logMarks(survivors);
  ASSERT_EQ(cores[victim]->kill(), -SIGKILL);
  for (int round = 3; round < 6; ++round) produced += produceRound(cluster, kHosts, kPerHost, round * kPerHost);
  ASSERT_EQ(produced, kHosts * kPerHost * 6);

  ASSERT_TRUE(waitFor([&] { return settled(survivors) && caughtUp(survivors); }, seconds(120)))
      << survivors[0]->log() << survivors[1]->log();
  Census c;
  ASSERT_TRUE(waitFor([&] { return (c = census(survivors)).events >= static_cast<uint64_t>(produced); }, seconds(60)))
      << "counted " << c.events << " of " << produced;
  expectCountedOnce(c, produced, kHosts);
  // Each of the victim's partitions was taken over from a warm copy: its restore read a tail of
  // under a tenth of the partition's changelog (none, unless the victim's last records were in
  // flight), where a restore from the start reads most of it.
  const auto takeovers = firstTakeovers(survivors, marks, victim_partitions);
  EXPECT_EQ(takeovers.size(), victim_partitions.size()) << survivors[0]->log() << survivors[1]->log();
  double tail = 0;
  size_t victim_records = 0;
  for (const auto& [partition, restored] : takeovers) {
    const size_t records = per_partition.count(partition) ? per_partition.at(partition) : 0;
    EXPECT_LT(restored * 10, static_cast<double>(records))
        << "partition " << partition << ": the takeover restored " << restored << " of its " << records
        << " changelog records\n" << survivors[0]->log() << survivors[1]->log();
    tail += restored;
    victim_records += records;
  }
  // The dead core is gone from the view: each survivor now keeps the other's partitions warm.
  EXPECT_TRUE(waitFor([&] { return sumMetric(survivors, "vigil_scaleout_standby_partitions") == kPartitions; },
                      seconds(60)));
  std::printf("killed a core owning %zu of %d partitions (%zu changelog records); the takeover restored %.0f records\n",
              victim_partitions.size(), kPartitions, victim_records, tail);
}

// With one standby per partition, every core computes the same choice from what the changelog
// shows: exactly one warm copy of each partition, on a core that does not own it, and again
// after a kill -9 changed the owners; the takeover is correct whether it lands on the copy or not.
TEST(Scaleout, OneStandbyPerPartitionChosenAlikeByEveryCoreAcrossAKillNine) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  std::vector<std::unique_ptr<VigildInstance>> cores;
  ASSERT_NO_FATAL_FAILURE(startSettledCores(cluster, "  standby_replicas: 1\n", 3, cores));
  std::vector<const VigildInstance*> all = {cores[0].get(), cores[1].get(), cores[2].get()};
  constexpr int kHosts = 24;
  int produced = produceRound(cluster, kHosts, 3, 0);
  ASSERT_TRUE(waitFor([&] {
    return settled(all) && census(all).events == static_cast<uint64_t>(produced) &&
           sumMetric(all, "vigil_scaleout_standby_partitions") == kPartitions;
  }, seconds(120))) << cores[0]->log();
  for (const auto* core : all) {
    // Owned and kept warm never overlap: together at most every partition.
    EXPECT_LE(ownedPartitions(*core) + metricValue(*core, "vigil_scaleout_standby_partitions"), kPartitions);
  }
  ASSERT_EQ(cores[2]->kill(), -SIGKILL);
  const std::vector<const VigildInstance*> survivors = {cores[0].get(), cores[1].get()};
  produced += produceRound(cluster, kHosts, 2, 3);
  Census c;
  ASSERT_TRUE(waitFor([&] {
    return settled(survivors) && caughtUp(survivors) &&
           (c = census(survivors)).events >= static_cast<uint64_t>(produced) &&
           sumMetric(survivors, "vigil_scaleout_standby_partitions") == kPartitions;
  }, seconds(180))) << "counted " << c.events << " of " << produced << "\n" << survivors[0]->log();
  expectCountedOnce(c, produced, kHosts);
  for (const auto* core : survivors) {
    EXPECT_EQ(ownedPartitions(*core) + metricValue(*core, "vigil_scaleout_standby_partitions"), kPartitions)
        << "two cores: each keeps warm what the other owns";
  }
}

// Two cores keeping each other's partitions warm; B stops cleanly, A takes B's partitions over
// from its copies; B restarts with its stored copies (its own handed over, its standbys) and is
// given partitions back: no takeover reads a partition from the changelog's start, the copies it
// does not keep are dropped, and every event is counted once.
TEST(Scaleout, StandbyCopiesSurviveARestartAndMoveBackWithoutAFullRestore) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  std::vector<std::unique_ptr<VigildInstance>> cores;
  ASSERT_NO_FATAL_FAILURE(startSettledCores(cluster, "  standby_replicas: 1\n", 2, cores));
  VigildInstance& a = *cores[0];
  VigildInstance& b = *cores[1];
  constexpr int kHosts = 24;
  int produced = produceRound(cluster, kHosts, 3, 0);
  ASSERT_TRUE(waitFor([&] {
    return census({&a, &b}).events == static_cast<uint64_t>(produced) &&
           sumMetric({&a, &b}, "vigil_scaleout_standby_partitions") == kPartitions;
  }, seconds(120))) << a.log();
  const auto per_partition = changelogRecordsPerPartition(cluster);
  const std::set<int> of_b = partitionsOwnedBy(b);
  ASSERT_FALSE(of_b.empty());
  const std::vector<size_t> a_mark = logMarks({&a});
  ASSERT_EQ(b.stop(), 0) << b.log();
  ASSERT_TRUE(waitFor([&] { return settled({&a}); }, seconds(120))) << a.log();
  const auto by_a = firstTakeovers({&a}, a_mark, of_b);
  EXPECT_EQ(by_a.size(), of_b.size()) << a.log();
  for (const auto& [partition, restored] : by_a) {
    EXPECT_LT(restored * 10, static_cast<double>(per_partition.at(partition)))
        << "A restored B's partition " << partition << " from the start\n" << a.log();
  }
  produced += produceRound(cluster, kHosts, 1, 3);

  const std::vector<size_t> b_mark = logMarks({&b});
  ASSERT_TRUE(b.start()) << b.log();
  Census c;
  ASSERT_TRUE(waitFor([&] {
    return settled({&a, &b}) && ownedPartitions(b) > 0 && caughtUp({&a, &b}) &&
           (c = census({&a, &b})).events >= static_cast<uint64_t>(produced) &&
           sumMetric({&a, &b}, "vigil_scaleout_standby_partitions") == kPartitions;
  }, seconds(180))) << "counted " << c.events << " of " << produced << "\n" << b.log();
  expectCountedOnce(c, produced, kHosts);
  // B's takeovers read on from its stored copies (a copy is at most one round of events behind).
  const auto per_partition_now = changelogRecordsPerPartition(cluster);
  const std::set<int> back_to_b = partitionsOwnedBy(b);
  const auto by_b = firstTakeovers({&b}, b_mark, back_to_b);
  EXPECT_EQ(by_b.size(), back_to_b.size()) << b.log();
  for (const auto& [partition, restored] : by_b) {
    EXPECT_LT(restored * 2, static_cast<double>(per_partition_now.at(partition)))
        << "B restored partition " << partition << " from the start\n" << b.log();
  }
  produced += produceRound(cluster, kHosts, 1, 4);
  ASSERT_TRUE(waitFor([&] { return (c = census({&a, &b})).events >= static_cast<uint64_t>(produced); }, seconds(60)));
  EXPECT_EQ(c.events, static_cast<uint64_t>(produced));
  std::printf("B restarted: owns %.0f, keeps %.0f warm, restored %.0f changelog records\n", ownedPartitions(b),
              metricValue(b, "vigil_scaleout_standby_partitions"),
              metricValue(b, "vigil_scaleout_changelog_records_total{result=\"restored\"}"));
}

// A fourth core joins three mid-stream: the cooperative rebalance moves some partitions to it
// (revoked cleanly, restored from the changelog); every event is counted once, no incident is
// duplicated, and the fourth lists the incidents of the partitions it got.
TEST(Scaleout, AFourthCoreJoiningMidStreamTakesPartitionsOver) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  std::vector<std::unique_ptr<VigildInstance>> cores;
  ASSERT_NO_FATAL_FAILURE(startSettledCores(cluster, "", 3, cores));
  std::vector<const VigildInstance*> three = {cores[0].get(), cores[1].get(), cores[2].get()};

  constexpr int kHosts = 24;
  constexpr int kPerHost = 5;
  int produced = 0;
  for (int round = 0; round < 3; ++round) produced += produceRound(cluster, kHosts, kPerHost, round * kPerHost);
  ASSERT_TRUE(waitFor([&] { return census(three).events >= static_cast<uint64_t>(produced) / 3; }, seconds(60)));
  VigildInstance fourth(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(fourth.start()) << fourth.log();
  for (int round = 3; round < 6; ++round) produced += produceRound(cluster, kHosts, kPerHost, round * kPerHost);
  ASSERT_EQ(produced, kHosts * kPerHost * 6);

  std::vector<const VigildInstance*> four = {cores[0].get(), cores[1].get(), cores[2].get(), &fourth};
  ASSERT_TRUE(waitFor([&] { return settled(four) && ownedPartitions(fourth) > 0 && caughtUp(four); }, seconds(120)))
      << fourth.log();
  Census c;
  ASSERT_TRUE(waitFor([&] { return (c = census(four)).events >= static_cast<uint64_t>(produced); }, seconds(60)))
      << "counted " << c.events << " of " << produced;
  expectCountedOnce(c, produced, kHosts);
  const Census on_fourth = census({&fourth});
  EXPECT_GT(on_fourth.incidents_per_key.size(), 0u) << "the fourth core lists none of its partitions' incidents";
  std::printf("the fourth core took %.0f of %d partitions and lists %zu of %d incidents\n", ownedPartitions(fourth),
              kPartitions, on_fourth.incidents_per_key.size(), kHosts);
}

// A core that was stopped keeps its partitions' state for a quick restart; when the group gives
// some of them to another core meanwhile, the restarted core drops those once it knows its
// assignment, so its API does not list incidents another core owns.
TEST(Scaleout, ARestartDropsThePartitionsThatMovedAway) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  VigildInstance a(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(waitFor([&] { return settled({&a}); }, seconds(60))) << a.log();
  constexpr int kHosts = 24;
  ASSERT_EQ(produceRound(cluster, kHosts, 2, 0), 2 * kHosts);
  ASSERT_TRUE(waitFor([&] { return census({&a}).events == 2 * kHosts; }, seconds(60))) << a.log();
  ASSERT_EQ(a.stop(), 0) << a.log();

  VigildInstance b(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(b.start()) << b.log();
  ASSERT_TRUE(waitFor([&] { return settled({&b}) && census({&b}).events == 2 * kHosts; }, seconds(60))) << b.log();
  ASSERT_TRUE(a.start()) << a.log();
  // A gets at most half of the partitions back; what it lists must be its own only.
  Census c;
  ASSERT_TRUE(waitFor([&] {
    if (!settled({&a, &b}) || ownedPartitions(a) == 0) return false;
    c = census({&a, &b});
    return c.events == 2 * kHosts;
  }, seconds(120))) << "counted " << c.events << "\n" << a.log();
  EXPECT_LT(ownedPartitions(a), kPartitions);
  EXPECT_EQ(c.incidents_per_key.size(), static_cast<size_t>(kHosts));
  for (const auto& [key, n] : c.incidents_per_key) EXPECT_EQ(n, 1) << key << " is listed by both cores";
  ASSERT_EQ(produceRound(cluster, kHosts, 1, 2), kHosts);
  ASSERT_TRUE(waitFor([&] { return (c = census({&a, &b})).events >= 3 * kHosts; }, seconds(60)));
  EXPECT_EQ(c.events, 3u * kHosts);
  EXPECT_GT(census({&a}).incidents_per_key.size(), 0u) << "A lists nothing of its own partitions";
}

// A threshold rule read before the shipped ones.
void addThresholdRule(const VigildInstance& core) {
  const std::string path = core.dir().file("threshold.yaml");
  writeFile(path, R"(
rules:
  - name: crc-burst
    match: {message: {regex: 'CRC error on (?P<port>\S+)'}}
    set: {type: crc, state: problem, severity: minor}
    key: '{{host}}/crc/{{port}}'
    threshold: {count: 3, window: 30m}
)");
  replaceInConfig(core, "rules: {files: [", "rules: {files: [" + path + ", ");
}

std::string crcEvent(const std::string& host) {
  return R"({"host":")" + host + R"(","state":"problem","severity":"minor","message":"CRC error on ge-0/0/1"})";
}

double heldEvents(const std::vector<const VigildInstance*>& cores) {
  double sum = 0;
  for (const auto* c : cores) sum += std::max(0.0, metricValue(*c, "vigil_events_processed_total", {"outcome=\"held\""}));
  return sum;
}

// A count in a window that spans a kill -9: two events of each key counted on the old owner, the
// third on the core that took the partition over, which opens the incident with all three.
TEST(Scaleout, AThresholdCountSpansAKillNineHandover) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  auto a = std::make_unique<VigildInstance>(scaleoutCoreYaml(cluster));
  VigildInstance b(scaleoutCoreYaml(cluster));
  addThresholdRule(*a);
  addThresholdRule(b);
  ASSERT_TRUE(a->start()) << a->log();
  ASSERT_TRUE(b.start()) << b.log();
  ASSERT_TRUE(waitFor([&] { return settled({a.get(), &b}); }, seconds(60))) << a->log() << b.log();
  ASSERT_GT(ownedPartitions(*a), 0) << a->log();

  constexpr int kHosts = 12;
  for (int round = 0; round < 2; ++round) {
    for (int h = 0; h < kHosts; ++h) {
      ASSERT_TRUE(cluster.produce("ingest", "crc" + std::to_string(h), {crcEvent("crc" + std::to_string(h))}));
    }
  }
  ASSERT_TRUE(waitFor([&] { return heldEvents({a.get(), &b}) >= 2 * kHosts; }, seconds(60))) << a->log() << b.log();
  ASSERT_EQ(census({a.get(), &b}).incidents_per_key.size(), 0u) << "a count below the threshold opened an incident";
  const double held_on_a = metricValue(*a, "vigil_events_processed_total", {"outcome=\"held\""});
  ASSERT_GT(held_on_a, 0) << "the core to be killed counted nothing";
  ASSERT_EQ(a->kill(), -SIGKILL);
  ASSERT_TRUE(waitFor([&] { return settled({&b}); }, seconds(120))) << b.log();

  for (int h = 0; h < kHosts; ++h) {
    ASSERT_TRUE(cluster.produce("ingest", "crc" + std::to_string(h), {crcEvent("crc" + std::to_string(h))}));
  }
  Census c;
  ASSERT_TRUE(waitFor([&] { return (c = census({&b})).incidents_per_key.size() >= kHosts; }, seconds(120)))
      << "opened " << c.incidents_per_key.size() << " of " << kHosts << "\n" << b.log();
  EXPECT_EQ(c.incidents_per_key.size(), static_cast<size_t>(kHosts));
  for (const auto& in : allIncidents(b)) {
    const json full = b.getJson("/api/v1/incidents/" + std::to_string(in["id"].get<uint64_t>()));
    EXPECT_EQ(full["provenance"]["primitive"], "threshold 3 in 30m") << full.dump();
    EXPECT_EQ(full["provenance"]["events"].size(), 3u) << "the count did not move with " << in["key"];
  }
  std::printf("killed a core that had held %.0f of %d events below the threshold; the survivor opened %zu incidents\n",
              held_on_a, 2 * kHosts, c.incidents_per_key.size());
}

std::string webhookYaml(const WebhookReceiver& receiver) {
  return "webhooks:\n"
         "  - name: tickets\n"
         "    url: " + receiver.url("/hook") + "\n"
         "    match: {severity: [major]}\n"
         "    max_retries: 1000\n"
         "    backoff: {initial: 50ms, max: 200ms}\n";
}

bool outboxesEmpty(const std::vector<const VigildInstance*>& cores) {
  for (const auto* c : cores) {
    if (metricValue(*c, "vigil_webhook_queue_depth{receiver=\"tickets\"}") != 0) return false;
  }
  return true;
}

std::string okDiskEvent(const std::string& host) {
  return R"({"host":")" + host + R"(","type":"disk","state":"ok","severity":"major","message":"fixed"})";
}

// Three cores notify one receiver; the one with the most partitions is killed with SIGKILL while
// notifications are under way. Each incident's opening and resolve arrive, under a key of its
// incident, revision and change; a key never stands for two different changes, and a key arrives again
// only as a retry of the same change (after a failure, or a delivery the dead core made but could
// not record).
TEST(Scaleout, NotificationsSurviveAKillNineWithoutLossOrDistinctDuplicates) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  TempDir dir;
  WebhookReceiver receiver(dir, /*fail_first=*/3);
  ASSERT_NE(receiver.port(), 0) << readFile(dir.file("receiver.out"));
  std::vector<std::unique_ptr<VigildInstance>> cores;
  ASSERT_NO_FATAL_FAILURE(startSettledCores(cluster, webhookYaml(receiver), 3, cores));
  std::vector<const VigildInstance*> all = {cores[0].get(), cores[1].get(), cores[2].get()};

  constexpr int kHosts = 24;
  for (int h = 0; h < kHosts; ++h) {
    ASSERT_TRUE(cluster.produce("ingest", "n" + std::to_string(h), {diskEvent("n" + std::to_string(h), 0)}));
  }
  const size_t victim = busiestCore(cores);
  // Mid-stream: some openings delivered, the resolves not produced yet.
  ASSERT_TRUE(waitFor([&] { return receiver.acknowledged().size() >= kHosts / 3; }, seconds(60)));
  ASSERT_EQ(cores[victim]->kill(), -SIGKILL);
  // Read after the kill: every delivery the victim made is in it.
  const size_t acked_at_kill = receiver.acknowledged().size();
  const std::vector<const VigildInstance*> survivors = allBut(cores, victim);
  for (int h = 0; h < kHosts; ++h) {
    ASSERT_TRUE(cluster.produce("ingest", "n" + std::to_string(h), {okDiskEvent("n" + std::to_string(h))}));
  }
  ASSERT_TRUE(waitFor([&] {
    return settled(survivors) && caughtUp(survivors) && receiver.acknowledged().size() >= 2 * kHosts &&
           outboxesEmpty(survivors);
  }, seconds(180))) << receiver.acknowledged().size() << " keys acknowledged\n" << survivors[0]->log()
                    << survivors[1]->log();

  const Census c = census(survivors);
  expectCountedOnce(c, 2 * kHosts, kHosts);

  // What each key stood for, every time it arrived.
  struct Seen {
    std::set<std::string> changes;  // change + revision + state: one per key
    int acknowledged = 0;
    bool failed_before = false;     // the receiver answered it 500 at least once
  };
  std::map<std::string, Seen> by_key;
  std::map<uint64_t, std::vector<std::string>> by_incident;  // the changes acknowledged, in order, once each
  for (const auto& call : receiver.calls()) {
    const json body = json::parse(call["body"].get<std::string>());
    const json& in = body["incident"];
    const std::string key = call["key"].get<std::string>();
    EXPECT_EQ(key, "tickets-" + std::to_string(in["id"].get<uint64_t>()) + "-" +
                       std::to_string(in["revision"].get<uint64_t>()) + "-" + body["change"].get<std::string>())
        << body.dump();
    Seen& seen = by_key[key];
    seen.changes.insert(body["change"].get<std::string>() + "@" + std::to_string(in["revision"].get<uint64_t>()) +
                        "/" + in["state"].get<std::string>());
    if (call["status"] != 200) {
      seen.failed_before = true;
      continue;
    }
    if (seen.acknowledged++ == 0) by_incident[in["id"].get<uint64_t>()].push_back(body["change"]);
  }
  int repeats_without_failure = 0;
  for (const auto& [key, seen] : by_key) {
    EXPECT_EQ(seen.changes.size(), 1u) << key << " was sent for different changes";
    if (seen.acknowledged > 1 && !seen.failed_before) ++repeats_without_failure;
  }
  EXPECT_EQ(by_incident.size(), static_cast<size_t>(kHosts));
  for (const auto& [id, changes] : by_incident) {
    EXPECT_EQ(changes, (std::vector<std::string>{"opened", "resolved"})) << "incident " << id;
  }
  // Only a delivery the victim made but could not record in the changelog before it died is sent
  // again. How many that is depends on how far the changelog lagged behind the deliveries (under
  // load, several per partition), but never more than had been delivered when it died.
  EXPECT_LE(static_cast<size_t>(repeats_without_failure), acked_at_kill) << "keys repeated without a failure";
  std::printf("killed a core with %zu of %d keys acknowledged; %zu distinct keys in the end, %d repeated without a "
              "failure (deliveries the dead core made but had not recorded)\n",
              acked_at_kill, 2 * kHosts, by_key.size(), repeats_without_failure);
}

// A CMDB with a site behind its edge router: everything there shares one correlation domain.
std::string siteCmdb(const TempDir& dir) {
  const std::string path = dir.file("site-cmdb.yaml");
  writeFile(path,
            "cis:\n"
            "  - {id: rtr-edge-lyo1, class: router, aliases: [rtr1.lyo1.example.net]}\n"
            "  - {id: sw-lyo1, class: switch, aliases: [sw1.lyo1.example.net], depends_on: [rtr-edge-lyo1]}\n"
            "  - {id: srv-lyo1, class: server, aliases: [srv1.lyo1.example.net], depends_on: [sw-lyo1]}\n");
  return path;
}

// POSTs one event to the edge; true on 202 (given only once the ingest topic has it).
bool postEvent(const VigildInstance& edge, const std::string& host, const std::string& type, const std::string& severity) {
  const json event = {{"host", host}, {"type", type}, {"state", "problem"}, {"severity", severity},
                      {"message", type + " on " + host}};
  return httpPost(edge.url("/api/v1/events"), event.dump()).status == 202;
}

std::optional<json> incidentOn(const std::vector<const VigildInstance*>& cores, const std::string& ci) {
  for (const auto* c : cores) {
    for (const auto& in : allIncidents(*c)) {
      if (in["ci"] == ci) return in;
    }
  }
  return std::nullopt;
}

TEST(Scaleout, EdgeKeysByTopologyRootAndSuppressionSurvivesAHandover) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  TempDir dir;
  const std::string cmdb = "cmdb: {files: [" + siteCmdb(dir) + "]}\n";
  VigildInstance edge(cmdb + kafkaYaml(cluster, "ingest") +
                      "scaleout: {role: edge, ingest_topic: ingest, changelog_topic: changelog}\n");
  ASSERT_TRUE(edge.start()) << edge.log();
  auto a = std::make_unique<VigildInstance>(cmdb + scaleoutCoreYaml(cluster));
  ASSERT_TRUE(a->start()) << a->log();
  ASSERT_TRUE(waitFor([&] { return settled({a.get()}); }, seconds(60))) << a->log();

  // The router fails: A owns every partition, so it opens the parent incident.
  ASSERT_TRUE(postEvent(edge, "rtr1.lyo1.example.net", "link_down", "critical")) << edge.log();
  ASSERT_TRUE(waitFor([&] { return incidentOn({a.get()}, "rtr-edge-lyo1").has_value(); }, seconds(60))) << a->log();
  const json parent = *incidentOn({a.get()}, "rtr-edge-lyo1");
  EXPECT_TRUE(parent["parent"].is_null());

  // Both events went to the ingest topic under the site's domain: the router, the topology root.
  const auto ingest = cluster.consumeAll("ingest");
  ASSERT_EQ(ingest.size(), 1u);
  EXPECT_EQ(ingest[0].key, "rtr-edge-lyo1");

  // B joins, A dies: B takes over every partition and restores the parent from the changelog.
  VigildInstance b(cmdb + scaleoutCoreYaml(cluster));
  ASSERT_TRUE(b.start()) << b.log();
  ASSERT_TRUE(waitFor([&] { return settled({a.get(), &b}); }, seconds(60))) << b.log();
  ASSERT_EQ(a->kill(), -SIGKILL);
  ASSERT_TRUE(waitFor([&] { return settled({&b}); }, seconds(60))) << b.log();

  // A server behind the router fails after the takeover: a symptom of the router's incident.
  ASSERT_TRUE(postEvent(edge, "srv1.lyo1.example.net", "disk_failure", "major")) << edge.log();
  std::optional<json> child;
  ASSERT_TRUE(waitFor([&] { return (child = incidentOn({&b}, "srv-lyo1")).has_value(); }, seconds(60))) << b.log();
  EXPECT_EQ((*child)["parent"], parent["id"]) << child->dump();
  const auto router = incidentOn({&b}, "rtr-edge-lyo1");
  ASSERT_TRUE(router.has_value()) << "the parent incident did not move with its partition";
  EXPECT_EQ((*router)["id"], parent["id"]);
  const auto keys = cluster.consumeAll("ingest");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1].key, "rtr-edge-lyo1") << "the server's event left its domain";
}

// A writer that died mid-batch leaves records without their batch's marker: a takeover must not
// apply them (here: records that are not even valid state, under an epoch no marker closes).
TEST(Scaleout, ATakeoverDiscardsABatchItsWriterDidNotFinish) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  auto a = std::make_unique<VigildInstance>(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(a->start()) << a->log();
  ASSERT_TRUE(waitFor([&] { return settled({a.get()}); }, seconds(60))) << a->log();
  const int produced = produceRound(cluster, 12, 3, 0);
  ASSERT_EQ(produced, 36);
  ASSERT_TRUE(waitFor([&] { return census({a.get()}).events == 36; }, seconds(60))) << a->log();
  TempDir dir;
  const std::string junk = dir.file("junk.txt");
  writeFile(junk, "not-a-store-key\tnot-a-record\n");
  for (int p = 0; p < kPartitions; ++p) {
    std::string out;
    ASSERT_EQ(run({"kcat", "-b", cluster.bootstrap(), "-P", "-q", "-t", "changelog", "-p", std::to_string(p), "-K",
                   "\t", "-H", "vigil-epoch=7", "-l", junk},
                  &out), 0) << out;
  }
  ASSERT_EQ(a->kill(), -SIGKILL);
  VigildInstance b(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(b.start()) << b.log();
  ASSERT_TRUE(waitFor([&] { return settled({&b}); }, seconds(60))) << b.log();
  EXPECT_EQ(metricValue(b, "vigil_scaleout_changelog_records_total{result=\"discarded\"}"), kPartitions) << b.log();
  Census c;
  ASSERT_TRUE(waitFor([&] { return settled({&b}) && caughtUp({&b}) && (c = census({&b})).events >= 36; }, seconds(60)))
      << b.log();
  EXPECT_EQ(c.events, 36u) << b.log();
  EXPECT_EQ(c.incidents_per_key.size(), 12u);
}

// A zombie (the old owner, stalled past its session timeout, writing again after the group gave
// its partitions away) closes a batch in the changelog after the new owner took over: every later
// restore discards it, since the new owner's fence marker carries a newer epoch. Here the
// zombie's batch is not even valid state, so applying it would stop the next owner.
TEST(Scaleout, ABatchAReplacedOwnerClosesAfterTheTakeoverIsFencedOff) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  auto a = std::make_unique<VigildInstance>(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(a->start()) << a->log();
  ASSERT_TRUE(waitFor([&] { return settled({a.get()}); }, seconds(60))) << a->log();
  ASSERT_EQ(produceRound(cluster, 12, 3, 0), 36);
  ASSERT_TRUE(waitFor([&] { return census({a.get()}).events == 36; }, seconds(60))) << a->log();
  ASSERT_EQ(a->kill(), -SIGKILL);
  auto b = std::make_unique<VigildInstance>(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(b->start()) << b->log();
  ASSERT_TRUE(waitFor([&] { return settled({b.get()}); }, seconds(60))) << b->log();
  // A's epoch was 1 (the first owner of an empty changelog), B's is 2; "A" now closes a batch.
  TempDir dir;
  const std::string zombie = dir.file("zombie.txt");
  writeFile(zombie, "not-a-store-key\tnot-a-record\n\xff-marker\t1\n");
  for (int p = 0; p < kPartitions; ++p) {
    std::string out;
    ASSERT_EQ(run({"kcat", "-b", cluster.bootstrap(), "-P", "-q", "-t", "changelog", "-p", std::to_string(p), "-K",
                   "\t", "-H", "vigil-epoch=1", "-l", zombie},
                  &out), 0) << out;
  }
  // What B discarded of A's last batch if A died writing it, C discards too.
  const double discarded_by_b = metricValue(*b, "vigil_scaleout_changelog_records_total{result=\"discarded\"}");
  ASSERT_GE(discarded_by_b, 0) << b->log();
  ASSERT_EQ(b->kill(), -SIGKILL);
  VigildInstance c(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(c.start()) << c.log();
  ASSERT_TRUE(waitFor([&] { return settled({&c}); }, seconds(60))) << c.log();
  EXPECT_EQ(metricValue(c, "vigil_scaleout_changelog_records_total{result=\"discarded\"}"),
            discarded_by_b + kPartitions) << c.log();
  Census census_c;
  ASSERT_TRUE(waitFor([&] { return caughtUp({&c}) && (census_c = census({&c})).events >= 36; }, seconds(60)))
      << c.log();
  EXPECT_EQ(census_c.events, 36u);
  EXPECT_EQ(census_c.incidents_per_key.size(), 12u);
}

// A clean stop records how far each partition's changelog is applied: the restart that gets them
// back reads only what was written since (nothing), and counts on from its own state.
TEST(Scaleout, ACleanRestartDoesNotReplayTheChangelog) {
  MockKafkaCluster cluster({"ingest:" + std::to_string(kPartitions), "changelog:" + std::to_string(kPartitions)});
  ASSERT_TRUE(cluster.ok());
  VigildInstance core(scaleoutCoreYaml(cluster));
  ASSERT_TRUE(core.start()) << core.log();
  ASSERT_TRUE(waitFor([&] { return settled({&core}); }, seconds(60))) << core.log();
  ASSERT_EQ(produceRound(cluster, 12, 3, 0), 36);
  ASSERT_TRUE(waitFor([&] { return census({&core}).events == 36; }, seconds(60))) << core.log();
  ASSERT_EQ(core.stop(), 0) << core.log();
  const size_t changelog_before = cluster.consumeAll("changelog").size();
  ASSERT_GT(changelog_before, 0u);

  ASSERT_TRUE(core.start()) << core.log();
  ASSERT_TRUE(waitFor([&] { return settled({&core}); }, seconds(60))) << core.log();
  EXPECT_EQ(metricValue(core, "vigil_scaleout_changelog_records_total{result=\"restored\"}"), 0) << core.log();
  // Only the takeover's fence (one marker per partition) was written: no state.
  EXPECT_EQ(cluster.consumeAll("changelog").size(), changelog_before + kPartitions) << "the restart rewrote state";
  ASSERT_EQ(produceRound(cluster, 12, 1, 3), 12);
  Census c;
  ASSERT_TRUE(waitFor([&] { return (c = census({&core})).events >= 48; }, seconds(60))) << core.log();
  EXPECT_EQ(c.events, 48u);
  EXPECT_EQ(c.incidents_per_key.size(), 12u);
}

TEST(Scaleout, ConfigErrorsNameTheLine) {
  TempDir dir;
  const std::string path = dir.file("vigil.yaml");
  writeFile(path,
            "kafka: {brokers: 127.0.0.1:9, topics: [events]}\n"
            "scaleout:\n"
            "  role: core\n"
            "  domain: planet\n");
  std::string out;
  EXPECT_EQ(run({vigildPath(), "--check-config", "--config", path}, &out), 1);
  EXPECT_NE(out.find(path + ":4:11: domain must be topology_root, ci or host"), std::string::npos) << out;
  EXPECT_NE(out.find("kafka.topics must be exactly scaleout.ingest_topic"), std::string::npos) << out;
}

}  // namespace
}  // namespace vigil::testing
