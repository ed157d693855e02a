// Fault injection against a real download process (issue 10): the download
// service binary runs as a child process against the platform's real auth,
// PostgreSQL and Redis, and is killed with SIGKILL in the middle of an
// upload. What must hold afterwards:
//  - no half-visible artifact: neither the object nor its manifest exists,
//    and a restarted service answers GetManifest with NOT_FOUND;
//  - the restarted service removes the dead upload's temp file;
//  - the same artifact uploads completely afterwards, byte for byte.
// Waiting on another process needs polling; every wait is bounded.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/crypto.h"
#include "gtest/gtest.h"
#include "sdk/device/test_util.h"
#include "tests/platform.h"
#include "tests/service_process.h"
#include "updraft/v1/download.grpc.pb.h"

namespace updraft::e2e {
namespace {

constexpr size_t kArtifactSize = 8 << 20;
constexpr size_t kMessageSize = 256 << 10;
constexpr absl::Duration kWaitLimit = absl::Seconds(20);

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  closedir(d);
  return out;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// The download service binary as a child process, with a stub to it.
struct DownloadProcess {
  std::unique_ptr<ServiceProcess> process;
  std::unique_ptr<v1::Download::Stub> stub_;
  v1::Download::Stub& stub() { return *stub_; }
  void Kill() { process->Kill(); }

  static std::unique_ptr<DownloadProcess> Start(Platform& platform, const std::string& root,
                                                const std::string& log) {
    auto p =
        ServiceProcess::Start("services/download/download", platform.DownloadProcessFlags(root),
                              log, "download service listening", kWaitLimit);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    auto d = std::make_unique<DownloadProcess>();
    d->stub_ = v1::Download::NewStub(
        grpc::CreateChannel((*p)->address(), grpc::InsecureChannelCredentials()));
    d->process = *std::move(p);
    return d;
  }
};

class DownloadKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = Platform::Start();
    ASSERT_TRUE(p.ok()) << p.status();
    platform_ = *std::move(p);
    // The child process runs on the real clock: bring the platform's clock
    // (which issues the operator tokens it checks) to real time.
    platform_->clock().Advance(absl::Now() - platform_->clock().Now());
    dir_ = device::testutil::NewTempDir("download-kill");
    root_ = dir_ + "/artifacts";
    ASSERT_EQ(mkdir(root_.c_str(), 0700), 0);
  }

  std::unique_ptr<DownloadProcess> StartService(const std::string& name) {
    return DownloadProcess::Start(*platform_, root_, absl::StrCat(dir_, "/", name, ".log"));
  }

  v1::UploadRequest Header(const std::string& data) {
    v1::UploadRequest h;
    h.mutable_header()->set_size(static_cast<int64_t>(data.size()));
    h.mutable_header()->set_sha256(Sha256Hex(data));
    h.mutable_header()->set_chunk_size(1 << 20);
    return h;
  }

  absl::StatusOr<v1::ArtifactManifest> GetManifest(DownloadProcess& p, const std::string& sha) {
    grpc::ClientContext ctx;
    absl::Status auth = platform_->AuthorizeAsAdmin(&ctx);
    if (!auth.ok()) return auth;
    v1::GetManifestRequest req;
    req.set_sha256(sha);
    v1::ArtifactManifest m;
    grpc::Status s = p.stub().GetManifest(&ctx, req, &m);
    if (!s.ok())
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return m;
  }

  std::unique_ptr<Platform> platform_;
  std::string dir_;
  std::string root_;
};

TEST_F(DownloadKillTest, KilledMidUploadLeavesNoVisibleArtifactAndRestartCleansUp) {
  const std::string data = PseudoRandomBytes("kill-mid-upload", kArtifactSize);
  const std::string sha = Sha256Hex(data);
  auto first = StartService("first");
  ASSERT_NE(first, nullptr);

  // Stream half of the artifact, then kill the service once part of it is
  // on disk, with the upload still open.
  grpc::ClientContext ctx;
  ASSERT_TRUE(platform_->AuthorizeAsAdmin(&ctx).ok());
  v1::ArtifactManifest response;
  auto writer = first->stub().Upload(&ctx, &response);
  ASSERT_TRUE(writer->Write(Header(data))) << writer->Finish().error_message() << "\n"
                                           << ReadFile(dir_ + "/first.log");
  for (size_t off = 0; off < data.size() / 2; off += kMessageSize) {
    v1::UploadRequest part;
    part.set_data(data.substr(off, kMessageSize));
    ASSERT_TRUE(writer->Write(part)) << writer->Finish().error_message() << "\n"
                                     << ReadFile(dir_ + "/first.log");
  }
  const std::string tmp = root_ + "/tmp";
  ASSERT_TRUE(PollUntil(
      [&] {
        for (const std::string& f : FilesIn(tmp)) {
          if (FileSize(tmp + "/" + f) >= (1 << 20)) return true;
        }
        return false;
      },
      kWaitLimit))
      << "the upload never reached the disk";
  first->Kill();
  EXPECT_FALSE(writer->Finish().ok());

  // Nothing of the artifact is visible; the dead upload left its temp file.
  EXPECT_EQ(FileSize(root_ + "/objects/" + sha), -1);
  EXPECT_EQ(FileSize(root_ + "/manifests/" + sha + ".pb"), -1);
  EXPECT_FALSE(FilesIn(tmp).empty());

  auto second = StartService("second");
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(FilesIn(tmp).empty()) << "the restarted service kept the dead upload's temp file";
  absl::StatusOr<v1::ArtifactManifest> missing = GetManifest(*second, sha);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();

  // The same artifact uploads completely after the restart.
  grpc::ClientContext again;
  ASSERT_TRUE(platform_->AuthorizeAsAdmin(&again).ok());
  v1::ArtifactManifest manifest;
  auto upload = second->stub().Upload(&again, &manifest);
  ASSERT_TRUE(upload->Write(Header(data)));
  for (size_t off = 0; off < data.size(); off += kMessageSize) {
    v1::UploadRequest part;
    part.set_data(data.substr(off, kMessageSize));
    ASSERT_TRUE(upload->Write(part));
  }
  ASSERT_TRUE(upload->WritesDone());
  grpc::Status done = upload->Finish();
  ASSERT_TRUE(done.ok()) << done.error_message();
  EXPECT_EQ(manifest.sha256(), sha);
  EXPECT_EQ(manifest.size(), static_cast<int64_t>(kArtifactSize));
  EXPECT_EQ(manifest.chunk_sha256_size(), 8);
  absl::StatusOr<v1::ArtifactManifest> found = GetManifest(*second, sha);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->sha256(), sha);
  EXPECT_EQ(Sha256Hex(ReadFile(root_ + "/objects/" + sha)), sha);
  EXPECT_TRUE(FilesIn(tmp).empty());
}

}  // namespace
}  // namespace updraft::e2e
