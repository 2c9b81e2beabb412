// Scalar settings: integers, strings and choices, with located errors.
#include "config/Scalars.hpp"

#include <algorithm>
#include <charconv>

#include "config/Suggest.hpp"
#include "config/Wording.hpp"

namespace chronos::config {

bool is_quoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

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

bool all_of_chars(std::string_view text, const char* allowed) {
  return !text.empty() && text.find_first_not_of(allowed) == std::string_view::npos;
}

IntParse parse_int(const std::string& text, std::int64_t& value) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end || (*begin == '-' && begin + 1 == end)) return IntParse::not_integer;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ptr != end) return IntParse::not_integer;
  return ec == std::errc::result_out_of_range ? IntParse::out_of_range : IntParse::ok;
}

std::optional<std::int64_t> integer(Reader& reader, const Entry& entry, std::int64_t min,
                                    std::int64_t max) {
  std::int64_t value = 0;
  const IntParse parsed = entry.value.IsScalar() && !is_quoted(entry.value)
                              ? parse_int(entry.value.Scalar(), value)
                              : IntParse::not_integer;
  if (parsed == IntParse::not_integer) {
    reader.error(reader.value_mark(entry),
                 squote(entry.key) + " must be an integer, got " + describe(entry.value));
    return std::nullopt;
  }
  if (parsed == IntParse::out_of_range || value < min || value > max) {
    reader.error(reader.value_mark(entry), squote(entry.key) + " must be from " +
                                               std::to_string(min) + " to " + std::to_string(max) +
                                               ", got " + entry.value.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> text(Reader& reader, const Entry& entry) {
  if (!entry.value.IsScalar()) {
    reader.error(reader.value_mark(entry),
                 squote(entry.key) + " must be a string, got " + describe(entry.value));
    return std::nullopt;
  }
  if (entry.value.Scalar().empty()) {
    reader.error(reader.value_mark(entry), squote(entry.key) + " must not be empty");
    return std::nullopt;
  }
  return entry.value.Scalar();
}

std::optional<std::string> choice(Reader& reader, const Entry& entry,
                                  const std::vector<std::string>& options) {
  const auto value = entry.value.IsScalar() ? std::optional(entry.value.Scalar()) : std::nullopt;
  if (value && std::find(options.begin(), options.end(), *value) != options.end()) return value;
  reader.error(reader.value_mark(entry), squote(entry.key) + " must be one of " + join(options) +
                                             ", got " + describe(entry.value) +
                                             (value ? suggestion(*value, options) : ""));
  return std::nullopt;
}

}  // namespace chronos::config
