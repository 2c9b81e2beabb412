// The words of a reload's log line.
#pragma once

#include <string>
#include <vector>

#include "chronos/Runtime.hpp"

namespace chronos {

// "listeners added: a, b; removed: c; changed: d" between two listener sets, by name, or
// "listeners unchanged".
std::string listener_changes(const std::vector<ListenerConfig>& from,
                             const std::vector<ListenerConfig>& to);

// "a, b, c", or "none".
std::string join_names(const std::vector<std::string>& names);

}  // namespace chronos
