// Out of file descriptors: a runtime in a child process with a low RLIMIT_NOFILE keeps serving
// its open connections, closes the ones it cannot take, does not spin, and recovers.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "support/client.hpp"
#include "support/running_runtime.hpp"
#include "support/wait.hpp"

using namespace chronos;
using namespace chronos::test;

namespace {

constexpr rlim_t kChildFdLimit = 64;

// Runs in the child: serve echo until the parent closes `control`; report the port on `report`.
[[noreturn]] void serve_in_child(int report, int control) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = kChildFdLimit;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(3);
  {
    RunningRuntime rt(small_config(1, 256));
    const std::uint16_t port = rt.port();
    if (write(report, &port, sizeof(port)) != sizeof(port)) _exit(4);
    char byte;
    while (read(control, &byte, 1) > 0) {
    }  // EOF: the parent is done
  }
  _exit(0);
}

double cpu_seconds_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // fields 3..13
  double utime = 0, stime = 0;
  fields >> utime >> stime;  // fields 14 and 15, in clock ticks
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

bool echoes(Client& c, const std::string& text) {
  return c.send_all(text, 5s) && c.recv_exact(text.size(), 5s) == text;
}

}  // namespace

TEST_CASE("EMFILE: open connections keep working, extra ones are closed, no spin, recovery",
          "[runtime][emfile]") {
  int report[2], control[2];
  REQUIRE(pipe(report) == 0);
  REQUIRE(pipe(control) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(report[0]);
    close(control[1]);
    serve_in_child(report[1], control[0]);
  }
  close(report[1]);
  close(control[0]);
  std::uint16_t port = 0;
  REQUIRE(read(report[0], &port, sizeof(port)) == sizeof(port));

  // Far more connections than the child has descriptors for.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 120; ++i) clients.push_back(std::make_unique<Client>(port));
  std::vector<Client*> served, shed;
  for (auto& c : clients) (echoes(*c, "hi") ? served : shed).push_back(c.get());
  INFO(served.size() << " served, " << shed.size() << " shed");
  CHECK(served.size() >= 20);                        // the child could take a good number...
  CHECK(!shed.empty());                              // ...but not all of them
  for (Client* c : shed) CHECK(c->wait_closed(5s));  // shed clients see a close, not a hang

  // While at the limit, the child does not spin.
  const double cpu_before = cpu_seconds_of(child);
  std::this_thread::sleep_for(1s);  // the measurement window
  CHECK(cpu_seconds_of(child) - cpu_before < 0.2);

  for (Client* c : served) CHECK(echoes(*c, "still here"));

  // Recovery: free some descriptors and new clients are served again.
  for (std::size_t i = 0; i < 10; ++i) served[i]->close();
  CHECK(wait_until(
      [&] {
        Client fresh(port);
        return echoes(fresh, "back");
      },
      10s));

  clients.clear();
  close(control[1]);  // tells the child to stop
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
