#ifndef UPDRAFT_SDK_DEVICE_STATE_STORE_H_
#define UPDRAFT_SDK_DEVICE_STATE_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "updraft/v1/device_state.pb.h"

namespace updraft::device {

// The device's local SCOMO tree (Inventory/Delivered and Inventory/Deployed),
// download progress, installed packages and unsent result reports, kept in
// `<state_dir>/device_state.pb`.
//
// Every change is persisted before it becomes visible: Update() applies a
// mutation to a copy, writes it atomically (temp file, fsync, rename, fsync
// directory) and only then swaps it in. A missing file is an empty state; a
// torn or corrupted file is DATA_LOSS (the file carries a SHA-256 of the
// state). Thread-safe.
class StateStore {
 public:
  static constexpr char kFileName[] = "device_state.pb";

  // Creates `state_dir` when needed and loads the state file.
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(const std::string& state_dir);

  const std::string& state_dir() const { return state_dir_; }
  std::string file_path() const;

  // A copy of the current state.
  v1::DeviceLocalState Snapshot() const;

  // Runs `mutate` on a copy of the state; when it returns OK the copy is
  // persisted and becomes the state. On any error nothing changes.
  absl::Status Update(const std::function<absl::Status(v1::DeviceLocalState&)>& mutate);

 private:
  StateStore(std::string state_dir, v1::DeviceLocalState state)
      : state_dir_(std::move(state_dir)), state_(std::move(state)) {}

  const std::string state_dir_;
  mutable absl::Mutex mu_;
  v1::DeviceLocalState state_ ABSL_GUARDED_BY(mu_);
};

// Reads a state file: empty state when missing, DATA_LOSS when corrupt.
absl::StatusOr<v1::DeviceLocalState> ReadStateFile(const std::string& path);

// Writes a state file atomically.
absl::Status WriteStateFile(const std::string& path, const v1::DeviceLocalState& state);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_STATE_STORE_H_
