#include "services/auth/fakes.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(FakeChallengeStoreTest, SingleUseAndExpiresWithClock) {
  FakeClock clock;
  FakeChallengeStore store(&clock);
  ASSERT_TRUE(store.Put("n1", "dev-1", absl::Seconds(10)).ok());
  ASSERT_TRUE(store.Put("n2", "dev-2", absl::Seconds(10)).ok());
  EXPECT_EQ(store.Put("n1", "dev-3", absl::Seconds(10)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store.Take("n1"), std::optional<std::string>("dev-1"));
  EXPECT_EQ(*store.Take("n1"), std::nullopt);
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(*store.Take("n2"), std::nullopt);
  EXPECT_EQ(*store.Take("unknown"), std::nullopt);
}

TEST(FakeDeviceRegistryTest, RegisterGetAndDuplicate) {
  FakeClock clock;
  FakeDeviceRegistry registry(&clock);
  DeviceRecord d;
  d.device_id = "dev-1";
  auto stored = registry.Register(d);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->created_at, clock.Now());
  EXPECT_EQ(registry.Register(d).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(registry.Get("dev-1").ok());
  EXPECT_EQ(registry.Get("dev-2").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace updraft
