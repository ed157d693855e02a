#include "common/tls.h"

#include <fstream>

#include "absl/time/clock.h"
#include "common/grpc_server.h"
#include "common/tls_test_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = TestCertificates::Create();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_.emplace(*certs);
    auto other = TestCertificates::Create("other-ca");
    ASSERT_TRUE(other.ok()) << other.status();
    other_ca_.emplace(*other);
  }

  // Starts a health-only server with `tls`.
  void Serve(const TlsOptions& tls) {
    auto creds = ServerCredentialsFrom(tls);
    ASSERT_TRUE(creds.ok()) << creds.status();
    GrpcServer::Options options;
    options.credentials = *creds;
    auto server = GrpcServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // A health Check through a channel made with `tls`.
  grpc::Status Check(const TlsOptions& tls) {
    auto channel = MakeChannel("127.0.0.1:" + std::to_string(server_->port()), tls);
    if (!channel.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "no channel");
    auto stub = Health::NewStub(*channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    HealthCheckResponse resp;
    grpc::Status s = stub->Check(&ctx, HealthCheckRequest(), &resp);
    if (s.ok()) {
      EXPECT_EQ(resp.status(), HealthCheckResponse::SERVING);
    }
    return s;
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = certs_->dir() + "/" + name;
    std::ofstream(path) << content;
    return path;
  }

  std::optional<TestCertificates> certs_;
  std::optional<TestCertificates> other_ca_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(TlsTest, ClientTrustingTheCaConnects) {
  Serve(certs_->Server("auth"));
  grpc::Status s = Check(certs_->Client());
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(TlsTest, ServerNameOverrideIsCheckedAgainstTheCertificate) {
  Serve(certs_->Server("catalog"));
  TlsOptions tls = certs_->Client();
  tls.server_name_override = "catalog.updraft.svc";
  grpc::Status s = Check(tls);
  EXPECT_TRUE(s.ok()) << s.error_message();
  tls.server_name_override = "auth";
  EXPECT_EQ(Check(tls).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, PlaintextClientOrClientWithAnotherCaIsRefused) {
  Serve(certs_->Server("auth"));
  EXPECT_EQ(Check(TlsOptions()).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(other_ca_->Client()).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, TlsClientAgainstPlaintextServerFails) {
  Serve(TlsOptions());
  EXPECT_TRUE(Check(TlsOptions()).ok());
  EXPECT_EQ(Check(certs_->Client()).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsNeedsAClientCertificateFromTheCa) {
  Serve(certs_->Server("download", /*require_client_cert=*/true));
  EXPECT_EQ(Check(certs_->Client()).error_code(), grpc::StatusCode::UNAVAILABLE);
  TlsOptions foreign = certs_->Client();
  foreign.client_cert_file = other_ca_->Path("operator.pem");
  foreign.client_key_file = other_ca_->Path("operator.key");
  EXPECT_EQ(Check(foreign).error_code(), grpc::StatusCode::UNAVAILABLE);
  grpc::Status s = Check(certs_->Client("operator"));
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = Check(certs_->Client("catalog"));
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(TlsTest, NoCertificatesMeansInsecure) {
  auto server = ServerCredentialsFrom(TlsOptions());
  ASSERT_TRUE(server.ok());
  auto client = ChannelCredentialsFrom(TlsOptions());
  ASSERT_TRUE(client.ok());
  EXPECT_NE(*server, nullptr);
  EXPECT_NE(*client, nullptr);
}

TEST_F(TlsTest, MissingFilesAreNotFoundAndNamed) {
  TlsOptions tls = certs_->Server("auth");
  tls.cert_file = certs_->Path("nope.pem");
  auto s = ServerCredentialsFrom(tls);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("cert_file"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("nope.pem"), std::string::npos) << s.status();

  TlsOptions client = certs_->Client();
  client.ca_file = "/no/such/ca.pem";
  auto c = ChannelCredentialsFrom(client);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("/no/such/ca.pem"), std::string::npos) << c.status();
  EXPECT_EQ(MakeChannel("127.0.0.1:1", client).status().code(), absl::StatusCode::kNotFound);

  client = certs_->Client("operator");
  client.client_key_file = "/no/such/key";
  EXPECT_EQ(ChannelCredentialsFrom(client).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TlsTest, BadContentIsInvalidArgument) {
  std::string garbage = WriteFile("garbage.pem", "not a certificate\n");
  TlsOptions tls = certs_->Server("auth");
  tls.cert_file = garbage;
  auto s = ServerCredentialsFrom(tls);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("garbage.pem"), std::string::npos) << s.status();

  tls = certs_->Server("auth");
  tls.key_file = garbage;
  EXPECT_EQ(ServerCredentialsFrom(tls).status().code(), absl::StatusCode::kInvalidArgument);

  tls = certs_->Server("auth");
  tls.key_file = certs_->Path("catalog.key");
  s = ServerCredentialsFrom(tls);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("is not the key of"), std::string::npos) << s.status();

  TlsOptions client = certs_->Client();
  client.ca_file = garbage;
  EXPECT_EQ(ChannelCredentialsFrom(client).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ChannelCredentialsFrom(TlsOptions{.ca_file = WriteFile("empty.pem", "")}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(TlsTest, IncompleteCombinationsAreInvalidArgument) {
  TlsOptions only_cert;
  only_cert.cert_file = certs_->Path("auth.pem");
  auto s = ServerCredentialsFrom(only_cert);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("key_file is missing"), std::string::npos) << s.status();

  TlsOptions no_ca = certs_->Server("auth", /*require_client_cert=*/true);
  no_ca.ca_file.clear();
  EXPECT_EQ(ServerCredentialsFrom(no_ca).status().code(), absl::StatusCode::kInvalidArgument);

  TlsOptions plaintext_mtls;
  plaintext_mtls.require_client_cert = true;
  EXPECT_EQ(ServerCredentialsFrom(plaintext_mtls).status().code(),
            absl::StatusCode::kInvalidArgument);

  TlsOptions client_cert_without_ca = certs_->Client("operator");
  client_cert_without_ca.ca_file.clear();
  EXPECT_EQ(ChannelCredentialsFrom(client_cert_without_ca).status().code(),
            absl::StatusCode::kInvalidArgument);

  TlsOptions half_client = certs_->Client("operator");
  half_client.client_key_file.clear();
  EXPECT_EQ(ChannelCredentialsFrom(half_client).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(MakeChannel("", certs_->Client()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft
