#include "common/device_auth.h"

#include "gtest/gtest.h"
#include "updraft/v1/auth_mock.grpc.pb.h"

namespace updraft {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::Return;
using ::testing::SetArgPointee;

TEST(AuthServiceKeySourceTest, FetchesUnknownKeyAndRateLimitsRefetch) {
  FakeClock clock;
  auto kp = Ed25519KeyPair::Generate();
  v1::PublicKeySet set;
  auto* k = set.add_keys();
  k->set_key_id(KeyIdFor(kp->public_key()));
  k->set_ed25519(kp->public_key());
  auto* forged = set.add_keys();  // key ID that does not match its key: ignored
  forged->set_key_id("0000000000000000");
  forged->set_ed25519(kp->public_key());

  auto stub = std::make_unique<v1::MockAuthStub>();
  EXPECT_CALL(*stub, GetPublicKeys(_, _, _))
      .Times(2)
      .WillRepeatedly(DoAll(SetArgPointee<2>(set), Return(grpc::Status::OK)));
  AuthServiceKeySource source(std::move(stub), &clock, absl::Seconds(5));

  EXPECT_EQ(*source.Get(KeyIdFor(kp->public_key())), kp->public_key());  // fetch 1
  EXPECT_EQ(source.Get("0000000000000000").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source.Get("ffffffffffffffff").status().code(), absl::StatusCode::kNotFound);
  clock.Advance(absl::Seconds(6));
  EXPECT_EQ(source.Get("ffffffffffffffff").status().code(), absl::StatusCode::kNotFound);  // 2
}

TEST(AuthServiceKeySourceTest, AuthDownIsUnavailable) {
  FakeClock clock;
  auto stub = std::make_unique<v1::MockAuthStub>();
  EXPECT_CALL(*stub, GetPublicKeys(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")));
  AuthServiceKeySource source(std::move(stub), &clock);
  EXPECT_EQ(source.Get("k").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace updraft
