// The supervisor's side of what its servers say (ControlChannel.hpp) and of how they end.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

#include "Supervisor.hpp"

namespace chronos {
namespace {

constexpr int kExitFailure = 3;

// The status the supervisor exits with for a server's end: its own exit status, or 3 for a
// death by signal (SIGTERM before it could block it counts as the stop it was).
int exit_status_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : kExitFailure;
}

std::string error_prefix(const std::system_error& e) {
  // what() is "PREFIX: strerror"; the server rebuilds the same error from PREFIX and the code.
  std::string what = e.what();
  const std::string suffix = ": " + e.code().message();
  if (what.size() > suffix.size() &&
      what.compare(what.size() - suffix.size(), suffix.size(), suffix) == 0)
    what.resize(what.size() - suffix.size());
  return what;
}

}  // namespace

void Supervisor::on_control(Server& server) {
  while (server.control) {
    std::optional<ControlMessage> message = receive_message(server.control.get());
    if (message) {
      on_message(server, *message);
      continue;
    }
    if (errno != EAGAIN && errno != EINTR) server.control.reset();  // it closed: it is ending
    return;
  }
}

void Supervisor::on_message(Server& server, ControlMessage& message) {
  const std::string& verb = message.verb();
  if (verb == "listen" && message.fields.size() == 3) {
    on_listen(server, message);
  } else if (verb == "keep") {
    std::vector<SocketBroker::Listener> listeners;
    for (std::size_t i = 1; i + 1 < message.fields.size(); i += 2)
      listeners.emplace_back(message.fields[i], message.fields[i + 1]);
    broker_.keep(server.id, listeners);
    server.reloading.clear();
    send_message(server.control.get(), {"kept"});
  } else if (verb == "plugin" && message.fields.size() == 2) {
    on_plugin(server, message);
  } else if (verb == "serving" && message.fields.size() == 2) {
    server.config = std::move(message.fields[1]);
    server.plugins = std::exchange(server.incoming, {});
  } else if (verb == "reload" && message.fields.size() == 2) {
    server.reloading = message.fields[1];
    reloads_ =
        std::max<std::uint64_t>(reloads_, std::strtoull(server.reloading.c_str(), nullptr, 10));
  } else if (verb == "ready") {
    on_ready(server);
  } else {
    spdlog::warn("supervisor: server pid {} sent an unknown message '{}'", server.process->pid(),
                 verb);
  }
}

void Supervisor::on_listen(Server& server, const ControlMessage& message) {
  try {
    const int fd = broker_.acquire(server.id, {message.fields[1], message.fields[2]});
    send_message(server.control.get(), {"ok"}, fd);
  } catch (const std::system_error& e) {
    send_message(server.control.get(),
                 {"error", std::to_string(e.code().value()), error_prefix(e)});
  }
}

// A plugin file of the configuration the server is about to say it serves: copied now (the
// server sent the very file it loaded, which a deploy may rewrite in place later).
void Supervisor::on_plugin(Server& server, ControlMessage& message) {
  try {
    server.incoming[message.fields[1]] = std::make_shared<const Fd>(sealed_copy(message.fd.get()));
  } catch (const std::system_error& e) {
    spdlog::warn("supervisor: plugin {}: {}; a restart loads it from its path", message.fields[1],
                 e.what());
  }
}

void Supervisor::on_ready(Server& server) {
  server.ready = true;
  server.ready_at = Clock::now();
  if (&server == upgrade_) {
    spdlog::info("supervisor: upgrade: pid {} serves; pid {} drains and stops",
                 server.process->pid(), current_->process->pid());
    current_->retiring = true;
    current_->process->signal(SIGQUIT);
    current_ = upgrade_;
    upgrade_ = nullptr;
  } else if (!served_once_) {
    spdlog::info("supervisor: pid {} supervises the server pid {} ({})", ::getpid(),
                 server.process->pid(), config_path_);
  } else if (&server == current_) {
    const auto ms = std::chrono::duration<double, std::milli>(server.ready_at - crashed_at_);
    spdlog::info("supervisor: server pid {} serves again, {:.0f} ms after the crash",
                 server.process->pid(), ms.count());
  }
  served_once_ = true;
  if (stopping_) server.process->signal(SIGTERM);  // a stop came while it was starting
  if (reload_pending_ && &server == current_) {
    reload_pending_ = false;
    server.process->signal(SIGHUP);
  }
}

void Supervisor::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    const auto it = std::find_if(servers_.begin(), servers_.end(),
                                 [pid](const auto& s) { return s->process->pid() == pid; });
    if (it == servers_.end()) continue;
    Server& server = **it;
    server.process->set_exited(status);
    on_control(server);  // what it said before it ended
    on_exit(server);
    servers_.erase(std::find_if(servers_.begin(), servers_.end(),
                                [pid](const auto& s) { return s->process->pid() == pid; }));
  }
}

void Supervisor::on_exit(Server& server) {
  const int status = server.process->status();
  const pid_t pid = server.process->pid();
  if (&server == upgrade_) {
    spdlog::error(
        "supervisor: upgrade failed: the new server pid {} ended ({}) before it "
        "served; pid {} goes on serving",
        pid, describe_status(status), current_ ? current_->process->pid() : 0);
    upgrade_ = nullptr;
    broker_.forget(server.id);
    return;
  }
  if (&server != current_) {  // retired by an upgrade
    spdlog::info("supervisor: old server pid {} ended ({})", pid, describe_status(status));
    broker_.forget(server.id);
    return;
  }
  current_ = nullptr;
  if (stopping_ || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    // Stopped, or it was told to stop by someone else (e.g. SIGINT to the process group).
    final_status_ = exit_status_of(status);
    broker_.forget(server.id);
    if (!stopping_) {
      spdlog::info("supervisor: the server stopped by itself: stopping");
      stopping_ = true;
      stop_all(SIGTERM);
    }
    return;
  }
  if (!served_once_) {
    // A server that fails at start said why (FILE:LINE:COLUMN lines, one-line reasons) unless a
    // signal cut it short: the supervisor adds nothing to what it said, so the output stays that.
    if (WIFSIGNALED(status))
      spdlog::error("supervisor: the server (pid {}) died while starting ({})", pid,
                    describe_status(status));
    exit_status_ = exit_status_of(status);
    return;
  }
  on_crash(server);
}

void Supervisor::on_crash(Server& server) {
  const pid_t pid = server.process->pid();
  const std::string how = describe_status(server.process->status());
  const std::string during = server.reloading.empty() ? std::string()
                                                      : " (reload #" + server.reloading +
                                                            " failed: the server died during it)";
  crashed_at_ = Clock::now();
  if (upgrade_) {  // the new binary's server is on its way: it takes over
    spdlog::error("supervisor: server pid {} {}{}; the upgrade's pid {} takes over", pid, how,
                  during, upgrade_->process->pid());
    broker_.inherit(server.id, upgrade_->id);
    current_ = std::exchange(upgrade_, nullptr);
    return;
  }
  const auto served =
      server.ready ? std::chrono::duration_cast<RestartBackoff::ms>(crashed_at_ - server.ready_at)
                   : RestartBackoff::ms{0};
  const auto delay = backoff_.after_crash(served);
  spdlog::error(
      "supervisor: server pid {} {}; its open connections are lost; restarting {} on "
      "the configuration that served{} (crash {} in a row)",
      pid, how,
      delay.count() == 0 ? std::string("at once") : "in " + std::to_string(delay.count()) + " ms",
      during, backoff_.crashes());
  restart_heir_of_ = server.id;
  restart_config_ = server.config;
  restart_plugins_ = server.plugins;
  restart_at_ = crashed_at_ + delay;
}

}  // namespace chronos
