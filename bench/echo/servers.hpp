// The echo servers that echo_bench measures. Each runs in its own child process
// (`echo_bench --serve=KIND --port-file F`), pinned by the parent to one CPU.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace echo_bench {

struct ServeOptions {
  std::string kind;         // one of server_kinds()
  std::string port_file;    // the bound port is written here ("PORT THREADS\n"), atomically
  std::size_t workers = 0;  // chronos-pool: worker threads, 0 = Chronos's default (one per CPU)
};

// Every server kind, in the default run order.
const std::vector<std::string>& server_kinds();
bool is_server_kind(std::string_view kind);

// Binds 127.0.0.1:0, writes the port file, serves until SIGTERM. Returns the exit status.
int serve(const ServeOptions& options);

}  // namespace echo_bench
