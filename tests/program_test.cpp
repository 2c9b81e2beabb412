// The `chronos` program end to end (issue 4): the real build/bin/chronos, started with generated
// configurations in a private folder, spoken to over loopback. Checks exactly the contract's
// "The program", "The configuration" and "The shipped plugins" sections.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "chronos/plugin.h"
#include "support/program_fixture.hpp"
#include "support/protocols.hpp"

namespace {

using namespace chronos::test;
using namespace std::chrono_literals;

const std::string kPluginDir = CHRONOS_PLUGIN_DIR;           // echo.so, http.so
const std::string kTestPluginDir = CHRONOS_TEST_PLUGIN_DIR;  // good.so, init_fails.so, ...

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// Whether `text` starts with "LINE:COLUMN: " and a message (positive decimal numbers).
bool position_and_message(std::string_view text) {
  for (int number = 0; number < 2; ++number) {  // LINE, then COLUMN, each followed by ':'
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits == text.size() || text[digits] != ':') return false;
    text.remove_prefix(digits + 1);
  }
  return text.size() > 1 && text[0] == ' ';
}

// Every line of `text` has the shape FILE:LINE:COLUMN: message, for this FILE.
bool all_located(const std::string& text, const std::string& file) {
  const std::vector<std::string> lines = lines_of(text);
  if (lines.empty()) return false;
  const std::string prefix = file + ":";
  for (const auto& line : lines)
    if (line.rfind(prefix, 0) != 0 ||
        !position_and_message(std::string_view(line).substr(prefix.size()))) {
      UNSCOPED_INFO("not FILE:LINE:COLUMN: message: " << line);
      return false;
    }
  return true;
}

ListenerOptions http_options(const std::string& plugin_config, const std::string& mode) {
  ListenerOptions options = shipped_plugin("http");
  options.listener = "web";
  options.plugin_config = plugin_config;
  options.extra = {"execution: " + mode};
  return options;
}

// One chronos serving http on a fresh port (pool or inline), with `plugin_config` for http.
struct HttpServer : OneListener {
  explicit HttpServer(const std::string& plugin_config = "{}", const std::string& mode = "pool")
      : OneListener(kPluginDir + "/http.so", http_options(plugin_config, mode)) {}
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// echo

TEST_CASE("echo returns 1 B, 64 KiB and 1 MiB byte for byte, in pool and inline mode",
          "[program][echo]") {
  ProgramFixture f;
  const std::string echo = f.dir.install_plugin(kPluginDir + "/echo.so", "plugins/echo.so");
  const std::uint16_t pool_port = free_port(), inline_port = free_port();
  ConfigBuilder cfg;
  cfg.plugin("echo", echo)
      .listener("echo-pool", loopback(pool_port), "echo", {"execution: pool"})
      .listener("echo-inline", loopback(inline_port), "echo", {"execution: inline"});
  f.serve(cfg);

  for (const std::uint16_t port : {pool_port, inline_port}) {
    for (const std::size_t size : {std::size_t{1}, std::size_t{64} << 10, std::size_t{1} << 20}) {
      INFO("port " << port << ", " << size << " bytes");
      Client client(port);
      REQUIRE(client.connected());
      const std::string data = pattern(size, static_cast<std::uint32_t>(size + port));
      const std::string back = echo_roundtrip(client, data);
      REQUIRE(back.size() == data.size());
      CHECK(back == data);
    }
  }
  // Several messages on one connection keep their order.
  Client client(pool_port);
  REQUIRE(client.connected());
  for (int i = 0; i < 20; ++i) {
    const std::string msg = "message " + std::to_string(i) + "\n";
    REQUIRE(echo_roundtrip(client, msg) == msg);
  }
}

TEST_CASE("echo over IPv6 loopback", "[program][echo]") {
  std::uint16_t port;
  try {
    port = free_port(/*ipv6=*/true);
  } catch (const std::exception& e) {
    WARN("no IPv6 loopback here (" << e.what() << "); skipped");
    return;
  }
  ProgramFixture f;
  const std::string echo = f.dir.install_plugin(kPluginDir + "/echo.so", "plugins/echo.so");
  ConfigBuilder cfg;
  cfg.plugin("echo", echo).listener("echo6", loopback6(port), "echo");
  f.serve(cfg);
  Client client(port, /*ipv6=*/true);
  REQUIRE(client.connected());
  CHECK(echo_roundtrip(client, "over v6") == "over v6");
}

// ---------------------------------------------------------------------------------------------
// http

TEST_CASE("http GET answers 200 with the body from the plugin config", "[program][http]") {
  for (const char* mode : {"pool", "inline"}) {
    INFO(mode << " mode");
    HttpServer server(R"({ body: "configured body\n" })", mode);
    Client client(server.port);
    REQUIRE(client.connected());
    const HttpResponse r = http_get(client);
    REQUIRE(r.complete);
    CHECK(r.status == 200);
    CHECK(r.head.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(r.header("Content-Length") == "16");
    CHECK(r.body == "configured body\n");
  }
}

TEST_CASE("http GET without a configured body answers hello", "[program][http]") {
  HttpServer server("");  // no `config:` key at all
  Client client(server.port);
  REQUIRE(client.connected());
  const HttpResponse r = http_get(client);
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.header("Content-Length") == "6");
  CHECK(r.body == "hello\n");
}

TEST_CASE("http HEAD answers the headers with Content-Length and no body", "[program][http]") {
  HttpServer server(R"({ body: "0123456789" })");
  Client client(server.port);
  REQUIRE(client.connected());
  REQUIRE(client.send_all("HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  HttpReader reader(client);
  const HttpResponse head = reader.next(/*head_request=*/true);
  REQUIRE(head.complete);
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == "10");
  // No body: the very next bytes on the connection are the answer to the next request.
  REQUIRE(client.send_all(kGet));
  const HttpResponse get = reader.next();
  REQUIRE(get.complete);
  CHECK(get.head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(get.body == "0123456789");
  CHECK(reader.leftover().empty());
}

TEST_CASE("http keep-alive: two requests on one connection", "[program][http]") {
  HttpServer server;
  Client client(server.port);
  REQUIRE(client.connected());
  HttpReader reader(client);
  for (int i = 0; i < 2; ++i) {
    INFO("request " << i + 1);
    REQUIRE(client.send_all(kGet));
    const HttpResponse r = reader.next();
    REQUIRE(r.complete);
    CHECK(r.status == 200);
    CHECK(r.body == "hello\n");
    CHECK(r.header("Connection") != "close");
  }
  CHECK_FALSE(client.wait_closed(100ms));  // still open
}

TEST_CASE("http pipelining: three requests in one write, three responses in order",
          "[program][http]") {
  for (const char* mode : {"pool", "inline"}) {
    INFO(mode << " mode");
    HttpServer server(R"({ body: "pipe\n" })", mode);
    Client client(server.port);
    REQUIRE(client.connected());
    // Three different answers, so their order shows: 200 with body, 200 without, 405.
    REQUIRE(
        client.send_all("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                        "HEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
                        "DELETE /3 HTTP/1.1\r\nHost: a\r\n\r\n"));
    HttpReader reader(client);
    const HttpResponse first = reader.next();
    const HttpResponse second = reader.next(/*head_request=*/true);
    const HttpResponse third = reader.next();
    REQUIRE(first.complete);
    REQUIRE(second.complete);
    REQUIRE(third.complete);
    CHECK(first.status == 200);
    CHECK(first.body == "pipe\n");
    CHECK(second.status == 200);
    CHECK(second.header("Content-Length") == "5");
    CHECK(third.status == 405);
    CHECK(reader.leftover().empty());
    // And the connection is still good.
    REQUIRE(client.send_all(kGet));
    CHECK(reader.next().body == "pipe\n");
  }
}

TEST_CASE("http malformed request: 400, then close", "[program][http]") {
  HttpServer server;
  for (const std::string& bad : {std::string("NOT A REQUEST\r\n\r\n"),
                                 std::string("GET / HTTP/1.1\r\nno colon here\r\n\r\n"),
                                 std::string("GET / HTTP/1.1\r\n\r\n")}) {  // no Host
    INFO("request " << bad);
    Client client(server.port);
    REQUIRE(client.connected());
    REQUIRE(client.send_all(bad));
    HttpReader reader(client);
    const HttpResponse r = reader.next();
    REQUIRE(r.complete);
    CHECK(r.status == 400);
    CHECK(client.wait_closed(5s));
  }
  // A good request before a bad one in the same write is answered first.
  Client client(server.port);
  REQUIRE(client.connected());
  REQUIRE(client.send_all(kGet + "BAD\r\n\r\n"));
  HttpReader reader(client);
  CHECK(reader.next().status == 200);
  CHECK(reader.next().status == 400);
  CHECK(client.wait_closed(5s));
}

TEST_CASE("http request head over 8 KiB: 431, then close", "[program][http]") {
  HttpServer server;
  SECTION("a complete head with one huge header") {
    Client client(server.port);
    REQUIRE(client.connected());
    REQUIRE(client.send_all("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(9000, 'a') +
                            "\r\n\r\n"));
    HttpReader reader(client);
    const HttpResponse r = reader.next();
    REQUIRE(r.complete);
    CHECK(r.status == 431);
    CHECK(client.wait_closed(5s));
  }
  SECTION("a head that never ends") {
    Client client(server.port);
    REQUIRE(client.connected());
    std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; head.size() < 12000; ++i) head += "X-H" + std::to_string(i) + ": value\r\n";
    REQUIRE(client.send_all(head));
    HttpReader reader(client);
    const HttpResponse r = reader.next();
    REQUIRE(r.complete);
    CHECK(r.status == 431);
    CHECK(client.wait_closed(5s));
  }
}

TEST_CASE("http Connection: close is honoured", "[program][http]") {
  HttpServer server;
  Client client(server.port);
  REQUIRE(client.connected());
  REQUIRE(client.send_all("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  HttpReader reader(client);
  const HttpResponse r = reader.next();
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.body == "hello\n");
  CHECK(r.header("Connection") == "close");
  CHECK(client.wait_closed(5s));
}

TEST_CASE("http/1.0 closes unless it asked for keep-alive", "[program][http]") {
  HttpServer server;
  SECTION("plain HTTP/1.0: answered, then closed") {
    Client client(server.port);
    REQUIRE(client.connected());
    REQUIRE(client.send_all("GET / HTTP/1.0\r\n\r\n"));
    HttpReader reader(client);
    const HttpResponse r = reader.next();
    REQUIRE(r.complete);
    CHECK(r.status == 200);
    CHECK(r.body == "hello\n");
    CHECK(client.wait_closed(5s));
  }
  SECTION("HTTP/1.0 with Connection: keep-alive stays open") {
    Client client(server.port);
    REQUIRE(client.connected());
    HttpReader reader(client);
    for (int i = 0; i < 2; ++i) {
      REQUIRE(client.send_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      const HttpResponse r = reader.next();
      REQUIRE(r.complete);
      CHECK(r.status == 200);
      CHECK(r.header("Connection") == "keep-alive");
    }
    CHECK_FALSE(client.wait_closed(100ms));
  }
}

// ---------------------------------------------------------------------------------------------
// -t, --version, usage

namespace {

// `plugins:` with echo alone at plugins/echo.so: the first three lines of many files below.
const std::string kEchoOnly =
    "plugins:\n"
    "  - name: echo\n"
    "    path: plugins/echo.so\n";

// Writes `yaml` as FILE in `dir` and runs `chronos -t -c FILE`.
RunResult check_config(const ScratchDir& dir, const std::string& yaml, std::string& file) {
  file = dir.write("check.yaml", yaml);
  return run_chronos(dir, {"-t", "-c", file});
}

// check_config on a configuration that must be refused: exit 1, every line of the report at
// FILE:LINE:COLUMN.
RunResult check_refused(const ScratchDir& dir, const std::string& yaml, std::string& file) {
  const RunResult r = check_config(dir, yaml, file);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(all_located(r.err, file));
  return r;
}

}  // namespace

TEST_CASE("-t on a good configuration prints configuration OK and binds nothing",
          "[program][check]") {
  ScratchDir dir;
  const std::string echo = dir.install_plugin(kPluginDir + "/echo.so", "plugins/echo.so");
  const std::string http = dir.install_plugin(kPluginDir + "/http.so", "plugins/http.so");
  // The port is held by us: -t must not try to bind it.
  const HeldPort held;
  const std::uint16_t port = held.port();

  ConfigBuilder cfg;
  cfg.top("log: { level: warn }")
      .plugin("echo", echo)
      .plugin("http", http, R"({ body: "x" })")
      .listener("e", loopback(port), "echo", {"max_connections: 10", "idle_timeout_ms: 0"})
      .listener("h", loopback(free_port()), "http",
                {"execution: inline", "drain_timeout_ms: 300", "max_buffer_bytes: 65536"});
  std::string file;
  const RunResult r = check_config(dir, cfg.yaml(), file);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "configuration OK\n");
}

TEST_CASE("-t accepts the shipped configs/chronos.yaml", "[program][check]") {
  // Laid out as in the source tree: configs/chronos.yaml next to build/plugins/*.so.
  ScratchDir dir;
  dir.install_plugin(kPluginDir + "/echo.so", "build/plugins/echo.so");
  dir.install_plugin(kPluginDir + "/http.so", "build/plugins/http.so");
  const std::string file =
      dir.write("configs/chronos.yaml",
                read_whole_file(std::string(CHRONOS_SOURCE_DIR) + "/configs/chronos.yaml"));
  const RunResult r = run_chronos(dir, {"-t", "-c", file});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "configuration OK\n");
  // Without -c: configs/chronos.yaml from the current folder.
  const RunResult d = run_chronos(dir, {"-t"}, dir.path());
  INFO(d.out << d.err);
  CHECK(d.exit_code == 0);
  CHECK(d.out == "configuration OK\n");
}

TEST_CASE("-t reports each kind of configuration error as FILE:LINE:COLUMN and exits 1",
          "[program][check]") {
  ScratchDir dir;
  const std::string echo = dir.install_plugin(kPluginDir + "/echo.so", "plugins/echo.so");
  std::string file;

  SECTION("YAML syntax") {
    const RunResult r = check_refused(dir,
                                      "workers: 2\n"
                                      "plugins: [\n"
                                      "  - name: x\n",
                                      file);
    INFO(r.err);
    CHECK(r.err.find("YAML syntax error") != std::string::npos);
    CHECK(r.err.rfind(file + ":3:3: ", 0) == 0);
  }
  SECTION("unknown key, with a did-you-mean suggestion") {
    const RunResult r = check_refused(dir,
                                      "wrokers: 2\n"
                                      "plugins:\n"
                                      "  - name: echo\n"
                                      "    path: plugins/echo.so\n"
                                      "    confg: {}\n"
                                      "listeners: []\n",
                                      file);
    INFO(r.err);
    CHECK(r.err.find(file + ":1:1: unknown key 'wrokers'; did you mean 'workers'?") !=
          std::string::npos);
    CHECK(r.err.find(file + ":5:5: unknown plugin key 'confg'; did you mean 'config'?") !=
          std::string::npos);
  }
  SECTION("wrong type") {
    const RunResult r = check_refused(dir,
                                      "workers: 2\n"
                                      "shutdown_timeout_ms: soon\n"
                                      "plugins: []\n"
                                      "listeners: []\n",
                                      file);
    INFO(r.err);
    CHECK(r.err.find(file + ":2:22: ") != std::string::npos);
    CHECK(r.err.find("shutdown_timeout_ms") != std::string::npos);
  }
  SECTION("duplicate name") {
    const RunResult r = check_refused(dir,
                                      kEchoOnly +
                                          "  - name: echo\n"
                                          "    path: plugins/echo.so\n"
                                          "listeners: []\n",
                                      file);
    INFO(r.err);
    CHECK(r.err.find(file + ":4:5: duplicate plugin name 'echo'") != std::string::npos);
  }
  SECTION("listener naming a missing plugin") {
    const RunResult r = check_refused(dir,
                                      kEchoOnly +
                                          "listeners:\n"
                                          "  - name: e\n"
                                          "    address: 127.0.0.1:7000\n"
                                          "    plugin: ecoh\n",
                                      file);
    INFO(r.err);
    CHECK(r.err.find(file + ":7:13: no plugin named 'ecoh'; did you mean 'echo'?") !=
          std::string::npos);
  }
  SECTION("bad address") {
    const RunResult r = check_refused(dir,
                                      kEchoOnly +
                                          "listeners:\n"
                                          "  - name: a\n"
                                          "    address: 127.0.0.1:99999\n"
                                          "    plugin: echo\n"
                                          "  - name: b\n"
                                          "    address: localhost\n"
                                          "    plugin: echo\n",
                                      file);
    INFO(r.err);
    CHECK(r.err.find(file + ":6:14: bad address '127.0.0.1:99999'") != std::string::npos);
    CHECK(r.err.find(file + ":9:14: bad address 'localhost'") != std::string::npos);
  }
  SECTION("every error of the file in one pass") {
    const RunResult r = check_refused(dir,
                                      "wrokers: 2\n"
                                      "shutdown_timeout_ms: soon\n"
                                      "plugins:\n"
                                      "  - name: echo\n"
                                      "    path: plugins/echo.so\n"
                                      "listeners:\n"
                                      "  - name: a\n"
                                      "    address: 127.0.0.1:99999\n"
                                      "    plugin: ecoh\n",
                                      file);
    INFO(r.err);
    CHECK(lines_of(r.err).size() == 4);
  }
  SECTION("a configuration file that cannot be read") {
    file = dir / "does-not-exist.yaml";
    const RunResult r = run_chronos(dir, {"-t", "-c", file});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind(file + ":1:1: ", 0) == 0);
  }
}

TEST_CASE("-t reports each kind of plugin error at the plugin's path and exits 1",
          "[program][check]") {
  ScratchDir dir;
  dir.install_plugin(kPluginDir + "/echo.so", "plugins/echo.so");
  dir.install_plugin(kTestPluginDir + "/abi_major_mismatch.so", "plugins/abi.so");
  dir.install_plugin(kTestPluginDir + "/abi_refuse.so", "plugins/refuse.so");
  dir.install_plugin(kTestPluginDir + "/no_entry.so", "plugins/no_entry.so");
  std::string text;
  for (int i = 0; i < 20; ++i) text += "this is a text file, not a shared object\n";
  dir.write("plugins/text.so", text, 0755);
  dir.mkdir("plugins/folder.so");

  struct Case {
    const char* what;
    const char* path;
    const char* message;
  };
  const Case cases[] = {
      {"missing plugin file", "plugins/missing.so", "cannot open plugin"},
      {"ABI major mismatch", "plugins/abi.so", "plugin ABI major version differs"},
      {"entry refuses the host ABI", "plugins/refuse.so", "refused to run on host ABI"},
      {"a shared object without the entry", "plugins/no_entry.so", "not a Chronos plugin"},
      {"a text file", "plugins/text.so", "not a loadable shared object"},
      {"a folder", "plugins/folder.so", "not a regular file"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string file;
    const RunResult r = check_config(dir,
                                     kEchoOnly +
                                         "  - name: broken\n"
                                         "    path: " +
                                         std::string(c.path) +
                                         "\n"
                                         "listeners:\n"
                                         "  - name: a\n"
                                         "    address: 127.0.0.1:7000\n"
                                         "    plugin: broken\n",
                                     file);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("configuration OK") == std::string::npos);
    CHECK(all_located(r.err, file));
    REQUIRE(lines_of(r.err).size() == 1);
    // At the `path:` value, naming the file.
    CHECK(r.err.rfind(file + ":5:11: " + (dir / c.path) + ": ", 0) == 0);
    CHECK(r.err.find(c.message) != std::string::npos);
  }

  SECTION("the ABI message names both versions") {
    std::string file;
    const RunResult r = check_config(dir,
                                     "plugins:\n"
                                     "  - name: abi\n"
                                     "    path: plugins/abi.so\n"
                                     "listeners: []\n",
                                     file);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    // abi_major_mismatch.so is built for ABI 99.0.
    CHECK(r.err.find("(plugin ABI 99.0, host ABI " + std::to_string(CHRONOS_ABI_MAJOR) + '.' +
                     std::to_string(CHRONOS_ABI_MINOR) + ')') != std::string::npos);
  }
  SECTION("the same plugins refused at start too, exit 1") {
    for (const Case& c : cases) {
      INFO(c.what);
      ConfigBuilder cfg;
      cfg.plugin("broken", c.path).listener("a", loopback(free_port()), "broken");
      const std::string file = dir.write("serve.yaml", cfg.yaml());
      const RunResult r = run_chronos(dir, {"-c", file});
      INFO(r.err);
      CHECK(r.exit_code == 1);
      CHECK(r.err.find(file + ":") != std::string::npos);
      CHECK(r.err.find(c.message) != std::string::npos);
    }
  }
}

TEST_CASE("usage errors exit 2; --version and -h exit 0", "[program][check]") {
  ScratchDir dir;
  SECTION("unknown flag") {
    const RunResult r = run_chronos(dir, {"--frobnicate"});
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
  }
  SECTION("a flag missing its value") {
    const RunResult r = run_chronos(dir, {"-c"});
    CHECK(r.exit_code == 2);
  }
  SECTION("-s with an unknown signal name") {
    const RunResult r = run_chronos(dir, {"-s", "explode"});
    CHECK(r.exit_code == 2);
  }
  SECTION("--version") {
    const RunResult r = run_chronos(dir, {"--version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("chronos ", 0) == 0);
  }
  SECTION("-h") {
    const RunResult r = run_chronos(dir, {"-h"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--config") != std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// Signals and start-up failures

TEST_CASE(
    "SIGTERM and SIGINT stop chronos with exit 0 within shutdown_timeout_ms, with a "
    "connection open",
    "[program][signals]") {
  for (const int sig : {SIGTERM, SIGINT}) {
    INFO("signal " << strsignal(sig));
    ListenerOptions options;
    options.top = {"shutdown_timeout_ms: 1000"};
    OneListener echo(kPluginDir + "/echo.so", options);
    const std::uint16_t port = echo.port;
    RunningProgram* server = echo.server.get();

    Client open_connection(port);
    REQUIRE(open_connection.connected());
    REQUIRE(echo_roundtrip(open_connection, "still here") == "still here");

    const auto start = std::chrono::steady_clock::now();
    server->signal(sig);
    const std::optional<int> code = server->wait_exit(10s);
    const auto took = std::chrono::steady_clock::now() - start;
    INFO(server->log());
    REQUIRE(code.has_value());
    CHECK(*code == 0);
    // Within shutdown_timeout_ms (1 s) and a margin for a slow (sanitizer) build.
    CHECK(took < 1000ms + 3s);
    CHECK(server->log_has("stopping"));
    // Every socket was closed: the open connection sees the close, the port refuses.
    CHECK(open_connection.wait_closed(2s));
    CHECK(connect_fails(port));
  }
}

TEST_CASE("a port in use: non-zero exit with a one-line reason naming the address",
          "[program][signals]") {
  ScratchDir dir;
  const std::string echo = dir.install_plugin(kPluginDir + "/echo.so", "plugins/echo.so");
  const HeldPort held;  // a listening socket on the port, as another server would hold it
  const std::string address = loopback(held.port());

  ConfigBuilder cfg;
  cfg.plugin("echo", echo)
      .listener("free", loopback(free_port()), "echo")
      .listener("taken", address, "echo");
  const std::string file = dir.write("chronos.yaml", cfg.yaml());
  const RunResult r = run_chronos(dir, {"-c", file});
  INFO(r.err);
  REQUIRE(r.exit_code.has_value());
  CHECK(*r.exit_code != 0);
  CHECK(*r.exit_code != 2);  // not a usage error
  const std::vector<std::string> lines = lines_of(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(address) != std::string::npos);
  CHECK(lines[0].find("in use") != std::string::npos);
}

TEST_CASE("a configuration that cannot be read at start: exit 1 at FILE:1:1", "[program][config]") {
  ScratchDir dir;
  for (const std::string& file : {dir / "missing.yaml", dir.mkdir("a-folder.yaml")}) {
    INFO(file);
    const RunResult r = run_chronos(dir, {"-c", file});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind(file + ":1:1: ", 0) == 0);
  }
}

TEST_CASE("a plugin whose init fails: exit 1, reported at the plugin's config",
          "[program][signals]") {
  ScratchDir dir;
  dir.install_plugin(kPluginDir + "/echo.so", "plugins/echo.so");
  dir.install_plugin(kTestPluginDir + "/init_fails.so", "plugins/init_fails.so");
  const std::uint16_t port = free_port();
  const std::string file = dir.write("chronos.yaml",
                                     "workers: 1\n"
                                     "plugins:\n"
                                     "  - name: echo\n"
                                     "    path: plugins/echo.so\n"
                                     "  - name: picky\n"
                                     "    path: plugins/init_fails.so\n"
                                     "    config: { answer: 42 }\n"
                                     "listeners:\n" +
                                         listener_entry("e", loopback(port), "echo") +
                                         listener_entry("p", loopback(free_port()), "picky"));
  const RunResult r = run_chronos(dir, {"-c", file});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(file + ":7:5: ") != std::string::npos);
  CHECK(r.err.find("nope: bad config") != std::string::npos);
  // Nothing was left listening.
  CHECK(connect_fails(port));
  // -t does not run init: the file itself is a fine plugin.
  const RunResult t = run_chronos(dir, {"-t", "-c", file});
  CHECK(t.exit_code == 0);
}

TEST_CASE("http's init refuses a body that is not a string: exit 1 at its config",
          "[program][signals]") {
  ScratchDir dir;
  const std::string http = dir.install_plugin(kPluginDir + "/http.so", "plugins/http.so");
  const std::string file = dir.write("chronos.yaml",
                                     "plugins:\n"
                                     "  - name: http\n"
                                     "    path: plugins/http.so\n"
                                     "    config:\n"
                                     "      body: [1, 2]\n"
                                     "listeners:\n" +
                                         listener_entry("h", loopback(free_port()), "http"));
  const RunResult r = run_chronos(dir, {"-c", file});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(file + ":4:5: ") != std::string::npos);
  CHECK(r.err.find("body") != std::string::npos);
}

TEST_CASE("a plugin writable by others is refused", "[program][signals]") {
  ScratchDir dir;
  const std::string file_mode = dir.install_plugin(kPluginDir + "/echo.so", "open/echo.so", 0777);
  const std::string group_mode = dir.install_plugin(kPluginDir + "/echo.so", "grp/echo.so", 0775);
  const std::string folder = dir.install_plugin(kPluginDir + "/echo.so", "shared/echo.so");
  ::chmod((dir / "shared").c_str(), 0777);
  for (const std::string& path : {file_mode, group_mode, folder}) {
    INFO(path);
    ConfigBuilder cfg;
    cfg.plugin("echo", path).listener("e", loopback(free_port()), "echo");
    const std::string file = dir.write("chronos.yaml", cfg.yaml());
    const RunResult r = run_chronos(dir, {"-c", file});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("writable by others") != std::string::npos);
    CHECK(all_located(r.err, file));
    const RunResult t = run_chronos(dir, {"-t", "-c", file});
    CHECK(t.exit_code == 1);
  }
  ::chmod((dir / "shared").c_str(), 0700);
}

TEST_CASE("relative plugin paths resolve against the configuration file's folder",
          "[program][config]") {
  ProgramFixture f;
  f.dir.install_plugin(kPluginDir + "/echo.so", "A/p/echo.so");
  const std::string elsewhere = f.dir.mkdir("B");
  const std::uint16_t port = free_port();
  ConfigBuilder cfg;
  cfg.plugin("echo", "p/echo.so").listener("e", loopback(port), "echo");
  const std::string file = f.dir.write("A/chronos.yaml", cfg.yaml());

  SECTION("absolute -c, started in another folder") {
    f.start_with({"-c", file}, elsewhere);
    Client client(port);
    REQUIRE(client.connected());
    CHECK(echo_roundtrip(client, "relative") == "relative");
  }
  SECTION("relative -c, from the folder above") {
    f.start_with({"-c", "A/chronos.yaml"}, f.dir.path());
    Client client(port);
    REQUIRE(client.connected());
    CHECK(echo_roundtrip(client, "relative") == "relative");
  }
  SECTION("-t from another folder") {
    const RunResult r = run_chronos(f.dir, {"-t", "-c", file}, elsewhere);
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Listener limits

TEST_CASE("idle_timeout_ms closes an idle connection; max_connections refuses beyond the limit",
          "[program][config]") {
  ProgramFixture f;
  const std::string echo = f.dir.install_plugin(kPluginDir + "/echo.so", "plugins/echo.so");
  const std::uint16_t idle_port = free_port(), limited_port = free_port();
  ConfigBuilder cfg;
  cfg.plugin("echo", echo)
      .listener("idle", loopback(idle_port), "echo", {"idle_timeout_ms: 200"})
      .listener("limited", loopback(limited_port), "echo", {"max_connections: 1"});
  f.serve(cfg);

  Client idle(idle_port);
  REQUIRE(idle.connected());
  const auto start = std::chrono::steady_clock::now();  // before its last activity
  REQUIRE(echo_roundtrip(idle, "x") == "x");
  CHECK(idle.wait_closed(5s));
  CHECK(std::chrono::steady_clock::now() - start >= 180ms);

  Client first(limited_port);
  REQUIRE(first.connected());
  REQUIRE(echo_roundtrip(first, "one") == "one");
  Client second(limited_port);  // the kernel accepts it; chronos closes it at once
  REQUIRE(second.connected());
  CHECK(second.wait_closed(5s));
  CHECK(echo_roundtrip(first, "still") == "still");
}
