// Integration test over the real Redis of ./dev.sh test: a device token that
// fetched an artifact stops working once auth publishes the device's
// revocation, and an operator token stops working once its key is revoked.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/redis_revocations.h"
#include "common/test_env.h"
#include "common/token.h"
#include "gtest/gtest.h"
#include "services/download/download_server.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::download {
namespace {

class DownloadRevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    keys_.Add(key_.public_key());
    const char* tmp = getenv("TEST_TMPDIR");
    DownloadServer::Options options;
    options.artifact_root = absl::StrCat(tmp ? tmp : "/tmp", "/download_revocation_test");
    std::filesystem::remove_all(options.artifact_root);
    options.key_source_override = &keys_;
    options.redis = env_->redis_options();
    options.redis_key_prefix = env_->redis_prefix();
    // Grants are tested in redis_download_grants_test and tests/download_test.
    options.enforce_download_grants = false;
    options.clock = &clock_;
    auto server = DownloadServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::Download::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
    auto redis = RedisClient::Create(env_->redis_options());
    ASSERT_TRUE(redis.ok());
    redis_ = *std::move(redis);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::Status Upload(const std::string& token, const std::string& data,
                      v1::ArtifactManifest* manifest) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    auto writer = stub_->Upload(&ctx, manifest);
    v1::UploadRequest request;
    request.mutable_header()->set_size(static_cast<int64_t>(data.size()));
    request.mutable_header()->set_sha256(Sha256Hex(data));
    writer->Write(request);
    request.set_data(data);
    writer->Write(request);
    writer->WritesDone();
    return writer->Finish();
  }

  grpc::Status Fetch(const std::string& token, const std::string& sha) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::FetchRequest request;
    request.set_sha256(sha);
    auto reader = stub_->Fetch(&ctx, request);
    v1::Chunk chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish();
  }

  void Publish(const Revocation& r) {
    RedisRevocationPublisher publisher(redis_.get(), env_->redis_prefix(), &clock_);
    uint64_t seen = server_->revocations().revision();
    ASSERT_TRUE(publisher.Publish(r).ok());
    ASSERT_TRUE(server_->revocations().AwaitRevision(seen + 1, absl::Seconds(5)));
  }

  FakeClock clock_;
  Ed25519KeyPair key_ = *Ed25519KeyPair::Generate();
  TokenSigner signer_{key_, &clock_, absl::Minutes(15)};
  StaticKeySource keys_;
  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<DownloadServer> server_;
  std::unique_ptr<v1::Download::Stub> stub_;
  std::unique_ptr<RedisClient> redis_;
};

TEST_F(DownloadRevocationTest, RevokedDeviceAndApiKeyStopWorking) {
  std::string publisher = signer_.Issue("ak_pub", kOperatorAudience, {.role = "publisher"})->token;
  v1::ArtifactManifest manifest;
  grpc::Status s = Upload(publisher, "artifact bytes", &manifest);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::string device = signer_.Issue("dev-1", kDeviceAudience)->token;
  ASSERT_TRUE(Fetch(device, manifest.sha256()).ok());

  Publish({Revocation::Kind::kSubject, std::string(kDeviceAudience), "dev-1", clock_.Now(),
           clock_.Now() + absl::Minutes(15)});
  s = Fetch(device, manifest.sha256());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "device dev-1 is revoked");
  EXPECT_TRUE(Fetch(signer_.Issue("dev-2", kDeviceAudience)->token, manifest.sha256()).ok());

  Publish({Revocation::Kind::kSubject, std::string(kOperatorAudience), "ak_pub", clock_.Now(),
           clock_.Now() + absl::Minutes(15)});
  s = Upload(publisher, "more bytes", &manifest);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "API key ak_pub is revoked");
}

}  // namespace
}  // namespace updraft::download
