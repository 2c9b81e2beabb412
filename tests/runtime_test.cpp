// The engine end to end: chronos::Runtime with the in-process echo plugin, over loopback.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "support/client.hpp"
#include "support/running_runtime.hpp"
#include "support/runtime_test_hooks.hpp"
#include "support/wait.hpp"

using namespace chronos;
using namespace chronos::test;

namespace {

std::size_t count_entries(const char* dir) {
  std::size_t n = 0;
  if (DIR* d = opendir(dir)) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n;
}

// The names in `dir` (for /proc/self/task: the ids of this process's threads).
std::set<std::string> entry_names(const char* dir) {
  std::set<std::string> names;
  if (DIR* d = opendir(dir)) {
    while (const dirent* e = readdir(d)) names.insert(e->d_name);
    closedir(d);
  }
  return names;
}

// Echo `message` on a fresh connection, reading concurrently so large messages cannot deadlock.
bool echo_round_trip(std::uint16_t port, const std::string& message, bool ipv6 = false) {
  Client c(port, ipv6);
  if (!c.connected()) return false;
  bool sent = false;
  std::thread writer([&] { sent = c.send_all(message, 30s); });
  const std::string back = c.recv_exact(message.size(), 30s);
  writer.join();
  return sent && back == message;
}

}  // namespace

TEST_CASE("echo: every size from 1 byte to 4 MiB comes back intact", "[runtime]") {
  RunningRuntime rt(small_config());
  for (std::size_t size : {1ul, 2ul, 63ul, 64ul, 1000ul, 4096ul, 65535ul, 65536ul, 65537ul,
                           1ul << 20, (1ul << 20) + 1, 4ul << 20}) {
    INFO("size " << size);
    CHECK(echo_round_trip(rt.port(), pattern(size, static_cast<std::uint32_t>(size))));
  }
}

TEST_CASE("echo: 1,000 connections x 100 messages, every byte verified", "[runtime][stress]") {
  constexpr int kConnections = 1000, kMessages = 100, kThreads = 4;
  RunningRuntime rt(small_config(2, 4096));
  std::atomic<int> bad{0}, done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<Client>> clients;
      for (int i = t; i < kConnections; i += kThreads)
        clients.push_back(std::make_unique<Client>(rt.port()));
      for (auto& c : clients)
        if (!c->connected()) bad++;
      for (int m = 0; m < kMessages && bad == 0; ++m) {
        // One message on every connection, then every reply: all connections busy at once.
        std::vector<std::string> sent;
        for (std::size_t i = 0; i < clients.size(); ++i) {
          sent.push_back(
              pattern(1 + (m * 37 + i * 11) % 300, static_cast<std::uint32_t>(i * kMessages + m)));
          if (!clients[i]->send_all(sent.back())) bad++;
        }
        for (std::size_t i = 0; i < clients.size(); ++i)
          if (clients[i]->recv_exact(sent[i].size()) != sent[i]) bad++;
      }
      done++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad == 0);
  CHECK(rt.echo.overlaps == 0);  // no connection was ever served by two workers at once
  CHECK(wait_until([&] { return rt.stats().accepted == kConnections; }));
}

TEST_CASE("no two workers ever serve one connection at once", "[runtime]") {
  RunningRuntime rt(small_config(4, 1024));
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client c(rt.port());
      // Many small writes without waiting: events pile up while the connection is being served.
      std::string all;
      for (int i = 0; i < 2000; ++i) {
        const std::string piece = pattern(1 + i % 50, static_cast<std::uint32_t>(t * 10000 + i));
        all += piece;
        if (!c.send_all(piece)) bad++;
      }
      if (c.recv_exact(all.size()) != all) bad++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad == 0);
  CHECK(rt.echo.overlaps == 0);
}

TEST_CASE("slow reader: the server stops reading instead of buffering without bound", "[runtime]") {
  RuntimeConfig config = small_config();
  config.listeners[0].max_buffer_bytes = 64 * 1024;
  RunningRuntime rt(config);
  Client c(rt.port());
  // Write without reading until the connection pushes back (a short send deadline).
  const std::string chunk = pattern(64 * 1024, 1);
  std::size_t written = 0;
  while (written < (256u << 20) && c.send_all(chunk, 500ms)) written += chunk.size();
  const std::uint64_t taken = rt.echo.bytes.load();
  INFO("client wrote " << written << " bytes; plugin took " << taken);
  CHECK(written < (256u << 20));  // it did push back
  // What the plugin took is bounded by socket buffers plus max_buffer_bytes, not by `written`.
  CHECK(taken < 32u << 20);
  // Now read: everything written so far comes back, in order.
  std::string expected;
  for (std::size_t i = 0; i < written / chunk.size(); ++i) expected += chunk;
  CHECK(c.recv_exact(expected.size(), 30s) == expected);
}

TEST_CASE("an input message larger than max_buffer_bytes closes the connection", "[runtime]") {
  // A plugin that never consumes: it waits for a whole message that never fits.
  static const chronos_plugin hoarder = {
      CHRONOS_ABI_MAJOR,
      CHRONOS_ABI_MINOR,
      sizeof(chronos_plugin),
      "hoarder",
      "1",
      [](chronos_host*, const chronos_host_api*, const char*, size_t, void** instance, char*,
         size_t) -> int {
        *instance = nullptr;
        return 0;
      },
      [](void*) {},
      nullptr,
      [](void*, chronos_conn*, void*, const uint8_t*, size_t) -> int64_t { return 0; },
      nullptr};
  RuntimeConfig config = small_config();
  config.listeners[0].plugin = "hoarder";
  config.listeners[0].max_buffer_bytes = 4096;
  Runtime runtime(config);
  runtime.add_plugin("hoarder", &hoarder);
  runtime.bind();
  std::thread t([&] { runtime.run(); });
  Client c(runtime.port("echo"));
  c.send_all(pattern(5000, 3));
  CHECK(c.wait_closed());
  CHECK(wait_until([&] { return runtime.stats().oversized_closed == 1; }));
  runtime.stop();
  t.join();
}

TEST_CASE("max_connections: the next client sees a close, the others keep working", "[runtime]") {
  RuntimeConfig config = small_config();
  config.listeners[0].max_connections = 2;
  RunningRuntime rt(config);
  Client a(rt.port()), b(rt.port());
  REQUIRE(a.send_all("a"));
  REQUIRE(a.recv_exact(1) == "a");
  REQUIRE(b.send_all("b"));
  REQUIRE(b.recv_exact(1) == "b");
  Client extra(rt.port());
  CHECK(extra.wait_closed(5s));
  CHECK(wait_until([&] { return rt.stats().refused == 1; }));
  CHECK(a.send_all("still"));
  CHECK(a.recv_exact(5) == "still");
  // Once one closes, a new client is served again.
  b.close();
  REQUIRE(wait_until([&] { return rt.stats().open == 1; }));
  Client later(rt.port());
  CHECK(later.send_all("x"));
  CHECK(later.recv_exact(1) == "x");
}

TEST_CASE("idle_timeout_ms closes idle connections and spares busy ones", "[runtime]") {
  RuntimeConfig config = small_config();
  config.listeners[0].idle_timeout_ms = 300;
  RunningRuntime rt(config);
  Client idle(rt.port()), busy(rt.port());
  const auto start = std::chrono::steady_clock::now();
  // The busy client talks every 50 ms for about a second: never idle for 300 ms.
  bool busy_ok = true;
  while (std::chrono::steady_clock::now() - start < 1000ms) {
    busy_ok = busy_ok && busy.send_all("ping") && busy.recv_exact(4) == "ping";
    std::this_thread::sleep_for(50ms);  // the client's pacing, not a wait for the server
  }
  CHECK(busy_ok);
  CHECK(idle.wait_closed(5s));
  CHECK(rt.stats().idle_closed >= 1);
  CHECK(busy.send_all("pong"));
  CHECK(busy.recv_exact(4) == "pong");
  CHECK(busy.wait_closed(5s));  // and once it is quiet, it goes too
}

TEST_CASE("queue full (capacity 2, one slow worker): 200 connections all answered",
          "[runtime][stress]") {
  RunningRuntime rt(small_config(1, 2));
  rt.echo.delay = std::chrono::microseconds(200);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 200; ++i) clients.push_back(std::make_unique<Client>(rt.port()));
  std::vector<std::string> sent;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    sent.push_back(pattern(100 + i, static_cast<std::uint32_t>(i)));
    REQUIRE(clients[i]->send_all(sent.back()));
  }
  int bad = 0;
  for (std::size_t i = 0; i < clients.size(); ++i)
    bad += clients[i]->recv_exact(sent[i].size(), 30s) != sent[i];
  CHECK(bad == 0);
  CHECK(rt.stats().queue_full > 0);  // the test really hit backpressure
  CHECK(rt.stats().accepted == 200);
}

TEST_CASE("the reactor feeds the very queue the worker pool drains", "[runtime]") {
  RunningRuntime rt(small_config(2, 64));
  REQUIRE(echo_round_trip(rt.port(), "x"));
  Scheduler& scheduler = RuntimeTestHooks::scheduler(rt.runtime());
  REQUIRE(wait_until([&] { return scheduler.test_pool() != nullptr; }));
  CHECK(&scheduler.test_pool()->queue() == &scheduler.test_queue());
  // Every job the reactor submitted was completed by that pool.
  CHECK(wait_until(
      [&] { return scheduler.test_pool()->completed_jobs() == rt.stats().jobs_submitted; }));
}

TEST_CASE("a stale job for a closed connection is dropped, not given to the slot's new owner",
          "[runtime]") {
  RuntimeConfig config = small_config(1, 64);
  config.reactors = 1;  // one connection table, so the second connection reuses the slot
  RunningRuntime rt(config);
  std::uint64_t old_id;
  {
    Client a(rt.port());
    REQUIRE(a.send_all("a"));
    REQUIRE(a.recv_exact(1) == "a");
    old_id = rt.echo.last_conn_id.load();
  }
  REQUIRE(wait_until([&] { return rt.stats().closed == 1; }));
  Client b(rt.port());
  REQUIRE(b.send_all("b"));
  REQUIRE(b.recv_exact(1) == "b");
  const std::uint64_t new_id = rt.echo.last_conn_id.load();
  REQUIRE((new_id & 0xffffffff) == (old_id & 0xffffffff));  // same slot reused...
  REQUIRE(new_id != old_id);                                // ...under a new generation
  const auto calls = rt.echo.calls.load();
  REQUIRE(RuntimeTestHooks::scheduler(rt.runtime()).test_submit_job(old_id));
  CHECK(wait_until([&] { return rt.stats().stale_jobs == 1; }));
  CHECK(rt.echo.calls == calls);  // b's plugin was not run by the stale job
  CHECK(b.send_all("still b"));
  CHECK(b.recv_exact(7) == "still b");
}

TEST_CASE("inline mode serves on the reactor thread", "[runtime]") {
  RuntimeConfig config = small_config();
  config.listeners[0].execution = Execution::inline_;
  RunningRuntime rt(config);
  CHECK(echo_round_trip(rt.port(), pattern(100000, 9)));
  // With several reactors it is whichever accepted the connection; no worker either way.
  if (test_reactors() == 1) CHECK(rt.echo.last_thread.load() == rt.reactor_thread.load());
  CHECK(rt.stats().jobs_submitted == 0);
}

TEST_CASE("an inline listener keeps answering while every pool worker is blocked", "[runtime]") {
  // As many workers as CPUs, so the reactor shares a CPU with them and coalesces: it defers
  // epoll_wait while every worker is busy, but only for a bounded time.
  RuntimeConfig config = small_config(WorkerPool::cpu_count());
  config.listeners[0].name = "blocking";
  config.listeners[0].plugin = "other-echo";
  config.listeners.push_back(echo_listener("inline"));
  config.listeners[1].execution = Execution::inline_;
  RunningRuntime rt(config);
  rt.other_echo.delay = 2s;  // each on_data call blocks its worker this long
  std::vector<std::unique_ptr<Client>> blocked;
  for (std::size_t i = 0; i < WorkerPool::cpu_count(); ++i) {
    blocked.push_back(std::make_unique<Client>(rt.port("blocking")));
    REQUIRE(blocked.back()->send_all("z"));
  }
  REQUIRE(wait_until([&] { return rt.other_echo.calls.load() == blocked.size(); }));

  Client client(rt.port("inline"));
  for (int i = 0; i < 100; ++i) {
    const std::string message = pattern(64, static_cast<std::uint32_t>(i));
    REQUIRE(client.send_all(message));
    REQUIRE(client.recv_exact(message.size()) == message);
  }
  CHECK(rt.other_echo.bytes.load() == 0);  // all of that while every worker was still blocked
  for (auto& c : blocked) CHECK(c->recv_exact(1, 10s) == "z");
}

TEST_CASE("IPv6 listeners work", "[runtime]") {
  RuntimeConfig config = small_config();
  config.listeners[0].address = "[::1]:0";
  RunningRuntime rt(config);
  CHECK(echo_round_trip(rt.port(), "over v6", true));
}

TEST_CASE("a reset or hung-up connection is closed once", "[runtime]") {
  RunningRuntime rt(small_config());
  for (int i = 0; i < 20; ++i) {
    Client c(rt.port());
    REQUIRE(c.send_all("x"));
    REQUIRE(c.recv_exact(1) == "x");
    if (i % 2)
      c.reset();
    else
      c.close();
  }
  // The runtime counts a close just after the plugin's on_close returns: wait for both.
  CHECK(wait_until([&] { return rt.echo.closed == 20 && rt.stats().closed == 20; }));
  CHECK(rt.echo.opened == 20);
  CHECK(rt.echo.closed == 20);  // once each, not more
  CHECK(rt.stats().closed == 20);
}

TEST_CASE("two runtimes in one process serve independently", "[runtime]") {
  RunningRuntime one(small_config()), two(small_config());
  CHECK(echo_round_trip(one.port(), "one"));
  CHECK(echo_round_trip(two.port(), "two"));
  CHECK(one.echo.opened == 1);
  CHECK(two.echo.opened == 1);
}

TEST_CASE("a clean stop closes every socket and joins every thread", "[runtime]") {
  const std::size_t fds_before = count_entries("/proc/self/fd");
  // ThreadSanitizer starts a thread of its own at the first pthread_create: make that happen
  // before the baseline, so that only the runtime's threads count as new.
  std::thread([] {}).join();
  const std::set<std::string> threads_before = entry_names("/proc/self/task");
  std::set<std::string> runtime_threads;  // the threads that appeared while it ran
  {
    RunningRuntime rt(small_config(3));
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 10; ++i) {
      clients.push_back(std::make_unique<Client>(rt.port()));
      REQUIRE(clients.back()->send_all("hi"));
      REQUIRE(clients.back()->recv_exact(2) == "hi");
    }
    for (const auto& id : entry_names("/proc/self/task"))
      if (!threads_before.contains(id)) runtime_threads.insert(id);
    CHECK(runtime_threads.size() >= 3);  // the workers, at least
    rt.stop();                           // with ten connections open
    for (auto& c : clients) CHECK(c->wait_closed(5s));
    CHECK(rt.echo.closed == 10);
  }
  CHECK(count_entries("/proc/self/fd") == fds_before);
  // A joined thread leaves /proc/self/task a moment after join() returns, so wait; and compare
  // thread ids, not counts: a thread an earlier test joined may leave during this one.
  CHECK(wait_until([&] {
    const auto now = entry_names("/proc/self/task");
    return std::none_of(runtime_threads.begin(), runtime_threads.end(),
                        [&](const std::string& id) { return now.contains(id); });
  }));
}

TEST_CASE("stop names the handlers still running after shutdown_timeout_ms", "[runtime]") {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  RuntimeConfig config = small_config();
  config.shutdown_timeout_ms = 200;
  config.logger = std::make_shared<spdlog::logger>("stuck-stop", sink);
  config.listeners[0].name = "slow";
  config.listeners[0].plugin = "other-echo";
  std::atomic<std::size_t> reported{0};
  std::atomic<bool> stop_done{false};
  config.on_stuck_stop = [&](std::size_t busy) {
    CHECK_FALSE(stop_done.load());  // called while stop is still waiting for the handler
    reported = busy;
  };
  RunningRuntime rt(config);
  rt.other_echo.delay = 1500ms;  // longer than shutdown_timeout_ms, short enough to join
  Client client(rt.port("slow"));
  REQUIRE(client.send_all("z"));
  REQUIRE(wait_until([&] { return rt.other_echo.calls.load() == 1; }));
  rt.stop();
  stop_done = true;
  CHECK(reported.load() == 1);
  bool named = false;
  for (const std::string& line : sink->last_formatted())
    named = named || line.find("still busy: listener slow, plugin other-echo") != std::string::npos;
  CHECK(named);
}

TEST_CASE("a stop whose handlers return in time reports nothing stuck", "[runtime]") {
  RuntimeConfig config = small_config();
  std::atomic<bool> reported{false};
  config.on_stuck_stop = [&](std::size_t) { reported = true; };
  {
    RunningRuntime rt(config);
    Client client(rt.port());
    REQUIRE(client.send_all("hi"));
    REQUIRE(client.recv_exact(2) == "hi");
  }
  CHECK_FALSE(reported.load());
}

TEST_CASE("stop before run makes run return at once", "[runtime]") {
  Runtime runtime(small_config());
  EchoStats stats;
  runtime.add_plugin("echo", echo_plugin(), echo_config(stats));
  runtime.stop();
  runtime.run();  // returns: stop was asked first
  CHECK(runtime.stats().accepted == 0);
}

TEST_CASE("a port in use is an error that names the address", "[runtime]") {
  RunningRuntime holder(small_config());
  RuntimeConfig clash = small_config();
  clash.listeners[0].address = "127.0.0.1:" + std::to_string(holder.port());
  Runtime runtime(clash);
  EchoStats stats;
  runtime.add_plugin("echo", echo_plugin(), echo_config(stats));
  CHECK_THROWS_WITH(runtime.bind(), Catch::Contains(clash.listeners[0].address) &&
                                        Catch::Contains("Address already in use"));
}

TEST_CASE("a listener naming a missing plugin is an error", "[runtime]") {
  RuntimeConfig config = small_config();
  config.listeners[0].plugin = "nope";
  Runtime runtime(config);
  CHECK_THROWS_WITH(runtime.bind(), Catch::Contains("no plugin named nope"));
}
