// Hot reload of the real `chronos` program (issue 5, the contract's "Reload" section): SIGHUP
// or `chronos -s reload` with plugin files replaced on disk and configurations rewritten, while
// connections are open. Old connections keep the version they started with; new ones get the
// new one; an invalid configuration or a failing plugin changes nothing.
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/client_load.hpp"
#include "support/program_fixture.hpp"
#include "support/protocols.hpp"

namespace {

using namespace chronos::test;
using namespace std::chrono_literals;

const std::string kPluginDir = CHRONOS_PLUGIN_DIR;           // echo.so, http.so
const std::string kTestPluginDir = CHRONOS_TEST_PLUGIN_DIR;  // good.so, init_fails.so, ...
const std::string kEcho = kPluginDir + "/echo.so";
const std::string kHttp = kPluginDir + "/http.so";

bool reload_done(const std::string& line) { return line.find(": done in ") != std::string::npos; }
bool reload_refused(const std::string& line) {
  return line.find("still serving") != std::string::npos;
}

}  // namespace

TEST_CASE("reload: a plugin file replaced under an open connection", "[reload]") {
  OneListener x(kEcho);
  const std::uint16_t port = x.port;
  auto& server = x.server;
  INFO(server->log());

  Client a(port);
  REQUIRE(a.connected());
  REQUIRE(echoes(a, "before"));
  CHECK(server->plugin_copies_mapped() == 1);

  // Deploy http.so at the same path the realistic way: a new file renamed over the old one.
  x.install(kHttp);
  const std::string line = server->reload();
  INFO(server->log());
  REQUIRE(reload_done(line));
  CHECK(line.find("plugins started: x") != std::string::npos);
  CHECK(line.find("retiring: x") != std::string::npos);

  // A keeps the version it started with: even an HTTP request is echoed back verbatim.
  CHECK(echoes(a, "after"));
  CHECK(echoes(a, kGet));
  // B, new, gets the new version.
  Client b(port);
  REQUIRE(b.connected());
  const HttpResponse r = http_get(b);
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.body == "hello\n");

  // Both versions are mapped while A lives; the old one is unloaded once A has closed.
  CHECK(server->plugin_copies_mapped() == 2);
  a.close();
  CHECK(wait_until([&] { return server->plugin_copies_mapped() == 1; }, 10s));
  // B is unaffected by the old version going away.
  CHECK(http_get(b).body == "hello\n");

  // And back again: the file replaced by echo.so once more.
  x.install(kEcho);
  REQUIRE(reload_done(server->reload()));
  Client c(port);
  REQUIRE(c.connected());
  CHECK(echoes(c, "echo again"));
  CHECK(http_get(b).body == "hello\n");  // B still speaks the version it started with

  server->signal(SIGTERM);
  CHECK(server->wait_exit() == 0);
}

TEST_CASE("reload: a plugin file rewritten in place (same inode) is loaded afresh", "[reload]") {
  OneListener x(kEcho);
  const std::string path = x.dir / x.options.path;
  const std::uint16_t port = x.port;
  auto& server = x.server;
  INFO(server->log());

  Client a(port);
  REQUIRE(a.connected());
  REQUIRE(echoes(a));
  // `cp http.so X.so`: truncates and rewrites the same inode. (Safe for chronos: it runs a
  // private copy, not the file.)
  std::filesystem::copy_file(kHttp, path, std::filesystem::copy_options::overwrite_existing);
  REQUIRE(reload_done(server->reload()));
  CHECK(echoes(a, "old version"));
  Client b(port);
  REQUIRE(b.connected());
  CHECK(http_get(b).status == 200);
}

TEST_CASE("reload: an invalid configuration is logged and changes nothing", "[reload]") {
  OneListener x(kEcho, shipped_plugin("echo"));
  const ScratchDir& dir = x.dir;
  const std::uint16_t port = x.port;
  const std::string& file = x.file;
  auto& server = x.server;

  Client old_connection(port);
  REQUIRE(old_connection.connected());
  REQUIRE(echoes(old_connection));

  SECTION("schema errors") {
    dir.write("chronos.yaml",
              "workers: 2\n"
              "plugins:\n"
              "  - name: echo\n"
              "    path: plugins/echo.so\n"
              "listeners:\n" +
                  listener_entry("main", loopback(port), "ecoh") + "    idle_timout_ms: 5\n");
    const std::string line = server->reload();
    INFO(server->log());
    REQUIRE(reload_refused(line));
    CHECK(line.find("configuration invalid") != std::string::npos);
    // Every error, located.
    CHECK(server->log_has(file + ":8:13: no plugin named 'ecoh'"));
    CHECK(server->log_has(file + ":9:5: unknown listener key 'idle_timout_ms'"));
  }
  SECTION("YAML syntax error") {
    dir.write("chronos.yaml", "workers: 2\nplugins: [\n  - name: x\n");
    const std::string line = server->reload();
    INFO(server->log());
    REQUIRE(reload_refused(line));
    CHECK(server->log_has(file + ":3:3: YAML syntax error"));
  }
  SECTION("a plugin file that is missing") {
    ConfigBuilder broken;
    broken.plugin("echo", "plugins/missing.so").listener("main", loopback(port), "echo");
    x.write(broken);
    const std::string line = server->reload();
    INFO(server->log());
    REQUIRE(reload_refused(line));
    CHECK(server->log_has(file + ":"));
    CHECK(server->log_has("cannot open plugin"));
  }
  SECTION("the configuration file removed") {
    std::filesystem::remove(file);
    const std::string line = server->reload();
    INFO(server->log());
    REQUIRE(reload_refused(line));
    CHECK(server->log_has(file + ":1:1: "));
  }
  INFO(server->log());
  // Serving continues with the old configuration: old and new connections both work.
  CHECK(echoes(old_connection, "old connection"));
  Client new_connection(port);
  REQUIRE(new_connection.connected());
  CHECK(echoes(new_connection, "new connection"));

  // Fixing the file makes the next reload succeed.
  x.write(x.config());
  CHECK(reload_done(server->reload()));
  CHECK(echoes(old_connection, "still"));
}

TEST_CASE("reload: listeners added, removed and rebound", "[reload]") {
  ListenerOptions options = shipped_plugin("echo");
  options.listener = "kept";
  OneListener x(kEcho, options);
  const std::uint16_t kept = x.port, added = free_port(), moved = free_port();
  auto config = [&](bool with_added, bool use_moved) {
    ConfigBuilder cfg = x.config();
    if (with_added) cfg.listener("extra", loopback(use_moved ? moved : added), "echo");
    return x.write(cfg);
  };
  auto& server = x.server;
  INFO(server->log());
  REQUIRE(connect_fails(added));
  Client on_kept(kept);
  REQUIRE(on_kept.connected());
  REQUIRE(echoes(on_kept));

  // Added: the new port starts accepting.
  config(true, false);
  std::string line = server->reload();
  REQUIRE(reload_done(line));
  CHECK(line.find("listeners added: extra") != std::string::npos);
  Client on_added(added);
  REQUIRE(on_added.connected());
  CHECK(echoes(on_added, "on the added listener"));

  // Changed address: the listener rebinds; the old port refuses, the old connection stays.
  config(true, true);
  line = server->reload();
  INFO(server->log());
  REQUIRE(reload_done(line));
  CHECK(line.find("changed: extra") != std::string::npos);
  CHECK(connect_fails(added));
  Client on_moved(moved);
  REQUIRE(on_moved.connected());
  CHECK(echoes(on_moved, "on the moved listener"));
  CHECK(echoes(on_added, "still open after the move"));

  // Removed: its port refuses new connections, while one already open works until closed.
  config(false, false);
  line = server->reload();
  INFO(server->log());
  REQUIRE(reload_done(line));
  CHECK(line.find("removed: extra") != std::string::npos);
  CHECK(connect_fails(moved));
  CHECK(echoes(on_moved, "still open after the removal"));
  CHECK(echoes(on_added, "and this one too"));
  on_moved.close();
  on_added.close();
  // The kept listener never stopped.
  CHECK(echoes(on_kept, "kept"));
  Client again(kept);
  REQUIRE(again.connected());
  CHECK(echoes(again));
}

TEST_CASE("reload: a plugin whose init fails keeps the old version serving", "[reload]") {
  ProgramFixture f;
  const ScratchDir& dir = f.dir;
  SECTION("the plugin file replaced by one whose init fails") {
    dir.install_plugin(kEcho, "plugins/X.so");
    const std::uint16_t port = free_port();
    const std::string file = f.write(
        "workers: 2\n"
        "plugins:\n"
        "  - name: x\n"
        "    path: plugins/X.so\n"
        "    config: {}\n"
        "listeners:\n" +
        listener_entry("main", loopback(port), "x"));
    f.start();
    auto& server = f.server;
    Client old_connection(port);
    REQUIRE(old_connection.connected());
    REQUIRE(echoes(old_connection));

    dir.install_plugin(kTestPluginDir + "/init_fails.so", "plugins/X.so");
    const std::string line = server->reload();
    INFO(server->log());
    REQUIRE(reload_refused(line));
    CHECK(server->log_has(file + ":5:5: "));
    CHECK(server->log_has("nope: bad config"));
    CHECK(echoes(old_connection, "old"));
    Client new_connection(port);
    REQUIRE(new_connection.connected());
    CHECK(echoes(new_connection, "new, still the old version"));

    // The failed version is not kept mapped.
    CHECK(wait_until([&] { return server->plugin_copies_mapped() == 1; }, 10s));
  }
  SECTION("http given a config its init refuses") {
    dir.install_plugin(kHttp, "plugins/http.so");
    const std::uint16_t port = free_port();
    auto config = [&](const std::string& body) {
      return f.write(
          "workers: 2\n"
          "plugins:\n"
          "  - name: http\n"
          "    path: plugins/http.so\n"
          "    config:\n"
          "      body: " +
          body + "\nlisteners:\n" + listener_entry("main", loopback(port), "http"));
    };
    const std::string file = config("\"old body\"");
    f.start();
    auto& server = f.server;
    Client old_connection(port);
    REQUIRE(old_connection.connected());
    REQUIRE(http_get(old_connection).body == "old body");

    config("[not, a, string]");
    const std::string line = server->reload();
    INFO(server->log());
    REQUIRE(reload_refused(line));
    CHECK(server->log_has(file + ":5:5: "));
    CHECK(http_get(old_connection).body == "old body");
    Client new_connection(port);
    REQUIRE(new_connection.connected());
    CHECK(http_get(new_connection).body == "old body");
  }
}

TEST_CASE("reload: a changed http body reaches new connections only", "[reload]") {
  ListenerOptions options = shipped_plugin("http");
  options.listener = "web";
  options.extra = {"execution: inline"};
  options.plugin_config = "{ body: \"first\" }";
  OneListener x(kHttp, options);
  const std::uint16_t port = x.port;
  auto config = [&](const std::string& body) { x.write(x.config("{ body: \"" + body + "\" }")); };
  auto& server = x.server;
  INFO(server->log());

  Client kept_alive(port);
  REQUIRE(kept_alive.connected());
  HttpReader reader(kept_alive);
  REQUIRE(kept_alive.send_all(kGet));
  REQUIRE(reader.next().body == "first");

  config("second");
  const std::string line = server->reload();
  REQUIRE(reload_done(line));
  CHECK(line.find("plugins started: http") != std::string::npos);

  Client fresh(port);
  REQUIRE(fresh.connected());
  CHECK(http_get(fresh).body == "second");
  REQUIRE(kept_alive.send_all(kGet));
  CHECK(reader.next().body == "first");

  // An unchanged configuration keeps the running instance: the same body, nothing restarted.
  const std::string same = server->reload();
  REQUIRE(reload_done(same));
  CHECK(same.find("plugins started: none") != std::string::npos);
  CHECK(same.find("kept: http") != std::string::npos);
  CHECK(http_get(fresh).body == "second");
}

TEST_CASE("reload: settings that need a restart are logged and left as they run", "[reload]") {
  ListenerOptions options = shipped_plugin("echo");
  options.top = {"workers: 2"};
  OneListener x(kEcho, options);
  const std::uint16_t port = x.port;
  auto& server = x.server;
  const std::size_t threads = server->thread_count();
  x.options.top = {"workers: 3"};
  x.write(x.config());
  const std::string line = server->reload();
  INFO(server->log());
  REQUIRE(reload_done(line));
  CHECK(server->log_has("workers changed (2 -> 3)"));
  CHECK(server->log_has("after a restart"));
  // The reload's own thread is joined after its last log line: it leaves /proc a moment later.
  CHECK(wait_until([&] { return server->thread_count() == threads; }, 10s));
  Client client(port);
  REQUIRE(client.connected());
  CHECK(echoes(client));
}

TEST_CASE("reload: 100 reloads grow neither fds, threads nor mapped plugin copies", "[reload]") {
  // Two different plugin files, alternately renamed over the same path: every reload really
  // loads a new version and retires the previous one.
  const std::string versions[2] = {kEcho, kTestPluginDir + "/good.so"};
  ListenerOptions options;
  options.extra = {"execution: pool"};
  OneListener x(versions[0], options);
  const std::uint16_t port = x.port;
  auto& server = x.server;

  // One connection stays open throughout, on the very first version.
  Client long_lived(port);
  REQUIRE(long_lived.connected());
  REQUIRE(echoes(long_lived));

  std::size_t fds = 0, threads = 0, copies = 0;
  constexpr int kReloads = 100, kWarmUp = 5;
  for (int i = 1; i <= kReloads; ++i) {
    INFO("reload " << i);
    x.install(versions[i % 2]);
    const std::string line = server->reload();
    INFO(server->log().substr(std::max<std::size_t>(server->log().size(), 4000) - 4000));
    REQUIRE(reload_done(line));
    REQUIRE(line.find("plugins started: x") != std::string::npos);
    {
      Client c(port);
      REQUIRE(c.connected());
      REQUIRE(echoes(c, "reload " + std::to_string(i)));
    }  // closed before the next reload: that version is retired with no connection left
    if (i == kWarmUp) {
      // Settled: the long-lived connection's version, the current one, maybe one retiring.
      REQUIRE(wait_until([&] { return server->plugin_copies_mapped() <= 2; }, 10s));
      fds = server->fd_count();
      threads = server->thread_count();
      copies = server->plugin_copies_mapped();
    }
  }
  INFO("after " << kWarmUp << " reloads: " << fds << " fds, " << threads << " threads, " << copies
                << " plugin copies mapped");
  // Retired versions are unloaded once their last connection has gone (asynchronously).
  CHECK(wait_until([&] { return server->plugin_copies_mapped() <= copies; }, 10s));
  CHECK(wait_until([&] { return server->fd_count() <= fds; }, 10s));
  CHECK(server->thread_count() <= threads);
  INFO("after " << kReloads << " reloads: " << server->fd_count() << " fds, "
                << server->thread_count() << " threads, " << server->plugin_copies_mapped()
                << " plugin copies mapped");
  CHECK(server->plugin_copies_mapped() == 2);  // the long-lived connection's and the current one

  CHECK(echoes(long_lived, "first version, 100 reloads later"));
  long_lived.close();
  CHECK(wait_until([&] { return server->plugin_copies_mapped() == 1; }, 10s));

  server->signal(SIGTERM);
  CHECK(server->wait_exit() == 0);
}

TEST_CASE("chronos -s reload and -s stop find the running instance by its configuration",
          "[reload]") {
  OneListener x(kEcho);
  const ScratchDir& dir = x.dir;
  const std::uint16_t port = x.port;
  const std::string& file = x.file;
  auto& server = x.server;

  // Another instance on another configuration must not be touched.
  OneListener another(kEcho);
  auto& other = another.server;

  Client a(port);
  REQUIRE(a.connected());
  REQUIRE(echoes(a));
  x.install(kHttp);

  // `-s reload`, given the configuration by a relative path from another folder.
  const std::string sub = dir.mkdir("sub");
  const RunResult reload = run_chronos(dir, {"-s", "reload", "-c", "../chronos.yaml"}, sub);
  INFO(reload.err);
  CHECK(reload.exit_code == 0);
  const std::string line = server->expect_reload();
  INFO(server->log());
  REQUIRE(reload_done(line));
  CHECK(echoes(a, "old version"));
  Client b(port);
  REQUIRE(b.connected());
  CHECK(http_get(b).status == 200);
  CHECK_FALSE(other->log_has("reload #"));

  // `-s stop`: exit 0.
  const RunResult stop = run_chronos(dir, {"-s", "stop", "-c", file});
  INFO(stop.err);
  CHECK(stop.exit_code == 0);
  const std::optional<int> code = server->wait_exit();
  INFO(server->log());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(other->running());

  // Nothing serves this configuration now: -s says so and fails.
  const RunResult none = run_chronos(dir, {"-s", "reload", "-c", file});
  CHECK(none.exit_code.has_value());
  CHECK(none.exit_code != 0);
  CHECK(none.err.find("no running chronos") != std::string::npos);
}

TEST_CASE("reload: drain_timeout_ms closes old-version connections; 0 leaves them open",
          "[reload]") {
  ProgramFixture f;
  f.dir.install_plugin(kEcho, "plugins/X.so");
  const std::uint16_t drained_port = free_port(), patient_port = free_port();
  ConfigBuilder cfg;
  cfg.plugin("x", "plugins/X.so")
      .listener("drained", loopback(drained_port), "x", {"drain_timeout_ms: 300"})
      .listener("patient", loopback(patient_port), "x");  // drain_timeout_ms: 0, the default
  f.serve(cfg);
  auto& server = f.server;
  INFO(server->log());

  Client drained(drained_port), patient(patient_port);
  REQUIRE(drained.connected());
  REQUIRE(patient.connected());
  REQUIRE(echoes(drained));
  REQUIRE(echoes(patient));

  f.dir.install_plugin(kHttp, "plugins/X.so");
  const auto reloaded_at = std::chrono::steady_clock::now();
  REQUIRE(reload_done(server->reload()));
  // The idle old-version connection is closed by the server, after about 300 ms.
  CHECK(drained.wait_closed(5s));
  CHECK(std::chrono::steady_clock::now() - reloaded_at >= 250ms);
  // With 0 the old-version connection stays open (well past the other's deadline) and works.
  CHECK_FALSE(patient.wait_closed(700ms));
  CHECK(echoes(patient, "not drained"));
  // New connections on the drained listener get the new version and are not drained.
  Client fresh(drained_port);
  REQUIRE(fresh.connected());
  CHECK(http_get(fresh).status == 200);
  CHECK_FALSE(fresh.wait_closed(600ms));
  CHECK(http_get(fresh).status == 200);
}

TEST_CASE("reload: a new listener that cannot bind fails the whole reload", "[reload]") {
  OneListener x(kEcho);
  const std::uint16_t port = x.port;
  const std::string& file = x.file;
  auto& server = x.server;
  auto held = std::make_unique<HeldPort>();
  const std::uint16_t taken = held->port();
  Client a(port);
  REQUIRE(a.connected());
  REQUIRE(echoes(a));

  // A new plugin version and a listener on a port someone else holds: all or nothing.
  x.install(kHttp);
  x.write(x.config().listener("second", loopback(taken), "x"));
  const std::string line = server->reload();
  INFO(server->log());
  REQUIRE(reload_refused(line));
  CHECK(server->log_has(file + ":"));
  CHECK(server->log_has("in use"));
  CHECK(echoes(a, "old connection"));
  Client b(port);
  REQUIRE(b.connected());
  CHECK(echoes(b, "new connection, old version"));
  // The version started for the failed reload was shut down and unloaded again.
  CHECK(wait_until([&] { return server->plugin_copies_mapped() == 1; }, 10s));

  // Once the port is free, the same file reloads.
  held.reset();
  REQUIRE(reload_done(server->reload()));
  Client c(taken);
  REQUIRE(c.connected());
  CHECK(http_get(c).status == 200);
  CHECK(echoes(b, "b keeps its version"));
}

TEST_CASE("reload under load: no failed request, no connection error", "[reload]") {
  ProgramFixture f;
  f.dir.install_plugin(kHttp, "plugins/http.so");
  const std::uint16_t pool_port = free_port(), inline_port = free_port();
  auto config = [&](const std::string& body) {
    ConfigBuilder cfg;
    cfg.plugin("http", "plugins/http.so", "{ body: \"" + body + "\" }")
        .listener("pool", loopback(pool_port), "http", {"execution: pool"})
        .listener("inline", loopback(inline_port), "http", {"execution: inline"});
    return cfg;
  };
  f.serve(config("A"));

  // Clients: connect, a few keep-alive requests (one of them pipelined in pairs), close; again.
  // Every response must be a 200 with the body of the version the connection started with.
  ClientLoad load({pool_port, pool_port, inline_port}, [](Client& c, std::uint16_t port,
                                                          ClientLoad::Tally& tally) {
    HttpReader reader(c);
    std::string first_body;
    for (int k = 0; k < 4; ++k) {
      if (!c.send_all(k == 3 ? kGet + kGet : kGet)) return tally.fail("send failed");
      for (int n = 0; n < (k == 3 ? 2 : 1); ++n) {
        const HttpResponse r = reader.next();
        if (!r.complete || r.status != 200)
          return tally.fail("bad response on port " + std::to_string(port) + ": " + r.head);
        if (first_body.empty()) first_body = r.body;
        if (r.body != first_body)
          tally.fail("body changed within a connection: " + first_body + " -> " + r.body);
        tally.good();
      }
    }
  });

  for (int i = 1; i <= 20; ++i) {
    INFO("reload " << i);
    if (i % 2 == 0) f.dir.install_plugin(kHttp, "plugins/http.so");  // a new version of the file
    f.write(config(i % 2 ? "B" : "A"));
    REQUIRE(reload_done(f.server->reload()));
    REQUIRE(load.wait_for_more(30));
  }
  const std::vector<std::string> failures = load.stop();
  INFO(load.good() << " good responses");
  for (const auto& failure : failures) UNSCOPED_INFO(failure);
  CHECK(failures.empty());
  CHECK(load.good() > 600);
}

TEST_CASE("a restart serves the plugin files as they are on disk then", "[reload]") {
  OneListener x(kEcho);
  const std::uint16_t port = x.port;
  {
    auto& server = x.server;
    Client a(port);
    REQUIRE(a.connected());
    REQUIRE(echoes(a));
    x.install(kHttp);  // replaced, but no SIGHUP
    Client b(port);
    REQUIRE(b.connected());
    CHECK(echoes(b, "not reloaded yet"));
    server->signal(SIGTERM);
    REQUIRE(server->wait_exit() == 0);
  }
  x.start();
  Client c(port);
  REQUIRE(c.connected());
  CHECK(http_get(c).status == 200);
}

TEST_CASE("chronos -s leaves an instance alone that is still starting", "[reload]") {
  // An instance that has not started serving yet has not blocked SIGHUP and SIGTERM: their
  // default action would kill it instead of reloading it. It is held here where exec leaves it,
  // before it reads its configuration or blocks any signal: a traced process (PTRACE_TRACEME)
  // stops at exec until its tracer lets it go. (A FIFO as its configuration held it once; since
  // issue 12 chronos refuses a FIFO at once.)
  ScratchDir dir;
  dir.install_plugin(kEcho, "plugins/echo.so");
  const std::uint16_t port = free_port();
  ConfigBuilder cfg;
  cfg.plugin("echo", "plugins/echo.so").listener("main", loopback(port), "echo");
  const std::string file = dir.write("chronos.yaml", cfg.yaml());
  const std::string log = dir / "starting.log";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execl(CHRONOS_BINARY, CHRONOS_BINARY, "-c", file.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  struct Reaper {  // kills and reaps the instance if a check stops the test midway
    pid_t pid;
    bool reaped = false;
    ~Reaper() {
      if (reaped) return;
      ::kill(pid, SIGKILL);
      ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  } reaper{pid};
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSTOPPED(status));  // at its exec, in chronos already

  for (const char* what : {"reload", "stop"}) {
    INFO("-s " << what);
    const RunResult r = run_chronos(dir, {"-s", what, "-c", file});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no running chronos") != std::string::npos);
  }

  // Let it go: with no SIGHUP or SIGTERM pending (either would kill it), it starts and serves.
  REQUIRE(::ptrace(PTRACE_DETACH, pid, nullptr, nullptr) == 0);
  const auto serving = [&] {
    return read_whole_file(log).find("listening on ") != std::string::npos;
  };
  INFO(read_whole_file(log));
  REQUIRE(wait_until(serving, kStartTimeout));
  Client client(port);
  REQUIRE(client.connected());
  CHECK(echoes(client));
  // Now it is serving: -s stop reaches it.
  const RunResult stop = run_chronos(dir, {"-s", "stop", "-c", file});
  CHECK(stop.exit_code == 0);
  REQUIRE(wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, kExitTimeout));
  reaper.reaped = true;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
