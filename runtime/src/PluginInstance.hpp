// PluginInstance: one started instance of a chronos_plugin (in-process or dlopen'ed).
//
// Connections hold a shared_ptr to the instance they opened with, so an instance (and the
// shared object behind it) lives until its last connection has closed; then shutdown runs and
// the keep-alive (e.g. the dlopen handle) is released, in that order.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "chronos/plugin.h"

namespace spdlog {
class logger;
}

// The C SDK's opaque host handle: what a plugin's log() calls are attributed to.
struct chronos_host {
  std::string plugin_name;
  std::shared_ptr<spdlog::logger> log;
};

namespace chronos {

// The host's function table handed to every plugin (stateless, so one for all runtimes).
const chronos_host_api& host_api() noexcept;

class PluginInstance {
 public:
  // Checks the ABI and calls init with `config`; throws std::runtime_error with the reason.
  PluginInstance(std::string name, const chronos_plugin* plugin, std::string_view config,
                 std::shared_ptr<spdlog::logger> log, std::shared_ptr<void> keep_alive = {});
  ~PluginInstance();  // calls shutdown

  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const chronos_plugin& descriptor() const noexcept { return *plugin_; }
  void* instance() const noexcept { return instance_; }
  const std::string& name() const noexcept { return name_; }

  // Whether this instance is what `spec` asks for (then a reload keeps it running).
  bool matches(const chronos_plugin* plugin, std::string_view config,
               const std::shared_ptr<void>& keep_alive) const noexcept {
    return plugin == plugin_ && config == config_ && keep_alive == keep_alive_;
  }

 private:
  std::shared_ptr<void> keep_alive_;  // declared first: released last, after shutdown
  std::string name_;
  std::string config_;
  chronos_host host_;
  const chronos_plugin* plugin_;
  void* instance_ = nullptr;
};

}  // namespace chronos
