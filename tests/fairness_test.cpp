// Stuck handlers (issue 12): a listener's max_active cap keeps the other pool listeners served
// while its handlers block; connections held back by the cap are served later, in order, with
// nothing lost (also across a reload and at stop); the watchdog names and counts a handler past
// slow_handler_ms, once. In process, over 127.0.0.1, with the Gate plugin: its handlers block
// until the test opens the gate.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "chronos/Runtime.hpp"
#include "support/client.hpp"
#include "support/echo_plugin.hpp"
#include "support/gate_plugin.hpp"
#include "support/reactor_calls.hpp"
#include "support/wait.hpp"

using namespace chronos;
using namespace chronos::test;
using namespace std::chrono_literals;

namespace {

ListenerConfig pool_listener(std::string name, std::string plugin) {
  ListenerConfig l;
  l.name = std::move(name);
  l.address = "127.0.0.1:0";
  l.plugin = std::move(plugin);
  return l;
}

// Two pool listeners: "stuck" (the Gate plugin) and "echo"; `workers` workers.
RuntimeConfig two_listeners(std::size_t workers, std::size_t stuck_max_active = 0) {
  RuntimeConfig c;
  c.workers = workers;
  c.queue_capacity = 1024;
  c.listeners.push_back(pool_listener("stuck", "gate"));
  c.listeners.back().max_active = stuck_max_active;
  c.listeners.push_back(pool_listener("echo", "echo"));
  return c;
}

// A Runtime serving the Gate and echo plugins on its own thread. The gate is opened before the
// runtime stops, so no handler outlives the test.
class Served {
 public:
  explicit Served(RuntimeConfig config, std::shared_ptr<spdlog::logger> log = nullptr) {
    config.logger = std::move(log);
    runtime_ = std::make_unique<Runtime>(std::move(config));
    runtime_->add_plugin("gate", gate_plugin(), gate_config(gate));
    runtime_->add_plugin("echo", echo_plugin(), echo_config(echo));
    calls_.attach(*runtime_);
    runtime_->bind();
    thread_ = std::thread([this] { runtime_->run(); });
  }
  ~Served() {
    gate.open();
    stop();
  }
  void stop() {
    runtime_->stop();
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port(std::string_view listener) { return runtime_->port(listener); }
  RuntimeStats stats() const { return runtime_->stats(); }
  std::vector<PluginSpec> plugins() {
    PluginSpec g;
    g.name = "gate";
    g.plugin = gate_plugin();
    g.config = gate_config(gate);
    PluginSpec e;
    e.name = "echo";
    e.plugin = echo_plugin();
    e.config = echo_config(echo);
    return {g, e};
  }
  void reconfigure(std::vector<ListenerConfig> listeners) {
    calls_.call([this, l = std::move(listeners), p = plugins()]() mutable {
      return runtime_->reconfigure(std::move(l), std::move(p));
    });
  }

  Gate gate;  // declared before runtime_: outlives it
  EchoStats echo;

 private:
  ReactorCalls calls_;
  std::unique_ptr<Runtime> runtime_;
  std::thread thread_;
};

// `n` clients of `port`, each sending "<tag><i>" once the previous one is accepted (so the
// reactor sees them in this order).
std::vector<std::unique_ptr<Client>> send_each(Served& s, std::uint16_t port, int n,
                                               const std::string& tag) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t accepted = s.stats().accepted;
    clients.push_back(std::make_unique<Client>(port));
    REQUIRE(clients.back()->send_all(tag + std::to_string(i)));
    REQUIRE(wait_until([&] { return s.stats().accepted == accepted + 1; }));
  }
  return clients;
}

// Every client gets its own bytes back ("<tag><i>").
void expect_echoes(std::vector<std::unique_ptr<Client>>& clients, const std::string& tag) {
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const std::string want = tag + std::to_string(i);
    CHECK(clients[i]->recv_exact(want.size()) == want);
  }
}

// One echo round trip on `port`, within `limit`.
bool round_trip(std::uint16_t port, std::chrono::milliseconds limit) {
  Client client(port);
  return client.send_all("ping", limit) && client.recv_exact(4, limit) == "ping";
}

}  // namespace

TEST_CASE("one listener's blocked handlers leave the other pool listener served", "[fairness]") {
  // workers 2, max_active automatic: 1 for "stuck". Three of its handlers would block both.
  Served s(two_listeners(2));
  auto stuck = send_each(s, s.port("stuck"), 3, "hang");
  REQUIRE(wait_until([&] { return s.gate.inside() == 1; }));
  for (int i = 0; i < 20; ++i) REQUIRE(round_trip(s.port("echo"), 2s));
  CHECK(s.gate.most_inside() == 1);  // the other two waited for room, never reached a worker
  s.gate.open();
  expect_echoes(stuck, "hang");
  CHECK(s.gate.calls() == std::vector<std::string>{"hang0", "hang1", "hang2"});  // in order
  CHECK(s.gate.most_inside() == 1);
}

TEST_CASE("max_active equal to workers lets one listener starve the others", "[fairness]") {
  // The failure the cap fixes, reproduced: this is what the test above would see without it.
  Served s(two_listeners(2, 2));
  auto stuck = send_each(s, s.port("stuck"), 3, "hang");
  REQUIRE(wait_until([&] { return s.gate.inside() == 2; }));
  Client client(s.port("echo"));  // the kernel still accepts the connection
  REQUIRE(client.send_all("ping"));
  CHECK(client.recv_exact(4, 300ms).empty());  // but no worker is left to answer it
  s.gate.open();
  CHECK(client.recv_exact(4) == "ping");
  expect_echoes(stuck, "hang");
}

TEST_CASE("connections held back by max_active are served once room frees, in order",
          "[fairness]") {
  Served s(two_listeners(4, 1));
  auto first = send_each(s, s.port("stuck"), 1, "a");
  REQUIRE(wait_until([&] { return s.gate.inside() == 1; }));
  auto waiting = send_each(s, s.port("stuck"), 5, "b");
  s.gate.open();
  expect_echoes(first, "a");
  expect_echoes(waiting, "b");
  CHECK(s.gate.calls() == std::vector<std::string>{"a0", "b0", "b1", "b2", "b3", "b4"});
  CHECK(s.gate.most_inside() == 1);
  // Served again on the same connections: their ownership went back as usual.
  for (auto& c : waiting) REQUIRE(c->send_all("x"));
  for (auto& c : waiting) CHECK(c->recv_exact(1) == "x");
}

TEST_CASE("a reload that raises max_active admits the waiting connections at once", "[fairness]") {
  Served s(two_listeners(4, 1));
  auto clients = send_each(s, s.port("stuck"), 3, "c");
  REQUIRE(wait_until([&] { return s.gate.inside() == 1; }));
  RuntimeConfig next = two_listeners(4, 3);
  s.reconfigure(next.listeners);  // same names and plugins: sockets and instances kept
  CHECK(wait_until([&] { return s.gate.inside() == 3; }));
  s.gate.open();
  expect_echoes(clients, "c");
  // And lowered again: the new cap holds.
  s.reconfigure(two_listeners(4, 1).listeners);
  CHECK(round_trip(s.port("stuck"), 5s));
}

TEST_CASE("a stop closes the connections waiting for room", "[fairness]") {
  Served s(two_listeners(2, 1));
  auto clients = send_each(s, s.port("stuck"), 4, "d");
  REQUIRE(wait_until([&] { return s.gate.inside() == 1; }));
  std::thread stopper([&] { s.stop(); });
  s.gate.open();  // the one running handler returns; the waiting ones are closed
  stopper.join();
  CHECK(s.stats().open == 0);
  for (auto& c : clients) CHECK(c->wait_closed());
}

TEST_CASE("the watchdog names a handler past slow_handler_ms once and counts it",
          "[fairness][watchdog]") {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  RuntimeConfig config = two_listeners(2);
  config.slow_handler_ms = 100;
  Served s(config, std::make_shared<spdlog::logger>("watchdog", sink));
  // Fast handlers first: not one of them is reported.
  for (int i = 0; i < 50; ++i) REQUIRE(round_trip(s.port("echo"), 2s));
  auto stuck = send_each(s, s.port("stuck"), 1, "slow");
  REQUIRE(wait_until([&] { return s.stats().slow_handlers == 1; }));
  // The line is written after the count; then, three thresholds later, still one report.
  auto slow_lines = [&] {
    std::vector<std::string> lines;
    for (const std::string& line : sink->last_formatted())
      if (line.find("slow handler") != std::string::npos) lines.push_back(line);
    return lines;
  };
  REQUIRE(wait_until([&] { return !slow_lines().empty(); }));
  const auto reported_at = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - reported_at < 300ms)
    REQUIRE(round_trip(s.port("echo"), 2s));
  CHECK(s.stats().slow_handlers == 1);
  const std::vector<std::string> lines = slow_lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("slow handler: listener stuck, plugin gate, connection 0x") !=
        std::string::npos);
  s.gate.open();
  expect_echoes(stuck, "slow");
  CHECK(s.stats().slow_handlers == 1);
}

TEST_CASE("slow_handler_ms 0 turns the watchdog off", "[fairness][watchdog]") {
  RuntimeConfig config = two_listeners(2);
  config.slow_handler_ms = 0;
  Served s(config);
  auto stuck = send_each(s, s.port("stuck"), 1, "slow");
  REQUIRE(wait_until([&] { return s.gate.inside() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 200ms) REQUIRE(round_trip(s.port("echo"), 2s));
  CHECK(s.stats().slow_handlers == 0);
}
