// The `chronos` program's supervisor (issue 12, crash containment): plain `chronos -c FILE` owns
// the listening sockets and runs the server as its child. A plugin that crashes the server costs
// that server's open connections, not the ports: a new server serves the same sockets at once (a
// crash loop backs off), a reload that crashed it is logged as failed and the previous
// configuration serves again; SIGUSR2 upgrades the binary under load; SIGTERM and `-s stop` stop
// both processes; --no-supervisor runs one process that a crash kills.
//
// SUPERVISOR_TEST_NO_SUPERVISOR=1 runs every server with --no-supervisor (the old behaviour):
// the cases then fail, which is how they were checked to test what they claim.
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/client_load.hpp"
#include "support/program_fixture.hpp"
#include "support/protocols.hpp"

namespace {

using namespace chronos::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kPluginDir = CHRONOS_PLUGIN_DIR;           // echo.so, http.so
const std::string kTestPluginDir = CHRONOS_TEST_PLUGIN_DIR;  // abort_on_data.so, segv_in_init.so
const std::string kEcho = kPluginDir + "/echo.so";
const std::string kHttp = kPluginDir + "/http.so";
const std::string kAbort = kTestPluginDir + "/abort_on_data.so";
const std::string kSegv = kTestPluginDir + "/segv_in_init.so";

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A server that a plugin crashes on purpose: sanitizer builds must let the signal kill it (as a
// release build dies) instead of reporting the plugin's fault and exiting 1.
std::vector<std::string> crash_env() {
  std::vector<std::string> env;
  for (const char* name : {"ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"}) {
    const char* now = std::getenv(name);
    std::string value = now && *now ? std::string(now) + ":" : std::string();
    env.push_back(std::string(name) + "=" + value + "handle_segv=0:handle_abort=0");
  }
  return env;
}

std::vector<std::string> args_for(const std::string& file, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"-c", file};
  const char* old = std::getenv("SUPERVISOR_TEST_NO_SUPERVISOR");
  if (old && *old == '1') args.push_back("--no-supervisor");
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Starts chronos on `f.file` with the crash environment; REQUIREs it serves and, supervised,
// that its server runs; the server's pid.
pid_t start(ProgramFixture& f, std::vector<std::string> extra = {}) {
  f.server = std::make_unique<RunningProgram>(f.dir, args_for(f.file, std::move(extra)),
                                              std::string(), crash_env());
  const bool listening = f.server->wait_listening();
  INFO(f.server->log());
  REQUIRE(listening);
  if (f.server->supervised()) REQUIRE(f.server->wait_log("supervises the server pid"));
  return f.server->server_pid();
}

// A server other than `old` serves (the supervisor's newest child, not between two).
bool wait_new_server(RunningProgram& p, pid_t old, std::chrono::milliseconds timeout = 10s) {
  return wait_until(
      [&] {
        const pid_t now = p.server_pid();
        return now != 0 && now != old;
      },
      timeout);
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// What each open descriptor of `pid` is ("socket:[123]", "/memfd:chronos-config (deleted)", …).
std::vector<std::string> fd_targets(pid_t pid) {
  std::vector<std::string> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    out.push_back(std::filesystem::read_symlink(entry.path(), ec).string());
  return out;
}

// How many of `targets` contain `part`.
std::size_t count_of(const std::vector<std::string>& targets, const std::string& part) {
  return static_cast<std::size_t>(std::count_if(targets.begin(), targets.end(), [&](const auto& t) {
    return t.find(part) != std::string::npos;
  }));
}

// A line of /proc/PID/status, e.g. "VmRSS:" (its value in kB), or -1.
long proc_status_kb(pid_t pid, const std::string& key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + key.size(), nullptr, 10);
  return -1;
}

// The CPU time `pid` has used, in clock ticks (utime + stime of /proc/PID/stat).
long cpu_ticks(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) {
      stime = std::stol(field);
      break;
    }
  }
  return utime + stime;
}

// echo.so on one fresh port, served; the port.
std::uint16_t serve_echo(ProgramFixture& f) {
  const std::uint16_t port = free_port();
  f.dir.install_plugin(kEcho, "plugins/echo.so");
  f.write(
      ConfigBuilder().plugin("echo", "plugins/echo.so").listener("main", loopback(port), "echo"));
  start(f);
  return port;
}

// A session of three echo exchanges; a failed one is counted in `lost` (its server died).
ClientLoad::Session echo_session(std::atomic<int>& lost) {
  return [&lost](Client& c, std::uint16_t, ClientLoad::Tally& tally) {
    for (int i = 0; i < 3; ++i) {
      if (!echoes(c)) {
        ++lost;
        return;
      }
      tally.good();
    }
  };
}

// Crashes the server behind `port` (abort_on_data) and times how long until a connection made
// right after the crash is answered: the time to serve again, in ms (< 0: never within 10 s).
double crash_and_time_recovery(std::uint16_t port) {
  Client crash(port);
  REQUIRE(crash.connected());
  REQUIRE(echoes(crash));  // accepted by the server now running
  const auto crashed = Clock::now();
  REQUIRE(crash.send_all("abort\n"));
  REQUIRE(crash.wait_closed(10s));  // the server died: its connections are gone
  Client probe(port);               // waits in the supervisor's socket's accept queue
  if (!probe.connected()) return -1;
  return echoes(probe) ? ms_since(crashed) : -1;
}

}  // namespace

TEST_CASE("supervisor: abort() in on_data restarts the server on the same sockets at once",
          "[supervisor]") {
  ProgramFixture f;
  const std::uint16_t a = free_port(), b = free_port();
  f.dir.install_plugin(kAbort, "plugins/abort.so");
  f.dir.install_plugin(kEcho, "plugins/echo.so");
  f.write(ConfigBuilder()
              .plugin("abort", "plugins/abort.so")
              .plugin("echo", "plugins/echo.so")
              .listener("a", loopback(a), "abort")
              .listener("b", loopback(b), "echo"));
  const pid_t first = start(f);
  std::atomic<int> lost{0};
  ClientLoad load({b, b}, echo_session(lost));
  REQUIRE(load.wait_for_more(100));

  const double recovery_ms = crash_and_time_recovery(a);
  INFO(f.server->log());
  std::printf("supervisor_test: served again %.1f ms after the crash\n", recovery_ms);
  CHECK(recovery_ms >= 0);
  CHECK(recovery_ms < 1000);
  CHECK(wait_new_server(*f.server, first));
  REQUIRE(load.wait_for_more(100));  // B serves again too, on the same port
  const std::vector<std::string> refused = load.stop();
  std::printf("supervisor_test: connects to B refused: %zu; B sessions lost in the crash: %d\n",
              refused.size(), lost.load());
  for (const std::string& r : refused) UNSCOPED_INFO(r);
  CHECK(refused.empty());
  CHECK(f.server->log_has("killed by SIGABRT; its open connections are lost; restarting at once"));
  CHECK(f.server->log_has("serves again"));
  CHECK(f.server->running());
  // The supervisor: its signalfd, the server's control socket, the two listening sockets and
  // the two plugin files (beside what it inherited); small, and idle while the load ran.
  const pid_t supervisor = f.server->pid();
  const std::vector<std::string> fds = fd_targets(supervisor);
  const long rss_kb = proc_status_kb(supervisor, "VmRSS:"), ticks = cpu_ticks(supervisor);
  std::printf("supervisor_test: supervisor: %zu fds, %ld kB resident, %ld CPU ticks\n", fds.size(),
              rss_kb, ticks);
  CHECK(count_of(fds, "socket:") == 3);
  CHECK(count_of(fds, "anon_inode:[signalfd]") == 1);
  CHECK(count_of(fds, "memfd:chronos-plugin") == 2);  // the files that serve, kept for a restart
  CHECK(count_of(fds, "memfd:chronos-config") == 0);
  CHECK(count_of(fds, "anon_inode:[eventpoll]") == 0);  // one poll(), no reactor of its own
  CHECK(rss_kb < 64 * 1024);
  CHECK(ticks < 50);  // half a second of CPU, all told (0 measured)
  // The server: none of the supervisor's descriptors (its signalfd, the resumed configuration).
  const std::vector<std::string> server_fds = fd_targets(f.server->server_pid());
  CHECK(count_of(server_fds, "anon_inode:[signalfd]") == 1);  // its own
  CHECK(count_of(server_fds, "memfd:") == 0);
}

TEST_CASE(
    "supervisor: a server that dies during a reload comes back on the configuration that "
    "served",
    "[supervisor]") {
  ProgramFixture f;
  const std::uint16_t port = free_port();
  f.dir.install_plugin(kHttp, "plugins/http.so");
  f.dir.install_plugin(kSegv, "plugins/segv.so");
  const ConfigBuilder served =
      ConfigBuilder().plugin("web", "plugins/http.so").listener("main", loopback(port), "web");
  f.write(served);
  const pid_t first = start(f);
  {
    Client c(port);
    REQUIRE(http_get(c).status == 200);
  }
  // A plugin that dereferences a null pointer in its init, during the reload: a new one, or a new
  // version deployed over the file that serves (the restart must not load it from the path).
  SECTION("a new plugin") {
    f.write(ConfigBuilder()
                .plugin("boom", "plugins/segv.so", "{crash: true}")
                .listener("main", loopback(port), "boom"));
  }
  SECTION("a new version of the served plugin's file") {
    f.dir.install_plugin(kSegv, "plugins/http.so");
    f.write(ConfigBuilder()
                .plugin("web", "plugins/http.so", "{crash: true}")
                .listener("main", loopback(port), "web"));
  }
  f.server->signal(SIGHUP);
  const bool failed = f.server->wait_log("reload #1 failed: the server died during it");
  INFO(f.server->log());
  REQUIRE(failed);
  CHECK(f.server->log_has("killed by SIGSEGV"));
  REQUIRE(wait_new_server(*f.server, first));
  REQUIRE(f.server->wait_log("serves again"));
  CHECK(f.server->log_has("resuming on the last configuration that served"));
  CHECK(count_of(fd_targets(f.server->server_pid()), "memfd:") == 0);  // read and closed
  Client c(port);
  CHECK(http_get(c).status == 200);  // the old plugin answers, not the new one's echo
  // The files on disk are still the crashing ones; the next good ones reload as usual.
  f.dir.install_plugin(kHttp, "plugins/http.so");
  f.write(served);
  f.server->signal(SIGHUP);  // numbered on from the dead server's reloads
  CHECK(f.server->wait_log("reload #2: done in "));
  Client after(port);
  CHECK(http_get(after).status == 200);
}

TEST_CASE("supervisor: SIGUSR2 upgrades the server under load without a failed request",
          "[supervisor]") {
  ProgramFixture f;
  const std::uint16_t port = serve_echo(f);
  RunningProgram& p = *f.server;
  const pid_t supervisor = p.pid(), old = p.server_pid();
  Client held(port);  // open across the upgrade: the old server drains it
  REQUIRE(echoes(held));
  std::atomic<int> lost{0};
  ClientLoad load({port, port, port}, echo_session(lost));
  REQUIRE(load.wait_for_more(100));

  p.signal(SIGUSR2);
  INFO(p.log());
  REQUIRE(p.wait_log("upgrade: pid "));
  REQUIRE(wait_new_server(p, old));
  REQUIRE(load.wait_for_more(300));  // served by the new server
  CHECK(alive(old));                 // still draining: `held` is open
  CHECK(echoes(held));
  held.close();
  CHECK(wait_until([&] { return p.child_pids().size() == 1 && !alive(old); }, 10s));
  REQUIRE(load.wait_for_more(100));
  const std::vector<std::string> failures = load.stop();
  std::printf("supervisor_test: SIGUSR2 under load: %zu failed connects, %d failed sessions\n",
              failures.size(), lost.load());
  for (const std::string& r : failures) UNSCOPED_INFO(r);
  CHECK(failures.empty());
  CHECK(lost.load() == 0);
  CHECK(p.pid() == supervisor);
  CHECK(p.running());
  CHECK(p.server_pid() != old);
  CHECK(p.wait_log("old server pid " + std::to_string(old) + " ended (exited with status 0)"));
}

TEST_CASE("supervisor: SIGTERM and -s stop end the supervisor and its server with status 0",
          "[supervisor]") {
  ProgramFixture f;
  const std::uint16_t port = serve_echo(f);
  RunningProgram& p = *f.server;
  const pid_t server = p.server_pid();
  REQUIRE(server != p.pid());

  SECTION("SIGTERM") { p.signal(SIGTERM); }
  SECTION("chronos -s stop") {
    const RunResult r = run_chronos(f.dir, {"-s", "stop", "-c", f.file});
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
  INFO(p.log());
  CHECK(p.wait_exit() == 0);
  CHECK(!alive(server));
  CHECK(connect_fails(port));
}

TEST_CASE("supervisor: --no-supervisor serves in one process, which a crash kills",
          "[supervisor]") {
  ProgramFixture f;
  const std::uint16_t port = free_port();
  f.dir.install_plugin(kAbort, "plugins/abort.so");
  f.write(
      ConfigBuilder().plugin("abort", "plugins/abort.so").listener("a", loopback(port), "abort"));
  f.server = std::make_unique<RunningProgram>(
      f.dir, std::vector<std::string>{"-c", f.file, "--no-supervisor"}, std::string(), crash_env());
  RunningProgram& p = *f.server;
  REQUIRE(p.wait_listening());
  CHECK(p.child_pids().empty());
  CHECK(p.server_pid() == p.pid());
  p.expect_death();
  Client c(port);
  REQUIRE(echoes(c));
  REQUIRE(c.send_all("abort\n"));
  CHECK(p.wait_exit() == 128 + SIGABRT);
  CHECK(connect_fails(port));
}

TEST_CASE("supervisor: a crash loop backs off and keeps the ports open", "[supervisor]") {
  ProgramFixture f;
  const std::uint16_t port = free_port();
  f.dir.install_plugin(kAbort, "plugins/abort.so");
  f.write(
      ConfigBuilder().plugin("abort", "plugins/abort.so").listener("a", loopback(port), "abort"));
  start(f);
  // Every connection of the loop aborts its server; each restart is timed from its crash.
  std::vector<double> recovery;
  for (int i = 0; i < 5; ++i) recovery.push_back(crash_and_time_recovery(port));
  INFO(f.server->log());
  std::string line = "supervisor_test: crash loop: served again after";
  for (double ms : recovery) line += " " + std::to_string(static_cast<int>(ms)) + " ms";
  std::printf("%s\n", line.c_str());
  for (double ms : recovery) CHECK(ms >= 0);  // every probe connected and was answered
  CHECK(recovery[0] < 1000);                  // the first restart is at once
  // Then each waits its back-off before starting (a lower bound: a loaded machine's exec and
  // start add tens, at times a hundred ms on top, so neighbours are not compared).
  const double backoff_ms[] = {0, 100, 200, 400, 800};
  for (std::size_t i = 1; i < recovery.size(); ++i) CHECK(recovery[i] >= backoff_ms[i] - 1);
  CHECK(recovery[4] > recovery[1] + 400);
  CHECK(f.server->log_has("restarting in 800 ms on the configuration that served"));
  CHECK(f.server->log_has("(crash 5 in a row)"));
  CHECK(f.server->running());
}

TEST_CASE("supervisor: a server that dies while starting is not restarted", "[supervisor]") {
  ProgramFixture f;
  f.dir.install_plugin(kSegv, "plugins/segv.so");
  f.write(ConfigBuilder()
              .plugin("boom", "plugins/segv.so", "{crash: true}")
              .listener("main", loopback(free_port()), "boom"));
  RunningProgram p(f.dir, args_for(f.file), std::string(), crash_env());
  const std::optional<int> code = p.wait_exit();
  INFO(p.log());
  CHECK(code == 3);
  CHECK(p.log_has("died while starting (killed by SIGSEGV)"));
  CHECK(!p.log_has("restarting"));
}
