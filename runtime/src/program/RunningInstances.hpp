// RunningInstances: `chronos -s reload|stop` finds the chronos processes serving a configuration
// through /proc and signals them.
#pragma once

#include <string>

namespace chronos {

// Finds running chronos processes serving `config_path` and sends them `signal`; returns how
// many were signalled. A supervised server is reached through its supervisor (the server itself
// is never signalled: the supervisor would take its end for a crash).
int signal_running_instances(const std::string& config_path, int signal, std::string& error);

}  // namespace chronos
