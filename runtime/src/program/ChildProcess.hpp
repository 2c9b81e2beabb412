// ChildProcess: a program the supervisor started (fork + exec), owned like a descriptor: the
// destructor kills and reaps one that still runs, so no server outlives its supervisor's scope.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace chronos {

class ChildProcess {
 public:
  // Starts `exe` with `args` (argv[1..]); `inherit` are descriptors the child keeps across exec
  // (all others are close-on-exec). The child gets an empty signal mask and SIGTERM when this
  // process dies (so a killed supervisor stops its server gracefully). Throws std::system_error.
  ChildProcess(const std::string& exe, const std::vector<std::string>& args,
               const std::vector<int>& inherit);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  bool exited() const noexcept { return exited_; }
  int status() const noexcept { return status_; }  // waitpid's, once exited()
  void signal(int sig) const noexcept;
  // Records the status waitpid reported for this pid.
  void set_exited(int status) noexcept;

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

// "exited with status 3" or "killed by SIGSEGV", for the log.
std::string describe_status(int status);

}  // namespace chronos
