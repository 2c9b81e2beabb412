// A C++ layer over the C plugin ABI (plugin.h): write a class, get a plugin.
//
//   #include <chronos/plugin.hpp>
//
//   class Greeter {
//    public:
//     struct Session { int lines = 0; };  // per-connection state: optional
//     Greeter(std::string_view config_json, chronos::Host host);  // throw to fail init
//     void on_open(chronos::Connection conn, Session& s);          // optional
//     std::size_t on_data(chronos::Connection conn, Session& s, std::string_view data);
//     void on_close(chronos::Connection conn, Session& s);         // optional
//   };
//   CHRONOS_PLUGIN(Greeter, "greeter", "1.0.0")
//
// Without a Session type the callbacks take no Session argument. on_data returns how many bytes
// of `data` it consumed; the rest comes back with newer bytes after it. Callbacks of different
// connections run in parallel: state in the class itself must be thread-safe (see plugin.h).
//
// No exception crosses into the host: one thrown by the constructor fails init with its
// message; one thrown by a callback is logged and closes that connection.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>

#include "chronos/plugin.h"

namespace chronos {

// The host as a plugin instance sees it: for logging.
class Host {
 public:
  Host(chronos_host* host, const chronos_host_api* api) noexcept : host_(host), api_(api) {}

  void log(chronos_log_level level, std::string_view message) const noexcept {
    try {
      api_->log(host_, level, std::string(message).c_str());  // the API wants a C string
    } catch (...) {  // out of memory: the line is lost, the plugin is not
    }
  }

  const chronos_host_api* api() const noexcept { return api_; }
  chronos_host* raw() const noexcept { return host_; }

 private:
  chronos_host* host_;
  const chronos_host_api* api_;
};

// One client connection; valid only inside a callback for it.
class Connection {
 public:
  Connection(const chronos_host_api* api, chronos_conn* conn) noexcept : api_(api), conn_(conn) {}

  // Queues bytes for the peer; false when the connection is closing.
  bool send(const void* data, std::size_t len) const noexcept {
    return api_->send(conn_, data, len) == 0;
  }
  bool send(std::string_view text) const noexcept { return send(text.data(), text.size()); }

  // Closes once the queued output is written; on_close follows.
  void close() const noexcept { api_->close(conn_); }

  std::uint64_t id() const noexcept { return api_->conn_id(conn_); }
  chronos_conn* raw() const noexcept { return conn_; }

 private:
  const chronos_host_api* api_;
  chronos_conn* conn_;
};

// A plugin built for this header runs on a host of the same major and at least its minor.
inline constexpr std::uint32_t abi_major = CHRONOS_ABI_MAJOR;
inline constexpr std::uint32_t abi_minor = CHRONOS_ABI_MINOR;  // a variable: no -Wtype-limits at 0
constexpr bool abi_compatible(std::uint32_t host_major, std::uint32_t host_minor) noexcept {
  return host_major == abi_major && host_minor >= abi_minor;
}

namespace detail {

struct NoSession {};
template <class H>
struct session_of {
  using type = NoSession;
};
template <class H>
requires requires { typename H::Session; }
struct session_of<H> {
  using type = typename H::Session;
};

inline std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// The C callbacks for handler class H.
template <class H>
struct Adapter {
  static_assert(std::is_constructible_v<H, std::string_view, Host>,
                "a handler needs a constructor (std::string_view config, chronos::Host host)");
  using Session = typename session_of<H>::type;
  static constexpr bool has_session = !std::is_same_v<Session, NoSession>;

  struct Instance {
    Instance(chronos_host* h, const chronos_host_api* api, std::string_view config)
        : host(h, api), handler(config, host) {}
    Host host;
    H handler;
  };

  // Calls fn(session) if H has a Session type, else fn(): the callers pass it on as `s...`.
  template <class Fn>
  static decltype(auto) with_session(void* state, Fn&& fn) {
    if constexpr (has_session) {
      return fn(*static_cast<Session*>(state));
    } else {
      return fn();
    }
  }

  static void log_failure(Instance& in, Connection conn, const char* where) noexcept {
    try {
      in.host.log(CHRONOS_LOG_ERROR, std::string(where) + " on connection " +
                                         std::to_string(conn.id()) +
                                         " threw: " + current_exception_text());
    } catch (...) {
    }
  }

  static int init(chronos_host* host, const chronos_host_api* api, const char* config,
                  std::size_t config_len, void** instance, char* error, std::size_t error_len) {
    try {
      *instance = new Instance(host, api, std::string_view(config, config_len));
      return 0;
    } catch (...) {
      if (error_len > 0) {
        const std::string text = current_exception_text();
        const std::size_t n = std::min(text.size(), error_len - 1);
        std::memcpy(error, text.data(), n);
        error[n] = '\0';
      }
      return -1;
    }
  }

  static void shutdown(void* instance) { delete static_cast<Instance*>(instance); }

  static int on_open(void* instance, chronos_conn* c, void** conn_state) {
    auto& in = *static_cast<Instance*>(instance);
    const Connection conn(in.host.api(), c);
    Session* session = nullptr;
    try {
      if constexpr (has_session) session = new Session();
      *conn_state = session;
      if constexpr (requires { &H::on_open; }) {
        with_session(session, [&](auto&... s) { in.handler.on_open(conn, s...); });
      }
      return 0;
    } catch (...) {
      log_failure(in, conn, "on_open");
      if constexpr (has_session) delete session;  // on_close will not come
      return -1;
    }
  }

  static std::int64_t on_data(void* instance, chronos_conn* c, void* conn_state,
                              const std::uint8_t* data, std::size_t len) {
    auto& in = *static_cast<Instance*>(instance);
    const Connection conn(in.host.api(), c);
    try {
      const std::string_view bytes(reinterpret_cast<const char*>(data), len);
      const std::size_t used = with_session(
          conn_state, [&](auto&... s) { return in.handler.on_data(conn, s..., bytes); });
      return static_cast<std::int64_t>(std::min(used, len));
    } catch (...) {
      log_failure(in, conn, "on_data");
      return -1;  // closes the connection
    }
  }

  static void on_close(void* instance, chronos_conn* c, void* conn_state) {
    auto& in = *static_cast<Instance*>(instance);
    const Connection conn(in.host.api(), c);
    try {
      if constexpr (requires { &H::on_close; }) {
        with_session(conn_state, [&](auto&... s) { in.handler.on_close(conn, s...); });
      }
    } catch (...) {
      log_failure(in, conn, "on_close");
    }
    if constexpr (has_session) delete static_cast<Session*>(conn_state);
  }

  static constexpr chronos_plugin describe(const char* name, const char* version) {
    return chronos_plugin{.abi_major = CHRONOS_ABI_MAJOR,
                          .abi_minor = CHRONOS_ABI_MINOR,
                          .size = sizeof(chronos_plugin),
                          .name = name,
                          .version = version,
                          .init = init,
                          .shutdown = shutdown,
                          .on_open = on_open,
                          .on_data = on_data,
                          .on_close = on_close};
  }
};

}  // namespace detail
}  // namespace chronos

// Defines the plugin's one exported symbol for handler class `Handler`.
#define CHRONOS_PLUGIN(Handler, name, version)                                                \
  extern "C" CHRONOS_EXPORT const chronos_plugin* CHRONOS_PLUGIN_ENTRY(                       \
      std::uint32_t host_abi_major, std::uint32_t host_abi_minor) {                           \
    static constexpr chronos_plugin descriptor =                                              \
        ::chronos::detail::Adapter<Handler>::describe(name, version);                         \
    return ::chronos::abi_compatible(host_abi_major, host_abi_minor) ? &descriptor : nullptr; \
  }
