#ifndef UPDRAFT_SERVICES_AUTH_FAKES_H_
#define UPDRAFT_SERVICES_AUTH_FAKES_H_

#include <map>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "services/auth/challenge_store.h"
#include "services/auth/device_registry.h"

namespace updraft {

// In-memory DeviceRegistry for tests; stamps created_at from `clock`.
class FakeDeviceRegistry : public DeviceRegistry {
 public:
  explicit FakeDeviceRegistry(const Clock* clock) : clock_(clock) {}
  absl::StatusOr<DeviceRecord> Register(const DeviceRecord& device) override;
  absl::StatusOr<DeviceRecord> Get(absl::string_view device_id) override;

 private:
  const Clock* clock_;
  absl::Mutex mu_;
  std::map<std::string, DeviceRecord, std::less<>> devices_ ABSL_GUARDED_BY(mu_);
};

// In-memory ChallengeStore for tests; a challenge expires when `clock`
// reaches its TTL, like a Redis key would.
class FakeChallengeStore : public ChallengeStore {
 public:
  explicit FakeChallengeStore(const Clock* clock) : clock_(clock) {}
  absl::Status Put(absl::string_view nonce, absl::string_view device_id,
                   absl::Duration ttl) override;
  absl::StatusOr<std::optional<std::string>> Take(absl::string_view nonce) override;
  // Challenges stored and not yet taken (expired ones included).
  size_t size();

 private:
  const Clock* clock_;
  absl::Mutex mu_;
  // nonce -> (device ID, expiry)
  std::map<std::string, std::pair<std::string, absl::Time>, std::less<>> challenges_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_FAKES_H_
