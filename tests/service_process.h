#ifndef UPDRAFT_TESTS_SERVICE_PROCESS_H_
#define UPDRAFT_TESTS_SERVICE_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace updraft::e2e {

// A service binary of this repository run as a child process, for fault
// injection tests that kill it with SIGKILL (tests/*_kill_test.cc). Its
// stderr (the JSON log) goes to a file; it is ready when the log holds
// `ready_message` and a "port" field, which gives its address.
class ServiceProcess {
 public:
  // `binary`: the workspace-relative path of a data dependency, e.g.
  // "services/notifier/notifier". `flags` should include --listen=127.0.0.1:0.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::string& binary, const std::vector<std::string>& flags, const std::string& log,
      const std::string& ready_message, absl::Duration wait = absl::Seconds(30));
  ~ServiceProcess();  // kills it if still running

  // SIGKILL, then reaps it.
  void Kill();
  // "127.0.0.1:<port>".
  const std::string& address() const { return address_; }

 private:
  ServiceProcess() = default;
  pid_t pid_ = -1;
  std::string address_;
};

// Polls `done` every 10 ms until it holds or `limit` passes (waiting on
// another process cannot be done without polling); whether it held.
template <typename F>
bool PollUntil(F done, absl::Duration limit) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace updraft::e2e

#endif  // UPDRAFT_TESTS_SERVICE_PROCESS_H_
