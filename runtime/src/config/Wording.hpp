// How the configuration's messages quote a word, list the choices and state a size limit.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace chronos::config {

inline std::string squote(const std::string& text) { return '\'' + text + '\''; }

// "a, b, c"
inline std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : ", ") + word;
  return out;
}

// "16 MiB", for a limit that is a whole number of MiB.
inline std::string mebibytes(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace chronos::config
