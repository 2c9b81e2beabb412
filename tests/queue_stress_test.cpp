// P producers x C consumers hammer one queue: every item must arrive exactly once, and each
// consumer must see each producer's items in the order that producer pushed them.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "chronos/MPMCQueue.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kProducerShift = 40;  // item = producer << 40 | sequence
constexpr auto kDeadline = std::chrono::seconds(120);

struct StressResult {
  std::vector<std::string> errors;
  std::uint64_t popped = 0;
};

StressResult run_stress(int producers, int consumers, std::size_t capacity,
                        std::uint64_t per_producer) {
  chronos::MPMCQueue<std::uint64_t> queue(capacity);
  const std::uint64_t total = per_producer * static_cast<std::uint64_t>(producers);
  std::vector<std::atomic<std::uint8_t>> seen(total);
  std::atomic<std::uint64_t> popped{0};
  std::atomic<bool> failed{false};
  const auto deadline = Clock::now() + kDeadline;

  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      std::mt19937 rng(p);
      std::vector<std::uint64_t> batch;
      std::uint64_t seq = 0;
      while (seq < per_producer && !failed.load(std::memory_order_relaxed)) {
        // Alternate single pushes and batches of random size.
        const std::size_t want = std::min<std::uint64_t>(1 + rng() % 16, per_producer - seq);
        batch.clear();
        for (std::size_t i = 0; i < want; ++i)
          batch.push_back(static_cast<std::uint64_t>(p) << kProducerShift | (seq + i));
        const std::size_t n =
            want == 1 || rng() % 2 ? queue.push(batch[0]) : queue.push_batch(batch.data(), want);
        seq += n;
        if (n == 0) {
          if (Clock::now() > deadline) failed = true;
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<std::vector<std::string>> errors(consumers);
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(1000 + c);
      std::vector<std::int64_t> last(producers, -1);
      std::uint64_t buf[64];
      while (popped.load(std::memory_order_relaxed) < total && !failed.load()) {
        const std::size_t n = queue.pop_batch(buf, 1 + rng() % 64);
        if (n == 0) {
          if (Clock::now() > deadline) failed = true;
          std::this_thread::yield();
          continue;
        }
        for (std::size_t i = 0; i < n; ++i) {
          const auto producer = static_cast<int>(buf[i] >> kProducerShift);
          const auto seq = static_cast<std::int64_t>(buf[i] & ((1ull << kProducerShift) - 1));
          if (producer >= producers || seq >= static_cast<std::int64_t>(per_producer)) {
            errors[c].push_back("garbage item " + std::to_string(buf[i]));
            failed = true;
            continue;
          }
          if (seq <= last[producer]) {
            errors[c].push_back("consumer " + std::to_string(c) + " got producer " +
                                std::to_string(producer) + " item " + std::to_string(seq) +
                                " after " + std::to_string(last[producer]));
            failed = true;
          }
          last[producer] = seq;
          const std::uint64_t index =
              static_cast<std::uint64_t>(producer) * per_producer + static_cast<std::uint64_t>(seq);
          if (seen[index].fetch_add(1, std::memory_order_relaxed) != 0) {
            errors[c].push_back("duplicate item " + std::to_string(buf[i]));
            failed = true;
          }
        }
        popped.fetch_add(n, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();

  StressResult result;
  result.popped = popped.load();
  for (auto& e : errors) result.errors.insert(result.errors.end(), e.begin(), e.end());
  if (failed && result.errors.empty()) result.errors.push_back("deadline passed");
  std::uint64_t missing = 0;
  for (auto& s : seen) missing += s.load() == 0;
  if (missing) result.errors.push_back(std::to_string(missing) + " items never popped");
  std::uint64_t leftover[1];
  if (queue.pop_batch(leftover, 1) != 0) result.errors.push_back("queue not empty at the end");
  return result;
}

}  // namespace

TEST_CASE("stress: every item exactly once, per-producer order per consumer", "[stress]") {
  const int producers = GENERATE(1, 2, 4);
  const int consumers = GENERATE(1, 2, 4);
  const std::size_t capacity = GENERATE(8, 64, 65536);
  const std::uint64_t per_producer = 40000;
  INFO(producers << "P x " << consumers << "C, capacity " << capacity);
  const StressResult result = run_stress(producers, consumers, capacity, per_producer);
  for (const auto& e : result.errors) UNSCOPED_INFO(e);
  CHECK(result.errors.empty());
  CHECK(result.popped == per_producer * static_cast<std::uint64_t>(producers));
}
