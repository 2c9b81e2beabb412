// An in-process plugin whose handlers block at a gate until the test opens it, for the tests
// of what stuck handlers may not do to the others: on_data records what it was given (in call
// order), waits while the gate is shut, then echoes. It counts the handlers inside it now and
// the most there ever were at once.
//
//   Gate gate;  // shut
//   runtime.add_plugin("stuck", gate_plugin(), gate_config(gate));
//   ... wait_until([&] { return gate.inside() == 2; }) ...
//   gate.open();
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "chronos/plugin.h"

namespace chronos::test {

class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    opened_.notify_all();
  }
  int inside() const { return inside_.load(); }
  int most_inside() const { return most_inside_.load(); }
  // Each on_data call's bytes, in the order the calls began.
  std::vector<std::string> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

  // The handler's side: record, count, wait for the gate.
  void pass(const std::uint8_t* data, std::size_t len) {
    std::unique_lock lock(mutex_);
    calls_.emplace_back(reinterpret_cast<const char*>(data), len);
    const int now = inside_.fetch_add(1) + 1;
    int most = most_inside_.load();
    while (now > most && !most_inside_.compare_exchange_weak(most, now)) {
    }
    opened_.wait(lock, [this] { return open_; });
    inside_.fetch_sub(1);
  }

  std::atomic<const chronos_host_api*> api{nullptr};

 private:
  mutable std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;               // under mutex_
  std::vector<std::string> calls_;  // under mutex_
  std::atomic<int> inside_{0}, most_inside_{0};
};

inline const chronos_plugin* gate_plugin() {
  static const chronos_plugin plugin = {
      CHRONOS_ABI_MAJOR,
      CHRONOS_ABI_MINOR,
      sizeof(chronos_plugin),
      "test-gate",
      "1.0",
      [](chronos_host*, const chronos_host_api* api, const char* config, size_t, void** instance,
         char*, size_t) -> int {
        // The config text is the decimal address of a Gate (tests only).
        auto* gate = reinterpret_cast<Gate*>(std::strtoull(config, nullptr, 10));
        gate->api.store(api);
        *instance = gate;
        return 0;
      },
      [](void*) {},
      nullptr,
      [](void* instance, chronos_conn* conn, void*, const uint8_t* data, size_t len) -> int64_t {
        auto* gate = static_cast<Gate*>(instance);
        gate->pass(data, len);
        gate->api.load()->send(conn, data, len);
        return static_cast<int64_t>(len);
      },
      nullptr};
  return &plugin;
}

inline std::string gate_config(Gate& gate) {
  return std::to_string(reinterpret_cast<std::uintptr_t>(&gate));
}

}  // namespace chronos::test
