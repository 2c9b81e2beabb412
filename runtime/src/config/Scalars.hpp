// A setting's scalar value read by the YAML 1.2 core schema, each problem reported at the value:
// integers are plain (unquoted) decimal numbers, and a quoted value is always a string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/Reader.hpp"

namespace chronos::config {

// A quoted scalar, or one tagged !!str, is a string whatever it looks like.
bool is_quoted(const YAML::Node& node);

// How a node reads in "got ..." messages.
std::string describe(const YAML::Node& node);

// True when `text` is not empty and has only characters of `allowed`.
bool all_of_chars(std::string_view text, const char* allowed);

enum class IntParse { ok, not_integer, out_of_range };

// A plain decimal integer, optionally signed. Overflow is reported as out of range.
IntParse parse_int(const std::string& text, std::int64_t& value);

// The entry's integer if it is one from min to max; else reports why and returns nothing.
std::optional<std::int64_t> integer(Reader& reader, const Entry& entry, std::int64_t min,
                                    std::int64_t max);

template <class T>
void set_integer(Reader& reader, const Entry& entry, std::int64_t min, std::int64_t max,
                 T& target) {
  if (const auto n = integer(reader, entry, min, max)) target = static_cast<T>(*n);
}

// The entry's text if it is a non-empty scalar.
std::optional<std::string> text(Reader& reader, const Entry& entry);

// The entry's text if it is one of `options` (a near miss gets a suggestion).
std::optional<std::string> choice(Reader& reader, const Entry& entry,
                                  const std::vector<std::string>& options);

}  // namespace chronos::config
