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

PluginMap Runtime::Impl::running_plugins() const {
  std::lock_guard lock(plugins_mutex);
  return plugins;
}

void Runtime::add_plugin(const std::string& name, const chronos_plugin* plugin,
                         std::string_view config, std::shared_ptr<void> keep_alive) {
  std::lock_guard lock(impl_->plugins_mutex);
  if (impl_->plugins.count(name))
    throw RuntimeError(RuntimeError::Subject::plugin, name, "plugin " + name + " already added");
  impl_->plugins[name] =
      std::make_shared<PluginInstance>(name, plugin, config, impl_->log, std::move(keep_alive));
}

namespace {
Scheduler::PluginLookup lookup_in(const PluginMap& m) {
  return [&m](const std::string& name) -> std::shared_ptr<PluginInstance> {
    const auto it = m.find(name);
    return it == m.end() ? nullptr : it->second;
  };
}
}  // namespace

void Runtime::bind() {
  const PluginMap plugins = impl_->running_plugins();
  impl_->scheduler.bind(lookup_in(plugins));
}

// What prepare_reconfigure made: the plugin set to swap in and the listeners to serve it.
struct ReconfigurePlan::State {
  std::vector<ListenerConfig> listeners;
  PluginMap plugins;
  ReconfigureReport report;  // started and kept; retired is known at commit
};

ReconfigurePlan::ReconfigurePlan() = default;
ReconfigurePlan::ReconfigurePlan(ReconfigurePlan&&) noexcept = default;
ReconfigurePlan& ReconfigurePlan::operator=(ReconfigurePlan&&) noexcept = default;
ReconfigurePlan::~ReconfigurePlan() = default;

ReconfigurePlan Runtime::prepare_reconfigure(std::vector<ListenerConfig> listeners,
                                             std::vector<PluginSpec> plugins) {
  ReconfigurePlan plan;
  plan.state_ = std::make_unique<ReconfigurePlan::State>();
  ReconfigurePlan::State& state = *plan.state_;
  state.listeners = std::move(listeners);
  const PluginMap running = impl_->running_plugins();
  for (PluginSpec& spec : plugins) {
    const auto it = running.find(spec.name);
    if (it != running.end() && it->second->matches(spec.plugin, spec.config, spec.keep_alive)) {
      state.plugins[spec.name] = it->second;
      state.report.kept.push_back(spec.name);
      continue;
    }
    // Throws on failure; the instances started so far are shut down as `plan` unwinds.
    state.plugins[spec.name] = std::make_shared<PluginInstance>(
        spec.name, spec.plugin, spec.config, impl_->log, std::move(spec.keep_alive));
    state.report.started.push_back(spec.name);
  }
  return plan;
}

ReconfigureReport Runtime::commit_reconfigure(ReconfigurePlan plan) {
  if (!plan.state_) throw std::logic_error("commit_reconfigure: an empty plan");
  ReconfigurePlan::State& state = *plan.state_;
  impl_->scheduler.reconfigure(state.listeners, lookup_in(state.plugins));  // throws
  ReconfigureReport report = std::move(state.report);
  std::lock_guard lock(impl_->plugins_mutex);
  for (const auto& [name, instance] : impl_->plugins) {
    const auto it = state.plugins.find(name);
    if (it == state.plugins.end() || it->second != instance) report.retired.push_back(name);
  }
  impl_->plugins.swap(state.plugins);  // retired instances live on in their open connections
  return report;
}

ReconfigureReport Runtime::reconfigure(std::vector<ListenerConfig> listeners,
                                       std::vector<PluginSpec> plugins) {
  return commit_reconfigure(prepare_reconfigure(std::move(listeners), std::move(plugins)));
}

void Runtime::post(std::function<void()> task) { impl_->scheduler.post(std::move(task)); }

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

void Runtime::drain() noexcept { impl_->scheduler.drain(); }

RuntimeStats Runtime::stats() const noexcept { return impl_->scheduler.stats(); }

}  // namespace chronos
