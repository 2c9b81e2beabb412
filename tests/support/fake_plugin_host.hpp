// An in-process stand-in for the chronos host, for driving a chronos_plugin descriptor without
// sockets: it keeps each connection's unconsumed input as the host does, collects what the
// plugin sends, and notes every breach of the ABI's rules (plugin.h) instead of trusting it.
//
//   chronos::test::FakeHost host(descriptor, R"({"body":"hi"})");
//   chronos::test::FakeConnection conn(host);
//   conn.receive("GET / HTTP/1.1\r\n\r\n");
//   conn.output();  // what the plugin sent
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chronos/plugin.h"

// The ABI's opaque types, completed for this fake host only.
struct chronos_host {
  std::vector<std::string> log;
};
struct chronos_conn {
  std::uint64_t id = 0;
  bool in_callback = false;  // send and close are only valid inside a callback
  bool closing = false;      // close() was called or on_data returned a negative number
  std::string output;
  int sends = 0;
  std::string violations;
};

namespace chronos::test {

inline const chronos_host_api* fake_host_api() {
  static const chronos_host_api api = {
      sizeof(chronos_host_api),
      [](chronos_host* host, int, const char* message) { host->log.emplace_back(message); },
      [](chronos_conn* conn, const void* data, size_t len) -> int {
        if (!conn->in_callback) conn->violations += "send outside a callback; ";
        if (conn->closing) return -1;
        conn->output.append(static_cast<const char*>(data), len);
        ++conn->sends;
        return 0;
      },
      [](chronos_conn* conn) {
        if (!conn->in_callback) conn->violations += "close outside a callback; ";
        conn->closing = true;
      },
      [](chronos_conn* conn) { return conn->id; },
  };
  return &api;
}

// One started plugin instance. Throws std::runtime_error with the plugin's message if init fails.
class FakeHost {
 public:
  explicit FakeHost(const chronos_plugin* plugin, std::string config = "{}") : plugin_(plugin) {
    if (plugin == nullptr) throw std::runtime_error("no plugin descriptor");
    char error[256] = "";
    if (plugin->init(&host_, fake_host_api(), config.c_str(), config.size(), &instance_, error,
                     sizeof error) != 0)
      throw std::runtime_error(error);
  }
  ~FakeHost() { plugin_->shutdown(instance_); }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  const chronos_plugin* plugin() const { return plugin_; }
  void* instance() const { return instance_; }
  const std::vector<std::string>& log() const { return host_.log; }

 private:
  const chronos_plugin* plugin_;
  chronos_host host_;
  void* instance_ = nullptr;
};

// One client connection, opened at construction and closed (on_close) at destruction.
class FakeConnection {
 public:
  explicit FakeConnection(FakeHost& host) : host_(host) {
    static std::uint64_t next_id = 1;
    conn_.id = next_id++;
    if (plugin().on_open == nullptr) return;
    conn_.in_callback = true;
    const int refused = plugin().on_open(host_.instance(), &conn_, &state_);
    conn_.in_callback = false;
    if (refused != 0) conn_.closing = open_refused_ = true;
  }
  ~FakeConnection() {
    if (!open_refused_ && plugin().on_close != nullptr)
      plugin().on_close(host_.instance(), &conn_, state_);
  }
  FakeConnection(const FakeConnection&) = delete;
  FakeConnection& operator=(const FakeConnection&) = delete;

  // Bytes arrive: offers everything unconsumed to on_data, as the host does. Ignored once the
  // connection is closing (the host reads no more then).
  void receive(std::string_view bytes) {
    if (conn_.closing || bytes.empty()) return;
    input_.append(bytes);
    conn_.in_callback = true;
    const std::int64_t used =
        plugin().on_data(host_.instance(), &conn_, state_,
                         reinterpret_cast<const std::uint8_t*>(input_.data()), input_.size());
    conn_.in_callback = false;
    if (used < 0) {
      conn_.closing = true;
    } else if (static_cast<std::uint64_t>(used) > input_.size()) {
      conn_.violations += "on_data consumed more than it was given; ";
      conn_.closing = true;
    } else {
      input_.erase(0, static_cast<std::size_t>(used));
    }
  }

  const std::string& output() const { return conn_.output; }
  std::string take_output() { return std::exchange(conn_.output, {}); }
  int sends() const { return conn_.sends; }  // calls to send so far
  bool closing() const { return conn_.closing; }
  std::size_t unconsumed() const { return input_.size(); }
  const std::string& violations() const { return conn_.violations; }

 private:
  const chronos_plugin& plugin() const { return *host_.plugin(); }

  FakeHost& host_;
  chronos_conn conn_;
  void* state_ = nullptr;
  bool open_refused_ = false;
  std::string input_;
};

}  // namespace chronos::test
