// A unit of work for the worker pool: a plain function pointer and two words of arguments.
//
// Jobs are values: they are copied into and out of the ring buffer with plain stores, so they
// hold no owning pointers, no std::function and nothing with a destructor. Whoever builds a Job
// decides what `context` and the arguments mean; the runtime uses (ConnectionIo*, connection
// handle, unused).
#pragma once

#include <cstdint>
#include <type_traits>

namespace chronos {

struct Job {
  using Function = void (*)(void* context, std::uint64_t arg0, std::uint64_t arg1);

  Function function = nullptr;
  void* context = nullptr;
  std::uint64_t arg0 = 0;
  std::uint64_t arg1 = 0;

  void operator()() const { function(context, arg0, arg1); }
};

static_assert(std::is_trivially_copyable_v<Job>, "Job is copied through the ring buffer");
static_assert(sizeof(Job) <= 32, "Job must stay within 32 bytes (half a cache line)");

}  // namespace chronos
