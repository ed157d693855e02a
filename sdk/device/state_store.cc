#include "sdk/device/state_store.h"

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "sdk/device/file_util.h"

namespace updraft::device {
namespace {

constexpr uint32_t kFormatVersion = 1;

absl::Status Corrupt(const std::string& path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("device state file ", path, " is corrupt (", why,
                                          "); move it away to start from an empty state"));
}

}  // namespace

absl::StatusOr<v1::DeviceLocalState> ReadStateFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  if (absl::IsNotFound(bytes.status())) return v1::DeviceLocalState();
  if (!bytes.ok()) return bytes.status();
  v1::DeviceStateFile file;
  if (!file.ParseFromString(*bytes)) return Corrupt(path, "not a DeviceStateFile");
  if (file.format_version() != kFormatVersion) {
    return Corrupt(path, absl::StrCat("unknown format version ", file.format_version()));
  }
  if (file.sha256() != Sha256(file.state())) return Corrupt(path, "checksum mismatch");
  v1::DeviceLocalState state;
  if (!state.ParseFromString(file.state())) return Corrupt(path, "state does not parse");
  return state;
}

absl::Status WriteStateFile(const std::string& path, const v1::DeviceLocalState& state) {
  v1::DeviceStateFile file;
  file.set_format_version(kFormatVersion);
  if (!state.SerializeToString(file.mutable_state())) {
    return absl::InternalError("cannot serialize device state");
  }
  file.set_sha256(Sha256(file.state()));
  return WriteFileAtomically(path, file.SerializeAsString(), 0600);
}

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& state_dir) {
  if (state_dir.empty()) return absl::InvalidArgumentError("state_dir must not be empty");
  absl::Status made = MakeDirectories(state_dir);
  if (!made.ok()) return made;
  absl::StatusOr<v1::DeviceLocalState> state =
      ReadStateFile(absl::StrCat(state_dir, "/", kFileName));
  if (!state.ok()) return state.status();
  return std::unique_ptr<StateStore>(new StateStore(state_dir, *std::move(state)));
}

std::string StateStore::file_path() const { return absl::StrCat(state_dir_, "/", kFileName); }

v1::DeviceLocalState StateStore::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::Status StateStore::Update(const std::function<absl::Status(v1::DeviceLocalState&)>& mutate) {
  absl::MutexLock lock(&mu_);
  v1::DeviceLocalState next = state_;
  absl::Status s = mutate(next);
  if (!s.ok()) return s;
  s = WriteStateFile(file_path(), next);
  if (!s.ok()) return s;
  state_ = std::move(next);
  return absl::OkStatus();
}

}  // namespace updraft::device
