// Several reactors (issue 13): connections spread over every event loop, limits that belong to
// the listener and not to a reactor, a drain and a stop with connections on every reactor, and
// threads placed by cpu_affinity. The other runtime tests run once more with three reactors
// (tests/CMakeLists.txt), so reload, EMFILE and the rest are covered there.
#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "reactor/Scheduler.hpp"
#include "support/client.hpp"
#include "support/running_runtime.hpp"
#include "support/runtime_test_hooks.hpp"
#include "support/wait.hpp"

using namespace chronos;
using namespace chronos::test;
using namespace std::chrono_literals;

namespace {

RuntimeConfig with_reactors(std::size_t reactors, Execution execution = Execution::pool) {
  RuntimeConfig config = small_config(2);
  config.reactors = reactors;
  config.listeners[0].execution = execution;
  return config;
}

bool echoes(Client& c, const std::string& text) {
  return c.send_all(text) && c.recv_exact(text.size()) == text;
}

std::vector<std::uint32_t> loads(RunningRuntime& rt) {
  return RuntimeTestHooks::scheduler(rt.runtime()).test_reactor_loads();
}

}  // namespace

TEST_CASE("reactors: connections spread evenly over every reactor, pool and inline", "[reactors]") {
  const Execution execution = GENERATE(Execution::pool, Execution::inline_);
  RunningRuntime rt(with_reactors(3, execution));
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(std::make_unique<Client>(rt.port()));
    REQUIRE(echoes(*clients.back(), "hello " + std::to_string(i)));
  }
  REQUIRE(wait_until([&] { return rt.stats().open == 30; }));
  const auto per_reactor = loads(rt);
  REQUIRE(per_reactor.size() == 3);
  CHECK(std::accumulate(per_reactor.begin(), per_reactor.end(), 0u) == 30);
  // Balanced at accept: no reactor holds two more than another (plus the one in flight).
  const auto [least, most] = std::minmax_element(per_reactor.begin(), per_reactor.end());
  CHECK(*most - *least <= 3);
  for (auto& c : clients) CHECK(echoes(*c, "again"));
}

TEST_CASE("reactors: max_connections is the listener's, whichever reactor accepts", "[reactors]") {
  RuntimeConfig config = with_reactors(3);
  config.listeners[0].max_connections = 7;
  RunningRuntime rt(config);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(std::make_unique<Client>(rt.port()));
  // Every client either gets its echo or sees a close; exactly seven get the echo.
  REQUIRE(wait_until([&] { return rt.stats().accepted + rt.stats().refused == 20; }));
  CHECK(rt.stats().accepted == 7);
  CHECK(rt.stats().refused == 13);
  int served = 0;
  for (auto& c : clients) {
    if (c->send_all("x") && c->recv_some(1, 2s) == "x") ++served;
  }
  CHECK(served == 7);
}

TEST_CASE("reactors: a drain lets connections on every reactor finish, then run returns",
          "[reactors]") {
  RunningRuntime rt(with_reactors(3));
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<Client>(rt.port()));
    REQUIRE(echoes(*clients.back(), "before"));
  }
  const auto per_reactor = loads(rt);
  REQUIRE(std::count(per_reactor.begin(), per_reactor.end(), 0u) == 0);  // all three hold some
  const std::uint16_t port = rt.port();
  rt.runtime().drain();
  // Nothing new is accepted, but every open connection is still served.
  REQUIRE(wait_until([&] {
    Client probe(port);
    return !probe.connected() || probe.wait_closed(100ms);
  }));
  for (auto& c : clients) CHECK(echoes(*c, "during the drain"));
  CHECK(rt.stats().open == 12);
  for (auto& c : clients) c->close();
  REQUIRE(wait_until([&] { return rt.stats().open == 0; }));
  rt.stop();  // joins the run() thread: it returned by itself
  CHECK(rt.stats().closed == 12);
}

TEST_CASE("reactors: a stop closes connections on every reactor and joins every thread",
          "[reactors]") {
  auto rt = std::make_unique<RunningRuntime>(with_reactors(4, Execution::inline_));
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<Client>(rt->port()));
    REQUIRE(echoes(*clients.back(), "x"));
  }
  rt->stop();
  CHECK(rt->stats().open == 0);
  for (auto& c : clients) CHECK(c->wait_closed(5s));
}

// The CPUs a thread of this process may run on, as /proc lists them ("0", "0-1").
std::vector<std::string> thread_cpu_lists() {
  std::vector<std::string> lists;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream status(task.path() / "status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Cpus_allowed_list:", 0) == 0)
        lists.push_back(line.substr(line.find('\t') + 1));
  }
  return lists;
}

TEST_CASE("reactors: cpu_affinity pins the reactors and the workers", "[reactors]") {
  cpu_set_t mine;
  REQUIRE(sched_getaffinity(0, sizeof(mine), &mine) == 0);
  int cpu = 0;
  while (!CPU_ISSET(cpu, &mine)) ++cpu;  // one we may use
  const auto before = thread_cpu_lists();
  const auto pinned_before = std::count(before.begin(), before.end(), std::to_string(cpu));
  RuntimeConfig config = with_reactors(2);
  config.cpu_affinity = {cpu};
  RunningRuntime rt(config);
  Client c(rt.port());
  REQUIRE(echoes(c, "pinned"));
  // Two reactors (one on the run() thread) and two workers.
  const auto after = thread_cpu_lists();
  CHECK(std::count(after.begin(), after.end(), std::to_string(cpu)) - pinned_before == 4);
}
