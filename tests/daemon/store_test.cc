#include "daemon/store/store.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <thread>

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rocksdb/db.h>

#include "daemon/incidents/incident_codec.h"
#include "daemon/store/wal_sync_stats.h"
#include "daemon/time_util.h"
#include "daemon/verdicts/verdict_layout.h"
#include "daemon/verdicts/verdict_log.h"
#include "tests/daemon/store_test_events.h"
#include "tests/support/temp_dir.h"

namespace vigil::store {
namespace {

using incidents::ChangeSet;
using incidents::IncidentEngine;
using testing_events::open;
using testing_events::problem;

TEST(Store, KeyIndexHoldsTheFinalStateOfKeysOpenedAndResolvedInOneBatch) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("db")});
  ASSERT_TRUE(store) << store.error().toString();
  IncidentEngine engine;
  ChangeSet changes;
  Event ok = problem("a");
  ok.state = EventState::kOk;
  const rules::Decision resolve{rules::Action::kResolve, "a/link", "", "link-up"};
  engine.apply(problem("a"), open("a/link"));
  engine.takeChanges(changes);
  ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  engine.apply(ok, resolve);                      // incident 1, put by the batch before
  engine.apply(problem("a"), open("a/link"));     // incident 2
  engine.apply(ok, resolve);
  engine.apply(problem("b"), open("b/link"));     // incident 3
  engine.apply(problem("a"), open("a/link"));     // incident 4
  engine.takeChanges(changes);
  ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  auto a = (*store)->findActiveByKey(0, "a/link");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ(**a, 4u);
  auto b = (*store)->findActiveByKey(0, "b/link");
  ASSERT_TRUE(b && *b);
  EXPECT_EQ(**b, 3u);
  engine.apply(ok, resolve);
  Event b_ok = problem("b");
  b_ok.state = EventState::kOk;
  engine.apply(b_ok, {rules::Action::kResolve, "b/link", "", "link-up"});
  engine.takeChanges(changes);
  ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  a = (*store)->findActiveByKey(0, "a/link");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->has_value());
  b = (*store)->findActiveByKey(0, "b/link");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->has_value());
  auto two = (*store)->getIncident(2);  // opened and resolved within one batch: stored all the same
  ASSERT_TRUE(two && *two);
  EXPECT_EQ((*two)->state, incidents::IncidentState::kResolved);
}

TEST(Store, CommitsIncidentsAndRestoresThemAfterReopening) {
  testing::TempDir dir;
  StoreOptions options{.path = dir.file("db")};
  {
    auto store = Store::open(options);
    ASSERT_TRUE(store) << store.error().toString();
    IncidentEngine engine;
    engine.apply(problem("a"), open("a/link"));
    engine.apply(problem("b"), open("b/link"));
    engine.apply(problem("c", 2), open("c/link"));
    ChangeSet changes;
    engine.takeChanges(changes);
    ASSERT_TRUE((*store)->commit(changes, {{0, "kafka/events/0", "42"}}).isOk());
    // Resolve one; it must no longer be restored as active.
    Event ok = problem("b");
    ok.state = EventState::kOk;
    engine.apply(ok, {rules::Action::kResolve, "b/link", "", "link-up"});
    engine.takeChanges(changes);
    ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  }
  auto store = Store::open(options);
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->schemaVersion(), Store::kSchemaVersion);
  IncidentEngine engine;
  ASSERT_TRUE((*store)->restoreInto(engine).isOk());
  EXPECT_EQ(engine.activeCount(), 2u);
  ASSERT_NE(engine.findActive(0, "a/link"), nullptr);
  EXPECT_EQ(engine.findActive(0, "b/link"), nullptr);
  ASSERT_NE(engine.findActive(2, "c/link"), nullptr);

  auto b = (*store)->getIncident(2);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->state, incidents::IncidentState::kResolved);
  EXPECT_EQ((*b)->title, "Link down b/link");

  auto position = (*store)->getPosition(0, "kafka/events/0");
  ASSERT_TRUE(position && *position);
  EXPECT_EQ(**position, "42");

  // Sequences were restored: the next incident in partition 0 does not reuse an id.
  engine.apply(problem("d"), open("d/link"));
  ChangeSet changes;
  engine.takeChanges(changes);
  EXPECT_EQ(changes.incidents[0]->id, 3u);
}

TEST(Store, ScansNewestFirstFromACursor) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("db")});
  ASSERT_TRUE(store);
  IncidentEngine engine;
  for (int i = 0; i < 5; ++i) engine.apply(problem("h" + std::to_string(i)), open("k" + std::to_string(i)));
  ChangeSet changes;
  engine.takeChanges(changes);
  ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  std::vector<uint64_t> ids;
  ASSERT_TRUE((*store)->scanIncidents(0, [&](incidents::Incident&& in) {
    ids.push_back(in.id);
    return true;
  }).isOk());
  EXPECT_EQ(ids, (std::vector<uint64_t>{5, 4, 3, 2, 1}));
  ids.clear();
  ASSERT_TRUE((*store)->scanIncidents(4, [&](incidents::Incident&& in) {
    ids.push_back(in.id);
    return ids.size() < 2;
  }).isOk());
  EXPECT_EQ(ids, (std::vector<uint64_t>{3, 2}));
}

TEST(Store, IncidentJsonRoundTripsEveryField) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("db")});
  ASSERT_TRUE(store);
  IncidentEngine engine;
  Event e = problem("sw1");
  e.ci = "ci-sw1";
  e.labels.set("interface", "Gi0/1");
  e.occurred_at = Clock::now() - std::chrono::minutes(1);
  engine.apply(e, open("sw1/link/Gi0/1"));
  ChangeSet changes;
  engine.takeChanges(changes);
  ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  auto back = (*store)->getIncident(changes.incidents[0]->id);
  ASSERT_TRUE(back && *back);
  incidents::Incident expected = *changes.incidents[0];
  // Stored times have millisecond precision.
  auto ms = [](TimePoint t) { return std::chrono::time_point_cast<std::chrono::milliseconds>(t); };
  expected.first_seen = ms(expected.first_seen);
  expected.last_seen = ms(expected.last_seen);
  for (auto& t : expected.timeline) t.at = ms(t.at);
  for (auto& s : expected.recent_events) s.at = ms(s.at);
  for (auto& s : expected.provenance.events) s.at = ms(s.at);
  EXPECT_EQ(**back, expected);
}

// Opens `<host>/link` for each host in one engine batch and commits the batch's changes.
Status commitOpened(Store& store, std::initializer_list<const char*> hosts, ChangeSet& changes) {
  IncidentEngine engine;
  for (const char* host : hosts) engine.apply(problem(host), open(std::string(host) + "/link"));
  engine.takeChanges(changes);
  return store.commit(changes, {});
}

TEST(Store, NumbersChangesAndKeepsTheChangeLogAcrossRestarts) {
  testing::TempDir dir;
  StoreOptions options{.path = dir.file("db")};
  {
    auto store = Store::open(options);
    ASSERT_TRUE(store);
    EXPECT_EQ((*store)->lastChangeSeq(), 0u);
    ChangeSet changes;
    ASSERT_TRUE(commitOpened(**store, {"a", "b"}, changes).isOk());
    ASSERT_EQ(changes.changes.size(), 2u);
    EXPECT_EQ(changes.changes[0].seq, 1u);
    EXPECT_EQ(changes.changes[1].seq, 2u);
    ASSERT_TRUE((*store)->putPosition(0, "output/test", "2").isOk());
  }
  auto store = Store::open(options);
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->lastChangeSeq(), 2u);
  IncidentEngine engine;
  ASSERT_TRUE((*store)->restoreInto(engine).isOk());
  Event ok = problem("a");
  ok.state = EventState::kOk;
  engine.apply(ok, {rules::Action::kResolve, "a/link", "", "link-up"});
  ChangeSet changes;
  engine.takeChanges(changes);
  ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  EXPECT_EQ(changes.changes[0].seq, 3u);

  std::vector<uint64_t> seqs;
  std::string last;
  ASSERT_TRUE((*store)->readChanges(1, 100, [&](const ChangeRecord& r) {
    seqs.push_back(r.seq);
    last = r.json;
    return true;
  }).isOk());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 3}));
  EXPECT_NE(last.find(R"("change":"resolved")"), std::string::npos) << last;
  EXPECT_NE(last.find(R"("key":"a/link")"), std::string::npos) << last;
  auto position = (*store)->getPosition(0, "output/test");
  ASSERT_TRUE(position && *position);
  EXPECT_EQ(**position, "2");
}

TEST(Store, TrimsTheChangeLogToItsRetention) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("db"), .change_log_retention = 100});
  ASSERT_TRUE(store);
  IncidentEngine engine;
  for (int i = 0; i < 3000; ++i) {
    engine.apply(problem("h"), open("k" + std::to_string(i)));
    if (i % 100 == 99) {
      ChangeSet changes;
      engine.takeChanges(changes);
      ASSERT_TRUE((*store)->commit(changes, {}).isOk());
    }
  }
  uint64_t first = 0;
  size_t count = 0;
  ASSERT_TRUE((*store)->readChanges(0, 100000, [&](const ChangeRecord& r) {
    if (count++ == 0) first = r.seq;
    return true;
  }).isOk());
  EXPECT_EQ((*store)->lastChangeSeq(), 3000u);
  EXPECT_GT(first, 1000u);  // trimmed when crossing each 1024 boundary
  EXPECT_LE(count, 100u + 1024u);
}

// The seqs readChanges visits after `after_seq`, at most `limit`.
std::vector<uint64_t> changeSeqs(const Store& store, uint64_t after_seq, size_t limit = 100) {
  std::vector<uint64_t> seqs;
  EXPECT_TRUE(store.readChanges(after_seq, limit, [&](const ChangeRecord& r) {
    seqs.push_back(r.seq);
    return true;
  }).isOk());
  return seqs;
}

// Runs `use` on the store at `path` opened with RocksDB itself, every column family by its name.
void withRawStore(const std::string& path,
                  const std::function<void(rocksdb::DB&, std::map<std::string, rocksdb::ColumnFamilyHandle*>&)>& use) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db).ok());
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (size_t i = 0; i < names.size(); ++i) by_name[names[i]] = handles[i];
  use(*db, by_name);
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
}

// A store whose column families were only partly created (an older version's, or a first start
// cut short) gets the missing ones, and each family holds what its name says.
TEST(Store, CreatesTheColumnFamiliesAStoreLacksAndKeepsEachByItsName) {
  testing::TempDir dir;
  StoreOptions options{.path = dir.file("db")};
  {
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {{"default", {}}, {"keys", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  {
    auto store = Store::open(options);
    ASSERT_TRUE(store) << store.error().toString();
    IncidentEngine engine;
    engine.apply(problem("a"), open("a/link"));
    ChangeSet changes;
    engine.takeChanges(changes);
    ASSERT_TRUE((*store)->commit(changes, {{0, "kafka/events/0", "7"}}).isOk());
  }
  auto count = [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), family));
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  };
  withRawStore(options.path, [&](rocksdb::DB& db, std::map<std::string, rocksdb::ColumnFamilyHandle*>& by_name) {
    for (const char* name : {"incidents", "keys", "positions", "changes"}) {
      ASSERT_TRUE(by_name.contains(name)) << name;
      EXPECT_EQ(count(db, by_name[name]), 1u) << name;  // one incident, its key, one position, one change block
    }
  });
  auto store = Store::open(options);
  ASSERT_TRUE(store) << store.error().toString();
  IncidentEngine engine;
  ASSERT_TRUE((*store)->restoreInto(engine).isOk());
  EXPECT_NE(engine.findActive(0, "a/link"), nullptr);
}

TEST(Store, WritesOneChangeLogRecordPerCommitAndReadsFromInsideIt) {
  testing::TempDir dir;
  const std::string path = dir.file("db");
  {
    auto store = Store::open({.path = path});
    ASSERT_TRUE(store);
    ChangeSet changes;
    ASSERT_TRUE(commitOpened(**store, {"a", "b", "c"}, changes).isOk());
    ASSERT_EQ(changes.changes.size(), 3u);
    EXPECT_EQ(changeSeqs(**store, 0), (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(changeSeqs(**store, 1, 1), (std::vector<uint64_t>{2}));
    EXPECT_EQ(changeSeqs(**store, 2), (std::vector<uint64_t>{3}));
    EXPECT_EQ(changeSeqs(**store, 3), (std::vector<uint64_t>{}));
    std::vector<std::string> keys;
    ASSERT_TRUE((*store)->readChanges(0, 100, [&](const ChangeRecord& r) {
      keys.push_back(r.incident.key);
      return r.seq < 2;  // the visitor stops inside the block
    }).isOk());
    EXPECT_EQ(keys, (std::vector<std::string>{"a/link", "b/link"}));
  }
  withRawStore(path, [](rocksdb::DB& db, auto& families) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), families.at("changes")));
    size_t records = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++records;
    EXPECT_EQ(records, 1u);
  });
}

TEST(Store, ReadsAChangeLogWrittenOneRecordPerChangeAndGoesOnAfterIt) {
  testing::TempDir dir;
  const std::string path = dir.file("db");
  ASSERT_TRUE(Store::open({.path = path}));
  // The change log as vigild wrote it before the blocks (schema version 1): under each seq, the
  // change kind and the incident's summary encoding; the last seq in the meta family.
  IncidentEngine engine;
  engine.apply(problem("a"), open("a/link"));
  engine.apply(problem("b"), open("b/link"));
  ChangeSet old_changes;
  engine.takeChanges(old_changes);
  ASSERT_EQ(old_changes.incidents.size(), 2u);
  withRawStore(path, [&](rocksdb::DB& db, auto& families) {
    for (uint64_t seq = 1; seq <= 2; ++seq) {
      std::string value(1, static_cast<char>(incidents::ChangeKind::kOpened));
      incidents::encodeIncident(*old_changes.incidents[seq - 1], /*with_details=*/false, value);
      const char key[] = {0, 0, 0, 0, 0, 0, 0, static_cast<char>(seq)};
      ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), families.at("changes"), rocksdb::Slice(key, 8), value).ok());
    }
    const char last[] = {0, 0, 0, 0, 0, 0, 0, 2};
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), "change_seq", rocksdb::Slice(last, 8)).ok());
    const char version1[] = {0, 0, 0, 1};
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), "schema_version", rocksdb::Slice(version1, 4)).ok());
  });
  auto store = Store::open({.path = path});
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->schemaVersion(), Store::kSchemaVersion);
  EXPECT_EQ((*store)->lastChangeSeq(), 2u);
  engine.apply(problem("c"), open("c/link"));
  engine.apply(problem("d"), open("d/link"));
  ChangeSet changes;
  engine.takeChanges(changes);
  ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  EXPECT_EQ(changes.changes[0].seq, 3u);
  EXPECT_EQ(changeSeqs(**store, 0), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(changeSeqs(**store, 1, 2), (std::vector<uint64_t>{2, 3}));
  std::vector<std::string> keys;
  ASSERT_TRUE((*store)->readChanges(0, 100, [&](const ChangeRecord& r) {
    EXPECT_EQ(r.kind, incidents::ChangeKind::kOpened);
    EXPECT_NE(r.json.find(R"("change":"opened")"), std::string::npos) << r.json;
    keys.push_back(r.incident.key);
    return true;
  }).isOk());
  EXPECT_EQ(keys, (std::vector<std::string>{"a/link", "b/link", "c/link", "d/link"}));
  // Marked as this version on disk, so a vigild of version 1 refuses the blocks it cannot read.
  store->reset();
  withRawStore(path, [](rocksdb::DB& db, auto&) {
    std::string version;
    ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), "schema_version", &version).ok());
    EXPECT_EQ(version, std::string("\0\0\0\3", 4));
  });
}

// Store::scan visits `prefix`'s keys of one partition in order; scanBackward in reverse.
std::vector<std::string> keysBackward(const Store& store, uint16_t partition, std::string_view prefix, size_t limit = 100) {
  std::vector<std::string> keys;
  EXPECT_TRUE(store.scanBackward(Column::kVerdicts, partition, prefix, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return keys.size() < limit;
  }).isOk());
  return keys;
}

TEST(Store, ScansAPrefixBackward) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("db")});
  ASSERT_TRUE(store);
  std::vector<StateOp> ops;
  for (const char* key : {"a", "b", "b1", "b2", "b\xff", "b\xff\xff", "c", "\xff", "\xff\x01", "\xff\xff"}) {
    ops.push_back(StateOp::put(Column::kVerdicts, 1, key, "v"));
  }
  ops.push_back(StateOp::put(Column::kVerdicts, 0, "b3", "other partition"));
  ops.push_back(StateOp::put(Column::kVerdicts, 2, "b0", "other partition"));
  ASSERT_TRUE((*store)->write(ops).isOk());
  EXPECT_EQ(keysBackward(**store, 1, "b"), (std::vector<std::string>{"b\xff\xff", "b\xff", "b2", "b1", "b"}));
  EXPECT_EQ(keysBackward(**store, 1, "b", 2), (std::vector<std::string>{"b\xff\xff", "b\xff"}));
  // A prefix ending in 0xff, and one of nothing but 0xff (no key sorts past all of its keys).
  EXPECT_EQ(keysBackward(**store, 1, "b\xff"), (std::vector<std::string>{"b\xff\xff", "b\xff"}));
  EXPECT_EQ(keysBackward(**store, 1, "\xff"), (std::vector<std::string>{"\xff\xff", "\xff\x01", "\xff"}));
  EXPECT_EQ(keysBackward(**store, 1, "c"), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(keysBackward(**store, 1, "d").empty());
  EXPECT_EQ(keysBackward(**store, 2, "b"), (std::vector<std::string>{"b0"}));
  EXPECT_EQ(keysBackward(**store, 1, "").size(), 10u);
}

// A verdict as the correlator appends it to a batch's chunk.
void appendVerdict(std::string& chunk, uint64_t id, std::string_view ci, TimePoint at) {
  verdicts::Verdict verdict;
  verdict.reason = verdicts::Reason::kNoMatch;
  verdicts::appendToChunk({.event_id = id, .at = at, .event_time = at, .ci = ci, .host = "h", .verdict = verdict}, chunk);
}

std::vector<uint64_t> verdictIdsOf(const Store& store, std::string_view ci) {
  auto records = verdicts::VerdictLog::byCi(store, ci, 100);
  EXPECT_TRUE(records.has_value());
  std::vector<uint64_t> ids;
  for (const auto& r : *records) ids.push_back(r.event_id);
  return ids;
}

// Every key of the verdicts' family, in order.
std::vector<std::string> verdictKeys(const Store& store) {
  std::vector<std::string> keys;
  EXPECT_TRUE(store.scan(Column::kVerdicts, 0, "", [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  }).isOk());
  return keys;
}

TEST(Store, RebuildsTheVerdictsPerCiIndexOfASchema2StoreInBuckets) {
  testing::TempDir dir;
  const std::string path = dir.file("db");
  ASSERT_TRUE(Store::open({.path = path}));
  // The verdicts as vigild wrote them at schema version 2: two chunks (events 1..3 and 4..6), and
  // per chunk one "c" record per CI: "c" ci '\0' u64 BE ms u64 BE chunk last id → varint ids.
  const TimePoint at = fromUnixMillis(1'800'000'000'000);
  std::string first;
  std::string second;
  appendVerdict(first, 1, "sw1", at);
  appendVerdict(first, 2, "sw2", at);
  appendVerdict(first, 3, "sw1", at);
  appendVerdict(second, 4, "", at);
  appendVerdict(second, 6, "sw1", at);
  auto partitioned = [](std::string key) { return std::string(2, '\0') + key; };
  auto oldCiKey = [&](std::string_view ci, uint64_t chunk_last_id) {
    std::string key = "c";
    key += ci;
    key.push_back('\0');
    appendBigEndian(key, static_cast<uint64_t>(toUnixMillis(at)), 8);
    appendBigEndian(key, chunk_last_id, 8);
    return partitioned(key);
  };
  withRawStore(path, [&](rocksdb::DB& db, auto& families) {
    auto* verdict_family = families.at("verdicts");
    const rocksdb::WriteOptions wo;
    ASSERT_TRUE(db.Put(wo, verdict_family, partitioned(verdicts::chunkKey(3)), first).ok());
    ASSERT_TRUE(db.Put(wo, verdict_family, partitioned(verdicts::chunkKey(6)), second).ok());
    ASSERT_TRUE(db.Put(wo, verdict_family, oldCiKey("sw1", 3), std::string("\x01\x03", 2)).ok());
    ASSERT_TRUE(db.Put(wo, verdict_family, oldCiKey("sw2", 3), std::string("\x02", 1)).ok());
    ASSERT_TRUE(db.Put(wo, verdict_family, oldCiKey("sw1", 6), std::string("\x06", 1)).ok());
    std::string next;
    appendBigEndian(next, 7, 8);
    ASSERT_TRUE(db.Put(wo, verdict_family, partitioned("n"), next).ok());
    const char version2[] = {0, 0, 0, 2};
    ASSERT_TRUE(db.Put(wo, "schema_version", rocksdb::Slice(version2, 4)).ok());
  });
  auto store = Store::open({.path = path});
  ASSERT_TRUE(store) << store.error().toString();
  EXPECT_EQ((*store)->schemaVersion(), 3u);
  EXPECT_EQ(verdictIdsOf(**store, "sw1"), (std::vector<uint64_t>{6, 3, 1}));
  EXPECT_EQ(verdictIdsOf(**store, "sw2"), (std::vector<uint64_t>{2}));
  std::vector<std::string> expected = {verdicts::chunkKey(3), verdicts::chunkKey(6), "n"};
  for (uint16_t bucket : {verdicts::ciBucket("sw1"), verdicts::ciBucket("sw2")}) {
    expected.push_back(verdicts::ciBucketKey(bucket, 3));
  }
  expected.push_back(verdicts::ciBucketKey(verdicts::ciBucket("sw1"), 6));
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  EXPECT_EQ(verdictKeys(**store), expected);  // the "c" records are gone
  // As after a crash before the version mark: run again, it writes the same records.
  ASSERT_TRUE(verdicts::rebuildCiIndex(**store).isOk());
  EXPECT_EQ(verdictIdsOf(**store, "sw1"), (std::vector<uint64_t>{6, 3, 1}));

  // The trim erases the rebuilt records with their chunks.
  prometheus::Registry registry;
  TimePoint now = at + std::chrono::hours(2);
  verdicts::VerdictLog log(verdicts::VerdictOptions{.retention = std::chrono::hours(1)}, [&] { return now; }, registry);
  ASSERT_TRUE(log.restore(**store).isOk());
  now += std::chrono::seconds(2);
  IncidentEngine engine;
  log.onTick(now, engine);
  std::vector<StateOp> ops;
  log.collectStateOps(ops);
  ASSERT_TRUE((*store)->write(ops).isOk());
  EXPECT_EQ(verdictKeys(**store), (std::vector<std::string>{"n"}));
}

TEST(Store, RefusesADataDirFromANewerVersion) {
  testing::TempDir dir;
  const std::string path = dir.file("db");
  ASSERT_TRUE(Store::open({.path = path}));
  // Write a newer schema version with RocksDB itself, as a future vigild would.
  withRawStore(path, [](rocksdb::DB& db, auto&) {
    const char version[] = {0, 0, 0, 99};
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), "schema_version", rocksdb::Slice(version, 4)).ok());
  });
  auto store = Store::open({.path = path});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(store.error().message().find("schema version 99"), std::string::npos) << store.error().message();
}

TEST(WalSyncStats, CountsOnlyWalSyncsIntoTheirBuckets) {
  WalSyncStats stats;
  stats.recordSync("/data/store/000012.log", 3'000'000);    // 3 ms: the 5 ms bucket
  stats.recordSync("/data/store/000013.log", 120'000'000);  // 120 ms: the 250 ms bucket
  stats.recordSync("/data/store/000014.log", 2'000'000'000);  // past the last bound: +Inf
  stats.recordSync("/data/store/000015.sst", 50'000'000);   // a table file: not a commit's sync
  stats.recordSync("/data/store/MANIFEST-000005", 50'000'000);
  const WalSyncHistogram h = stats.snapshot();
  ASSERT_EQ(h.buckets.size(), h.bounds.size() + 1);
  EXPECT_EQ(h.count, 3u);
  EXPECT_DOUBLE_EQ(h.sum_seconds, 2.123);
  for (size_t i = 0; i < h.buckets.size(); ++i) {
    const double bound = i < h.bounds.size() ? h.bounds[i] : 1e9;
    const uint64_t want = bound == 0.005 || bound == 0.25 || bound == 1e9 ? 1 : 0;
    EXPECT_EQ(h.buckets[i], want) << "bucket up to " << bound;
  }
}

TEST(Store, CountsTheWalSyncOfEverySyncedCommit) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("db"), .sync = true});
  ASSERT_TRUE(store) << store.error().toString();
  const uint64_t at_open = (*store)->walSyncs().count;  // opening may sync a WAL of its own
  IncidentEngine engine;
  ChangeSet changes;
  for (const char* host : {"a", "b", "c"}) {
    engine.apply(problem(host), open(std::string(host) + "/link"));
    engine.takeChanges(changes);
    ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  }
  const WalSyncHistogram h = (*store)->walSyncs();
  EXPECT_EQ(h.count - at_open, 3u);
  EXPECT_GT(h.sum_seconds, 0);
}

}  // namespace
}  // namespace vigil::store

namespace vigil::store {
namespace {

TEST(Store, StateOpsCommitWithTheBatchAndScanByPartitionAndPrefix) {
  testing::TempDir dir;
  StoreOptions options{.path = dir.file("db")};
  {
    auto store = Store::open(options);
    ASSERT_TRUE(store) << store.error().toString();
    ChangeSet changes;
    changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 0, "rule-a/k1", "3"));
    changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 0, "rule-a/k2", "5"));
    changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 1, "rule-a/k3", "7"));
    changes.state_ops.push_back(StateOp::put(Column::kOutbox, 0, "rule-a/k1", "other column"));
    ASSERT_TRUE((*store)->commit(changes, {}).isOk());
    ASSERT_TRUE((*store)->write({StateOp::erase(Column::kCorrelation, 0, "rule-a/k2")}).isOk());
  }
  auto store = Store::open(options);  // survives reopening
  ASSERT_TRUE(store) << store.error().toString();
  std::vector<std::pair<std::string, std::string>> seen;
  ASSERT_TRUE((*store)
                  ->scan(Column::kCorrelation, 0, "rule-a/",
                         [&](std::string_view k, std::string_view v) {
                           seen.emplace_back(k, v);
                           return true;
                         })
                  .isOk());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"rule-a/k1", "3"}}));
  auto other = (*store)->get(Column::kCorrelation, 1, "rule-a/k3");
  ASSERT_TRUE(other && *other);
  EXPECT_EQ(**other, "7");
  auto outbox = (*store)->get(Column::kOutbox, 0, "rule-a/k1");
  ASSERT_TRUE(outbox && *outbox);
  EXPECT_EQ(**outbox, "other column");
  auto gone = (*store)->get(Column::kCorrelation, 0, "rule-a/k2");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
}

// store.memtable_budget caps the memtables of all column families together: without it each
// family keeps up to 64 MiB before its first flush, so these 24 MiB would stay in memory.
TEST(Store, MemtableBudgetFlushesBeforeTheFamiliesTogetherPassIt) {
  testing::TempDir dir;
  constexpr uint64_t kBudget = 4ull << 20;
  auto store = Store::open({.path = dir.file("db"), .memtable_budget_bytes = kBudget});
  ASSERT_TRUE(store) << store.error().toString();
  const std::string value(1000, 'v');
  uint64_t most = 0;
  for (int batch = 0; batch < 96; ++batch) {
    std::vector<StateOp> ops;
    for (int i = 0; i < 256; ++i) {
      const std::string key = std::to_string(batch) + "/" + std::to_string(i);
      ops.push_back(StateOp::put(batch % 2 == 0 ? Column::kCorrelation : Column::kVerdicts, 0, key, value));
    }
    ASSERT_TRUE((*store)->write(ops).isOk());
    most = std::max(most, (*store)->intProperty("rocksdb.cur-size-all-mem-tables"));
  }
  EXPECT_GT(most, kBudget / 4);  // the memtables did fill up to near the budget
  // A flush is scheduled at the budget; the memtables being flushed still count until done.
  EXPECT_LT(most, 3 * kBudget);
}

// A flush writes its table file 1 MiB at a time, each step waiting for the one before, so it
// never queues tens of MiB on the disk ahead of a commit's WAL sync (RocksDB records the
// options it was opened with in the store's OPTIONS file).
TEST(Store, WritesTableFilesToTheDiskInStepsOfOneMiB) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("db")});
  ASSERT_TRUE(store) << store.error().toString();
  std::string newest;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("db"))) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("OPTIONS-") && name > newest) newest = name;
  }
  ASSERT_FALSE(newest.empty());
  std::ifstream in(dir.file("db") + "/" + newest);
  const std::string options((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(options.find("\n  bytes_per_sync=1048576\n"), std::string::npos) << options;
  EXPECT_NE(options.find("\n  strict_bytes_per_sync=true\n"), std::string::npos) << options;
}

// Obsolete files go through RocksDB's delete scheduler: in 4 MiB truncations at 256 MiB/s in
// the background, not at once. A file a crash left in the trash is deleted so once the store is
// reopened: this one (1 GiB, sparse) takes about 4 s, where RocksDB alone deletes it during open.
TEST(Store, DeletesFilesInTheBackgroundAtALimitedRate) {
  testing::TempDir dir;
  ASSERT_TRUE(Store::open({.path = dir.file("db")}));
  const std::string trash = dir.file("db") + "/000042.log.trash";
  std::ofstream(trash).close();
  std::filesystem::resize_file(trash, uintmax_t{1} << 30);
  auto store = Store::open({.path = dir.file("db")});
  ASSERT_TRUE(store) << store.error().toString();
  EXPECT_TRUE(std::filesystem::exists(trash));
  for (int i = 0; i < 6000 && std::filesystem::exists(trash); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(std::filesystem::exists(trash));
}

}  // namespace
// Ops on one key, interleaved with others in any key order, apply in the order they were queued.
TEST(Store, OpsOnOneKeyApplyInQueueOrderWhateverTheKeyOrder) {
  testing::TempDir dir;
  auto store = Store::open({.path = dir.file("db")});
  ASSERT_TRUE(store) << store.error().toString();
  ChangeSet changes;
  changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 0, "z", "1"));
  changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 0, "m", "first"));
  changes.state_ops.push_back(StateOp::erase(Column::kCorrelation, 0, "z"));
  changes.state_ops.push_back(StateOp::put(Column::kOutbox, 0, "a", "outbox"));
  changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 0, "a", "kept"));
  changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 0, "m", "second"));
  changes.state_ops.push_back(StateOp::erase(Column::kCorrelation, 0, "q"));
  changes.state_ops.push_back(StateOp::put(Column::kCorrelation, 0, "q", "back"));
  ASSERT_TRUE((*store)->commit(changes, {}).isOk());
  const auto value = [&](Column column, std::string_view key) -> std::optional<std::string> {
    auto v = (*store)->get(column, 0, key);
    EXPECT_TRUE(v) << key;
    return v ? *v : std::nullopt;
  };
  EXPECT_EQ(value(Column::kCorrelation, "z"), std::nullopt);
  EXPECT_EQ(value(Column::kCorrelation, "m"), "second");
  EXPECT_EQ(value(Column::kCorrelation, "q"), "back");
  EXPECT_EQ(value(Column::kCorrelation, "a"), "kept");
  EXPECT_EQ(value(Column::kOutbox, "a"), "outbox");
  // Store::write() takes the same path.
  ASSERT_TRUE((*store)->write({StateOp::put(Column::kCorrelation, 0, "m", "third"),
                               StateOp::erase(Column::kCorrelation, 0, "m")}).isOk());
  EXPECT_EQ(value(Column::kCorrelation, "m"), std::nullopt);
}

}  // namespace vigil::store
