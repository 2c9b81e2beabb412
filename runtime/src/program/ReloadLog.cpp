#include "ReloadLog.hpp"

namespace chronos {

// "added a, b; removed c; changed d" between two listener sets, by name.
std::string listener_changes(const std::vector<ListenerConfig>& from,
                             const std::vector<ListenerConfig>& to) {
  auto find = [](const std::vector<ListenerConfig>& in, const std::string& name) {
    for (const auto& l : in)
      if (l.name == name) return &l;
    return static_cast<const ListenerConfig*>(nullptr);
  };
  auto same = [](const ListenerConfig& a, const ListenerConfig& b) {
    return a.address == b.address && a.plugin == b.plugin &&
           a.max_connections == b.max_connections && a.idle_timeout_ms == b.idle_timeout_ms &&
           a.max_buffer_bytes == b.max_buffer_bytes && a.execution == b.execution &&
           a.drain_timeout_ms == b.drain_timeout_ms && a.max_active == b.max_active;
  };
  std::vector<std::string> added, removed, changed;
  for (const auto& l : to) {
    const ListenerConfig* old = find(from, l.name);
    if (!old)
      added.push_back(l.name);
    else if (!same(*old, l))
      changed.push_back(l.name);
  }
  for (const auto& l : from)
    if (!find(to, l.name)) removed.push_back(l.name);
  if (added.empty() && removed.empty() && changed.empty()) return "listeners unchanged";
  std::string out;
  auto part = [&](const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    out += (out.empty() ? "" : "; ") + std::string(what) + " " + list;
  };
  part("listeners added:", added);
  part("removed:", removed);
  part("changed:", changed);
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

}  // namespace chronos
