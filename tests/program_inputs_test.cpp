// The program survives its configuration (issue 12): `chronos -t` on a configuration whose YAML
// aliases stand for 9^9 nodes, on /dev/zero and on a FIFO exits 1 at once with one located line;
// a serving chronos given such a file on SIGHUP refuses the reload, keeps serving, and takes the
// next good configuration. A broken build fails these at a deadline instead of hanging (a FIFO
// blocks it) or growing without end (run the suite under `ulimit -v` to verify a build before
// the fix: the aliases then end it with bad_alloc).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "support/program_fixture.hpp"
#include "support/protocols.hpp"

namespace {

using namespace chronos::test;
using namespace std::chrono_literals;

const std::string kEcho = std::string(CHRONOS_PLUGIN_DIR) + "/echo.so";

// A refusal comes within milliseconds; this only bounds a broken build (sanitizer builds start
// slowly).
constexpr std::chrono::milliseconds kDeadline = 10s;

const std::string kExpands = "YAML alias *l6 expands the configuration past 1000000 nodes";

// "LINE:COLUMN" (1-based) of the first `needle` in `text`.
std::string position_of(const std::string& text, const std::string& needle) {
  const std::size_t at = text.find(needle);
  REQUIRE(at != std::string::npos);
  const std::size_t line_start = text.rfind('\n', at) + 1;  // npos + 1 = 0 on the first line
  const auto line = std::count(text.begin(), text.begin() + static_cast<long>(at), '\n') + 1;
  return std::to_string(line) + ":" + std::to_string(at - line_start + 1);
}

// `chronos -t -c FILE` must exit 1 within the deadline with exactly `report` on stderr.
void check_refused(const ScratchDir& dir, const std::string& file, const std::string& report) {
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = run_chronos(dir, {"-t", "-c", file}, {}, kDeadline);
  const auto took = std::chrono::steady_clock::now() - start;
  INFO(r.out << r.err);
  REQUIRE(r.exit_code.has_value());  // else it ran past the deadline
  CHECK(*r.exit_code == 1);
  CHECK(r.err == report + "\n");
  CHECK(r.out.empty());
  CHECK(took < kDeadline);
}

bool reload_done(const std::string& line) { return line.find(": done in ") != std::string::npos; }

}  // namespace

TEST_CASE("chronos -t refuses YAML aliases that expand to 9^9 nodes, at the alias, at once",
          "[program][inputs]") {
  ScratchDir dir;
  dir.install_plugin(kEcho, "plugins/echo.so");
  ConfigBuilder cfg;
  cfg.plugin("echo", "plugins/echo.so", alias_bomb()).listener("main", loopback(1), "echo");
  const std::string yaml = cfg.yaml();
  const std::string file = dir.write("laughs.yaml", yaml);
  check_refused(dir, file, file + ":" + position_of(yaml, "*l6") + ": " + kExpands);
}

TEST_CASE("chronos -t refuses /dev/zero and a FIFO at once, and a file over 16 MiB",
          "[program][inputs]") {
  ScratchDir dir;
  SECTION("/dev/zero") {
    check_refused(dir, "/dev/zero",
                  "/dev/zero:1:1: cannot read the configuration: is a character device, not a "
                  "regular file");
  }
  SECTION("a FIFO, which nobody writes") {
    const std::string fifo = dir / "fifo.yaml";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    check_refused(dir, fifo,
                  fifo + ":1:1: cannot read the configuration: is a FIFO, not a regular file");
  }
  SECTION("17 MiB (sparse)") {
    const std::string file = dir.write("big.yaml", "");
    REQUIRE(::truncate(file.c_str(), 17 << 20) == 0);
    check_refused(dir, file,
                  file +
                      ":1:1: cannot read the configuration: is 17825792 bytes; a configuration "
                      "may have at most 16 MiB");
  }
}

TEST_CASE(
    "a reload of a configuration that expands past the limit or is a FIFO is refused; "
    "serving goes on",
    "[program][inputs][reload]") {
  OneListener x(kEcho, shipped_plugin("echo"));
  const std::string& file = x.file;
  auto& server = x.server;
  Client old_connection(x.port);
  REQUIRE(old_connection.connected());
  REQUIRE(echoes(old_connection));

  std::string report;
  SECTION("YAML aliases that stand for 9^9 nodes") {
    const std::string yaml = x.config(alias_bomb()).yaml();
    x.write(yaml);
    report = file + ":" + position_of(yaml, "*l6") + ": " + kExpands;
  }
  SECTION("a FIFO renamed over the configuration") {
    const std::string fifo = x.dir / "fifo.tmp";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    REQUIRE(std::rename(fifo.c_str(), file.c_str()) == 0);
    report = file + ":1:1: cannot read the configuration: is a FIFO, not a regular file";
  }
  const std::string line = server->reload(kDeadline);
  INFO(server->log());
  REQUIRE(line.find("configuration invalid; still serving the previous one") != std::string::npos);
  CHECK(server->log_has(report + "\n"));

  // Serving goes on: the open connection and a new one.
  CHECK(echoes(old_connection, "old connection"));
  Client new_connection(x.port);
  REQUIRE(new_connection.connected());
  CHECK(echoes(new_connection, "new connection"));

  // A good configuration renamed over it reloads.
  x.write(x.config());
  CHECK(reload_done(server->reload(kDeadline)));
  CHECK(echoes(old_connection, "still"));
  Client after(x.port);
  REQUIRE(after.connected());
  CHECK(echoes(after, "after"));
}
