// RunningRuntime: a chronos::Runtime serving the test echo plugin on its own thread, stopped
// and joined when the test is done. Its reconfigure() runs Runtime::reconfigure on the reactor
// thread, where the library wants it called.
#pragma once

#include <cstdlib>
#include <thread>
#include <vector>

#include "chronos/Runtime.hpp"
#include "echo_plugin.hpp"
#include "reactor_calls.hpp"

namespace chronos::test {

inline ListenerConfig echo_listener(std::string name = "echo",
                                    std::string address = "127.0.0.1:0") {
  ListenerConfig l;
  l.name = std::move(name);
  l.address = std::move(address);
  l.plugin = "echo";
  return l;
}

// The test echo plugin under `name`, its instance counting into `stats`. Two specs for the same
// `stats` are equal: reconfigure keeps the running instance.
inline PluginSpec echo_spec(std::string name, EchoStats& stats) {
  PluginSpec spec;
  spec.name = std::move(name);
  spec.plugin = echo_plugin();
  spec.config = echo_config(stats);
  return spec;
}

class RunningRuntime {
 public:
  explicit RunningRuntime(RuntimeConfig config) : runtime_(std::move(config)) {
    runtime_.add_plugin("echo", echo_plugin(), echo_config(echo));
    runtime_.add_plugin("other-echo", echo_plugin(), echo_config(other_echo));
    calls_.attach(runtime_);
    runtime_.bind();
    thread_ = std::thread([this] {
      reactor_thread = std::this_thread::get_id();
      runtime_.run();
    });
  }
  ~RunningRuntime() { stop(); }

  void stop() {
    runtime_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::uint16_t port(std::string_view listener = "echo") { return runtime_.port(listener); }
  Runtime& runtime() { return runtime_; }
  RuntimeStats stats() const { return runtime_.stats(); }

  // The two plugins as the constructor started them: passed to reconfigure, they are kept.
  std::vector<PluginSpec> plugins() {
    return {echo_spec("echo", echo), echo_spec("other-echo", other_echo)};
  }
  // Runtime::reconfigure on the reactor thread; rethrows its RuntimeError.
  ReconfigureReport reconfigure(std::vector<ListenerConfig> listeners,
                                std::vector<PluginSpec> plugins) {
    return calls_.call([this, l = std::move(listeners), p = std::move(plugins)]() mutable {
      return runtime_.reconfigure(std::move(l), std::move(p));
    });
  }

  EchoStats echo;        // plugin "echo"; declared before runtime_: outlives it
  EchoStats other_echo;  // plugin "other-echo": a second instance that can behave differently
  std::atomic<std::thread::id> reactor_thread{};

 private:
  ReactorCalls calls_;
  Runtime runtime_;
  std::thread thread_;
};

// How many reactors the tests' runtimes run: CHRONOS_TEST_REACTORS, default 1. ctest runs the
// runtime tests once more with several (tests/CMakeLists.txt), so every behaviour they check
// (reload, drain, limits, EMFILE, stop) is checked with connections spread over reactors too.
inline std::size_t test_reactors() {
  const char* env = std::getenv("CHRONOS_TEST_REACTORS");
  return env && *env ? static_cast<std::size_t>(std::strtoul(env, nullptr, 10)) : 1;
}

inline RuntimeConfig small_config(std::size_t workers = 2, std::size_t queue = 1024) {
  RuntimeConfig c;
  c.workers = workers;
  c.reactors = test_reactors();
  c.queue_capacity = queue;
  c.shutdown_timeout_ms = 5000;
  c.listeners.push_back(echo_listener());
  return c;
}

}  // namespace chronos::test
