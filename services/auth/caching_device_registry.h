#ifndef UPDRAFT_SERVICES_AUTH_CACHING_DEVICE_REGISTRY_H_
#define UPDRAFT_SERVICES_AUTH_CACHING_DEVICE_REGISTRY_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/token.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/auth/device_registry.h"

namespace updraft {

// Keeps accepted devices in memory for a short time so that the login path
// (GetChallenge, then Login) does not read PostgreSQL twice per login.
// Only accepted records are cached, for at most `ttl`. A change made through
// this registry drops the entry at once; a revocation made on another auth
// replica drops it as soon as the revocation feed delivers it (the entry is
// checked against `revocations` on every hit), and any other change by
// another replica is seen within `ttl`. Lists and writes pass through.
class CachingDeviceRegistry : public DeviceRegistry {
 public:
  struct Options {
    DeviceRegistry* backend = nullptr;
    const Clock* clock = nullptr;
    // Optional; consulted on every hit.
    const RevocationChecker* revocations = nullptr;
    absl::Duration ttl = absl::Seconds(2);
    size_t capacity = 100000;
    // Optional: updraft_auth_device_cache_lookups_total{result="hit"|"miss"}.
    prometheus::Registry* metrics = nullptr;
  };
  explicit CachingDeviceRegistry(Options options);

  absl::StatusOr<DeviceRecord> Register(const DeviceRecord& device,
                                        const AuditEntry& audit) override;
  absl::StatusOr<DeviceRecord> Get(absl::string_view device_id) override;
  absl::StatusOr<std::vector<DeviceRecord>> List(const DeviceQuery& query) override;
  absl::StatusOr<DeviceRecord> Transition(absl::string_view device_id,
                                          const std::vector<DeviceStatus>& from, DeviceStatus to,
                                          const AuditEntry& audit) override;
  absl::Status Import(const std::vector<DeviceRecord>& devices, const AuditEntry& audit,
                      size_t* conflict_index) override;

 private:
  struct Entry {
    DeviceRecord record;
    absl::Time fetched_at;
  };
  void Drop(absl::string_view device_id);

  const Options options_;
  prometheus::Counter* hits_ = nullptr;
  prometheus::Counter* misses_ = nullptr;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_CACHING_DEVICE_REGISTRY_H_
