// The echo servers measured by echo_bench. Every one binds 127.0.0.1:0, sets TCP_NODELAY on
// its connections (as Chronos does), writes "PORT THREADS" to the port file and serves until
// SIGTERM. None allocates per message.
//
//   chronos-pool    chronos::Runtime, one listener, Execution::pool (reactor + worker pool)
//   chronos-inline  chronos::Runtime, one listener, Execution::inline_ (plugin on the reactor)
//   libevent        libevent 2.1 the usual way: evconnlistener + bufferevent, the read callback
//                   moves the input evbuffer to the output evbuffer; one event_base thread
//   libevent-raw    libevent 2.1 with plain events: EV_READ|EV_PERSIST, read() then write()
//                   straight from the callback (EV_WRITE only after a short write)
//   epoll           no library: one thread, level-triggered epoll, read() then write();
//                   the reference upper bound for one core

#include "servers.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <spdlog/spdlog.h>

#include "chronos/Runtime.hpp"
#include "chronos/plugin.h"

namespace echo_bench {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void set_nodelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// A non-blocking listening socket on 127.0.0.1:0.
int make_listener(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) fail("bind");
  if (::listen(fd, 4096) != 0) fail("listen");
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) fail("getsockname");
  port = ntohs(addr.sin_port);
  return fd;
}

std::size_t cpus_allowed() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<std::size_t>(n) : 1;
}

// Written to a temporary name and renamed, so the parent never reads half a line.
void write_port_file(const std::string& path, std::uint16_t port, std::size_t threads) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) fail("open port file");
  std::fprintf(f, "%u %zu\n", static_cast<unsigned>(port), threads);
  if (std::fclose(f) != 0) fail("write port file");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("rename port file");
}

// ---- chronos ---------------------------------------------------------------------------------

// The bench's echo plugin: the instance pointer is the host's function table; on_data sends
// everything back and consumes it. No per-connection state, no allocation.
int echo_init(chronos_host*, const chronos_host_api* api, const char*, size_t, void** instance,
              char*, size_t) {
  *instance = const_cast<chronos_host_api*>(api);
  return 0;
}
void echo_shutdown(void*) {}
int64_t echo_on_data(void* instance, chronos_conn* conn, void*, const uint8_t* data, size_t len) {
  static_cast<const chronos_host_api*>(instance)->send(conn, data, len);
  return static_cast<int64_t>(len);
}
const chronos_plugin kEchoPlugin = {CHRONOS_ABI_MAJOR,
                                    CHRONOS_ABI_MINOR,
                                    sizeof(chronos_plugin),
                                    "bench-echo",
                                    "1.0",
                                    echo_init,
                                    echo_shutdown,
                                    nullptr /* on_open */,
                                    echo_on_data,
                                    nullptr /* on_close */};

std::atomic<chronos::Runtime*> g_runtime{nullptr};

extern "C" void on_stop_signal(int) {
  // Runtime::stop is one eventfd write: safe in a signal handler, on any thread.
  if (chronos::Runtime* rt = g_runtime.load()) rt->stop();
}

int serve_chronos(const ServeOptions& options, chronos::Execution execution) {
  spdlog::set_level(spdlog::level::warn);
  chronos::RuntimeConfig config;
  config.workers = options.workers;
  config.shutdown_timeout_ms = 1000;
  chronos::ListenerConfig listener;
  listener.name = "echo";
  listener.address = "127.0.0.1:0";
  listener.plugin = "echo";
  listener.execution = execution;
  config.listeners.push_back(listener);

  chronos::Runtime runtime(config);
  runtime.add_plugin("echo", &kEchoPlugin, "{}");
  runtime.bind();
  g_runtime.store(&runtime);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  // Threads that serve: the reactor, plus the pool's workers (which exist in inline mode too,
  // idle on their futex).
  const std::size_t workers = options.workers ? options.workers : cpus_allowed();
  write_port_file(options.port_file, runtime.port("echo"), 1 + workers);
  runtime.run();
  g_runtime.store(nullptr);
  return 0;
}

// ---- shared by libevent-raw and epoll: read, then write straight back ------------------------

constexpr std::size_t kReadBuffer = 64 * 1024;
std::uint8_t g_buffer[kReadBuffer];  // one thread per server: one scratch buffer

struct RawConn {
  int fd = -1;
  std::vector<std::uint8_t> pending;  // what write() did not take; empty in the common case
  std::size_t pending_off = 0;
  event* ev_read = nullptr;  // libevent-raw only
  event* ev_write = nullptr;
};

enum class Step { idle, blocked, close };

// Writes what is pending. `blocked`: the socket is full, wait for writability.
Step flush_pending(RawConn& c) {
  while (c.pending_off < c.pending.size()) {
    const ssize_t n = ::send(c.fd, c.pending.data() + c.pending_off,
                             c.pending.size() - c.pending_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.pending_off += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      return Step::blocked;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return Step::close;
    }
  }
  c.pending.clear();
  c.pending_off = 0;
  return Step::idle;
}

// Level-triggered: read until a short read, echoing each chunk at once.
Step echo_readable(RawConn& c) {
  for (;;) {
    const ssize_t n = ::read(c.fd, g_buffer, kReadBuffer);
    if (n == 0) return Step::close;
    if (n < 0) {
      if (errno == EAGAIN) return Step::idle;
      if (errno == EINTR) continue;
      return Step::close;
    }
    const ssize_t w = ::send(c.fd, g_buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) return Step::close;
    const std::size_t done = w > 0 ? static_cast<std::size_t>(w) : 0;
    if (done < static_cast<std::size_t>(n)) {
      c.pending.assign(g_buffer + done, g_buffer + n);
      c.pending_off = 0;
      return flush_pending(c);  // usually `blocked`: stop reading until it drains
    }
    if (static_cast<std::size_t>(n) < kReadBuffer) return Step::idle;
  }
}

// ---- libevent: bufferevent ------------------------------------------------------------------

void bev_read(bufferevent* bev, void*) {
  evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

void bev_event(bufferevent* bev, short what, void*) {
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

void bev_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* base = static_cast<event_base*>(arg);
  set_nodelay(fd);
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    ::close(fd);
    return;
  }
  bufferevent_setcb(bev, bev_read, nullptr, bev_event, nullptr);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void ev_break(evutil_socket_t, short, void* arg) {
  event_base_loopbreak(static_cast<event_base*>(arg));
}

// ---- libevent: raw events -------------------------------------------------------------------

void raw_free(RawConn* c) {
  event_free(c->ev_read);
  event_free(c->ev_write);
  ::close(c->fd);
  delete c;
}

void raw_readable(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<RawConn*>(arg);
  switch (echo_readable(*c)) {
    case Step::idle:
      return;
    case Step::blocked:
      event_del(c->ev_read);
      event_add(c->ev_write, nullptr);
      return;
    case Step::close:
      raw_free(c);
      return;
  }
}

void raw_writable(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<RawConn*>(arg);
  switch (flush_pending(*c)) {
    case Step::idle:
      event_del(c->ev_write);
      event_add(c->ev_read, nullptr);
      return;
    case Step::blocked:
      return;
    case Step::close:
      raw_free(c);
      return;
  }
}

void raw_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* base = static_cast<event_base*>(arg);
  set_nodelay(fd);
  auto* c = new RawConn;
  c->fd = fd;
  c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, raw_readable, c);
  c->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST, raw_writable, c);
  event_add(c->ev_read, nullptr);
}

int serve_libevent(const ServeOptions& options, bool raw) {
  std::uint16_t port = 0;
  const int listen_fd = make_listener(port);
  event_base* base = event_base_new();
  if (!base) throw std::runtime_error("event_base_new failed");
  // backlog 0: the socket is already listening.
  evconnlistener* listener = evconnlistener_new(base, raw ? raw_accept : bev_accept, base,
                                                LEV_OPT_CLOSE_ON_FREE, 0, listen_fd);
  if (!listener) throw std::runtime_error("evconnlistener_new failed");
  event* term = evsignal_new(base, SIGTERM, ev_break, base);
  event* intr = evsignal_new(base, SIGINT, ev_break, base);
  event_add(term, nullptr);
  event_add(intr, nullptr);
  write_port_file(options.port_file, port, 1);
  event_base_dispatch(base);
  // Connections still open are left to the process exit.
  event_free(term);
  event_free(intr);
  evconnlistener_free(listener);
  event_base_free(base);
  return 0;
}

// ---- plain epoll ----------------------------------------------------------------------------

int serve_epoll(const ServeOptions& options) {
  std::uint16_t port = 0;
  const int listen_fd = make_listener(port);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
  const int sig_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sig_fd < 0) fail("signalfd");
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) fail("epoll_create1");
  static char listen_token, signal_token;  // addresses that are no RawConn
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &listen_token;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0) fail("epoll_ctl");
  ev.data.ptr = &signal_token;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, sig_fd, &ev) != 0) fail("epoll_ctl");
  write_port_file(options.port_file, port, 1);

  auto drop = [&](RawConn* c) {
    ::close(c->fd);  // also leaves the epoll set
    delete c;
  };
  epoll_event events[256];
  for (;;) {
    const int n = epoll_wait(ep, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      void* token = events[i].data.ptr;
      if (token == &signal_token) {
        ::close(ep);
        return 0;  // open connections are left to the process exit
      }
      if (token == &listen_token) {
        for (;;) {
          const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;  // EAGAIN, or an error the next edge retries
          set_nodelay(fd);
          auto* c = new RawConn;
          c->fd = fd;
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.ptr = c;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) != 0) drop(c);
        }
        continue;
      }
      auto* c = static_cast<RawConn*>(token);
      const bool writing = !c->pending.empty();
      const Step step = writing ? flush_pending(*c) : echo_readable(*c);
      if (step == Step::close) {
        drop(c);
      } else if (writing != (step == Step::blocked)) {  // switch between reading and writing
        epoll_event cev{};
        cev.events = step == Step::blocked ? EPOLLOUT : EPOLLIN;
        cev.data.ptr = c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
      }
    }
  }
}

}  // namespace

const std::vector<std::string>& server_kinds() {
  static const std::vector<std::string> kinds = {"chronos-pool", "chronos-inline", "libevent",
                                                 "libevent-raw", "epoll"};
  return kinds;
}

bool is_server_kind(std::string_view kind) {
  for (const auto& k : server_kinds())
    if (k == kind) return true;
  return false;
}

int serve(const ServeOptions& options) {
  try {
    if (options.kind == "chronos-pool") return serve_chronos(options, chronos::Execution::pool);
    if (options.kind == "chronos-inline")
      return serve_chronos(options, chronos::Execution::inline_);
    if (options.kind == "libevent") return serve_libevent(options, false);
    if (options.kind == "libevent-raw") return serve_libevent(options, true);
    if (options.kind == "epoll") return serve_epoll(options);
    std::fprintf(stderr, "echo_bench: unknown server '%s'\n", options.kind.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_bench --serve=%s: %s\n", options.kind.c_str(), e.what());
    return 1;
  }
}

}  // namespace echo_bench
