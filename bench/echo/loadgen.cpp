#include "loadgen.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace echo_bench {
namespace {

std::uint64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO on a TSC clocksource: no syscall
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct Conn {
  int fd = -1;
  std::size_t index = 0;
  std::uint64_t seq = 0;
  std::vector<std::uint8_t> tx, rx;
  std::size_t sent = 0, received = 0;
  std::uint64_t started_ns = 0;
  bool want_out = false;   // registered for EPOLLOUT: a send fell short
  bool in_flight = false;  // a message was sent and its echo is not complete
};

// Owns the sockets and the epoll descriptor; closes them on every exit path.
struct Resources {
  int ep = -1;
  std::vector<Conn> conns;
  ~Resources() {
    for (Conn& c : conns)
      if (c.fd >= 0) ::close(c.fd);
    if (ep >= 0) ::close(ep);
  }
};

// The message for (connection, sequence number): the number, then a pattern that depends on
// both, so an echo of a wrong or stale message, or of shuffled bytes, is caught.
void fill_message(Conn& c) {
  const std::uint64_t seq = c.seq;
  std::size_t i = 0;
  for (; i < sizeof(seq) && i < c.tx.size(); ++i)
    c.tx[i] = static_cast<std::uint8_t>(seq >> (8 * i));
  const auto base = static_cast<std::uint8_t>(seq * 131 + c.index * 7);
  for (; i < c.tx.size(); ++i) c.tx[i] = static_cast<std::uint8_t>(base + i);
}

int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fail("connect 127.0.0.1:" + std::to_string(port));
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fail("fcntl(O_NONBLOCK)");
  }
  return fd;
}

class Driver {
 public:
  explicit Driver(Resources& res) : res_(res) {}

  void register_out(Conn& c, bool want) {
    if (c.want_out == want) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u64 = c.index;
    if (epoll_ctl(res_.ep, EPOLL_CTL_MOD, c.fd, &ev) != 0) fail("epoll_ctl(MOD)");
    c.want_out = want;
  }

  void send_some(Conn& c) {
    while (c.sent < c.tx.size()) {
      const ssize_t n = ::send(c.fd, c.tx.data() + c.sent, c.tx.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EAGAIN) {
        register_out(c, true);
        return;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        fail("send");
      }
    }
    register_out(c, false);
  }

  void begin(Conn& c, std::uint64_t t) {
    fill_message(c);
    c.sent = c.received = 0;
    c.started_ns = t;
    c.in_flight = true;
    send_some(c);
  }

  // Reads what is there; on a complete echo checks it, records it and (unless draining) sends
  // the next message.
  void readable(Conn& c) {
    for (;;) {
      const std::size_t want = c.rx.size() - c.received;
      if (want == 0 || !c.in_flight) {
        // Bytes the server sent unasked: read them to report the error.
        std::uint8_t extra[256];
        const ssize_t n = ::recv(c.fd, extra, sizeof(extra), 0);
        if (n > 0) {
          ++mismatches;
          continue;
        }
        if (n == 0) fail_closed();
        return;
      }
      const ssize_t n = ::recv(c.fd, c.rx.data() + c.received, want, 0);
      if (n > 0) {
        c.received += static_cast<std::size_t>(n);
        if (c.received == c.rx.size()) {
          complete(c, now_ns());
          return;  // the next echo cannot be there yet: skip the recv that says EAGAIN
        }
        if (static_cast<std::size_t>(n) < want) return;  // socket drained (level-triggered)
        continue;
      }
      if (n == 0) fail_closed();
      if (errno == EAGAIN) return;
      if (errno == EINTR) continue;
      fail("recv");
    }
  }

  void complete(Conn& c, std::uint64_t t) {
    c.in_flight = false;
    if (std::memcmp(c.rx.data(), c.tx.data(), c.tx.size()) != 0) ++mismatches;
    last_progress_ns = t;
    if (measuring) {
      latencies.push_back(
          static_cast<std::uint32_t>(std::min<std::uint64_t>(t - c.started_ns, UINT32_MAX)));
      ++messages;
    }
    if (draining) return;
    ++c.seq;
    begin(c, t);
  }

  [[noreturn]] void fail_closed() {
    errno = ECONNRESET;
    fail("the server closed a connection");
  }

  Resources& res_;
  bool measuring = false, draining = false;
  std::uint64_t messages = 0, mismatches = 0, last_progress_ns = 0;
  std::vector<std::uint32_t> latencies;  // ns, inside the window
};

double percentile_us(std::vector<std::uint32_t>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] / 1000.0;
}

}  // namespace

LoadResult run_load(const LoadOptions& options, const std::function<void(bool)>& window,
                    const std::function<bool()>& cancelled) {
  if (options.connections == 0 || options.message_bytes == 0)
    throw std::invalid_argument("connections and message size must be positive");
  Resources res;
  res.ep = epoll_create1(EPOLL_CLOEXEC);
  if (res.ep < 0) fail("epoll_create1");
  res.conns.resize(options.connections);
  for (std::size_t i = 0; i < options.connections; ++i) {
    Conn& c = res.conns[i];
    c.index = i;
    c.tx.resize(options.message_bytes);
    c.rx.resize(options.message_bytes);
    c.fd = connect_to(options.port);
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: one message in flight, nothing to drain
    ev.data.u64 = i;
    if (epoll_ctl(res.ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) fail("epoll_ctl(ADD)");
  }

  Driver d(res);
  d.latencies.reserve(static_cast<std::size_t>(std::min(options.seconds * 400000.0, 5e7)));
  const std::uint64_t start = now_ns();
  const auto warm_end = start + static_cast<std::uint64_t>(options.warmup_seconds * 1e9);
  const auto end = warm_end + static_cast<std::uint64_t>(options.seconds * 1e9);
  d.last_progress_ns = start;
  for (Conn& c : res.conns) d.begin(c, start);

  LoadResult result;
  double gen0 = 0;
  std::uint64_t t0 = 0;
  epoll_event events[256];
  auto poll_once = [&](int timeout_ms) {
    const int n = epoll_wait(res.ep, events, 256, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return;
      fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      Conn& c = res.conns[events[i].data.u64];
      if ((events[i].events & EPOLLOUT) && c.want_out) d.send_some(c);
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) d.readable(c);
    }
  };

  for (;;) {
    const std::uint64_t now = now_ns();
    if (!d.measuring && now >= warm_end) {
      window(true);
      gen0 = self_cpu_seconds();
      t0 = now_ns();
      d.measuring = true;
    }
    if (d.measuring && now >= end) {
      const std::uint64_t t1 = now_ns();
      result.generator_cpu_seconds = self_cpu_seconds() - gen0;
      window(false);
      result.seconds = static_cast<double>(t1 - t0) / 1e9;
      d.measuring = false;
      break;
    }
    if (cancelled()) throw std::runtime_error("interrupted");
    if (now - d.last_progress_ns > 5000000000ull)
      throw std::runtime_error("no echo for 5 s: the server stalled");
    const std::uint64_t next = d.measuring ? end : warm_end;
    const std::uint64_t left_ms = next > now ? (next - now) / 1000000 + 1 : 0;
    if (options.busy_poll) {
      // Spin on epoll_wait(0) for up to ~1 ms before looking at the clock and the flags again.
      for (int spin = 0; spin < 64; ++spin) poll_once(0);
    } else {
      poll_once(static_cast<int>(std::min<std::uint64_t>(left_ms, 100)));
    }
  }

  // Let the messages in flight come back (their bytes are checked, not counted), then close.
  d.draining = true;
  const std::uint64_t drain_end = now_ns() + 2000000000ull;
  auto in_flight = [&] {
    return std::any_of(res.conns.begin(), res.conns.end(),
                       [](const Conn& c) { return c.in_flight; });
  };
  while (in_flight() && now_ns() < drain_end && !cancelled()) poll_once(10);
  if (in_flight()) throw std::runtime_error("echoes still missing 2 s after the window closed");

  result.messages = d.messages;
  result.mismatches = d.mismatches;
  result.p50_us = percentile_us(d.latencies, 0.50);
  result.p99_us = percentile_us(d.latencies, 0.99);
  result.max_us =
      d.latencies.empty() ? 0 : *std::max_element(d.latencies.begin(), d.latencies.end()) / 1000.0;
  return result;
}

}  // namespace echo_bench
