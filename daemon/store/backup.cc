#include "daemon/store/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/build_info.h"
#include "daemon/time_util.h"

namespace vigil::store {

namespace fs = std::filesystem;

namespace {

bool isEmptyOrMissing(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

// RocksDB holds an fcntl write lock on LOCK while a DB is open; F_GETLK sees another process's.
std::optional<pid_t> lockHolder(const fs::path& store_dir) {
  const int fd = ::open((store_dir / "LOCK").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  std::optional<pid_t> holder;
  if (fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK) holder = lock.l_pid;
  ::close(fd);
  return holder;
}

Status writeManifest(const fs::path& dir, const BackupInfo& info) {
  nlohmann::json manifest = info.toJson();
  manifest["vigil_version"] = kVersion;
  std::ofstream out(dir / kBackupManifest);
  out << manifest.dump(2) << "\n";
  out.close();
  if (!out) return Status::ioError("cannot write " + (dir / kBackupManifest).string());
  return Status::ok();
}

int httpStatusFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kAlreadyExists:
    case Status::Code::kFailedPrecondition: return 409;
    default: return 500;
  }
}

}  // namespace

nlohmann::json BackupInfo::toJson() const {
  return {{"dir", dir}, {"schema_version", schema_version}, {"last_change_seq", last_change_seq}, {"created", created}};
}

Result<BackupInfo> createBackup(const Store& store, const std::string& dir) {
  const fs::path target(dir);
  if (dir.empty() || !target.is_absolute()) {
    return fail(Status::invalidArgument("backup dir must be an absolute path on the daemon's host, got '" + dir + "'"));
  }
  if (!isEmptyOrMissing(target)) return fail(Status::alreadyExists("backup dir " + dir + " exists and is not empty"));
  std::error_code ec;
  fs::create_directories(target, ec);
  if (ec) return fail(Status::ioError("cannot create backup dir " + dir + ": " + ec.message()));
  BackupInfo info;
  info.dir = target.lexically_normal().string();
  info.created = formatRfc3339(Clock::now());
  info.schema_version = store.schemaVersion();
  info.last_change_seq = store.lastChangeSeq();  // read before: the checkpoint holds at least this
  if (Status s = store.checkpoint((target / "store").string()); !s.isOk()) return fail(s);
  if (Status s = writeManifest(target, info); !s.isOk()) return fail(s);
  return info;
}

std::pair<int, nlohmann::json> backupAction(const Store& store, const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("dir") || !body["dir"].is_string()) {
    return {400, {{"error", {{"code", 400}, {"message", "body: expected {\"dir\": \"/absolute/path\"}"}}}}};
  }
  auto info = createBackup(store, body["dir"].get<std::string>());
  if (!info) {
    const int code = httpStatusFor(info.error());
    return {code, {{"error", {{"code", code}, {"message", info.error().message()}}}}};
  }
  return {200, info->toJson()};
}

Result<BackupInfo> restoreBackup(const std::string& from, const std::string& data_dir, bool force) {
  const fs::path source = fs::path(from) / "store";
  std::error_code ec;
  if (!fs::exists(source / "CURRENT", ec)) {
    return fail(Status::invalidArgument(from + " is not a vigil backup (no store/CURRENT)"));
  }
  const fs::path target = fs::path(data_dir) / "store";
  if (auto pid = lockHolder(target)) {
    return fail(Status::failedPrecondition(target.string() + " is in use by process " + std::to_string(*pid) +
                                           "; stop vigild first"));
  }
  if (!isEmptyOrMissing(target)) {
    if (!force) {
      return fail(Status::alreadyExists(target.string() + " exists and is not empty; use --force to replace it"));
    }
    fs::remove_all(target, ec);
    if (ec) return fail(Status::ioError("cannot remove " + target.string() + ": " + ec.message()));
  }
  fs::create_directories(target.parent_path(), ec);
  fs::copy(source, target, fs::copy_options::recursive, ec);
  if (ec) return fail(Status::ioError("cannot copy " + source.string() + " to " + target.string() + ": " + ec.message()));

  // Opening it is the check: RocksDB reads every column family, Store checks the schema version.
  StoreOptions options;
  options.path = target.string();
  auto store = Store::open(options);
  if (!store) {
    fs::remove_all(target, ec);
    return fail(Status::failedPrecondition("the backup in " + from + " does not open: " + store.error().message()));
  }
  BackupInfo info;
  info.dir = target.string();
  info.schema_version = (*store)->schemaVersion();
  info.last_change_seq = (*store)->lastChangeSeq();
  info.created = formatRfc3339(Clock::now());
  return info;
}

}  // namespace vigil::store
