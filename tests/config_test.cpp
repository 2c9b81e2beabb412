// The configuration parser: defaults, every error kind at its exact FILE:LINE:COLUMN, all errors
// in one pass, "did you mean", path resolution and the plugin config's JSON form.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "chronos/Config.hpp"
#include "config/ConfigKeys.hpp"  // runtime/src: the key tables
#include "config/Suggest.hpp"
#include "support/config_builder.hpp"
#include "support/in_child.hpp"

using chronos::Config;
using chronos::ConfigResult;
using chronos::Execution;
using chronos::parse_config;
using chronos::test::alias_bomb;
using chronos::test::ChildResult;
using chronos::test::run_in_child;
using namespace std::chrono_literals;

namespace {

// Raw strings read best starting on their own line; drop that first newline so line 1 is line 1.
std::string yaml(const char* text) {
  std::string s(text);
  return s.starts_with('\n') ? s.substr(1) : s;
}

std::vector<std::string> errors_of(const std::string& text, const std::string& file = "c.yaml") {
  const ConfigResult result = parse_config(text, file);
  std::vector<std::string> out;
  for (const auto& error : result.errors) out.push_back(to_string(error));
  return out;
}

Config config_of(const std::string& text, const std::string& file = "/etc/chronos/c.yaml") {
  ConfigResult result = parse_config(text, file);
  for (const auto& error : result.errors) UNSCOPED_INFO(to_string(error));
  REQUIRE(result.ok());
  return *result.config;
}

// The plugin config of a one-plugin file whose `config:` is `body` (indented by four).
std::string json_of(const std::string& body) {
  const Config config = config_of("plugins:\n  - name: p\n    path: p.so\n    config:\n" + body);
  REQUIRE(config.plugins.size() == 1);
  return config.plugins[0].config_json;
}

const std::string kMinimal = yaml(R"(
plugins:
  - name: echo
    path: echo.so
listeners:
  - name: echo-tcp
    address: 127.0.0.1:7000
    plugin: echo
)");

// A folder removed with its contents at scope exit.
struct TempDir {
  TempDir() {
    std::string pattern = std::filesystem::temp_directory_path() / "chronos-config-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }
  std::filesystem::path path;
};

}  // namespace

TEST_CASE("defaults fill everything the file leaves out", "[config]") {
  const Config config = config_of(kMinimal);
  CHECK(config.file == "/etc/chronos/c.yaml");
  CHECK(config.runtime.workers == 0);  // auto
  CHECK(config.runtime.queue_capacity == 65536);
  CHECK(config.runtime.shutdown_timeout_ms == 5000);
  CHECK(config.log_level == "info");
  REQUIRE(config.plugins.size() == 1);
  CHECK(config.plugins[0].name == "echo");
  CHECK(config.plugins[0].path == "/etc/chronos/echo.so");
  CHECK(config.plugins[0].config_json == "{}");
  REQUIRE(config.runtime.listeners.size() == 1);
  const auto& listener = config.runtime.listeners[0];
  CHECK(listener.name == "echo-tcp");
  CHECK(listener.address == "127.0.0.1:7000");
  CHECK(listener.plugin == "echo");
  CHECK(listener.max_connections == 10000);
  CHECK(listener.idle_timeout_ms == 0);
  CHECK(listener.max_buffer_bytes == 1048576);
  CHECK(listener.execution == Execution::pool);
  CHECK(listener.drain_timeout_ms == 0);
  CHECK(listener.max_active == 0);  // auto
  CHECK(config.runtime.slow_handler_ms == 1000);
}

TEST_CASE("every setting is read", "[config]") {
  const Config config = config_of(yaml(R"(
workers: 3
queue_capacity: 4096
shutdown_timeout_ms: 250
log: { level: debug }
plugins:
  - name: http
    path: /opt/http.so
    config: { body: "hi\n" }
listeners:
  - name: web
    address: "[::1]:8080"
    plugin: http
    max_connections: 12
    idle_timeout_ms: 3000
    max_buffer_bytes: 4096
    execution: inline
    drain_timeout_ms: 100
  - name: web4
    address: 0.0.0.0:0
    plugin: http
    execution: pool
)"));
  CHECK(config.runtime.workers == 3);
  CHECK(config.runtime.queue_capacity == 4096);
  CHECK(config.runtime.shutdown_timeout_ms == 250);
  CHECK(config.log_level == "debug");
  CHECK(config.plugins[0].path == "/opt/http.so");
  CHECK(config.plugins[0].config_json == R"({"body":"hi\n"})");
  REQUIRE(config.runtime.listeners.size() == 2);
  const auto& web = config.runtime.listeners[0];
  CHECK(web.address == "[::1]:8080");
  CHECK(web.max_connections == 12);
  CHECK(web.idle_timeout_ms == 3000);
  CHECK(web.max_buffer_bytes == 4096);
  CHECK(web.execution == Execution::inline_);
  CHECK(web.drain_timeout_ms == 100);
  CHECK(config.runtime.listeners[1].execution == Execution::pool);
  CHECK(config.find_plugin("http") == &config.plugins[0]);
  CHECK(config.find_plugin("nope") == nullptr);
}

TEST_CASE("marks point at each plugin and listener", "[config]") {
  const Config config = config_of(kMinimal, "c.yaml");
  const auto& plugin = config.plugins[0];
  CHECK(to_string(plugin.mark) == "c.yaml:2:5");
  CHECK(to_string(plugin.path_mark) == "c.yaml:3:11");
  CHECK(to_string(plugin.config_mark) == "c.yaml:2:5");  // no config: key → the entry
  REQUIRE(config.listener_marks.size() == 1);
  CHECK(to_string(config.listener_marks[0]) == "c.yaml:5:5");
  CHECK(to_string(config.listener_address_marks[0]) == "c.yaml:6:14");

  const Config with_config =
      config_of("plugins:\n  - name: p\n    path: p.so\n    config: {a: 1}\n", "c.yaml");
  CHECK(to_string(with_config.plugins[0].config_mark) == "c.yaml:4:5");
}

TEST_CASE("workers: auto, a number, or an error", "[config]") {
  CHECK(config_of("workers: auto\n").runtime.workers == 0);
  CHECK(config_of("workers: 8\n").runtime.workers == 8);
  CHECK(errors_of("workers: 0\n") ==
        std::vector<std::string>{"c.yaml:1:10: 'workers' must be from 1 to 4096, got 0"});
  CHECK(errors_of("workers: -2\n") ==
        std::vector<std::string>{"c.yaml:1:10: 'workers' must be from 1 to 4096, got -2"});
  CHECK(errors_of("workers: 99999999999999999999999\n") ==
        std::vector<std::string>{
            "c.yaml:1:10: 'workers' must be from 1 to 4096, got 99999999999999999999999"});
  CHECK(errors_of("workers: many\n") ==
        std::vector<std::string>{
            "c.yaml:1:10: 'workers' must be an integer from 1 to 4096 or 'auto', got 'many'"});
  CHECK(errors_of("workers: \"2\"\n") ==
        std::vector<std::string>{"c.yaml:1:10: 'workers' must be an integer from 1 to 4096 or "
                                 "'auto', got the string \"2\""});
  CHECK(errors_of("workers:\n") ==
        std::vector<std::string>{
            "c.yaml:1:1: 'workers' must be an integer from 1 to 4096 or 'auto', got nothing"});
}

TEST_CASE("out-of-range values", "[config]") {
  CHECK(
      errors_of("queue_capacity: 0\n") ==
      std::vector<std::string>{"c.yaml:1:17: 'queue_capacity' must be from 1 to 16777216, got 0"});
  CHECK(errors_of("queue_capacity: 16777217\n").size() == 1);
  CHECK(config_of("queue_capacity: 16777216\n").runtime.queue_capacity == 16777216);
  CHECK(errors_of("shutdown_timeout_ms: -1\n") ==
        std::vector<std::string>{
            "c.yaml:1:22: 'shutdown_timeout_ms' must be from 0 to 2147483647, got -1"});
  const std::string listener =
      "plugins: [{name: p, path: p.so}]\nlisteners:\n"
      "  - {name: l, address: 127.0.0.1:1, plugin: p, ";
  CHECK(
      errors_of(listener + "max_connections: 0}\n") ==
      std::vector<std::string>{"c.yaml:3:65: 'max_connections' must be from 1 to 1048576, got 0"});
  CHECK(errors_of(listener + "max_buffer_bytes: 0}\n").size() == 1);
  CHECK(errors_of(listener + "idle_timeout_ms: 2147483648}\n").size() == 1);
  CHECK(errors_of(listener + "drain_timeout_ms: -5}\n").size() == 1);
}

TEST_CASE("all errors come in one pass, sorted, each at its position", "[config]") {
  const std::string text = yaml(R"(
worker: 2
queue_capacity: 0
shutdown_timeout_ms: soon
log: { level: verbose }
plugins:
  - name: echo
    path: echo.so
  - name: echo
    path: other.so
  - path: nameless.so
listeners:
  - name: a
    address: 127.0.0.1:99999
    plugin: echo
  - name: a
    address: localhost:80
    plugin: ecoh
    execution: pooll
    max_connections: [1]
  - name: b
    address: "[::1]:8080"
    plugin: echo
    idle_timout_ms: 5
)");
  const std::vector<std::string> expected = {
      "c.yaml:1:1: unknown key 'worker'; did you mean 'workers'?",
      "c.yaml:2:17: 'queue_capacity' must be from 1 to 16777216, got 0",
      "c.yaml:3:22: 'shutdown_timeout_ms' must be an integer, got 'soon'",
      "c.yaml:4:15: 'level' must be one of trace, debug, info, warn, error, got 'verbose'",
      "c.yaml:8:5: duplicate plugin name 'echo' (first at line 6)",
      "c.yaml:10:5: a plugin is missing the required key 'name'",
      "c.yaml:13:14: bad address '127.0.0.1:99999': the port must be a number from 0 to 65535",
      "c.yaml:15:5: duplicate listener name 'a' (first at line 12)",
      "c.yaml:16:14: bad address 'localhost:80': expected IPv4 a.b.c.d:port or [IPv6]:port",
      "c.yaml:17:13: no plugin named 'ecoh'; did you mean 'echo'?",
      "c.yaml:18:16: 'execution' must be one of pool, inline, got 'pooll'; did you mean 'pool'?",
      "c.yaml:19:22: 'max_connections' must be an integer, got a list",
      "c.yaml:23:5: unknown listener key 'idle_timout_ms'; did you mean 'idle_timeout_ms'?",
  };
  CHECK(errors_of(text) == expected);
  CHECK_FALSE(parse_config(text, "c.yaml").config.has_value());
}

TEST_CASE("unknown keys get a suggestion or the list of known keys", "[config]") {
  CHECK(errors_of("listners: []\n") ==
        std::vector<std::string>{"c.yaml:1:1: unknown key 'listners'; did you mean 'listeners'?"});
  CHECK(
      errors_of("colour: red\n") ==
      std::vector<std::string>{
          "c.yaml:1:1: unknown key 'colour' (expected one of: workers, reactors, cpu_affinity, "
          "queue_capacity, shutdown_timeout_ms, reload_timeout_ms, slow_handler_ms, log, plugins, "
          "listeners)"});
  CHECK(errors_of("log: {levl: info}\n") ==
        std::vector<std::string>{"c.yaml:1:7: unknown log key 'levl'; did you mean 'level'?"});
  CHECK(errors_of("plugins:\n  - name: p\n    paht: p.so\n") ==
        std::vector<std::string>{"c.yaml:2:5: plugin 'p' is missing the required key 'path'",
                                 "c.yaml:3:5: unknown plugin key 'paht'; did you mean 'path'?"});
  CHECK(errors_of("log: {level: INFO}\n") ==
        std::vector<std::string>{"c.yaml:1:14: 'level' must be one of trace, debug, info, warn, "
                                 "error, got 'INFO'; did you mean 'info'?"});
  CHECK(errors_of("log: {level: infoo}\n") ==
        std::vector<std::string>{"c.yaml:1:14: 'level' must be one of trace, debug, info, warn, "
                                 "error, got 'infoo'; did you mean 'info'?"});
}

TEST_CASE("wrong types are reported with what was found", "[config]") {
  CHECK(errors_of("- a\n- b\n") ==
        std::vector<std::string>{
            "c.yaml:1:1: the configuration must be a map of settings, got a list"});
  CHECK(errors_of("plugins: echo\n") ==
        std::vector<std::string>{"c.yaml:1:10: 'plugins' must be a list, got 'echo'"});
  CHECK(errors_of("listeners: {a: 1}\n") ==
        std::vector<std::string>{"c.yaml:1:12: 'listeners' must be a list, got a map"});
  CHECK(errors_of("plugins:\n  - echo\n") ==
        std::vector<std::string>{
            "c.yaml:2:5: a plugin must be a map with name, path and config, got 'echo'"});
  CHECK(errors_of("listeners:\n  - [1]\n") ==
        std::vector<std::string>{
            "c.yaml:2:5: a listener must be a map with name, address and plugin, got a list"});
  CHECK(errors_of("log: info\n") ==
        std::vector<std::string>{
            "c.yaml:1:6: 'log' must be a map such as { level: info }, got 'info'"});
  CHECK(errors_of("plugins:\n  - name: p\n    path: p.so\n    config: [1]\n") ==
        std::vector<std::string>{"c.yaml:4:13: 'config' must be a map, got a list"});
  // The name is there, just wrong: one error, not a second "missing name".
  CHECK(errors_of("plugins:\n  - name: {a: 1}\n    path: p.so\n") ==
        std::vector<std::string>{"c.yaml:2:11: 'name' must be a string, got a map"});
  CHECK(errors_of("plugins:\n  - name: p\n    path: \"\"\n") ==
        std::vector<std::string>{"c.yaml:3:11: 'path' must not be empty"});
  CHECK(errors_of("[1]: x\n") ==
        std::vector<std::string>{"c.yaml:1:1: a key must be a name, got a list"});
}

TEST_CASE("missing required keys are reported at the entry", "[config]") {
  CHECK(errors_of("plugins: [{name: p, path: p.so}]\nlisteners:\n  - name: x\n") ==
        std::vector<std::string>{"c.yaml:3:5: listener 'x' is missing the required key 'address'",
                                 "c.yaml:3:5: listener 'x' is missing the required key 'plugin'"});
  CHECK(errors_of("plugins:\n  - config: {}\n") ==
        std::vector<std::string>{"c.yaml:2:5: a plugin is missing the required key 'name'",
                                 "c.yaml:2:5: a plugin is missing the required key 'path'"});
}

TEST_CASE("duplicate keys, names and addresses", "[config]") {
  CHECK(errors_of("workers: 1\nworkers: 2\n") ==
        std::vector<std::string>{"c.yaml:2:1: duplicate key 'workers' (first given at line 1)"});
  const std::string two = yaml(R"(
plugins: [{name: p, path: p.so}]
listeners:
  - {name: a, address: "127.0.0.1:7000", plugin: p}
  - {name: b, address: "127.000.0.1:7000", plugin: p}
  - {name: c, address: "127.0.0.1:0", plugin: p}
  - {name: d, address: "127.0.0.1:0", plugin: p}
  - {name: e, address: "[::1]:7000", plugin: p}
)");
  // glibc's inet_pton refuses leading zeros, so the second is a bad address, not a duplicate.
  const auto errors = errors_of(two);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "c.yaml:4:24: bad address '127.000.0.1:7000': expected IPv4 a.b.c.d:port or "
        "[IPv6]:port");
  CHECK(errors_of(yaml(R"(
plugins: [{name: p, path: p.so}]
listeners:
  - {name: a, address: "127.0.0.1:7000", plugin: p}
  - {name: b, address: "127.0.0.1:7000", plugin: p}
)")) == std::vector<std::string>{
            "c.yaml:4:24: address '127.0.0.1:7000' is already used by another listener"});
}

TEST_CASE("listeners must name a defined plugin", "[config]") {
  CHECK(errors_of("listeners:\n  - {name: a, address: 127.0.0.1:1, plugin: echo}\n") ==
        std::vector<std::string>{
            "c.yaml:2:45: no plugin named 'echo' (the configuration defines no plugins)"});
  CHECK(errors_of("plugins: [{name: http, path: h.so}]\n"
                  "listeners:\n  - {name: a, address: 127.0.0.1:1, plugin: zzz}\n") ==
        std::vector<std::string>{"c.yaml:3:45: no plugin named 'zzz'"});
  // A plugin with its own error is still "defined": the listener adds no second error.
  CHECK(errors_of("plugins: [{name: http, path: h.so, config: 1}]\n"
                  "listeners:\n  - {name: a, address: 127.0.0.1:1, plugin: http}\n")
            .size() == 1);
  // Plugins may come after the listeners that use them.
  CHECK(config_of("listeners:\n  - {name: a, address: 127.0.0.1:1, plugin: p}\n"
                  "plugins: [{name: p, path: p.so}]\n")
            .runtime.listeners.size() == 1);
}

TEST_CASE("addresses: IPv4 a.b.c.d:port or [IPv6]:port", "[config]") {
  auto address_error = [](const std::string& address) {
    const auto errors = errors_of(
        "plugins: [{name: p, path: p.so}]\nlisteners:\n"
        "  - {name: a, plugin: p, address: \"" +
        address + "\"}\n");
    return errors.empty() ? std::string() : errors[0].substr(errors[0].find(": ") + 2);
  };
  for (const char* good : {"127.0.0.1:7000", "0.0.0.0:0", "[::1]:80", "[::]:65535",
                           "[2001:db8::1]:443", "[::ffff:10.0.0.1]:1"}) {
    INFO(good);
    CHECK(address_error(good).empty());
  }
  CHECK(address_error("1.2.3.4") == "bad address '1.2.3.4': missing ':port'");
  CHECK(address_error("1.2.3.4:") ==
        "bad address '1.2.3.4:': the port must be a number from 0 to 65535");
  CHECK(address_error("1.2.3.4:-1") ==
        "bad address '1.2.3.4:-1': the port must be a number from 0 to 65535");
  CHECK(address_error("1.2.3.4:65536") ==
        "bad address '1.2.3.4:65536': the port must be a number from 0 to 65535");
  CHECK(address_error("1.2.3:80") ==
        "bad address '1.2.3:80': expected IPv4 a.b.c.d:port or [IPv6]:port");
  CHECK(address_error("::1:80") ==
        "bad address '::1:80': expected IPv4 a.b.c.d:port or [IPv6]:port");
  CHECK(address_error("[1.2.3.4]:80") == "bad address '[1.2.3.4]:80': not an IPv6 address");
  CHECK(address_error("[::1:80") ==
        "bad address '[::1:80': expected IPv4 a.b.c.d:port or [IPv6]:port");
}

TEST_CASE("YAML syntax errors carry yaml-cpp's position", "[config]") {
  CHECK(errors_of("workers: [1, 2\n") ==
        std::vector<std::string>{"c.yaml:2:1: YAML syntax error: end of sequence flow not found"});
  CHECK(errors_of("a: b\n c: d\n") ==
        std::vector<std::string>{"c.yaml:2:3: YAML syntax error: illegal map value"});
  const std::string deep = "workers: " + std::string(2000, '[') + std::string(2000, ']') + "\n";
  const auto too_deep = errors_of(deep);
  REQUIRE(too_deep.size() == 1);
  CHECK_THAT(too_deep[0], Catch::EndsWith(": YAML nests too deeply here"));
  CHECK(errors_of("workers: 1\n---\nworkers: 2\n") ==
        std::vector<std::string>{
            "c.yaml:3:1: a configuration is one YAML document; found a second one here"});
}

TEST_CASE("empty file: every default, nothing to serve", "[config]") {
  const Config config = config_of("");
  CHECK(config.runtime.listeners.empty());
  CHECK(config.plugins.empty());
  CHECK(config_of("# just a comment\n").runtime.queue_capacity == 65536);
  CHECK(config_of("plugins:\nlisteners:\n").plugins.empty());
}

TEST_CASE("files: missing, a folder, relative plugin paths", "[config]") {
  TempDir dir;
  const std::string missing = (dir.path / "nope.yaml").string();
  const auto result = chronos::load_config(missing);
  REQUIRE(result.errors.size() == 1);
  CHECK(to_string(result.errors[0]) ==
        missing + ":1:1: cannot read the configuration: No such file or directory");
  CHECK(to_string(chronos::load_config(dir.path.string()).errors.at(0)) ==
        dir.path.string() +
            ":1:1: cannot read the configuration: is a directory, not a regular file");

  const std::string file = dir.write("conf/c.yaml", yaml(R"(
plugins:
  - {name: a, path: ../build/plugins/echo.so}
  - {name: b, path: ./b.so}
  - {name: c, path: /abs/c.so}
  - {name: d, path: d.so}
)"));
  const auto loaded = chronos::load_config(file);
  REQUIRE(loaded.ok());
  const auto& plugins = loaded.config->plugins;
  CHECK(plugins[0].path == (dir.path / "build/plugins/echo.so").string());
  CHECK(plugins[1].path == (dir.path / "conf/b.so").string());
  CHECK(plugins[2].path == "/abs/c.so");
  CHECK(plugins[3].path == (dir.path / "conf/d.so").string());
  CHECK(plugins[0].mark.file == file);

  // A relative configuration path is taken from the current folder.
  const Config relative = config_of("plugins: [{name: a, path: a.so}]\n", "sub/c.yaml");
  CHECK(relative.plugins[0].path == (std::filesystem::current_path() / "sub/a.so").string());
}

TEST_CASE("plugin config becomes JSON: scalars by the YAML 1.2 core schema", "[config][json]") {
  CHECK(json_of("") == "{}");
  CHECK(json_of("      {}\n") == "{}");
  CHECK(json_of("      n: 42\n      neg: -7\n      plus: +3\n      lead: 007\n") ==
        R"({"n":42,"neg":-7,"plus":3,"lead":7})");
  CHECK(json_of("      big: 123456789012345678901234567890\n") ==
        R"({"big":123456789012345678901234567890})");
  CHECK(
      json_of("      f: 1.5\n      e: 1e3\n      dot: .5\n      trail: 2.\n      m: -0.25E-2\n") ==
      R"({"f":1.5,"e":1e3,"dot":0.5,"trail":2,"m":-0.25e-2})");
  CHECK(json_of("      hex: 0x1F\n      oct: 0o17\n") == R"({"hex":31,"oct":15})");
  CHECK(json_of("      t: true\n      f: False\n      y: yes\n      off: off\n") ==
        R"({"t":true,"f":false,"y":"yes","off":"off"})");
  CHECK(json_of("      a: ~\n      b: null\n      c:\n") == R"({"a":null,"b":null,"c":null})");
  CHECK(json_of("      inf: .inf\n      nan: .nan\n      ver: 1.2.3\n      ip: 10.0.0.1\n") ==
        R"({"inf":".inf","nan":".nan","ver":"1.2.3","ip":"10.0.0.1"})");
  CHECK(json_of("      q: \"42\"\n      t: !!str 42\n      s: 'true'\n") ==
        R"({"q":"42","t":"42","s":"true"})");
}

TEST_CASE("plugin config becomes JSON: strings are escaped", "[config][json]") {
  CHECK(json_of("      body: \"say \\\"hi\\\"\\nbye\"\n") == R"({"body":"say \"hi\"\nbye"})");
  CHECK(json_of("      path: 'C:\\dir'\n") == R"({"path":"C:\\dir"})");
  CHECK(json_of("      ctl: \"\\t\\x01\\r\\b\\f\\0\"\n") == R"({"ctl":"\t\u0001\r\b\f\u0000"})");
  CHECK(json_of("      u: \"é ✓ 😀\"\n      esc: \"\\u00e9\\U0001F600\"\n") ==
        R"({"u":"é ✓ 😀","esc":"é😀"})");
  CHECK(json_of("      text: |\n        line1\n        line2\n") == R"({"text":"line1\nline2\n"})");
  CHECK(json_of("      key with spaces: v\n      \"quoted: key\": w\n      7: seven\n") ==
        R"({"key with spaces":"v","quoted: key":"w","7":"seven"})");
}

TEST_CASE("plugin config becomes JSON: lists and nested maps keep their order", "[config][json]") {
  CHECK(json_of("      list: [1, \"two\", [3], {four: 4}, [], {}]\n") ==
        R"({"list":[1,"two",[3],{"four":4},[],{}]})");
  CHECK(json_of("      z: 1\n      a:\n        b:\n          c: [x, y]\n        d: 2\n") ==
        R"({"z":1,"a":{"b":{"c":["x","y"]},"d":2}})");
  CHECK(json_of("      base: &b {x: 1}\n      copy: *b\n") == R"({"base":{"x":1},"copy":{"x":1}})");
}

TEST_CASE("plugin config that has no JSON form is an error", "[config][json]") {
  const std::string head = "plugins:\n  - name: p\n    path: p.so\n    config:\n";
  CHECK(errors_of(head + "      a: 1\n      a: 2\n") ==
        std::vector<std::string>{"c.yaml:6:7: duplicate key 'a' in plugin config"});
  CHECK(errors_of(head + "      ? [1, 2]\n      : x\n") ==
        std::vector<std::string>{"c.yaml:5:9: a plugin config key must be a string, got a list"});
  const std::string deep = "      a: " + std::string(65, '[') + std::string(65, ']') + "\n";
  const auto too_deep = errors_of(head + deep);
  REQUIRE(too_deep.size() == 1);
  CHECK_THAT(too_deep[0], Catch::EndsWith(": plugin config nests deeper than 64 levels"));
}

// ---------------------------------------------------------------------------------------------
// Bounded inputs (issue 12): what a file may be, and what its YAML aliases may expand to. Each
// case that could run away on a broken parser runs in a child with a deadline and 1 GiB of
// address space (in_child.hpp), so that it fails there instead of hanging or starving the suite.

namespace {

// The errors of `text` (or of the file `path`), one line each.
std::string error_lines(const ConfigResult& result) {
  std::string out;
  for (const auto& error : result.errors) out += to_string(error) + "\n";
  return out;
}

const std::string kPluginHead = "plugins:\n  - name: p\n    path: p.so\n";

}  // namespace

TEST_CASE("YAML aliases that expand past 1000000 nodes are refused at the alias, fast",
          "[config][limits]") {
  const std::string line = "    config: " + alias_bomb(9);  // 9^9 scalars
  // Levels 1 to 6 are 672,603 nodes; the first alias of level 6 in level 7 crosses 1000000.
  const std::string at = "c.yaml:4:" + std::to_string(line.find("*l6") + 1) + ": ";
  const ChildResult r =
      run_in_child([&] { return error_lines(parse_config(kPluginHead + line + "\n", "c.yaml")); });
  INFO(r.summary());
  REQUIRE(r.finished());
  CHECK(r.text == at + "YAML alias *l6 expands the configuration past 1000000 nodes\n");
  CHECK(r.took < 1s);

  // Five levels are 74,000 nodes: a large configuration, but one that is served.
  const Config config = config_of(kPluginHead + "    config: " + alias_bomb(5) + "\n");
  const std::string& json = config.plugins.at(0).config_json;
  CHECK(std::count(json.begin(), json.end(), 'x') == 9 + 81 + 729 + 6561 + 59049);
}

TEST_CASE("a configuration of more than 1000000 YAML nodes is refused, aliases or not",
          "[config][limits]") {
  // The root map, the key and the list are three: the 999,998th scalar crosses the limit.
  std::string text = "many: [x";
  for (int i = 1; i < 1'000'000; ++i) text += ", x";
  text += "]\n";
  const ChildResult r = run_in_child([&] { return error_lines(parse_config(text, "c.yaml")); });
  INFO(r.summary());
  REQUIRE(r.finished());
  CHECK(r.text == "c.yaml:1:" + std::to_string(8 + 3 * (999'998 - 1)) +
                      ": the configuration has more than 1000000 YAML nodes\n");
}

TEST_CASE("YAML aliases that expand past 16 MiB of text are refused at the alias",
          "[config][limits]") {
  // 1 MiB, repeated by 15 aliases: 16 MiB and the 28 bytes of the keys.
  std::string line = "      l: [*s";
  for (int i = 1; i < 15; ++i) line += ", *s";
  line += "]";
  const std::string text = kPluginHead + "    config:\n      s: &s " +
                           std::string(std::size_t{1} << 20, 'x') + "\n" + line + "\n";
  CHECK(errors_of(text) ==
        std::vector<std::string>{"c.yaml:6:" + std::to_string(line.rfind("*s") + 1) +
                                 ": YAML alias *s expands the configuration "
                                 "past 16 MiB of text"});
}

TEST_CASE("a YAML alias inside the value it refers to is refused at the alias",
          "[config][limits]") {
  // Expanded, it never ends; walked, each level would repeat what comes before the alias.
  const std::string line = "      a: &x [1, *x]";
  CHECK(errors_of(kPluginHead + "    config:\n" + line + "\n") ==
        std::vector<std::string>{"c.yaml:5:" + std::to_string(line.find("*x") + 1) +
                                 ": YAML alias *x stands inside the value it refers to: it would "
                                 "expand forever"});
  // Even where nothing walks it (an unknown key), and at the top level.
  CHECK(errors_of("other: &o {a: [*o]}\n") ==
        std::vector<std::string>{
            "c.yaml:1:16: YAML alias *o stands inside the value it refers to: it would expand "
            "forever"});
}

TEST_CASE("a configuration over 16 MiB is refused without reading it", "[config][limits]") {
  TempDir dir;
  const std::string file = dir.write("big.yaml", "");
  REQUIRE(::truncate(file.c_str(), 17 << 20) == 0);  // sparse: 17 MiB that take no disk
  const ChildResult r = run_in_child([&] { return error_lines(chronos::load_config(file)); });
  INFO(r.summary());
  REQUIRE(r.finished());
  CHECK(r.text == file +
                      ":1:1: cannot read the configuration: is 17825792 bytes; a configuration "
                      "may have at most 16 MiB\n");
  CHECK(r.took < 1s);
}

TEST_CASE("/dev/zero as the configuration is refused, not read until memory runs out",
          "[config][limits]") {
  const ChildResult r = run_in_child([] { return error_lines(chronos::load_config("/dev/zero")); });
  INFO(r.summary());
  REQUIRE(r.finished());
  CHECK(r.text ==
        "/dev/zero:1:1: cannot read the configuration: is a character device, not a regular "
        "file\n");
}

TEST_CASE("a FIFO as the configuration is refused without blocking", "[config][limits]") {
  TempDir dir;
  const std::string fifo = (dir.path / "fifo.yaml").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // The watchdog: if load_config is still blocked on the FIFO after the deadline, it opens the
  // writing end and closes it, so the reader sees end of file and the test fails instead of
  // hanging.
  std::promise<void> returned;
  std::thread watchdog([&fifo, done = returned.get_future()] {
    if (done.wait_for(5s) == std::future_status::ready) return;
    while (done.wait_for(10ms) != std::future_status::ready) {
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0) ::close(fd);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  const ConfigResult result = chronos::load_config(fifo);
  const auto took = std::chrono::steady_clock::now() - start;
  returned.set_value();
  watchdog.join();
  CHECK(error_lines(result) ==
        fifo + ":1:1: cannot read the configuration: is a FIFO, not a regular file\n");
  CHECK(took < 1s);
}

TEST_CASE("restart_required_changes: workers and queue_capacity, not the others", "[config]") {
  const Config a = config_of("workers: 2\nqueue_capacity: 1024\n" + kMinimal);
  CHECK(chronos::restart_required_changes(a, a).empty());
  const Config b = config_of("workers: auto\nqueue_capacity: 2048\nshutdown_timeout_ms: 1\n");
  const auto changes = chronos::restart_required_changes(a, b);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].field == "workers");
  CHECK(changes[0].from == "2");
  CHECK(changes[0].to == "auto");
  CHECK(changes[1].field == "queue_capacity");
  CHECK(changes[1].from == "1024");
  CHECK(changes[1].to == "2048");
}

TEST_CASE("edit distance and closest match", "[config]") {
  CHECK(chronos::config::edit_distance("", "abc") == 3);
  CHECK(chronos::config::edit_distance("kitten", "sitting") == 3);
  CHECK(chronos::config::edit_distance("ecoh", "echo") == 1);  // a swap is one edit
  CHECK(chronos::config::closest_match("workers", {"workers"}) == "workers");
  CHECK(chronos::config::closest_match("pol", {"pool", "inline"}) == "pool");
  CHECK(chronos::config::closest_match("xyz", {"pool", "inline"}).empty());
}

namespace {

using chronos::config::KeyTable;

// A valid document with `line` added to the map `where` names: "top" (the line alone), or
// "log", "plugin" or "listener" (in a document with one plugin and one listener).
std::string document_with(const std::string& where, const std::string& line) {
  if (where == "top") return line + "\n";
  std::string doc;
  if (where == "log") doc += line.empty() ? "log: {}\n" : "log:\n  " + line + "\n";
  doc += "plugins:\n  - name: p\n    path: p.so\n";
  if (where == "plugin") doc += "    " + line + "\n";
  doc += "listeners:\n  - name: l\n    address: 127.0.0.1:1\n    plugin: p\n";
  if (where == "listener") doc += "    " + line + "\n";
  return doc;
}

// The settings that have defaults, as one line of text.
std::string defaults_of(const Config& config) {
  std::string out = std::to_string(config.runtime.workers) + ' ' +
                    std::to_string(config.runtime.queue_capacity) + ' ' +
                    std::to_string(config.runtime.shutdown_timeout_ms) + ' ' +
                    std::to_string(config.runtime.slow_handler_ms) + ' ' + config.log_level;
  for (const auto& plugin : config.plugins) out += ' ' + plugin.config_json;
  for (const auto& l : config.runtime.listeners) {
    out += ' ' + std::to_string(l.max_connections) + ' ' + std::to_string(l.idle_timeout_ms) + ' ' +
           std::to_string(l.max_buffer_bytes) + ' ' +
           std::to_string(static_cast<int>(l.execution)) + ' ' +
           std::to_string(l.drain_timeout_ms) + ' ' + std::to_string(l.max_active);
  }
  return out;
}

template <class Target>
void check_table(KeyTable<Target> table, const std::string& where, const std::string& context) {
  std::vector<std::string> names;
  for (const auto& key : table) {
    INFO(where << " key " << key.name);
    CHECK(std::find(names.begin(), names.end(), key.name) == names.end());
    names.emplace_back(key.name);
    CHECK(key.parse != nullptr);
    CHECK((key.show != nullptr) == ((key.flags & chronos::config::kRestart) != 0));
    CHECK((key.default_yaml.empty() || !(key.flags & chronos::config::kRequired)));
    // Said explicitly, a default parses, and means what leaving the key out means.
    if (!key.default_yaml.empty()) {
      const std::string line = std::string(key.name) + ": " + std::string(key.default_yaml);
      CHECK(defaults_of(config_of(document_with(where, line))) ==
            defaults_of(config_of(document_with(where, ""))));
    }
    // A typo of the key is answered with the key.
    const std::string typo = names.back().substr(0, 1) + 'x' + names.back().substr(1);
    const auto errors = errors_of(document_with(where, typo + ": 1"));
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0], Catch::EndsWith("unknown " + context + "key '" + typo +
                                          "'; did you mean '" + names.back() + "'?"));
  }
}

}  // namespace

TEST_CASE("each key is declared once, and its default parses", "[config][keys]") {
  check_table(chronos::config::kTopKeys, "top", "");
  check_table(chronos::config::kLogKeys, "log", "log ");
  check_table(chronos::config::kPluginKeys, "plugin", "plugin ");
  check_table(chronos::config::kListenerKeys, "listener", "listener ");
}

TEST_CASE("the tables' defaults are the structs' defaults", "[config][keys]") {
  Config expected;  // what an embedder gets without a file: RuntimeConfig's defaults
  expected.plugins.emplace_back();
  expected.runtime.listeners.emplace_back();
  CHECK(defaults_of(config_of(document_with("listener", ""))) == defaults_of(expected));
}

TEST_CASE("restart_required_changes: the keys marked kRestart", "[config][keys]") {
  std::vector<std::string> restart;
  for (const auto& key : chronos::config::kTopKeys) {
    if (key.flags & chronos::config::kRestart) restart.emplace_back(key.name);
  }
  CHECK(restart == std::vector<std::string>{"workers", "reactors", "cpu_affinity", "queue_capacity",
                                            "slow_handler_ms"});
}

TEST_CASE("reactors: 1 by default, auto, a number from 1, or a located error", "[config]") {
  CHECK(config_of("workers: 2\n").runtime.reactors == 1);
  CHECK(config_of("reactors: auto\n").runtime.reactors == 0);
  CHECK(config_of("reactors: 4\n").runtime.reactors == 4);
  CHECK(errors_of("reactors: 0\n") ==
        std::vector<std::string>{"c.yaml:1:11: 'reactors' must be from 1 to 1024, got 0"});
  CHECK(errors_of("reactors: 2000\n") ==
        std::vector<std::string>{"c.yaml:1:11: 'reactors' must be from 1 to 1024, got 2000"});
  CHECK(errors_of("reactors: many\n") ==
        std::vector<std::string>{"c.yaml:1:11: 'reactors' must be an integer from 1 to 1024 or "
                                 "'auto', got 'many'"});
  Config running = config_of("reactors: 1\n");
  const auto changes = chronos::restart_required_changes(running, config_of("reactors: auto\n"));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].field == "reactors");
  CHECK(changes[0].from == "1");
  CHECK(changes[0].to == "auto");
}

TEST_CASE("cpu_affinity: a list of distinct CPU numbers, each error at its item", "[config]") {
  CHECK(config_of("workers: 2\n").runtime.cpu_affinity.empty());
  CHECK(config_of("cpu_affinity: [0, 3, 1]\n").runtime.cpu_affinity == std::vector<int>{0, 3, 1});
  CHECK(errors_of("cpu_affinity: 0\n") ==
        std::vector<std::string>{"c.yaml:1:15: 'cpu_affinity' must be a list of CPU numbers, "
                                 "e.g. [0, 1], got '0'"});
  CHECK(errors_of("cpu_affinity: [0, x, -1, 1024]\n") ==
        std::vector<std::string>{
            "c.yaml:1:19: each CPU in 'cpu_affinity' must be an integer from 0 to 1023, got 'x'",
            "c.yaml:1:22: each CPU in 'cpu_affinity' must be an integer from 0 to 1023, got '-1'",
            "c.yaml:1:26: each CPU in 'cpu_affinity' must be an integer from 0 to 1023, got "
            "'1024'"});
  CHECK(errors_of("cpu_affinity: [2, 2]\n") ==
        std::vector<std::string>{"c.yaml:1:19: CPU 2 is listed twice in 'cpu_affinity'"});
  const auto changes = chronos::restart_required_changes(config_of("reactors: 1\n"),
                                                         config_of("cpu_affinity: [1]\n"));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].field == "cpu_affinity");
  CHECK(changes[0].from == "[]");
  CHECK(changes[0].to == "[1]");
}

TEST_CASE("max_active: auto, a number from 1, or a located error", "[config]") {
  auto listener_with = [](const std::string& line) { return document_with("listener", line); };
  CHECK(config_of(listener_with("max_active: auto")).runtime.listeners[0].max_active == 0);
  CHECK(config_of(listener_with("max_active: 1")).runtime.listeners[0].max_active == 1);
  CHECK(config_of(listener_with("max_active: 64")).runtime.listeners[0].max_active == 64);
  CHECK(errors_of(listener_with("max_active: 0"), "c.yaml") ==
        std::vector<std::string>{"c.yaml:8:17: 'max_active' must be from 1 to 1048576, got 0"});
  CHECK(errors_of(listener_with("max_active: -3"), "c.yaml") ==
        std::vector<std::string>{"c.yaml:8:17: 'max_active' must be from 1 to 1048576, got -3"});
  CHECK(errors_of(listener_with("max_active: lots"), "c.yaml") ==
        std::vector<std::string>{"c.yaml:8:17: 'max_active' must be an integer from 1 to "
                                 "1048576 or 'auto', got 'lots'"});
}

TEST_CASE("slow_handler_ms: 0 (off) or a number of milliseconds, restart-only", "[config]") {
  CHECK(config_of("slow_handler_ms: 0\n").runtime.slow_handler_ms == 0);
  CHECK(config_of("slow_handler_ms: 250\n").runtime.slow_handler_ms == 250);
  CHECK(errors_of("slow_handler_ms: -1\n", "c.yaml") ==
        std::vector<std::string>{"c.yaml:1:18: 'slow_handler_ms' must be from 0 to 2147483647, "
                                 "got -1"});
  CHECK(errors_of("slow_handler_ms: soon\n", "c.yaml").size() == 1);
  const auto changes = chronos::restart_required_changes(config_of("slow_handler_ms: 250\n"),
                                                         config_of("slow_handler_ms: 0\n"));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].field == "slow_handler_ms");
  CHECK(changes[0].from == "250");
  CHECK(changes[0].to == "0");
}
