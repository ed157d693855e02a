// End-to-end tests of downloads (issue 5): access limited to offered
// artifacts, resumable fetches at chunk boundaries and mid-chunk, the
// per-device concurrency limit, broken artifacts on the volume, and the
// HTTP source (nginx over the artifact volume) taking over when the
// download service is unreachable.
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto.h"
#include "tests/e2e_fixture.h"

extern char** environ;

namespace updraft::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

// Reads at most `max_chunks` chunks of a Fetch from `offset`, then cancels.
absl::StatusOr<std::vector<v1::Chunk>> FetchSome(Platform& p, const std::string& token,
                                                 const std::string& sha, int64_t offset,
                                                 size_t max_chunks) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  v1::FetchRequest request;
  request.set_sha256(sha);
  request.set_offset(offset);
  auto reader = p.download().Fetch(&ctx, request);
  std::vector<v1::Chunk> chunks;
  v1::Chunk chunk;
  while (chunks.size() < max_chunks && reader->Read(&chunk)) chunks.push_back(chunk);
  if (chunks.size() == max_chunks) ctx.TryCancel();
  grpc::Status s = reader->Finish();
  if (!s.ok() && !(chunks.size() == max_chunks && s.error_code() == grpc::CANCELLED)) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return chunks;
}

class DownloadTest : public PlatformTest {
 protected:
  // A device that was offered the demo release, and its token.
  void OfferedDevice(const std::string& id, std::unique_ptr<TestDevice>* device,
                     std::string* token) {
    *device = NewDevice(id);
    ASSERT_NE(*device, nullptr);
    auto t = platform_->AccessToken(id, (*device)->key());
    ASSERT_TRUE(t.ok()) << t.status();
    *token = *t;
    auto offers = platform_->CheckForUpdates(*token, v1::CheckForUpdatesRequest());
    ASSERT_TRUE(offers.ok()) << offers.status();
    ASSERT_THAT(offers->offers(), SizeIs(1));
  }
};

TEST_F(DownloadTest, OnlyArtifactsOfferedToTheDeviceMayBeFetched) {
  // dev-early checked for updates before 1.0.0 existed: nothing was offered.
  auto early = NewDevice("dev-early");
  ASSERT_NE(early, nullptr);
  auto early_token = platform_->AccessToken("dev-early", early->key());
  ASSERT_TRUE(early_token.ok());
  ASSERT_TRUE(platform_->CheckForUpdates(*early_token, {}).ok());

  DemoArtifact v1_0;
  v1::Release r1;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &v1_0, &r1));
  std::unique_ptr<TestDevice> device;
  std::string token;
  ASSERT_NO_FATAL_FAILURE(OfferedDevice("dev-offered", &device, &token));
  const std::string sha = r1.artifact().sha256();
  auto chunks = platform_->Fetch(token, sha);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  EXPECT_THAT(*chunks, SizeIs(r1.artifact().chunk_sha256_size()));

  ExpectStatus(platform_->Fetch(*early_token, sha).status(), absl::StatusCode::kPermissionDenied,
               absl::StrCat("artifact ", sha, " was not offered to device dev-early"));

  // 1.1.0 is offered to dev-offered only once it checks again.
  DemoArtifact v1_1;
  v1::Release r2;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.1.0", &v1_1, &r2));
  const std::string sha2 = r2.artifact().sha256();
  ExpectStatus(platform_->Fetch(token, sha2).status(), absl::StatusCode::kPermissionDenied,
               "ask the catalog for updates first");
  ASSERT_TRUE(platform_->CheckForUpdates(token, {}).ok());
  EXPECT_TRUE(platform_->Fetch(token, sha2).ok());
  // The SDK reports a refused fetch as a download authentication failure.
  auto outcomes = early->client().RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  EXPECT_EQ((*outcomes)[0].result, v1::SUCCESS) << (*outcomes)[0].message;
}

TEST_F(DownloadTest, InterruptedFetchesResumeAtChunkBoundariesAndMidChunk) {
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  std::unique_ptr<TestDevice> device;
  std::string token;
  ASSERT_NO_FATAL_FAILURE(OfferedDevice("dev-resume", &device, &token));
  const std::string sha = release.artifact().sha256();
  const int64_t size = release.artifact().size();
  const int total = release.artifact().chunk_sha256_size();
  std::mt19937 random(42);
  for (int round = 0; round < 8; ++round) {
    // Cut after a random number of chunks, then resume from a random byte
    // of the next chunk (its start in even rounds).
    const size_t cut = 1 + random() % (total - 1);
    auto first = FetchSome(*platform_, token, sha, 0, cut);
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_THAT(*first, SizeIs(cut));
    std::string bytes;
    for (const v1::Chunk& c : *first) bytes += c.data();
    const int64_t boundary = static_cast<int64_t>(cut) * kChunkSize;
    const int64_t offset = round % 2 == 0 ? boundary : boundary + 1 + random() % (kChunkSize - 1);
    auto rest = FetchSome(*platform_, token, sha, std::min(offset, size - 1), total);
    ASSERT_TRUE(rest.ok()) << rest.status();
    ASSERT_FALSE(rest->empty());
    EXPECT_EQ(rest->front().index(), cut);  // from the chunk holding the offset
    EXPECT_EQ(rest->front().offset(), boundary);
    for (const v1::Chunk& c : *rest) {
      EXPECT_EQ(c.sha256(), release.artifact().chunk_sha256(static_cast<int>(c.index())));
      bytes += c.data();
    }
    EXPECT_EQ(bytes, artifact.tar) << "round " << round << " cut " << cut << " offset " << offset;
  }
  auto at_end = platform_->Fetch(token, sha, size);
  ASSERT_TRUE(at_end.ok()) << at_end.status();
  EXPECT_TRUE(at_end->empty());
  ExpectStatus(platform_->Fetch(token, sha, size + 1).status(), absl::StatusCode::kOutOfRange,
               absl::StrCat("offset ", size + 1, " is outside artifact ", sha));
  ExpectStatus(platform_->Fetch(token, sha, -1).status(), absl::StatusCode::kOutOfRange,
               "offset -1");
}

TEST_F(DownloadTest, ConcurrentFetchesPerDeviceAreLimited) {
  // Large chunks, so a stream that is not read stays open (flow control).
  const std::string big = PseudoRandomBytes("big", 16 << 20);
  auto manifest = platform_->Upload(big, 1 << 20);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  // A plain blob, not a tar: DCinfo by triples.
  v1::CreateReleaseRequest request = DemoRequest("1.0.0", manifest->sha256());
  request.mutable_dcinfo()->set_variant(v1::DcInfo::TRIPLES);
  request.mutable_dcinfo()->clear_entries();
  v1::DcEntry* entry = request.mutable_dcinfo()->add_entries();
  entry->set_author("acme");
  entry->set_name("blob");
  entry->set_version("1.0.0");
  auto created = platform_->CreateRelease(request);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(platform_->PublishRelease(created->release_id()).ok());
  std::unique_ptr<TestDevice> device;
  std::string token;
  ASSERT_NO_FATAL_FAILURE(OfferedDevice("dev-greedy", &device, &token));

  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderInterface<v1::Chunk>>> readers;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->AddMetadata("authorization", absl::StrCat("Bearer ", token));
    v1::FetchRequest fetch;
    fetch.set_sha256(manifest->sha256());
    readers.push_back(platform_->download().Fetch(contexts.back().get(), fetch));
    v1::Chunk chunk;
    bool got = readers.back()->Read(&chunk);
    if (i < 2) {
      ASSERT_TRUE(got) << "stream " << i;
      EXPECT_EQ(chunk.index(), 0u);
    } else {
      EXPECT_FALSE(got);
      grpc::Status s = readers.back()->Finish();
      EXPECT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED);
      EXPECT_THAT(s.error_message(),
                  HasSubstr("device dev-greedy already has 2 downloads in progress (limit 2)"));
    }
  }
  // Another device is not affected.
  std::unique_ptr<TestDevice> other;
  std::string other_token;
  ASSERT_NO_FATAL_FAILURE(OfferedDevice("dev-other", &other, &other_token));
  auto one = FetchSome(*platform_, other_token, manifest->sha256(), 0, 1);
  ASSERT_TRUE(one.ok()) << one.status();
  for (int i = 0; i < 2; ++i) {
    contexts[i]->TryCancel();
    readers[i]->Finish().IgnoreError();
  }
}

TEST_F(DownloadTest, ArtifactMissingFromTheVolumeIsAServerErrorReported) {
  auto device = NewDevice("dev-missing");
  ASSERT_NE(device, nullptr);
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  ASSERT_EQ(std::remove(platform_->ArtifactObjectPath(release.artifact().sha256()).c_str()), 0);
  auto outcomes = device->client().RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_THAT(*outcomes, SizeIs(1));
  const device::UpdateOutcome& failed = (*outcomes)[0];
  EXPECT_EQ(failed.result, v1::DOWNLOAD_SERVER_ERROR);
  EXPECT_THAT(failed.message, HasSubstr("has a manifest but no object"));
  EXPECT_TRUE(failed.reported) << failed.report_error;
  v1::DeviceState server = DeviceState("dev-missing");
  ASSERT_THAT(server.history(), SizeIs(1));
  EXPECT_EQ(server.history(0).result(), v1::DOWNLOAD_SERVER_ERROR);
}

// A free loopback TCP port (nginx cannot listen on port 0 and report it).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// The platform with nginx serving its artifact volume's objects/ over HTTP
// (sendfile, Range requests), as a carrier's CDN origin would; the catalog
// names it in every offer (--public_http_base).
class HttpSourceTest : public DownloadTest {
 protected:
  void SetUp() override {
    port_ = FreePort();
    ASSERT_NE(port_, 0);
    auto platform = Platform::Start({.public_http_base = absl::StrCat("http://127.0.0.1:", port_)});
    ASSERT_TRUE(platform.ok()) << platform.status();
    platform_ = *std::move(platform);
    dir_ = device::testutil::NewTempDir("nginx");
    const std::string conf = dir_ + "/nginx.conf";
    std::ofstream out(conf);
    out << (geteuid() == 0 ? "user root;\n" : "") << "daemon off;\nworker_processes 1;\n"
        << "pid " << dir_ << "/nginx.pid;\nerror_log " << dir_ << "/error.log;\n"
        << "events {}\nhttp {\n  access_log " << dir_ << "/access.log;\n  sendfile on;\n"
        << "  client_body_temp_path " << dir_ << ";\n  proxy_temp_path " << dir_ << ";\n"
        << "  fastcgi_temp_path " << dir_ << ";\n  uwsgi_temp_path " << dir_ << ";\n"
        << "  scgi_temp_path " << dir_ << ";\n  server {\n    listen 127.0.0.1:" << port_
        << ";\n    location /objects/ {\n      root " << platform_->artifact_root()
        << ";\n      default_type application/octet-stream;\n    }\n  }\n}\n";
    out.close();
    const char* nginx = "/usr/sbin/nginx";
    ASSERT_EQ(access(nginx, X_OK), 0) << "nginx is not installed: run ./dev.sh deps";
    std::vector<std::string> args = {nginx, "-p", dir_, "-c", conf};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, nginx, nullptr, nullptr, argv.data(), environ), 0);
    // nginx has no readiness signal: wait (bounded) until it accepts.
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (!Accepts(port_) && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
    ASSERT_TRUE(Accepts(port_)) << ReadFile(dir_ + "/error.log");
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  int port_ = 0;
  pid_t pid_ = -1;
  std::string dir_;
};

TEST_F(HttpSourceTest, DeviceCompletesTheDownloadFromHttpWhenTheServiceIsDown) {
  RefusingAddress nowhere;
  auto device = NewDevice("dev-cdn", {.download_target_override = nowhere.address()});
  ASSERT_NE(device, nullptr);
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  const std::string sha = release.artifact().sha256();

  auto outcomes = device->client().RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_THAT(*outcomes, SizeIs(1));
  EXPECT_EQ((*outcomes)[0].result, v1::SUCCESS) << (*outcomes)[0].message;
  ASSERT_THAT(device->offers(), SizeIs(1));
  EXPECT_THAT(device->offers()[0].http_urls(),
              ::testing::ElementsAre(absl::StrCat("http://127.0.0.1:", port_, "/objects/", sha)));
  EXPECT_EQ(ReadFile(device->PackageDir("demo-app") + "/app.bin"), artifact.app_bin);
  // One failed gRPC attempt, then HTTP at once (no backoff).
  EXPECT_TRUE(device->waits().empty());
  EXPECT_THAT(ReadFile(dir_ + "/access.log"), HasSubstr(absl::StrCat("GET /objects/", sha)));
  EXPECT_THAT(ReadFile(dir_ + "/access.log"), HasSubstr(" 206 "));
  ASSERT_THAT(DeviceState("dev-cdn").history(), SizeIs(1));
}

TEST_F(HttpSourceTest, CorruptObjectServedOverHttpIsDetectedAndReported) {
  RefusingAddress nowhere;
  auto device = NewDevice("dev-cdn-bad", {.download_target_override = nowhere.address()});
  ASSERT_NE(device, nullptr);
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  const std::string sha = release.artifact().sha256();
  {
    std::fstream f(platform_->ArtifactObjectPath(sha), std::ios::in | std::ios::out);
    f.seekp(3 * kChunkSize + 7);
    f.put('\x5a' ^ artifact.tar[3 * kChunkSize + 7]);
  }
  auto outcomes = device->client().RunActiveUpgrade();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  const device::UpdateOutcome& failed = (*outcomes)[0];
  EXPECT_EQ(failed.result, v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_THAT(failed.message, HasSubstr(absl::StrCat("chunk 3 of ", sha)));
  EXPECT_TRUE(failed.reported) << failed.report_error;
  EXPECT_EQ(device->client().LocalState().downloads(0).verified_chunks(), 3u);
  v1::DeviceState server = DeviceState("dev-cdn-bad");
  ASSERT_THAT(server.history(), SizeIs(1));
  EXPECT_EQ(server.history(0).result(), v1::PACKAGE_VALIDATION_FAILED);
}

}  // namespace
}  // namespace updraft::e2e
