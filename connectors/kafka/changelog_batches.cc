#include "connectors/kafka/changelog_batches.h"

#include <cstdlib>

namespace vigil::connectors::kafka {

namespace {

std::optional<AppliedPosition> parsePosition(const std::optional<std::string>& text) {
  if (!text || *text == kDirtyPosition || text->empty()) return std::nullopt;
  AppliedPosition position;  // "<offset> <epoch>" (older: "<offset>")
  position.next = std::strtoll(text->c_str(), nullptr, 10);
  if (const size_t space = text->find(' '); space != std::string::npos) {
    position.epoch = std::strtoull(text->c_str() + space + 1, nullptr, 10);
  }
  return position;
}

}  // namespace

Result<AppliedPosition> openLocalCopy(store::Store& store, uint16_t partition, std::string_view position_key) {
  auto stored = store.getPosition(partition, position_key);
  if (!stored) return fail(stored.error());
  if (auto position = parsePosition(*stored)) return *position;
  if (Status s = store.dropPartition(partition); !s.isOk()) return fail(s);
  return AppliedPosition{};
}

Status dropLocalCopy(store::Store& store, uint16_t partition, std::string_view position_key) {
  // Dirty first: a crash between the two must not leave a trusted position over a dropped state.
  if (Status s = store.putPosition(partition, position_key, kDirtyPosition); !s.isOk()) return s;
  return store.dropPartition(partition);
}

Result<bool> hasTrustedCopy(const store::Store& store, uint16_t partition, std::string_view position_key) {
  auto stored = store.getPosition(partition, position_key);
  if (!stored) return fail(stored.error());
  return parsePosition(*stored).has_value();
}

uint64_t epochOf(RdKafka::Message& message) {
  RdKafka::Headers* headers = message.headers();
  if (headers == nullptr) return 0;
  const RdKafka::Headers::Header h = headers->get_last(std::string(kEpochHeader));
  if (h.err() != RdKafka::ERR_NO_ERROR || h.value() == nullptr) return 0;
  return std::strtoull(std::string(static_cast<const char*>(h.value()), h.value_size()).c_str(), nullptr, 10);
}

ChangelogBatches::ChangelogBatches(store::Store& store, uint16_t partition, std::string position_key,
                                   AppliedPosition from)
    : store_(store),
      partition_(partition),
      position_key_(std::move(position_key)),
      next_(from.next),
      closed_end_(from.next),
      written_end_(from.next),
      max_epoch_(from.epoch),
      newest_seen_(from.epoch) {}

Status ChangelogBatches::add(RdKafka::Message& message) {
  // Batches are applied when their marker closes them, in the order of the markers. A batch
  // closed under an epoch older than one already closed comes from a writer the group replaced
  // (a zombie that stalled past its session timeout): it is discarded, as is what writers older
  // than the newest closed batch left open.
  next_ = message.offset() + 1;
  const uint64_t epoch = epochOf(message);
  newest_seen_ = std::max(newest_seen_, epoch);
  const std::string key = message.key() ? *message.key() : std::string();
  if (!key.empty() && key[0] == kMarkerTag) {
    auto batch = open_.find(epoch);
    if (epoch < max_epoch_) {  // fenced
      if (batch != open_.end()) {
        discarded_ += batch->second.size();
        open_.erase(batch);
      }
      return Status::ok();
    }
    if (batch != open_.end()) {
      for (auto& r : batch->second) closed_.push_back(std::move(r));
      open_.erase(batch);
    }
    max_epoch_ = epoch;
    for (auto it = open_.begin(); it != open_.end() && it->first < max_epoch_;) {  // never to be closed
      discarded_ += it->second.size();
      it = open_.erase(it);
    }
    closed_end_ = next_;
    return closed_.size() >= kChunk ? writeClosed() : Status::ok();
  }
  if (epoch < max_epoch_) {
    ++discarded_;
    return Status::ok();
  }
  store::PartitionRecord record{partition_, key, std::nullopt};
  if (message.payload() != nullptr) record.value.emplace(static_cast<const char*>(message.payload()), message.len());
  open_[epoch].push_back(std::move(record));
  return Status::ok();
}

Status ChangelogBatches::writeClosed() {
  Status s = store_.applyPartitionRecords(closed_, partition_, position_key_,
                                          std::to_string(closed_end_) + " " + std::to_string(max_epoch_));
  if (!s.isOk()) return s;
  written_ += closed_.size();
  written_end_ = closed_end_;
  closed_.clear();
  return s;
}

void ChangelogBatches::discardOpen() {
  for (const auto& [epoch, records] : open_) discarded_ += records.size();
  open_.clear();
}

}  // namespace vigil::connectors::kafka
