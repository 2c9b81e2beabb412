// The configuration parser: YAML (yaml-cpp) → chronos::Config, collecting every error with its
// position instead of stopping at the first, so that `chronos -t` shows a user everything at once.
#include "chronos/Config.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

namespace chronos {

std::string to_string(const SourceMark& mark) {
  return mark.file + ':' + std::to_string(mark.line) + ':' + std::to_string(mark.column);
}

std::string to_string(const ConfigError& error) {
  return to_string(error.mark) + ": " + error.message;
}

const PluginConfig* Config::find_plugin(const std::string& name) const {
  for (const auto& plugin : plugins) {
    if (plugin.name == name) return &plugin;
  }
  return nullptr;
}

// Optimal string alignment distance: Levenshtein plus swaps of neighbours, the commonest typo
// ("ecoh" for "echo" is one edit, not two).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // Short words allow fewer edits, or every three-letter typo would "match" every short key.
  const std::size_t allowed = word.size() < 5 ? 1 : word.size() < 9 ? 2 : 3;
  std::string best;
  std::size_t best_distance = allowed + 1;
  auto lower = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  for (const auto& candidate : candidates) {
    // Case is not a typo worth counting: "INFO" suggests "info".
    const std::size_t distance = edit_distance(lower(word), lower(candidate));
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::vector<RestartChange> restart_required_changes(const Config& running, const Config& next) {
  auto workers = [](std::size_t n) { return n == 0 ? std::string("auto") : std::to_string(n); };
  std::vector<RestartChange> changes;
  if (running.runtime.workers != next.runtime.workers) {
    changes.push_back({"workers", workers(running.runtime.workers), workers(next.runtime.workers)});
  }
  if (running.runtime.queue_capacity != next.runtime.queue_capacity) {
    changes.push_back({"queue_capacity", std::to_string(running.runtime.queue_capacity),
                       std::to_string(next.runtime.queue_capacity)});
  }
  return changes;
}

namespace {

// Deeper plugin config is refused: it is surely a mistake, and a YAML alias can refer to its
// own ancestor, which would otherwise recurse forever.
constexpr int kMaxConfigDepth = 64;

const std::vector<std::string> kTopKeys = {"workers", "queue_capacity", "shutdown_timeout_ms",
                                           "log",     "plugins",        "listeners"};
const std::vector<std::string> kLogKeys = {"level"};
const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error"};
const std::vector<std::string> kPluginKeys = {"name", "path", "config"};
const std::vector<std::string> kListenerKeys = {"name",
                                                "address",
                                                "plugin",
                                                "max_connections",
                                                "idle_timeout_ms",
                                                "max_buffer_bytes",
                                                "execution",
                                                "drain_timeout_ms"};
const std::vector<std::string> kExecutions = {"pool", "inline"};

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : ", ") + word;
  return out;
}

std::string squote(const std::string& text) { return '\'' + text + '\''; }

std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string best = closest_match(word, candidates);
  return best.empty() ? std::string() : "; did you mean " + squote(best) + "?";
}

// A quoted scalar, or one tagged !!str, is a string whatever it looks like.
bool is_quoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

// How a node reads in "got ..." messages.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return is_quoted(node) ? "the string \"" + node.Scalar() + '"' : squote(node.Scalar());
    default:
      return "nothing";
  }
}

enum class IntParse { ok, not_integer, out_of_range };

// A plain decimal integer, optionally signed. Overflow is reported as out of range.
IntParse parse_int(const std::string& text, std::int64_t& value) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end || (*begin == '-' && begin + 1 == end)) return IntParse::not_integer;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ptr != end) return IntParse::not_integer;
  return ec == std::errc::result_out_of_range ? IntParse::out_of_range : IntParse::ok;
}

bool all_of_chars(std::string_view text, const char* allowed) {
  return !text.empty() && text.find_first_not_of(allowed) == std::string_view::npos;
}

// Parses "a.b.c.d:port" or "[v6]:port" and returns a canonical form, or an error message.
bool split_address(const std::string& text, std::string& canonical, std::string& problem) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    problem = "missing ':port'";
    return false;
  }
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  const bool v6 = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (v6) host = host.substr(1, host.size() - 2);
  unsigned char bytes[sizeof(in6_addr)];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), bytes) != 1) {
    problem = v6 ? "not an IPv6 address" : "expected IPv4 a.b.c.d:port or [IPv6]:port";
    return false;
  }
  if (!all_of_chars(port, "0123456789") || port.size() > 5 || std::stoul(port) > 65535) {
    problem = "the port must be a number from 0 to 65535";
    return false;
  }
  char host_text[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, host_text, sizeof host_text);
  canonical = (v6 ? '[' + std::string(host_text) + ']' : std::string(host_text)) + ':' +
              std::to_string(std::stoul(port));
  return true;
}

// ---- JSON text for a plugin's `config:` map ----

// Copies `text` as a JSON string body. Invalid UTF-8 becomes U+FFFD so the result always parses.
void append_json_string(const std::string& text, std::string& out) {
  static const char* const kHex = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // Length of a valid UTF-8 sequence starting here, or 0.
      const std::size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
      bool valid = len != 0 && i + len <= text.size();
      for (std::size_t k = 1; valid && k < len; ++k) {
        valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
      }
      if (valid) {
        out.append(text, i, len);
        i += len;
      } else {
        out += "\\ufffd";
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

// Drops what JSON forbids in a number: a '+' sign and leading zeros.
std::string json_digits(std::string_view digits) {
  const auto first = digits.find_first_not_of('0');
  return first == std::string_view::npos ? "0" : std::string(digits.substr(first));
}

// A plain scalar that the YAML 1.2 core schema reads as a number, as JSON; "" if it is not one.
std::string json_number(const std::string& text) {
  std::string_view rest = text;
  std::string sign;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    if (rest[0] == '-') sign = "-";
    rest.remove_prefix(1);
  }
  if (sign.empty() && rest.size() > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'o')) {
    std::uint64_t value = 0;
    const int base = rest[1] == 'x' ? 16 : 8;
    const auto [ptr, ec] = std::from_chars(rest.data() + 2, rest.data() + rest.size(), value, base);
    if (ec != std::errc() || ptr != rest.data() + rest.size()) return "";
    return std::to_string(value);
  }
  // [0-9]* ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )?, with at least one digit before the exponent.
  const auto exp_at = rest.find_first_of("eE");
  const std::string_view mantissa = rest.substr(0, exp_at);
  const std::string_view exponent =
      exp_at == std::string_view::npos ? std::string_view() : rest.substr(exp_at + 1);
  const auto dot = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : mantissa.substr(dot + 1);
  const bool digits_ok = (whole.empty() || all_of_chars(whole, "0123456789")) &&
                         (fraction.empty() || all_of_chars(fraction, "0123456789")) &&
                         !(whole.empty() && fraction.empty());
  std::string_view exp_digits = exponent;
  if (!exp_digits.empty() && (exp_digits[0] == '-' || exp_digits[0] == '+')) {
    exp_digits.remove_prefix(1);
  }
  if (!digits_ok || (exp_at != std::string_view::npos && !all_of_chars(exp_digits, "0123456789"))) {
    return "";
  }
  std::string out = sign + json_digits(whole);
  if (!fraction.empty()) out += '.' + std::string(fraction);
  if (exp_at != std::string_view::npos) out += 'e' + std::string(exponent);
  return out;
}

// A plain (unquoted) scalar as JSON, by the YAML 1.2 core schema.
std::string json_plain_scalar(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return "true";
  if (text == "false" || text == "False" || text == "FALSE") return "false";
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return "null";
  }
  std::string number = json_number(text);
  if (!number.empty()) return number;
  std::string out;  // .inf and .nan have no JSON form; they stay strings like everything else
  append_json_string(text, out);
  return out;
}

// ---- the parser ----

struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {
    config_.file = file_;
    std::error_code ignored;
    base_dir_ = std::filesystem::absolute(file_, ignored).parent_path();
  }

  ConfigResult run(const std::string& text);

 private:
  SourceMark mark(const YAML::Node& node) const;
  SourceMark value_mark(const Entry& entry) const;
  SourceMark exception_mark(const YAML::Exception& e) const;
  void error(const SourceMark& at, std::string message);

  std::vector<Entry> entries(const YAML::Node& map, const std::vector<std::string>& known,
                             const std::string& context);
  void require(const std::vector<Entry>& found, const YAML::Node& item,
               const std::vector<std::string>& required, const std::string& what);

  std::optional<std::int64_t> integer(const Entry& entry, std::int64_t min, std::int64_t max);
  template <class T>
  void set_integer(const Entry& entry, std::int64_t min, std::int64_t max, T& target) {
    if (const auto n = integer(entry, min, max)) target = static_cast<T>(*n);
  }
  std::optional<std::string> text(const Entry& entry);
  std::optional<std::string> choice(const Entry& entry, const std::vector<std::string>& options);

  void parse_document(const YAML::Node& root);
  void parse_workers(const Entry& entry);
  void parse_log(const Entry& entry);
  const YAML::Node* sequence(const Entry& entry);
  void parse_plugin(const YAML::Node& item);
  void parse_plugin_path(const Entry& entry, PluginConfig& plugin);
  void parse_plugin_config(const Entry& entry, PluginConfig& plugin);
  bool append_json(const YAML::Node& node, std::string& out, int depth);
  void parse_listener(const YAML::Node& item);
  void parse_listener_field(const Entry& entry, ListenerConfig& listener, SourceMark& address);
  void parse_address(const Entry& entry, ListenerConfig& listener, SourceMark& address);
  void check_listener_plugin(const ListenerConfig& listener, const SourceMark& at);

  std::string file_;
  std::filesystem::path base_dir_;
  Config config_;
  std::vector<ConfigError> errors_;
  // Every named plugin, valid or not (so a listener naming a broken plugin gets no extra error).
  std::map<std::string, int> plugin_lines_;
  std::map<std::string, SourceMark> listener_names_;
  std::map<std::string, std::string> listener_addresses_;  // canonical address → listener
};

SourceMark Parser::mark(const YAML::Node& node) const {
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return {file_, 1, 1};
  return {file_, m.line + 1, m.column + 1};
}

// yaml-cpp puts an empty value's mark at the next token, so point at its key instead.
SourceMark Parser::value_mark(const Entry& entry) const {
  return mark(entry.value.IsNull() ? entry.key_node : entry.value);
}

SourceMark Parser::exception_mark(const YAML::Exception& e) const {
  if (e.mark.is_null()) return {file_, 1, 1};
  return {file_, e.mark.line + 1, e.mark.column + 1};
}

void Parser::error(const SourceMark& at, std::string message) {
  errors_.push_back({at, std::move(message)});
}

// The known keys of `map`, in order. Unknown, duplicate and non-scalar keys are reported.
std::vector<Entry> Parser::entries(const YAML::Node& map, const std::vector<std::string>& known,
                                   const std::string& context) {
  std::vector<Entry> found;
  std::map<std::string, int> first_line;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(mark(key), "a " + context + "key must be a name, got " + describe(key));
      continue;
    }
    const std::string name = key.Scalar();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string hint = suggestion(name, known);
      error(mark(key), "unknown " + context + "key " + squote(name) +
                           (hint.empty() ? " (expected one of: " + join(known) + ")" : hint));
      continue;
    }
    const auto [previous, inserted] = first_line.emplace(name, mark(key).line);
    if (!inserted) {
      error(mark(key), "duplicate key " + squote(name) + " (first given at line " +
                           std::to_string(previous->second) + ")");
      continue;
    }
    found.push_back({name, key, it->second});
  }
  return found;
}

// Reports each required key missing from `found`, at the item.
void Parser::require(const std::vector<Entry>& found, const YAML::Node& item,
                     const std::vector<std::string>& required, const std::string& what) {
  for (const auto& key : required) {
    const bool present = std::any_of(found.begin(), found.end(),
                                     [&](const Entry& entry) { return entry.key == key; });
    if (!present) error(mark(item), what + " is missing the required key " + squote(key));
  }
}

std::optional<std::int64_t> Parser::integer(const Entry& entry, std::int64_t min,
                                            std::int64_t max) {
  std::int64_t value = 0;
  const IntParse parsed = entry.value.IsScalar() && !is_quoted(entry.value)
                              ? parse_int(entry.value.Scalar(), value)
                              : IntParse::not_integer;
  if (parsed == IntParse::not_integer) {
    error(value_mark(entry),
          squote(entry.key) + " must be an integer, got " + describe(entry.value));
    return std::nullopt;
  }
  if (parsed == IntParse::out_of_range || value < min || value > max) {
    error(value_mark(entry), squote(entry.key) + " must be from " + std::to_string(min) + " to " +
                                 std::to_string(max) + ", got " + entry.value.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Parser::text(const Entry& entry) {
  if (!entry.value.IsScalar()) {
    error(value_mark(entry), squote(entry.key) + " must be a string, got " + describe(entry.value));
    return std::nullopt;
  }
  if (entry.value.Scalar().empty()) {
    error(value_mark(entry), squote(entry.key) + " must not be empty");
    return std::nullopt;
  }
  return entry.value.Scalar();
}

std::optional<std::string> Parser::choice(const Entry& entry,
                                          const std::vector<std::string>& options) {
  const auto value = entry.value.IsScalar() ? std::optional(entry.value.Scalar()) : std::nullopt;
  if (value && std::find(options.begin(), options.end(), *value) != options.end()) return value;
  error(value_mark(entry), squote(entry.key) + " must be one of " + join(options) + ", got " +
                               describe(entry.value) + (value ? suggestion(*value, options) : ""));
  return std::nullopt;
}

ConfigResult Parser::run(const std::string& text) {
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(text);
    if (documents.size() > 1) {
      error(mark(documents[1]), "a configuration is one YAML document; found a second one here");
    }
    if (!documents.empty()) parse_document(documents[0]);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file", which helps nobody.
    error(exception_mark(e), "YAML nests too deeply here");
  } catch (const YAML::Exception& e) {
    error(exception_mark(e), "YAML syntax error: " + e.msg);
  }
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
  });
  ConfigResult result;
  result.errors = std::move(errors_);
  if (result.errors.empty()) result.config = std::move(config_);
  return result;
}

void Parser::parse_document(const YAML::Node& root) {
  if (root.IsNull()) return;  // an empty file: every default, nothing to serve
  if (!root.IsMap()) {
    error(mark(root), "the configuration must be a map of settings, got " + describe(root));
    return;
  }
  // Plugins go before listeners whatever the file's order, so listeners can name them.
  const YAML::Node* plugins = nullptr;
  const YAML::Node* listeners = nullptr;
  const std::vector<Entry> found = entries(root, kTopKeys, "");
  for (const auto& entry : found) {
    if (entry.key == "workers") {
      parse_workers(entry);
    } else if (entry.key == "queue_capacity") {
      set_integer(entry, 1, kMaxQueueCapacity, config_.runtime.queue_capacity);
    } else if (entry.key == "shutdown_timeout_ms") {
      set_integer(entry, 0, kMaxTimeoutMs, config_.runtime.shutdown_timeout_ms);
    } else if (entry.key == "log") {
      parse_log(entry);
    } else if (entry.key == "plugins") {
      plugins = sequence(entry);
    } else if (entry.key == "listeners") {
      listeners = sequence(entry);
    }
  }
  if (plugins) {
    for (const auto& item : *plugins) parse_plugin(item);
  }
  if (listeners) {
    for (const auto& item : *listeners) parse_listener(item);
  }
}

void Parser::parse_workers(const Entry& entry) {
  if (entry.value.IsScalar() && entry.value.Scalar() == "auto") {
    config_.runtime.workers = 0;
    return;
  }
  std::int64_t value = 0;
  if (entry.value.IsScalar() && !is_quoted(entry.value) &&
      parse_int(entry.value.Scalar(), value) != IntParse::not_integer) {
    set_integer(entry, 1, kMaxWorkers, config_.runtime.workers);
    return;
  }
  error(value_mark(entry), "'workers' must be an integer from 1 to " + std::to_string(kMaxWorkers) +
                               " or 'auto', got " + describe(entry.value));
}

void Parser::parse_log(const Entry& entry) {
  if (!entry.value.IsMap()) {
    error(value_mark(entry),
          "'log' must be a map such as { level: info }, got " + describe(entry.value));
    return;
  }
  for (const auto& field : entries(entry.value, kLogKeys, "log ")) {
    if (auto level = choice(field, kLogLevels)) config_.log_level = *level;
  }
}

// The entry's list; null when absent-like (`plugins:` with nothing) or not a list (reported).
const YAML::Node* Parser::sequence(const Entry& entry) {
  if (entry.value.IsSequence()) return &entry.value;
  if (!entry.value.IsNull()) {
    error(value_mark(entry), squote(entry.key) + " must be a list, got " + describe(entry.value));
  }
  return nullptr;
}

void Parser::parse_plugin(const YAML::Node& item) {
  if (!item.IsMap()) {
    error(mark(item), "a plugin must be a map with name, path and config, got " + describe(item));
    return;
  }
  PluginConfig plugin;
  plugin.mark = plugin.config_mark = plugin.path_mark = mark(item);
  const std::size_t errors_before = errors_.size();
  const std::vector<Entry> found = entries(item, kPluginKeys, "plugin ");
  for (const auto& entry : found) {
    if (entry.key == "name") {
      if (auto name = text(entry)) plugin.name = *name;
    }
    if (entry.key == "path") parse_plugin_path(entry, plugin);
    if (entry.key == "config") parse_plugin_config(entry, plugin);
  }
  const std::string what = plugin.name.empty() ? "a plugin" : "plugin " + squote(plugin.name);
  require(found, item, {"name", "path"}, what);
  if (!plugin.name.empty()) {
    const auto [first, inserted] = plugin_lines_.emplace(plugin.name, plugin.mark.line);
    if (!inserted) {
      error(plugin.mark, "duplicate plugin name " + squote(plugin.name) + " (first at line " +
                             std::to_string(first->second) + ")");
    }
  }
  if (errors_.size() == errors_before) config_.plugins.push_back(std::move(plugin));
}

void Parser::parse_plugin_path(const Entry& entry, PluginConfig& plugin) {
  const auto path = text(entry);
  if (!path) return;
  plugin.path_mark = value_mark(entry);
  std::filesystem::path resolved(*path);
  if (resolved.is_relative()) resolved = base_dir_ / resolved;
  plugin.path = resolved.lexically_normal().string();
}

void Parser::parse_plugin_config(const Entry& entry, PluginConfig& plugin) {
  plugin.config_mark = mark(entry.key_node);
  if (entry.value.IsNull()) return;  // `config:` with nothing: the default "{}"
  if (!entry.value.IsMap()) {
    error(value_mark(entry), "'config' must be a map, got " + describe(entry.value));
    return;
  }
  std::string json;
  if (append_json(entry.value, json, 0)) plugin.config_json = std::move(json);
}

// Appends `node` as compact JSON. Returns false (after reporting) if it has no JSON form.
bool Parser::append_json(const YAML::Node& node, std::string& out, int depth) {
  if (depth > kMaxConfigDepth) {
    error(mark(node), "plugin config nests deeper than " + std::to_string(kMaxConfigDepth) +
                          " levels (does an alias refer to its own parent?)");
    return false;
  }
  if (node.IsScalar()) {
    if (is_quoted(node)) {
      append_json_string(node.Scalar(), out);
    } else {
      out += json_plain_scalar(node.Scalar());
    }
    return true;
  }
  if (node.IsSequence()) {
    out += '[';
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out += ',';
      if (!append_json(node[i], out, depth + 1)) return false;
    }
    out += ']';
    return true;
  }
  if (!node.IsMap()) {
    out += "null";
    return true;
  }
  out += '{';
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      error(mark(it->first), "a plugin config key must be a string, got " + describe(it->first));
      return false;
    }
    if (!seen.insert(it->first.Scalar()).second) {
      error(mark(it->first), "duplicate key " + squote(it->first.Scalar()) + " in plugin config");
      return false;
    }
    if (seen.size() > 1) out += ',';
    append_json_string(it->first.Scalar(), out);
    out += ':';
    if (!append_json(it->second, out, depth + 1)) return false;
  }
  out += '}';
  return true;
}

void Parser::parse_listener(const YAML::Node& item) {
  if (!item.IsMap()) {
    error(mark(item),
          "a listener must be a map with name, address and plugin, got " + describe(item));
    return;
  }
  ListenerConfig listener;
  SourceMark address = mark(item);
  const std::size_t errors_before = errors_.size();
  const std::vector<Entry> found = entries(item, kListenerKeys, "listener ");
  for (const auto& entry : found) parse_listener_field(entry, listener, address);
  const std::string what =
      listener.name.empty() ? "a listener" : "listener " + squote(listener.name);
  require(found, item, {"name", "address", "plugin"}, what);
  if (!listener.name.empty()) {
    const auto [first, inserted] = listener_names_.emplace(listener.name, mark(item));
    if (!inserted) {
      error(mark(item), "duplicate listener name " + squote(listener.name) + " (first at line " +
                            std::to_string(first->second.line) + ")");
    }
  }
  if (errors_.size() != errors_before) return;
  config_.runtime.listeners.push_back(std::move(listener));
  config_.listener_marks.push_back(mark(item));
  config_.listener_address_marks.push_back(address);
}

void Parser::parse_listener_field(const Entry& entry, ListenerConfig& listener,
                                  SourceMark& address) {
  const std::string& key = entry.key;
  if (key == "name") {
    if (auto name = text(entry)) listener.name = *name;
  } else if (key == "address") {
    parse_address(entry, listener, address);
  } else if (key == "plugin") {
    if (auto plugin = text(entry)) {
      listener.plugin = *plugin;
      check_listener_plugin(listener, value_mark(entry));
    }
  } else if (key == "max_connections") {
    set_integer(entry, 1, kMaxConnections, listener.max_connections);
  } else if (key == "idle_timeout_ms") {
    set_integer(entry, 0, kMaxTimeoutMs, listener.idle_timeout_ms);
  } else if (key == "max_buffer_bytes") {
    set_integer(entry, 1, kMaxBufferBytes, listener.max_buffer_bytes);
  } else if (key == "execution") {
    if (auto mode = choice(entry, kExecutions)) {
      listener.execution = *mode == "pool" ? Execution::pool : Execution::inline_;
    }
  } else if (key == "drain_timeout_ms") {
    set_integer(entry, 0, kMaxTimeoutMs, listener.drain_timeout_ms);
  }
}

void Parser::parse_address(const Entry& entry, ListenerConfig& listener, SourceMark& address) {
  const auto text_value = text(entry);
  if (!text_value) return;
  address = value_mark(entry);
  std::string canonical, problem;
  if (!split_address(*text_value, canonical, problem)) {
    error(address, "bad address " + squote(*text_value) + ": " + problem);
    return;
  }
  listener.address = *text_value;
  const bool any_port = canonical.ends_with(":0");
  const auto [first, inserted] = listener_addresses_.emplace(canonical, listener.name);
  if (!any_port && !inserted) {
    error(address, "address " + squote(*text_value) + " is already used by another listener");
  }
}

void Parser::check_listener_plugin(const ListenerConfig& listener, const SourceMark& at) {
  if (plugin_lines_.count(listener.plugin)) return;
  std::vector<std::string> names;
  for (const auto& [name, line] : plugin_lines_) names.push_back(name);
  error(at, "no plugin named " + squote(listener.plugin) +
                (names.empty() ? " (the configuration defines no plugins)"
                               : suggestion(listener.plugin, names)));
}

// Reads a whole file; on failure returns false with a message that says why.
bool read_file(const std::string& path, std::string& text, std::string& problem) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    problem = std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    problem = "is a directory";
    return false;
  }
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) problem = std::strerror(errno);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return problem.empty();
}

}  // namespace

ConfigResult parse_config(const std::string& text, const std::string& file) {
  return Parser(file).run(text);
}

ConfigResult load_config(const std::string& path) {
  std::string text, problem;
  if (!read_file(path, text, problem)) {
    ConfigResult result;
    ConfigError error;
    error.mark = SourceMark{path, 1, 1};
    error.message = "cannot read the configuration: " + problem;
    result.errors.push_back(std::move(error));
    return result;
  }
  return parse_config(text, path);
}

}  // namespace chronos
