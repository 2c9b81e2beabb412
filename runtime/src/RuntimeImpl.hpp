// Runtime::Impl: the plugins a runtime was given and the scheduler that serves them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "PluginInstance.hpp"
#include "reactor/Scheduler.hpp"
#include "chronos/Runtime.hpp"

namespace chronos {

class Runtime::Impl {
 public:
  explicit Impl(RuntimeConfig config);

  std::shared_ptr<spdlog::logger> log;
  std::map<std::string, std::shared_ptr<PluginInstance>> plugins;
  Scheduler scheduler;
  std::mutex run_mutex;  // held by run(); the destructor takes it to wait for run() to return
};

}  // namespace chronos
