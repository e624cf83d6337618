// The pipeline's commit stage (daemon/pipeline_commit.cc): a batch's commit overlaps the
// processing of the next one, without giving up any of the guarantees of a serial commit. The
// store is real RocksDB on a file system that refuses writes on demand, as a full disk does.
#include "daemon/pipeline.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "tests/daemon/pipeline_fixture.h"
#include "tests/support/process.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

using testing::kLinkRules;
using testing::syslogLine;

// A disk that fills up on demand: while `full`, every write and sync of a file fails with "no
// space" (creating one still works), which is what RocksDB sees when its disk is full.
class FillableFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FillableFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FillableFileSystem"; }

  std::atomic<bool> full{false};

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok()) *result = std::make_unique<File>(std::move(*result), full);
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<bool>& full)
        : FSWritableFileOwnerWrapper(std::move(file)), full_(full) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (full_) return rocksdb::IOStatus::NoSpace("disk full (test)");
      return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
      if (full_) return rocksdb::IOStatus::NoSpace("disk full (test)");
      return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (full_) return rocksdb::IOStatus::NoSpace("disk full (test)");
      return FSWritableFileOwnerWrapper::Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (full_) return rocksdb::IOStatus::NoSpace("disk full (test)");
      return FSWritableFileOwnerWrapper::Fsync(options, dbg);
    }

   private:
    const std::atomic<bool>& full_;
  };
};

// Remembers the hosts of the events the correlator has processed.
class SeenHosts : public CorrelatorComponent {
 public:
  void onEvent(Event& event, rules::Decision&, incidents::IncidentEngine&) override {
    std::lock_guard lock(mu_);
    hosts_.push_back(event.host);
  }
  bool saw(const std::string& host) const {
    std::lock_guard lock(mu_);
    return std::find(hosts_.begin(), hosts_.end(), host) != hosts_.end();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> hosts_;
};


class PipelineCommitTest : public testing::PipelineFixture {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<FillableFileSystem>();
    env_ = rocksdb::NewCompositeEnv(fs_);
    auto store = store::Store::open({.path = dir_.file("db"), .env = env_.get()});
    ASSERT_TRUE(store) << store.error().toString();
    store_ = std::move(*store);
    auto rules = rules::RuleSet::loadString(kLinkRules, "inline.yaml");
    ASSERT_TRUE(rules) << rules.error().toString();
    rules_ = *rules;
  }
  void TearDown() override {
    fs_->full = false;
    pipeline_.reset();
    store_.reset();  // before the Env it writes through
  }

  void makePipeline(size_t max_batch_events = PipelineOptions{}.max_batch_events) {
    PipelineOptions options;
    options.commit_retry_interval = 10ms;
    options.max_batch_events = max_batch_events;
    pipeline_ = std::make_unique<Pipeline>(options, rules_, *store_, metrics_);
    pipeline_->addComponent(&seen_);
  }
  void startPipeline() {
    makePipeline();
    ASSERT_TRUE(pipeline_->start().isOk());
  }

  // Offers one event; its acknowledgement is appended to acks_ (in the order they come).
  void offer(const std::string& host, const std::string& message) {
    connectors::EventBatch batch;
    batch.events.push_back(syslogLine(host, message));
    batch.on_commit = [this, host](const Status& s) {
      std::lock_guard lock(acks_mu_);
      acks_.push_back(host + (s.isOk() ? " ok" : " failed"));
    };
    ASSERT_TRUE(pipeline_->offer(batch));
  }
  std::vector<std::string> acks() {
    std::lock_guard lock(acks_mu_);
    return acks_;
  }
  bool stored(const std::string& key) {
    auto id = store_->findActiveByKey(0, key);
    return id && id->has_value();
  }
  double commitFailures() { return metrics_.commit_failures.Value(); }

  std::shared_ptr<FillableFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  SeenHosts seen_;
  std::unique_ptr<Pipeline> pipeline_;
  std::mutex acks_mu_;
  std::vector<std::string> acks_;
};

TEST_F(PipelineCommitTest, AFailedCommitIsRetriedWhileTheNextBatchIsProcessedAndBothLandInOrder) {
  startPipeline();
  fs_->full = true;
  offer("sw1", "Interface e0 down");
  ASSERT_TRUE(testing::waitFor([&] { return commitFailures() >= 1; }));
  EXPECT_FALSE(pipeline_->ready());
  // The correlator goes on with the next batch while the first one's commit is retried.
  offer("sw2", "Interface e0 down");
  ASSERT_TRUE(testing::waitFor([&] { return seen_.saw("sw2"); }));
  // Neither is acknowledged, nor in the store, while the disk is full.
  EXPECT_TRUE(acks().empty());
  EXPECT_FALSE(stored("sw1/link/e0"));
  EXPECT_FALSE(stored("sw2/link/e0"));

  fs_->full = false;
  ASSERT_TRUE(testing::waitFor([&] { return acks().size() == 2; }));
  EXPECT_EQ(acks(), (std::vector<std::string>{"sw1 ok", "sw2 ok"}));
  EXPECT_TRUE(stored("sw1/link/e0"));
  EXPECT_TRUE(stored("sw2/link/e0"));
  EXPECT_TRUE(pipeline_->ready());
  EXPECT_EQ(storedIncidents().size(), 2u);
}

// The incidents each commit wrote, in commit order.
class CommitSizes final : public ChangeListener {
 public:
  void onCommitted(const incidents::ChangeSet& changes) override {
    std::lock_guard lock(mu_);
    sizes_.push_back(changes.incidents.size());
  }
  std::vector<size_t> sizes() const {
    std::lock_guard lock(mu_);
    return sizes_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<size_t> sizes_;
};

TEST_F(PipelineCommitTest, ABacklogIsCommittedInGroupsThatGrowFromOneBatch) {
  // Queued before the correlator starts, a backlog is not processed whole as one group while the
  // committer idles: the first commit holds the first batch alone (max_batch_events / 16 events
  // at most), later groups grow from there, and everything lands.
  makePipeline(/*max_batch_events=*/16);
  CommitSizes commits;
  pipeline_->addListener(&commits);
  for (int i = 0; i < 64; ++i) offer("sw" + std::to_string(i), "Interface e0 down");  // one incident each
  ASSERT_TRUE(pipeline_->start().isOk());
  ASSERT_TRUE(testing::waitFor([&] { return acks().size() == 64; }));
  const auto acked = acks();
  EXPECT_EQ(std::count_if(acked.begin(), acked.end(), [](const std::string& a) { return a.ends_with(" ok"); }), 64);
  EXPECT_EQ(storedIncidents().size(), 64u);

  pipeline_->stop();  // `commits` is the committer's listener: it goes before the test's stack does
  const auto sizes = commits.sizes();
  ASSERT_FALSE(sizes.empty());
  EXPECT_EQ(sizes.front(), 1u);
  EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), size_t{0}), 64u);
  EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()), 16u);
  // Groups of 1, 2, 3 … if none waits for a busy committer; one that does joins the next, and a
  // commit stops growing at max_batch_events, so at least 1 + 16 × 3 + 15.
  EXPECT_GE(sizes.size(), 5u);
}

TEST_F(PipelineCommitTest, ACommandWaitsForTheCommitInFlightAndSeesItsState) {
  startPipeline();
  offer("sw1", "Interface e0 down");
  ASSERT_TRUE(testing::waitFor([&] { return acks().size() == 1; }));
  const auto opened = storedIncidents();
  ASSERT_EQ(opened.size(), 1u);
  const incidents::IncidentId id = opened[0].id;

  // The resolution's commit is in flight (retried) when the command comes.
  fs_->full = true;
  offer("sw1", "Interface e0 up");
  ASSERT_TRUE(testing::waitFor([&] { return commitFailures() >= 1; }));
  std::promise<Result<incidents::Incident>> answer;
  incidents::IncidentCommand reopen;
  reopen.verb = incidents::IncidentCommand::Verb::kReopen;
  reopen.id = id;
  reopen.actor = "noc";
  ASSERT_TRUE(pipeline_->submit(reopen, [&](Result<incidents::Incident> r) { answer.set_value(std::move(r)); }));
  fs_->full = false;

  // Reopening needs the incident resolved: it is only so in the batch that was in flight.
  auto result = answer.get_future().get();
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(result->state, incidents::IncidentState::kOpen);
  auto stored_now = store_->getIncident(id);
  ASSERT_TRUE(stored_now && stored_now->has_value());
  EXPECT_EQ((*stored_now)->state, incidents::IncidentState::kOpen);
  EXPECT_EQ(acks(), (std::vector<std::string>{"sw1 ok", "sw1 ok"}));
}

TEST_F(PipelineCommitTest, StopDuringRetriesFailsTheBatchesInFlightAndQueued) {
  startPipeline();
  fs_->full = true;
  offer("sw1", "Interface e0 down");
  ASSERT_TRUE(testing::waitFor([&] { return commitFailures() >= 1; }));
  offer("sw2", "Interface e0 down");
  ASSERT_TRUE(testing::waitFor([&] { return seen_.saw("sw2"); }));
  pipeline_->stop();  // the disk stays full: shutdown ends the retries
  EXPECT_EQ(acks(), (std::vector<std::string>{"sw1 failed", "sw2 failed"}));
}

// The per-stage latency (vigil_pipeline_stage_seconds) on the real pipeline: a batch held up by
// the commit before it being retried shows it as commit_wait, the retried batch as commit, and
// every event's stages add up to its event-to-commit time. Only lower bounds on time are checked:
// a loaded machine makes every stage longer, never shorter.
TEST_F(PipelineCommitTest, StageLatencyShowsWhichStageABatchWaitedIn) {
  startPipeline();
  fs_->full = true;
  offer("sw1", "Interface e0 down");
  ASSERT_TRUE(testing::waitFor([&] { return commitFailures() >= 1; }));
  const TimePoint sw1_failing = Clock::now();  // sw1 was handed to the committer before this
  offer("sw2", "Interface e0 down");
  ASSERT_TRUE(testing::waitFor([&] { return seen_.saw("sw2"); }));
  const TimePoint sw2_processed = Clock::now();  // ... and sw2 processed (then deferred) before this
  ASSERT_TRUE(testing::waitFor([&] { return commitFailures() >= 3; }));
  const TimePoint disk_freed = Clock::now();  // sw1 commits, and sw2 is handed over, after this
  fs_->full = false;
  ASSERT_TRUE(testing::waitFor([&] { return acks().size() == 2; }));

  const auto histogram = [&](const std::string& name, const std::string& stage) {
    for (const auto& family : registry_.registry().Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        if (stage.empty() ? m.label.empty() : (m.label.size() == 1 && m.label[0].value == stage)) return m.histogram;
      }
    }
    ADD_FAILURE() << "no " << name << " " << stage;
    return prometheus::ClientMetric::Histogram{};
  };
  const auto seconds = [](TimePoint from, TimePoint to) { return std::chrono::duration<double>(to - from).count(); };
  double stages_total = 0;
  for (const char* stage : {"intake", "queue", "process", "commit_wait", "commit"}) {
    const auto h = histogram("vigil_pipeline_stage_seconds", stage);
    EXPECT_EQ(h.sample_count, 2u) << stage;
    stages_total += h.sample_sum;
  }
  const auto end_to_end = histogram("vigil_pipeline_event_to_commit_seconds", "");
  EXPECT_EQ(end_to_end.sample_count, 2u);
  EXPECT_NEAR(stages_total, end_to_end.sample_sum, 1e-6);
  // sw2 waited for sw1's retries; sw1 spent them in its commit.
  EXPECT_GE(histogram("vigil_pipeline_stage_seconds", "commit_wait").sample_sum, seconds(sw2_processed, disk_freed));
  EXPECT_GE(histogram("vigil_pipeline_stage_seconds", "commit").sample_sum, seconds(sw1_failing, disk_freed));
}

}  // namespace
}  // namespace vigil
