#ifndef UPDRAFT_SERVICES_AUTH_MOCKS_H_
#define UPDRAFT_SERVICES_AUTH_MOCKS_H_

#include <vector>

#include "gmock/gmock.h"
#include "services/auth/challenge_store.h"
#include "services/auth/device_registry.h"
#include "services/auth/rate_limiter.h"

namespace updraft {

// gMock DeviceRegistry, for tests that script store behaviour (failures).
class MockDeviceRegistry : public DeviceRegistry {
 public:
  MOCK_METHOD(absl::StatusOr<DeviceRecord>, Register,
              (const DeviceRecord& device, const AuditEntry& audit), (override));
  MOCK_METHOD(absl::StatusOr<DeviceRecord>, Get, (absl::string_view device_id), (override));
  MOCK_METHOD(absl::StatusOr<std::vector<DeviceRecord>>, List, (const DeviceQuery& query),
              (override));
  MOCK_METHOD(absl::StatusOr<DeviceRecord>, Transition,
              (absl::string_view device_id, const std::vector<DeviceStatus>& from, DeviceStatus to,
               const AuditEntry& audit),
              (override));
  MOCK_METHOD(absl::Status, Import,
              (const std::vector<DeviceRecord>& devices, const AuditEntry& audit,
               size_t* conflict_index),
              (override));
};

// gMock ChallengeStore, for tests that script store behaviour (failures).
class MockChallengeStore : public ChallengeStore {
 public:
  MOCK_METHOD(absl::Status, Put,
              (absl::string_view nonce, absl::string_view device_id, absl::Duration ttl),
              (override));
  MOCK_METHOD(absl::Status, PutNext,
              (absl::string_view device_id, absl::string_view nonce, absl::Duration ttl),
              (override));
  MOCK_METHOD(absl::StatusOr<TakenChallenge>, Take,
              (absl::string_view device_id, absl::string_view nonce), (override));
};

// gMock RateLimiter, for tests that script limiter failures.
class MockRateLimiter : public RateLimiter {
 public:
  MOCK_METHOD(absl::StatusOr<absl::Duration>, Hit, (absl::string_view key, const RateLimit& limit),
              (override));
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_MOCKS_H_
