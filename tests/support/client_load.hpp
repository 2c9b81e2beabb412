// ClientLoad: client threads that connect to loopback ports, run a session, close, and again,
// until stopped. They count the good exchanges and keep the first failures, so a test can change
// the server under steady load and then check that nothing failed.
//
//   ClientLoad load({port, port}, [](Client& c, std::uint16_t port, ClientLoad::Tally& tally)
//   {...}); REQUIRE(load.wait_for_more(30));  // after each change: the load goes on const
//   std::vector<std::string> failures = load.stop();
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "client.hpp"
#include "wait.hpp"

namespace chronos::test {

class ClientLoad {
 public:
  // What a session reports: each good exchange, and each failure in words.
  class Tally {
   public:
    void good() { good_.fetch_add(1); }
    void fail(std::string what) {
      std::lock_guard lock(mutex_);
      if (failures_.size() < 20) failures_.push_back(std::move(what));  // the first few tell
    }

   private:
    friend class ClientLoad;
    std::atomic<std::uint64_t> good_{0};
    std::mutex mutex_;
    std::vector<std::string> failures_;
  };
  // One connection's exchanges (to `port`); it returns to have it closed and another opened.
  using Session = std::function<void(Client&, std::uint16_t port, Tally&)>;

  // One thread per entry of `ports`.
  ClientLoad(const std::vector<std::uint16_t>& ports, Session session)
      : session_(std::move(session)) {
    for (const std::uint16_t port : ports)
      threads_.emplace_back([this, port](std::stop_token stop) { loop(stop, port); });
  }
  ~ClientLoad() { stop(); }
  ClientLoad(const ClientLoad&) = delete;
  ClientLoad& operator=(const ClientLoad&) = delete;

  std::uint64_t good() const { return tally_.good_.load(); }
  // Whether `more` good exchanges happen from now on within `timeout`.
  bool wait_for_more(std::uint64_t more, std::chrono::milliseconds timeout = 10s) {
    const std::uint64_t before = good();
    return wait_until([&] { return good() >= before + more; }, timeout);
  }

  // Stops and joins the clients; the failures they saw.
  std::vector<std::string> stop() {
    for (auto& t : threads_) t.request_stop();
    threads_.clear();  // joins
    std::lock_guard lock(tally_.mutex_);
    return tally_.failures_;
  }

 private:
  void loop(const std::stop_token& stop, std::uint16_t port) {
    while (!stop.stop_requested()) {
      Client c(port);
      if (!c.connected()) {
        tally_.fail("connect to " + std::to_string(port) + ": " + std::strerror(errno));
        continue;
      }
      session_(c, port, tally_);
    }
  }

  Session session_;
  Tally tally_;
  std::vector<std::jthread> threads_;  // last: joined before the rest goes
};

}  // namespace chronos::test
