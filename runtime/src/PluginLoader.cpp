// The plugin loader: permission checks, dlopen, the entry function and the ABI checks.
#include "chronos/PluginLoader.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "ElfCheck.hpp"
#include "chronos/Fd.hpp"

namespace chronos {
namespace {

// The descriptor must reach the end of on_close: that is everything ABI 1.0 reads.
constexpr std::size_t kRequiredSize = offsetof(chronos_plugin, on_close) + sizeof(void (*)());

std::string host_version() {
  return std::to_string(CHRONOS_ABI_MAJOR) + '.' + std::to_string(CHRONOS_ABI_MINOR);
}

std::string both_versions(const chronos_plugin* plugin) {
  return "(plugin ABI " + std::to_string(plugin->abi_major) + '.' +
         std::to_string(plugin->abi_minor) + ", host ABI " + host_version() + ')';
}

[[noreturn]] void fail(const std::string& message) { throw PluginError(message); }

// Private copies live in $TMPDIR (or /tmp) in folders named after the process that made them, so
// that one a crash left behind can be told from one a running process still uses.
constexpr const char* kCopyPrefix = "chronos-plugin-";

std::string private_copy_base() {
  const char* base = std::getenv("TMPDIR");
  return base && *base ? base : "/tmp";
}

// A private folder that is removed, with the one file in it, on scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        private_copy_base() + '/' + kCopyPrefix + std::to_string(::getpid()) + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      fail("cannot create a private folder for a plugin copy under " +
           pattern.substr(0, pattern.rfind('/')) + ": " + std::strerror(errno));
    }
    dir_ = pattern;  // mkdtemp creates it with mode 0700
  }
  ~TempDir() {
    if (!file_.empty()) ::unlink(file_.c_str());
    ::rmdir(dir_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) { return file_ = dir_ + '/' + name; }

 private:
  std::string dir_;
  std::string file_;
};

// Closes a dlopen handle on scope exit unless released (the checks after dlopen may throw).
class HandleGuard {
 public:
  explicit HandleGuard(void* handle) : handle_(handle) {}
  ~HandleGuard() {
    if (handle_) ::dlclose(handle_);
  }
  HandleGuard(const HandleGuard&) = delete;
  HandleGuard& operator=(const HandleGuard&) = delete;
  void* get() const { return handle_; }
  void* release() { return std::exchange(handle_, nullptr); }

 private:
  void* handle_;
};

void fnv1a(std::uint64_t& hash, const char* data, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ULL;
  }
}

// Reads `fd` to the end, hashing it, and writes a copy to `copy_fd` if that is >= 0.
std::uint64_t hash_and_copy(int fd, int copy_fd, const std::string& path) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path + ": cannot read plugin: " + std::strerror(errno));
    if (n == 0) return hash;
    fnv1a(hash, buffer.data(), static_cast<std::size_t>(n));
    for (ssize_t written = 0; copy_fd >= 0 && written < n;) {
      const ssize_t w =
          ::write(copy_fd, buffer.data() + written, static_cast<std::size_t>(n - written));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail(path + ": cannot copy plugin: " + std::strerror(errno));
      written += w;
    }
  }
}

int open_plugin_file(const std::string& path, struct stat& st) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer (forever, on the
  // thread doing the load); opened, it fails the regular-file check below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail(path + ": cannot open plugin: " + std::strerror(errno));
  if (::fstat(fd, &st) != 0) {
    const int saved = errno;
    ::close(fd);
    fail(path + ": cannot stat plugin: " + std::strerror(saved));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path + ": not a regular file; a plugin is a shared object (.so)");
  }
  return fd;
}

FileIdentity identity_of(const struct stat& st, std::uint64_t hash) {
  FileIdentity id;
  id.device = st.st_dev;
  id.inode = st.st_ino;
  id.size = st.st_size;
  id.mtime = st.st_mtim;
  id.content_hash = hash;
  return id;
}

void check_folder(const std::filesystem::path& dir, const std::string& path) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    fail(path + ": cannot stat its folder " + dir.string() + ": " + std::strerror(errno));
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    fail(dir.string() + " (the folder of " + path +
         ") is writable by others; refusing to load the plugin");
  }
}

// Refuses what others than its owner could rewrite: its code would run as us. The folder counts
// because whoever can write it can replace the file. Symlinks: both the link's folder and the
// target's are checked.
void check_permissions(const std::string& path, const struct stat& st) {
  if (st.st_mode & (S_IWGRP | S_IWOTH)) fail(path + " is writable by others; refusing to load it");
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  check_folder(folder.empty() ? "." : folder, path);
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) != nullptr) {
    const auto real_folder = std::filesystem::path(real).parent_path();
    if (real_folder != std::filesystem::absolute(folder.empty() ? "." : folder)) {
      check_folder(real_folder, path);
    }
  }
}

std::string dl_error_text(const std::string& loaded_path, const std::string& path) {
  const char* raw = ::dlerror();
  std::string text = raw ? raw : "unknown dlopen error";
  // Name the user's file, not our (already removed) private copy.
  for (auto at = text.find(loaded_path); at != std::string::npos && loaded_path != path;
       at = text.find(loaded_path, at + path.size())) {
    text.replace(at, loaded_path.size(), path);
  }
  // glibc starts with "FILE: "; our message names the file already.
  if (text.starts_with(path + ": ")) text.erase(0, path.size() + 2);
  return text;
}

// Refuses, before dlopen maps it, an object that would fault when touched (see ElfCheck.hpp).
// `fd` is the file that dlopen will map: the private copy, or the shared file itself.
void check_elf(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(path + ": cannot stat plugin: " + std::strerror(errno));
  if (std::string problem = elf_problem(fd, st.st_size); !problem.empty()) {
    fail(path + ": not a loadable shared object: " + problem);
  }
}

void* open_shared_object(const std::string& loaded_path, const std::string& path) {
  void* handle = ::dlopen(loaded_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle) return handle;
  std::string reason = dl_error_text(loaded_path, path);
  if (reason.find("failed to map segment") != std::string::npos && loaded_path != path) {
    reason += " (is $TMPDIR on a noexec file system? Set TMPDIR to a folder that allows exec)";
  }
  fail(path + ": not a loadable shared object: " + reason);
}

const chronos_plugin* call_entry(void* handle, const std::string& path) {
  ::dlerror();
  void* symbol = ::dlsym(handle, CHRONOS_PLUGIN_ENTRY_NAME);
  if (symbol == nullptr) fail(path + ": not a Chronos plugin (no " CHRONOS_PLUGIN_ENTRY_NAME ")");
  // POSIX guarantees object and function pointers convert; C++ only conditionally.
  chronos_plugin_entry_fn entry;
  std::memcpy(&entry, &symbol, sizeof entry);
  const chronos_plugin* plugin = entry(CHRONOS_ABI_MAJOR, CHRONOS_ABI_MINOR);
  if (plugin == nullptr) {
    fail(path + ": the plugin refused to run on host ABI " + host_version() +
         " (its " CHRONOS_PLUGIN_ENTRY_NAME " returned NULL); rebuild it against this host's SDK");
  }
  return plugin;
}

}  // namespace

bool FileIdentity::operator==(const FileIdentity& other) const noexcept {
  return device == other.device && inode == other.inode && size == other.size &&
         mtime.tv_sec == other.mtime.tv_sec && mtime.tv_nsec == other.mtime.tv_nsec &&
         content_hash == other.content_hash;
}

FileIdentity identify_file(const std::string& path) {
  struct stat st {};
  Fd fd(open_plugin_file(path, st));
  return identity_of(st, hash_and_copy(fd.get(), -1, path));
}

std::string check_descriptor(const chronos_plugin* plugin, const std::string& file) {
  if (plugin == nullptr) return file + ": no plugin descriptor";
  // Only the first three members are known to exist until the major version and size match.
  if (plugin->abi_major != CHRONOS_ABI_MAJOR) {
    return file + ": plugin ABI major version differs " + both_versions(plugin) +
           "; rebuild the plugin against this host's SDK";
  }
  if (plugin->size < kRequiredSize) {
    return file + ": plugin descriptor is " + std::to_string(plugin->size) + " bytes, at least " +
           std::to_string(kRequiredSize) + " expected " + both_versions(plugin);
  }
  if (plugin->abi_minor > CHRONOS_ABI_MINOR) {
    return file + ": plugin needs a newer host " + both_versions(plugin) +
           "; upgrade chronos or rebuild the plugin";
  }
  const char* missing = plugin->name == nullptr || *plugin->name == '\0' ? "name"
                        : plugin->init == nullptr                        ? "init"
                        : plugin->shutdown == nullptr                    ? "shutdown"
                        : plugin->on_data == nullptr                     ? "on_data"
                                                                         : nullptr;
  if (missing) {
    return file + ": plugin descriptor has no " + missing + ' ' + both_versions(plugin);
  }
  return "";
}

LoadedPlugin load_plugin(const std::string& path, LoadMode mode) {
  struct stat st {};
  Fd fd(open_plugin_file(path, st));
  check_permissions(path, st);

  LoadedPlugin loaded;
  loaded.path_ = path;
  // Without a slash dlopen would search the library path instead of opening this file.
  loaded.loaded_path_ = path.find('/') == std::string::npos ? "./" + path : path;
  std::optional<TempDir> copy_dir;
  if (mode == LoadMode::private_copy) {
    copy_dir.emplace();
    loaded.loaded_path_ = copy_dir->file(std::filesystem::path(path).filename().string());
    Fd copy(::open(loaded.loaded_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0700));
    if (copy.get() < 0) fail(path + ": cannot copy plugin: " + std::strerror(errno));
    loaded.identity_ = identity_of(st, hash_and_copy(fd.get(), copy.get(), path));
    check_elf(copy.get(), path);  // the copy is what dlopen maps, whatever the file does now
  } else {
    loaded.identity_ = identity_of(st, hash_and_copy(fd.get(), -1, path));
    check_elf(fd.get(), path);
  }

  HandleGuard handle(open_shared_object(loaded.loaded_path_, path));
  copy_dir.reset();  // the mapping keeps the code; remove the copy before anything else can fail
  const chronos_plugin* plugin = call_entry(handle.get(), path);
  if (std::string problem = check_descriptor(plugin, path); !problem.empty()) fail(problem);
  loaded.descriptor_ = plugin;
  loaded.handle_ = handle.release();
  return loaded;
}

std::size_t remove_stale_private_copies() {
  std::size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(private_copy_base(), ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kCopyPrefix)) continue;
    // chronos-plugin-PID-XXXXXX: stale when no process PID exists (or it is another program's
    // folder that merely looks like ours: then PID does not parse and the folder stays).
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + std::strlen(kCopyPrefix), &end, 10);
    if (pid <= 0 || *end != '-' || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) {
      continue;
    }
    std::error_code remove_ec;
    if (std::filesystem::remove_all(entry.path(), remove_ec) > 0 && !remove_ec) ++removed;
  }
  return removed;
}

std::vector<ConfigError> check_plugins(const Config& config) {
  std::vector<ConfigError> errors;
  for (const auto& plugin : config.plugins) {
    try {
      load_plugin(plugin.path);
    } catch (const PluginError& e) {
      errors.push_back(ConfigError{plugin.path_mark, e.what()});
    }
  }
  return errors;
}

LoadedPlugin::LoadedPlugin(LoadedPlugin&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      descriptor_(std::exchange(other.descriptor_, nullptr)),
      path_(std::move(other.path_)),
      loaded_path_(std::move(other.loaded_path_)),
      identity_(other.identity_) {}

LoadedPlugin& LoadedPlugin::operator=(LoadedPlugin&& other) noexcept {
  if (this != &other) {
    reset();
    handle_ = std::exchange(other.handle_, nullptr);
    descriptor_ = std::exchange(other.descriptor_, nullptr);
    path_ = std::move(other.path_);
    loaded_path_ = std::move(other.loaded_path_);
    identity_ = other.identity_;
  }
  return *this;
}

LoadedPlugin::~LoadedPlugin() { reset(); }

void LoadedPlugin::reset() noexcept {
  if (handle_) ::dlclose(handle_);
  handle_ = nullptr;
  descriptor_ = nullptr;
}

bool LoadedPlugin::file_changed() const {
  try {
    return !(identify_file(path_) == identity_);
  } catch (const PluginError&) {
    return true;  // gone or unreadable: certainly not the file we loaded
  }
}

}  // namespace chronos
