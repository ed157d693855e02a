// The PostgreSQL server process stopped and started under the whole platform
// (issue 10). The test runs its own PostgreSQL (initdb into a temporary
// directory, pg_ctl on a free port, as the unprivileged `postgres` user when
// run as root; the shared test server is never touched), starts the platform
// (auth, download, catalog, notifier in-process) and a second catalog replica
// on it, and between the steps of a release flow stops the server with
// `pg_ctl stop -m immediate` (a crash) and later with `-m fast`, then starts
// it again on the same port. What must hold, each checked:
// - while it is down, RPCs that need the database fail with UNAVAILABLE
//   ("database unavailable: ...") well within their deadline; nothing
//   crashes;
// - after it is back, every service works again without a restart: the
//   first publish, login, check, download, report and registration succeed
//   (the pools reconnect), and the replica's LISTEN connection reconnects
//   and sees a release published afterwards through NOTIFY;
// - nothing committed before the crash is lost (the release, the report);
// - each device ends with exactly one SUCCESS report per release.
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e_fixture.h"
#include "tests/service_process.h"
#include "updraft/v1/auth.grpc.pb.h"

extern char** environ;

namespace updraft::e2e {
namespace {

constexpr absl::Duration kDownLimit = absl::Seconds(5);  // an RPC while PostgreSQL is down

// A private PostgreSQL server for this test only.
class PrivatePostgres {
 public:
  static absl::StatusOr<std::unique_ptr<PrivatePostgres>> Start() {
    std::unique_ptr<PrivatePostgres> pg(new PrivatePostgres());
    std::vector<std::string> bins;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      if (std::filesystem::exists(e.path() / "bin" / "initdb")) {
        bins.push_back((e.path() / "bin").string());
      }
    }
    if (bins.empty()) {
      return absl::FailedPreconditionError(
          "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install the Debian "
          "package postgresql, as ./dev.sh does)");
    }
    std::sort(bins.begin(), bins.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;  // 9 < 15
    });
    pg->bin_ = bins.back();
    char dir[] = "/tmp/updraft-pg-restart-XXXXXX";  // reachable by the postgres user
    if (mkdtemp(dir) == nullptr) return absl::InternalError("mkdtemp failed");
    pg->dir_ = dir;
    if (geteuid() == 0) {
      // PostgreSQL refuses to run as root.
      struct passwd* pw = getpwnam("postgres");
      if (pw == nullptr) {
        return absl::FailedPreconditionError(
            "running as root and there is no `postgres` user to run PostgreSQL as (install the "
            "Debian package postgresql)");
      }
      pg->uid_ = pw->pw_uid;
      pg->gid_ = pw->pw_gid;
      if (chown(dir, pg->uid_, pg->gid_) != 0) return absl::InternalError("chown failed");
    }
    UPDRAFT_RETURN_IF_ERROR(pg->Run({pg->bin_ + "/initdb", "-D", pg->dir_ + "/data", "-U",
                                     "updraft", "--auth=trust", "-E", "UTF8"}));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      close(fd);
      return absl::InternalError("cannot find a free port");
    }
    pg->port_ = ntohs(addr.sin_port);
    close(fd);
    UPDRAFT_RETURN_IF_ERROR(pg->Up());
    return pg;
  }

  ~PrivatePostgres() {
    if (running_) (void)Down("immediate");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  absl::Status Up() {
    UPDRAFT_RETURN_IF_ERROR(Run(
        {bin_ + "/pg_ctl", "-D", dir_ + "/data", "-w", "-t", "30", "-l", dir_ + "/server.log", "-o",
         absl::StrCat("-p ", port_, " -k ", dir_,
                      " -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100"),
         "start"}));
    running_ = true;
    return absl::OkStatus();
  }

  // `mode`: "immediate" (a crash: no checkpoint, clients cut) or "fast".
  absl::Status Down(const std::string& mode) {
    UPDRAFT_RETURN_IF_ERROR(
        Run({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", mode, "-w", "-t", "30", "stop"}));
    running_ = false;
    return absl::OkStatus();
  }

  std::string admin_uri() const {
    return absl::StrCat("postgresql://updraft@127.0.0.1:", port_, "/postgres");
  }

 private:
  PrivatePostgres() = default;

  // Runs `args` as the postgres user (as root) in dir_; its output goes to
  // dir_/commands.log, quoted on failure.
  absl::Status Run(std::vector<std::string> args) {
    if (uid_ != 0) {
      args.insert(args.begin(), {"setpriv", absl::StrCat("--reuid=", uid_),
                                 absl::StrCat("--regid=", gid_), "--clear-groups", "--"});
    }
    const std::string log = dir_ + "/commands.log";
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addchdir_np(&actions, dir_.c_str());
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return absl::InternalError(absl::StrCat("cannot run ", args[0], ": ", rc));
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return absl::InternalError(absl::StrCat(absl::StrJoin(args, " "), " failed:\n", ReadFile(log),
                                              "\nserver log:\n", ReadFile(dir_ + "/server.log")));
    }
    return absl::OkStatus();
  }

  std::string bin_;
  std::string dir_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int port_ = 0;
  bool running_ = false;
};

class PostgresRestartTest : public PlatformTest {
 protected:
  void SetUp() override {
    auto pg = PrivatePostgres::Start();
    // A failure, not a skip: CI installs PostgreSQL (./dev.sh).
    ASSERT_TRUE(pg.ok()) << "cannot run a private PostgreSQL for this test: " << pg.status();
    pg_ = *std::move(pg);
    // TestEnv (Platform) creates its database on the private server.
    setenv("UPDRAFT_TEST_PG_URI", pg_->admin_uri().c_str(), 1);
    PlatformTest::SetUp();
    ASSERT_NE(platform_, nullptr);
    ASSERT_NO_FATAL_FAILURE(StartReplica());
  }

  void TearDown() override {
    replica_.reset();
    platform_.reset();
    pg_.reset();
  }

  // A second catalog replica: it learns of releases only through its
  // LISTEN connection (it publishes nothing itself).
  void StartReplica() {
    const std::string key_file = device::testutil::NewTempDir("replica-key") + "/viewer.key";
    auto key = platform_->CreateApiKeyFile("replica", "viewer", key_file);
    ASSERT_TRUE(key.ok()) << key.status();
    logger_ =
        std::make_unique<Logger>("replica", &platform_->clock(), stderr, Logger::Level::kError);
    catalog::CatalogServer::Options o;
    o.listen_address = "127.0.0.1:0";
    o.metrics_listen = "";
    o.pg_uri = platform_->env().pg_uri();
    o.download_address = platform_->download_address();
    o.auth_address = platform_->auth_address();
    o.redis = platform_->env().redis_options();
    o.redis_key_prefix = platform_->env().redis_prefix();
    o.api_key_file = key_file;
    o.notifier_address = "";
    o.clock = &platform_->clock();
    o.logger = logger_.get();
    auto replica = catalog::CatalogServer::Create(std::move(o));
    ASSERT_TRUE(replica.ok()) << replica.status();
    replica_ = *std::move(replica);
    replica_devices_ = v1::DeviceCatalog::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", replica_->port()), grpc::InsecureChannelCredentials()));
  }

  // The version the replica offers a device that has nothing ("" if none).
  std::string ReplicaOffer(const std::string& token) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::CheckForUpdatesResponse response;
    grpc::Status s =
        replica_devices_->CheckForUpdates(&ctx, v1::CheckForUpdatesRequest(), &response);
    if (!s.ok() || response.offers_size() == 0) return "";
    return response.offers(0).release().version();
  }

  // `status` is UNAVAILABLE naming the database, and came back in time.
  static void ExpectDown(const std::string& what, const absl::Status& status, absl::Time start) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << what << ": " << status;
    EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("database unavailable"))
        << what;
    EXPECT_LT(absl::Now() - start, kDownLimit) << what << " took too long";
  }

  // While PostgreSQL is down: reads and writes of every service that keeps
  // its state there (auth, catalog, notifier) fail fast; a login or an
  // update check is answered from memory or refused the same way.
  void ExpectEveryServiceUnavailable(const std::string& device_id, const Ed25519KeyPair& key,
                                     const std::string& token) {
    absl::Time start = absl::Now();
    auto login = platform_->AccessToken(device_id, key);  // auth may know the key already
    EXPECT_LT(absl::Now() - start, kDownLimit);
    if (!login.ok()) ExpectDown("auth Login", login.status(), start);
    answered_ = absl::StrCat("login ", login.ok() ? "answered" : "refused");
    start = absl::Now();
    auto check = platform_->CheckForUpdates(token, v1::CheckForUpdatesRequest());
    EXPECT_LT(absl::Now() - start, kDownLimit);
    if (!check.ok()) ExpectDown("catalog CheckForUpdates", check.status(), start);
    absl::StrAppend(&answered_, ", check ", check.ok() ? "answered" : "refused");
    start = absl::Now();
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      ASSERT_TRUE(platform_->AuthorizeAsAdmin(&ctx).ok());
      v1::AnnounceRequest announce;
      announce.set_software_name("demo-app");
      announce.set_location("rel_x");
      announce.set_server_address("catalog.example:7402");
      announce.add_targets()->set_device_id(device_id);
      v1::AnnounceResponse response;
      grpc::Status s = platform_->notifier().Announce(&ctx, announce, &response);
      ExpectDown("notifier Announce", FromGrpcStatus(s), start);
    }
    start = absl::Now();
    ExpectDown("catalog GetDeviceState", platform_->GetDeviceState(device_id).status(), start);
    start = absl::Now();
    ExpectDown("catalog CreatePackage", platform_->CreatePackage("other-app", "acme").status(),
               start);
    start = absl::Now();
    Ed25519KeyPair other = *Ed25519KeyPair::Generate();
    ExpectDown("auth RegisterDevice", platform_->RegisterDevice("pg-down-dev", other.public_key()),
               start);
  }

  std::unique_ptr<PrivatePostgres> pg_;
  std::string answered_;  // what the login and check did while it was down
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<catalog::CatalogServer> replica_;
  std::unique_ptr<v1::DeviceCatalog::Stub> replica_devices_;
};

TEST_F(PostgresRestartTest, StoppedAndStartedUnderTheWholeStackNothingLostNothingDoubled) {
  const absl::Time test_start = absl::Now();
  DemoArtifact a1, a2;
  v1::Release r1, r2;
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.0.0", &a1, &r1));
  auto device = NewDevice("pg-restart-1");
  ASSERT_NE(device, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectInstalls(*device, "1.0.0"));
  auto token = platform_->AccessToken("pg-restart-1", device->key());
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(ReplicaOffer(*token), "1.0.0");

  // A crash: no checkpoint, every connection cut.
  ASSERT_TRUE(pg_->Down("immediate").ok());
  const absl::Time crashed = absl::Now();
  ASSERT_NO_FATAL_FAILURE(ExpectEveryServiceUnavailable("pg-restart-1", device->key(), *token));
  ASSERT_TRUE(pg_->Up().ok());
  const absl::Duration down = absl::Now() - crashed;

  // Committed before the crash: still there (read through the recovered pools).
  auto release = platform_->GetRelease(r1.release_id());
  ASSERT_TRUE(release.ok()) << release.status();
  EXPECT_EQ(release->state(), v1::PUBLISHED);
  ExpectOneSuccess("pg-restart-1", r1);
  // The replica's listener reconnects by itself (tries every second).
  catalog::PgReleaseListener& listener = replica_->release_listener();
  ASSERT_TRUE(PollUntil([&] { return listener.reconnects() >= 1 && listener.backend_pid() != 0; },
                        absl::Seconds(10)))
      << "the replica's release listener did not reconnect";
  const int reconnects = listener.reconnects();

  // Published after the restart: the replica hears of it by NOTIFY.
  ASSERT_NO_FATAL_FAILURE(PublishDemo("1.1.0", &a2, &r2));
  const absl::Time published = absl::Now();
  ASSERT_TRUE(PollUntil([&] { return ReplicaOffer(*token) == "1.1.0"; }, absl::Seconds(10)))
      << "the replica never offered the release published after the restart";
  const absl::Duration heard = absl::Now() - published;
  EXPECT_EQ(listener.reconnects(), reconnects)
      << "heard by a reload after another reconnect, not by NOTIFY";
  ASSERT_NO_FATAL_FAILURE(ExpectInstalls(*device, "1.1.0"));  // login, check, report

  // A clean fast shutdown and start, then a new device registers and installs.
  ASSERT_TRUE(pg_->Down("fast").ok());
  {
    const absl::Time start = absl::Now();
    ExpectDown("catalog GetDeviceState", platform_->GetDeviceState("pg-restart-1").status(), start);
  }
  ASSERT_TRUE(pg_->Up().ok());
  auto second = NewDevice("pg-restart-2");  // auth writes the registration
  ASSERT_NE(second, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectInstalls(*second, "1.1.0"));

  ExpectOneSuccess("pg-restart-1", r1);
  ExpectOneSuccess("pg-restart-1", r2);
  ExpectOneSuccess("pg-restart-2", r2);
  std::cerr << "PostgreSQL down " << absl::ToDoubleMilliseconds(down)
            << " ms (immediate stop, 6 RPCs, start; " << answered_
            << "); the replica offered the release "
            << "published after the restart " << absl::ToDoubleMilliseconds(heard)
            << " ms after PublishRelease returned; listener reconnects " << listener.reconnects()
            << "; test " << absl::ToDoubleSeconds(absl::Now() - test_start) << " s\n";
}

}  // namespace
}  // namespace updraft::e2e
