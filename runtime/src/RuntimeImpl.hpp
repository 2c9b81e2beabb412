// Runtime::Impl: the plugins a runtime was given and the scheduler that serves them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "PluginInstance.hpp"
#include "chronos/Runtime.hpp"
#include "reactor/Scheduler.hpp"

namespace chronos {

// Started plugin instances by name.
using PluginMap = std::map<std::string, std::shared_ptr<PluginInstance>>;

class Runtime::Impl {
 public:
  explicit Impl(RuntimeConfig config);

  // A copy of the running set, for a reload being prepared on another thread.
  PluginMap running_plugins() const;

  std::shared_ptr<spdlog::logger> log;
  // The running set: written by add_plugin (before run()) and commit_reconfigure (the reactor),
  // copied by prepare_reconfigure (any thread).
  mutable std::mutex plugins_mutex;
  PluginMap plugins;  // guarded by plugins_mutex
  Scheduler scheduler;
  std::mutex run_mutex;  // held by run(); the destructor takes it to wait for run() to return
};

}  // namespace chronos
