#include "chronos/Runtime.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

#include "RuntimeImpl.hpp"

namespace chronos {
namespace {
std::shared_ptr<spdlog::logger> logger_or_default(std::shared_ptr<spdlog::logger> log) {
  return log ? std::move(log) : spdlog::default_logger();
}
}  // namespace

Runtime::Impl::Impl(RuntimeConfig config)
    : log(logger_or_default(config.logger)), scheduler(config, log) {}

Runtime::Runtime(RuntimeConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Runtime::~Runtime() {
  stop();
  std::lock_guard wait_for_run(impl_->run_mutex);
}

void Runtime::add_plugin(const std::string& name, const chronos_plugin* plugin,
                         std::string_view config, std::shared_ptr<void> keep_alive) {
  if (impl_->plugins.count(name))
    throw RuntimeError(RuntimeError::Subject::plugin, name, "plugin " + name + " already added");
  impl_->plugins[name] =
      std::make_shared<PluginInstance>(name, plugin, config, impl_->log, std::move(keep_alive));
}

namespace {
Scheduler::PluginLookup lookup_in(const std::map<std::string, std::shared_ptr<PluginInstance>>& m) {
  return [&m](const std::string& name) -> std::shared_ptr<PluginInstance> {
    const auto it = m.find(name);
    return it == m.end() ? nullptr : it->second;
  };
}
}  // namespace

void Runtime::bind() { impl_->scheduler.bind(lookup_in(impl_->plugins)); }

ReconfigureReport Runtime::reconfigure(std::vector<ListenerConfig> listeners,
                                       std::vector<PluginSpec> plugins) {
  ReconfigureReport report;
  std::map<std::string, std::shared_ptr<PluginInstance>> next;
  for (PluginSpec& spec : plugins) {
    const auto running = impl_->plugins.find(spec.name);
    if (running != impl_->plugins.end() &&
        running->second->matches(spec.plugin, spec.config, spec.keep_alive)) {
      next[spec.name] = running->second;
      report.kept.push_back(spec.name);
      continue;
    }
    // Throws on failure; the instances started so far are shut down as `next` unwinds.
    next[spec.name] = std::make_shared<PluginInstance>(spec.name, spec.plugin, spec.config,
                                                       impl_->log, std::move(spec.keep_alive));
    report.started.push_back(spec.name);
  }
  impl_->scheduler.reconfigure(listeners, lookup_in(next));
  for (const auto& [name, instance] : impl_->plugins) {
    const auto it = next.find(name);
    if (it == next.end() || it->second != instance) report.retired.push_back(name);
  }
  impl_->plugins.swap(next);  // retired instances live on in their open connections
  return report;
}

void Runtime::watch(int fd, std::function<void()> on_readable) {
  impl_->scheduler.watch(fd, std::move(on_readable));
}

std::uint16_t Runtime::port(std::string_view listener) const {
  return impl_->scheduler.port(listener);
}

void Runtime::run() {
  std::lock_guard running(impl_->run_mutex);
  if (!impl_->scheduler.bound()) bind();
  impl_->scheduler.run();
}

void Runtime::stop() noexcept { impl_->scheduler.stop(); }

RuntimeStats Runtime::stats() const noexcept { return impl_->scheduler.stats(); }

}  // namespace chronos
