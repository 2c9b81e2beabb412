// The restart diff: the settings a reload cannot apply live are the rows marked kRestart.
#include "chronos/Config.hpp"
#include "config/ConfigKeys.hpp"

namespace chronos {

std::vector<RestartChange> restart_required_changes(const Config& running, const Config& next) {
  std::vector<RestartChange> changes;
  for (const auto& key : config::kTopKeys) {
    if (!(key.flags & config::kRestart)) continue;
    std::string from = key.show(running);
    std::string to = key.show(next);
    if (from != to) changes.push_back({std::string(key.name), std::move(from), std::move(to)});
  }
  return changes;
}

}  // namespace chronos
