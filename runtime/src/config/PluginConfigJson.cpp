// A plugin's `config:` as JSON, by the YAML 1.2 core schema: plain scalars become booleans, nulls
// and numbers where they read as such, everything else a string.
#include "config/PluginConfigJson.hpp"

#include <charconv>
#include <set>

#include "config/Scalars.hpp"
#include "config/Wording.hpp"

namespace chronos::config {

namespace {

// Deeper plugin config is refused: it is surely a mistake. (An alias that refers to its own
// ancestor, which would recurse forever, is refused before: config/Expansion.hpp.)
constexpr int kMaxConfigDepth = 64;

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

// Appends `node` as compact JSON. Returns false (after reporting) if it has no JSON form.
bool append_json(Reader& reader, const YAML::Node& node, std::string& out, int depth) {
  if (depth > kMaxConfigDepth) {
    reader.error(reader.mark(node),
                 "plugin config nests deeper than " + std::to_string(kMaxConfigDepth) + " levels");
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
      if (!append_json(reader, node[i], out, depth + 1)) return false;
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
      reader.error(reader.mark(it->first),
                   "a plugin config key must be a string, got " + describe(it->first));
      return false;
    }
    if (!seen.insert(it->first.Scalar()).second) {
      reader.error(reader.mark(it->first),
                   "duplicate key " + squote(it->first.Scalar()) + " in plugin config");
      return false;
    }
    if (seen.size() > 1) out += ',';
    append_json_string(it->first.Scalar(), out);
    out += ':';
    if (!append_json(reader, it->second, out, depth + 1)) return false;
  }
  out += '}';
  return true;
}

}  // namespace

void parse_plugin_config(Reader& reader, const Entry& entry, PluginConfig& plugin) {
  plugin.config_mark = reader.mark(entry.key_node);
  if (entry.value.IsNull()) return;  // `config:` with nothing: the default "{}"
  if (!entry.value.IsMap()) {
    reader.error(reader.value_mark(entry),
                 squote(entry.key) + " must be a map, got " + describe(entry.value));
    return;
  }
  std::string json;
  if (append_json(reader, entry.value, json, 0)) plugin.config_json = std::move(json);
}

}  // namespace chronos::config
