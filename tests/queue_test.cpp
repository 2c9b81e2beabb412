// Single-threaded semantics of MPMCQueue: capacity, full/empty, batches, order, wrap-around.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "chronos/Job.hpp"
#include "chronos/MPMCQueue.hpp"

using chronos::MPMCQueue;

TEST_CASE("capacity is rounded up to a power of two", "[queue]") {
  CHECK(MPMCQueue<int>(0).capacity() == 2);
  CHECK(MPMCQueue<int>(1).capacity() == 2);
  CHECK(MPMCQueue<int>(2).capacity() == 2);
  CHECK(MPMCQueue<int>(3).capacity() == 4);
  CHECK(MPMCQueue<int>(1000).capacity() == 1024);
  CHECK(MPMCQueue<int>(4096).capacity() == 4096);
  CHECK(MPMCQueue<int>(4097).capacity() == 8192);
}

TEST_CASE("an empty queue pops nothing", "[queue]") {
  MPMCQueue<int> q(8);
  int out[4] = {};
  CHECK(q.pop_batch(out, 4) == 0);
  CHECK(q.pop_batch(out, 0) == 0);
}

TEST_CASE("a full queue refuses push and changes nothing", "[queue]") {
  MPMCQueue<int> q(4);
  for (int i = 0; i < 4; ++i) REQUIRE(q.push(i));
  CHECK_FALSE(q.push(99));
  CHECK_FALSE(q.push(100));
  int out[8] = {};
  REQUIRE(q.pop_batch(out, 8) == 4);
  for (int i = 0; i < 4; ++i) CHECK(out[i] == i);
  CHECK(q.pop_batch(out, 8) == 0);
  CHECK(q.push(5));  // room again after the pop
}

TEST_CASE("pop_batch takes what is ready, up to max_count, oldest first", "[queue]") {
  MPMCQueue<int> q(16);
  for (int i = 0; i < 10; ++i) REQUIRE(q.push(i));
  int out[16] = {};
  REQUIRE(q.pop_batch(out, 3) == 3);
  CHECK((out[0] == 0 && out[1] == 1 && out[2] == 2));
  REQUIRE(q.pop_batch(out, 1) == 1);
  CHECK(out[0] == 3);
  REQUIRE(q.pop_batch(out, 16) == 6);
  for (int i = 0; i < 6; ++i) CHECK(out[i] == 4 + i);
}

TEST_CASE("push_batch appends in order and stops when full", "[queue]") {
  MPMCQueue<int> q(8);
  const int in[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  CHECK(q.push_batch(in, 0) == 0);
  CHECK(q.push_batch(in, 5) == 5);
  CHECK(q.push_batch(in + 5, 7) == 3);  // only three slots left
  CHECK(q.push_batch(in + 8, 4) == 0);
  int out[8] = {};
  REQUIRE(q.pop_batch(out, 8) == 8);
  for (int i = 0; i < 8; ++i) CHECK(out[i] == i);
}

TEST_CASE("FIFO order holds across many wrap-arounds", "[queue]") {
  MPMCQueue<std::uint64_t> q(8);
  std::uint64_t next_in = 0, next_out = 0;
  std::uint64_t out[8];
  // Uneven push and pop sizes walk the head and tail across the ring's end at every offset.
  for (int round = 0; round < 10000; ++round) {
    const std::size_t pushes = 1 + round % 7;
    for (std::size_t i = 0; i < pushes && q.push(next_in); ++i) ++next_in;
    const std::size_t n = q.pop_batch(out, 1 + round % 5);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(out[i] == next_out++);
  }
  while (std::size_t n = q.pop_batch(out, 8)) {
    for (std::size_t i = 0; i < n; ++i) REQUIRE(out[i] == next_out++);
  }
  CHECK(next_out == next_in);
  CHECK(next_in > 25000);  // the loop really went round the ring thousands of times
}

TEST_CASE("Jobs travel through the queue by value", "[queue][job]") {
  static_assert(sizeof(chronos::Job) <= 32);
  MPMCQueue<chronos::Job> q(4);
  int hits = 0;
  chronos::Job job{[](void* ctx, std::uint64_t a, std::uint64_t b) {
                     *static_cast<int*>(ctx) += static_cast<int>(a + b);
                   },
                   &hits, 2, 3};
  REQUIRE(q.push(job));
  chronos::Job out[2];
  REQUIRE(q.pop_batch(out, 2) == 1);
  out[0]();
  CHECK(hits == 5);
}
