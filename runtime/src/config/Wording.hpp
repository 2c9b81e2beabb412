// How the configuration's messages quote a word and list the choices.
#pragma once

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

}  // namespace chronos::config
