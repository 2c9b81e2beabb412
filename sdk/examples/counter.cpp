// An example plugin with the C++ layer: greets each client, then numbers the lines it sends.
//
// Config (optional):  greeting: "hello\n"
#include <chronos/plugin_config.h>
#include <chronos/plugin.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

class Counter {
 public:
  struct Session {  // one per connection
    std::uint64_t lines = 0;
  };

  Counter(std::string_view config, chronos::Host host) : host_(host) {
    const long n = chronos_config_string(config.data(), config.size(), "greeting", nullptr, 0);
    if (n == CHRONOS_CONFIG_INVALID) throw std::runtime_error("greeting must be a string");
    if (n >= 0) {
      greeting_.assign(static_cast<std::size_t>(n) + 1, '\0');  // room for the NUL
      chronos_config_string(config.data(), config.size(), "greeting", greeting_.data(),
                            greeting_.size());
      greeting_.resize(static_cast<std::size_t>(n));
    }
  }

  void on_open(chronos::Connection conn, Session&) { conn.send(greeting_); }

  std::size_t on_data(chronos::Connection conn, Session& session, std::string_view data) {
    std::string reply;
    std::size_t used = 0;
    for (std::size_t eol; (eol = data.find('\n', used)) != std::string_view::npos; used = eol + 1) {
      reply += std::to_string(++session.lines) + ": ";
      reply += data.substr(used, eol + 1 - used);
    }
    conn.send(reply);
    return used;  // an unfinished line comes back with the bytes that follow it
  }

  void on_close(chronos::Connection conn, Session& session) {
    // Connections run in parallel: state shared between them must be thread-safe.
    const auto total = total_lines_ += session.lines;
    host_.log(CHRONOS_LOG_INFO, "connection " + std::to_string(conn.id()) + " sent " +
                                    std::to_string(session.lines) + " lines (" +
                                    std::to_string(total) + " in all)");
  }

 private:
  chronos::Host host_;
  std::string greeting_ = "hello\n";
  std::atomic<std::uint64_t> total_lines_{0};
};

CHRONOS_PLUGIN(Counter, "counter", "1.0.0")
