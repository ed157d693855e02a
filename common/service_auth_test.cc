#include "common/service_auth.h"

#include <memory>
#include <string>

#include "common/crypto.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace updraft {
namespace {

class ServiceAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = Ed25519KeyPair::Generate();
    ASSERT_TRUE(key.ok()) << key.status();
    signer_ = std::make_unique<TokenSigner>(*std::move(key), &clock_, absl::Minutes(15));
    keys_.Add(signer_->public_key());
  }

  ServiceAuth::Options BaseOptions() {
    return {.key_source_override = &keys_, .clock = &clock_, .metrics = &registry_};
  }

  std::string Issue(absl::string_view subject, absl::string_view audience) {
    auto token = signer_->Issue(subject, audience);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? token->token : "";
  }

  // Sum of a counter family's values with the given audience label.
  double Counted(const std::string& family, const std::string& audience,
                 const std::string& result = "") {
    double total = 0;
    for (const auto& f : registry_.Collect()) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        bool audience_ok = false, result_ok = result.empty();
        for (const auto& l : m.label) {
          if (l.name == "audience" && l.value == audience) audience_ok = true;
          if (l.name == "result" && l.value == result) result_ok = true;
        }
        if (audience_ok && result_ok) total += m.counter.value;
      }
    }
    return total;
  }

  FakeClock clock_;
  StaticKeySource keys_;
  prometheus::Registry registry_;
  std::unique_ptr<TokenSigner> signer_;
};

TEST_F(ServiceAuthTest, RequiresClockMetricsAndKeys) {
  ServiceAuth::Options no_clock = BaseOptions();
  no_clock.clock = nullptr;
  EXPECT_EQ(ServiceAuth::Create(no_clock).status().code(), absl::StatusCode::kInvalidArgument);

  ServiceAuth::Options no_metrics = BaseOptions();
  no_metrics.metrics = nullptr;
  EXPECT_EQ(ServiceAuth::Create(no_metrics).status().code(), absl::StatusCode::kInvalidArgument);

  ServiceAuth::Options no_keys = BaseOptions();
  no_keys.key_source_override = nullptr;
  auto created = ServiceAuth::Create(no_keys);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(created.status().message(), "channel address is empty");
}

TEST_F(ServiceAuthTest, AuthAddressAloneSuffices) {
  ServiceAuth::Options options = BaseOptions();
  options.key_source_override = nullptr;
  options.auth_address = "127.0.0.1:7401";
  auto auth = ServiceAuth::Create(options);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ((*auth)->device_verifier().audience(), kDeviceAudience);
}

TEST_F(ServiceAuthTest, EachVerifierAcceptsOnlyItsAudience) {
  auto auth = ServiceAuth::Create(BaseOptions());
  ASSERT_TRUE(auth.ok()) << auth.status();
  std::string device = Issue("phone-1", kDeviceAudience);
  std::string op = Issue("key-1", kOperatorAudience);

  auto claims = (*auth)->device_verifier().Verify(device);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "phone-1");
  auto op_claims = (*auth)->operator_verifier().Verify(op);
  ASSERT_TRUE(op_claims.ok()) << op_claims.status();
  EXPECT_EQ(op_claims->subject, "key-1");

  EXPECT_EQ((*auth)->device_verifier().Verify(op).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*auth)->operator_verifier().Verify(device).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*auth)->device_verifier().Verify("not a token").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(ServiceAuthTest, VerifiersEnforceTheRevocationList) {
  auto auth = ServiceAuth::Create(BaseOptions());
  ASSERT_TRUE(auth.ok()) << auth.status();
  std::string device = Issue("phone-1", kDeviceAudience);
  std::string op = Issue("key-1", kOperatorAudience);
  ASSERT_TRUE((*auth)->device_verifier().Verify(device).ok());

  absl::Time now = clock_.Now();
  (*auth)->revocations().Add({Revocation::Kind::kSubject, std::string(kDeviceAudience), "phone-1",
                              now, now + absl::Minutes(30)});
  (*auth)->revocations().Add({Revocation::Kind::kSubject, std::string(kOperatorAudience), "key-1",
                              now, now + absl::Minutes(30)});
  EXPECT_EQ((*auth)->device_verifier().Verify(device).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*auth)->operator_verifier().Verify(op).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(ServiceAuthTest, CountsVerificationsPerAudience) {
  auto auth = ServiceAuth::Create(BaseOptions());
  ASSERT_TRUE(auth.ok()) << auth.status();
  ASSERT_TRUE((*auth)->device_verifier().Verify(Issue("phone-1", kDeviceAudience)).ok());
  ASSERT_TRUE((*auth)->operator_verifier().Verify(Issue("key-1", kOperatorAudience)).ok());
  ASSERT_FALSE((*auth)->operator_verifier().Verify("garbage").ok());
  EXPECT_EQ(Counted("updraft_token_verifications_total", std::string(kDeviceAudience), "ok"), 1);
  EXPECT_EQ(Counted("updraft_token_verifications_total", std::string(kOperatorAudience), "ok"), 1);
  EXPECT_EQ(
      Counted("updraft_token_verifications_total", std::string(kOperatorAudience), "malformed"), 1);
}

}  // namespace
}  // namespace updraft
