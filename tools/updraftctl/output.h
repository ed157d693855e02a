#ifndef UPDRAFT_TOOLS_UPDRAFTCTL_OUTPUT_H_
#define UPDRAFT_TOOLS_UPDRAFTCTL_OUTPUT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/tls.h"
#include "google/protobuf/message.h"

namespace updraft::ctl {

// updraftctl's exit codes, which scripts may rely on.
inline constexpr int kExitOk = 0;
// The server refused the request (message on stderr).
inline constexpr int kExitRefused = 1;
// Bad command line.
inline constexpr int kExitUsage = 2;
// A server could not be reached (UNAVAILABLE, DEADLINE_EXCEEDED).
inline constexpr int kExitUnreachable = 3;
// campaign-watch: the campaign ended without completing (cancelled, expired).
inline constexpr int kExitCampaignNotCompleted = 5;

// The exit code for a command's status (kExitUsage for INVALID_ARGUMENT
// messages naming a --flag, as the commands produce them).
int ExitCodeFor(const absl::Status& status);

// One line of JSON for `message` (proto field names, enums by name).
std::string ToJson(const google::protobuf::Message& message);

// Keeps a copy of every response message received on channels made by
// MakeRecordingChannel: with --json, updraftctl prints them instead of its
// tables, so every command has a JSON form.
class ResponseRecorder {
 public:
  void Record(const google::protobuf::Message& message);
  // The messages recorded so far, oldest first; clears the record.
  std::vector<std::unique_ptr<google::protobuf::Message>> Take();

 private:
  absl::Mutex mu_;
  std::vector<std::unique_ptr<google::protobuf::Message>> messages_ ABSL_GUARDED_BY(mu_);
};

// MakeChannel, with every received message recorded in `recorder` (which
// must outlive the channel).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeRecordingChannel(const std::string& address,
                                                                    const TlsOptions& tls,
                                                                    ResponseRecorder* recorder);

}  // namespace updraft::ctl

#endif  // UPDRAFT_TOOLS_UPDRAFTCTL_OUTPUT_H_
