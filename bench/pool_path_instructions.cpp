// Drives a chronos::Runtime's pool path over loopback so that `valgrind --tool=callgrind` can
// count the instructions one echo round trip costs (every thread: client, reactor, workers):
// a count that a shared machine's noise moves far less than a timed benchmark.
//
//   pool_path_instructions ROUND_TRIPS LISTENERS
//
// One client connection sends 64 bytes and waits for their echo, ROUND_TRIPS times, to the
// first of LISTENERS pool listeners (2 workers; with 2 or more, max_active's automatic cap of
// workers - 1 is on). Run it with N and 2N round trips under callgrind: the difference of the
// two totals / N is the cost of one round trip. Uses only the public API, so the same file
// builds against any version of the runtime. bench/README.md has the commands.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "chronos/Runtime.hpp"
#include "chronos/plugin.h"

namespace {

const chronos_host_api* g_api = nullptr;

const chronos_plugin* echo() {
  static const chronos_plugin plugin = {
      CHRONOS_ABI_MAJOR,
      CHRONOS_ABI_MINOR,
      sizeof(chronos_plugin),
      "echo",
      "1.0",
      [](chronos_host*, const chronos_host_api* api, const char*, size_t, void** instance, char*,
         size_t) -> int {
        g_api = api;
        *instance = nullptr;
        return 0;
      },
      [](void*) {},
      nullptr,
      [](void*, chronos_conn* conn, void*, const uint8_t* data, size_t len) -> int64_t {
        g_api->send(conn, data, len);
        return static_cast<int64_t>(len);
      },
      nullptr};
  return &plugin;
}

bool round_trips(std::uint16_t port, int count) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  char out[64], in[64];
  std::memset(out, 'x', sizeof(out));
  bool ok = true;
  for (int i = 0; i < count && ok; ++i) {
    ok = ::send(fd, out, sizeof(out), MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(out));
    for (std::size_t got = 0; ok && got < sizeof(in);) {
      const ssize_t n = ::recv(fd, in + got, sizeof(in) - got, 0);
      ok = n > 0;
      if (ok) got += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ROUND_TRIPS LISTENERS\n", argv[0]);
    return 2;
  }
  const int count = std::atoi(argv[1]);
  const int listeners = std::max(1, std::atoi(argv[2]));
  spdlog::set_level(spdlog::level::warn);
  chronos::RuntimeConfig config;
  config.workers = 2;
  config.queue_capacity = 1024;
  for (int i = 0; i < listeners; ++i) {
    chronos::ListenerConfig l;
    l.name = "echo" + std::to_string(i);
    l.address = "127.0.0.1:0";
    l.plugin = "echo";
    config.listeners.push_back(l);
  }
  chronos::Runtime runtime(config);
  runtime.add_plugin("echo", echo());
  runtime.bind();
  std::thread reactor([&] { runtime.run(); });
  const bool ok = round_trips(runtime.port("echo0"), count);
  runtime.stop();
  reactor.join();
  std::printf("%d round trips %s\n", count, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
