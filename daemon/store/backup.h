// Backups of vigil's state. A backup is a directory holding `store/` (a RocksDB checkpoint,
// taken while vigild runs) and `vigil-backup.json` (what was copied, from which version).
//   backup:  POST /api/v1/admin/backup {"dir": "/var/lib/vigil/backups/NAME"}  (vigilctl backup)
//   restore: offline, into a data dir no vigild uses                          (vigilctl restore)
// The directory is on the daemon's host and must be writable by it; under the shipped systemd
// unit that means below /var/lib/vigil (ProtectSystem=strict).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "daemon/status.h"
#include "daemon/store/store.h"

namespace vigil::store {

inline constexpr std::string_view kBackupManifest = "vigil-backup.json";

struct BackupInfo {
  std::string dir;
  uint32_t schema_version = 0;
  uint64_t last_change_seq = 0;  // the newest incident change the backup holds
  std::string created;           // RFC 3339
  nlohmann::json toJson() const;
};

// Checkpoints `store` into `dir`/store and writes the manifest. `dir` must be absolute and
// missing or empty.
Result<BackupInfo> createBackup(const Store& store, const std::string& dir);

// The admin action behind POST /api/v1/admin/backup: {"dir": "..."} → 200 with the BackupInfo,
// or 400/409/500 with {"error": {...}}.
std::pair<int, nlohmann::json> backupAction(const Store& store, const nlohmann::json& body);

// Copies the backup in `from` into `data_dir`/store and checks that it opens as a store of a
// schema version this vigild reads. Refuses while a process holds the target store's RocksDB
// LOCK, and when the target store exists unless `force` (then it is replaced).
Result<BackupInfo> restoreBackup(const std::string& from, const std::string& data_dir, bool force);

}  // namespace vigil::store
