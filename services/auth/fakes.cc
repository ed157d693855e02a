#include "services/auth/fakes.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace updraft {

absl::Status FakeAuditLog::Append(const AuditEntry& entry) {
  absl::MutexLock lock(&mu_);
  entries_.push_back(entry);
  entries_.back().id = static_cast<int64_t>(entries_.size());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AuditEntry>> FakeAuditLog::List(const AuditQuery& query) {
  absl::MutexLock lock(&mu_);
  std::vector<AuditEntry> out;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (static_cast<int>(out.size()) >= query.limit) break;
    if (query.before_id > 0 && it->id >= query.before_id) continue;
    if (!query.device_id.empty() && it->device_id != query.device_id) continue;
    out.push_back(*it);
  }
  return out;
}

std::vector<AuditEntry> FakeAuditLog::entries() {
  absl::MutexLock lock(&mu_);
  return entries_;
}

void FakeDeviceRegistry::Audit(const AuditEntry& entry) {
  if (audit_ != nullptr) audit_->Append(entry).IgnoreError();
}

absl::StatusOr<DeviceRecord> FakeDeviceRegistry::Register(const DeviceRecord& device,
                                                          const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  if (devices_.count(device.device_id) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("device ", device.device_id, " is already registered"));
  }
  devices_[device.device_id] = device;
  Audit(audit);
  return device;
}

absl::StatusOr<DeviceRecord> FakeDeviceRegistry::Get(absl::string_view device_id) {
  absl::MutexLock lock(&mu_);
  auto it = devices_.find(device_id);
  if (it == devices_.end()) {
    return absl::NotFoundError(absl::StrCat("device ", device_id, " is not registered"));
  }
  return it->second;
}

absl::StatusOr<std::vector<DeviceRecord>> FakeDeviceRegistry::List(const DeviceQuery& query) {
  absl::MutexLock lock(&mu_);
  std::vector<DeviceRecord> out;
  for (auto it = devices_.upper_bound(query.after_device_id);
       it != devices_.end() && static_cast<int>(out.size()) < query.limit; ++it) {
    if (query.status.has_value() && it->second.status != *query.status) continue;
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<DeviceRecord> FakeDeviceRegistry::Transition(absl::string_view device_id,
                                                            const std::vector<DeviceStatus>& from,
                                                            DeviceStatus to,
                                                            const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  auto it = devices_.find(device_id);
  if (it == devices_.end()) {
    return absl::NotFoundError(absl::StrCat("device ", device_id, " is not registered"));
  }
  if (std::find(from.begin(), from.end(), it->second.status) == from.end()) {
    return TransitionError(it->second, to);
  }
  it->second.status = to;
  it->second.updated_at = audit.at;
  Audit(audit);
  return it->second;
}

absl::Status FakeDeviceRegistry::Import(const std::vector<DeviceRecord>& devices,
                                        const AuditEntry& audit, size_t* conflict_index) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < devices.size(); ++i) {
    if (devices_.count(devices[i].device_id) > 0) {
      if (conflict_index != nullptr) *conflict_index = i;
      return absl::AlreadyExistsError(
          absl::StrCat("device ", devices[i].device_id, " is already registered"));
    }
  }
  for (const DeviceRecord& d : devices) {
    devices_[d.device_id] = d;
    AuditEntry e = audit;
    e.device_id = d.device_id;
    e.detail = absl::StrCat("key_type=", KeyTypeName(d.key_type));
    Audit(e);
  }
  return absl::OkStatus();
}

size_t FakeDeviceRegistry::size() {
  absl::MutexLock lock(&mu_);
  return devices_.size();
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

absl::Status FakeChallengeStore::PutNext(absl::string_view device_id, absl::string_view nonce,
                                         absl::Duration ttl) {
  absl::MutexLock lock(&mu_);
  next_[std::string(device_id)] = {std::string(nonce), clock_->Now() + ttl};
  return absl::OkStatus();
}

absl::StatusOr<TakenChallenge> FakeChallengeStore::Take(absl::string_view device_id,
                                                        absl::string_view nonce) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  auto it = challenges_.find(nonce);
  if (it != challenges_.end()) {
    auto [issued_to, expires_at] = it->second;
    challenges_.erase(it);
    return now < expires_at && issued_to == device_id ? TakenChallenge::kChallenge
                                                      : TakenChallenge::kNone;
  }
  auto next = next_.find(device_id);
  if (next == next_.end() || next->second.first != nonce) return TakenChallenge::kNone;
  const absl::Time expires_at = next->second.second;
  next_.erase(next);
  return now < expires_at ? TakenChallenge::kNextChallenge : TakenChallenge::kNone;
}

size_t FakeChallengeStore::size() {
  absl::MutexLock lock(&mu_);
  return challenges_.size() + next_.size();
}

size_t FakeChallengeStore::next_size() {
  absl::MutexLock lock(&mu_);
  return next_.size();
}

void FakeChallengeStore::Clear() {
  absl::MutexLock lock(&mu_);
  challenges_.clear();
  next_.clear();
}

absl::Status FakeApiKeyStore::CreateLocked(const ApiKeyRecord& key, const AuditEntry& audit) {
  for (const ApiKeyRecord& k : keys_) {
    if (!k.revoked() && k.name == key.name) {
      return absl::AlreadyExistsError(
          absl::StrCat("an API key named ", key.name, " already exists"));
    }
    if (k.key_id == key.key_id || k.key_hash == key.key_hash) {
      return absl::AlreadyExistsError("API key collision");
    }
  }
  keys_.push_back(key);
  if (audit_ != nullptr) audit_->Append(audit).IgnoreError();
  return absl::OkStatus();
}

absl::Status FakeApiKeyStore::Create(const ApiKeyRecord& key, const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  return CreateLocked(key, audit);
}

absl::Status FakeApiKeyStore::CreateFirstAdmin(const ApiKeyRecord& key, const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  for (const ApiKeyRecord& k : keys_) {
    if (!k.revoked() && k.role == Role::kAdmin) {
      return absl::FailedPreconditionError("a valid admin API key exists already");
    }
  }
  return CreateLocked(key, audit);
}

absl::StatusOr<ApiKeyRecord> FakeApiKeyStore::FindByHash(absl::string_view key_hash) {
  absl::MutexLock lock(&mu_);
  for (const ApiKeyRecord& k : keys_) {
    if (k.key_hash == key_hash) return k;
  }
  return absl::NotFoundError("no API key with this hash");
}

absl::StatusOr<ApiKeyRecord> FakeApiKeyStore::Get(absl::string_view key_id) {
  absl::MutexLock lock(&mu_);
  for (const ApiKeyRecord& k : keys_) {
    if (k.key_id == key_id) return k;
  }
  return absl::NotFoundError(absl::StrCat("API key ", key_id, " does not exist"));
}

absl::StatusOr<ApiKeyRecord> FakeApiKeyStore::Revoke(absl::string_view key_id,
                                                     const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  for (ApiKeyRecord& k : keys_) {
    if (k.key_id != key_id) continue;
    if (!k.revoked()) k.revoked_at = audit.at;
    if (audit_ != nullptr) audit_->Append(audit).IgnoreError();
    return k;
  }
  return absl::NotFoundError(absl::StrCat("API key ", key_id, " does not exist"));
}

absl::StatusOr<std::vector<ApiKeyRecord>> FakeApiKeyStore::List() {
  absl::MutexLock lock(&mu_);
  return keys_;
}

absl::StatusOr<std::vector<StoredSigningKey>> FakeSigningKeyStore::List() {
  absl::MutexLock lock(&mu_);
  return keys_;
}

absl::StatusOr<bool> FakeSigningKeyStore::InsertIfEmpty(const StoredSigningKey& key,
                                                        const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  if (!keys_.empty()) return false;
  keys_.push_back(key);
  if (audit_ != nullptr) audit_->Append(audit).IgnoreError();
  return true;
}

absl::Status FakeSigningKeyStore::Rotate(const StoredSigningKey& key, const AuditEntry& audit) {
  absl::MutexLock lock(&mu_);
  for (StoredSigningKey& k : keys_) {
    if (k.retired_at == absl::InfiniteFuture()) k.retired_at = key.active_from;
  }
  keys_.push_back(key);
  if (audit_ != nullptr) audit_->Append(audit).IgnoreError();
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> FakeRateLimiter::Hit(absl::string_view key, const RateLimit& limit) {
  if (limit.max_attempts <= 0) return absl::ZeroDuration();
  absl::Time now = clock_->Now();
  int64_t window = absl::ToInt64Milliseconds(limit.window);
  int64_t index = absl::ToUnixMillis(now) / window;
  absl::MutexLock lock(&mu_);
  int64_t count = ++counts_[absl::StrCat(key, ":", index)];
  if (count <= limit.max_attempts) return absl::ZeroDuration();
  return absl::FromUnixMillis((index + 1) * window) - now;
}

absl::Status FakeRevocationPublisher::Publish(const Revocation& revocation) {
  {
    absl::MutexLock lock(&mu_);
    published_.push_back(revocation);
  }
  if (list_ != nullptr) list_->Add(revocation);
  return absl::OkStatus();
}

std::vector<Revocation> FakeRevocationPublisher::published() {
  absl::MutexLock lock(&mu_);
  return published_;
}

}  // namespace updraft
