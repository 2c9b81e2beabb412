#include "reactor/Scheduler.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include "Assert.hpp"
#include "PluginInstance.hpp"
#include "chronos/Config.hpp"

namespace chronos {
namespace {

static_assert(kMaxReactors <= ConnectionTable::kMaxReactors);

// How long reconfigure waits for the other reactors to take a new listener set: they answer
// within one loop round, unless an inline handler holds one (then a removed socket closes when
// that reactor gets to it).
constexpr std::chrono::milliseconds kAdoptWait{1000};

// The reactors still to take a new listener set; reconfigure waits for none to be left.
class Countdown {
 public:
  explicit Countdown(std::size_t n) : left_(n) {}
  void done() {
    {
      std::lock_guard lock(mutex_);
      --left_;
    }
    zero_.notify_all();
  }
  bool wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return zero_.wait_for(lock, limit, [this] { return left_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable zero_;
  std::size_t left_;  // guarded by mutex_
};

std::size_t reactor_count(const RuntimeConfig& config) {
  const std::size_t n = config.reactors ? config.reactors : WorkerPool::cpu_count();
  return std::min<std::size_t>(n, ConnectionTable::kMaxReactors);
}

}  // namespace

// ---- Counters and Doorbell (Counters.hpp): small enough to live with their one user.

RuntimeStats Counters::snapshot() const noexcept {
  auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  RuntimeStats s;
  s.accepted = get(accepted);
  s.refused = get(refused);
  s.closed = get(closed);
  s.open = get(open);
  s.jobs_submitted = get(submitted);
  s.queue_full = get(queue_full);
  s.stale_jobs = get(stale);
  s.idle_closed = get(idle_closed);
  s.oversized_closed = get(oversized);
  s.accept_errors = get(accept_errors);
  s.drained = get(drained);
  s.slow_handlers = get(slow_handlers);
  return s;
}

Doorbell::Doorbell() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

void Doorbell::ring() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto ignored = ::write(fd_.get(), &one, sizeof(one));
}

void Doorbell::drain() noexcept {
  std::uint64_t value;
  [[maybe_unused]] const auto ignored = ::read(fd_.get(), &value, sizeof(value));
}

// ---- The scheduler

Scheduler::Scheduler(const RuntimeConfig& config, std::shared_ptr<spdlog::logger> log)
    : config_(config),
      log_(std::move(log)),
      queue_(config.queue_capacity),
      workers_(config.workers ? config.workers : WorkerPool::cpu_count()),
      tables_(reactor_count(config)),
      watchdog_(workers_, tables_.size(), config_.slow_handler_ms, *log_, counters_) {
  for (std::uint32_t r = 0; r < tables_.size(); ++r)
    reactors_.push_back(std::make_unique<Reactor>(r, shared_));
}

Scheduler::~Scheduler() {
  // run() joins its threads; a scheduler that never ran has none.
  CHRONOS_ASSERT(threads_.empty());
}

void Scheduler::bind(const PluginLookup& lookup) { reconfigure(config_.listeners, lookup); }

void Scheduler::reconfigure(const std::vector<ListenerConfig>& configs,
                            const PluginLookup& lookup) {
  ListenerSet::Plan plan = listeners_.prepare(configs, lookup, config_.listen_socket);  // throws
  for (const auto& l : plan.next) l->names = names_for(l->config);
  ListenerSet::Listeners retired = listeners_.commit(std::move(plan));
  bound_ = true;
  const ListenerSet::Listeners& live = listeners_.all();
  reactors_[0]->adopt(live, retired);
  if (!running_) {  // not started yet: this thread is theirs
    for (std::size_t r = 1; r < reactors_.size(); ++r) reactors_[r]->adopt(live, retired);
    return;
  }
  // The other reactors take the same set on their own threads; the mailbox publishes it (the
  // states are immutable from here on). We wait for them, so that when reconfigure returns a
  // removed listener's socket is closed and a new one is served everywhere.
  auto taken = std::make_shared<Countdown>(reactors_.size() - 1);
  for (std::size_t r = 1; r < reactors_.size(); ++r) {
    Reactor& reactor = *reactors_[r];
    reactor.post([&reactor, live, retired, taken] {
      reactor.adopt(live, retired);
      taken->done();
    });
  }
  if (!taken->wait(kAdoptWait))
    log_->warn(
        "reload: a reactor did not take the new listeners within {} ms (a handler holds "
        "it); it will when that handler returns",
        kAdoptWait.count());
}

const HandlerNames* Scheduler::names_for(const ListenerConfig& listener) {
  for (const HandlerNames& n : names_)
    if (n.listener == listener.name && n.plugin == listener.plugin) return &n;
  return &names_.emplace_back(HandlerNames{listener.name, listener.plugin});
}

void Scheduler::run() {
  if (running_) throw std::logic_error("Scheduler::run called twice");
  running_ = true;
  pool_.emplace(queue_, workers_, log_,
                [this](std::size_t worker) { pin(reactors_.size() + worker); });
  // The watchdog's slots and the max_active lines are indexed by worker, then reactor.
  CHRONOS_ASSERT(pool_->size() == workers_);
  io_.use_pool(*pool_);
  shared_.pool = &*pool_;
  watchdog_.start();
  for (auto& r : reactors_) r->prepare_to_run();
  for (const auto& l : listeners_.all())
    log_->info("listening on {} ({}, {} mode)", l->config.address, l->config.name,
               l->config.execution == Execution::inline_ ? "inline" : "pool");
  if (reactors_.size() > 1) log_->info("{} reactors", reactors_.size());
  start_reactor_threads();
  pin(0);
  reactors_[0]->run();
  // Stop accepting at once: the reactors let go of the sockets as they start their stop, and
  // the last one closes each. Kept alive so that a stuck connection can still be named.
  const ListenerSet::Listeners serving = listeners_.all();
  listeners_.close_all();
  reactors_[0]->shutdown();
  finish_stop(serving);
}

void Scheduler::start_reactor_threads() {
  for (std::size_t r = 1; r < reactors_.size(); ++r) {
    threads_.emplace_back([this, r] {
      pin(r);
      reactors_[r]->run();
      reactors_[r]->shutdown();
    });
  }
}

// Thread `thread` (reactors first, then workers) runs on cpu_affinity[thread % size], if set.
void Scheduler::pin(std::size_t thread) const {
  if (config_.cpu_affinity.empty()) return;
  const int cpu = config_.cpu_affinity[thread % config_.cpu_affinity.size()];
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); rc != 0)
    log_->warn("cpu_affinity: cannot run thread {} on CPU {}: {}", thread, cpu, std::strerror(rc));
}

// After reactor 0's part of the stop: join the other reactors, then the workers, and close what
// is still open (handlers that never returned).
void Scheduler::finish_stop(const ListenerSet::Listeners& serving) {
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (const auto left = counters_.open.load(std::memory_order_relaxed)) {
    constexpr std::size_t kMaxNamed = 20;
    log_->warn("stop: {} connection(s) still busy in their handlers after {} ms", left,
               config_.shutdown_timeout_ms);
    std::size_t budget = kMaxNamed;
    for (const auto& r : reactors_) r->log_busy(serving, budget);
    // The program exits here (a handler that never returns must not keep it alive); an embedder
    // that sets no callback waits for its handlers, as the pool can only join returned workers.
    if (config_.on_stuck_stop) config_.on_stuck_stop(left);
  }
  pool_.reset();  // runs what is queued (the close requests), then joins every worker
  shared_.pool = nullptr;
  watchdog_.stop();
  for (auto& r : reactors_) r->close_remaining();
  log_->info("stopped: {} connection(s) served",
             counters_.accepted.load(std::memory_order_relaxed));
}

}  // namespace chronos
