#include "services/auth/caching_device_registry.h"

namespace updraft {

CachingDeviceRegistry::CachingDeviceRegistry(Options options) : options_(options) {
  if (options_.metrics == nullptr) return;
  auto& lookups = prometheus::BuildCounter()
                      .Name("updraft_auth_device_cache_lookups_total")
                      .Help(
                          "Device record lookups on the login path, by whether the "
                          "in-memory cache answered (hit) or PostgreSQL was read (miss).")
                      .Register(*options_.metrics);
  hits_ = &lookups.Add({{"result", "hit"}});
  misses_ = &lookups.Add({{"result", "miss"}});
}

absl::StatusOr<DeviceRecord> CachingDeviceRegistry::Get(absl::string_view device_id) {
  const absl::Time now = options_.clock->Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(device_id);
    if (it != entries_.end()) {
      bool fresh = now - it->second.fetched_at < options_.ttl;
      if (fresh && options_.revocations != nullptr) {
        AccessClaims as_of_fetch;
        as_of_fetch.subject = it->second.record.device_id;
        as_of_fetch.audience = std::string(kDeviceAudience);
        as_of_fetch.issued_at = it->second.fetched_at;
        fresh = options_.revocations->Check(as_of_fetch).ok();
      }
      if (fresh) {
        if (hits_ != nullptr) hits_->Increment();
        return it->second.record;
      }
      entries_.erase(it);
    }
  }
  if (misses_ != nullptr) misses_->Increment();
  auto record = options_.backend->Get(device_id);
  if (record.ok() && record->status == DeviceStatus::kAccepted) {
    absl::MutexLock lock(&mu_);
    if (entries_.size() >= options_.capacity) entries_.clear();
    entries_[record->device_id] = Entry{*record, now};
  }
  return record;
}

void CachingDeviceRegistry::Drop(absl::string_view device_id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(device_id);
}

absl::StatusOr<DeviceRecord> CachingDeviceRegistry::Register(const DeviceRecord& device,
                                                             const AuditEntry& audit) {
  Drop(device.device_id);
  return options_.backend->Register(device, audit);
}

absl::StatusOr<std::vector<DeviceRecord>> CachingDeviceRegistry::List(const DeviceQuery& query) {
  return options_.backend->List(query);
}

absl::StatusOr<DeviceRecord> CachingDeviceRegistry::Transition(
    absl::string_view device_id, const std::vector<DeviceStatus>& from, DeviceStatus to,
    const AuditEntry& audit) {
  Drop(device_id);
  auto result = options_.backend->Transition(device_id, from, to, audit);
  Drop(device_id);  // a concurrent Get may have cached the old state meanwhile
  return result;
}

absl::Status CachingDeviceRegistry::Import(const std::vector<DeviceRecord>& devices,
                                           const AuditEntry& audit, size_t* conflict_index) {
  return options_.backend->Import(devices, audit, conflict_index);
}

}  // namespace updraft
