// Crash safety of the device SDK (issue 7 items 3 and 7): a real device
// process is killed with SIGKILL at each step of the active-upgrade flow in
// turn; a new process on the same directory must then finish cleanly: the
// release installed exactly once, the components registered, exactly one
// success recorded by the server (no duplicate, none lost), and a download
// cut by the kill resumed re-fetching at most one chunk.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/device/file_key_store.h"
#include "tests/e2e_fixture.h"

extern char** environ;

namespace updraft::e2e {
namespace {

struct DeviceRun {
  int exit_status = 0;  // waitpid status
  std::vector<std::string> lines;
  bool killed() const { return WIFSIGNALED(exit_status) && WTERMSIG(exit_status) == SIGKILL; }
  bool exited_ok() const { return WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0; }
  // chunks_done of the first "EVENT downloading" line, -1 if none.
  int FirstDownloadingChunks() const {
    for (const std::string& l : lines) {
      std::vector<std::string> f = absl::StrSplit(l, ' ');
      int n = 0;
      if (f.size() == 3 && f[0] == "EVENT" && f[1] == "downloading" && absl::SimpleAtoi(f[2], &n))
        return n;
    }
    return -1;
  }
  std::string Text() const { return absl::StrJoin(lines, "\n"); }
};

std::string CrashDeviceBinary() {
  return absl::StrCat(getenv("TEST_SRCDIR"), "/updraft/tests/crash_device");
}

class CrashRecoveryTest : public PlatformTest {
 protected:
  // With `full_dir`, the device runs in its own mount namespace where
  // `full_dir` is a fresh tmpfs of `full_kib` KiB: a disk that fills up.
  DeviceRun RunDevice(const std::string& id, const std::string& dir, const std::string& crash_at,
                      int crash_after_chunks = 2, const std::string& full_dir = "",
                      int full_kib = 0) {
    std::vector<std::string> args;
    if (!full_dir.empty()) {
      args = {"/usr/bin/unshare",
              "-m",
              "/bin/sh",
              "-c",
              "mkdir -p \"$1\" && mount -t tmpfs -o size=\"$2\"k tmpfs \"$1\" && shift 2 && "
              "exec \"$@\"",
              "sh",
              full_dir,
              absl::StrCat(full_kib)};
    }
    for (std::string a :
         {CrashDeviceBinary(), absl::StrCat("--auth=", platform_->auth_address()),
          absl::StrCat("--catalog=", platform_->catalog_address()),
          absl::StrCat("--device_id=", id), absl::StrCat("--dir=", dir),
          absl::StrCat("--publisher_key=",
                       absl::WebSafeBase64Escape(platform_->publisher_key().public_key())),
          absl::StrCat("--now_unix=", absl::ToUnixSeconds(platform_->clock().Now())),
          absl::StrCat("--crash_at=", crash_at),
          absl::StrCat("--crash_after_chunks=", crash_after_chunks)}) {
      args.push_back(std::move(a));
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    DeviceRun run;
    if (pipe(out) != 0) return run;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    EXPECT_EQ(spawned, 0) << "cannot start " << argv[0];
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, n);
    close(out[0]);
    if (spawned == 0) waitpid(pid, &run.exit_status, 0);
    run.lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
    return run;
  }

  // A handset directory holding a registered device key.
  std::string NewHandset(const std::string& id) {
    std::string dir = device::testutil::NewTempDir(id);
    device::FileKeyStore keys(absl::StrCat(dir, "/device.key"));
    auto key = keys.LoadOrGenerate();
    EXPECT_TRUE(key.ok()) << key.status();
    EXPECT_TRUE(platform_->RegisterDevice(id, key->public_key()).ok());
    return dir;
  }

  void ExpectInstalledOnce(const std::string& id, const v1::Release& release) {
    v1::DeviceState state = DeviceState(id);
    int successes = 0;
    for (const auto& r : state.history()) {
      if (r.release_id() == release.release_id() && r.result() == v1::SUCCESS) ++successes;
    }
    EXPECT_EQ(successes, 1) << "device " << id;
    std::vector<std::string> dcs;
    for (const auto& c : state.deployed()) dcs.push_back(c.dc_id());
    EXPECT_THAT(dcs, ::testing::UnorderedElementsAre("DC_1", "DC_2")) << "device " << id;
  }
};

TEST_F(CrashRecoveryTest, KilledAtEveryStepTheNextRunFinishesCleanly) {
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  const std::vector<std::string> steps = {
      "logged_in",  "found_update",          "consented", "downloading", "verified", "installed",
      "configured", "components_registered", "reported"};
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE(steps[i]);
    const std::string id = absl::StrCat("crash-", i);
    const std::string dir = NewHandset(id);
    DeviceRun crashed = RunDevice(id, dir, steps[i]);
    ASSERT_TRUE(crashed.killed()) << "the device did not die at " << steps[i] << ":\n"
                                  << crashed.Text();
    DeviceRun resumed = RunDevice(id, dir, "");
    ASSERT_TRUE(resumed.exited_ok()) << resumed.Text();
    EXPECT_THAT(resumed.Text(), ::testing::HasSubstr("OUTCOME ")) << resumed.Text();
    EXPECT_THAT(resumed.Text(), ::testing::Not(::testing::HasSubstr("OUTCOME 14")))
        << "no failure after a crash: " << resumed.Text();
    ExpectInstalledOnce(id, release);
    if (steps[i] == "downloading") {
      // Killed after 2 chunks were written: at most one is fetched again.
      EXPECT_GE(resumed.FirstDownloadingChunks(), 1) << resumed.Text();
    }
    // A third run has nothing to do and reports nothing twice.
    DeviceRun again = RunDevice(id, dir, "");
    EXPECT_THAT(again.Text(), ::testing::HasSubstr("OUTCOME 0 nothing new")) << again.Text();
    ExpectInstalledOnce(id, release);
  }
}

// The result codes of the device's reports, oldest first.
std::vector<v1::ResultCode> Reported(const v1::DeviceState& state) {
  std::vector<v1::ResultCode> codes;
  for (const auto& r : state.history()) codes.push_back(r.result());
  return codes;
}

bool CanMountTmpfs() { return geteuid() == 0 && access("/usr/bin/unshare", X_OK) == 0; }

TEST_F(CrashRecoveryTest, FullDiskDuringDownloadIsReported1404ThenSucceeds) {
  if (!CanMountTmpfs()) GTEST_SKIP() << "needs root and unshare(1) for a small tmpfs";
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  const std::string dir = NewHandset("full-dl");
  DeviceRun full = RunDevice("full-dl", dir, "", 0, absl::StrCat(dir, "/state"), 12);
  ASSERT_TRUE(full.exited_ok()) << full.Text();
  EXPECT_THAT(full.Text(), ::testing::HasSubstr("OUTCOME 1404")) << full.Text();
  EXPECT_THAT(Reported(DeviceState("full-dl")), ::testing::ElementsAre(v1::DOWNLOAD_OUT_OF_MEMORY));
  EXPECT_TRUE(DeviceState("full-dl").deployed().empty());
  DeviceRun ok = RunDevice("full-dl", dir, "");
  EXPECT_THAT(ok.Text(), ::testing::HasSubstr("OUTCOME 1200")) << ok.Text();
  EXPECT_THAT(Reported(DeviceState("full-dl")),
              ::testing::ElementsAre(v1::DOWNLOAD_OUT_OF_MEMORY, v1::SUCCESS));
}

TEST_F(CrashRecoveryTest, FullDiskDuringInstallIsReported1406AndLeavesNothingHalfInstalled) {
  if (!CanMountTmpfs()) GTEST_SKIP() << "needs root and unshare(1) for a small tmpfs";
  DemoArtifact artifact;
  v1::Release release;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &artifact, &release));
  const std::string dir = NewHandset("full-install");
  DeviceRun full = RunDevice("full-install", dir, "", 0, absl::StrCat(dir, "/handset"), 8);
  ASSERT_TRUE(full.exited_ok()) << full.Text();
  EXPECT_THAT(full.Text(), ::testing::HasSubstr("OUTCOME 1406")) << full.Text();
  EXPECT_THAT(Reported(DeviceState("full-install")),
              ::testing::ElementsAre(v1::INSTALL_OUT_OF_MEMORY));
  EXPECT_TRUE(DeviceState("full-install").deployed().empty());
  DeviceRun ok = RunDevice("full-install", dir, "");
  EXPECT_THAT(ok.Text(), ::testing::HasSubstr("OUTCOME 1200")) << ok.Text();
  ExpectInstalledOnce("full-install", release);
}

}  // namespace
}  // namespace updraft::e2e
