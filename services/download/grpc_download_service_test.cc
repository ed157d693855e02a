#include "services/download/grpc_download_service.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/token.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/download/download_service.h"
#include "services/download/fs_artifact_store.h"

namespace updraft::download {
namespace {

namespace fs = std::filesystem;

// Calls test hooks from inside the server's store operations, so tests can
// act at a known point of an RPC without sleeping.
struct Hooks {
  std::function<void()> after_append;
  std::function<void(int64_t offset)> before_read;
};

class HookedReader : public ArtifactReader {
 public:
  HookedReader(std::unique_ptr<ArtifactReader> inner, Hooks* hooks)
      : inner_(std::move(inner)), hooks_(hooks) {}
  int64_t size() const override { return inner_->size(); }
  absl::Status ReadAt(int64_t offset, int64_t length, std::string* out) override {
    if (hooks_->before_read) hooks_->before_read(offset);
    return inner_->ReadAt(offset, length, out);
  }

 private:
  std::unique_ptr<ArtifactReader> inner_;
  Hooks* hooks_;
};

class HookedWriter : public ArtifactWriter {
 public:
  HookedWriter(std::unique_ptr<ArtifactWriter> inner, Hooks* hooks)
      : inner_(std::move(inner)), hooks_(hooks) {}
  absl::Status Append(absl::string_view data) override {
    absl::Status s = inner_->Append(data);
    if (hooks_->after_append) hooks_->after_append();
    return s;
  }
  int64_t bytes_written() const override { return inner_->bytes_written(); }
  absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenWritten() override {
    return inner_->OpenWritten();
  }
  absl::Status Commit(const v1::ArtifactManifest& m) override { return inner_->Commit(m); }
  void Abort() override { inner_->Abort(); }

 private:
  std::unique_ptr<ArtifactWriter> inner_;
  Hooks* hooks_;
};

class HookedStore : public ArtifactStore {
 public:
  HookedStore(ArtifactStore* inner, Hooks* hooks) : inner_(inner), hooks_(hooks) {}
  absl::StatusOr<std::unique_ptr<ArtifactWriter>> BeginUpload() override {
    auto w = inner_->BeginUpload();
    if (!w.ok()) return w.status();
    return std::unique_ptr<ArtifactWriter>(new HookedWriter(*std::move(w), hooks_));
  }
  absl::StatusOr<v1::ArtifactManifest> GetManifest(absl::string_view sha) override {
    return inner_->GetManifest(sha);
  }
  absl::StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(absl::string_view sha) override {
    auto r = inner_->OpenReader(sha);
    if (!r.ok()) return r.status();
    return std::unique_ptr<ArtifactReader>(new HookedReader(*std::move(r), hooks_));
  }

 private:
  ArtifactStore* inner_;
  Hooks* hooks_;
};

std::string TestData(size_t n) {
  std::string data;
  for (size_t i = 0; i < n; ++i) data.push_back(static_cast<char>((i * 17 + i / 300) & 0xFF));
  return data;
}

class GrpcDownloadServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/grpc_download_service_test");
    fs::remove_all(root_);
    FsArtifactStore::Options store_options;
    store_options.root = root_;
    fs_store_ = *FsArtifactStore::Create(store_options);
    store_ = std::make_unique<HookedStore>(fs_store_.get(), &hooks_);

    auto key = Ed25519KeyPair::Generate();
    ASSERT_TRUE(key.ok());
    keys_.Add(key->public_key());
    signer_ = std::make_unique<TokenSigner>(*key, &clock_, absl::Hours(1));

    DownloadService::Options options;
    options.store = store_.get();
    options.verifier = &verifier_;
    service_ = *DownloadService::Create(options);
    grpc_service_ =
        std::make_unique<GrpcDownloadService>(service_.get(), &registry_, &operator_verifier_);

    grpc::ServerBuilder builder;
    builder.RegisterService(grpc_service_.get());
    builder.SetMaxReceiveMessageSize(17 << 20);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Download::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override { ShutdownServer(); }

  // Returns once every RPC handler has finished.
  void ShutdownServer() {
    if (server_ && !shut_down_) {
      shut_down_ = true;
      server_->Shutdown();
      server_->Wait();
    }
  }

  std::string DeviceToken() { return signer_->Issue("dev-1", kDeviceAudience)->token; }

  // Adds an operator token of `role` to a call.
  void AsOperator(grpc::ClientContext* ctx, const std::string& role = "publisher") {
    ctx->AddMetadata("authorization",
                     "Bearer " + signer_->Issue("ak_1", kOperatorAudience, {.role = role})->token);
  }

  grpc::Status UploadOverWire(absl::string_view data, uint32_t chunk_size,
                              v1::ArtifactManifest* manifest, size_t piece = 3000) {
    grpc::ClientContext ctx;
    AsOperator(&ctx);
    auto writer = stub_->Upload(&ctx, manifest);
    v1::UploadRequest request;
    request.mutable_header()->set_size(static_cast<int64_t>(data.size()));
    request.mutable_header()->set_sha256(Sha256Hex(data));
    request.mutable_header()->set_chunk_size(chunk_size);
    writer->Write(request);
    for (size_t pos = 0; pos < data.size(); pos += piece) {
      request.set_data(std::string(data.substr(pos, piece)));
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  grpc::Status FetchOverWire(absl::string_view sha, int64_t offset, const std::string& token,
                             std::vector<v1::Chunk>* chunks) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    v1::FetchRequest request;
    request.set_sha256(std::string(sha));
    request.set_offset(offset);
    auto reader = stub_->Fetch(&ctx, request);
    v1::Chunk chunk;
    while (reader->Read(&chunk)) chunks->push_back(chunk);
    return reader->Finish();
  }

  double Counter(const std::string& name, const std::string& result = "") {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        bool match = result.empty();
        for (const auto& label : metric.label) {
          if (label.name == "result" && label.value == result) match = true;
        }
        if (match) return metric.counter.value;
      }
    }
    return 0;
  }

  void ExpectNothingVisible(absl::string_view sha) {
    EXPECT_EQ(fs_store_->GetManifest(sha).status().code(), absl::StatusCode::kNotFound);
    EXPECT_TRUE(fs::is_empty(root_ + "/tmp"));
    EXPECT_TRUE(fs::is_empty(root_ + "/manifests"));
  }

  FakeClock clock_;
  StaticKeySource keys_;
  TokenVerifier verifier_{&keys_, &clock_, std::string(kDeviceAudience)};
  TokenVerifier operator_verifier_{&keys_, &clock_, std::string(kOperatorAudience)};
  std::unique_ptr<TokenSigner> signer_;
  Hooks hooks_;
  std::string root_;
  std::unique_ptr<FsArtifactStore> fs_store_;
  std::unique_ptr<HookedStore> store_;
  std::unique_ptr<DownloadService> service_;
  prometheus::Registry registry_;
  std::unique_ptr<GrpcDownloadService> grpc_service_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
  std::unique_ptr<v1::Download::Stub> stub_;
};

TEST_F(GrpcDownloadServiceTest, UploadThenFetchVerifiesEveryChunk) {
  const std::string data = TestData(20000);
  v1::ArtifactManifest manifest;
  grpc::Status st = UploadOverWire(data, 4096, &manifest);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(manifest.sha256(), Sha256Hex(data));
  ASSERT_EQ(manifest.chunk_sha256_size(), 5);

  grpc::ClientContext get_ctx;
  v1::GetManifestRequest get;
  get.set_sha256(manifest.sha256());
  v1::ArtifactManifest fetched_manifest;
  EXPECT_EQ(stub_->GetManifest(&get_ctx, get, &fetched_manifest).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext viewer_ctx;
  AsOperator(&viewer_ctx, "viewer");
  ASSERT_TRUE(stub_->GetManifest(&viewer_ctx, get, &fetched_manifest).ok());
  EXPECT_EQ(fetched_manifest.SerializeAsString(), manifest.SerializeAsString());

  std::vector<v1::Chunk> chunks;
  st = FetchOverWire(manifest.sha256(), 0, DeviceToken(), &chunks);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(chunks.size(), 5u);
  std::string joined;
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].index(), i);
    EXPECT_EQ(chunks[i].offset(), static_cast<int64_t>(i) * 4096);
    EXPECT_EQ(Sha256(chunks[i].data()), chunks[i].sha256()) << i;
    EXPECT_EQ(chunks[i].sha256(), manifest.chunk_sha256(static_cast<int>(i))) << i;
    joined += chunks[i].data();
  }
  EXPECT_EQ(joined, data);

  std::vector<v1::Chunk> resumed;
  ASSERT_TRUE(FetchOverWire(manifest.sha256(), 10000, DeviceToken(), &resumed).ok());
  ASSERT_EQ(resumed.size(), 3u);
  EXPECT_EQ(resumed[0].offset(), 8192);

  EXPECT_EQ(Counter("updraft_download_uploads_total", "created"), 1);
  EXPECT_EQ(Counter("updraft_download_chunks_served_total"), 8);
  EXPECT_EQ(Counter("updraft_download_bytes_served_total"), 20000 + 20000 - 8192);
}

TEST_F(GrpcDownloadServiceTest, UploadNeedsPublisherAndGetManifestViewer) {
  {
    grpc::ClientContext ctx;
    AsOperator(&ctx, "viewer");
    v1::ArtifactManifest manifest;
    auto writer = stub_->Upload(&ctx, &manifest);
    v1::UploadRequest header;
    header.mutable_header()->set_size(3);
    header.mutable_header()->set_sha256(Sha256Hex("abc"));
    writer->Write(header);
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(s.error_message(), "role viewer may not call Upload; needs publisher");
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + DeviceToken());
    v1::ArtifactManifest manifest;
    auto writer = stub_->Upload(&ctx, &manifest);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  ExpectNothingVisible(Sha256Hex("abc"));
  v1::ArtifactManifest manifest;
  ASSERT_TRUE(UploadOverWire("abc", 0, &manifest).ok());
  for (const char* role : {"viewer", "publisher", "admin"}) {
    grpc::ClientContext ctx;
    AsOperator(&ctx, role);
    v1::GetManifestRequest get;
    get.set_sha256(manifest.sha256());
    v1::ArtifactManifest got;
    EXPECT_TRUE(stub_->GetManifest(&ctx, get, &got).ok()) << role;
  }
}

TEST_F(GrpcDownloadServiceTest, ReuploadReturnsExistingManifest) {
  const std::string data = TestData(5000);
  v1::ArtifactManifest first, second;
  ASSERT_TRUE(UploadOverWire(data, 4096, &first).ok());
  ASSERT_TRUE(UploadOverWire(data, 0, &second).ok());
  EXPECT_EQ(second.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(Counter("updraft_download_uploads_total", "existing"), 1);
}

TEST_F(GrpcDownloadServiceTest, FetchNeedsAValidDeviceToken) {
  const std::string data = TestData(5000);
  v1::ArtifactManifest manifest;
  ASSERT_TRUE(UploadOverWire(data, 4096, &manifest).ok());
  std::vector<v1::Chunk> chunks;
  EXPECT_EQ(FetchOverWire(manifest.sha256(), 0, "", &chunks).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(FetchOverWire(manifest.sha256(), 0, "not.a-token", &chunks).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  std::string operator_token = signer_->Issue("op-1", "updraft-operator")->token;
  EXPECT_EQ(FetchOverWire(manifest.sha256(), 0, operator_token, &chunks).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto stranger = Ed25519KeyPair::Generate();
  TokenSigner stranger_signer(*stranger, &clock_, absl::Hours(1));
  EXPECT_EQ(FetchOverWire(manifest.sha256(), 0,
                          stranger_signer.Issue("dev-1", kDeviceAudience)->token, &chunks)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  std::string token = DeviceToken();
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(FetchOverWire(manifest.sha256(), 0, token, &chunks).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(chunks.empty());
  EXPECT_EQ(Counter("updraft_download_chunks_served_total"), 0);
}

TEST_F(GrpcDownloadServiceTest, FetchErrorsMapToCodes) {
  const std::string data = TestData(5000);
  v1::ArtifactManifest manifest;
  ASSERT_TRUE(UploadOverWire(data, 4096, &manifest).ok());
  std::vector<v1::Chunk> chunks;
  EXPECT_EQ(FetchOverWire(std::string(64, 'f'), 0, DeviceToken(), &chunks).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(FetchOverWire(manifest.sha256(), 5001, DeviceToken(), &chunks).error_code(),
            grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(FetchOverWire("XYZ", 0, DeviceToken(), &chunks).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(FetchOverWire(manifest.sha256(), 5000, DeviceToken(), &chunks).ok());
  EXPECT_TRUE(chunks.empty());
}

TEST_F(GrpcDownloadServiceTest, HeaderMustComeFirstAndOnlyOnce) {
  const std::string data = TestData(5000);
  {
    grpc::ClientContext ctx;
    v1::ArtifactManifest manifest;
    AsOperator(&ctx);
    auto writer = stub_->Upload(&ctx, &manifest);
    v1::UploadRequest request;
    request.set_data(data);
    writer->Write(request);
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(), "the first upload message must be a header");
  }
  {
    grpc::ClientContext ctx;
    v1::ArtifactManifest manifest;
    AsOperator(&ctx);
    auto writer = stub_->Upload(&ctx, &manifest);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    v1::ArtifactManifest manifest;
    AsOperator(&ctx);
    auto writer = stub_->Upload(&ctx, &manifest);
    v1::UploadRequest request;
    request.mutable_header()->set_size(5000);
    request.mutable_header()->set_sha256(Sha256Hex(data));
    writer->Write(request);
    writer->Write(request);
    writer->WritesDone();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  ExpectNothingVisible(Sha256Hex(data));
  EXPECT_EQ(Counter("updraft_download_uploads_total", "rejected"), 3);
}

TEST_F(GrpcDownloadServiceTest, BadUploadsAreRejectedOverTheWire) {
  const std::string data = TestData(5000);
  v1::ArtifactManifest manifest;
  grpc::Status st = UploadOverWire(data, 100, &manifest);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("header.chunk_size"), std::string::npos);
  std::string tampered = data;
  tampered[10] ^= 1;
  {
    grpc::ClientContext ctx;
    AsOperator(&ctx);
    auto writer = stub_->Upload(&ctx, &manifest);
    v1::UploadRequest request;
    request.mutable_header()->set_size(5000);
    request.mutable_header()->set_sha256(Sha256Hex(data));
    writer->Write(request);
    request.set_data(tampered);
    writer->Write(request);
    writer->WritesDone();
    st = writer->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("uploaded bytes hash to"), std::string::npos);
  }
  ExpectNothingVisible(Sha256Hex(data));
}

TEST_F(GrpcDownloadServiceTest, ClientCancellingMidUploadLeavesNothing) {
  const std::string data = TestData(20000);
  absl::Notification appended;
  hooks_.after_append = [&] {
    if (!appended.HasBeenNotified()) appended.Notify();
  };
  grpc::ClientContext ctx;
  v1::ArtifactManifest manifest;
  AsOperator(&ctx);
  auto writer = stub_->Upload(&ctx, &manifest);
  v1::UploadRequest request;
  request.mutable_header()->set_size(20000);
  request.mutable_header()->set_sha256(Sha256Hex(data));
  ASSERT_TRUE(writer->Write(request));
  request.set_data(data.substr(0, 8000));
  ASSERT_TRUE(writer->Write(request));
  appended.WaitForNotification();  // the server has staged bytes
  EXPECT_FALSE(fs::is_empty(root_ + "/tmp"));
  ctx.TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ShutdownServer();
  ExpectNothingVisible(Sha256Hex(data));
  EXPECT_EQ(Counter("updraft_download_uploads_total", "cancelled"), 1);
  EXPECT_EQ(Counter("updraft_download_uploads_total", "created"), 0);
}

TEST_F(GrpcDownloadServiceTest, FetchStopsWhenClientCancels) {
  const std::string data = TestData(8 * 4096);
  v1::ArtifactManifest manifest;
  ASSERT_TRUE(UploadOverWire(data, 4096, &manifest).ok());
  absl::Notification cancelled;
  std::atomic<int> reads{0};
  hooks_.before_read = [&](int64_t) {
    if (++reads == 2) cancelled.WaitForNotification();
  };
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", DeviceToken()));
  v1::FetchRequest request;
  request.set_sha256(manifest.sha256());
  auto reader = stub_->Fetch(&ctx, request);
  v1::Chunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  EXPECT_EQ(chunk.index(), 0u);
  ctx.TryCancel();
  cancelled.Notify();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ShutdownServer();
  EXPECT_LE(reads.load(), 2);
  EXPECT_LE(Counter("updraft_download_chunks_served_total"), 1);
}

}  // namespace
}  // namespace updraft::download
