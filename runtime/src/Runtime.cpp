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

void Runtime::add_handler(const std::string& name, const chronos_plugin* plugin,
                          std::string_view config, std::shared_ptr<void> keep_alive) {
  if (impl_->handlers.count(name)) throw std::runtime_error("handler " + name + " already added");
  impl_->handlers[name] =
      std::make_shared<HandlerInstance>(name, plugin, config, impl_->log, std::move(keep_alive));
}

void Runtime::bind() {
  impl_->scheduler.bind([this](const std::string& name) -> std::shared_ptr<HandlerInstance> {
    const auto it = impl_->handlers.find(name);
    return it == impl_->handlers.end() ? nullptr : it->second;
  });
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
