// StateOp: a put or delete of one record of keyed state that is not an incident (correlation
// windows, maintenance windows, verdicts, the webhook outbox, CIs). Components queue StateOps in
// the pipeline's ChangeSet so they commit in the same WriteBatch as the incidents and source
// positions they belong with; Store::write() takes them outside a batch.
// Keys are stored as u16 BE partition + key, so a partition's state stays one key range.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::store {

// One RocksDB column family per kind of state.
enum class Column : uint8_t {
  kCorrelation,  // rules engine: primitive state per rule and key
  kMaintenance,  // maintenance windows and their audit trail
  kVerdicts,     // why each event did or did not raise an incident (with retention)
  kOutbox,       // outbound notifications not yet delivered
  kCmdb,         // configuration items
};
inline constexpr size_t kColumnCount = static_cast<size_t>(Column::kCmdb) + 1;

struct StateOp {
  Column column = Column::kCorrelation;
  uint16_t partition = 0;
  std::string key;
  std::optional<std::string> value;  // none: delete

  static StateOp put(Column column, uint16_t partition, std::string key, std::string value) {
    return {column, partition, std::move(key), std::move(value)};
  }
  static StateOp erase(Column column, uint16_t partition, std::string key) {
    return {column, partition, std::move(key), std::nullopt};
  }
};

}  // namespace vigil::store
