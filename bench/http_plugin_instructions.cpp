// Drives a built http.so through the tests' fake host (no sockets, no threads) so that
// `valgrind --tool=callgrind` can count the instructions the plugin spends per request: the
// same count every run, unlike a timed benchmark on a shared machine.
//
//   http_plugin_instructions PLUGIN.so REQUESTS DEPTH [REQUEST]
//
// Feeds REQUESTS copies of REQUEST (default: wrk's GET; "\r\n" may be written as the four
// characters \r\n) in writes of DEPTH pipelined requests. Run it twice, with N and 2N requests,
// under callgrind: the difference of the two totals / N is the cost of one request (fake host
// included, the same for any two plugins compared). bench/README.md has the commands.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/fake_plugin_host.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s PLUGIN.so REQUESTS DEPTH [REQUEST]\n", argv[0]);
    return 2;
  }
  void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  const auto entry =
      reinterpret_cast<chronos_plugin_entry_fn>(dlsym(handle, CHRONOS_PLUGIN_ENTRY_NAME));
  const int requests = std::atoi(argv[2]);
  const int depth = std::max(1, std::atoi(argv[3]));
  std::string request = argc > 4 ? argv[4] : "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
  for (std::size_t i; (i = request.find("\\r\\n")) != std::string::npos;)
    request.replace(i, 4, "\r\n");
  std::string batch;
  for (int i = 0; i < depth; ++i) batch += request;

  std::size_t answered = 0;
  {
    chronos::test::FakeHost host(entry(CHRONOS_ABI_MAJOR, CHRONOS_ABI_MINOR));
    chronos::test::FakeConnection conn(host);
    for (int i = 0; i < requests / depth; ++i) {
      conn.receive(batch);
      answered += conn.take_output().size();
    }
  }
  std::printf("%d requests, %zu bytes answered\n", requests / depth * depth, answered);
  dlclose(handle);
  return 0;
}
