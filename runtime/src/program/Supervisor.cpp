#include "Supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

namespace chronos {
namespace {

// The signals the supervisor acts on arrive through a signalfd: nothing runs in a handler.
Fd open_supervisor_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR2, SIGCHLD}) sigaddset(&signals, s);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  Fd fd(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd) throw std::system_error(errno, std::generic_category(), "signalfd");
  return fd;
}

// A sealed memory file holding `text`: the configuration a restarted server resumes with.
Fd memfd_of(const std::string& text) {
  Fd fd(::memfd_create("chronos-config", MFD_CLOEXEC));
  if (!fd) throw std::system_error(errno, std::generic_category(), "memfd_create");
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "memfd write");
    done += static_cast<std::size_t>(n);
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

// Each resumed plugin file as NAME=FD for the server, and kept open across its exec.
void add_plugin_args(const std::map<std::string, std::shared_ptr<const Fd>>& plugins,
                     std::vector<std::string>& args, std::vector<int>& inherit) {
  for (const auto& [name, fd] : plugins) {
    args.insert(args.end(), {"--resume-plugin", name + "=" + std::to_string(fd->get())});
    inherit.push_back(fd->get());
  }
}

}  // namespace

int Supervisor::run() {
  signal_fd_ = open_supervisor_signals();
  start_server({}, {});  // it logs why if it cannot start; so says nothing more here
  while (!exit_status_) poll_once();
  return *exit_status_;
}

void Supervisor::poll_once() {
  std::vector<pollfd> fds{{signal_fd_.get(), POLLIN, 0}};
  for (const auto& s : servers_) fds.push_back({s->control ? s->control.get() : -1, POLLIN, 0});
  int timeout = -1;
  if (restart_at_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*restart_at_ - Clock::now());
    timeout = static_cast<int>(std::max<std::int64_t>(0, left.count()));
  }
  if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
    throw std::system_error(errno, std::generic_category(), "poll");
  // Messages first: a server that said something and then died had said it before it died.
  const std::size_t count = servers_.size();
  for (std::size_t i = 0; i < count && i + 1 < fds.size(); ++i)
    if (fds[i + 1].revents != 0) on_control(*servers_[i]);
  if (fds[0].revents != 0) on_signals();
  if (restart_at_ && Clock::now() >= *restart_at_) restart();
  if (stopping_ && servers_.empty() && !exit_status_) exit_status_ = final_status_;
}

Supervisor::Server* Supervisor::start_server(const std::string& resume_config,
                                             const PluginFiles& plugins) {
  auto [mine, theirs] = control_socket_pair();
  std::vector<std::string> args{"-c",
                                config_path_,
                                "--supervised-by",
                                std::to_string(theirs.get()),
                                "--reloads-before",
                                std::to_string(reloads_)};
  std::vector<int> inherit{theirs.get()};
  Fd resume;
  if (!resume_config.empty()) {
    resume = memfd_of(resume_config);
    args.insert(args.end(), {"--resume-config", std::to_string(resume.get())});
    inherit.push_back(resume.get());
    add_plugin_args(plugins, args, inherit);
  }
  auto server = std::make_unique<Server>();
  server->id = ++next_id_;
  server->process = std::make_unique<ChildProcess>(exe_, args, inherit);
  ::fcntl(mine.get(), F_SETFL, O_NONBLOCK);
  server->control = std::move(mine);
  servers_.push_back(std::move(server));
  Server* started = servers_.back().get();
  if (!current_) current_ = started;
  return started;  // `theirs` and `resume` close here: the child has its own copies
}

void Supervisor::restart() {
  restart_at_.reset();
  try {
    Server* server = start_server(restart_config_, restart_plugins_);
    broker_.inherit(restart_heir_of_, server->id);
    server->config = restart_config_;                       // until it says what it serves
    server->plugins = std::exchange(restart_plugins_, {});  // held once: by the server
    current_ = server;
    spdlog::info("supervisor: started server pid {}{}", server->process->pid(),
                 restart_config_.empty() ? "" : " on the last configuration that served");
  } catch (const std::system_error& e) {
    const auto delay = backoff_.after_crash(RestartBackoff::ms{0});
    spdlog::error("supervisor: cannot start a server: {}; trying again in {} ms", e.what(),
                  delay.count());
    restart_at_ = Clock::now() + delay;
  }
}

void Supervisor::on_signals() {
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof(info)) == sizeof(info)) {
    const int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGCHLD)
      reap();
    else if (sig == SIGHUP)
      on_reload();
    else if (sig == SIGUSR2)
      on_upgrade();
    else
      stop_all(sig);
  }
  reap();  // SIGCHLDs coalesce: look for every child that ended
}

void Supervisor::stop_all(int sig) {
  if (!stopping_) spdlog::info("supervisor: {}: stopping", strsignal(sig));
  stopping_ = true;
  restart_at_.reset();
  for (const auto& s : servers_) {
    s->retiring = true;
    s->process->signal(sig == SIGQUIT ? SIGQUIT : SIGTERM);  // SIGQUIT: they drain first
  }
}

void Supervisor::on_reload() {
  if (stopping_) return;
  if (current_ && current_->ready) {
    current_->process->signal(SIGHUP);
    return;
  }
  // A server still starting has not blocked SIGHUP yet: it would die of it. It gets it once ready.
  spdlog::info("supervisor: SIGHUP: the server is not serving yet; it reloads once it does");
  reload_pending_ = true;
}

void Supervisor::on_upgrade() {
  if (stopping_) return;
  if (upgrade_) {
    spdlog::warn("supervisor: SIGUSR2: an upgrade is already under way (pid {})",
                 upgrade_->process->pid());
    return;
  }
  if (!current_ || !current_->ready) {
    spdlog::warn("supervisor: SIGUSR2: no server serves now; nothing to upgrade");
    return;
  }
  try {
    upgrade_ = start_server({}, {});
    spdlog::info(
        "supervisor: SIGUSR2: upgrading: started pid {} from {}; pid {} serves until it "
        "is ready",
        upgrade_->process->pid(), exe_, current_->process->pid());
  } catch (const std::system_error& e) {
    spdlog::error("supervisor: SIGUSR2: cannot start the new server: {}", e.what());
  }
}

}  // namespace chronos
