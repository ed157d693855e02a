#include "sdk/device/downloader.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/fake_services.h"
#include "sdk/device/file_util.h"
#include "sdk/device/result_code.h"
#include "sdk/device/test_util.h"

namespace updraft::device {
namespace {

using ::testing::ElementsAre;

std::string Payload(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// Every test runs with small chunks (verified inline) and with chunks large
// enough to be hashed on a worker while the next one arrives.
class DownloaderTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  const uint32_t kChunk = GetParam();

  void SetUp() override {
    data_ = Payload(7 * kChunk + 345);  // 8 chunks, the last one short
    manifest_ = testutil::MakeManifest(data_, kChunk);
    service_.AddArtifact(data_, kChunk);
    server_ = testutil::StartInProcess({&service_});
    stub_ = v1::Download::NewStub(server_.channel);
    state_dir_ = testutil::NewTempDir("dl");
  }

  void TearDown() override { server_.server->Shutdown(); }

  std::unique_ptr<Downloader> NewDownloader(int retries = 3, bool verify_whole_file = true) {
    auto state = StateStore::Open(state_dir_);
    EXPECT_TRUE(state.ok()) << state.status();
    state_ = *std::move(state);
    Downloader::Options options;
    options.stub = stub_.get();
    options.state = state_.get();
    options.max_stream_retries = retries;
    options.verify_whole_file = verify_whole_file;
    options.sleep = [this](absl::Duration d) { sleeps_.push_back(d); };
    options.on_progress = [this](const DownloadProgressInfo& p) { progress_.push_back(p); };
    auto d = Downloader::Create(std::move(options));
    EXPECT_TRUE(d.ok()) << d.status();
    return *std::move(d);
  }

  uint32_t RecordedChunks() {
    const v1::DeviceLocalState snapshot = state_->Snapshot();
    for (const auto& p : snapshot.downloads()) {
      if (p.artifact_sha256() == manifest_.sha256()) return p.verified_chunks();
    }
    return 0;
  }

  std::string data_;
  v1::ArtifactManifest manifest_;
  testutil::FakeDownloadService service_{nullptr};
  testutil::InProcessServer server_;
  std::unique_ptr<v1::Download::Stub> stub_;
  std::string state_dir_;
  std::unique_ptr<StateStore> state_;
  std::vector<absl::Duration> sleeps_;
  std::vector<DownloadProgressInfo> progress_;
};

TEST_P(DownloaderTest, DownloadsAndVerifies) {
  auto d = NewDownloader();
  auto path = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, absl::StrCat(state_dir_, "/downloads/", manifest_.sha256()));
  EXPECT_EQ(testutil::ReadOrMissing(*path), data_);
  EXPECT_FALSE(PathExists(d->PartPath(manifest_.sha256())));
  EXPECT_THAT(service_.requested_offsets(), ElementsAre(0));
  ASSERT_EQ(progress_.size(), 8u);
  EXPECT_EQ(progress_[2].chunks_done, 3u);
  EXPECT_EQ(progress_[2].bytes_done, 3 * kChunk);
  EXPECT_EQ(progress_.back().chunks_done, 8u);
  EXPECT_EQ(progress_.back().chunks_total, 8u);
  EXPECT_EQ(progress_.back().bytes_done, static_cast<int64_t>(data_.size()));
  EXPECT_EQ(state_->Snapshot().downloads_size(), 0);  // progress cleared when complete

  // A second fetch finds the complete file and does not download again.
  auto again = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(service_.requested_offsets().size(), 1u);
}

TEST_P(DownloaderTest, TamperedChunkIsDataLossAndDiscarded) {
  service_.TamperChunk(3);
  auto d = NewDownloader();
  auto path = d->Fetch("r_1", manifest_, "tok");
  ASSERT_EQ(path.status().code(), absl::StatusCode::kDataLoss) << path.status();
  EXPECT_EQ(path.status().message(), absl::StrCat("chunk 3 of ", manifest_.sha256(),
                                                  " does not match the release manifest"));
  EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED),
            v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_FALSE(PathExists(d->ArtifactPath(manifest_.sha256())));
  // Only the three good chunks are kept and recorded.
  EXPECT_EQ(FileSize(d->PartPath(manifest_.sha256())), 3 * kChunk);
  EXPECT_EQ(RecordedChunks(), 3u);
  // A tampered stream is not retried.
  EXPECT_EQ(service_.requested_offsets().size(), 1u);
}

TEST_P(DownloaderTest, DroppedStreamResumesFromTheNextChunk) {
  service_.DropAfter(3, 1);
  auto d = NewDownloader();
  auto path = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(testutil::ReadOrMissing(*path), data_);
  // Chunks 0-2 arrived before the drop: the retry asks for chunk 3 exactly.
  EXPECT_THAT(service_.requested_offsets(), ElementsAre(0, 3 * kChunk));
  EXPECT_EQ(service_.chunks_sent(), 8);
  EXPECT_EQ(sleeps_.size(), 1u);
}

TEST_P(DownloaderTest, RestartResumesFromPersistedProgress) {
  service_.DropAfter(3, 1);
  {
    auto d = NewDownloader(/*retries=*/0);
    auto path = d->Fetch("r_1", manifest_, "tok");
    EXPECT_EQ(path.status().code(), absl::StatusCode::kUnavailable) << path.status();
    EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED),
              v1::DOWNLOAD_SERVER_UNAVAILABLE);
  }
  // A new process: new StateStore and Downloader on the same directory.
  auto d = NewDownloader();
  EXPECT_EQ(RecordedChunks(), 3u);
  auto path = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(testutil::ReadOrMissing(*path), data_);
  EXPECT_THAT(service_.requested_offsets(), ElementsAre(0, 3 * kChunk));
}

TEST_P(DownloaderTest, RebootTruncatesUnrecordedAndCorruptBytes) {
  service_.DropAfter(4, 1);
  {
    auto d = NewDownloader(/*retries=*/0);
    ASSERT_FALSE(d->Fetch("r_1", manifest_, "tok").ok());
  }
  std::string part = absl::StrCat(state_dir_, "/downloads/", manifest_.sha256(), ".part");
  ASSERT_EQ(FileSize(part), 4 * kChunk);
  // Power loss: the tail of chunk 3 is garbage on disk and half a chunk 4
  // was written without being recorded.
  std::string on_disk = testutil::ReadOrMissing(part);
  on_disk[3 * kChunk + 10] ^= 0x01;
  on_disk += data_.substr(4 * kChunk, 500);
  ASSERT_TRUE(WriteFileAtomically(part, on_disk).ok());

  auto d = NewDownloader();
  auto path = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(testutil::ReadOrMissing(*path), data_);
  // Chunk 3 failed re-verification, so the resume starts there.
  EXPECT_THAT(service_.requested_offsets(), ElementsAre(0, 3 * kChunk));
}

TEST_P(DownloaderTest, GoodChunksWrittenAfterTheLastCheckpointAreKept) {
  // A process killed between checkpoints: 5 chunks and half of the sixth on
  // disk, no progress recorded. The resume verifies them and asks for chunk 5.
  ASSERT_TRUE(MakeDirectories(absl::StrCat(state_dir_, "/downloads")).ok());
  std::string part = absl::StrCat(state_dir_, "/downloads/", manifest_.sha256(), ".part");
  ASSERT_TRUE(WriteFileAtomically(part, data_.substr(0, 5 * kChunk + 400)).ok());
  auto d = NewDownloader();
  auto path = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(testutil::ReadOrMissing(*path), data_);
  EXPECT_THAT(service_.requested_offsets(), ElementsAre(5 * kChunk));
}

TEST_P(DownloaderTest, GivesUpAfterBoundedRetriesWithoutProgress) {
  service_.DropAfter(0, 100);
  auto d = NewDownloader(/*retries=*/2);
  auto path = d->Fetch("r_1", manifest_, "tok");
  EXPECT_EQ(path.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED),
            v1::DOWNLOAD_SERVER_UNAVAILABLE);
  EXPECT_EQ(service_.requested_offsets().size(), 3u);
  ASSERT_EQ(sleeps_.size(), 2u);
  EXPECT_EQ(sleeps_[1], 2 * sleeps_[0]);
}

TEST_P(DownloaderTest, ManifestThatTheArtifactDoesNotMatch) {
  // The chunks verify but the manifest's whole-file hash is wrong.
  v1::ArtifactManifest m = manifest_;
  m.set_sha256(std::string(64, 'e'));
  service_.AddArtifact(data_, kChunk, m.sha256());
  auto d = NewDownloader();
  auto path = d->Fetch("r_1", m, "tok");
  EXPECT_EQ(path.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(PathExists(d->ArtifactPath(m.sha256())));
  EXPECT_FALSE(PathExists(d->PartPath(m.sha256())));
}

TEST_P(DownloaderTest, WithoutTheWholeFilePassVerifiedChunksSuffice) {
  // For manifests from signed metadata the chunk hashes are the authority;
  // the artifact is still verified chunk by chunk and completed once.
  service_.AddArtifact(data_, kChunk, manifest_.sha256());
  auto d = NewDownloader(/*retries=*/3, /*verify_whole_file=*/false);
  auto path = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*ReadFileToString(*path), data_);
  // A second fetch finds it complete (checked chunk by chunk), no request.
  const size_t requests = service_.requested_offsets().size();
  auto again = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(service_.requested_offsets().size(), requests);
  // A corrupted complete file is not taken for complete.
  {
    std::string bad = data_;
    bad[kChunk + 3] ^= 1;
    ASSERT_TRUE(WriteFileAtomically(*path, bad).ok());
  }
  auto repaired = d->Fetch("r_1", manifest_, "tok");
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(*ReadFileToString(*repaired), data_);
  EXPECT_GT(service_.requested_offsets().size(), requests);
}

TEST_P(DownloaderTest, UnknownArtifactIsAServerError) {
  v1::ArtifactManifest m = testutil::MakeManifest("something else", kChunk);
  auto d = NewDownloader();
  auto path = d->Fetch("r_1", m, "tok");
  EXPECT_EQ(path.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED), v1::DOWNLOAD_SERVER_ERROR);
  EXPECT_EQ(service_.requested_offsets().size(), 1u);
}

TEST_P(DownloaderTest, RejectsInconsistentManifests) {
  auto d = NewDownloader();
  v1::ArtifactManifest m = manifest_;
  m.set_sha256("ABC");
  EXPECT_EQ(d->Fetch("r", m, "t").status().code(), absl::StatusCode::kInvalidArgument);
  m = manifest_;
  m.set_chunk_size(0);
  EXPECT_EQ(d->Fetch("r", m, "t").status().code(), absl::StatusCode::kInvalidArgument);
  m = manifest_;
  m.mutable_chunk_sha256()->RemoveLast();
  EXPECT_EQ(d->Fetch("r", m, "t").status().code(), absl::StatusCode::kInvalidArgument);
  m = manifest_;
  m.set_chunk_sha256(0, "short");
  EXPECT_EQ(d->Fetch("r", m, "t").status().code(), absl::StatusCode::kInvalidArgument);
  m = manifest_;
  m.set_size(-1);
  EXPECT_EQ(d->Fetch("r", m, "t").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(service_.requested_offsets().empty());
}

TEST_P(DownloaderTest, EmptyArtifact) {
  service_.AddArtifact("", kChunk);
  auto d = NewDownloader();
  auto path = d->Fetch("r_1", testutil::MakeManifest("", kChunk), "tok");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(testutil::ReadOrMissing(*path), "");
}

// A scripted ChunkSource: serves `data` from the asked chunk, stopping
// after `chunks` chunks (then returning `end`), flipping a byte of chunk
// `tamper`.
class ScriptedSource : public ChunkSource {
 public:
  ScriptedSource(std::string name, std::string data, absl::Status end, int chunks = 1 << 30,
                 int tamper = -1, std::vector<uint32_t>* log = nullptr)
      : name_(std::move(name)),
        data_(std::move(data)),
        end_(std::move(end)),
        chunks_(chunks),
        tamper_(tamper),
        log_(log) {}
  std::string name() const override { return name_; }
  absl::Status Stream(const v1::ArtifactManifest& m, uint32_t first, Sink sink) override {
    if (log_ != nullptr) log_->push_back(first);
    int sent = 0;
    for (uint32_t i = first; static_cast<int64_t>(i) * m.chunk_size() < m.size(); ++i) {
      if (sent++ == chunks_) return end_;
      std::string chunk = data_.substr(static_cast<size_t>(i) * m.chunk_size(), m.chunk_size());
      if (static_cast<int>(i) == tamper_) chunk[0] ^= 1;
      absl::Status s = sink(i, static_cast<int64_t>(i) * m.chunk_size(), chunk);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::string name_;
  std::string data_;
  absl::Status end_;
  int chunks_;
  int tamper_;
  std::vector<uint32_t>* log_;
};

TEST_P(DownloaderTest, FallsBackToTheNextSourceAtOnceAndResumesThere) {
  auto d = NewDownloader();
  std::vector<uint32_t> grpc_log, http_log;
  std::vector<std::unique_ptr<ChunkSource>> sources;
  // gRPC serves 3 chunks then drops; the HTTP source goes on from chunk 3.
  sources.push_back(std::make_unique<ScriptedSource>(
      "grpc", data_, absl::UnavailableError("connection reset"), 3, -1, &grpc_log));
  sources.push_back(
      std::make_unique<ScriptedSource>("http", data_, absl::OkStatus(), 1 << 30, -1, &http_log));
  auto path = d->FetchFrom("r_1", manifest_, std::move(sources));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(testutil::ReadOrMissing(*path), data_);
  EXPECT_THAT(grpc_log, ElementsAre(0));
  EXPECT_THAT(http_log, ElementsAre(3));
  EXPECT_TRUE(sleeps_.empty());  // a fresh source needs no backoff
}

TEST_P(DownloaderTest, SourceThatCannotServeIsDroppedAndTheLastErrorReturned) {
  auto d = NewDownloader();
  std::vector<uint32_t> grpc_log;
  std::vector<std::unique_ptr<ChunkSource>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("grpc", data_, absl::UnavailableError("down"),
                                                     0, -1, &grpc_log));
  sources.push_back(std::make_unique<ScriptedSource>("http://cdn/x", data_,
                                                     absl::NotFoundError("answered 404"), 0));
  auto path = d->FetchFrom("r_1", manifest_, std::move(sources));
  EXPECT_EQ(path.status().code(), absl::StatusCode::kUnavailable) << path.status();
  EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED),
            v1::DOWNLOAD_SERVER_UNAVAILABLE);
  // The 404 source is not asked again; gRPC gets its 1 + 3 retries.
  EXPECT_EQ(grpc_log.size(), 4u);
  EXPECT_EQ(sleeps_.size(), 3u);

  std::vector<std::unique_ptr<ChunkSource>> only_missing;
  only_missing.push_back(std::make_unique<ScriptedSource>("http://cdn/x", data_,
                                                          absl::NotFoundError("answered 404"), 0));
  path = d->FetchFrom("r_1", manifest_, std::move(only_missing));
  EXPECT_EQ(path.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED), v1::DOWNLOAD_SERVER_ERROR);
}

TEST_P(DownloaderTest, CorruptChunkFromAFallbackSourceIsNeverAccepted) {
  auto d = NewDownloader();
  std::vector<std::unique_ptr<ChunkSource>> sources;
  sources.push_back(
      std::make_unique<ScriptedSource>("grpc", data_, absl::UnavailableError("down"), 2));
  sources.push_back(std::make_unique<ScriptedSource>("http", data_, absl::OkStatus(), 1 << 30, 5));
  auto path = d->FetchFrom("r_1", manifest_, std::move(sources));
  ASSERT_EQ(path.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED),
            v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_EQ(FileSize(d->PartPath(manifest_.sha256())), 5 * kChunk);
  EXPECT_EQ(RecordedChunks(), 5u);
}

TEST_P(DownloaderTest, RefusedTokenEndsTheDownloadWithoutFallback) {
  auto d = NewDownloader();
  std::vector<uint32_t> http_log;
  std::vector<std::unique_ptr<ChunkSource>> sources;
  sources.push_back(std::make_unique<ScriptedSource>(
      "the download service", data_, absl::PermissionDeniedError("not offered"), 0));
  sources.push_back(
      std::make_unique<ScriptedSource>("http", data_, absl::OkStatus(), 1 << 30, -1, &http_log));
  auto path = d->FetchFrom("r_1", manifest_, std::move(sources));
  EXPECT_EQ(path.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(path.status().message(), absl::StrCat("the download service refused artifact ",
                                                  manifest_.sha256(), ": not offered"));
  EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED),
            v1::DOWNLOAD_AUTHENTICATION_FAILED);
  EXPECT_TRUE(http_log.empty());
}

// A device without libcurl: the HTTP source fails before any request
// (FAILED_PRECONDITION naming the library) and is dropped; the download goes
// on from gRPC. Alone, it is a server error naming the library.
TEST_P(DownloaderTest, HttpSourceWithoutLibcurlIsDroppedForTheOthers) {
  auto d = NewDownloader();
  HttpSourceOptions no_curl;
  no_curl.allow_plain_http = true;
  no_curl.curl_library = "libcurl-absent-for-test.so.4";
  auto http = [&] { return *HttpChunkSource::Create("http://127.0.0.1:1/objects/x", no_curl); };
  std::vector<uint32_t> grpc_log;
  std::vector<std::unique_ptr<ChunkSource>> sources;
  sources.push_back(std::make_unique<ScriptedSource>(
      "grpc", data_, absl::UnavailableError("connection reset"), 3, -1, &grpc_log));
  sources.push_back(http());
  auto path = d->FetchFrom("r_1", manifest_, std::move(sources));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(testutil::ReadOrMissing(*path), data_);
  EXPECT_THAT(grpc_log, ElementsAre(0, 3, 6));

  ASSERT_TRUE(d->Discard(manifest_.sha256()).ok());
  std::vector<std::unique_ptr<ChunkSource>> only_http;
  only_http.push_back(http());
  path = d->FetchFrom("r_1", manifest_, std::move(only_http));
  EXPECT_EQ(path.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(path.status().message()),
              ::testing::HasSubstr("libcurl-absent-for-test.so.4"));
  EXPECT_EQ(ResultCodeOf(path.status(), v1::RESULT_CODE_UNSPECIFIED), v1::DOWNLOAD_SERVER_ERROR);
}

TEST_P(DownloaderTest, FetchNeedsAUsableSource) {
  Downloader::Options options;
  auto state = StateStore::Open(state_dir_);
  ASSERT_TRUE(state.ok());
  options.state = state->get();
  auto d = Downloader::Create(std::move(options));
  ASSERT_TRUE(d.ok());
  auto path = (*d)->Fetch("r_1", manifest_, "tok", {"http://cdn.example/x"});
  EXPECT_EQ(path.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(path.status().message()),
              ::testing::HasSubstr("must start with https://"));
}

INSTANTIATE_TEST_SUITE_P(ChunkSizes, DownloaderTest, ::testing::Values(1000u, 256u << 10),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return info.param < (256u << 10) ? std::string("Inline")
                                                            : std::string("Pipelined");
                         });

}  // namespace
}  // namespace updraft::device
