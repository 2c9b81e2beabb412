// Speaking the shipped plugins' protocols over a Client: echo exchanges and HTTP/1.1 requests
// and responses (kept-alive and pipelined). Every read has a deadline.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "client.hpp"

namespace chronos::test {

inline const std::string kGet = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

// Sends `data` and reads the same number of bytes back, sending and receiving at once so
// neither side's buffers have to hold the whole message. Returns what came back.
inline std::string echo_roundtrip(Client& client, std::string_view data,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  std::string got;
  got.reserve(data.size());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t sent = 0;
  char buf[65536];
  while (got.size() < data.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{client.fd(), static_cast<short>(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    if ((p.revents & POLLOUT) && sent < data.size()) {
      const ssize_t n =
          ::send(client.fd(), data.data() + sent, std::min<std::size_t>(data.size() - sent, 65536),
                 MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        sent += static_cast<std::size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        break;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(client.fd(), buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0)
        got.append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        break;
    }
  }
  return got;
}

// One parsed HTTP response.
struct HttpResponse {
  bool complete = false;  // a whole response arrived
  int status = 0;
  std::string head;  // status line and headers, up to and including the blank line
  std::string body;

  // The value of header `name` (case-insensitive), or "" if absent.
  std::string header(std::string_view name) const {
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);  // status line
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos || colon != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < colon; ++i)
        same &= std::tolower(static_cast<unsigned char>(line[i])) ==
                std::tolower(static_cast<unsigned char>(name[i]));
      if (!same) continue;
      std::size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      return line.substr(v);
    }
    return "";
  }
};

// Reads HTTP responses off one connection, keeping bytes that arrive early (pipelining).
class HttpReader {
 public:
  explicit HttpReader(Client& client) : client_(client) {}

  // Reads the next response; with `head_request` it has no body whatever Content-Length says.
  HttpResponse next(bool head_request = false,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    HttpResponse r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(deadline)) return r;
    r.head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    if (r.head.rfind("HTTP/1.", 0) == 0 && r.head.size() > 12)
      r.status = std::atoi(r.head.c_str() + 9);
    std::size_t length = 0;
    if (!head_request) {
      const std::string cl = r.header("Content-Length");
      length = cl.empty() ? 0 : static_cast<std::size_t>(std::stoull(cl));
    }
    while (buffer_.size() < length)
      if (!fill(deadline)) return r;
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    r.complete = true;
    return r;
  }

  // Bytes received beyond the responses read so far.
  const std::string& leftover() const { return buffer_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const std::string more = client_.recv_some(65536, left);
    buffer_ += more;
    return !more.empty();
  }

  Client& client_;
  std::string buffer_;
};

// One GET on a fresh or kept-alive connection; the response.
inline HttpResponse http_get(Client& client, const std::string& target = "/") {
  if (!client.send_all("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n")) return {};
  HttpReader reader(client);
  return reader.next();
}

// Speaks echo (not HTTP) on `client`: `text` comes back as it went.
inline bool echoes(Client& client, const std::string& text = "ping") {
  return echo_roundtrip(client, text, std::chrono::seconds(10)) == text;
}

}  // namespace chronos::test
