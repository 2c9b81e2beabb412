// Runtime::reconfigure through the library API: an embedded chronos::Runtime serving the test
// echo plugin, reconfigured on its reactor thread (where the API wants it called) while
// connections are open. Listeners added, removed, kept, renamed; plugins swapped; port-0
// listeners; and failures that must leave the running set serving as it was.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/client.hpp"
#include "support/client_load.hpp"
#include "support/ports.hpp"
#include "support/running_runtime.hpp"
#include "support/wait.hpp"

using namespace chronos;
using namespace chronos::test;

namespace {

bool echoes(Client& c, const std::string& text = "ping") {
  return c.send_all(text) && c.recv_exact(text.size()) == text;
}
bool echoes_on(std::uint16_t port, const std::string& text = "ping") {
  Client c(port);
  return c.connected() && echoes(c, text);
}

RuntimeConfig with_listeners(std::vector<ListenerConfig> listeners) {
  RuntimeConfig config = small_config();
  config.listeners = std::move(listeners);
  return config;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// An echo descriptor whose init always fails, as a plugin refusing its config does.
const chronos_plugin* failing_plugin() {
  static chronos_plugin plugin = [] {
    chronos_plugin p = *echo_plugin();
    p.init = [](chronos_host*, const chronos_host_api*, const char*, size_t, void**, char* error,
                size_t error_size) -> int {
      std::snprintf(error, error_size, "refused on purpose");
      return -1;
    };
    return p;
  }();
  return &plugin;
}

// An echo descriptor whose init waits until the test releases it: a plugin slow to start.
std::atomic<int> g_inits_waiting{0};
std::atomic<bool> g_release_inits{false};
const chronos_plugin* slow_init_plugin() {
  static chronos_plugin plugin = [] {
    chronos_plugin p = *echo_plugin();
    p.init = [](chronos_host* host, const chronos_host_api* api, const char* config, size_t len,
                void** instance, char* error, size_t error_size) -> int {
      g_inits_waiting.fetch_add(1);
      wait_until([] { return g_release_inits.load(); }, std::chrono::seconds(30));
      return echo_plugin()->init(host, api, config, len, instance, error, error_size);
    };
    return p;
  }();
  return &plugin;
}

}  // namespace

TEST_CASE("prepare_reconfigure runs a slow init off the reactor; commit swaps it in",
          "[reconfigure]") {
  EchoStats fresh;  // outlives the runtime, which serves with it
  RunningRuntime rt(small_config());
  const std::uint16_t port = rt.port("echo");
  Client open(port);
  REQUIRE(echoes(open, "before"));
  std::vector<PluginSpec> plugins = rt.plugins();
  plugins[0] = {"echo", slow_init_plugin(), echo_config(fresh), {}};

  std::optional<ReconfigurePlan> plan;
  std::thread preparer(
      [&] { plan = rt.runtime().prepare_reconfigure({echo_listener("echo")}, plugins); });
  REQUIRE(wait_until([] { return g_inits_waiting.load() == 1; }));
  for (int i = 0; i < 50; ++i) REQUIRE(echoes(open, "while init waits"));  // the reactor serves
  CHECK(echoes_on(port, "a new connection while init waits"));
  g_release_inits = true;
  preparer.join();
  REQUIRE(plan.has_value());
  CHECK(fresh.opened == 0);  // prepared, not yet live

  auto committed = std::make_shared<std::promise<ReconfigureReport>>();
  std::future<ReconfigureReport> report_future = committed->get_future();
  rt.runtime().post(
      [&, committed] { committed->set_value(rt.runtime().commit_reconfigure(std::move(*plan))); });
  REQUIRE(report_future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  const ReconfigureReport report = report_future.get();
  CHECK(has(report.started, "echo"));
  CHECK(has(report.retired, "echo"));
  CHECK(has(report.kept, "other-echo"));
  CHECK(echoes_on(port, "after the commit"));
  CHECK(fresh.opened == 1);
  CHECK(echoes(open, "the open connection keeps its instance"));
}

TEST_CASE("post runs tasks on the reactor thread, each poster's in its order", "[reconfigure]") {
  RunningRuntime rt(small_config());
  constexpr int kPerThread = 2000;
  std::vector<int> seen[2];  // written on the reactor thread only
  std::atomic<int> ran{0};
  std::atomic<int> elsewhere{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 2; ++t)
    posters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i)
        rt.runtime().post([&, t, i] {
          if (std::this_thread::get_id() != rt.reactor_thread.load()) elsewhere.fetch_add(1);
          seen[t].push_back(i);
          ran.fetch_add(1, std::memory_order_release);  // publishes seen[] to the test thread
        });
    });
  for (auto& p : posters) p.join();
  REQUIRE(wait_until([&] { return ran.load(std::memory_order_acquire) == 2 * kPerThread; }));
  CHECK(elsewhere.load() == 0);
  for (const auto& order : seen) {
    REQUIRE(order.size() == kPerThread);
    CHECK(std::is_sorted(order.begin(), order.end()));
  }
}

TEST_CASE("reconfigure: a listener added beside a kept one", "[reconfigure]") {
  RunningRuntime rt(small_config());
  const std::uint16_t kept = rt.port("echo");
  Client open(kept);
  REQUIRE(echoes(open, "before"));

  const ReconfigureReport report =
      rt.reconfigure({echo_listener("echo"), echo_listener("added")}, rt.plugins());
  CHECK(report.started.empty());
  CHECK(report.retired.empty());
  CHECK(has(report.kept, "echo"));
  CHECK(has(report.kept, "other-echo"));

  CHECK(rt.port("echo") == kept);  // the same socket
  CHECK(rt.port("added") != kept);
  CHECK(echoes(open, "after"));
  CHECK(echoes_on(kept, "new on the kept listener"));
  CHECK(echoes_on(rt.port("added"), "on the added listener"));
  CHECK(rt.echo.opened == 3);  // the same plugin instance served all three
}

TEST_CASE("reconfigure: a removed listener refuses new connections, its open one works",
          "[reconfigure]") {
  RunningRuntime rt(with_listeners({echo_listener("echo"), echo_listener("gone")}));
  const std::uint16_t kept = rt.port("echo"), gone = rt.port("gone");
  Client on_gone(gone);
  REQUIRE(echoes(on_gone));

  rt.reconfigure({echo_listener("echo")}, rt.plugins());
  CHECK_THROWS_AS(rt.port("gone"), std::out_of_range);
  CHECK(connect_fails(gone));
  CHECK(echoes(on_gone, "still open after the removal"));
  CHECK(rt.port("echo") == kept);
  CHECK(echoes_on(kept));
  on_gone.close();
  CHECK(wait_until([&] { return rt.stats().open == 0; }));
}

TEST_CASE("reconfigure: a kept listener with new settings keeps its socket and connections",
          "[reconfigure]") {
  RunningRuntime rt(small_config());
  const std::uint16_t port = rt.port("echo");
  Client first(port), second(port);
  REQUIRE(echoes(first));
  REQUIRE(echoes(second));

  ListenerConfig limited = echo_listener("echo");
  limited.max_connections = 2;  // both open ones stay; a third is refused
  rt.reconfigure({limited}, rt.plugins());
  CHECK(rt.port("echo") == port);
  CHECK(echoes(first, "first, after"));
  CHECK(echoes(second, "second, after"));
  Client third(port);
  CHECK(third.wait_closed(5s));
  CHECK(wait_until([&] { return rt.stats().refused == 1; }));
}

TEST_CASE("reconfigure: a plugin swapped serves new connections, open ones keep theirs",
          "[reconfigure]") {
  EchoStats swapped;  // outlives the runtime, which runs an instance counting into it
  RunningRuntime rt(small_config());
  const std::uint16_t port = rt.port("echo");
  Client old_connection(port);
  REQUIRE(echoes(old_connection));

  SECTION("a new instance under the same name") {
    const ReconfigureReport report =
        rt.reconfigure({echo_listener("echo")},
                       {echo_spec("echo", swapped), echo_spec("other-echo", rt.other_echo)});
    CHECK(report.started == std::vector<std::string>{"echo"});
    CHECK(report.kept == std::vector<std::string>{"other-echo"});
    CHECK(report.retired == std::vector<std::string>{"echo"});
  }
  SECTION("the listener pointed at another plugin") {
    ListenerConfig moved = echo_listener("echo");
    moved.plugin = "swapped";
    const ReconfigureReport report =
        rt.reconfigure({moved}, {echo_spec("echo", rt.echo), echo_spec("swapped", swapped)});
    CHECK(report.started == std::vector<std::string>{"swapped"});
    CHECK(has(report.kept, "echo"));
    CHECK(has(report.retired, "other-echo"));
  }
  CHECK(rt.port("echo") == port);
  const std::uint64_t old_bytes = rt.echo.bytes.load();
  CHECK(echoes(old_connection, "old"));
  CHECK(rt.echo.bytes.load() == old_bytes + 3);  // still the instance it was accepted under
  CHECK(echoes_on(port, "new"));
  CHECK(swapped.opened == 1);
  CHECK(swapped.bytes == 3);
}

TEST_CASE("reconfigure: a renamed listener on a fixed port takes over its socket",
          "[reconfigure]") {
  const std::uint16_t fixed = free_port();
  RunningRuntime rt(with_listeners({echo_listener("old-name", loopback(fixed))}));
  Client open(fixed);
  REQUIRE(echoes(open));

  // Binding the address afresh would fail while the old socket holds it: the socket moves over.
  rt.reconfigure({echo_listener("new-name", loopback(fixed))}, rt.plugins());
  CHECK(rt.port("new-name") == fixed);
  CHECK_THROWS_AS(rt.port("old-name"), std::out_of_range);
  CHECK(echoes(open, "open across the rename"));
  CHECK(echoes_on(fixed, "new under the new name"));
}

TEST_CASE("reconfigure: port-0 listeners keep their own ports and never take another's",
          "[reconfigure]") {
  RunningRuntime rt(with_listeners({echo_listener("a"), echo_listener("b")}));
  const std::uint16_t a = rt.port("a"), b = rt.port("b");
  REQUIRE(a != b);
  Client on_a(a), on_b(b);
  REQUIRE(echoes(on_a));
  REQUIRE(echoes(on_b));

  SECTION("the same listeners again") {
    rt.reconfigure({echo_listener("a"), echo_listener("b")}, rt.plugins());
    CHECK(rt.port("a") == a);
    CHECK(rt.port("b") == b);
  }
  SECTION("the same listeners in the other order") {
    rt.reconfigure({echo_listener("b"), echo_listener("a")}, rt.plugins());
    CHECK(rt.port("a") == a);
    CHECK(rt.port("b") == b);
  }
  SECTION("one removed, one added") {
    rt.reconfigure({echo_listener("a"), echo_listener("c")}, rt.plugins());
    CHECK(rt.port("a") == a);
    // c is a new listener: a port of its own, not b's socket under another name.
    CHECK(rt.port("c") != a);
    CHECK(rt.port("c") != b);
    CHECK(connect_fails(b));
    CHECK(echoes_on(rt.port("c")));
  }
  SECTION("a port-0 listener renamed binds afresh") {
    rt.reconfigure({echo_listener("a"), echo_listener("renamed")}, rt.plugins());
    CHECK(rt.port("renamed") != b);
    CHECK(connect_fails(b));
    CHECK(echoes_on(rt.port("renamed")));
  }
  CHECK(echoes(on_a, "a, after"));
  CHECK(echoes(on_b, "b, after"));
  CHECK(echoes_on(rt.port("a")));
}

TEST_CASE("reconfigure: a failure changes nothing, the old set keeps serving", "[reconfigure]") {
  RunningRuntime rt(small_config());
  const std::uint16_t port = rt.port("echo");
  Client open(port);
  REQUIRE(echoes(open));
  const HeldPort held;  // an address someone else holds

  SECTION("a listener naming a missing plugin") {
    ListenerConfig broken = echo_listener("broken");
    broken.plugin = "missing";
    try {
      rt.reconfigure({echo_listener("echo"), broken}, rt.plugins());
      FAIL("reconfigure accepted a listener without its plugin");
    } catch (const RuntimeError& e) {
      CHECK(e.subject == RuntimeError::Subject::listener);
      CHECK(e.name == "broken");
      CHECK_THAT(e.what(), Catch::Contains("no plugin named missing"));
    }
  }
  SECTION("a new listener whose address is in use") {
    CHECK_THROWS_WITH(rt.reconfigure({echo_listener("echo"), echo_listener("added"),
                                      echo_listener("taken", loopback(held.port()))},
                                     rt.plugins()),
                      Catch::Contains(loopback(held.port())));
    CHECK_THROWS_AS(rt.port("added"), std::out_of_range);  // not half applied
  }
  SECTION("a plugin whose init fails") {
    PluginSpec failing = echo_spec("echo", rt.echo);
    failing.plugin = failing_plugin();
    try {
      rt.reconfigure({echo_listener("echo"), echo_listener("added")},
                     {failing, echo_spec("other-echo", rt.other_echo)});
      FAIL("reconfigure accepted a plugin whose init failed");
    } catch (const RuntimeError& e) {
      CHECK(e.subject == RuntimeError::Subject::plugin);
      CHECK(e.name == "echo");
      CHECK_THAT(e.what(), Catch::Contains("refused on purpose"));
    }
    CHECK_THROWS_AS(rt.port("added"), std::out_of_range);
  }
  CHECK(rt.port("echo") == port);
  CHECK(echoes(open, "old connection"));
  CHECK(echoes_on(port, "new connection"));
  // The running instances are still the ones started first: a reconfigure to them keeps both.
  const ReconfigureReport report = rt.reconfigure({echo_listener("echo")}, rt.plugins());
  CHECK(report.started.empty());
  CHECK(report.kept.size() == 2);
  CHECK(rt.echo.opened == 2);
}

TEST_CASE("reconfigure under load: no failed exchange, no connection error",
          "[reconfigure][stress]") {
  const std::uint16_t fixed = free_port();
  EchoStats swapped;
  RunningRuntime rt(
      with_listeners({echo_listener("fixed", loopback(fixed)), echo_listener("any")}));
  const std::uint16_t any = rt.port("any");
  // Each connection: a few messages, each echoed whole by whichever instance it started with.
  ClientLoad load({fixed, fixed, any}, [](Client& c, std::uint16_t, ClientLoad::Tally& tally) {
    for (int k = 0; k < 4; ++k) {
      const std::string message = pattern(1 + k * 100, static_cast<std::uint32_t>(k));
      if (!echoes(c, message)) return tally.fail("an exchange failed");
      tally.good();
    }
  });
  for (int i = 1; i <= 20; ++i) {
    INFO("reconfigure " << i);
    // Alternately swap "echo"'s instance and leave it; "any" is kept by name and address.
    rt.reconfigure(
        {echo_listener("fixed", loopback(fixed)), echo_listener("any")},
        {echo_spec("echo", i % 2 ? swapped : rt.echo), echo_spec("other-echo", rt.other_echo)});
    REQUIRE(rt.port("any") == any);
    REQUIRE(load.wait_for_more(30));
  }
  const std::vector<std::string> failures = load.stop();
  INFO(load.good() << " good exchanges");
  for (const auto& f : failures) UNSCOPED_INFO(f);
  CHECK(failures.empty());
  CHECK(swapped.opened > 0);
}
