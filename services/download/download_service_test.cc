#include "services/download/download_service.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/download/fs_artifact_store.h"
#include "services/download/mocks.h"

namespace updraft::download {
namespace {

namespace fs = std::filesystem;
using ::testing::_;
using ::testing::ByMove;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Return;

std::string TestData(size_t n) {
  std::string data;
  for (size_t i = 0; i < n; ++i) data.push_back(static_cast<char>((i * 131 + i / 7) & 0xFF));
  return data;
}

v1::UploadHeader Header(absl::string_view data, uint32_t chunk_size = 4096) {
  v1::UploadHeader h;
  h.set_size(static_cast<int64_t>(data.size()));
  h.set_sha256(Sha256Hex(data));
  h.set_chunk_size(chunk_size);
  return h;
}

// One ustar header block plus the file's data, padded to 512 bytes.
std::string UstarEntry(absl::string_view name, absl::string_view data) {
  std::string h(512, '\0');
  h.replace(0, name.size(), name.data(), name.size());
  h.replace(100, 7, "0000644");
  h.replace(108, 7, "0000000");
  h.replace(116, 7, "0000000");
  h.replace(124, 11, absl::StrFormat("%011o", data.size()));
  h.replace(136, 11, "00000000000");
  h[156] = '0';
  h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(263, 2, "00");
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  h.replace(148, 7, absl::StrFormat("%06o", sum) + std::string(1, '\0'));
  std::string padded(data);
  padded.resize((data.size() + 511) / 512 * 512, '\0');
  return h + padded;
}

class DownloadServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/download_service_test");
    fs::remove_all(root_);
    FsArtifactStore::Options store_options;
    store_options.root = root_;
    store_ = *FsArtifactStore::Create(store_options);
    service_ = MakeService(store_.get());
  }

  std::unique_ptr<DownloadService> MakeService(ArtifactStore* store) {
    DownloadService::Options options;
    options.store = store;
    options.verifier = &verifier_;
    options.max_artifact_bytes = 1 << 20;
    options.default_chunk_size = 8192;
    auto service = DownloadService::Create(options);
    EXPECT_TRUE(service.ok()) << service.status();
    return *std::move(service);
  }

  absl::StatusOr<v1::ArtifactManifest> Upload(const v1::UploadHeader& header,
                                              absl::string_view data, size_t piece = 1000) {
    UPDRAFT_ASSIGN_OR_RETURN(auto session, service_->BeginUpload(header));
    for (size_t pos = 0; pos < data.size(); pos += piece) {
      UPDRAFT_RETURN_IF_ERROR(session->Append(data.substr(pos, piece)));
    }
    return session->Finish();
  }

  void ExpectNothingVisible(absl::string_view sha) {
    EXPECT_EQ(service_->GetManifest(sha).status().code(), absl::StatusCode::kNotFound);
    EXPECT_TRUE(fs::is_empty(root_ + "/tmp"));
    EXPECT_TRUE(fs::is_empty(root_ + "/manifests"));
  }

  std::vector<v1::Chunk> FetchAll(absl::string_view sha, int64_t offset) {
    auto stream = service_->Fetch("dev-1", sha, offset);
    EXPECT_TRUE(stream.ok()) << stream.status();
    std::vector<v1::Chunk> chunks;
    if (!stream.ok()) return chunks;
    v1::Chunk chunk;
    while (true) {
      absl::StatusOr<bool> more = (*stream)->Next(&chunk);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok() || !*more) break;
      chunks.push_back(chunk);
    }
    return chunks;
  }

  FakeClock clock_;
  StaticKeySource keys_;
  TokenVerifier verifier_{&keys_, &clock_, std::string(kDeviceAudience)};
  std::string root_;
  std::unique_ptr<FsArtifactStore> store_;
  std::unique_ptr<DownloadService> service_;
};

TEST_F(DownloadServiceTest, UploadHappyPath) {
  const std::string data = TestData(10000);
  auto manifest = Upload(Header(data), data);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->sha256(), Sha256Hex(data));
  EXPECT_EQ(manifest->size(), 10000);
  EXPECT_EQ(manifest->chunk_size(), 4096u);
  ASSERT_EQ(manifest->chunk_sha256_size(), 3);
  EXPECT_EQ(manifest->chunk_sha256(0), Sha256(data.substr(0, 4096)));
  EXPECT_EQ(manifest->chunk_sha256(2), Sha256(data.substr(8192)));
  EXPECT_TRUE(manifest->files().empty());
  auto stored = service_->GetManifest(manifest->sha256());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->SerializeAsString(), manifest->SerializeAsString());
  EXPECT_TRUE(fs::is_empty(root_ + "/tmp"));
}

TEST_F(DownloadServiceTest, DefaultChunkSizeAndTarFiles) {
  const std::string tar = UstarEntry("./app.bin", TestData(9000)) +
                          UstarEntry("libcodec.so", "codec") + std::string(1024, '\0');
  auto manifest = Upload(Header(tar, /*chunk_size=*/0), tar);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->chunk_size(), 8192u);
  EXPECT_EQ(manifest->chunk_sha256_size(), 2);
  EXPECT_THAT(manifest->files(), ElementsAre("app.bin", "libcodec.so"));
}

TEST_F(DownloadServiceTest, BadHeadersNameTheField) {
  const std::string data = TestData(100);
  struct Case {
    v1::UploadHeader header;
    std::string field;
  };
  std::vector<Case> cases;
  for (int64_t size : {int64_t{0}, int64_t{-1}, int64_t{(1 << 20) + 1}}) {
    cases.push_back({Header(data), "header.size"});
    cases.back().header.set_size(size);
  }
  for (std::string sha : {std::string(""), std::string(63, 'a'), std::string(64, 'A'),
                          std::string(64, 'g'), Sha256Hex(data) + "0"}) {
    cases.push_back({Header(data), "header.sha256"});
    cases.back().header.set_sha256(sha);
  }
  for (uint32_t cs : {1u, 4095u, (16u << 20) + 1}) {
    cases.push_back({Header(data, cs), "header.chunk_size"});
  }
  for (const Case& c : cases) {
    auto session = service_->BeginUpload(c.header);
    EXPECT_EQ(session.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(session.status().message()), HasSubstr(c.field));
  }
  ExpectNothingVisible(Sha256Hex(data));
}

TEST_F(DownloadServiceTest, MoreBytesThanDeclared) {
  const std::string data = TestData(5000);
  v1::UploadHeader header = Header(data);
  header.set_size(4999);
  auto session = *service_->BeginUpload(header);
  ASSERT_TRUE(session->Append(data.substr(0, 4000)).ok());
  absl::Status s = session->Append(data.substr(4000));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("more bytes than header.size 4999"));
  EXPECT_EQ(session->Finish().status(), s);
  ExpectNothingVisible(Sha256Hex(data));
}

TEST_F(DownloadServiceTest, FewerBytesThanDeclared) {
  const std::string data = TestData(5000);
  auto manifest = Upload(Header(data), data.substr(0, 3000));
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manifest.status().message(), "upload ended after 3000 of 5000 bytes");
  ExpectNothingVisible(Sha256Hex(data));
}

TEST_F(DownloadServiceTest, HashMismatch) {
  const std::string data = TestData(5000);
  std::string other = data;
  other[4321] ^= 1;
  auto manifest = Upload(Header(data), other);
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manifest.status().message(), absl::StrCat("uploaded bytes hash to ", Sha256Hex(other),
                                                      ", header declared ", Sha256Hex(data)));
  ExpectNothingVisible(Sha256Hex(data));
  ExpectNothingVisible(Sha256Hex(other));
}

TEST_F(DownloadServiceTest, AbandonedSessionLeavesNothing) {
  const std::string data = TestData(5000);
  {
    auto session = *service_->BeginUpload(Header(data));
    ASSERT_TRUE(session->Append(data).ok());
  }
  ExpectNothingVisible(Sha256Hex(data));
}

TEST_F(DownloadServiceTest, UploadIsIdempotent) {
  const std::string data = TestData(10000);
  auto first = Upload(Header(data), data);
  ASSERT_TRUE(first.ok()) << first.status();

  auto session = *service_->BeginUpload(Header(data, /*chunk_size=*/8192));
  ASSERT_TRUE(session->Append(data).ok());
  auto second = session->Finish();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(session->already_present());
  EXPECT_EQ(second->SerializeAsString(), first->SerializeAsString());  // first chunking stays
  EXPECT_TRUE(fs::is_empty(root_ + "/tmp"));

  // Still checked: the declared size and the bytes.
  v1::UploadHeader wrong_size = Header(data);
  wrong_size.set_size(9999);
  EXPECT_EQ(service_->BeginUpload(wrong_size).status().code(), absl::StatusCode::kInvalidArgument);
  std::string other = data;
  other[0] ^= 1;
  EXPECT_EQ(Upload(Header(data), other).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DownloadServiceTest, FetchFromStart) {
  const std::string data = TestData(10000);
  auto manifest = *Upload(Header(data), data);
  std::vector<v1::Chunk> chunks = FetchAll(manifest.sha256(), 0);
  ASSERT_EQ(chunks.size(), 3u);
  std::string joined;
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].index(), i);
    EXPECT_EQ(chunks[i].offset(), static_cast<int64_t>(i * 4096));
    EXPECT_EQ(chunks[i].sha256(), manifest.chunk_sha256(static_cast<int>(i)));
    EXPECT_EQ(Sha256(chunks[i].data()), chunks[i].sha256());
    joined += chunks[i].data();
  }
  EXPECT_EQ(joined, data);
}

TEST_F(DownloadServiceTest, FetchFromMidChunkStartsAtItsBoundary) {
  const std::string data = TestData(10000);
  auto manifest = *Upload(Header(data), data);
  std::vector<v1::Chunk> chunks = FetchAll(manifest.sha256(), 5000);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].index(), 1u);
  EXPECT_EQ(chunks[0].offset(), 4096);
  EXPECT_EQ(chunks[0].data(), data.substr(4096, 4096));
  EXPECT_EQ(chunks[1].data(), data.substr(8192));

  chunks = FetchAll(manifest.sha256(), 8192);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].index(), 2u);
  chunks = FetchAll(manifest.sha256(), 9999);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].index(), 2u);
}

TEST_F(DownloadServiceTest, FetchAtSizeIsEmpty) {
  const std::string data = TestData(10000);
  auto manifest = *Upload(Header(data), data);
  EXPECT_TRUE(FetchAll(manifest.sha256(), 10000).empty());
  const std::string exact = TestData(8192);
  auto exact_manifest = *Upload(Header(exact), exact);
  EXPECT_TRUE(FetchAll(exact_manifest.sha256(), 8192).empty());
}

TEST_F(DownloadServiceTest, FetchErrors) {
  const std::string data = TestData(10000);
  auto manifest = *Upload(Header(data), data);
  EXPECT_EQ(service_->Fetch("dev-1", manifest.sha256(), 10001).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(service_->Fetch("dev-1", manifest.sha256(), -1).status().code(),
            absl::StatusCode::kOutOfRange);
  auto unknown = service_->Fetch("dev-1", std::string(64, 'e'), 0);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().message(),
            absl::StrCat("artifact ", std::string(64, 'e'), " not found"));
  for (absl::string_view bad : {"", "xyz", "../../etc/passwd"}) {
    auto s = service_->Fetch("dev-1", bad, 0).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("sha256"));
  }
  EXPECT_EQ(service_->GetManifest("nope").status().code(), absl::StatusCode::kInvalidArgument);
}

// The chunk hash comes from the manifest: the download path never hashes.
TEST_F(DownloadServiceTest, FetchSendsTheManifestsChunkHash) {
  MockArtifactStore store;
  auto service = MakeService(&store);
  const std::string sha(64, 'c');
  v1::ArtifactManifest manifest;
  manifest.set_sha256(sha);
  manifest.set_size(5000);
  manifest.set_chunk_size(4096);
  manifest.add_chunk_sha256("recorded-hash-0");
  manifest.add_chunk_sha256("recorded-hash-1");
  auto reader = std::make_unique<MockArtifactReader>();
  EXPECT_CALL(*reader, size()).WillRepeatedly(Return(5000));
  EXPECT_CALL(*reader, ReadAt(4096, 904, _)).WillOnce([](int64_t, int64_t, std::string* out) {
    *out = std::string(904, 'd');
    return absl::OkStatus();
  });
  EXPECT_CALL(store, GetManifest(absl::string_view(sha))).WillOnce(Return(manifest));
  EXPECT_CALL(store, OpenReader(absl::string_view(sha)))
      .WillOnce(Return(ByMove(std::unique_ptr<ArtifactReader>(std::move(reader)))));
  auto stream = *service->Fetch("dev-1", sha, 4096);
  v1::Chunk chunk;
  ASSERT_TRUE(*stream->Next(&chunk));
  EXPECT_EQ(chunk.sha256(), "recorded-hash-1");
  EXPECT_EQ(chunk.data(), std::string(904, 'd'));
  EXPECT_FALSE(*stream->Next(&chunk));
}

TEST_F(DownloadServiceTest, FetchRejectsInconsistentManifest) {
  MockArtifactStore store;
  auto service = MakeService(&store);
  v1::ArtifactManifest manifest;
  manifest.set_sha256(std::string(64, 'c'));
  manifest.set_size(5000);
  manifest.set_chunk_size(4096);
  manifest.add_chunk_sha256("only one");
  EXPECT_CALL(store, GetManifest(_)).WillOnce(Return(manifest));
  EXPECT_EQ(service->Fetch("dev-1", manifest.sha256(), 0).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(DownloadServiceTest, StoreWriteErrorAbortsUpload) {
  MockArtifactStore store;
  auto service = MakeService(&store);
  auto writer = std::make_unique<MockArtifactWriter>();
  EXPECT_CALL(*writer, Append(_)).WillOnce(Return(absl::ResourceExhaustedError("disk full")));
  EXPECT_CALL(*writer, Abort()).Times(::testing::AtLeast(1));
  EXPECT_CALL(*writer, Commit(_)).Times(0);
  EXPECT_CALL(store, GetManifest(_)).WillOnce(Return(absl::NotFoundError("no")));
  EXPECT_CALL(store, BeginUpload())
      .WillOnce(Return(ByMove(std::unique_ptr<ArtifactWriter>(std::move(writer)))));
  const std::string data = TestData(100);
  auto session = *service->BeginUpload(Header(data));
  EXPECT_EQ(session->Append(data).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(session->Finish().status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(DownloadServiceTest, ConcurrentCommitReturnsTheWinnersManifest) {
  MockArtifactStore store;
  auto service = MakeService(&store);
  const std::string data = TestData(100);
  v1::ArtifactManifest winner;
  winner.set_sha256(Sha256Hex(data));
  winner.set_size(100);
  winner.set_chunk_size(65536);
  winner.add_chunk_sha256(Sha256(data));
  auto writer = std::make_unique<MockArtifactWriter>();
  auto contents = std::make_unique<MockArtifactReader>();
  EXPECT_CALL(*contents, size()).WillRepeatedly(Return(100));
  EXPECT_CALL(*contents, ReadAt(_, _, _))
      .WillRepeatedly([&](int64_t o, int64_t n, std::string* out) {
        *out = data.substr(o, n);
        return absl::OkStatus();
      });
  EXPECT_CALL(*writer, Append(_)).WillOnce(Return(absl::OkStatus()));
  EXPECT_CALL(*writer, OpenWritten())
      .WillOnce(Return(ByMove(std::unique_ptr<ArtifactReader>(std::move(contents)))));
  EXPECT_CALL(*writer, Commit(_)).WillOnce(Return(absl::AlreadyExistsError("exists")));
  EXPECT_CALL(*writer, Abort()).Times(::testing::AnyNumber());
  EXPECT_CALL(store, GetManifest(absl::string_view(winner.sha256())))
      .WillOnce(Return(absl::NotFoundError("no")))
      .WillOnce(Return(winner));
  EXPECT_CALL(store, BeginUpload())
      .WillOnce(Return(ByMove(std::unique_ptr<ArtifactWriter>(std::move(writer)))));
  auto session = *service->BeginUpload(Header(data));
  ASSERT_TRUE(session->Append(data).ok());
  auto manifest = session->Finish();
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_TRUE(session->already_present());
  EXPECT_EQ(manifest->chunk_size(), 65536u);
}

TEST_F(DownloadServiceTest, StoreLookupFailureIsPassedOn) {
  MockArtifactStore store;
  auto service = MakeService(&store);
  EXPECT_CALL(store, GetManifest(_)).WillOnce(Return(absl::UnavailableError("volume gone")));
  EXPECT_EQ(service->BeginUpload(Header("x")).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(DownloadServiceTest, FetchNeedsAGrantForTheDeviceAndArtifact) {
  const std::string data = TestData(10000);
  auto manifest = *Upload(Header(data), data);
  MockDownloadGrants grants;
  DownloadService::Options options;
  options.store = store_.get();
  options.verifier = &verifier_;
  options.grants = &grants;
  auto service = *DownloadService::Create(options);
  EXPECT_CALL(grants, IsGranted(absl::string_view("dev-1"), absl::string_view(manifest.sha256())))
      .WillOnce(Return(true));
  EXPECT_CALL(grants, IsGranted(absl::string_view("dev-2"), absl::string_view(manifest.sha256())))
      .WillOnce(Return(false))
      .WillOnce(Return(absl::UnavailableError("cannot read download grants: down")));
  EXPECT_TRUE(service->Fetch("dev-1", manifest.sha256(), 0).ok());
  auto denied = service->Fetch("dev-2", manifest.sha256(), 0);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.status().message(),
            absl::StrCat("artifact ", manifest.sha256(),
                         " was not offered to device dev-2 (or the offer is too old); ask the "
                         "catalog for updates first"));
  EXPECT_EQ(service->Fetch("dev-2", manifest.sha256(), 0).status().code(),
            absl::StatusCode::kUnavailable);
  // An unknown artifact is NOT_FOUND before any grant is looked up.
  EXPECT_EQ(service->Fetch("dev-2", std::string(64, 'e'), 0).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DownloadServiceTest, ConcurrentFetchesPerDeviceAreLimited) {
  const std::string data = TestData(10000);
  auto manifest = *Upload(Header(data), data);
  DownloadService::Options options;
  options.store = store_.get();
  options.verifier = &verifier_;
  options.max_fetches_per_device = 2;
  auto service = *DownloadService::Create(options);
  auto first = service->Fetch("dev-1", manifest.sha256(), 0);
  auto second = service->Fetch("dev-1", manifest.sha256(), 4096);
  ASSERT_TRUE(first.ok() && second.ok());
  auto third = service->Fetch("dev-1", manifest.sha256(), 0);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(third.status().message(),
            "device dev-1 already has 2 downloads in progress (limit 2); finish or cancel one "
            "first");
  // Refused fetches take no slot; other devices have their own.
  EXPECT_TRUE(service->Fetch("dev-2", manifest.sha256(), 0).ok());
  EXPECT_EQ(service->active_fetches(), 2);
  first->reset();
  EXPECT_EQ(service->active_fetches(), 1);
  EXPECT_TRUE(service->Fetch("dev-1", manifest.sha256(), 0).ok());
}

TEST_F(DownloadServiceTest, NextIntoReadsIntoTheCallersBuffer) {
  const std::string data = TestData(10000);
  auto manifest = *Upload(Header(data), data);
  auto stream = service_->Fetch("dev-1", manifest.sha256(), 4096);
  ASSERT_TRUE(stream.ok());
  std::string buffer(8192, '\0');
  std::vector<ChunkRef> refs;
  size_t used = 0;
  while (true) {
    auto more = (*stream)->NextInto([&](const ChunkRef& ref) {
      refs.push_back(ref);
      absl::Span<char> out(buffer.data() + used, ref.length);
      used += ref.length;
      return out;
    });
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
  }
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].index, 1u);
  EXPECT_EQ(refs[0].offset, 4096);
  EXPECT_EQ(refs[1].length, 10000u - 8192u);
  EXPECT_EQ(*refs[1].sha256, manifest.chunk_sha256(2));
  EXPECT_EQ(buffer.substr(0, used), data.substr(4096));
}

TEST(DownloadServiceCreateTest, ValidatesOptions) {
  FakeClock clock;
  StaticKeySource keys;
  TokenVerifier verifier(&keys, &clock, std::string(kDeviceAudience));
  MockArtifactStore store;
  DownloadService::Options options;
  EXPECT_EQ(DownloadService::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.store = &store;
  EXPECT_EQ(DownloadService::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.verifier = &verifier;
  EXPECT_TRUE(DownloadService::Create(options).ok());
  options.default_chunk_size = 100;
  EXPECT_EQ(DownloadService::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.default_chunk_size = kDefaultChunkSize;
  options.max_artifact_bytes = 0;
  EXPECT_EQ(DownloadService::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.max_artifact_bytes = 1;
  options.max_fetches_per_device = 0;
  EXPECT_EQ(DownloadService::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft::download
