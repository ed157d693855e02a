// Fault injection on the download path with separate processes (issue 10):
// a real SDK device process (tests/crash_device) runs the active upgrade
// against the platform and downloads an 8-chunk artifact (1 MiB chunks) from
// the download service binary running as a child process, through a TCP
// proxy in this test process (what a load balancer in front of the service
// is). The proxy forwards the service's bytes up to a budget, so a cut lands
// at a known place: mid-chunk.
//  1. The connection is cut with chunks 0 and 1 received and chunk 2 half
//     way; the service stays up.
//  2. The download service is killed with SIGKILL with chunks 2-4 received
//     and chunk 5 half way; the device's connection is cut; a second
//     service process starts on the same artifact volume and the proxy
//     sends the device's new connection there.
// What must hold: each resume starts at the chunk that was in flight (the
// services' logs show fetches from offsets 0, 2 MiB and 5 MiB), so at most
// one chunk per cut is fetched again (the proxy counts the bytes); the
// device never writes a chunk twice; its partial file holds only verified
// whole chunks; the downloaded file's SHA-256 is the artifact's; nothing is
// left in its download directory; one SUCCESS report and both components
// Deployed. Waiting on other processes needs polling; every wait is bounded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/file_key_store.h"
#include "sdk/device/test_util.h"
#include "tests/e2e_fixture.h"
#include "tests/service_process.h"

extern char** environ;

namespace updraft::e2e {
namespace {

constexpr uint32_t kChunk = 1 << 20;
constexpr absl::Duration kWaitLimit = absl::Seconds(30);

// A TCP proxy on 127.0.0.1:0. Bytes from the device go through at once;
// bytes from the service only while the budget lasts (then that direction
// pauses). With no upstream set, new connections wait for one.
class CutProxy {
 public:
  CutProxy() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "proxy cannot listen";
    }
    address_ = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~CutProxy() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    Cut();
    close(listen_fd_);
  }

  const std::string& address() const { return address_; }

  // Port of the service new connections go to; 0: they wait.
  void SetUpstream(int port) {
    absl::MutexLock lock(&mu_);
    upstream_port_ = port;
  }
  // Service-to-device bytes that may pass from now on; -1: no limit.
  void SetBudget(int64_t bytes) {
    absl::MutexLock lock(&mu_);
    budget_ = bytes;
  }
  bool BudgetSpent() {
    absl::MutexLock lock(&mu_);
    return budget_ == 0;
  }
  int64_t bytes_to_device() {
    absl::MutexLock lock(&mu_);
    return to_device_;
  }
  int connections() {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }

  // Closes every connection, both sides, and waits for their threads.
  void Cut() {
    std::vector<std::shared_ptr<Conn>> conns;
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&mu_);
      for (auto& c : conns_) {
        c->cut = true;
        shutdown(c->device_fd, SHUT_RDWR);
        if (c->service_fd >= 0) shutdown(c->service_fd, SHUT_RDWR);
      }
      conns.swap(conns_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    for (auto& c : conns) {
      close(c->device_fd);
      if (c->service_fd >= 0) close(c->service_fd);
    }
  }

 private:
  struct Conn {
    int device_fd = -1;
    int service_fd = -1;
    bool cut = false;
  };

  void Accept() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      absl::MutexLock lock(&mu_);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      ++accepted_;
      auto conn = std::make_shared<Conn>();
      conn->device_fd = fd;
      conns_.push_back(conn);
      threads_.emplace_back([this, conn] { Serve(conn); });
    }
  }

  void Serve(std::shared_ptr<Conn> c) {
    int port = 0;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [&] { return upstream_port_ != 0 || c->cut; };
      mu_.Await(absl::Condition(&ready));
      if (c->cut) return;
      port = upstream_port_;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(s);
      shutdown(c->device_fd, SHUT_RDWR);
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      c->service_fd = s;
      if (c->cut) shutdown(s, SHUT_RDWR);
    }
    std::thread up([this, c] { Pump(c->device_fd, c->service_fd, c.get(), false); });
    Pump(c->service_fd, c->device_fd, c.get(), true);
    up.join();
  }

  // Copies from `from` to `to` until either side closes; when
  // `to_device`, only as many bytes as the budget allows.
  void Pump(int from, int to, Conn* c, bool to_device) {
    char buf[16384];
    for (;;) {
      size_t want = sizeof buf;
      if (to_device) {
        absl::MutexLock lock(&mu_);
        auto can = [&] { return budget_ != 0 || c->cut; };
        mu_.Await(absl::Condition(&can));
        if (c->cut) break;
        if (budget_ > 0) want = std::min<int64_t>(want, budget_);
      }
      ssize_t n = read(from, buf, want);
      if (n <= 0) break;
      if (to_device) {
        absl::MutexLock lock(&mu_);
        if (budget_ > 0) budget_ -= n;
        to_device_ += n;
      }
      for (ssize_t off = 0; off < n;) {
        ssize_t w = send(to, buf + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += w;
      }
    }
    shutdown(from, SHUT_RDWR);
    shutdown(to, SHUT_RDWR);
  }

  int listen_fd_ = -1;
  std::string address_;
  std::thread acceptor_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int upstream_port_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t budget_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t to_device_ ABSL_GUARDED_BY(mu_) = 0;
  int accepted_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::shared_ptr<Conn>> conns_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

// tests/crash_device as a child process whose stdout lines are collected
// while it runs.
class DeviceProcess {
 public:
  explicit DeviceProcess(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start " << argv[0];
      pid_ = -1;
      close(out[0]);
      return;
    }
    reader_ = std::thread([this, fd = out[0]] {
      std::string partial;
      char buf[4096];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
        partial.append(buf, n);
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
          absl::MutexLock lock(&mu_);
          lines_.push_back(partial.substr(0, nl));
          partial.erase(0, nl + 1);
        }
      }
      close(fd);
    });
  }
  ~DeviceProcess() {
    if (pid_ > 0) kill(pid_, SIGKILL);
    Wait();
  }

  bool HasLine(const std::string& line) {
    absl::MutexLock lock(&mu_);
    return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
  }
  std::vector<std::string> Lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  std::string Text() { return absl::StrJoin(Lines(), "\n"); }
  // The waitpid status.
  int Wait() {
    if (pid_ > 0) {
      waitpid(pid_, &status_, 0);
      pid_ = -1;
    }
    if (reader_.joinable()) reader_.join();
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::thread reader_;
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// The offsets of the "fetch started" lines of a download service log.
std::vector<int64_t> FetchOffsets(const std::string& log) {
  std::vector<int64_t> out;
  const std::regex offset_re("\"offset\":\"([0-9]+)\"");
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    std::string l(line);
    std::smatch m;
    int64_t v = 0;
    if (l.find("fetch started") != std::string::npos && std::regex_search(l, m, offset_re) &&
        absl::SimpleAtoi(m[1].str(), &v)) {
      out.push_back(v);
    }
  }
  return out;
}

class DownloadCutTest : public PlatformTest {
 protected:
  std::unique_ptr<ServiceProcess> StartDownload(const std::string& name) {
    std::vector<std::string> flags = platform_->DownloadProcessFlags(platform_->artifact_root());
    flags.push_back("--log_level=debug");
    auto p = ServiceProcess::Start("services/download/download", flags, Log(name),
                                   "download service listening", kWaitLimit);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }
  std::string Log(const std::string& name) { return absl::StrCat(dir_, "/", name, ".log"); }
  static int PortOf(const std::string& address) {
    int port = 0;
    EXPECT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) << address;
    return port;
  }

  std::string dir_ = device::testutil::NewTempDir("download-cut");
};

TEST_F(DownloadCutTest, CutMidChunkAndKilledServiceResumeWithinOneChunk) {
  // The child processes run on the real clock.
  platform_->clock().Advance(absl::Now() - platform_->clock().Now());
  // An 8-chunk release: app.bin fills most of it.
  DemoArtifact artifact;
  artifact.app_bin = PseudoRandomBytes("cut app.bin", 7 * kChunk + kChunk / 2);
  artifact.libcodec = PseudoRandomBytes("cut libcodec.so", 7000);
  artifact.tar =
      device::testutil::BuildTar({device::testutil::File("app.bin", artifact.app_bin, 0755),
                                  device::testutil::File("libcodec.so", artifact.libcodec)});
  auto manifest = platform_->Upload(artifact.tar, kChunk);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  ASSERT_EQ(manifest->chunk_sha256_size(), 8);
  const std::string sha = manifest->sha256();
  auto created = platform_->CreateRelease(DemoRequest("1.0.0", sha));
  ASSERT_TRUE(created.ok()) << created.status();
  auto release = platform_->PublishRelease(created->release_id());
  ASSERT_TRUE(release.ok()) << release.status();

  const std::string id = "cut-device";
  const std::string handset = device::testutil::NewTempDir(id);
  device::FileKeyStore keys(absl::StrCat(handset, "/device.key"));
  auto key = keys.LoadOrGenerate();
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(platform_->RegisterDevice(id, key->public_key()).ok());
  const std::string part = absl::StrCat(handset, "/state/downloads/", sha, ".part");

  auto first = StartDownload("first");
  ASSERT_NE(first, nullptr);
  CutProxy proxy;
  proxy.SetUpstream(PortOf(first->address()));
  proxy.SetBudget(2 * kChunk + kChunk / 2);
  const absl::Time started = absl::Now();
  DeviceProcess device(
      {absl::StrCat(getenv("TEST_SRCDIR"), "/updraft/tests/crash_device"),
       absl::StrCat("--auth=", platform_->auth_address()),
       absl::StrCat("--catalog=", platform_->catalog_address()), absl::StrCat("--device_id=", id),
       absl::StrCat("--dir=", handset),
       absl::StrCat("--publisher_key=",
                    absl::WebSafeBase64Escape(platform_->publisher_key().public_key())),
       absl::StrCat("--now_unix=", absl::ToUnixSeconds(platform_->clock().Now())),
       absl::StrCat("--download_target=", proxy.address())});

  // 1. Chunk 1 arrived whole (the device commits chunk 0 when it does) and
  // chunk 2 is half way: cut the connection; the service stays up.
  ASSERT_TRUE(PollUntil(
      [&] { return proxy.BudgetSpent() && device.HasLine("EVENT downloading 1"); }, kWaitLimit))
      << device.Text();
  proxy.Cut();
  proxy.SetBudget(3 * kChunk + kChunk / 2);
  // 2. Chunks 2-4 arrived, chunk 5 is half way: the service dies, the
  // device's connection with it; new connections wait for the restart.
  ASSERT_TRUE(PollUntil(
      [&] { return proxy.BudgetSpent() && device.HasLine("EVENT downloading 4"); }, kWaitLimit))
      << device.Text();
  proxy.SetUpstream(0);
  first->Kill();
  proxy.Cut();
  proxy.SetBudget(-1);
  // The device keeps what it received whole (chunk 4 too) and nothing of
  // chunk 5: its partial file is exactly the verified chunks 0-4.
  ASSERT_TRUE(PollUntil([&] { return device.HasLine("EVENT downloading 5"); }, kWaitLimit))
      << device.Text();
  EXPECT_EQ(FileSize(part), 5 * int64_t{kChunk});
  EXPECT_EQ(Sha256Hex(ReadFile(part)), Sha256Hex(artifact.tar.substr(0, 5 * kChunk)));
  auto second = StartDownload("second");
  ASSERT_NE(second, nullptr);
  proxy.SetUpstream(PortOf(second->address()));

  const int status = device.Wait();
  const absl::Duration took = absl::Now() - started;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << device.Text();
  EXPECT_THAT(device.Text(), ::testing::HasSubstr("OUTCOME 1200")) << device.Text();
  EXPECT_TRUE(device.HasLine(absl::StrCat("ARTIFACT ", sha))) << device.Text();

  // Each fetch starts at the chunk that was in flight.
  EXPECT_THAT(FetchOffsets(ReadFile(Log("first"))), ::testing::ElementsAre(0, 2 * kChunk));
  EXPECT_THAT(FetchOffsets(ReadFile(Log("second"))), ::testing::ElementsAre(5 * kChunk));
  // The device never went back: its chunk count only grows (a resume
  // repeats the count it resumes from).
  std::vector<int> done;
  for (const std::string& l : device.Lines()) {
    std::vector<std::string> f = absl::StrSplit(l, ' ');
    int n = 0;
    if (f.size() == 3 && f[0] == "EVENT" && f[1] == "downloading" && absl::SimpleAtoi(f[2], &n))
      done.push_back(n);
  }
  ASSERT_FALSE(done.empty()) << device.Text();
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end())) << absl::StrJoin(done, " ");
  EXPECT_EQ(done.back(), 8);
  // Wire bytes beyond the artifact: the two half chunks cut, plus framing.
  const int64_t extra = proxy.bytes_to_device() - static_cast<int64_t>(artifact.tar.size());
  EXPECT_GE(extra, kChunk / 2);
  EXPECT_LT(extra, 2 * int64_t{kChunk});
  EXPECT_EQ(proxy.connections(), 3);

  // Nothing left behind, installed once, one SUCCESS report.
  EXPECT_EQ(FileSize(part), -1);
  EXPECT_EQ(FileSize(absl::StrCat(handset, "/state/downloads/", sha)), -1);
  EXPECT_EQ(ReadFile(absl::StrCat(handset, "/handset/demo-app/app.bin")), artifact.app_bin);
  v1::DeviceState state = DeviceState(id);
  ASSERT_EQ(state.history_size(), 1);
  EXPECT_EQ(state.history(0).result(), v1::SUCCESS);
  std::vector<std::string> dcs;
  for (const auto& c : state.deployed()) dcs.push_back(c.dc_id());
  EXPECT_THAT(dcs, ::testing::UnorderedElementsAre("DC_1", "DC_2"));
  std::cerr << "download with a cut and a kill: " << absl::FormatDuration(took)
            << ", wire bytes beyond the artifact: " << extra << " ("
            << static_cast<double>(extra) / kChunk << " chunks)\n";
}

}  // namespace
}  // namespace updraft::e2e
