#include "daemon/cmdb/cmdb_feeds.h"

#include <algorithm>
#include <span>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/store/store.h"

namespace vigil::cmdb {

namespace {

using store::Column;
using store::StateOp;

constexpr std::string_view kFileCi = "file/ci/";
constexpr std::string_view kFileRules = "file/label_rules";
constexpr std::string_view kTopicCi = "topic/ci/";
constexpr std::string_view kTopicOffset = "topic/offset/";
constexpr std::string_view kFileIncomplete = "file/incomplete";

std::string key(std::string_view prefix, std::string_view rest) { return std::string(prefix) + std::string(rest); }

std::string labelRulesJson(std::span<const LabelRule> rules) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& rule : rules) {
    nlohmann::json match = nlohmann::json::object();
    for (const auto& [k, v] : rule.match) match[k] = v;
    out.push_back({{"match", std::move(match)}, {"ci", rule.ci}});
  }
  return out.dump();
}

// Stored JSON CIs (and label rules) → one YAML text for the loader: JSON is YAML flow syntax, so
// the stored records are checked exactly like the files.
Status parseStored(const store::Store& store, std::string_view ci_prefix, bool with_rules, CmdbDocument& out) {
  std::string text = "cis:\n";
  size_t count = 0;
  Status s = store.scan(Column::kCmdb, 0, ci_prefix, [&](std::string_view, std::string_view value) {
    text += "- ";
    text += value;
    text += '\n';
    ++count;
    return true;
  });
  if (!s.isOk()) return s;
  if (count == 0) text = "cis: []\n";
  if (with_rules) {
    auto rules = store.get(Column::kCmdb, 0, kFileRules);
    if (!rules) return rules.error();
    if (*rules) text += "label_rules: " + **rules + "\n";
  }
  std::string errors;
  parseCmdbText(text, "cmdb store", out, errors);
  if (!errors.empty()) return Status::invalidArgument("the stored CMDB does not load:\n" + errors);
  return Status::ok();
}

}  // namespace

std::string ciToJson(const ConfigurationItem& ci) {
  nlohmann::json j;
  toJson(ci, j);
  if (ci.members.empty()) j.erase("members");  // the loader allows `members` on services only
  return j.dump();
}

Result<ConfigurationItem> ciFromJson(std::string_view json, std::string_view where) {
  // nlohmann first: a clean error for what is not JSON, and one line for the YAML wrapper.
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return fail(Status::invalidArgument(std::string(where) + ": not JSON"));
  if (!j.is_object()) return fail(Status::invalidArgument(std::string(where) + ": a CI must be a JSON object"));
  CmdbDocument doc;
  std::string errors;
  parseCmdbText("cis:\n- " + j.dump() + "\n", where, doc, errors);
  if (!errors.empty()) return fail(Status::invalidArgument(std::move(errors)));
  if (doc.cis.size() != 1) return fail(Status::invalidArgument(std::string(where) + ": expected one CI"));
  return std::move(doc.cis.front());
}

Status CmdbFeeds::storeFiles() {
  const CiSnapshot& files = *files_;
  // Compare with what is stored: unchanged CIs are not written again, vanished ones are erased.
  std::vector<bool> unchanged(files.size(), false);
  std::vector<StateOp> erases;
  bool incomplete = false;
  Status s = store_.scan(Column::kCmdb, 0, "file/", [&](std::string_view k, std::string_view value) {
    if (k == kFileIncomplete) {
      incomplete = true;
    } else if (k.starts_with(kFileCi)) {
      const uint32_t i = files.indexOf(k.substr(kFileCi.size()));
      if (i == CiSnapshot::kNoCi) {
        erases.push_back(StateOp::erase(Column::kCmdb, 0, std::string(k)));
      } else if (value == ciToJson(files.at(i))) {
        unchanged[i] = true;
      }
    } else if (k != kFileRules || files.labelRules().empty()) {
      erases.push_back(StateOp::erase(Column::kCmdb, 0, std::string(k)));
    }
    return true;
  });
  if (!s.isOk()) return s;
  const size_t changed = static_cast<size_t>(std::count(unchanged.begin(), unchanged.end(), false));
  const bool with_rules = !files.labelRules().empty();
  // More than one write: the stored CIs are marked incomplete until the last one is in. The CIs'
  // JSON is made write by write, so only one write's worth exists at a time.
  const bool chunked = erases.size() + changed + (with_rules ? 1 : 0) > kStoreChunk;
  if (chunked && !incomplete) {
    if (s = store_.write({StateOp::put(Column::kCmdb, 0, std::string(kFileIncomplete), "")}); !s.isOk()) return s;
  }
  std::vector<StateOp> chunk;
  auto add = [&](StateOp op) {
    chunk.push_back(std::move(op));
    if (chunk.size() < kStoreChunk) return Status::ok();
    Status written = store_.write(chunk);
    chunk.clear();
    return written;
  };
  for (StateOp& op : erases) {
    if (s = add(std::move(op)); !s.isOk()) return s;
  }
  for (uint32_t i = 0; i < files.size(); ++i) {
    if (unchanged[i]) continue;
    if (s = add(StateOp::put(Column::kCmdb, 0, key(kFileCi, files.at(i).id), ciToJson(files.at(i)))); !s.isOk()) {
      return s;
    }
  }
  if (with_rules) chunk.push_back(StateOp::put(Column::kCmdb, 0, std::string(kFileRules), labelRulesJson(files.labelRules())));
  if (chunked || incomplete) chunk.push_back(StateOp::erase(Column::kCmdb, 0, std::string(kFileIncomplete)));
  return chunk.empty() ? Status::ok() : store_.write(chunk);
}

Status CmdbFeeds::start(std::shared_ptr<const CiSnapshot> from_files, const std::string& files_error) {
  std::lock_guard lock(mu_);
  if (files_error.empty()) {
    // The files are the truth: replace what is stored (also when no files are configured).
    files_ = from_files ? std::move(from_files) : CiSnapshot::empty();
    if (Status s = storeFiles(); !s.isOk()) return s;
  } else {
    auto incomplete = store_.get(Column::kCmdb, 0, kFileIncomplete);
    if (!incomplete) return incomplete.error();
    if (*incomplete) {
      return Status::invalidArgument(files_error +
                                     "\n(the CMDB stored at an earlier start is incomplete: that start stopped while storing it)");
    }
    CmdbDocument stored;
    Status s = parseStored(store_, kFileCi, /*with_rules=*/true, stored);
    if (!s.isOk()) return Status::invalidArgument(files_error + "\n" + s.message());
    if (stored.cis.empty()) return Status::invalidArgument(files_error + "\n(no CMDB stored from an earlier start)");
    spdlog::error("cmdb: the files do not load; using the {} CIs stored at the last good load:\n{}", stored.cis.size(),
                  files_error);
    auto built = buildSnapshot(std::move(stored.cis), std::move(stored.label_rules));
    if (!built) return Status::invalidArgument(files_error + "\nthe stored CMDB does not load:\n" + built.error().message());
    files_ = std::move(*built);
  }
  CmdbDocument topic;
  if (Status s = parseStored(store_, kTopicCi, /*with_rules=*/false, topic); !s.isOk()) return s;
  topic_cis_.clear();
  for (auto& ci : topic.cis) {
    CiId id = ci.id;
    topic_cis_.insert_or_assign(std::move(id), std::move(ci));
  }
  auto merged = merge(topic_cis_);
  if (!merged) return merged.error();
  if (!topic_cis_.empty()) spdlog::info("cmdb: {} CIs from the CMDB topic (stored)", topic_cis_.size());
  publish_(std::move(*merged));
  return Status::ok();
}

Status CmdbFeeds::reloadFiles(std::shared_ptr<const CiSnapshot> from_files) {
  std::unique_lock lock(mu_);
  std::string conflict;
  {
    auto previous = std::exchange(files_, from_files ? from_files : CiSnapshot::empty());
    auto merged = merge(topic_cis_);
    if (!merged) conflict = merged.error().message();
    files_ = std::move(previous);
  }  // the trial snapshot is gone before start() merges again
  if (!conflict.empty()) return Status::invalidArgument("the files conflict with CIs from the CMDB topic:\n" + conflict);
  lock.unlock();
  return start(std::move(from_files), "");  // stores the files and publishes
}

Result<std::shared_ptr<const CiSnapshot>> CmdbFeeds::merge(const std::map<CiId, ConfigurationItem>& topic) const {
  if (topic.empty()) return files_;  // the files' snapshot as it is: no second copy of the CIs
  std::vector<ConfigurationItem> cis;
  cis.reserve(files_->size() + topic.size());
  for (const auto& ci : files_->items()) {
    if (topic.count(ci.id) == 0) cis.push_back(ci);
  }
  for (const auto& [id, ci] : topic) cis.push_back(ci);
  return buildSnapshot(std::move(cis), std::vector<LabelRule>(files_->labelRules().begin(), files_->labelRules().end()));
}

Result<std::vector<CmdbFeeds::Rejected>> CmdbFeeds::applyTopic(const std::vector<TopicChange>& changes,
                                                               const std::map<int32_t, int64_t>& offsets) {
  std::lock_guard lock(mu_);
  std::vector<Rejected> rejected;
  // Parse first: what is not a CI never reaches the snapshot.
  std::vector<std::optional<ConfigurationItem>> parsed(changes.size());
  std::vector<bool> valid(changes.size(), true);
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!changes[i].json) continue;
    auto ci = ciFromJson(*changes[i].json, changes[i].where);
    if (!ci) {
      rejected.push_back({i, ci.error().message()});
      valid[i] = false;
    } else if (!changes[i].id.empty() && ci->id != changes[i].id) {
      rejected.push_back({i, changes[i].where + ": the key '" + changes[i].id + "' is not the CI's id '" + ci->id + "'"});
      valid[i] = false;
    } else {
      ci->origin.reset();  // positions in a wrapper text mean nothing later
      parsed[i] = std::move(*ci);
    }
  }
  auto applyOne = [&](std::map<CiId, ConfigurationItem>& cis, size_t i) {
    if (parsed[i]) {
      cis.insert_or_assign(parsed[i]->id, *parsed[i]);
    } else {
      cis.erase(changes[i].id);
    }
  };
  std::map<CiId, ConfigurationItem> next = topic_cis_;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (valid[i]) applyOne(next, i);
  }
  auto snapshot = merge(next);
  if (!snapshot) {
    // Some change breaks the CMDB: find which, one at a time (rare; costs a build per change).
    next = topic_cis_;
    snapshot = merge(next);
    if (!snapshot) return fail(snapshot.error());
    for (size_t i = 0; i < changes.size(); ++i) {
      if (!valid[i]) continue;
      auto trial = next;
      applyOne(trial, i);
      auto built = merge(trial);
      if (!built) {
        rejected.push_back({i, changes[i].where + ": " + built.error().message()});
        valid[i] = false;
        continue;
      }
      next = std::move(trial);
      snapshot = std::move(built);
    }
  }
  std::vector<StateOp> ops;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!valid[i]) continue;
    if (parsed[i]) {
      ops.push_back(StateOp::put(Column::kCmdb, 0, key(kTopicCi, parsed[i]->id), ciToJson(*parsed[i])));
    } else {
      ops.push_back(StateOp::erase(Column::kCmdb, 0, key(kTopicCi, changes[i].id)));
    }
  }
  for (const auto& [partition, offset] : offsets) {
    ops.push_back(StateOp::put(Column::kCmdb, 0, key(kTopicOffset, std::to_string(partition)), std::to_string(offset)));
  }
  if (Status s = store_.write(ops); !s.isOk()) return fail(s);
  const bool changed = ops.size() > offsets.size();
  topic_cis_ = std::move(next);
  if (changed) publish_(std::move(*snapshot));
  std::sort(rejected.begin(), rejected.end(), [](const Rejected& a, const Rejected& b) { return a.index < b.index; });
  return rejected;
}

std::optional<int64_t> CmdbFeeds::topicOffset(int32_t partition) const {
  auto stored = store_.get(Column::kCmdb, 0, key(kTopicOffset, std::to_string(partition)));
  if (!stored || !*stored) return std::nullopt;
  return std::stoll(**stored);
}

size_t CmdbFeeds::topicCiCount() const {
  std::lock_guard lock(mu_);
  return topic_cis_.size();
}

}  // namespace vigil::cmdb
