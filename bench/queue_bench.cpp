// queue_bench: Chronos's MPMCQueue<Job> against moodycamel::ConcurrentQueue,
// boost::lockfree::queue, tbb::concurrent_bounded_queue and a mutex + std::deque, in one run on
// one machine; then the WorkerPool's idle CPU use and wake-up latency. See bench/README.md.
//
// Every queue is wrapped in an adapter satisfying the QueueAdapter concept, so the throughput
// and round-trip drivers are written once. Runs of different queues are interleaved (the order
// rotates each round) so that a noisy phase of the machine hits all of them alike.

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <concurrentqueue.h>
#include <oneapi/tbb/concurrent_queue.h>
#include <boost/lockfree/queue.hpp>

#include "chronos/Job.hpp"
#include "chronos/MPMCQueue.hpp"
#include "chronos/WorkerPool.hpp"

namespace {

using chronos::Job;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kCapacity = 65536;      // every bounded queue, Chronos included
constexpr std::size_t kBatch = 32;            // consumer pop size; producer batch of batch variants
constexpr std::uint64_t kPublishEvery = 256;  // consumers add to the shared count this often
constexpr int kSpinsBeforeYield = 128;        // failed attempts paused before a thread yields

// ------------------------------------------------------------------------------------------------
// Small utilities

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Waiting policy for a failed push or pop: pause, and now and then give the CPU away so that an
// oversubscribed shape (4P4C on 2 CPUs) is not decided by who spins through a whole time slice.
class Backoff {
 public:
  void pause() noexcept {
    if (++spins_ < kSpinsBeforeYield) {
      cpu_relax();
    } else {
      spins_ = 0;
      std::this_thread::yield();
    }
  }
  void reset() noexcept { spins_ = 0; }

 private:
  int spins_ = 0;
};

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "\nqueue_bench: CORRECTNESS FAILURE: %s\n", what.c_str());
  std::abort();
}

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// A counter in memory shared with the child processes that run the measurements (see
// run_isolated): a measurement keeps it moving, the parent kills a child in which it stands still.
std::atomic<std::uint64_t>& progress() {
  static std::atomic<std::uint64_t>* const counter = [] {
    void* page = mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) die("queue_bench: mmap");
    return new (page) std::atomic<std::uint64_t>(0);
  }();
  return *counter;
}

using Samples = std::vector<double>;

struct Summary {
  double median = 0, min = 0, max = 0, p99 = 0;
};

Summary summarize(Samples values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    return values[static_cast<std::size_t>(q * (values.size() - 1))];
  };
  const std::size_t mid = values.size() / 2;
  const double median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  return {median, values.front(), values.back(), at(0.99)};
}

// ------------------------------------------------------------------------------------------------
// Queue adapters. Each wraps one queue type behind per-thread handles:
//   Producer::push(items, n) appends a prefix of items[0..n) and returns its length (0 = full);
//   Consumer::pop(out, max)  takes up to max items and returns how many (0 = nothing ready).
// kProducerBatch is how many items a producer hands to one push call (1 = single-item pushes).
// kPerProducerFifo: the queue promises that one consumer sees each producer's items in order.

template <class A>
concept QueueAdapter = std::constructible_from<A, std::size_t> &&
    requires(A& queue, typename A::Producer& producer, typename A::Consumer& consumer,
             const Job* in, Job* out, std::size_t n) {
  { A::kName } -> std::convertible_to<std::string_view>;
  { A::kIsChronos } -> std::convertible_to<bool>;
  { A::kProducerBatch } -> std::convertible_to<std::size_t>;
  { A::kPerProducerFifo } -> std::convertible_to<bool>;
  { queue.producer() } -> std::same_as<typename A::Producer>;
  { queue.consumer() } -> std::same_as<typename A::Consumer>;
  { producer.push(in, n) } -> std::same_as<std::size_t>;
  { consumer.pop(out, n) } -> std::same_as<std::size_t>;
};

// Chronos: push (or push_batch of 32 in the batch variant); consumers use pop_batch of 32.
template <std::size_t ProducerBatch>
class ChronosAdapter {
 public:
  static constexpr std::string_view kName = ProducerBatch == 1 ? "chronos" : "chronos batch";
  static constexpr bool kIsChronos = true;
  static constexpr std::size_t kProducerBatch = ProducerBatch;
  static constexpr bool kPerProducerFifo = true;

  explicit ChronosAdapter(std::size_t capacity) : queue_(capacity) {}

  struct Producer {
    chronos::MPMCQueue<Job>& queue;
    std::size_t push(const Job* in, std::size_t n) {
      if constexpr (ProducerBatch == 1) return queue.push(*in) ? 1 : 0;
      return queue.push_batch(in, n);
    }
  };
  struct Consumer {
    chronos::MPMCQueue<Job>& queue;
    std::size_t pop(Job* out, std::size_t max) { return queue.pop_batch(out, max); }
  };

  Producer producer() { return {queue_}; }
  Consumer consumer() { return {queue_}; }

 private:
  chronos::MPMCQueue<Job> queue_;
};

// moodycamel, plain: enqueue / try_dequeue without tokens. Unbounded: the capacity only
// pre-allocates, enqueue allocates more blocks instead of failing.
class MoodycamelAdapter {
 public:
  static constexpr std::string_view kName = "moodycamel";
  static constexpr bool kIsChronos = false;
  static constexpr std::size_t kProducerBatch = 1;
  static constexpr bool kPerProducerFifo = false;  // not promised with several consumers

  explicit MoodycamelAdapter(std::size_t capacity) : queue_(capacity) {}

  struct Producer {
    moodycamel::ConcurrentQueue<Job>& queue;
    std::size_t push(const Job* in, std::size_t) { return queue.enqueue(*in) ? 1 : 0; }
  };
  struct Consumer {
    moodycamel::ConcurrentQueue<Job>& queue;
    std::size_t pop(Job* out, std::size_t) { return queue.try_dequeue(*out) ? 1 : 0; }
  };

  Producer producer() { return {queue_}; }
  Consumer consumer() { return {queue_}; }

 private:
  moodycamel::ConcurrentQueue<Job> queue_;
};

// moodycamel, idiomatic fast path: producer and consumer tokens, enqueue_bulk / try_dequeue_bulk.
class MoodycamelBulkAdapter {
 public:
  static constexpr std::string_view kName = "moodycamel bulk";
  static constexpr bool kIsChronos = false;
  static constexpr std::size_t kProducerBatch = kBatch;
  static constexpr bool kPerProducerFifo = false;

  explicit MoodycamelBulkAdapter(std::size_t capacity) : queue_(capacity) {}

  struct Producer {
    moodycamel::ConcurrentQueue<Job>& queue;
    moodycamel::ProducerToken token;
    std::size_t push(const Job* in, std::size_t n) {
      return queue.enqueue_bulk(token, in, n) ? n : 0;
    }
  };
  struct Consumer {
    moodycamel::ConcurrentQueue<Job>& queue;
    moodycamel::ConsumerToken token;
    std::size_t pop(Job* out, std::size_t max) { return queue.try_dequeue_bulk(token, out, max); }
  };

  Producer producer() { return {queue_, moodycamel::ProducerToken(queue_)}; }
  Consumer consumer() { return {queue_, moodycamel::ConsumerToken(queue_)}; }

 private:
  moodycamel::ConcurrentQueue<Job> queue_;
};

// Boost.Lockfree: node-based with `capacity` nodes pre-allocated; bounded_push never allocates,
// so it fails when those nodes are in use, i.e. the queue is bounded at `capacity`.
// (The compile-time capacity<> is limited to 65535 nodes, one short of ours.)
// Order is not checked: Boost 1.71-1.74 can deliver out of order under load (an ABA problem,
// boostorg/lockfree#59); that is a known peer bug, not something this benchmark should die of.
class BoostAdapter {
 public:
  static constexpr std::string_view kName = "boost lockfree";
  static constexpr bool kIsChronos = false;
  static constexpr std::size_t kProducerBatch = 1;
  static constexpr bool kPerProducerFifo = false;

  explicit BoostAdapter(std::size_t capacity) : queue_(capacity) {}

  struct Producer {
    boost::lockfree::queue<Job>& queue;
    std::size_t push(const Job* in, std::size_t) { return queue.bounded_push(*in) ? 1 : 0; }
  };
  struct Consumer {
    boost::lockfree::queue<Job>& queue;
    std::size_t pop(Job* out, std::size_t) { return queue.pop(*out) ? 1 : 0; }
  };

  Producer producer() { return {queue_}; }
  Consumer consumer() { return {queue_}; }

 private:
  boost::lockfree::queue<Job> queue_;
};

// oneTBB: concurrent_bounded_queue with try_push / try_pop (the non-blocking calls).
class TbbAdapter {
 public:
  static constexpr std::string_view kName = "tbb bounded";
  static constexpr bool kIsChronos = false;
  static constexpr std::size_t kProducerBatch = 1;
  static constexpr bool kPerProducerFifo = true;

  explicit TbbAdapter(std::size_t capacity) {
    queue_.set_capacity(static_cast<std::ptrdiff_t>(capacity));
  }

  struct Producer {
    tbb::concurrent_bounded_queue<Job>& queue;
    std::size_t push(const Job* in, std::size_t) { return queue.try_push(*in) ? 1 : 0; }
  };
  struct Consumer {
    tbb::concurrent_bounded_queue<Job>& queue;
    std::size_t pop(Job* out, std::size_t) { return queue.try_pop(*out) ? 1 : 0; }
  };

  Producer producer() { return {queue_}; }
  Consumer consumer() { return {queue_}; }

 private:
  tbb::concurrent_bounded_queue<Job> queue_;
};

// Baseline: one mutex around a std::deque; consumers take up to a whole batch under one lock.
class MutexDequeAdapter {
 public:
  static constexpr std::string_view kName = "mutex+deque";
  static constexpr bool kIsChronos = false;
  static constexpr std::size_t kProducerBatch = 1;
  static constexpr bool kPerProducerFifo = true;

  explicit MutexDequeAdapter(std::size_t capacity) : capacity_(capacity) {}

  struct Producer {
    MutexDequeAdapter& self;
    std::size_t push(const Job* in, std::size_t) { return self.push_one(*in); }
  };
  struct Consumer {
    MutexDequeAdapter& self;
    std::size_t pop(Job* out, std::size_t max) { return self.pop_up_to(out, max); }
  };

  Producer producer() { return {*this}; }
  Consumer consumer() { return {*this}; }

 private:
  std::size_t push_one(const Job& item) {
    std::lock_guard lock(mutex_);
    if (items_.size() >= capacity_) return 0;
    items_.push_back(item);
    return 1;
  }

  std::size_t pop_up_to(Job* out, std::size_t max) {
    std::lock_guard lock(mutex_);
    const std::size_t n = std::min(max, items_.size());
    std::copy_n(items_.begin(), n, out);
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }

  std::mutex mutex_;
  std::deque<Job> items_;
  std::size_t capacity_;
};

// ------------------------------------------------------------------------------------------------
// Shared pieces of the drivers

// arg0 = producer << 32 | sequence; arg1 = ~arg0, so a torn copy shows up.
Job make_item(std::uint32_t producer, std::uint64_t seq) {
  Job job;
  job.arg0 = std::uint64_t{producer} << 32 | seq;
  job.arg1 = ~job.arg0;
  return job;
}

// Pushes all of items[0..n), pausing while the queue is full.
template <class Producer>
void push_all(Producer& producer, const Job* items, std::size_t n) {
  Backoff backoff;
  while (n > 0) {
    const std::size_t pushed = producer.push(items, n);
    if (pushed == 0) {
      backoff.pause();
      continue;
    }
    items += pushed;
    n -= pushed;
    backoff.reset();
  }
}

// Pops at least one item into out (room for kBatch), pausing while the queue is empty.
template <class Consumer>
std::size_t pop_some(Consumer& consumer, Job* out) {
  Backoff backoff;
  for (;;) {
    if (const std::size_t n = consumer.pop(out, kBatch)) return n;
    backoff.pause();
  }
}

// Lets all threads of a run start together, after they have been created and set up.
class StartGate {
 public:
  explicit StartGate(int parties) : parties_(parties) {}
  void arrive_and_wait() {
    arrived_.fetch_add(1, std::memory_order_acq_rel);
    while (!open_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  void wait_for_all() const {
    while (arrived_.load(std::memory_order_acquire) < parties_) std::this_thread::yield();
  }
  void open() { open_.store(true, std::memory_order_release); }

 private:
  const int parties_;
  std::atomic<int> arrived_{0};
  std::atomic<bool> open_{false};
};

// ------------------------------------------------------------------------------------------------
// Throughput: P producers push their share of `items`, C consumers pop until all are consumed.

struct Shape {
  std::string name;
  std::uint32_t producers;
  std::uint32_t consumers;
};

constexpr std::uint32_t kMaxProducers = 8;

// What one consumer saw; checked after the run.
struct Tally {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;  // of arg0, wrapping
  std::uint64_t next_seq[kMaxProducers] = {};
  bool torn = false;          // arg1 != ~arg0, or an unknown producer id
  bool out_of_order = false;  // a producer's sequence went backwards

  template <bool CheckOrder>
  void record(const Job* items, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t value = items[i].arg0;
      sum += value;
      torn |= items[i].arg1 != ~value || (value >> 32) >= kMaxProducers;
      if constexpr (CheckOrder) {
        const std::uint64_t producer = (value >> 32) % kMaxProducers;
        const std::uint64_t seq = value & 0xffffffffu;
        out_of_order |= seq < next_seq[producer];
        next_seq[producer] = seq + 1;
      }
    }
    count += n;
  }
};

std::uint64_t producer_share(std::uint64_t items, std::uint32_t producers, std::uint32_t p) {
  return items / producers + (p < items % producers ? 1 : 0);
}

std::uint64_t expected_sum(std::uint64_t items, std::uint32_t producers) {
  std::uint64_t sum = 0;
  for (std::uint32_t p = 0; p < producers; ++p) {
    const std::uint64_t n = producer_share(items, producers, p);
    sum += (std::uint64_t{p} << 32) * n + n * (n - 1) / 2;
  }
  return sum;
}

template <class Producer>
void produce(Producer& producer, std::uint32_t id, std::uint64_t count, std::size_t batch) {
  Job items[kBatch];
  for (std::uint64_t seq = 0; seq < count;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(batch, count - seq));
    for (std::size_t i = 0; i < n; ++i) items[i] = make_item(id, seq + i);
    push_all(producer, items, n);
    seq += n;
  }
}

// Pops until `consumed` reaches `total`. The shared count is updated in chunks (and whenever the
// queue looks empty), so that single-item queues do not pay an extra shared RMW per item.
template <bool CheckOrder, class Consumer>
Tally consume(Consumer& consumer, std::atomic<std::uint64_t>& consumed, std::uint64_t total) {
  Tally tally;
  Job items[kBatch];
  std::uint64_t unpublished = 0;
  Backoff backoff;
  for (;;) {
    if (const std::size_t n = consumer.pop(items, kBatch)) {
      tally.record<CheckOrder>(items, n);
      unpublished += n;
      if (unpublished >= kPublishEvery) {
        consumed.fetch_add(unpublished, std::memory_order_relaxed);
        unpublished = 0;
      }
      backoff.reset();
      continue;
    }
    if (unpublished > 0) {
      consumed.fetch_add(unpublished, std::memory_order_relaxed);
      unpublished = 0;
    }
    if (consumed.load(std::memory_order_relaxed) >= total) return tally;
    backoff.pause();
  }
}

void verify(std::string_view queue, const Shape& shape, std::uint64_t items,
            const std::vector<Tally>& tallies) {
  const std::string where = std::string(queue) + " " + shape.name + ": ";
  std::uint64_t count = 0, sum = 0;
  for (const Tally& t : tallies) {
    if (t.torn) fail(where + "an item arrived corrupted");
    if (t.out_of_order) fail(where + "a consumer saw a producer's items out of order");
    count += t.count;
    sum += t.sum;
  }
  if (count != items) {
    fail(where + "consumed " + std::to_string(count) + " items, expected " + std::to_string(items));
  }
  if (sum != expected_sum(items, shape.producers)) fail(where + "checksum of the items differs");
}

// One timed run; returns Mitems/s. Timing starts when all threads are ready and ends when the
// last one has finished.
template <QueueAdapter A>
double run_throughput(const Shape& shape, std::uint64_t items) {
  A queue(kCapacity);
  std::atomic<std::uint64_t>& consumed = progress();  // also tells the parent we are not stuck
  consumed.store(0, std::memory_order_relaxed);
  std::vector<Tally> tallies(shape.consumers);
  StartGate gate(static_cast<int>(shape.producers + shape.consumers));
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < shape.producers; ++p) {
    threads.emplace_back([&, p] {
      auto producer = queue.producer();
      gate.arrive_and_wait();
      produce(producer, p, producer_share(items, shape.producers, p), A::kProducerBatch);
    });
  }
  for (std::uint32_t c = 0; c < shape.consumers; ++c) {
    threads.emplace_back([&, c] {
      auto consumer = queue.consumer();
      gate.arrive_and_wait();
      tallies[c] = consume<A::kPerProducerFifo>(consumer, consumed, items);
    });
  }
  gate.wait_for_all();
  const auto start = Clock::now();
  gate.open();
  for (auto& t : threads) t.join();
  const double seconds = seconds_since(start);
  verify(A::kName, shape, items, tallies);
  return static_cast<double>(items) / seconds / 1e6;
}

// ------------------------------------------------------------------------------------------------
// Round trip: the main thread sends an item through queue `ping`, an echo thread sends it back
// through queue `pong`; one item is in flight at a time. Returns ns per round trip, one sample
// per block of kTripsPerSample round trips (a clock read per trip would distort ~100 ns trips).

constexpr std::uint64_t kTripsPerSample = 100;
constexpr std::uint64_t kWarmupTrips = 20'000;

std::uint64_t total_trips(std::uint64_t samples) {
  return kWarmupTrips + samples * kTripsPerSample;
}

// Runs trip(0), trip(1), ... : a warm-up, then `samples` timed blocks of kTripsPerSample.
template <class Trip>
Samples time_trips(std::uint64_t samples, Trip&& trip) {
  std::uint64_t i = 0;
  for (; i < kWarmupTrips; ++i) trip(i);
  Samples ns_per_trip;
  ns_per_trip.reserve(samples);
  for (std::uint64_t s = 0; s < samples; ++s) {
    const auto start = Clock::now();
    for (std::uint64_t k = 0; k < kTripsPerSample; ++k, ++i) trip(i);
    ns_per_trip.push_back(seconds_since(start) * 1e9 / kTripsPerSample);
    progress().store(i, std::memory_order_relaxed);
  }
  return ns_per_trip;
}

template <QueueAdapter A>
void echo(A& ping, A& pong, std::uint64_t trips) {
  auto in = ping.consumer();
  auto out = pong.producer();
  Job items[kBatch];
  for (std::uint64_t i = 0; i < trips; ++i) {
    if (pop_some(in, items) != 1) fail(std::string(A::kName) + " round trip: extra items");
    push_all(out, items, 1);
  }
}

// `items` is the caller's buffer, reused for every trip: a Job array declared here would be
// zero-filled (Job has default member initializers) on every trip, 1 KB of stores on the timed
// path; it added ~40 ns to every queue's round trip before it was hoisted out.
template <class Producer, class Consumer>
void round_trip(Producer& out, Consumer& in, Job (&items)[kBatch], std::uint64_t i,
                std::string_view queue) {
  const Job sent = make_item(0, i);
  push_all(out, &sent, 1);
  if (pop_some(in, items) != 1 || items[0].arg0 != sent.arg0) {
    fail(std::string(queue) + " round trip: wrong item came back");
  }
}

template <QueueAdapter A>
Samples run_round_trips(std::uint64_t trips) {
  const std::uint64_t samples = std::max<std::uint64_t>(1, trips / kTripsPerSample);
  A ping(kCapacity);
  A pong(kCapacity);
  std::thread echoer([&] { echo(ping, pong, total_trips(samples)); });
  auto out = ping.producer();
  auto in = pong.consumer();
  Job items[kBatch];
  Samples ns_per_trip =
      time_trips(samples, [&](std::uint64_t i) { round_trip(out, in, items, i, A::kName); });
  echoer.join();
  return ns_per_trip;
}

// The floor for any queue on these two CPUs: the same ping-pong through two bare atomic words on
// their own cache lines (one line transfer each way).
void wait_for(const std::atomic<std::uint64_t>& word, std::uint64_t value) {
  Backoff backoff;
  while (word.load(std::memory_order_acquire) != value) backoff.pause();
}

Samples run_bare_round_trips(std::uint64_t trips) {
  struct alignas(chronos::kCacheLine) Word {
    std::atomic<std::uint64_t> value{0};
  };
  const std::uint64_t samples = std::max<std::uint64_t>(1, trips / kTripsPerSample);
  Word ping, pong;
  std::thread echoer([&] {
    for (std::uint64_t i = 1; i <= total_trips(samples); ++i) {
      wait_for(ping.value, i);
      pong.value.store(i, std::memory_order_release);
    }
  });
  Samples ns_per_trip = time_trips(samples, [&](std::uint64_t i) {
    ping.value.store(i + 1, std::memory_order_release);
    wait_for(pong.value, i + 1);
  });
  echoer.join();
  return ns_per_trip;
}

// ------------------------------------------------------------------------------------------------
// Isolation: every measurement runs in a forked child process. A queue that livelocks (Boost
// 1.74's lockfree::queue can, when threads are preempted: every thread stuck inside pop and push)
// then costs one result, not the whole benchmark; a failed correctness check in the child still
// stops everything. The parent has no other threads when it forks.

// A child whose progress() stands still this long is taken to hang.
constexpr std::chrono::seconds kStallLimit{20};

class StallWatch {
 public:
  bool stalled() {
    const std::uint64_t value = progress().load(std::memory_order_relaxed);
    const auto now = Clock::now();
    if (value != last_) {
      last_ = value;
      since_ = now;
    }
    return now - since_ > kStallLimit;
  }

 private:
  std::uint64_t last_ = progress().load(std::memory_order_relaxed);
  Clock::time_point since_ = Clock::now();
};

// Reads exactly `size` bytes; false if the writer died or stalled first.
bool read_exact(int fd, void* data, std::size_t size, StallWatch& watch) {
  auto* bytes = static_cast<char*>(data);
  while (size > 0) {
    pollfd readable{fd, POLLIN, 0};
    const int ready = poll(&readable, 1, 1000);
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) {
      if (watch.stalled()) return false;
      continue;
    }
    const ssize_t got = read(fd, bytes, size);
    if (got <= 0) return false;
    bytes += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

void write_all(int fd, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t put = write(fd, bytes, size);
    if (put <= 0) _exit(3);
    bytes += put;
    size -= static_cast<std::size_t>(put);
  }
}

[[noreturn]] void measure_in_child(const std::function<Samples()>& measure, int fd) {
  const Samples samples = measure();
  const std::uint64_t count = samples.size();
  write_all(fd, &count, sizeof count);
  write_all(fd, samples.data(), count * sizeof(double));
  _exit(0);  // no atexit handlers, no flush of stdio buffers inherited from the parent
}

// The child's samples, or nothing if it stalled (it is killed then).
std::optional<Samples> run_isolated(const std::function<Samples()>& measure) {
  std::fflush(nullptr);
  progress().store(0, std::memory_order_relaxed);
  int fds[2];
  if (pipe(fds) != 0) die("queue_bench: pipe");
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) die("queue_bench: fork");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // do not outlive a killed benchmark
    if (getppid() != parent) _exit(1);
    close(fds[0]);
    measure_in_child(measure, fds[1]);
  }
  close(fds[1]);
  StallWatch watch;
  std::uint64_t count = 0;
  Samples samples;
  bool complete = read_exact(fds[0], &count, sizeof count, watch);
  if (complete) {
    samples.resize(count);
    complete = read_exact(fds[0], samples.data(), count * sizeof(double), watch);
  }
  close(fds[0]);
  if (!complete) kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) {
    std::fprintf(stderr, "queue_bench: a measurement failed (see above); stopping\n");
    std::abort();
  }
  if (!complete) return std::nullopt;
  return samples;
}

// The results of one queue in one experiment: the completed runs' values and the killed runs.
struct Runs {
  Samples values;
  int hung = 0;

  void add(std::optional<Samples> result) {
    if (!result) {
      ++hung;
      return;
    }
    values.insert(values.end(), result->begin(), result->end());
  }
  std::string hung_note() const {
    return hung ? "  (" + std::to_string(hung) + " run(s) hung: no progress for " +
                      std::to_string(kStallLimit.count()) + " s, killed)"
                : "";
  }
};

// ------------------------------------------------------------------------------------------------
// The queues under test, type-erased so the report loops are plain loops.

struct QueueKind {
  std::string_view name;
  bool is_chronos;
  bool single_item_push;
  bool in_round_trip;
  double (*throughput)(const Shape&, std::uint64_t items);
  Samples (*round_trips)(std::uint64_t trips);
};

template <QueueAdapter A>
QueueKind kind(bool in_round_trip = true) {
  return {A::kName,      A::kIsChronos,      A::kProducerBatch == 1,
          in_round_trip, &run_throughput<A>, &run_round_trips<A>};
}

std::vector<QueueKind> all_queues() {
  return {
      kind<ChronosAdapter<1>>(),
      kind<ChronosAdapter<kBatch>>(false),  // a single item takes the same path as "chronos"
      kind<MoodycamelAdapter>(),
      kind<MoodycamelBulkAdapter>(),
      kind<BoostAdapter>(),
      kind<TbbAdapter>(),
      kind<MutexDequeAdapter>(),
  };
}

// ------------------------------------------------------------------------------------------------
// Options

struct Options {
  std::uint64_t items = 10'000'000;
  int rounds = 5;
  std::uint64_t trips = 1'000'000;
  std::size_t wakeups = 2000;
  double idle_seconds = 2.0;
  std::string only;  // a shape name, or empty for all
};

[[noreturn]] void usage(int status) {
  std::fprintf(status ? stderr : stdout,
               "usage: queue_bench [--items N] [--rounds N] [--quick] [--only SHAPE]\n"
               "  --items N     items per throughput run (default 10000000)\n"
               "  --rounds N    runs per queue and shape (default 5)\n"
               "  --quick       smoke test: 1M items, 1 round, shorter latency parts\n"
               "  --only SHAPE  one throughput shape: 1P1C, 1P2C, 2P2C or 4P4C\n");
  std::exit(status);
}

std::uint64_t parse_count(const char* text) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value == 0) usage(2);
  return value;
}

Options parse_options(int argc, char** argv) {
  Options options;
  bool quick = false, items_set = false, rounds_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--items" && has_value) {
      options.items = parse_count(argv[++i]);
      items_set = true;
    } else if (arg == "--rounds" && has_value) {
      options.rounds = static_cast<int>(parse_count(argv[++i]));
      rounds_set = true;
    } else if (arg == "--only" && has_value) {
      options.only = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      usage(0);
    } else {
      usage(2);
    }
  }
  if (quick) {
    if (!items_set) options.items = 1'000'000;
    if (!rounds_set) options.rounds = 1;
    options.trips = 100'000;
    options.wakeups = 200;
    options.idle_seconds = 0.5;
  }
  if (options.items >= (std::uint64_t{1} << 32)) usage(2);  // sequence numbers are 32-bit
  return options;
}

std::vector<Shape> selected_shapes(const std::string& only) {
  const std::vector<Shape> shapes = {
      {"1P1C", 1, 1}, {"1P2C", 1, 2}, {"2P2C", 2, 2}, {"4P4C", 4, 4}};
  if (only.empty()) return shapes;
  const auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const Shape& shape : shapes) {
    if (lower(shape.name) == lower(only)) return {shape};
  }
  std::fprintf(stderr, "queue_bench: unknown shape '%s'\n", only.c_str());
  usage(2);
}

// ------------------------------------------------------------------------------------------------
// Report

std::string first_line_with(const char* path, std::string_view key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(key)) return line;
  }
  return {};
}

void print_header(const Options& options) {
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  std::string cpu = first_line_with("/proc/cpuinfo", "model name");
  if (const auto colon = cpu.find(':'); colon != std::string::npos) cpu = cpu.substr(colon + 2);
  const std::string clock =
      first_line_with("/sys/devices/system/clocksource/clocksource0/current_clocksource", "");
  const std::string load = first_line_with("/proc/loadavg", "");
  std::printf(
      "Chronos queue_bench  %s\n"
      "machine: %s, %zu CPUs usable (nproc), clocksource %s; threads are NOT pinned\n"
      "load average at start: %s (anything else running skews the numbers)\n"
      "settings: %llu items/run, %d rounds, capacity %zu, item = chronos::Job (%zu bytes)\n"
      "\n"
      "How to read:\n"
      "  * Throughput: Mitems/s over a whole run (start gate to last thread done), median and\n"
      "    min-max of the rounds. Queue order rotates each round. 'batch'/'bulk' variants push\n"
      "    32 items per call; all consumers pop up to 32 per call where the queue allows it.\n"
      "    moodycamel is unbounded (enqueue allocates), the others are bounded at the capacity.\n"
      "    Failed push/pop: pause, yield after %d tries. Shapes with more threads than CPUs\n"
      "    largely measure how a queue copes with preempted threads.\n"
      "    Ratios: 'vs best peer' = plain chronos, then the better Chronos variant, over the best\n"
      "    peer; 'single push' = plain chronos over the best peer that also pushes one at a time.\n"
      "  * Round trip: one item ping-pongs between two threads through two queues; ns per round\n"
      "    trip, median (and p99) over blocks of %llu trips. The floor row does the same with two\n"
      "    bare atomics: no queue can beat it on this machine.\n"
      "  * WorkerPool: idle CPU of a 2-thread pool, and submit-to-job-start latency with workers\n"
      "    mostly asleep (gap between submissions) and back to back.\n"
      "  Each run is a child process, killed if it hangs (reported as such). Every throughput run\n"
      "  checks count, checksum and per-producer order (chronos, tbb, mutex) and aborts on a\n"
      "  mismatch.\n",
      date, cpu.c_str(), chronos::WorkerPool::cpu_count(), clock.c_str(), load.c_str(),
      static_cast<unsigned long long>(options.items), options.rounds, kCapacity, sizeof(Job),
      kSpinsBeforeYield, static_cast<unsigned long long>(kTripsPerSample));
}

struct Best {
  double median = 0;
  std::string name = "-";
};

// The best median among the queues that `pick` selects.
Best best_of(const std::vector<QueueKind>& queues, const std::vector<Summary>& summaries,
             const std::function<bool(const QueueKind&)>& pick) {
  Best best;
  for (std::size_t q = 0; q < queues.size(); ++q) {
    if (pick(queues[q]) && summaries[q].median > best.median) {
      best = {summaries[q].median, std::string(queues[q].name)};
    }
  }
  return best;
}

void print_ratio(const char* label, const Best& chronos, const Best& peer) {
  std::printf("      %-14s %-15s / %-15s = %.2fx\n", label, chronos.name.c_str(), peer.name.c_str(),
              peer.median > 0 ? chronos.median / peer.median : 0.0);
}

void print_shape(const Shape& shape, const std::vector<QueueKind>& queues,
                 const std::vector<Runs>& runs) {
  std::printf("\n%s  %-16s %10s   %-15s\n", shape.name.c_str(), "queue", "Mitems/s", "min-max");
  std::vector<Summary> summaries;
  for (std::size_t q = 0; q < queues.size(); ++q) {
    summaries.push_back(summarize(runs[q].values));
    const Summary& s = summaries.back();
    std::printf("      %-16s %10.2f   %6.2f-%-6.2f%s\n", std::string(queues[q].name).c_str(),
                s.median, s.min, s.max, runs[q].hung_note().c_str());
  }
  const auto chronos = [](const QueueKind& k) { return k.is_chronos; };
  const auto peer = [](const QueueKind& k) { return !k.is_chronos; };
  const auto plain = [](const QueueKind& k) { return k.name == ChronosAdapter<1>::kName; };
  const auto single = [](const QueueKind& k) { return !k.is_chronos && k.single_item_push; };
  const Best best_peer = best_of(queues, summaries, peer);
  print_ratio("vs best peer:", best_of(queues, summaries, plain), best_peer);
  print_ratio("", best_of(queues, summaries, chronos), best_peer);
  print_ratio("single push:", best_of(queues, summaries, plain),
              best_of(queues, summaries, single));
  std::fflush(stdout);
}

void bench_throughput(const Options& options, const std::vector<QueueKind>& queues) {
  std::printf("\n== Throughput (Mitems/s, higher is better) ==\n");
  for (const Shape& shape : selected_shapes(options.only)) {
    std::vector<Runs> runs(queues.size());
    for (int round = 0; round < options.rounds; ++round) {
      for (std::size_t k = 0; k < queues.size(); ++k) {
        const std::size_t q = (k + static_cast<std::size_t>(round)) % queues.size();
        const auto measure = [&] { return Samples{queues[q].throughput(shape, options.items)}; };
        runs[q].add(run_isolated(measure));
      }
    }
    print_shape(shape, queues, runs);
  }
}

void bench_round_trip(const Options& options, const std::vector<QueueKind>& queues) {
  struct Entry {
    std::string_view name;
    Samples (*round_trips)(std::uint64_t trips);
  };
  std::vector<Entry> entries;
  for (const QueueKind& queue : queues) {
    if (queue.in_round_trip) entries.push_back({queue.name, queue.round_trips});
  }
  entries.push_back({"(floor: 2 atomics)", &run_bare_round_trips});

  std::printf("\n== 1P1C round trip (ns, lower is better; %llu trips per queue) ==\n",
              static_cast<unsigned long long>(options.trips));
  std::vector<Runs> runs(entries.size());
  const auto rounds = static_cast<std::size_t>(options.rounds);
  const std::uint64_t trips = options.trips / rounds;
  for (std::size_t round = 0; round < rounds; ++round) {
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const std::size_t e = (k + round) % entries.size();
      runs[e].add(run_isolated([&] { return entries[e].round_trips(trips); }));
    }
  }
  // The floor moves with where the hypervisor places the two vCPUs (57, 115 or 400 ns on the
  // development VM), so each median is also given as a multiple of the floor of the same run.
  const double floor_median = summarize(runs.back().values).median;
  std::printf("      %-18s %10s %10s %10s\n", "queue", "median", "p99", "x floor");
  for (std::size_t e = 0; e < entries.size(); ++e) {
    const Summary s = summarize(runs[e].values);
    std::printf("      %-18s %10.1f %10.1f %9.2fx%s\n", std::string(entries[e].name).c_str(),
                s.median, s.p99, s.median / floor_median, runs[e].hung_note().c_str());
  }
  std::fflush(stdout);
}

// ------------------------------------------------------------------------------------------------
// WorkerPool

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void bench_pool_idle(double window_seconds) {
  chronos::MPMCQueue<Job> queue(kCapacity);
  chronos::WorkerPool pool(queue, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the workers fall asleep
  const double cpu_before = process_cpu_seconds();
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(window_seconds));
  const double cpu = process_cpu_seconds() - cpu_before;
  const double wall = seconds_since(start);
  std::printf("      idle CPU, 2 workers, %.1f s: %.3f%% of one core (%.2f ms CPU), %u asleep\n",
              wall, 100.0 * cpu / wall, cpu * 1e3, pool.sleeping());
}

// A job that records when it started; arg0 is its index.
struct WakeProbe {
  std::vector<std::int64_t> started_ns;
  std::atomic<std::size_t> done{0};

  static void mark(void* context, std::uint64_t index, std::uint64_t) {
    auto* probe = static_cast<WakeProbe*>(context);
    probe->started_ns[index] = now_ns();
    probe->done.fetch_add(1, std::memory_order_release);  // publishes started_ns[index]
  }
};

// Submit-to-start latency (µs) of `count` jobs, `gap` apart (zero: back to back).
void bench_pool_wakeup(std::size_t count, std::chrono::microseconds gap) {
  chronos::MPMCQueue<Job> queue(kCapacity);
  chronos::WorkerPool pool(queue, 2);
  WakeProbe probe;
  probe.started_ns.resize(count);
  std::vector<std::int64_t> submitted_ns(count);
  std::size_t found_sleeper = 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (std::size_t i = 0; i < count; ++i) {
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
    Job job;
    job.function = &WakeProbe::mark;
    job.context = &probe;
    job.arg0 = i;
    if (pool.sleeping() > 0) ++found_sleeper;
    submitted_ns[i] = now_ns();
    if (!pool.submit(job)) fail("WorkerPool refused a job");
  }
  while (probe.done.load(std::memory_order_acquire) < count) std::this_thread::yield();
  std::vector<double> micros(count);
  for (std::size_t i = 0; i < count; ++i) {
    micros[i] = static_cast<double>(probe.started_ns[i] - submitted_ns[i]) / 1e3;
  }
  const Summary s = summarize(micros);
  const std::string label =
      gap.count() > 0 ? "gap " + std::to_string(gap.count()) + " us" : "back-to-back";
  const double sleeper_pct =
      100.0 * static_cast<double>(found_sleeper) / static_cast<double>(count);
  std::printf(
      "      wake-up, %-12s %zu jobs: median %6.1f us, p99 %7.1f us, max %8.1f us"
      " (%.0f%% of submits found a sleeper)\n",
      label.c_str(), count, s.median, s.p99, s.max, sleeper_pct);
}

void bench_pool(const Options& options) {
  std::printf("\n== WorkerPool ==\n");
  bench_pool_idle(options.idle_seconds);
  bench_pool_wakeup(options.wakeups, std::chrono::microseconds(200));
  bench_pool_wakeup(options.wakeups, std::chrono::microseconds(0));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  const std::vector<QueueKind> queues = all_queues();
  print_header(options);
  bench_throughput(options, queues);
  bench_round_trip(options, queues);
  bench_pool(options);
  std::printf("\nload average at end: %s\n", first_line_with("/proc/loadavg", "").c_str());
  return 0;
}
