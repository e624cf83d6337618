// CmdbRegistry: holds the live CiSnapshot and swaps it whole on reload. Readers take a
// shared_ptr once per batch (or request) and keep using it; a reload never changes what they hold.
// Thread-safety: all methods are safe from any thread; the lock covers only the pointer copy.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "daemon/cmdb/ci_index.h"
#include "daemon/cmdb/cmdb_loader.h"
#include "daemon/status.h"

namespace vigil::cmdb {

class CmdbRegistry {
 public:
  explicit CmdbRegistry(std::shared_ptr<const CiSnapshot> initial = CiSnapshot::empty())
      : current_(initial ? std::move(initial) : CiSnapshot::empty()) {}

  std::shared_ptr<const CiSnapshot> current() const {
    std::lock_guard lock(mu_);
    return current_;
  }

  // REQUIRES: snapshot != nullptr.
  void set(std::shared_ptr<const CiSnapshot> snapshot) {
    std::lock_guard lock(mu_);
    current_ = std::move(snapshot);
  }

  // Loads the files to the side and swaps only when they are valid; on error the old snapshot
  // stays live and the status lists every `file:line:col: message`.
  Status reload(const std::vector<std::string>& globs, const std::string& base_dir) {
    auto loaded = loadCmdbFiles(globs, base_dir);
    if (!loaded) return loaded.error();
    set(std::move(*loaded));
    return Status::ok();
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const CiSnapshot> current_;  // GUARDED_BY(mu_); never null
};

}  // namespace vigil::cmdb
