// The client's logins against the fake auth service, counting calls: the
// first login takes GetChallenge + Login, a token refresh one Login with the
// next challenge the previous answer carried, and a stale next challenge
// costs one refused Login then GetChallenge + Login. What must hold after
// each test: the device holds a working token, and auth saw exactly the
// calls counted.
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/client.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/mocks.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using ::testing::Return;

constexpr char kDevice[] = "phone-0001";
constexpr absl::Duration kTokenTtl = absl::Minutes(15);

class ClientLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::NewTempDir("client_login");
    ON_CALL(key_store_, Load()).WillByDefault(Return(absl::StatusOr<Ed25519KeyPair>(key_)));
    auth_.RegisterDevice(kDevice, key_.public_key());
    server_ = testutil::StartInProcess({&auth_});
  }

  void TearDown() override { server_.server->Shutdown(); }

  std::unique_ptr<Client> NewClient() {
    Client::Options o;
    o.device_id = kDevice;
    o.auth_channel = server_.channel;
    o.catalog_channel = server_.channel;
    o.download_channel_factory = [this](const std::string&) { return server_.channel; };
    o.key_store = &key_store_;
    o.installer = &installer_;
    o.state_dir = dir_ + "/state";
    o.consent = [](const v1::Offer&) { return true; };
    o.clock = &clock_;
    auto c = Client::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  // Auth's call counts: {GetChallenge, Login}.
  std::pair<int, int> Calls() const { return {auth_.get_challenge_calls(), auth_.login_calls()}; }

  // Moves into the token's renewal margin (the last minute of 15).
  void ToRenewal() { clock_.Advance(kTokenTtl - absl::Seconds(30)); }

  std::string dir_;
  Ed25519KeyPair key_ = *Ed25519KeyPair::Generate();
  ::testing::NiceMock<MockKeyStore> key_store_;
  ::testing::NiceMock<MockInstaller> installer_;
  FakeClock clock_;
  testutil::FakeAuthService auth_{&clock_, kTokenTtl};
  testutil::InProcessServer server_;
};

TEST_F(ClientLoginTest, FirstLoginTwoCallsRefreshOneCall) {
  auto client = NewClient();
  ASSERT_TRUE(client->Login().ok());
  EXPECT_EQ(Calls(), std::make_pair(1, 1));
  ASSERT_TRUE(client->Login().ok());  // cached token: no call
  EXPECT_EQ(Calls(), std::make_pair(1, 1));
  for (int refresh = 1; refresh <= 3; ++refresh) {
    ToRenewal();
    auto token = client->AccessToken();
    ASSERT_TRUE(token.ok()) << token.status();
    EXPECT_EQ(Calls(), std::make_pair(1, 1 + refresh)) << refresh;
    EXPECT_EQ(*token, absl::StrCat("token-", 1 + refresh));
  }
  EXPECT_EQ(auth_.logins(), 4);
}

TEST_F(ClientLoginTest, ForgottenTokenIsRenewedWithOneCall) {
  auto client = NewClient();
  ASSERT_TRUE(client->Login().ok());
  client->ForgetToken();  // a service said UNAUTHENTICATED
  ASSERT_TRUE(client->Login().ok());
  EXPECT_EQ(Calls(), std::make_pair(1, 2));
}

TEST_F(ClientLoginTest, StaleNextChallengeFallsBackOnce) {
  auto client = NewClient();
  ASSERT_TRUE(client->Login().ok());
  EXPECT_EQ(Calls(), std::make_pair(1, 1));
  auth_.ForgetChallenges();  // auth restarted on a flushed Redis
  ToRenewal();
  absl::Status login = client->Login();
  ASSERT_TRUE(login.ok()) << login;
  // The refused Login, then GetChallenge + Login: 3 calls, then success.
  EXPECT_EQ(Calls(), std::make_pair(2, 3));
  EXPECT_EQ(auth_.logins(), 2);
  // And the answer's next challenge works again: one call.
  ToRenewal();
  ASSERT_TRUE(client->Login().ok());
  EXPECT_EQ(Calls(), std::make_pair(2, 4));
}

TEST_F(ClientLoginTest, ExpiredNextChallengeIsNotSent) {
  auto client = NewClient();
  ASSERT_TRUE(client->Login().ok());
  // Past the next challenge's expiry (token TTL + 5 min): the client does
  // not waste a call on it.
  clock_.Advance(kTokenTtl + absl::Minutes(6));
  ASSERT_TRUE(client->Login().ok());
  EXPECT_EQ(Calls(), std::make_pair(2, 2));
}

TEST_F(ClientLoginTest, WithoutNextChallengesEveryLoginTakesTwoCalls) {
  auth_.SetNextChallengeTtl(absl::ZeroDuration());
  auto client = NewClient();
  ASSERT_TRUE(client->Login().ok());
  ToRenewal();
  ASSERT_TRUE(client->Login().ok());
  EXPECT_EQ(Calls(), std::make_pair(2, 2));
}

TEST_F(ClientLoginTest, NextChallengeIsNotKeptAcrossARestart) {
  {
    auto client = NewClient();
    ASSERT_TRUE(client->Login().ok());
  }
  // A new client on the same state directory starts with GetChallenge: the
  // next challenge was held in memory only.
  auto client = NewClient();
  ASSERT_TRUE(client->Login().ok());
  EXPECT_EQ(Calls(), std::make_pair(2, 2));
}

TEST_F(ClientLoginTest, WrongKeyFallsBackOnceThenReportsUnauthenticated) {
  auto client = NewClient();
  ASSERT_TRUE(client->Login().ok());
  auth_.RegisterDevice(kDevice, Ed25519KeyPair::Generate()->public_key());  // key replaced
  ToRenewal();
  absl::Status login = client->Login();
  EXPECT_EQ(login.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(login.message(), ::testing::HasSubstr("signature does not verify"));
  EXPECT_EQ(Calls(), std::make_pair(2, 3));  // no loop
}

}  // namespace
}  // namespace updraft::device
