// LD_PRELOAD shim for the power-loss trials (scripts/power-loss-trials, docs/reliability.md):
// records, for the files and directories under one data dir, what a power cut would leave.
//
// It models the POSIX durability contract strictly, as a kernel crash or power cut may:
//   - a file's content is durable up to its size at the last fsync/fdatasync that returned 0;
//     bytes written after it, and files never synced, are lost;
//   - a directory entry (a created, renamed or removed name) is durable only once the directory
//     itself was fsynced; until then the old entry (or none) is what survives.
// sync_file_range is not counted: it persists no metadata and flushes no disk cache (RocksDB
// probes it with flags 0, and with vigil's bytes_per_sync starts a table file's writeback with
// it every MiB). syncfs/sync are not counted either (vigild never calls them).
//
// The record lives in the shadow dir: files/<inode>-<birth time> holds the durable content of
// one file incarnation (only the newly synced tail is copied at each sync), dirs/<rel path>
// the durable listing of one directory ("f|d <tab> file key <tab> name" lines). After the
// process is killed, the trial script rebuilds the data dir from it ("what the disk kept").
// At load the shim takes everything already in the data dir as durable (the disk after a
// reboot) and starts a fresh record.
//
// Environment: VIGIL_POWER_LOSS_ROOT (the data dir) and VIGIL_POWER_LOSS_SHADOW (the shadow
// dir); without them the shim does nothing. Its own I/O goes to the shadow dir outside the
// data dir, through the real functions, so it never records itself.
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

using SyncFn = int (*)(int);

struct Shadow {
  std::string root;    // the data dir, canonical, without a trailing slash
  std::string shadow;  // the shadow dir
  std::mutex mu;
  bool enabled = false;
};

Shadow& state() {
  static Shadow s;
  return s;
}

SyncFn realFn(const char* name) { return reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, name)); }

// The path `fd` refers to, or "" when it is not under the data dir.
std::string relativeToRoot(int fd) {
  char link[64];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  char buf[4096];
  const ssize_t n = readlink(link, buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  const std::string& root = state().root;
  if (path == root) return ".";
  if (path.compare(0, root.size() + 1, root + "/") != 0) return "";
  return path.substr(root.size() + 1);
}

// One file incarnation: inode numbers are reused, inode + birth time are not.
std::string fileKey(const std::string& path) {
  struct statx sx {};
  if (statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &sx) != 0) return "";
  return std::to_string(sx.stx_ino) + "-" + std::to_string(sx.stx_btime.tv_sec) + "." +
         std::to_string(sx.stx_btime.tv_nsec);
}

// "." would name the shadow's own dir entry: every listing gets a prefix.
std::string encodeDir(const std::string& rel) {
  std::string out = "_";
  for (char c : rel) out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out;
}

bool copyRange(int from, int to, off_t begin, off_t end) {
  std::vector<char> buf(1 << 16);
  for (off_t off = begin; off < end;) {
    const ssize_t n = pread(from, buf.data(), std::min<size_t>(buf.size(), static_cast<size_t>(end - off)), off);
    if (n <= 0) return false;
    if (pwrite(to, buf.data(), static_cast<size_t>(n), off) != n) return false;
    off += n;
  }
  return true;
}

// The first `size` bytes of the file at `path` are durable.
void recordFile(const std::string& path, off_t size) {
  const std::string key = fileKey(path);
  if (key.empty()) return;
  const std::string target = state().shadow + "/files/" + key;
  const int in = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return;
  const int out = open(target.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (out < 0) {
    close(in);
    return;
  }
  struct stat st {};
  fstat(out, &st);
  off_t from = st.st_size;
  // Append-only is the common case; a file rewritten in place (truncated, or its last synced
  // block changed) is copied whole.
  if (from > size) {
    from = 0;
  } else if (from > 0) {
    const off_t tail = std::min<off_t>(from, 4096);
    std::vector<char> a(static_cast<size_t>(tail)), b(static_cast<size_t>(tail));
    if (pread(in, a.data(), a.size(), from - tail) != tail || pread(out, b.data(), b.size(), from - tail) != tail ||
        a != b) {
      from = 0;
    }
  }
  if (copyRange(in, out, from, size)) (void)ftruncate(out, size);
  close(out);
  close(in);
}

// The directory's current entries are durable.
void recordDir(const std::string& rel) {
  const std::string dir = rel == "." ? state().root : state().root + "/" + rel;
  std::string listing;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (lstat((dir + "/" + name).c_str(), &st) != 0) continue;  // removed meanwhile
    if (S_ISDIR(st.st_mode)) {
      listing += "d\t-\t" + name + "\n";
    } else if (S_ISREG(st.st_mode)) {
      listing += "f\t" + fileKey(dir + "/" + name) + "\t" + name + "\n";
    }
  }
  closedir(d);
  const std::string target = state().shadow + "/dirs/" + encodeDir(rel);
  const std::string tmp = target + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fwrite(listing.data(), 1, listing.size(), f);
    std::fclose(f);
    std::rename(tmp.c_str(), target.c_str());
  }
}

void record(int fd, off_t size_at_sync) {
  Shadow& s = state();
  if (!s.enabled) return;
  const int saved_errno = errno;
  const std::string rel = relativeToRoot(fd);
  if (!rel.empty()) {
    struct stat st {};
    std::lock_guard lock(s.mu);
    if (fstat(fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        recordDir(rel);
      } else if (S_ISREG(st.st_mode)) {
        recordFile(rel == "." ? s.root : s.root + "/" + rel, size_at_sync);
      }
    }
  }
  errno = saved_errno;
}

// Everything in the data dir now is durable: the disk as it is after a reboot.
void snapshotAll() {
  Shadow& s = state();
  std::error_code ec;
  fs::remove_all(s.shadow + "/files", ec);
  fs::remove_all(s.shadow + "/dirs", ec);
  fs::create_directories(s.shadow + "/files", ec);
  fs::create_directories(s.shadow + "/dirs", ec);
  recordDir(".");
  for (auto it = fs::recursive_directory_iterator(s.root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), s.root).string();
    if (it->is_directory()) {
      recordDir(rel);
    } else if (it->is_regular_file()) {
      recordFile(it->path().string(), static_cast<off_t>(it->file_size()));
    }
  }
}

__attribute__((constructor)) void init() {
  const char* root = std::getenv("VIGIL_POWER_LOSS_ROOT");
  const char* shadow = std::getenv("VIGIL_POWER_LOSS_SHADOW");
  if (root == nullptr || shadow == nullptr) return;
  std::error_code ec;
  Shadow& s = state();
  s.root = fs::weakly_canonical(root, ec).string();
  s.shadow = shadow;
  if (ec || s.root.empty()) return;
  snapshotAll();
  s.enabled = true;
}

off_t sizeOf(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? st.st_size : 0;
}

}  // namespace

// The size is taken before the real call: bytes another thread appends while it runs are
// not promised by it.
extern "C" int fsync(int fd) {
  static const SyncFn real = realFn("fsync");
  const off_t size = sizeOf(fd);
  const int rc = real(fd);
  if (rc == 0) record(fd, size);
  return rc;
}

extern "C" int fdatasync(int fd) {
  static const SyncFn real = realFn("fdatasync");
  const off_t size = sizeOf(fd);
  const int rc = real(fd);
  if (rc == 0) record(fd, size);
  return rc;
}
