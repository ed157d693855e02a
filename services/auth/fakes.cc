#include "services/auth/fakes.h"

#include "absl/strings/str_cat.h"

namespace updraft {

absl::StatusOr<DeviceRecord> FakeDeviceRegistry::Register(const DeviceRecord& device) {
  absl::MutexLock lock(&mu_);
  if (devices_.count(device.device_id) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("device ", device.device_id, " is already registered"));
  }
  DeviceRecord stored = device;
  stored.created_at = clock_->Now();
  devices_[stored.device_id] = stored;
  return stored;
}

absl::StatusOr<DeviceRecord> FakeDeviceRegistry::Get(absl::string_view device_id) {
  absl::MutexLock lock(&mu_);
  auto it = devices_.find(device_id);
  if (it == devices_.end()) return absl::NotFoundError(absl::StrCat("no device ", device_id));
  return it->second;
}

absl::Status FakeChallengeStore::Put(absl::string_view nonce, absl::string_view device_id,
                                     absl::Duration ttl) {
  absl::MutexLock lock(&mu_);
  auto it = challenges_.find(nonce);
  absl::Time now = clock_->Now();
  if (it != challenges_.end() && it->second.second > now) {
    return absl::AlreadyExistsError("challenge nonce is already outstanding");
  }
  challenges_[std::string(nonce)] = {std::string(device_id), now + ttl};
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> FakeChallengeStore::Take(absl::string_view nonce) {
  absl::MutexLock lock(&mu_);
  auto it = challenges_.find(nonce);
  if (it == challenges_.end()) return std::optional<std::string>();
  auto [device_id, expires_at] = it->second;
  challenges_.erase(it);
  if (clock_->Now() >= expires_at) return std::optional<std::string>();
  return std::optional<std::string>(device_id);
}

size_t FakeChallengeStore::size() {
  absl::MutexLock lock(&mu_);
  return challenges_.size();
}

}  // namespace updraft
