// The seed's harness: threads push and pop Jobs through one queue and it prints a summary.
// Exits non-zero if any job is lost, duplicated, or seen out of its producer's order.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "chronos/Job.hpp"
#include "chronos/MPMCQueue.hpp"

int main() {
  constexpr int kProducers = 4, kConsumers = 4;
  constexpr std::uint64_t kPerProducer = 250000;
  constexpr std::uint64_t kTotal = kPerProducer * kProducers;

  chronos::MPMCQueue<chronos::Job> queue(1024);
  std::atomic<std::uint64_t> popped{0}, sum{0}, order_errors{0};
  const auto start = std::chrono::steady_clock::now();

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint64_t i = 0; i < kPerProducer; ++i) {
        const chronos::Job job{nullptr, nullptr, static_cast<std::uint64_t>(p), i};
        while (!queue.push(job)) std::this_thread::yield();
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      std::vector<std::int64_t> last(kProducers, -1);
      chronos::Job batch[32];
      while (popped.load(std::memory_order_relaxed) < kTotal) {
        const std::size_t n = queue.pop_batch(batch, 32);
        if (n == 0) std::this_thread::yield();
        for (std::size_t i = 0; i < n; ++i) {
          const auto seq = static_cast<std::int64_t>(batch[i].arg1);
          if (seq <= last[batch[i].arg0]) order_errors.fetch_add(1);
          last[batch[i].arg0] = seq;
          sum.fetch_add(batch[i].arg1, std::memory_order_relaxed);
        }
        popped.fetch_add(n, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t expected_sum = kProducers * (kPerProducer * (kPerProducer - 1) / 2);
  const bool ok = popped == kTotal && sum == expected_sum && order_errors == 0;
  std::printf("queue_harness: %d producers, %d consumers, capacity %zu\n", kProducers, kConsumers,
              queue.capacity());
  std::printf("  pushed %llu, popped %llu, checksum %s, order errors %llu, %.2f s (%.1f M/s)\n",
              static_cast<unsigned long long>(kTotal),
              static_cast<unsigned long long>(popped.load()), sum == expected_sum ? "ok" : "BAD",
              static_cast<unsigned long long>(order_errors.load()), seconds,
              static_cast<double>(kTotal) / seconds / 1e6);
  std::printf("  %s\n", ok ? "OK: no crash, nothing lost, producer order kept" : "FAILED");
  return ok ? 0 : 1;
}
