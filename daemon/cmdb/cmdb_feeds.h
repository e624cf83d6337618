// CmdbFeeds: where the live CMDB comes from — the YAML files (`cmdb.files`) and the optional
// CMDB topic (connectors/kafka/cmdb_topic.h) — kept in RocksDB (Column::kCmdb, partition 0) so a
// restart knows every CI without its files or the topic:
//
//   file/ci/<id>         a CI of the last good load of cmdb.files (JSON, the YAML schema)
//   file/label_rules     that load's label rules (JSON array of {match, ci})
//   file/incomplete      present while a load too large for one write is being stored: then the
//                        stored file CIs are a mix of two loads and are not used
//   topic/ci/<id>        a CI upserted from the CMDB topic (same JSON)
//   topic/offset/<p>     the next offset to read of CMDB topic partition p, written in the same
//                        write as the CIs it brought
//
// Precedence (docs/cmdb.md): the live snapshot is the file CIs overlaid by the topic CIs. A topic
// CI replaces a file CI of the same id (the topic is the live feed, the files the baseline); a
// tombstone deletes the topic CI only, so a file CI of that id comes back. Label rules come from
// the files only.
// Validation is the loader's (buildSnapshot): a topic change that would make the merged CMDB
// invalid (unknown class, an edge to a missing CI, a cycle, an alias of another CI, deleting a CI
// others depend on) is rejected with that error and changes nothing.
// Memory: the file CIs are held once, in the files' snapshot, which is published as it is while
// the topic has no CIs; with topic CIs the merged snapshot holds its own copy. The store gets only
// the CIs that changed since the last start, in writes of at most kStoreChunk records.
// Thread-safety: every method is safe from any thread; one mutex serialises them, and `publish`
// is called under it so snapshots go live in the order they were built.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/cmdb/ci_index.h"
#include "daemon/cmdb/cmdb_loader.h"
#include "daemon/status.h"
#include "daemon/store/state_op.h"

namespace vigil::store {
class Store;
}  // namespace vigil::store

namespace vigil::cmdb {

// One CI as stored and as the CMDB topic carries it: JSON in the YAML schema (ci.h toJson).
std::string ciToJson(const ConfigurationItem& ci);
// Parses one JSON CI; errors read `where:line:col: message`.
Result<ConfigurationItem> ciFromJson(std::string_view json, std::string_view where);

class CmdbFeeds {
 public:
  using Publish = std::function<void(std::shared_ptr<const CiSnapshot>)>;

  // `store` outlives this object.
  CmdbFeeds(store::Store& store, Publish publish) : store_(store), publish_(std::move(publish)) {}

  // At start. `from_files`: the load of cmdb.files (nullptr when no files are configured);
  // `files_error`: why it failed (then the stored file CIs are used, and with none stored the
  // start fails with that error). Loads the stored topic CIs, publishes the merged snapshot.
  Status start(std::shared_ptr<const CiSnapshot> from_files, const std::string& files_error);
  // Reload (SIGHUP) of valid files: stored, merged with the topic CIs and published. When the
  // merge is invalid nothing changes and the error says why.
  Status reloadFiles(std::shared_ptr<const CiSnapshot> from_files);

  // One record of the CMDB topic: an upsert (json) or a tombstone (no json) of CI `id`.
  struct TopicChange {
    std::string id;
    std::optional<std::string> json;
    std::string where;  // for errors: "topic/partition@offset"
  };
  struct Rejected {
    size_t index;  // into the changes
    std::string error;
  };
  // Applies `changes` in order, skipping the invalid ones, then stores the accepted ones with
  // `offsets` (partition → next offset) in one write and publishes the merged snapshot (one
  // rebuild for the whole group unless some change is invalid). Returns the rejected changes, or
  // an error when the store write failed (then nothing changed and the caller reads them again).
  Result<std::vector<Rejected>> applyTopic(const std::vector<TopicChange>& changes,
                                           const std::map<int32_t, int64_t>& offsets);
  // The stored next offset of CMDB topic partition `partition`, if any.
  std::optional<int64_t> topicOffset(int32_t partition) const;

  size_t topicCiCount() const;

  // Records per store write when the file CIs are stored (a million CIs in one write would hold
  // their JSON several times over: the write, the batch, the memtable).
  static constexpr size_t kStoreChunk = 4096;

 private:
  Result<std::shared_ptr<const CiSnapshot>> merge(const std::map<CiId, ConfigurationItem>& topic) const;
  // Makes the stored file CIs and label rules those of files_.
  Status storeFiles();

  store::Store& store_;
  Publish publish_;
  mutable std::mutex mu_;
  std::shared_ptr<const CiSnapshot> files_ = CiSnapshot::empty();  // GUARDED_BY(mu_); never null
  std::map<CiId, ConfigurationItem> topic_cis_;   // GUARDED_BY(mu_)
};

}  // namespace vigil::cmdb
