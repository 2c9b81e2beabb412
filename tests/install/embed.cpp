// The README's "Embedding" example, built against an installed prefix (tests/install_test.sh):
// the README's lines, plus an echo plugin for `my_descriptor` and a client that checks it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chronos/Runtime.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

const chronos_host_api* api = nullptr;

int init(chronos_host*, const chronos_host_api* host_api, const char*, size_t, void** instance,
         char*, size_t) {
  api = host_api;
  *instance = nullptr;
  return 0;
}
void shutdown(void*) {}
int64_t on_data(void*, chronos_conn* conn, void*, const uint8_t* data, size_t len) {
  api->send(conn, data, len);
  return static_cast<int64_t>(len);
}
const chronos_plugin echo = {CHRONOS_ABI_MAJOR,
                             CHRONOS_ABI_MINOR,
                             sizeof(chronos_plugin),
                             "echo",
                             "1.0",
                             init,
                             shutdown,
                             nullptr,
                             on_data,
                             nullptr};
const chronos_plugin* my_descriptor = &echo;

// Sends `text` to 127.0.0.1:port and reads as many bytes back.
std::string roundtrip(std::uint16_t port, const std::string& text) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string back;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      send(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size())) {
    char buf[256];
    while (back.size() < text.size()) {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      back.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return back;
}

}  // namespace

int main() {
  // --- as in the README (port 0 here: any free port) ---
  chronos::RuntimeConfig config;
  config.workers = 4;
  config.listeners.push_back({.name = "echo", .address = "127.0.0.1:0", .plugin = "echo"});
  chronos::Runtime runtime(config);
  runtime.add_plugin("echo", my_descriptor, "{}");  // any chronos_plugin, in-process
  runtime.bind();
  std::thread server([&] { runtime.run(); });
  // ---
  const std::string back = roundtrip(runtime.port("echo"), "embedded\n");
  runtime.stop();  // from any thread
  server.join();
  std::printf("%s", back.c_str());
  return back == "embedded\n" ? 0 : 1;
}
