#include "services/download/download_server.h"

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/tls.h"
#include "common/tls_test_util.h"
#include "common/token.h"
#include "gtest/gtest.h"
#include "updraft/v1/auth.grpc.pb.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::download {
namespace {

std::string Root() {
  const char* tmp = getenv("TEST_TMPDIR");
  std::string root = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/download_server_test");
  std::filesystem::remove_all(root);
  return root;
}

TEST(DownloadServerTest, ServesMaximalChunksOverTcp) {
  FakeClock clock;
  auto key = Ed25519KeyPair::Generate();
  StaticKeySource keys;
  keys.Add(key->public_key());
  TokenSigner signer(*key, &clock, absl::Hours(1));

  DownloadServer::Options options;
  options.metrics_listen = "127.0.0.1:0";
  options.artifact_root = Root();
  options.key_source_override = &keys;
  options.clock = &clock;
  auto server = DownloadServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  EXPECT_GT((*server)->metrics_port(), 0);

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(17 << 20);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Download::NewStub(channel);

  // One 16 MiB data message and one 16 MiB chunk: the largest the protocol allows.
  std::string data(kMaxChunkSize, '\0');
  for (size_t i = 0; i < data.size(); i += 4096) data[i] = static_cast<char>(i >> 12);
  v1::ArtifactManifest manifest;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata(
        "authorization",
        absl::StrCat("Bearer ",
                     signer.Issue("ak_1", kOperatorAudience, {.role = "publisher"})->token));
    auto writer = stub->Upload(&ctx, &manifest);
    v1::UploadRequest request;
    request.mutable_header()->set_size(static_cast<int64_t>(data.size()));
    request.mutable_header()->set_sha256(Sha256Hex(data));
    request.mutable_header()->set_chunk_size(kMaxChunkSize);
    ASSERT_TRUE(writer->Write(request));
    request.set_data(data);
    ASSERT_TRUE(writer->Write(request));
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  ASSERT_EQ(manifest.chunk_sha256_size(), 1);

  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization",
                  absl::StrCat("Bearer ", signer.Issue("dev-1", kDeviceAudience)->token));
  v1::FetchRequest request;
  request.set_sha256(manifest.sha256());
  auto reader = stub->Fetch(&ctx, request);
  v1::Chunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  EXPECT_EQ(chunk.data().size(), data.size());
  EXPECT_EQ(Sha256(chunk.data()), manifest.chunk_sha256(0));
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_TRUE(reader->Finish().ok());
  (*server)->Shutdown();
}

TEST(DownloadServerTest, CreateValidatesOptions) {
  FakeClock clock;
  DownloadServer::Options options;
  options.artifact_root = Root();
  options.auth_address = "127.0.0.1:1";
  EXPECT_EQ(DownloadServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.clock = &clock;
  options.artifact_root = "";
  EXPECT_EQ(DownloadServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.artifact_root = Root();
  options.auth_address = "";
  EXPECT_EQ(DownloadServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  // Auth being unreachable does not stop the start: keys are fetched on demand.
  options.auth_address = "127.0.0.1:1";
  auto server = DownloadServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Shutdown();
}

// Publishes one token key through auth's GetPublicKeys.
class StandInAuth final : public v1::Auth::Service {
 public:
  explicit StandInAuth(std::string public_key) : public_key_(std::move(public_key)) {}
  grpc::Status GetPublicKeys(grpc::ServerContext*, const v1::GetPublicKeysRequest*,
                             v1::PublicKeySet* response) override {
    auto* k = response->add_keys();
    k->set_key_id(KeyIdFor(public_key_));
    k->set_ed25519(public_key_);
    return grpc::Status::OK;
  }

 private:
  std::string public_key_;
};

// Mutual TLS on the listener and on the channel to auth (token keys).
TEST(DownloadServerTest, ServesAndCallsAuthOverMutualTls) {
  auto certs = TestCertificates::Create();
  ASSERT_TRUE(certs.ok()) << certs.status();
  FakeClock clock;
  auto key = Ed25519KeyPair::Generate();
  ASSERT_TRUE(key.ok());
  StandInAuth auth(key->public_key());
  grpc::ServerBuilder builder;
  int auth_port = 0;
  builder.AddListeningPort("127.0.0.1:0", *ServerCredentialsFrom(certs->Service("auth")),
                           &auth_port);
  builder.RegisterService(&auth);
  auto auth_server = builder.BuildAndStart();
  ASSERT_NE(auth_server, nullptr);

  DownloadServer::Options options;
  options.artifact_root = Root();
  options.auth_address = absl::StrCat("127.0.0.1:", auth_port);
  options.tls = certs->Service("download");
  options.clock = &clock;
  auto server = DownloadServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
  TokenSigner signer(*key, &clock, absl::Hours(1));
  auto fetch = [&](const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization",
                    absl::StrCat("Bearer ", signer.Issue("dev-1", kDeviceAudience)->token));
    v1::FetchRequest request;
    request.set_sha256(Sha256Hex("never uploaded"));
    auto reader = v1::Download::NewStub(channel)->Fetch(&ctx, request);
    v1::Chunk chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish();
  };
  // Authenticated (keys came from auth over mutual TLS), then not found.
  grpc::Status s = fetch(*MakeChannel(address, certs->Client("device")));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_EQ(fetch(*MakeChannel(address, certs->Client())).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(fetch(*MakeChannel(address, TlsOptions())).error_code(), grpc::StatusCode::UNAVAILABLE);

  options.tls.ca_file = "";
  EXPECT_EQ(DownloadServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  (*server)->Shutdown();
  auth_server->Shutdown();
}

}  // namespace
}  // namespace updraft::download
