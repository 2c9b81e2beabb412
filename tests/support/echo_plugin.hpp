// An in-process echo plugin for the runtime's tests, exposed through the same C descriptor a
// plugin exports. It counts its callbacks and can check that no connection is ever served by
// two threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "chronos/plugin.h"

namespace chronos::test {

struct EchoStats {
  std::atomic<std::uint64_t> opened{0}, closed{0}, bytes{0}, calls{0}, overlaps{0};
  std::atomic<std::uint64_t> last_conn_id{0};
  std::atomic<std::thread::id> last_thread{};
  std::chrono::microseconds delay{0};  // per on_data call: a slow plugin
};

struct EchoConnState {
  std::atomic<int> busy{0};
};

// The host table, the same for every runtime: stored by each instance's init (on the thread that
// starts it, the reactor's in a reload) while workers of other instances read it, so atomic.
inline std::atomic<const chronos_host_api*>& echo_host_table() {
  static std::atomic<const chronos_host_api*> api{nullptr};
  return api;
}
inline const chronos_host_api* echo_api() { return echo_host_table().load(); }

// The descriptor; `init`'s config text is ignored, the instance is the EchoStats* passed as
// the instance pointer through `echo_config(stats)`.
inline const chronos_plugin* echo_plugin() {
  static const chronos_plugin plugin = {
      CHRONOS_ABI_MAJOR,
      CHRONOS_ABI_MINOR,
      sizeof(chronos_plugin),
      "test-echo",
      "1.0",
      [](chronos_host*, const chronos_host_api* api, const char* config, size_t, void** instance,
         char*, size_t) -> int {
        echo_host_table().store(api);
        // The config text is the decimal address of an EchoStats (tests only).
        *instance = reinterpret_cast<void*>(std::strtoull(config, nullptr, 10));
        return 0;
      },
      [](void*) {},
      [](void* instance, chronos_conn* conn, void** state) -> int {
        auto* stats = static_cast<EchoStats*>(instance);
        stats->opened.fetch_add(1);
        stats->last_conn_id.store(echo_api()->conn_id(conn));
        *state = std::make_unique<EchoConnState>().release();  // owned until on_close
        return 0;
      },
      [](void* instance, chronos_conn* conn, void* state, const uint8_t* data,
         size_t len) -> int64_t {
        auto* stats = static_cast<EchoStats*>(instance);
        auto* cs = static_cast<EchoConnState*>(state);
        if (cs->busy.fetch_add(1) != 0) stats->overlaps.fetch_add(1);
        stats->calls.fetch_add(1);
        stats->last_thread.store(std::this_thread::get_id());
        if (stats->delay.count() > 0) std::this_thread::sleep_for(stats->delay);
        echo_api()->send(conn, data, len);
        stats->bytes.fetch_add(len);
        cs->busy.fetch_sub(1);
        return static_cast<int64_t>(len);
      },
      [](void* instance, chronos_conn*, void* state) {
        static_cast<EchoStats*>(instance)->closed.fetch_add(1);
        std::unique_ptr<EchoConnState>(static_cast<EchoConnState*>(state));  // frees it
      }};
  return &plugin;
}

inline std::string echo_config(EchoStats& stats) {
  return std::to_string(reinterpret_cast<std::uintptr_t>(&stats));
}

}  // namespace chronos::test
