#include "PluginInstance.hpp"

#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

#include "ConnectionSlot.hpp"
#include "chronos/PluginLoader.hpp"
#include "chronos/Runtime.hpp"

namespace chronos {
namespace {

void api_log(chronos_host* host, int level, const char* message) {
  if (!host || !message) return;
  static constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::trace,
                                                          spdlog::level::debug, spdlog::level::info,
                                                          spdlog::level::warn, spdlog::level::err};
  const auto lvl = kLevels[level < 0 ? 0 : level > 4 ? 4 : level];
  host->log->log(lvl, "[{}] {}", host->plugin_name, message);
}

int api_send(chronos_conn* conn, const void* data, size_t len) {
  return ConnectionSlot::from(conn).queue_output(data, len);
}

void api_close(chronos_conn* conn) { ConnectionSlot::from(conn).close_requested = true; }

uint64_t api_conn_id(chronos_conn* conn) { return ConnectionSlot::from(conn).handle(); }

constexpr chronos_host_api kHostApi = {sizeof(chronos_host_api), api_log, api_send, api_close,
                                       api_conn_id};

}  // namespace

const chronos_host_api& host_api() noexcept { return kHostApi; }

PluginInstance::PluginInstance(std::string name, const chronos_plugin* plugin,
                               std::string_view config, std::shared_ptr<spdlog::logger> log,
                               std::shared_ptr<void> keep_alive)
    : keep_alive_(std::move(keep_alive)),
      name_(std::move(name)),
      config_(config.empty() ? std::string_view("{}") : config),
      plugin_(plugin) {
  if (const std::string problem = check_descriptor(plugin, "plugin " + name_); !problem.empty())
    throw RuntimeError(RuntimeError::Subject::plugin, name_, problem);
  host_.plugin_name = plugin->name ? plugin->name : name_;
  host_.log = std::move(log);
  char error[512] = {};
  if (plugin->init(&host_, &kHostApi, config_.c_str(), config_.size(), &instance_, error,
                   sizeof(error)) != 0) {
    error[sizeof(error) - 1] = '\0';
    throw RuntimeError(RuntimeError::Subject::plugin, name_,
                       name_ + ": init failed: " + (error[0] ? error : "no reason given"));
  }
  host_.log->debug("plugin {}: started {} {}", name_, host_.plugin_name,
                   plugin->version ? plugin->version : "");
}

PluginInstance::~PluginInstance() {
  plugin_->shutdown(instance_);
  host_.log->debug("plugin {}: shut down", name_);
}

}  // namespace chronos
