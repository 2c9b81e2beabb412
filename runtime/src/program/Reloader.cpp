#include "Reloader.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>

#include "ReloadLog.hpp"

namespace chronos {

struct Reloader::Attempt {
  std::uint64_t number = 0;
  std::uint32_t timeout_ms = 0;
  std::chrono::steady_clock::time_point start;
  Config running;        // copies of what served when the attempt began: for the restart diff,
  LoadedPlugins loaded;  // and the loaded files it may reuse
  // Set by the reactor when it gives up on the attempt, and checked there again before any
  // result is used; the attempt's thread reads it only to skip work nobody waits for, so relaxed
  // is enough.
  std::atomic<bool> abandoned{false};
  std::atomic<const char*> step{"reading the configuration"};  // for the abandonment's log line
  bool done = false;  // guarded by Reloader::done_mutex_: the thread has nothing left to run
  std::thread thread;
};

struct Reloader::Prepared {
  std::string text;  // the file's text, for the supervisor (with one)
  Config next;
  LoadedPlugins loaded;
  ReconfigurePlan plan;
};

Reloader::Reloader(Runtime& runtime, std::string config_path, Served& served, SupervisorLink* link)
    : runtime_(runtime),
      config_path_(std::move(config_path)),
      served_(served),
      link_(link),
      timer_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)),
      reloads_(link ? link->reloads_before : 0) {
  if (!timer_) throw std::system_error(errno, std::generic_category(), "timerfd_create");
  runtime_.watch(timer_.get(), [this] { on_timeout(); });
}

Reloader::~Reloader() {
  reap_finished();
  // Left only when wait_for_attempts gave up on them, and then the process exits at once.
  for (const auto& attempt : threads_) attempt->thread.detach();
}

void Reloader::request() {
  if (current_) {
    if (!again_)
      spdlog::info("reload #{} is still running; one more reload follows it", current_->number);
    again_ = true;
    return;
  }
  start_attempt();
}

void Reloader::start_attempt() {
  reap_finished();
  auto attempt = std::make_shared<Attempt>();
  attempt->number = ++reloads_;
  attempt->timeout_ms = served_.config.reload_timeout_ms;
  attempt->start = std::chrono::steady_clock::now();
  attempt->running = served_.config;
  attempt->loaded = served_.plugins;
  current_ = attempt;
  arm_timer(attempt->timeout_ms);
  {
    std::lock_guard lock(done_mutex_);
    threads_.push_back(attempt);
  }
  attempt->thread = std::thread([this, attempt] {
    run_attempt(attempt);
    std::lock_guard lock(done_mutex_);
    attempt->done = true;
    done_.notify_all();
  });
}

// The attempt's thread: everything slow, then one task for the reactor.
void Reloader::run_attempt(const std::shared_ptr<Attempt>& attempt) {
  auto prepared = std::make_shared<Prepared>();
  const bool ok = prepare(*attempt, *prepared);
  // The copies it started from: a finished attempt must not keep old plugin files loaded.
  attempt->running = Config();
  attempt->loaded.clear();
  // Abandoned: nobody waits for it; what it prepared is shut down here, not on the reactor.
  if (attempt->abandoned.load(std::memory_order_relaxed)) {
    spdlog::warn("reload #{}: the abandoned reload has ended; what it prepared is discarded",
                 attempt->number);
    return;
  }
  runtime_.post([this, attempt, prepared, ok] {
    if (attempt->abandoned.load(std::memory_order_relaxed)) return;  // it timed out meanwhile
    if (ok) commit(*attempt, *prepared);
    finish();
  });
}

// Read, validate, load and start: false (logged) if anything is wrong.
bool Reloader::prepare(Attempt& attempt, Prepared& out) {
  const std::uint64_t n = attempt.number;
  spdlog::info("reload #{}: reading {}", n, config_path_);
  if (link_) link_->reloading(n);  // a crash from now on is this reload's
  ConfigResult result = link_ ? link_->load(config_path_, out.text) : load_config(config_path_);
  if (!result.ok()) {
    log_errors(result.errors);
    spdlog::error("reload #{}: configuration invalid; still serving the previous one", n);
    return false;
  }
  out.next = std::move(*result.config);
  for (const RestartChange& change : restart_required_changes(attempt.running, out.next))
    spdlog::warn("reload #{}: {} changed ({} -> {}); it takes effect after a restart", n,
                 change.field, change.from, change.to);
  attempt.step.store("loading plugin files", std::memory_order_relaxed);
  std::vector<ConfigError> errors;
  std::vector<PluginSpec> plugins = load_plugins(out.next, attempt.loaded, errors);
  if (!errors.empty()) {
    log_errors(errors);
    spdlog::error("reload #{}: a plugin could not be loaded; still serving the previous one", n);
    return false;
  }
  out.loaded = loaded_by_name(plugins);
  if (attempt.abandoned.load(std::memory_order_relaxed)) return false;
  attempt.step.store("starting plugins", std::memory_order_relaxed);
  try {
    // Restart-only settings stay as they run; listeners and plugins change at the commit.
    out.plan = runtime_.prepare_reconfigure(out.next.runtime.listeners, std::move(plugins));
  } catch (const RuntimeError& e) {
    log_errors({locate(out.next, e)});
    spdlog::error("reload #{}: failed; still serving the previous configuration", n);
    return false;
  }
  return true;
}

// The reactor: bind new addresses and swap the prepared set in.
void Reloader::commit(Attempt& attempt, Prepared& prepared) {
  const std::uint64_t n = attempt.number;
  ReconfigureReport report;
  try {
    report = runtime_.commit_reconfigure(std::move(prepared.plan));
  } catch (const RuntimeError& e) {
    log_errors({locate(prepared.next, e)});
    spdlog::error("reload #{}: failed; still serving the previous configuration", n);
    return;
  }
  Config& next = prepared.next;
  const std::string listeners =
      listener_changes(served_.config.runtime.listeners, next.runtime.listeners);
  spdlog::set_level(spdlog::level::from_str(next.log_level));
  next.runtime.workers = served_.config.runtime.workers;
  next.runtime.queue_capacity = served_.config.runtime.queue_capacity;
  next.runtime.slow_handler_ms = served_.config.runtime.slow_handler_ms;
  served_.config = std::move(next);
  served_.plugins = std::move(prepared.loaded);
  if (link_) {  // before the log line: a port the reload removed is closed once it is out
    link_->serving(prepared.text, served_.plugins);
    link_->keep(served_.config);
  }
  const auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - attempt.start);
  spdlog::info("reload #{}: done in {:.1f} ms; {}; plugins started: {}; kept: {}; retiring: {}", n,
               ms.count(), listeners, join_names(report.started), join_names(report.kept),
               join_names(report.retired));
}

void Reloader::finish() {
  current_.reset();
  if (link_) link_->keep(served_.config);  // the sockets of a failed reload can go
  reap_finished();
  arm_timer(0);
  if (again_) {
    again_ = false;
    start_attempt();
  }
}

void Reloader::on_timeout() {
  std::uint64_t expirations = 0;
  // Re-arming or disarming resets the count: nothing to read means a stale wake-up.
  if (::read(timer_.get(), &expirations, sizeof(expirations)) <= 0 || !current_) return;
  Attempt& attempt = *current_;
  attempt.abandoned.store(true, std::memory_order_relaxed);
  spdlog::error(
      "reload #{}: abandoned after {} ms while {}; still serving the previous "
      "configuration",
      attempt.number, attempt.timeout_ms, attempt.step.load(std::memory_order_relaxed));
  current_.reset();
  if (link_) link_->keep(served_.config);
  if (again_) {
    again_ = false;
    start_attempt();
  }
}

void Reloader::arm_timer(std::uint32_t ms) {
  itimerspec spec{};  // all zero: disarmed
  spec.it_value.tv_sec = ms / 1000;
  spec.it_value.tv_nsec = static_cast<long>(ms % 1000) * 1000000L;
  ::timerfd_settime(timer_.get(), 0, &spec, nullptr);
}

void Reloader::reap_finished() {
  std::lock_guard lock(done_mutex_);
  // A done attempt's thread only has its return left: the join is immediate.
  std::erase_if(threads_, [](const std::shared_ptr<Attempt>& attempt) {
    if (!attempt->done) return false;
    attempt->thread.join();
    return true;
  });
}

bool Reloader::wait_for_attempts(std::chrono::milliseconds timeout) {
  if (current_) current_->abandoned.store(true, std::memory_order_relaxed);
  bool all_done = false;
  {
    std::unique_lock lock(done_mutex_);
    all_done = done_.wait_for(lock, timeout, [this] {
      return std::all_of(threads_.begin(), threads_.end(), [](const auto& a) { return a->done; });
    });
  }
  if (all_done) reap_finished();
  return all_done;
}

}  // namespace chronos
