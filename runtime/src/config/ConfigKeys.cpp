// The rows of the four key tables. A row's parse function reads one value; what needs the rest
// of the document (plugin names, addresses already used, the file's folder) is the parser's.
#include "config/ConfigKeys.hpp"

#include <algorithm>

#include "config/ConfigParser.hpp"
#include "config/PluginConfigJson.hpp"
#include "config/Scalars.hpp"
#include "config/Wording.hpp"

namespace chronos::config {

namespace {

const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error"};
const std::vector<std::string> kExecutions = {"pool", "inline"};

// An integer from 1 to max, or 'auto' (stored as 0): workers, a listener's max_active.
void integer_or_auto(Reader& reader, const Entry& entry, std::int64_t max, std::size_t& out) {
  if (entry.value.IsScalar() && entry.value.Scalar() == "auto") {
    out = 0;
    return;
  }
  std::int64_t value = 0;
  if (entry.value.IsScalar() && !is_quoted(entry.value) &&
      parse_int(entry.value.Scalar(), value) != IntParse::not_integer) {
    set_integer(reader, entry, 1, max, out);
    return;
  }
  reader.error(reader.value_mark(entry), squote(entry.key) + " must be an integer from 1 to " +
                                             std::to_string(max) + " or 'auto', got " +
                                             describe(entry.value));
}

void parse_workers(ConfigParser& parser, const Entry& entry, Config& config) {
  integer_or_auto(parser.reader(), entry, kMaxWorkers, config.runtime.workers);
}

void parse_reactors(ConfigParser& parser, const Entry& entry, Config& config) {
  integer_or_auto(parser.reader(), entry, kMaxReactors, config.runtime.reactors);
}

std::string show_reactors(const Config& config) {
  return config.runtime.reactors == 0 ? std::string("auto")
                                      : std::to_string(config.runtime.reactors);
}

// A list of CPU numbers, each from 0 to kMaxCpu, each at most once: [0, 2, 4].
void parse_cpu_affinity(ConfigParser& parser, const Entry& entry, Config& config) {
  Reader& reader = parser.reader();
  if (!entry.value.IsSequence()) {
    reader.error(reader.value_mark(entry), squote(entry.key) +
                                               " must be a list of CPU numbers, e.g. [0, 1], got " +
                                               describe(entry.value));
    return;
  }
  std::vector<int> cpus;
  for (const YAML::Node& item : entry.value) {
    std::int64_t cpu = -1;
    if (!item.IsScalar() || is_quoted(item) || parse_int(item.Scalar(), cpu) != IntParse::ok ||
        cpu < 0 || cpu > kMaxCpu) {
      reader.error(reader.mark(item), "each CPU in " + squote(entry.key) +
                                          " must be an integer from 0 to " +
                                          std::to_string(kMaxCpu) + ", got " + describe(item));
      continue;
    }
    if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) {
      reader.error(reader.mark(item),
                   "CPU " + std::to_string(cpu) + " is listed twice in " + squote(entry.key));
      continue;
    }
    cpus.push_back(static_cast<int>(cpu));
  }
  config.runtime.cpu_affinity = std::move(cpus);
}

std::string show_cpu_affinity(const Config& config) {
  std::string out;
  for (const int cpu : config.runtime.cpu_affinity) {
    if (!out.empty()) out += ", ";
    out += std::to_string(cpu);
  }
  return "[" + out + "]";
}

void parse_max_active(ConfigParser& parser, const Entry& entry, ListenerDraft& listener) {
  integer_or_auto(parser.reader(), entry, kMaxConnections, listener.config.max_active);
}

std::string show_workers(const Config& config) {
  return config.runtime.workers == 0 ? std::string("auto") : std::to_string(config.runtime.workers);
}

void parse_execution(ConfigParser& parser, const Entry& entry, ListenerDraft& listener) {
  if (auto mode = choice(parser.reader(), entry, kExecutions)) {
    listener.config.execution = *mode == "pool" ? Execution::pool : Execution::inline_;
  }
}

// Row parse functions for an integer setting from min to max: of the runtime, of a listener.
template <std::int64_t min, std::int64_t max, auto member>
void runtime_integer(ConfigParser& parser, const Entry& entry, Config& config) {
  set_integer(parser.reader(), entry, min, max, config.runtime.*member);
}

template <std::int64_t min, std::int64_t max, auto member>
void listener_integer(ConfigParser& parser, const Entry& entry, ListenerDraft& listener) {
  set_integer(parser.reader(), entry, min, max, listener.config.*member);
}

constexpr Key<Config> kTop[] = {
    {"workers", kRestart, "auto", parse_workers, show_workers},
    {"reactors", kRestart, "1", parse_reactors, show_reactors},
    {"cpu_affinity", kRestart, "[]", parse_cpu_affinity, show_cpu_affinity},
    {"queue_capacity", kRestart, "65536",
     runtime_integer<1, kMaxQueueCapacity, &RuntimeConfig::queue_capacity>,
     [](const Config& c) { return std::to_string(c.runtime.queue_capacity); }},
    {"shutdown_timeout_ms", kOptional, "5000",
     runtime_integer<0, kMaxTimeoutMs, &RuntimeConfig::shutdown_timeout_ms>},
    {"reload_timeout_ms", kOptional, "30000",
     [](ConfigParser& p, const Entry& e, Config& c) {
       set_integer(p.reader(), e, 1, kMaxTimeoutMs, c.reload_timeout_ms);
     }},
    {"slow_handler_ms", kRestart, "1000",
     runtime_integer<0, kMaxTimeoutMs, &RuntimeConfig::slow_handler_ms>,
     [](const Config& c) { return std::to_string(c.runtime.slow_handler_ms); }},
    {"log", kOptional, "{}", [](ConfigParser& p, const Entry& e, Config& c) { p.log(e, c); }},
    {"plugins", kOptional, "[]", [](ConfigParser& p, const Entry& e, Config&) { p.plugins(e); }},
    {"listeners", kOptional, "[]",
     [](ConfigParser& p, const Entry& e, Config&) { p.listeners(e); }},
};

constexpr Key<Config> kLog[] = {
    {"level", kOptional, "info",
     [](ConfigParser& p, const Entry& e, Config& c) {
       if (auto level = choice(p.reader(), e, kLogLevels)) c.log_level = *level;
     }},
};

constexpr Key<PluginConfig> kPlugin[] = {
    {"name", kRequired, "",
     [](ConfigParser& p, const Entry& e, PluginConfig& plugin) {
       if (auto name = text(p.reader(), e)) plugin.name = *name;
     }},
    {"path", kRequired, "",
     [](ConfigParser& p, const Entry& e, PluginConfig& plugin) { p.plugin_path(e, plugin); }},
    {"config", kOptional, "{}",
     [](ConfigParser& p, const Entry& e, PluginConfig& plugin) {
       parse_plugin_config(p.reader(), e, plugin);
     }},
};

constexpr Key<ListenerDraft> kListener[] = {
    {"name", kRequired, "",
     [](ConfigParser& p, const Entry& e, ListenerDraft& l) {
       if (auto name = text(p.reader(), e)) l.config.name = *name;
     }},
    {"address", kRequired, "",
     [](ConfigParser& p, const Entry& e, ListenerDraft& l) { p.address(e, l); }},
    {"plugin", kRequired, "",
     [](ConfigParser& p, const Entry& e, ListenerDraft& l) { p.listener_plugin(e, l); }},
    {"max_connections", kOptional, "10000",
     listener_integer<1, kMaxConnections, &ListenerConfig::max_connections>},
    {"idle_timeout_ms", kOptional, "0",
     listener_integer<0, kMaxTimeoutMs, &ListenerConfig::idle_timeout_ms>},
    {"max_buffer_bytes", kOptional, "1048576",
     listener_integer<1, kMaxBufferBytes, &ListenerConfig::max_buffer_bytes>},
    {"execution", kOptional, "pool", parse_execution},
    {"drain_timeout_ms", kOptional, "0",
     listener_integer<0, kMaxTimeoutMs, &ListenerConfig::drain_timeout_ms>},
    // 'auto' (0): workers - 1 with several pool listeners, no cap with one (ListenerConfig).
    {"max_active", kOptional, "auto", parse_max_active},
};

}  // namespace

constinit const KeyTable<Config> kTopKeys = kTop;
constinit const KeyTable<Config> kLogKeys = kLog;
constinit const KeyTable<PluginConfig> kPluginKeys = kPlugin;
constinit const KeyTable<ListenerDraft> kListenerKeys = kListener;

}  // namespace chronos::config
