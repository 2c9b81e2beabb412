// ControlChannel: the messages between the chronos supervisor and the server process it runs,
// over a SOCK_SEQPACKET socket pair (one send is one message, so no framing is needed). A message
// is text, fields separated by '\n', and may carry one file descriptor (SCM_RIGHTS).
//
// The server sends (Supervisor.hpp says what the supervisor does with each):
//   listen NAME ADDRESS      -> answered: "ok" with the listening socket, or "error ERRNO WHAT"
//   keep NAME ADDRESS ...    the listeners it serves now: every other socket can be closed
//                            -> answered "kept" once they are
//   plugin NAME + file       a plugin file of the configuration it is about to say it serves
//   serving TEXT             the configuration text it serves now (validated, started)
//   ready                    it serves: a restart or an upgrade may go on
//   reload                   a reload began (it ends with the next keep)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chronos/Fd.hpp"

namespace chronos {

struct ControlMessage {
  std::vector<std::string> fields;  // fields[0] is the verb
  Fd fd;                            // the descriptor it carried, if any (close-on-exec)

  const std::string& verb() const;
};

// A connected pair: [0] stays with the supervisor, [1] goes to the server (both close-on-exec).
// Throws std::system_error.
std::pair<Fd, Fd> control_socket_pair();

// Sends one message (with `fd` attached when >= 0). False on failure (errno says why).
bool send_message(int socket, const std::vector<std::string>& fields, int fd = -1);

// A sealed memory file (close-on-exec, mode 0500, no more writes) with what `fd` holds from its
// start: how the supervisor keeps a plugin file that a deploy may rewrite later. Throws
// std::system_error.
Fd sealed_copy(int fd);

// Receives one message; nullopt at end of stream or on failure (errno 0 at end of stream,
// EAGAIN on a non-blocking socket with nothing to read).
std::optional<ControlMessage> receive_message(int socket);

}  // namespace chronos
