#include "services/auth/caching_device_registry.h"

#include "common/revocation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/mocks.h"

namespace updraft {
namespace {

using ::testing::_;
using ::testing::Return;

DeviceRecord Device(DeviceStatus status) {
  DeviceRecord d;
  d.device_id = "phone-1";
  d.public_key = std::string(32, 'k');
  d.status = status;
  return d;
}

class CachingDeviceRegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  MockDeviceRegistry backend_;
  RevocationList revocations_{&clock_};
  CachingDeviceRegistry cache_{{.backend = &backend_,
                                .clock = &clock_,
                                .revocations = &revocations_,
                                .ttl = absl::Seconds(2)}};
};

TEST_F(CachingDeviceRegistryTest, AcceptedDeviceIsReadOnceWithinTtl) {
  EXPECT_CALL(backend_, Get(_))
      .Times(2)
      .WillRepeatedly(Return(Device(DeviceStatus::kAccepted)));
  EXPECT_TRUE(cache_.Get("phone-1").ok());
  EXPECT_TRUE(cache_.Get("phone-1").ok());
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(cache_.Get("phone-1").ok());  // expired: read again
}

TEST_F(CachingDeviceRegistryTest, OtherStatesAndErrorsAreNotCached) {
  EXPECT_CALL(backend_, Get(_))
      .WillOnce(Return(Device(DeviceStatus::kPending)))
      .WillOnce(Return(absl::NotFoundError("gone")))
      .WillOnce(Return(Device(DeviceStatus::kAccepted)));
  EXPECT_EQ(cache_.Get("phone-1")->status, DeviceStatus::kPending);
  EXPECT_EQ(cache_.Get("phone-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cache_.Get("phone-1")->status, DeviceStatus::kAccepted);
}

TEST_F(CachingDeviceRegistryTest, LocalTransitionDropsTheEntry) {
  EXPECT_CALL(backend_, Get(_))
      .WillOnce(Return(Device(DeviceStatus::kAccepted)))
      .WillOnce(Return(Device(DeviceStatus::kRevoked)));
  EXPECT_CALL(backend_, Transition(_, _, DeviceStatus::kRevoked, _))
      .WillOnce(Return(Device(DeviceStatus::kRevoked)));
  EXPECT_TRUE(cache_.Get("phone-1").ok());
  EXPECT_TRUE(
      cache_.Transition("phone-1", {DeviceStatus::kAccepted}, DeviceStatus::kRevoked, {}).ok());
  EXPECT_EQ(cache_.Get("phone-1")->status, DeviceStatus::kRevoked);
}

TEST_F(CachingDeviceRegistryTest, RevocationFromAnotherReplicaDropsTheEntry) {
  EXPECT_CALL(backend_, Get(_))
      .WillOnce(Return(Device(DeviceStatus::kAccepted)))
      .WillOnce(Return(Device(DeviceStatus::kRevoked)));
  EXPECT_TRUE(cache_.Get("phone-1").ok());
  Revocation r;
  r.kind = Revocation::Kind::kSubject;
  r.audience = std::string(kDeviceAudience);
  r.id = "phone-1";
  r.revoked_at = clock_.Now();
  r.expires_at = clock_.Now() + absl::Hours(1);
  revocations_.Add(r);
  EXPECT_EQ(cache_.Get("phone-1")->status, DeviceStatus::kRevoked);
}

}  // namespace
}  // namespace updraft
