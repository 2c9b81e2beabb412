// Running the real `chronos` program in integration tests: a private scratch folder, config
// files written from a small builder, and an RAII child process whose stderr (the log) and
// stdout are captured to files the test can search.
//
//   chronos::test::ScratchDir dir;                       // mkdtemp, mode 0700, removed at the end
//   const std::string echo = dir.install_plugin(CHRONOS_PLUGIN_DIR "/echo.so", "p/echo.so");
//   const std::uint16_t port = chronos::test::free_port();
//   chronos::test::ConfigBuilder cfg;
//   cfg.plugin("echo", echo).listener("e", chronos::test::loopback(port), "echo");
//   const std::string file = dir.write("chronos.yaml", cfg.yaml());
//   chronos::test::ChronosProcess server(dir, {"-c", file});
//   REQUIRE(server.wait_listening());
//   ...  // at scope exit: SIGTERM, reap with a deadline, SIGKILL as the fallback
//
// Nothing here sleeps for a fixed time: every wait polls a condition against a deadline.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "client.hpp"
#include "wait.hpp"

namespace chronos::test {

// Sanitizer builds start and stop more slowly; every deadline below is generous anyway.
inline constexpr std::chrono::milliseconds kStartTimeout{20000};
inline constexpr std::chrono::milliseconds kExitTimeout{15000};

inline std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::size_t count_of(std::string_view haystack, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

// A private folder (mkdtemp, mode 0700) removed with everything in it at scope exit. The plugin
// loader refuses files or folders writable by others, so plugins are installed in here.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = "/tmp/chronos-it-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

  // Creates `relative` (and its parents) as folders of mode 0700.
  std::string mkdir(const std::string& relative) const {
    const std::filesystem::path full = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(full);
    for (std::filesystem::path p = full; p.string().size() > path_.size(); p = p.parent_path())
      ::chmod(p.c_str(), 0700);
    return full.string();
  }

  // Writes `text` to `relative` atomically (a temporary file in the same folder, then rename),
  // so a reload never reads half a file. Returns the full path.
  std::string write(const std::string& relative, const std::string& text,
                    mode_t mode = 0600) const {
    const std::string full = (*this) / relative;
    make_parent(full);
    const std::string tmp = full + ".tmp-write";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) throw std::runtime_error("cannot write " + tmp);
    }
    ::chmod(tmp.c_str(), mode);
    if (::rename(tmp.c_str(), full.c_str()) != 0)
      throw std::runtime_error("rename " + tmp + ": " + std::strerror(errno));
    return full;
  }

  // Copies the plugin `source` to `relative` with `mode` — atomically, by writing a temporary
  // file in the same folder and rename()ing it over the target, the way a deploy replaces a
  // plugin under a running server. Returns the full path.
  std::string install_plugin(const std::string& source, const std::string& relative,
                             mode_t mode = 0755) const {
    const std::string full = (*this) / relative;
    make_parent(full);
    const std::string tmp = full + ".tmp-install";
    std::filesystem::copy_file(source, tmp, std::filesystem::copy_options::overwrite_existing);
    ::chmod(tmp.c_str(), mode);
    if (::rename(tmp.c_str(), full.c_str()) != 0)
      throw std::runtime_error("rename " + tmp + ": " + std::strerror(errno));
    return full;
  }

 private:
  void make_parent(const std::string& full) const {
    const auto parent = std::filesystem::path(full).parent_path();
    if (parent.string().size() > path_.size())
      mkdir(std::filesystem::relative(parent, path_).string());
  }

  std::string path_;
};

// A loopback TCP port that was free a moment ago: bound to port 0, read back, released.
inline std::uint16_t free_port(bool ipv6 = false) {
  Fd fd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error("socket failed");
  sockaddr_storage ss{};
  socklen_t len;
  if (ipv6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    throw std::runtime_error(std::string("getsockname: ") + std::strerror(errno));
  return ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// A loopback port held by a listening socket of ours, as another server would hold it.
class HeldPort {
 public:
  HeldPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_.get(), 1) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error(std::string("cannot hold a port: ") + std::strerror(errno));
    port_ = ntohs(addr.sin_port);
  }
  std::uint16_t port() const { return port_; }

 private:
  Fd fd_;
  std::uint16_t port_ = 0;
};

inline std::string loopback(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }
inline std::string loopback6(std::uint16_t port) { return "[::1]:" + std::to_string(port); }

// A chronos configuration, written as YAML text. Values are inserted as given (quote strings
// that need it yourself); `extra` lines go into the entry verbatim, e.g. "drain_timeout_ms: 300".
class ConfigBuilder {
 public:
  ConfigBuilder& top(const std::string& line) {
    top_.push_back(line);
    return *this;
  }
  // `config` is a YAML flow map such as `{ body: "hi\n" }`; empty leaves the key out.
  ConfigBuilder& plugin(const std::string& name, const std::string& path,
                        const std::string& config = "{}") {
    std::string entry = "  - name: " + name + "\n    path: " + path + "\n";
    if (!config.empty()) entry += "    config: " + config + "\n";
    plugins_.push_back(entry);
    return *this;
  }
  ConfigBuilder& listener(const std::string& name, const std::string& address,
                          const std::string& plugin, const std::vector<std::string>& extra = {}) {
    std::string entry =
        "  - name: " + name + "\n    address: \"" + address + "\"\n    plugin: " + plugin + "\n";
    for (const auto& line : extra) entry += "    " + line + "\n";
    listeners_.push_back(entry);
    return *this;
  }

  std::string yaml() const {
    std::string out = "# generated by a chronos integration test\n";
    bool workers = false, shutdown = false;
    for (const auto& line : top_) {
      workers |= line.rfind("workers:", 0) == 0;
      shutdown |= line.rfind("shutdown_timeout_ms:", 0) == 0;
    }
    if (!workers) out += "workers: 2\n";
    out += "queue_capacity: 1024\n";
    if (!shutdown) out += "shutdown_timeout_ms: 2000\n";
    for (const auto& line : top_) out += line + "\n";
    out += "plugins:\n";
    for (const auto& p : plugins_) out += p;
    out += "listeners:\n";
    for (const auto& l : listeners_) out += l;
    return out;
  }

 private:
  std::vector<std::string> top_, plugins_, listeners_;
};

// How a finished child ended: its exit status, or 128 + the signal that killed it.
inline int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// One `chronos` child process. stdout and stderr go to files in the scratch folder; the
// destructor sends SIGTERM, waits with a deadline, then SIGKILLs, and always reaps.
class ChronosProcess {
 public:
  ChronosProcess(const ScratchDir& dir, std::vector<std::string> args, std::string cwd = {})
      : args_(std::move(args)) {
    static int serial = 0;
    const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(++serial);
    out_path_ = dir / ("stdout-" + tag + ".txt");
    err_path_ = dir / ("stderr-" + tag + ".txt");
    // The loader's private plugin copies go into a folder of ours, found again by maps_count.
    tmp_dir_ = dir.mkdir("tmp-" + tag);
    start(cwd.empty() ? dir.path() : cwd);
  }
  // Stops the child if it still runs. A child that was still serving must stop cleanly on that
  // SIGTERM (exit 0: no hang, no crash, no leak report in sanitizer builds); no child may have
  // died of a signal or printed a sanitizer report. Each is a failed check of the running test.
  ~ChronosProcess() {
    const bool was_serving = running();
    const bool clean = kill_and_reap();
    if (std::uncaught_exceptions() > 0) return;          // a REQUIRE already failed the test
    if (exit_code_ > 128 && !(was_serving && !clean)) {  // tests only send SIGTERM/SIGINT/SIGHUP
      FAIL_CHECK("chronos (pid " << pid_ << ") was killed by signal " << exit_code_ - 128 << "\n"
                                 << tail());
    }
    if (was_serving && !clean) {
      FAIL_CHECK("chronos (pid " << pid_ << ") did not stop cleanly on SIGTERM: exit code "
                                 << exit_code_ << "\n"
                                 << tail());
    }
    if (const std::string report = sanitizer_report(); !report.empty())
      FAIL_CHECK("chronos (pid " << pid_ << ") reported:\n" << report);
  }
  ChronosProcess(const ChronosProcess&) = delete;
  ChronosProcess& operator=(const ChronosProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& tmp_dir() const { return tmp_dir_; }

  std::string log() const { return read_whole_file(err_path_); }
  std::string out() const { return read_whole_file(out_path_); }
  bool log_has(std::string_view text) const { return log().find(text) != std::string::npos; }
  std::size_t log_count(std::string_view text) const { return count_of(log(), text); }

  bool wait_log(std::string_view text, std::chrono::milliseconds timeout = kStartTimeout) {
    return wait_until([&] { return log_has(text) || !running(); }, timeout) && log_has(text);
  }

  // Serving: the reactor has logged its listeners, after which signals are handled too.
  bool wait_listening(std::chrono::milliseconds timeout = kStartTimeout) {
    return wait_log("listening on ", timeout);
  }

  void signal(int sig) const {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
  }

  // Sends SIGHUP and waits until the log tells how that reload ended; returns its line
  // ("" if it never said). Reloads are counted so each call waits for its own.
  std::string reload(std::chrono::milliseconds timeout = kStartTimeout) {
    const std::string tag = "reload #" + std::to_string(++reloads_) + ": ";
    signal(SIGHUP);
    return wait_reload_result(tag, timeout);
  }
  // For a reload triggered some other way (e.g. `chronos -s reload`).
  std::string expect_reload(std::chrono::milliseconds timeout = kStartTimeout) {
    return wait_reload_result("reload #" + std::to_string(++reloads_) + ": ", timeout);
  }

  // Non-blocking: true while the child has not exited.
  bool running() {
    if (reaped_) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      exit_code_ = decode_status(status);
      return false;
    }
    return r == 0;
  }

  // Waits for the child to exit; its exit code (see decode_status), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = kExitTimeout) {
    if (!wait_until([&] { return !running(); }, timeout)) return std::nullopt;
    return exit_code_;
  }

  // SIGTERM, wait, SIGKILL: used at scope exit, also when a check failed midway. True if the
  // child had already exited, or exited with 0 on the SIGTERM.
  bool kill_and_reap() {
    if (pid_ <= 0 || reaped_) return true;
    ::kill(pid_, SIGTERM);
    if (const auto code = wait_exit(kExitTimeout)) return *code == 0;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    exit_code_ = decode_status(status);
    return false;
  }

  // The last `bytes` of the log, for failure messages.
  std::string tail(std::size_t bytes = 3000) const {
    const std::string text = log();
    return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
  }

  // A sanitizer's report in the log, if any (from "==PID==ERROR" / "runtime error:" on).
  std::string sanitizer_report() const {
    const std::string text = log();
    for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                               "WARNING: ThreadSanitizer", "runtime error:"}) {
      const std::size_t at = text.find(marker);
      if (at != std::string::npos) {
        const std::size_t line = text.rfind('\n', at);
        return text.substr(line == std::string::npos ? 0 : line + 1, 6000);
      }
    }
    return "";
  }

  // /proc views of the running child.
  std::size_t fd_count() const { return dir_entries("/proc/" + std::to_string(pid_) + "/fd"); }
  std::size_t thread_count() const {
    return dir_entries("/proc/" + std::to_string(pid_) + "/task");
  }
  // Distinct files mapped from the loader's private copies (all deleted right after dlopen, so
  // each is a plugin version still loaded).
  std::size_t plugin_copies_mapped() const {
    std::ifstream maps("/proc/" + std::to_string(pid_) + "/maps");
    std::set<std::string> files;
    for (std::string line; std::getline(maps, line);) {
      const auto at = line.find(tmp_dir_ + "/chronos-plugin-");
      if (at != std::string::npos) files.insert(line.substr(at));
    }
    return files.size();
  }

 private:
  static std::size_t dir_entries(const std::string& dir) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++n;
    return n;
  }

  std::string wait_reload_result(const std::string& tag, std::chrono::milliseconds timeout) {
    std::string line;
    wait_until(
        [&] {
          const std::string text = log();
          for (std::size_t at = text.find(tag); at != std::string::npos;
               at = text.find(tag, at + 1)) {
            const std::size_t end = text.find('\n', at);
            std::string candidate = text.substr(at, end == std::string::npos ? end : end - at);
            if (candidate.find(": done in ") != std::string::npos ||
                candidate.find("still serving") != std::string::npos) {
              line = std::move(candidate);
              return true;
            }
          }
          return !running();
        },
        timeout);
    return line;
  }

  void start(const std::string& cwd) {
    std::vector<char*> argv;
    std::string program = CHRONOS_BINARY;
    argv.push_back(program.data());
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0 || err < 0) throw std::runtime_error("cannot create the child's log files");
    // The environment, with TMPDIR pointing into the scratch folder; built before fork.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "TMPDIR=", 7) != 0) env.emplace_back(*e);
    env.push_back("TMPDIR=" + tmp_dir_);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // The child: only async-signal-safe calls until exec.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGPIPE, SIG_DFL);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      const int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execve(program.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out);
    ::close(err);
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }

  std::vector<std::string> args_;
  std::string out_path_, err_path_, tmp_dir_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  int reloads_ = 0;
};

// Runs `chronos ARGS` to completion (e.g. -t, --version, -s reload).
struct RunResult {
  std::optional<int> exit_code;  // nullopt: it did not exit within the deadline (then killed)
  std::string out, err;
};

inline RunResult run_chronos(const ScratchDir& dir, std::vector<std::string> args,
                             std::string cwd = {},
                             std::chrono::milliseconds timeout = kExitTimeout) {
  ChronosProcess p(dir, std::move(args), std::move(cwd));
  RunResult r;
  r.exit_code = p.wait_exit(timeout);
  p.kill_and_reap();
  r.out = p.out();
  r.err = p.log();
  return r;
}

// ---------------------------------------------------------------------------------------------
// Talking to the plugins

// Sends `data` and reads the same number of bytes back, sending and receiving at once so
// neither side's buffers have to hold the whole message. Returns what came back.
inline std::string echo_roundtrip(Client& client, std::string_view data,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  std::string got;
  got.reserve(data.size());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t sent = 0;
  char buf[65536];
  while (got.size() < data.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{client.fd(), static_cast<short>(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    if ((p.revents & POLLOUT) && sent < data.size()) {
      const ssize_t n =
          ::send(client.fd(), data.data() + sent, std::min<std::size_t>(data.size() - sent, 65536),
                 MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        sent += static_cast<std::size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        break;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(client.fd(), buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0)
        got.append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        break;
    }
  }
  return got;
}

// True if a connection to `port` is refused (or otherwise fails) right away.
inline bool connect_fails(std::uint16_t port) { return !Client(port).connected(); }

// One parsed HTTP response.
struct HttpResponse {
  bool complete = false;  // a whole response arrived
  int status = 0;
  std::string head;  // status line and headers, up to and including the blank line
  std::string body;

  // The value of header `name` (case-insensitive), or "" if absent.
  std::string header(std::string_view name) const {
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);  // status line
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos || colon != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < colon; ++i)
        same &= std::tolower(static_cast<unsigned char>(line[i])) ==
                std::tolower(static_cast<unsigned char>(name[i]));
      if (!same) continue;
      std::size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      return line.substr(v);
    }
    return "";
  }
};

// Reads HTTP responses off one connection, keeping bytes that arrive early (pipelining).
class HttpReader {
 public:
  explicit HttpReader(Client& client) : client_(client) {}

  // Reads the next response; with `head_request` it has no body whatever Content-Length says.
  HttpResponse next(bool head_request = false,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    HttpResponse r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(deadline)) return r;
    r.head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    if (r.head.rfind("HTTP/1.", 0) == 0 && r.head.size() > 12)
      r.status = std::atoi(r.head.c_str() + 9);
    std::size_t length = 0;
    if (!head_request) {
      const std::string cl = r.header("Content-Length");
      length = cl.empty() ? 0 : static_cast<std::size_t>(std::stoull(cl));
    }
    while (buffer_.size() < length)
      if (!fill(deadline)) return r;
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    r.complete = true;
    return r;
  }

  // Bytes received beyond the responses read so far.
  const std::string& leftover() const { return buffer_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const std::string more = client_.recv_some(65536, left);
    buffer_ += more;
    return !more.empty();
  }

  Client& client_;
  std::string buffer_;
};

// One GET on a fresh or kept-alive connection; the response.
inline HttpResponse http_get(Client& client, const std::string& target = "/") {
  if (!client.send_all("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n")) return {};
  HttpReader reader(client);
  return reader.next();
}

}  // namespace chronos::test
