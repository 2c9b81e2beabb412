#include "SupervisorLink.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

#include <spdlog/spdlog.h>

#include "ControlChannel.hpp"
#include "config/Reader.hpp"

namespace chronos {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buf, static_cast<std::size_t>(n));
  return text;
}

}  // namespace

SupervisorLink::SupervisorLink(int control_fd, int resume_fd,
                               const std::map<std::string, int>& plugins)
    : control_(control_fd), resume_(resume_fd) {
  // Inherited without close-on-exec (so they crossed the exec): a plugin's exec must not get them.
  for (int fd : {control_fd, resume_fd})
    if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  for (const auto& [name, fd] : plugins) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    resumed_plugins_[name] = Fd(fd);
  }
}

std::string SupervisorLink::resumed_plugin(const std::string& name) const {
  const auto it = resumed_plugins_.find(name);
  return it == resumed_plugins_.end() ? std::string()
                                      : "/proc/self/fd/" + std::to_string(it->second.get());
}

ConfigResult SupervisorLink::load(const std::string& path, std::string& text) {
  text.clear();
  {
    std::lock_guard lock(mutex_);
    if (resume_) {
      text = read_all(resume_.get());
      resume_.reset();
      spdlog::info("resuming on the last configuration that served (not re-reading {})", path);
      return parse_config(text, path);
    }
  }
  std::string problem;
  // Read once, kept as text: the same bytes are parsed here and resumed after a crash.
  if (!config::read_file(path, text, problem)) return load_config(path);  // it says why
  return parse_config(text, path);
}

void SupervisorLink::reloading(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  send({"reload", std::to_string(n)});
}

Fd SupervisorLink::listen_socket(const ListenerConfig& listener) {
  std::lock_guard lock(mutex_);
  if (!send({"listen", listener.name, listener.address}))
    throw std::system_error(errno, std::generic_category(), listener.address + ": supervisor");
  std::optional<ControlMessage> answer = receive_message(control_.get());
  if (!answer)
    throw std::system_error(errno ? errno : EPIPE, std::generic_category(),
                            listener.address + ": supervisor");
  if (answer->verb() == "ok" && answer->fd) return std::move(answer->fd);
  const int code = answer->fields.size() == 3 ? std::atoi(answer->fields[1].c_str()) : EPROTO;
  const std::string what = answer->fields.size() == 3 ? answer->fields[2] : listener.address;
  throw std::system_error(code, std::generic_category(), what);
}

void SupervisorLink::serving(const std::string& text, const LoadedPlugins& plugins) {
  std::lock_guard lock(mutex_);
  for (const auto& [name, plugin] : plugins) {
    // The file at the path now, if it still is the one loaded (its identity includes a hash of
    // its bytes); else the restart loads whatever is there then.
    const Fd file(::open(plugin->path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    try {
      if (!file ||
          !(identify_file("/proc/self/fd/" + std::to_string(file.get())) == plugin->identity()))
        continue;
    } catch (const PluginError&) {
      continue;
    }
    send({"plugin", name}, file.get());
  }
  if (!send({"serving", text}))
    spdlog::warn(
        "the supervisor did not take the configuration text ({} bytes): a restart "
        "after a crash reads the file again",
        text.size());
}

void SupervisorLink::keep(const Config& running) {
  std::vector<std::string> fields{"keep"};
  for (const ListenerConfig& l : running.runtime.listeners) {
    fields.push_back(l.name);
    fields.push_back(l.address);
  }
  std::lock_guard lock(mutex_);
  if (!send(fields)) return;
  // Answered once the sockets it no longer holds are closed: a port a reload removed refuses
  // connections when the reload says it is done. Bounded, for a supervisor that does not answer.
  pollfd answer{control_.get(), POLLIN, 0};
  if (::poll(&answer, 1, 1000) == 1) receive_message(control_.get());
}

void SupervisorLink::ready() {
  std::lock_guard lock(mutex_);
  send({"ready"});
}

bool SupervisorLink::send(const std::vector<std::string>& fields, int fd) {
  return send_message(control_.get(), fields, fd);
}

}  // namespace chronos
