#include "services/auth/device_registry.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(DeviceStatusTest, NamesRoundTrip) {
  for (DeviceStatus s : {DeviceStatus::kPending, DeviceStatus::kAccepted, DeviceStatus::kRejected,
                         DeviceStatus::kRevoked}) {
    auto parsed = ParseDeviceStatus(DeviceStatusName(s));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(DeviceStatusName(DeviceStatus::kAccepted), "accepted");
}

TEST(DeviceStatusTest, UnknownNameIsInvalidArgument) {
  for (const char* name : {"", "Accepted", "active", "accepted "}) {
    EXPECT_EQ(ParseDeviceStatus(name).status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

}  // namespace
}  // namespace updraft
