#include "ControlChannel.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace chronos {
namespace {

// A configuration text travels as one message: let it be larger than the default buffer.
constexpr int kBufferBytes = 4 << 20;

std::string join_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields) out += (out.empty() ? "" : "\n") + f;
  return out;
}

std::vector<std::string> split_fields(const std::string& text, std::size_t max_fields) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (out.size() + 1 < max_fields) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  out.push_back(text.substr(start));
  return out;
}

}  // namespace

const std::string& ControlMessage::verb() const {
  static const std::string none;
  return fields.empty() ? none : fields[0];
}

std::pair<Fd, Fd> control_socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::system_error(errno, std::generic_category(), "control socket");
  for (int fd : fds) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kBufferBytes, sizeof(kBufferBytes));
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kBufferBytes, sizeof(kBufferBytes));
  }
  return {Fd(fds[0]), Fd(fds[1])};
}

bool send_message(int socket, const std::vector<std::string>& fields, int fd) {
  std::string text = join_fields(fields);
  iovec iov{text.data(), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  while ((n = ::sendmsg(socket, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == static_cast<ssize_t>(text.size());
}

Fd sealed_copy(int fd) {
  Fd copy(::memfd_create("chronos-plugin", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) throw std::system_error(errno, std::generic_category(), "memfd_create");
  char buf[65536];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof(buf), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "read");
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(copy.get(), buf + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) throw std::system_error(errno, std::generic_category(), "memfd write");
      done += w;
    }
    at += n;
  }
  // The plugin loader refuses a file others may write; the seals make it immutable.
  if (::fchmod(copy.get(), 0500) != 0 ||
      ::fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) !=
          0)
    throw std::system_error(errno, std::generic_category(), "memfd seal");
  return copy;
}

std::optional<ControlMessage> receive_message(int socket) {
  // A seqpacket's length, without taking it: MSG_TRUNC reports the whole size.
  char probe;
  ssize_t size;
  while ((size = ::recv(socket, &probe, 1, MSG_PEEK | MSG_TRUNC)) < 0 && errno == EINTR) {
  }
  if (size <= 0) {
    if (size == 0) errno = 0;
    return std::nullopt;
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  iovec iov{text.data(), text.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  while ((n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n < 0) return std::nullopt;
  ControlMessage out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
      out.fd.reset(fd);
    }
  text.resize(static_cast<std::size_t>(n));
  // "serving" carries the configuration text whole, newlines and all, as its second field.
  out.fields = split_fields(text, text.rfind("serving\n", 0) == 0 ? 2 : SIZE_MAX);
  return out;
}

}  // namespace chronos
