#include "services/download/download_server.h"

#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "common/token.h"
#include "gtest/gtest.h"
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

}  // namespace
}  // namespace updraft::download
