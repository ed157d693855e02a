// bench/run.sh sdk: the device SDK's footprint. Starts auth and the notifier
// (real servers over the PostgreSQL and Redis bench/run.sh started), then
// measures, each in a process of its own:
//   - the resident memory of one idle device holding its IP Push stream: the
//     C example (sdk/device/examples/updraft_example.c, the SDK through its
//     C API) with --ip_push_seconds;
//   - the peer: a bare gRPC client process holding one Subscribe stream
//     (bench/grpc_stream_peer.cc), same run, same notifier;
//   - the fleet simulator holding --fleet_devices streams: its RSS growth
//     from start to all streams open, per device.
// Prints the RESULT lines of issue 7 last (the fleet figure at fleet_sim's
// default of 100 devices per connection).

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/flags.h"
#include "common/logger.h"
#include "common/operator_auth.h"
#include "common/token.h"
#include "services/auth/auth_server.h"
#include "services/notifier/notifier_server.h"
#include "updraft/v1/auth.grpc.pb.h"

extern char** environ;

ABSL_FLAG(std::string, pg_uri, "", "PostgreSQL URI of an empty bench database.");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799", "Redis host:port.");
ABSL_FLAG(std::string, work_dir, "", "Scratch directory (keys, device state, the fleet).");
ABSL_FLAG(std::string, bin_dir, "bazel-bin", "Where the -c opt binaries are.");
ABSL_FLAG(int, fleet_devices, 5000, "Devices of the fleet simulator run.");
ABSL_FLAG(bool, serve_only, false,
          "Only start auth and the notifier, print their addresses and the admin key file, and "
          "wait (for running fleet_sim by hand).");
ABSL_FLAG(absl::Duration, settle, absl::Seconds(3), "Wait after a stream opened before measuring.");

namespace updraft {
namespace {

// A field of /proc/<pid>/status in KiB (or a count, for Threads), -1 if
// missing.
int64_t Status(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  const std::string prefix = field + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      int64_t v = -1;
      std::string text(
          absl::StripSuffix(absl::StripAsciiWhitespace(line.substr(prefix.size())), " kB"));
      if (absl::SimpleAtoi(text, &v)) return v;
    }
  }
  return -1;
}

int64_t RssKib(pid_t pid) { return Status(pid, "VmRSS"); }

// Copies /proc/<pid>/smaps to `path`, for a per-mapping look at where the
// resident memory is (bench/smaps_top.py).
void KeepSmaps(pid_t pid, const std::string& path) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/smaps"));
  std::ofstream out(path);
  out << in.rdbuf();
}

std::string Breakdown(pid_t pid) {
  return absl::StrCat("RssAnon ", Status(pid, "RssAnon"), " KiB, RssFile ", Status(pid, "RssFile"),
                      " KiB, ", Status(pid, "Threads"), " threads");
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_file) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  int status;
  waitpid(pid, &status, 0);
}

// Waits until `done` or `timeout`; false on timeout.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return true;
}

absl::StatusOr<std::string> Token(v1::Auth::Stub& auth, const std::string& device_id,
                                  const Ed25519KeyPair& key) {
  grpc::ClientContext c1;
  v1::GetChallengeRequest req;
  req.set_device_id(device_id);
  v1::Challenge challenge;
  grpc::Status s = auth.GetChallenge(&c1, req, &challenge);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  grpc::ClientContext c2;
  v1::LoginRequest login;
  login.set_device_id(device_id);
  login.set_nonce(challenge.nonce());
  login.set_signature(*key.Sign(LoginMessage(device_id, challenge.nonce())));
  v1::LoginResponse response;
  s = auth.Login(&c2, login, &response);
  if (!s.ok()) return absl::UnauthenticatedError(s.error_message());
  return response.access_token();
}

struct FleetRun {
  bool ok = false;
  int per_connection = 0;
  int64_t open = 0;
  int64_t rss_start = 0;
  int64_t rss = 0;
  size_t server_side = 0;
};

// Runs fleet_sim with `devices` devices (IDs <prefix>-N) registered through
// ImportDevices, holding their streams; measures it once they are open.
FleetRun RunFleet(const std::string& bin, const std::string& dir, const std::string& prefix,
                  int devices, int per_connection, const std::string& auth_address,
                  notifier::NotifierServer& notifier) {
  FleetRun r;
  r.per_connection = per_connection;
  const std::string ready = absl::StrCat(dir, "/", prefix, ".ready");
  const std::string log = absl::StrCat(dir, "/", prefix, "-fleet.log");
  pid_t fleet =
      Spawn({bin + "/tools/fleet_sim/fleet_sim", absl::StrCat("--devices=", devices),
             absl::StrCat("--base_dir=", dir, "/", prefix),
             absl::StrCat("--id_prefix=", prefix, "-"), "--api_key_file=" + dir + "/admin.key",
             "--auth_address=" + auth_address, "--catalog_address=127.0.0.1:1",
             absl::StrCat("--notifier_address=127.0.0.1:", notifier.port()), "--plaintext",
             "--upgrade=false", "--hold_streams_seconds=-1", "--concurrency=16",
             absl::StrCat("--devices_per_connection=", per_connection), "--ready_file=" + ready,
             "--json"},
            log);
  std::string text;
  if (fleet < 0 || !WaitFor(
                       [&] {
                         std::ifstream in(ready);
                         return static_cast<bool>(std::getline(in, text));
                       },
                       absl::Minutes(20))) {
    fprintf(stderr, "the fleet did not get ready (see %s)\n", log.c_str());
    if (fleet > 0) Stop(fleet);
    return r;
  }
  absl::SleepFor(absl::GetFlag(FLAGS_settle));
  std::vector<std::string> f = absl::StrSplit(text, ' ');
  if (f.size() != 3 || !absl::SimpleAtoi(f[0], &r.open) || !absl::SimpleAtoi(f[1], &r.rss_start)) {
    fprintf(stderr, "bad ready file %s: %s\n", ready.c_str(), text.c_str());
    Stop(fleet);
    return r;
  }
  r.rss = RssKib(fleet);
  r.server_side = notifier.connected_devices();
  Stop(fleet);
  WaitFor([&] { return notifier.connected_devices() == 0; }, absl::Seconds(60));
  if (r.open < devices) {
    fprintf(stderr, "only %lld of %d fleet streams opened (see %s)\n",
            static_cast<long long>(r.open), devices, log.c_str());
  }
  r.ok = true;
  return r;
}

int Main() {
  const std::string dir = absl::GetFlag(FLAGS_work_dir);
  const std::string bin = absl::GetFlag(FLAGS_bin_dir);
  RealClock clock;
  Logger logger("sdk-bench", &clock, stderr, Logger::Level::kError);

  AuthServer::Options a;
  a.listen_address = "127.0.0.1:0";
  a.metrics_listen = "";
  a.pg_uri = absl::GetFlag(FLAGS_pg_uri);
  if (!ParseHostPort(absl::GetFlag(FLAGS_redis), &a.redis_host, &a.redis_port)) return 2;
  a.redis_key_prefix = "bench:sdk:";
  a.signing_key_file = dir + "/signing.key";
  a.bootstrap_admin_key_file = dir + "/admin.key";
  a.login_attempts_per_device = 0;
  a.login_attempts_per_source = 0;
  a.logger = &logger;
  auto auth = AuthServer::Create(a);
  if (!auth.ok()) {
    fprintf(stderr, "auth: %s\n", auth.status().ToString().c_str());
    return 1;
  }
  const std::string auth_address = absl::StrCat("127.0.0.1:", (*auth)->port());
  notifier::NotifierServer::Options n;
  n.listen_address = "127.0.0.1:0";
  n.metrics_listen = "";
  n.pg_uri = a.pg_uri;
  n.redis.host = a.redis_host;
  n.redis.port = a.redis_port;
  n.redis_key_prefix = "bench:sdk:";
  n.auth_address = auth_address;
  n.logger = &logger;
  auto notifier = notifier::NotifierServer::Create(n);
  if (!notifier.ok()) {
    fprintf(stderr, "notifier: %s\n", notifier.status().ToString().c_str());
    return 1;
  }
  const std::string notifier_address = absl::StrCat("127.0.0.1:", (*notifier)->port());

  if (absl::GetFlag(FLAGS_serve_only)) {
    printf("auth %s notifier %s admin key %s/admin.key\n", auth_address.c_str(),
           notifier_address.c_str(), dir.c_str());
    fflush(stdout);
    while (true) absl::SleepFor(absl::Hours(1));
  }

  // The idle device's and the peer's keys.
  Ed25519KeyPair device_key = *Ed25519KeyPair::Generate();
  Ed25519KeyPair peer_key = *Ed25519KeyPair::Generate();
  if (!WriteKeyFile(dir + "/idle.key", device_key.private_key()).ok()) return 1;
  std::string csv =
      absl::StrCat("device_id,key_type,public_key\nbench-idle,ed25519,",
                   absl::WebSafeBase64Escape(device_key.public_key()), "\nbench-peer,ed25519,",
                   absl::WebSafeBase64Escape(peer_key.public_key()), "\n");
  auto imported = (*auth)->admin().ImportDevices(OperatorIdentity{"bench", Role::kAdmin, ""}, csv);
  if (!imported.ok()) {
    fprintf(stderr, "import: %s\n", imported.status().ToString().c_str());
    return 1;
  }
  auto connected = [&](size_t k) {
    return [&, k] { return (*notifier)->connected_devices() >= k; };
  };

  // One process holding one stream, measured once it is open and settled.
  struct Idle {
    int64_t rss = -1;
    std::string breakdown;
  };
  auto measure = [&](const std::vector<std::string>& argv, const std::string& name) {
    Idle idle;
    pid_t pid = Spawn(argv, dir + "/" + name + ".log");
    if (pid < 0 || !WaitFor(connected(1), absl::Seconds(60))) {
      fprintf(stderr, "%s did not open its stream (see %s/%s.log)\n", name.c_str(), dir.c_str(),
              name.c_str());
      if (pid > 0) Stop(pid);
      return idle;
    }
    absl::SleepFor(absl::GetFlag(FLAGS_settle));
    idle.rss = RssKib(pid);
    idle.breakdown = Breakdown(pid);
    KeepSmaps(pid, dir + "/" + name + ".smaps");
    Stop(pid);
    WaitFor([&] { return (*notifier)->connected_devices() == 0; }, absl::Seconds(30));
    return idle;
  };

  // 1. One idle device (the C example over the C API), linked against the
  // system's shared libraries, then with them linked in statically.
  auto device_argv = [&](const std::string& binary) {
    return std::vector<std::string>{bin + "/sdk/device/" + binary,
                                    "--device_id=bench-idle",
                                    "--key_file=" + dir + "/idle.key",
                                    "--state_dir=" + dir + "/idle-state",
                                    "--install_dir=" + dir + "/idle-apps",
                                    "--auth=" + auth_address,
                                    "--catalog=127.0.0.1:1",
                                    "--notifier=" + notifier_address,
                                    "--plaintext",
                                    "--ip_push_seconds=100000"};
  };
  const Idle device = measure(device_argv("updraft_example"), "idle-device");
  const Idle device_static = measure(device_argv("updraft_example_static"), "idle-device-static");

  // 2. The peer: a bare gRPC client holding one stream, both ways linked.
  auto auth_stub =
      v1::Auth::NewStub(grpc::CreateChannel(auth_address, grpc::InsecureChannelCredentials()));
  absl::StatusOr<std::string> token = Token(*auth_stub, "bench-peer", peer_key);
  if (!token.ok()) {
    fprintf(stderr, "peer login: %s\n", token.status().ToString().c_str());
    return 1;
  }
  const Idle peer = measure({bin + "/bench/grpc_stream_peer", notifier_address, *token}, "peer");
  const Idle peer_static =
      measure({bin + "/bench/grpc_stream_peer_static", notifier_address, *token}, "peer-static");
  if (device.rss < 0 || device_static.rss < 0 || peer.rss < 0 || peer_static.rss < 0) return 1;
  const int64_t device_rss = device.rss;
  const int64_t peer_rss = peer.rss;

  // 3. The fleet simulator holding N streams: one connection per device,
  // then its default (100 devices per connection, the headline).
  const int devices = absl::GetFlag(FLAGS_fleet_devices);
  FleetRun own = RunFleet(bin, dir, "own", devices, 1, auth_address, **notifier);
  FleetRun shared = RunFleet(bin, dir, "sim", devices, 100, auth_address, **notifier);
  (*notifier)->Shutdown();
  (*auth)->Shutdown(absl::ZeroDuration());
  if (!own.ok || !shared.ok) return 1;

  printf("sdk: idle device (C example, IP Push stream open): VmRSS %lld KiB (%s)\n",
         static_cast<long long>(device_rss), device.breakdown.c_str());
  printf("sdk: bare gRPC client holding one stream: VmRSS %lld KiB (%s)\n",
         static_cast<long long>(peer_rss), peer.breakdown.c_str());
  printf(
      "sdk: linked statically (gRPC, protobuf, Abseil, OpenSSL, libarchive): idle device VmRSS "
      "%lld KiB (%s); bare gRPC client VmRSS %lld KiB (%s)\n",
      static_cast<long long>(device_static.rss), device_static.breakdown.c_str(),
      static_cast<long long>(peer_static.rss), peer_static.breakdown.c_str());
  for (const FleetRun* r : {&own, &shared}) {
    printf(
        "sdk: fleet_sim %d devices, %d per connection, %lld streams open (%zu at the "
        "notifier): VmRSS %lld KiB at start, %lld KiB with the streams open: %.1f KiB per "
        "device\n",
        devices, r->per_connection, static_cast<long long>(r->open), r->server_side,
        static_cast<long long>(r->rss_start), static_cast<long long>(r->rss),
        static_cast<double>(r->rss - r->rss_start) / devices);
  }
  printf(
      "RESULT bench=sdk metric=idle_rss_kib value=%lld peer=grpc_client peer_value=%lld "
      "ratio=%.2f\n",
      static_cast<long long>(device_rss), static_cast<long long>(peer_rss),
      peer_rss > 0 ? static_cast<double>(device_rss) / peer_rss : 0.0);
  printf("RESULT bench=sdk metric=kib_per_sim_device value=%.1f peer=none peer_value=0 ratio=0\n",
         static_cast<double>(shared.rss - shared.rss_start) / devices);
  return own.open == devices && shared.open == devices ? 0 : 1;
}

}  // namespace
}  // namespace updraft

int main(int argc, char** argv) {
  updraft::ParseFlagsWithEnvironment(argc, argv);
  return updraft::Main();
}
