#ifndef UPDRAFT_SERVICES_AUTH_MOCKS_H_
#define UPDRAFT_SERVICES_AUTH_MOCKS_H_

#include "gmock/gmock.h"
#include "services/auth/challenge_store.h"
#include "services/auth/device_registry.h"

namespace updraft {

// gMock DeviceRegistry, for tests that script store behaviour (failures).
class MockDeviceRegistry : public DeviceRegistry {
 public:
  MOCK_METHOD(absl::StatusOr<DeviceRecord>, Register, (const DeviceRecord& device), (override));
  MOCK_METHOD(absl::StatusOr<DeviceRecord>, Get, (absl::string_view device_id), (override));
};

// gMock ChallengeStore, for tests that script store behaviour (failures).
class MockChallengeStore : public ChallengeStore {
 public:
  MOCK_METHOD(absl::Status, Put,
              (absl::string_view nonce, absl::string_view device_id, absl::Duration ttl),
              (override));
  MOCK_METHOD(absl::StatusOr<std::optional<std::string>>, Take, (absl::string_view nonce),
              (override));
};

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_MOCKS_H_
