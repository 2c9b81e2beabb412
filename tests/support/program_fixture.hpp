// ProgramFixture: what every program and reload test starts with — a ScratchDir, plugins
// installed in it, a configuration written, and a chronos serving it. OneListener: one plugin
// file served on one listener of a fresh loopback port.
//
//   OneListener echo(kEcho);                       // plugins/X.so as "x", listener "main"
//   Client client(echo.port);
//   echo.install(kHttp);                           // a new version at the same path
//   echo.server->reload();
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config_builder.hpp"
#include "ports.hpp"
#include "running_program.hpp"
#include "scratch_dir.hpp"

namespace chronos::test {

struct ProgramFixture {
  ScratchDir dir;
  std::string file;                        // the configuration, once written
  std::unique_ptr<RunningProgram> server;  // once started

  // Writes `cfg` (or YAML text) as chronos.yaml, atomically (a reload never reads half of it); its
  // path.
  const std::string& write(const ConfigBuilder& cfg) { return write(cfg.yaml()); }
  const std::string& write(const std::string& yaml) {
    file = dir.write("chronos.yaml", yaml);
    return file;
  }
  // Starts chronos on `file` (from `cwd`, the scratch folder by default); REQUIREs it serves.
  RunningProgram& start(const std::string& cwd = {}) { return start_with({"-c", file}, cwd); }
  RunningProgram& start_with(std::vector<std::string> args, const std::string& cwd = {}) {
    server = std::make_unique<RunningProgram>(dir, std::move(args), cwd);
    const bool listening = server->wait_listening();
    INFO(server->log());
    REQUIRE(listening);
    return *server;
  }
  RunningProgram& serve(const ConfigBuilder& cfg) {
    write(cfg);
    return start();
  }
};

// What OneListener serves, by default a plugin "x" at plugins/X.so on listener "main".
struct ListenerOptions {
  std::string plugin = "x";  // the plugin's name
  std::string path = "plugins/X.so";
  std::string listener = "main";
  std::string plugin_config = "{}";  // a YAML flow map; "" leaves `config:` out
  std::vector<std::string> extra;    // listener lines, e.g. "execution: inline"
  std::vector<std::string> top;      // top-level lines, e.g. "workers: 1"
};

// A shipped plugin as a test installs it: `name` at plugins/NAME.so, on listener "main".
inline ListenerOptions shipped_plugin(const std::string& name) {
  ListenerOptions options;
  options.plugin = name;
  options.path = "plugins/" + name + ".so";
  return options;
}

struct OneListener : ProgramFixture {
  using Options = ListenerOptions;

  // Installs the built plugin `source` at options.path and serves it on a fresh port.
  explicit OneListener(const std::string& source, Options opts = {})
      : options(std::move(opts)), port(free_port()) {
    install(source);
    serve(config());
  }

  // A new version of the plugin file, renamed over the served one, as a deploy does.
  void install(const std::string& source) const { dir.install_plugin(source, options.path); }

  // The configuration served: change it and write() it again to reload something else.
  ConfigBuilder config(const std::string& plugin_config) const {
    ConfigBuilder cfg;
    for (const auto& line : options.top) cfg.top(line);
    cfg.plugin(options.plugin, options.path, plugin_config)
        .listener(options.listener, loopback(port), options.plugin, options.extra);
    return cfg;
  }
  ConfigBuilder config() const { return config(options.plugin_config); }

  Options options;
  std::uint16_t port;
};

}  // namespace chronos::test
