#ifndef UPDRAFT_BENCH_CHILD_PROCESS_H_
#define UPDRAFT_BENCH_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace updraft::bench {

// A child process of a benchmark, driven by lines: what the parent writes
// goes to its standard input, and its standard output is read line by line
// (standard error passes through). Used by push_bench to run load clients
// and the notifier under test in their own processes.
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv);
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool Send(const std::string& line);
  // The next line without its newline; nullopt on end of output or when
  // `timeout` passes first.
  std::optional<std::string> ReadLine(absl::Duration timeout);
  // SIGTERM, then waits up to `grace` for the exit (SIGKILL after).
  // Returns the exit status as waitpid reports it.
  int Stop(absl::Duration grace);
  // Resident set size in KiB (from /proc), or -1.
  int64_t RssKib() const;

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
  bool exited_ = false;
};

}  // namespace updraft::bench

#endif  // UPDRAFT_BENCH_CHILD_PROCESS_H_
