// chronos::Runtime — the embeddable server: listeners, a reactor, a worker pool, and plugins.
//
//   chronos::RuntimeConfig config;
//   config.listeners.push_back({.name = "echo", .address = "127.0.0.1:7000", .plugin = "echo"});
//   chronos::Runtime runtime(config);
//   runtime.add_plugin("echo", my_plugin_descriptor, "{}");
//   runtime.run();                 // serves until runtime.stop() is called from any thread
//
// A plugin is a chronos_plugin descriptor (sdk/include/chronos/plugin.h) started under a name with
// its config, as a YAML `plugins:` entry is: the C interface a dlopen'ed plugin exports, so a
// descriptor linked into the program and one loaded from a file are interchangeable.
// A Runtime has no global state; several can live in one process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chronos/Fd.hpp"
#include "chronos/plugin.h"

namespace spdlog {
class logger;
}

namespace chronos {

enum class Execution {
  pool,    // plugins run on worker threads and may block
  inline_  // plugins run on the reactor thread, run-to-completion, and must never block
};

struct ListenerConfig {
  std::string name;                        // unique
  std::string address;                     // "a.b.c.d:port" or "[v6]:port"; port 0 = any
  std::string plugin;                      // a name given to Runtime::add_plugin
  std::size_t max_connections = 10000;     // beyond it, new connections are closed at once
  std::uint32_t idle_timeout_ms = 0;       // 0 = never; else close connections idle that long
  std::size_t max_buffer_bytes = 1 << 20;  // per connection, input and output
  Execution execution = Execution::pool;
  std::uint32_t drain_timeout_ms = 0;  // on reload: 0 = old connections finish in their own time
  // Pool mode: the most connections with a job queued or running at once; the others wait on
  // the reactor until one finishes. 0 = automatic: workers - 1 (at least 1) when there are
  // several pool listeners, so one listener's stuck handlers leave the others a worker; no cap
  // with one pool listener.
  std::size_t max_active = 0;
};

struct RuntimeConfig {
  std::size_t workers = 0;  // 0 = one per CPU
  // Event loops, each on its own thread and accepting on every listener. 0 = one per CPU.
  std::size_t reactors = 1;
  // CPUs to pin the threads to, in order: the reactors, then the workers (round robin over the
  // list). Empty: no pinning.
  std::vector<int> cpu_affinity;
  std::size_t queue_capacity = 65536;        // rounded up to a power of two
  std::uint32_t shutdown_timeout_ms = 5000;  // how long stop waits for in-flight jobs
  // A handler running longer is logged once (listener, plugin, connection) and counted in
  // RuntimeStats::slow_handlers. 0 = no watchdog.
  std::uint32_t slow_handler_ms = 1000;
  // Called on the reactor thread when stop() still finds `busy` connections in their handlers
  // after shutdown_timeout_ms (each is logged with its listener and plugin). Empty: wait for
  // them, however long. The chronos program exits the process here.
  std::function<void(std::size_t busy)> on_stuck_stop;
  // Where a listener's listening socket comes from when its address is bound afresh (at start or
  // when a reload adds or moves a listener): a non-blocking socket, already listening. It throws
  // std::system_error naming the address on failure, as the built-in bind does. Empty: bind it
  // here. The chronos program's supervised server asks its supervisor, which keeps every socket
  // open across a crash of the server process.
  std::function<Fd(const ListenerConfig&)> listen_socket;
  std::vector<ListenerConfig> listeners;
  std::shared_ptr<spdlog::logger> logger;  // null = spdlog's default logger
};

// Counters, read without stopping anything (each is a relaxed snapshot).
struct RuntimeStats {
  std::uint64_t accepted = 0;          // connections accepted and served
  std::uint64_t refused = 0;           // connections closed at once (max_connections)
  std::uint64_t closed = 0;            // connections closed after being served
  std::uint64_t open = 0;              // connections open now
  std::uint64_t jobs_submitted = 0;    // jobs the reactor handed to the pool
  std::uint64_t queue_full = 0;        // times the queue was full and the reactor paused
  std::uint64_t stale_jobs = 0;        // jobs dropped because their connection was gone
  std::uint64_t idle_closed = 0;       // connections closed by idle_timeout_ms
  std::uint64_t oversized_closed = 0;  // connections closed for a message over max_buffer_bytes
  std::uint64_t accept_errors = 0;     // accept() failures such as EMFILE
  std::uint64_t drained = 0;           // old-version connections closed by drain_timeout_ms
  std::uint64_t slow_handlers = 0;     // handler runs that passed slow_handler_ms
};

// A plugin as reconfigure() wants it: a descriptor, its config (JSON text handed to init) and
// what must outlive its instance (e.g. the dlopen handle). A spec equal to the running one (same
// descriptor, config and keep_alive) keeps the running instance; any difference starts a new one.
struct PluginSpec {
  std::string name;
  const chronos_plugin* plugin = nullptr;
  std::string config = "{}";
  std::shared_ptr<void> keep_alive;
};

// A start-up or reload failure that names the plugin or listener at fault.
class RuntimeError : public std::runtime_error {
 public:
  enum class Subject { plugin, listener };
  RuntimeError(Subject subject, std::string name, const std::string& message)
      : std::runtime_error(message), subject(subject), name(std::move(name)) {}
  Subject subject;
  std::string name;
};

// What a reconfigure() did, for the log.
struct ReconfigureReport {
  std::vector<std::string> started;  // plugins started afresh (new or changed)
  std::vector<std::string> kept;     // plugins whose running instance was kept
  std::vector<std::string> retired;  // plugins replaced or removed: they stop after their
                                     // last connection closes
};

// A reload's first phase, made by Runtime::prepare_reconfigure on any thread and handed to
// commit_reconfigure on the reactor thread. Move-only; dropping one uncommitted shuts down the
// plugin instances it started.
class ReconfigurePlan {
 public:
  ReconfigurePlan();
  ReconfigurePlan(ReconfigurePlan&&) noexcept;
  ReconfigurePlan& operator=(ReconfigurePlan&&) noexcept;
  ~ReconfigurePlan();

 private:
  friend class Runtime;
  struct State;
  std::unique_ptr<State> state_;
};

class Runtime {
 public:
  explicit Runtime(RuntimeConfig config);
  ~Runtime();  // stops (if running elsewhere, waits for run() to return), shuts plugins down

  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Starts an instance of `plugin` under `name` with `config` (JSON text handed to its init).
  // Throws RuntimeError with the plugin's message if init fails or the ABI is wrong.
  // `keep_alive` is released after the instance's shutdown (e.g. the dlopen handle it came from).
  void add_plugin(const std::string& name, const chronos_plugin* plugin,
                  std::string_view config = "{}", std::shared_ptr<void> keep_alive = {});

  // Binds every listener. Called by run() if not called before; call it first to learn the
  // ports of listeners bound to port 0. Throws RuntimeError (e.g. address in use).
  void bind();

  // Live reload: makes `plugins` and `listeners` the running set, in two phases so that the slow
  // part never pauses serving.
  //
  // prepare_reconfigure, on any thread (also while run() serves): starts the new and changed
  // plugins (their init runs on the calling thread); a spec equal to a running instance keeps
  // it. Throws RuntimeError if an init fails; nothing live changes. Plans are independent: of
  // two committed, the later wins.
  //
  // commit_reconfigure, on the reactor thread (a watch() or post() callback) or before run():
  // binds the new addresses and swaps the plan in. Throws RuntimeError (an address in use, a
  // listener naming a plugin the plan lacks); then nothing changes and the plan's new instances
  // are shut down. Unchanged listeners keep their sockets (no connection attempt is lost). New
  // connections get the new plugins; open ones keep theirs until they close (or their
  // listener's drain_timeout_ms passes); a replaced instance is shut down after its last
  // connection. workers and queue_capacity cannot change without a restart.
  ReconfigurePlan prepare_reconfigure(std::vector<ListenerConfig> listeners,
                                      std::vector<PluginSpec> plugins);
  ReconfigureReport commit_reconfigure(ReconfigurePlan plan);
  // Both phases at once, where the caller is: on the reactor thread or before run().
  ReconfigureReport reconfigure(std::vector<ListenerConfig> listeners,
                                std::vector<PluginSpec> plugins);

  // Runs `task` on the reactor thread soon, after the tasks posted before it. Any thread. Tasks
  // still queued when run() stops are dropped unrun (destroyed with the Runtime).
  void post(std::function<void()> task);

  // Calls `on_readable` on the reactor thread whenever `fd` becomes readable; edge-triggered, so
  // drain it. For a signalfd, a control pipe, … Register before run().
  void watch(int fd, std::function<void()> on_readable);

  // The port a listener is bound to (after bind()).
  std::uint16_t port(std::string_view listener) const;

  // Serves on the calling thread until stop(). Throws at start-up only (bind, plugins missing).
  void run();

  // Asks run() to return: stop accepting, let in-flight jobs finish (at most
  // shutdown_timeout_ms), close every connection, join every worker. Thread-safe, and safe to
  // call before run() (which then returns at once) or more than once.
  void stop() noexcept;
  // A stop that first lets the open connections end by themselves: it stops accepting at once,
  // serves the open connections until they have all closed (at most shutdown_timeout_ms), then
  // stops as stop() does. For handing the listening sockets to another process (an upgrade)
  // without failing a request in flight. Thread-safe, like stop().
  void drain() noexcept;

  RuntimeStats stats() const noexcept;

 private:
  class Impl;                     // runtime/src: the scheduler, connections and listeners
  friend class RuntimeTestHooks;  // the runtime's own tests (tests/support/runtime_test_hooks.hpp)
  std::unique_ptr<Impl> impl_;
};

}  // namespace chronos
