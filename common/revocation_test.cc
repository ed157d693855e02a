#include "common/revocation.h"

#include <thread>

#include "gtest/gtest.h"

namespace updraft {
namespace {

AccessClaims DeviceClaims(const std::string& device, absl::Time issued_at,
                          const std::string& token_id = "t1") {
  AccessClaims c;
  c.subject = device;
  c.audience = std::string(kDeviceAudience);
  c.token_id = token_id;
  c.issued_at = issued_at;
  c.expires_at = issued_at + absl::Minutes(15);
  return c;
}

Revocation DeviceRevocation(const std::string& device, absl::Time at) {
  return Revocation{Revocation::Kind::kSubject, std::string(kDeviceAudience), device, at,
                    at + absl::Minutes(15)};
}

TEST(RevocationCodecTest, RoundTrips) {
  Revocation r = DeviceRevocation("phone-1", absl::FromUnixMillis(1800000000123));
  std::string wire = EncodeRevocation(r);
  EXPECT_EQ(wire, "v1 subject updraft-device phone-1 1800000000123 1800000900123");
  auto back = DecodeRevocation(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, Revocation::Kind::kSubject);
  EXPECT_EQ(back->audience, kDeviceAudience);
  EXPECT_EQ(back->id, "phone-1");
  EXPECT_EQ(back->revoked_at, r.revoked_at);
  EXPECT_EQ(back->expires_at, r.expires_at);

  Revocation t{Revocation::Kind::kToken, "", "abc123", absl::FromUnixSeconds(5),
               absl::FromUnixSeconds(6)};
  EXPECT_EQ(EncodeRevocation(t), "v1 token - abc123 5000 6000");
  auto tb = DecodeRevocation(EncodeRevocation(t));
  ASSERT_TRUE(tb.ok());
  EXPECT_EQ(tb->kind, Revocation::Kind::kToken);
  EXPECT_EQ(tb->id, "abc123");
}

TEST(RevocationCodecTest, RejectsGarbage) {
  for (const char* s : {"", "v1", "v2 token - a 1 2", "v1 token - a x 2", "v1 thing - a 1 2",
                        "v1 token - a 1 2 3", "v1 token -  1 2"}) {
    EXPECT_EQ(DecodeRevocation(s).status().code(), absl::StatusCode::kInvalidArgument) << s;
  }
}

TEST(RevocationListTest, RevokedDeviceRefusesTokensIssuedBeforeOnly) {
  FakeClock clock;
  RevocationList list(&clock);
  absl::Time t0 = clock.Now();
  EXPECT_TRUE(list.Check(DeviceClaims("phone-1", t0)).ok());
  list.Add(DeviceRevocation("phone-1", t0 + absl::Milliseconds(500)));
  absl::Status s = list.Check(DeviceClaims("phone-1", t0));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "device phone-1 is revoked");
  EXPECT_TRUE(list.Check(DeviceClaims("phone-2", t0)).ok());
  // A token issued after the revocation (device accepted again) passes.
  EXPECT_TRUE(list.Check(DeviceClaims("phone-1", t0 + absl::Seconds(1))).ok());
  // Same subject in another audience is another subject.
  AccessClaims op = DeviceClaims("phone-1", t0);
  op.audience = std::string(kOperatorAudience);
  EXPECT_TRUE(list.Check(op).ok());
}

TEST(RevocationListTest, RevokedTokenAndApiKey) {
  FakeClock clock;
  RevocationList list(&clock);
  absl::Time now = clock.Now();
  list.Add({Revocation::Kind::kToken, "", "tok-9", now, now + absl::Minutes(15)});
  EXPECT_EQ(list.Check(DeviceClaims("phone-1", now, "tok-9")).message(), "access token revoked");
  EXPECT_TRUE(list.Check(DeviceClaims("phone-1", now, "tok-8")).ok());
  list.Add({Revocation::Kind::kSubject, std::string(kOperatorAudience), "ak_1", now,
            now + absl::Minutes(15)});
  AccessClaims op = DeviceClaims("ak_1", now, "tok-7");
  op.audience = std::string(kOperatorAudience);
  EXPECT_EQ(list.Check(op).message(), "API key ak_1 is revoked");
}

TEST(RevocationListTest, EntriesExpire) {
  FakeClock clock;
  RevocationList list(&clock);
  absl::Time t0 = clock.Now();
  list.Add(DeviceRevocation("phone-1", t0));
  list.Add({Revocation::Kind::kToken, "", "tok", t0, t0 + absl::Minutes(1)});
  EXPECT_EQ(list.size(), 2u);
  clock.Advance(absl::Minutes(2));
  EXPECT_EQ(list.size(), 1u);
  clock.Advance(absl::Minutes(14));
  EXPECT_EQ(list.size(), 0u);
  // An already expired revocation is not kept, but still counts as news.
  uint64_t rev = list.revision();
  list.Add(DeviceRevocation("phone-2", t0));
  EXPECT_EQ(list.revision(), rev + 1);
  EXPECT_EQ(list.size(), 0u);
}

TEST(RevocationListTest, AwaitRevisionWakesOnAddAndTimesOut) {
  FakeClock clock;
  RevocationList list(&clock);
  EXPECT_FALSE(list.AwaitRevision(1, absl::Milliseconds(10)));
  std::thread adder([&] { list.Add(DeviceRevocation("phone-1", clock.Now())); });
  EXPECT_TRUE(list.AwaitRevision(1, absl::Seconds(10)));
  adder.join();
  EXPECT_EQ(list.revision(), 1u);
}

}  // namespace
}  // namespace updraft
