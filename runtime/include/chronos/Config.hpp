// chronos::load_config — the YAML configuration of the contract, parsed and validated in one pass.
//
//   chronos::ConfigResult result = chronos::load_config("configs/chronos.yaml");
//   if (!result.ok()) {
//     for (const auto& error : result.errors) std::cerr << to_string(error) << '\n';
//     return 1;
//   }
//   const chronos::Config& config = *result.config;
//
// Every error carries the FILE:LINE:COLUMN (1-based) of the YAML node it is about, and every
// error of the file is reported, sorted by position, not just the first. A YAML syntax error
// stops the parser, so it comes alone. A file that cannot be read is reported at FILE:1:1, so
// that every message has the same shape and editors can jump to it: also one that is not a
// regular file (a FIFO, a device) or is larger than kMaxConfigBytes. A document of more than
// kMaxConfigNodes nodes or kMaxConfigExpandedBytes of text, YAML aliases expanded, is refused at
// the alias (else the node) that crosses the limit, before anything is expanded.
//
// Scalars follow the YAML 1.2 core schema: integers must be plain (unquoted) decimal numbers;
// `true`/`false` are booleans, `null`/`~`/empty are null, anything else is a string. A quoted
// value is always a string.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chronos/Runtime.hpp"

namespace chronos {

// A position in a configuration file, 1-based.
struct SourceMark {
  std::string file;
  int line = 1;
  int column = 1;
};

struct ConfigError {
  SourceMark mark;
  std::string message;
};

// "FILE:LINE:COLUMN"
std::string to_string(const SourceMark& mark);
// "FILE:LINE:COLUMN: message" — the format of `chronos -t` and of reload errors.
std::string to_string(const ConfigError& error);

struct PluginConfig {
  std::string name;
  std::string path;                // absolute; a relative path is taken from the config's folder
  std::string config_json = "{}";  // the `config:` map as compact JSON text, "{}" if absent
  SourceMark mark;                 // the plugin's entry (its first key)
  SourceMark path_mark;            // the `path:` value: report load and ABI failures here
  SourceMark config_mark;          // the `config:` key (or the entry): report init failures here
};

struct Config {
  std::string file;  // the path as given to load_config
  // workers 0 = `auto` (one per CPU). listeners[i].plugin is the name of a plugin below.
  RuntimeConfig runtime;
  std::string log_level = "info";  // trace | debug | info | warn | error
  // How long a reload may take (reading, plugin loading, init) before it is abandoned.
  std::uint32_t reload_timeout_ms = 30000;
  std::vector<PluginConfig> plugins;
  // Parallel to runtime.listeners: each listener's entry (its first key), and its `address:`
  // value, where bind failures belong.
  std::vector<SourceMark> listener_marks;
  std::vector<SourceMark> listener_address_marks;

  const PluginConfig* find_plugin(const std::string& name) const;
};

struct ConfigResult {
  std::optional<Config> config;     // set when errors is empty
  std::vector<ConfigError> errors;  // sorted by line, then column

  bool ok() const noexcept { return errors.empty(); }
};

// Reads, parses and validates `path`. Never throws for anything wrong with the file.
ConfigResult load_config(const std::string& path);

// Same, from text already in memory; `file` names it in marks and anchors relative plugin paths.
ConfigResult parse_config(const std::string& text, const std::string& file);

// Limits beyond which a value is refused as a likely mistake.
inline constexpr std::size_t kMaxWorkers = 4096;
inline constexpr std::size_t kMaxReactors = 1024;  // a connection handle has room for so many
inline constexpr std::int64_t kMaxCpu = 1023;      // CPU_SETSIZE - 1: what a cpu_set_t holds
inline constexpr std::size_t kMaxQueueCapacity = std::size_t{1} << 24;
inline constexpr std::size_t kMaxConnections = std::size_t{1} << 20;  // Linux's default nr_open
inline constexpr std::size_t kMaxBufferBytes = std::size_t{1} << 30;
inline constexpr std::uint32_t kMaxTimeoutMs = 0x7fffffff;  // ~24.8 days; fits a signed int

// Limits on the configuration itself, far beyond any real one (a few KiB, some hundred nodes),
// so that no file can make reading it unbounded: its size, checked before and while it is read
// (only a regular file is read at all); and what it expands to with its YAML aliases, counted
// from the parser's events before anything is loaded or walked ("billion laughs": half a KiB
// whose nested aliases stand for 9^9 nodes). Counting holds no node in memory: an alias bomb is
// refused within a millisecond, a file of a million nodes written out in a second or two.
inline constexpr std::size_t kMaxConfigBytes = std::size_t{16} << 20;  // 16 MiB
inline constexpr std::size_t kMaxConfigNodes = 1'000'000;  // YAML nodes, aliases expanded
inline constexpr std::size_t kMaxConfigExpandedBytes = kMaxConfigBytes;  // scalar text, expanded

// A setting that differs between two configurations but only takes effect after a restart.
struct RestartChange {
  std::string field;  // a key marked "restart" in the key table: "workers", "reactors", ...
  std::string from;   // as the user would write it ("auto" for workers 0)
  std::string to;
};

// What a reload from `running` to `next` cannot apply live (empty when everything can).
std::vector<RestartChange> restart_required_changes(const Config& running, const Config& next);

}  // namespace chronos
