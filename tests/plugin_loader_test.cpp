// The plugin loader: a good plugin works through its descriptor; every bad plugin is refused with
// a message naming the file; private copies give fresh code per load and leave nothing behind;
// destruction unloads (dlclose) the object.
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <string>

#include "chronos/PluginLoader.hpp"

using chronos::load_plugin;
using chronos::LoadedPlugin;
using chronos::LoadMode;
using chronos::PluginError;
namespace fs = std::filesystem;

namespace {

// A private folder (mode 0700) holding copies of the test plugins, removed at scope exit.
// Copies, not the build folder itself: the loader refuses group-writable folders, and a build
// tree made under umask 002 would be one.
struct PluginDir {
  PluginDir() {
    std::string pattern = fs::temp_directory_path() / "chronos-loader-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~PluginDir() {
    fs::permissions(path, fs::perms::owner_all);
    fs::remove_all(path);
  }
  PluginDir(const PluginDir&) = delete;
  PluginDir& operator=(const PluginDir&) = delete;

  std::string copy(const std::string& name, const std::string& as = "") const {
    const fs::path target = path / (as.empty() ? name + ".so" : as);
    fs::copy_file(fs::path(CHRONOS_TEST_PLUGIN_DIR) / (name + ".so"), target,
                  fs::copy_options::overwrite_existing);
    fs::permissions(target, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
    return target.string();
  }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path target = path / name;
    std::ofstream(target) << text;
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write);
    return target.string();
  }

  fs::path path;
};

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string load_error(const std::string& path, LoadMode mode = LoadMode::shared) {
  try {
    load_plugin(path, mode);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "";
}

bool mapped(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find(path) != std::string::npos;
}

// A host API that collects what a plugin sends.
struct FakeConn {
  std::string output;
};
int fake_send(chronos_conn* conn, const void* data, size_t len) {
  reinterpret_cast<FakeConn*>(conn)->output.append(static_cast<const char*>(data), len);
  return 0;
}
void fake_log(chronos_host*, int, const char*) {}
void fake_close(chronos_conn*) {}
uint64_t fake_conn_id(chronos_conn*) { return 1; }
const chronos_host_api kFakeApi = {sizeof(chronos_host_api), fake_log, fake_send, fake_close,
                                   fake_conn_id};

// Starts an instance of `plugin`; returns its init error text, or "" with *instance set.
std::string init(const chronos_plugin* plugin, void** instance) {
  char error[256] = "";
  const char config[] = "{}";
  const int rc =
      plugin->init(nullptr, &kFakeApi, config, sizeof config - 1, instance, error, sizeof error);
  return rc == 0 ? "" : std::string(error);
}

int init_count(const LoadedPlugin& plugin) {
  void* symbol = ::dlsym(plugin.handle(), "good_init_count");
  REQUIRE(symbol != nullptr);
  int (*count)();
  std::memcpy(&count, &symbol, sizeof count);
  return count();
}

}  // namespace

TEST_CASE("a good plugin loads and its descriptor works", "[loader]") {
  PluginDir dir;
  const std::string path = dir.copy("good");
  LoadedPlugin plugin = load_plugin(path);
  const chronos_plugin* d = plugin.descriptor();
  REQUIRE(d != nullptr);
  CHECK(std::string(d->name) == "good");
  CHECK(d->abi_major == CHRONOS_ABI_MAJOR);
  CHECK(plugin.path() == path);
  CHECK(plugin.loaded_path() == path);

  void* instance = nullptr;
  REQUIRE(init(d, &instance).empty());
  FakeConn conn;
  const uint8_t bytes[] = {'h', 'e', 'l', 'l', 'o'};
  CHECK(d->on_data(instance, reinterpret_cast<chronos_conn*>(&conn), nullptr, bytes, 5) == 5);
  CHECK(conn.output == "hello");
  d->shutdown(instance);
}

TEST_CASE("bad plugins are refused with a message naming the file and versions", "[loader]") {
  PluginDir dir;
  const std::string host =
      std::to_string(CHRONOS_ABI_MAJOR) + '.' + std::to_string(CHRONOS_ABI_MINOR);
  for (const LoadMode mode : {LoadMode::shared, LoadMode::private_copy}) {
    const std::string major = dir.copy("abi_major_mismatch");
    CHECK(load_error(major, mode) ==
          major + ": plugin ABI major version differs (plugin ABI 99.0, host ABI " + host +
              "); rebuild the plugin against this host's SDK");
    const std::string refuse = dir.copy("abi_refuse");
    CHECK(load_error(refuse, mode) ==
          refuse + ": the plugin refused to run on host ABI " + host +
              " (its chronos_plugin_entry returned NULL); rebuild it against this host's SDK");
    const std::string no_entry = dir.copy("no_entry");
    CHECK(load_error(no_entry, mode) ==
          no_entry + ": not a Chronos plugin (no chronos_plugin_entry)");
  }
}

TEST_CASE("init failure is the plugin's message, not a load error", "[loader]") {
  PluginDir dir;
  LoadedPlugin plugin = load_plugin(dir.copy("init_fails"));
  void* instance = nullptr;
  CHECK(init(plugin.descriptor(), &instance) == "nope: bad config");
}

TEST_CASE("files that are not plugins give a clear error, not a crash", "[loader]") {
  PluginDir dir;
  const std::string text = dir.write("text.so", "this is not an ELF file, just text\n");
  for (const LoadMode mode : {LoadMode::shared, LoadMode::private_copy}) {
    const std::string error = load_error(text, mode);
    CHECK(error.starts_with(text + ": not a loadable shared object: "));
    CHECK((error == text + ": not a loadable shared object: invalid ELF header" ||
           error == text + ": not a loadable shared object: file too short"));
    CHECK_THAT(error, !Catch::Contains("chronos-plugin-"));  // never the private copy's name
  }
  const std::string empty = dir.write("empty.so", "");
  CHECK(load_error(empty).starts_with(empty + ": not a loadable shared object: "));
  const std::string missing = (dir.path / "missing.so").string();
  CHECK(load_error(missing) == missing + ": cannot open plugin: No such file or directory");
  fs::create_directory(dir.path / "folder.so");
  const std::string folder = (dir.path / "folder.so").string();
  CHECK(load_error(folder) == folder + ": not a regular file; a plugin is a shared object (.so)");
}

TEST_CASE("a plugin others can write is refused", "[loader]") {
  PluginDir dir;
  const std::string path = dir.copy("good");
  fs::permissions(path, fs::perms::others_write, fs::perm_options::add);
  CHECK(load_error(path) == path + " is writable by others; refusing to load it");
  fs::permissions(path, fs::perms::others_write, fs::perm_options::remove);
  fs::permissions(path, fs::perms::group_write, fs::perm_options::add);
  CHECK(load_error(path) == path + " is writable by others; refusing to load it");
  fs::permissions(path, fs::perms::group_write, fs::perm_options::remove);
  CHECK(load_error(path).empty());

  fs::permissions(dir.path, fs::perms::others_write, fs::perm_options::add);
  CHECK(load_error(path, LoadMode::private_copy) ==
        dir.path.string() + " (the folder of " + path +
            ") is writable by others; refusing to load the plugin");

  // Through a symlink in a safe folder to a file in an unsafe one: still refused.
  PluginDir safe;
  const std::string link = (safe.path / "link.so").string();
  fs::create_symlink(path, link);
  CHECK_THAT(load_error(link), Catch::Contains("is writable by others"));
}

TEST_CASE("private copies: fresh code per load, nothing left on disk", "[loader][reload]") {
  PluginDir dir;
  PluginDir tmp;
  const ScopedEnv env("TMPDIR", tmp.path.string());
  const std::string path = dir.copy("good");

  LoadedPlugin a = load_plugin(path, LoadMode::private_copy);
  LoadedPlugin b = load_plugin(path, LoadMode::private_copy);
  CHECK(fs::is_empty(tmp.path));  // copies and their folders are gone while still loaded
  CHECK(a.handle() != b.handle());
  CHECK(a.descriptor() != b.descriptor());
  CHECK(a.descriptor()->on_data != b.descriptor()->on_data);
  CHECK(a.loaded_path() != b.loaded_path());
  CHECK(a.loaded_path().starts_with(tmp.path.string() + "/chronos-plugin-"));
  CHECK(a.path() == path);
  CHECK(a.identity() == b.identity());

  // Separate globals: starting an instance of one copy leaves the other's count at zero.
  void* instance = nullptr;
  REQUIRE(init(a.descriptor(), &instance).empty());
  CHECK(init_count(a) == 1);
  CHECK(init_count(b) == 0);
  a.descriptor()->shutdown(instance);

  // Shared mode, by contrast, hands back the one object dlopen already has.
  LoadedPlugin c = load_plugin(path);
  LoadedPlugin d = load_plugin(path);
  CHECK(c.handle() == d.handle());
  CHECK(c.descriptor() == d.descriptor());
}

TEST_CASE("destruction unloads the object", "[loader][reload]") {
  PluginDir dir;
  const std::string path = dir.copy("good");
  std::string copy;
  {
    LoadedPlugin plugin = load_plugin(path, LoadMode::private_copy);
    copy = plugin.loaded_path();
    CHECK(mapped(copy));  // listed as "(deleted)": unlinked but mapped
    LoadedPlugin moved = std::move(plugin);
    CHECK(plugin.descriptor() == nullptr);  // NOLINT(bugprone-use-after-move): on purpose
    CHECK(moved.descriptor() != nullptr);
    CHECK(mapped(copy));
  }
  CHECK_FALSE(mapped(copy));

  {
    LoadedPlugin shared = load_plugin(path);
    CHECK(mapped(path));
  }
  CHECK_FALSE(mapped(path));

  // Move assignment releases the object it replaces.
  LoadedPlugin first = load_plugin(path, LoadMode::private_copy);
  const std::string first_copy = first.loaded_path();
  first = load_plugin(path, LoadMode::private_copy);
  CHECK_FALSE(mapped(first_copy));
  CHECK(mapped(first.loaded_path()));
}

TEST_CASE("file identity tells whether the file changed", "[loader][reload]") {
  PluginDir dir;
  const std::string path = dir.copy("good");
  LoadedPlugin plugin = load_plugin(path, LoadMode::private_copy);
  CHECK(plugin.identity() == chronos::identify_file(path));
  CHECK_FALSE(plugin.file_changed());

  // Same bytes, new mtime (a rebuild that produced the same output): changed.
  const timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  CHECK(plugin.file_changed());

  // Replaced by another file at the same path: changed.
  LoadedPlugin second = load_plugin(path, LoadMode::private_copy);
  CHECK_FALSE(second.file_changed());
  dir.copy("init_fails", "good.so");
  CHECK(second.file_changed());
  fs::remove(path);
  CHECK(second.file_changed());
  CHECK_THROWS_AS(chronos::identify_file(path), PluginError);
}

TEST_CASE("an unusable TMPDIR is reported", "[loader][reload]") {
  PluginDir dir;
  const std::string path = dir.copy("good");
  const ScopedEnv env("TMPDIR", (dir.path / "no" / "such" / "dir").string());
  CHECK_THAT(load_error(path, LoadMode::private_copy),
             Catch::StartsWith("cannot create a private folder for a plugin copy under " +
                               (dir.path / "no" / "such" / "dir").string()));
}

TEST_CASE("check_descriptor: version, size and required members", "[loader]") {
  auto on_data = [](void*, chronos_conn*, void*, const uint8_t*, size_t len) -> int64_t {
    return static_cast<int64_t>(len);
  };
  auto init = [](chronos_host*, const chronos_host_api*, const char*, size_t, void**, char*,
                 size_t) { return 0; };
  auto shutdown = [](void*) {};
  const chronos_plugin ok = {CHRONOS_ABI_MAJOR,
                             CHRONOS_ABI_MINOR,
                             sizeof(chronos_plugin),
                             "p",
                             "1",
                             init,
                             shutdown,
                             nullptr,
                             on_data,
                             nullptr};
  const std::string host =
      std::to_string(CHRONOS_ABI_MAJOR) + '.' + std::to_string(CHRONOS_ABI_MINOR);
  const std::string versions = "(plugin ABI " + host + ", host ABI " + host + ")";
  CHECK(chronos::check_descriptor(&ok, "p.so").empty());

  chronos_plugin newer = ok;
  newer.abi_minor = CHRONOS_ABI_MINOR + 1;
  CHECK(chronos::check_descriptor(&newer, "p.so") ==
        "p.so: plugin needs a newer host (plugin ABI " + std::to_string(CHRONOS_ABI_MAJOR) + '.' +
            std::to_string(CHRONOS_ABI_MINOR + 1) + ", host ABI " + host +
            "); upgrade chronos or rebuild the plugin");

  chronos_plugin small = ok;
  small.size = 12;
  CHECK(chronos::check_descriptor(&small, "p.so") ==
        "p.so: plugin descriptor is 12 bytes, at least " + std::to_string(sizeof(chronos_plugin)) +
            " expected " + versions);

  chronos_plugin no_data = ok;
  no_data.on_data = nullptr;
  CHECK(chronos::check_descriptor(&no_data, "p.so") ==
        "p.so: plugin descriptor has no on_data " + versions);
  chronos_plugin no_init = ok;
  no_init.init = nullptr;
  CHECK_THAT(chronos::check_descriptor(&no_init, "p.so"), Catch::Contains("has no init"));
  chronos_plugin no_name = ok;
  no_name.name = "";
  CHECK_THAT(chronos::check_descriptor(&no_name, "p.so"), Catch::Contains("has no name"));
}

TEST_CASE("check_plugins reports each bad plugin at its path", "[loader]") {
  PluginDir dir;
  dir.copy("good");
  dir.copy("no_entry");
  const std::string file = dir.path / "c.yaml";
  const auto result = chronos::parse_config(
      "plugins:\n  - {name: a, path: good.so}\n  - {name: b, path: no_entry.so}\n"
      "  - {name: c, path: missing.so}\n",
      file);
  REQUIRE(result.ok());
  const auto errors = chronos::check_plugins(*result.config);
  REQUIRE(errors.size() == 2);
  CHECK(to_string(errors[0]) == file + ":3:21: " + (dir.path / "no_entry.so").string() +
                                    ": not a Chronos plugin (no chronos_plugin_entry)");
  CHECK(to_string(errors[1]) == file + ":4:21: " + (dir.path / "missing.so").string() +
                                    ": cannot open plugin: No such file or directory");
}

// A half-copied deploy: dlopen would map segments past the end of the file and the process would
// die of SIGBUS on first touch. The ELF check refuses every truncation before dlopen.
TEST_CASE("a truncated or corrupt shared object is refused, not mapped", "[loader][files]") {
  PluginDir dir;
  const std::string good = dir.copy("good");
  const auto size = static_cast<std::uintmax_t>(fs::file_size(good));
  for (const std::uintmax_t keep : {std::uintmax_t{10}, std::uintmax_t{64}, std::uintmax_t{700},
                                    size / 4, size / 2, size - 1}) {
    const std::string cut = dir.copy("good", "cut.so");
    fs::resize_file(cut, keep);
    for (const LoadMode mode : {LoadMode::shared, LoadMode::private_copy}) {
      INFO("kept " << keep << " of " << size << " bytes");
      const std::string error = load_error(cut, mode);
      CHECK(error.starts_with(cut + ": not a loadable shared object: "));
      if (keep > 64) CHECK_THAT(error, Catch::Contains("truncated or corrupt"));
    }
  }

  // A program header table offset far past the end of the file.
  const std::string corrupt = dir.copy("good", "corrupt.so");
  {
    std::fstream file(corrupt, std::ios::in | std::ios::out | std::ios::binary);
    const std::uint64_t far = std::uint64_t{1} << 40;
    file.seekp(0x20);  // e_phoff in a 64-bit ELF header
    file.write(reinterpret_cast<const char*>(&far), sizeof far);
  }
  CHECK_THAT(load_error(corrupt),
             Catch::StartsWith(corrupt + ": not a loadable shared object: truncated or corrupt: "
                                         "the program header table ends at byte "));
  CHECK(load_error(good).empty());  // the check passes a whole object
}

TEST_CASE("a FIFO as the plugin is refused without waiting for a writer", "[loader][files]") {
  PluginDir dir;
  const std::string fifo = (dir.path / "fifo.so").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto error = std::async(std::launch::async, [&] { return load_error(fifo); });
  if (error.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // let the load go on
    ::close(writer);
    FAIL("load_plugin blocked on a FIFO for 5 s");
  }
  CHECK(error.get() == fifo + ": not a regular file; a plugin is a shared object (.so)");
}

TEST_CASE("private copies left by a process that died are removed", "[loader][files]") {
  PluginDir tmp;
  const ScopedEnv env("TMPDIR", tmp.path.string());
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);  // its pid now names no process

  const auto make = [&](const std::string& name) {
    fs::create_directory(tmp.path / name);
    std::ofstream(tmp.path / name / "good.so") << "copy";
    return tmp.path / name;
  };
  const fs::path dead = make("chronos-plugin-" + std::to_string(child) + "-abcdef");
  const fs::path alive = make("chronos-plugin-" + std::to_string(::getpid()) + "-abcdef");
  const fs::path foreign = make("chronos-plugin-notours");
  CHECK(chronos::remove_stale_private_copies() == 1);
  CHECK_FALSE(fs::exists(dead));
  CHECK(fs::exists(alive));
  CHECK(fs::exists(foreign));
}
