#include "services/download/fs_artifact_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/crypto.h"
#include "gtest/gtest.h"

namespace updraft::download {
namespace {

namespace fs = std::filesystem;

std::string FreshRoot(absl::string_view name) {
  const char* tmp = getenv("TEST_TMPDIR");
  std::string root = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/fs_store_", name);
  fs::remove_all(root);
  return root;
}

int CountFiles(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  return n;
}

v1::ArtifactManifest ManifestFor(absl::string_view data) {
  v1::ArtifactManifest m;
  m.set_sha256(Sha256Hex(data));
  m.set_size(static_cast<int64_t>(data.size()));
  m.set_chunk_size(4096);
  m.add_chunk_sha256(Sha256(data));
  m.add_files("app.bin");
  return m;
}

std::unique_ptr<FsArtifactStore> MakeStore(const std::string& root) {
  FsArtifactStore::Options options;
  options.root = root;
  auto store = FsArtifactStore::Create(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return *std::move(store);
}

void ExpectNothingStored(const std::string& root) {
  EXPECT_EQ(CountFiles(root + "/objects"), 0);
  EXPECT_EQ(CountFiles(root + "/manifests"), 0);
  EXPECT_EQ(CountFiles(root + "/tmp"), 0);
}

TEST(FsArtifactStoreTest, CommitMakesVisible) {
  std::string root = FreshRoot("commit");
  auto store = MakeStore(root);
  const std::string data = "hello, artifact world";
  const v1::ArtifactManifest manifest = ManifestFor(data);

  auto writer = store->BeginUpload();
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Append(data.substr(0, 5)).ok());
  ASSERT_TRUE((*writer)->Append(data.substr(5)).ok());
  EXPECT_EQ((*writer)->bytes_written(), static_cast<int64_t>(data.size()));

  auto written = (*writer)->OpenWritten();
  ASSERT_TRUE(written.ok()) << written.status();
  std::string out;
  ASSERT_TRUE((*written)->ReadAt(0, 1000, &out).ok());
  EXPECT_EQ(out, data);

  EXPECT_EQ(store->GetManifest(manifest.sha256()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->OpenReader(manifest.sha256()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->GetManifest(manifest.sha256()).status().message(),
            absl::StrCat("artifact ", manifest.sha256(), " not found"));

  ASSERT_TRUE((*writer)->Commit(manifest).ok());
  auto got = store->GetManifest(manifest.sha256());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), manifest.SerializeAsString());
  EXPECT_EQ(CountFiles(root + "/tmp"), 0);
  EXPECT_EQ((*writer)->Append("more").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Commit(manifest).code(), absl::StatusCode::kFailedPrecondition);

  // Visible to another store on the same root (another replica).
  auto other = MakeStore(root);
  auto reader = other->OpenReader(manifest.sha256());
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->size(), static_cast<int64_t>(data.size()));
}

TEST(FsArtifactStoreTest, ReadRanges) {
  std::string root = FreshRoot("ranges");
  auto store = MakeStore(root);
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>(i % 251));
  auto writer = *store->BeginUpload();
  ASSERT_TRUE(writer->Append(data).ok());
  ASSERT_TRUE(writer->Commit(ManifestFor(data)).ok());

  auto reader = *store->OpenReader(Sha256Hex(data));
  std::string out = "stale";
  ASSERT_TRUE(reader->ReadAt(0, 4096, &out).ok());
  EXPECT_EQ(out, data.substr(0, 4096));
  ASSERT_TRUE(reader->ReadAt(4096, 4096, &out).ok());
  EXPECT_EQ(out, data.substr(4096, 4096));
  ASSERT_TRUE(reader->ReadAt(8192, 4096, &out).ok());  // clipped at the end
  EXPECT_EQ(out, data.substr(8192));
  ASSERT_TRUE(reader->ReadAt(10000, 10, &out).ok());
  EXPECT_EQ(out, "");
  EXPECT_EQ(reader->ReadAt(10001, 1, &out).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(reader->ReadAt(-1, 1, &out).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(reader->ReadAt(0, -1, &out).code(), absl::StatusCode::kOutOfRange);
}

TEST(FsArtifactStoreTest, AbortAndDestructionLeaveNothing) {
  std::string root = FreshRoot("abort");
  auto store = MakeStore(root);
  {
    auto writer = *store->BeginUpload();
    ASSERT_TRUE(writer->Append("some bytes").ok());
    EXPECT_EQ(CountFiles(root + "/tmp"), 1);
    writer->Abort();
    ExpectNothingStored(root);
    EXPECT_EQ(writer->Append("x").code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(writer->Commit(ManifestFor("some bytes")).code(),
              absl::StatusCode::kFailedPrecondition);
    writer->Abort();  // twice is fine
  }
  {
    auto writer = *store->BeginUpload();
    ASSERT_TRUE(writer->Append("other bytes").ok());
  }
  ExpectNothingStored(root);
}

TEST(FsArtifactStoreTest, CommitRejectsManifestThatDoesNotMatchAndLeavesNothing) {
  std::string root = FreshRoot("mismatch");
  auto store = MakeStore(root);
  auto writer = *store->BeginUpload();
  ASSERT_TRUE(writer->Append("twelve bytes").ok());
  EXPECT_EQ(writer->Commit(ManifestFor("eleven byte")).code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectNothingStored(root);

  auto bad_sha = *store->BeginUpload();
  ASSERT_TRUE(bad_sha->Append("x").ok());
  v1::ArtifactManifest m = ManifestFor("x");
  m.set_sha256("../../etc/passwd");
  EXPECT_EQ(bad_sha->Commit(m).code(), absl::StatusCode::kInvalidArgument);
  ExpectNothingStored(root);
}

TEST(FsArtifactStoreTest, FirstCommitWins) {
  std::string root = FreshRoot("first_wins");
  auto store = MakeStore(root);
  const std::string data = "same bytes";
  auto a = *store->BeginUpload();
  auto b = *store->BeginUpload();
  ASSERT_TRUE(a->Append(data).ok());
  ASSERT_TRUE(b->Append(data).ok());
  v1::ArtifactManifest first = ManifestFor(data);
  v1::ArtifactManifest second = first;
  second.set_chunk_size(8192);
  ASSERT_TRUE(a->Commit(first).ok());
  EXPECT_EQ(b->Commit(second).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->GetManifest(first.sha256())->chunk_size(), 4096u);
  EXPECT_EQ(CountFiles(root + "/tmp"), 0);
}

TEST(FsArtifactStoreTest, CrashLeftoversAreRemovedAtCreate) {
  std::string root = FreshRoot("crash");
  auto live_store = MakeStore(root);
  // An upload in progress elsewhere (another replica) holds its temp file.
  auto live = *live_store->BeginUpload();
  ASSERT_TRUE(live->Append("in progress").ok());
  // A crashed process left temp files behind (no lock held).
  for (const char* name : {"upload-deadbeef", "manifest-cafe"}) {
    std::ofstream(absl::StrCat(root, "/tmp/", name)) << "partial";
  }
  EXPECT_EQ(CountFiles(root + "/tmp"), 3);

  auto restarted = MakeStore(root);
  EXPECT_EQ(CountFiles(root + "/tmp"), 1);
  const std::string data = "in progress";
  ASSERT_TRUE(live->Commit(ManifestFor(data)).ok());
  EXPECT_TRUE(restarted->GetManifest(Sha256Hex(data)).ok());
  EXPECT_EQ(CountFiles(root + "/tmp"), 0);
}

TEST(FsArtifactStoreTest, BadAndUnknownHashes) {
  std::string root = FreshRoot("bad_hash");
  auto store = MakeStore(root);
  for (absl::string_view bad :
       {"", "../manifests/x", "ABCDEF0000000000000000000000000000000000000000000000000000000000",
        "0123"}) {
    EXPECT_EQ(store->GetManifest(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store->OpenReader(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store->GetManifest(std::string(64, 'a')).status().code(), absl::StatusCode::kNotFound);
}

TEST(FsArtifactStoreTest, CorruptManifestIsDataLoss) {
  std::string root = FreshRoot("corrupt");
  auto store = MakeStore(root);
  const std::string sha = std::string(64, 'b');
  std::ofstream(absl::StrCat(root, "/manifests/", sha, ".pb")) << "\xff\xff\xff not a proto";
  EXPECT_EQ(store->GetManifest(sha).status().code(), absl::StatusCode::kDataLoss);
  // A manifest whose object is missing.
  EXPECT_EQ(store->OpenReader(sha).status().code(), absl::StatusCode::kDataLoss);
}

TEST(FsArtifactStoreTest, FullVolumeIsResourceExhaustedAndLeavesNothing) {
  std::string root = FreshRoot("full");
  auto store = MakeStore(root);
  auto writer = *store->BeginUpload();
  // A file size limit stands in for a full disk: writes past it fail (EFBIG).
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 1 << 20;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  absl::Status s = writer->Append(std::string(2 << 20, 'f'));
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_NE(s.message().find("artifact volume is full"), absl::string_view::npos) << s;
  ExpectNothingStored(root);
  EXPECT_EQ(writer->Append("x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FsArtifactStoreTest, CreateNeedsARoot) {
  EXPECT_EQ(FsArtifactStore::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  FsArtifactStore::Options options;
  options.root = "/proc/no/such/place";
  EXPECT_FALSE(FsArtifactStore::Create(options).ok());
}

}  // namespace
}  // namespace updraft::download
