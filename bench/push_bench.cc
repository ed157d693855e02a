// Push benchmark (bench/run.sh push): N devices hold IP Push streams on one
// notifier (its own process) from several client processes and source
// addresses; 5 announcements are fanned out; the notifier is restarted
// twice (SIGTERM drain, start) to measure the reconnect storm with and
// without jitter; then the same N devices subscribe to Mosquitto (QoS 0)
// and 5 publishes are fanned out. The same binary runs every role:
//   (none)        the coordinator, printing the figures and RESULT lines
//   server        the notifier under test (NotifierServer, bench token key)
//   grpc_devices  a share of the devices (bench/push_devices.h)
//   mqtt_devices  a share of the MQTT subscribers (bench/mqtt_devices.h)
// Device roles take line commands on stdin: OPEN, STATUS, POLICY <jitter>,
// MARK, DUMP, QUIT (see RunDevices).
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/child_process.h"
#include "bench/mqtt_devices.h"
#include "bench/push_coordinator.h"
#include "bench/push_devices.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/flags.h"
#include "common/logger.h"
#include "common/signals.h"
#include "common/token.h"
#include "services/notifier/notifier_server.h"
#include "updraft/v1/notifier.grpc.pb.h"

ABSL_FLAG(std::string, role, "", "server, grpc_devices, mqtt_devices; empty: coordinator");
ABSL_FLAG(std::string, pg_uri, "", "PostgreSQL database for the notifier (emptied by run.sh)");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799", "Redis host:port");
ABSL_FLAG(int, devices, 15000, "devices holding streams");
ABSL_FLAG(int, processes, 4, "client processes (20,000 open files each at most)");
ABSL_FLAG(int, announcements, 5, "announcements (and Mosquitto publishes)");
ABSL_FLAG(int, ttl_seconds, 10,
          "announcement TTL: expired before the storm, so a reconnect "
          "re-delivers nothing (the bench devices do not ack)");
ABSL_FLAG(bool, storm, true, "restart the notifier twice and measure the reconnects");
ABSL_FLAG(bool, tuning, false, "instead: memory per idle stream for each channel setting");
ABSL_FLAG(int, tuning_devices, 3000, "streams per setting in --tuning");
ABSL_FLAG(std::string, mosquitto, "/usr/sbin/mosquitto", "Mosquitto broker; empty: skip");
ABSL_FLAG(std::string, work_dir, "/tmp/updraft-push-bench", "scratch directory");
// Roles.
ABSL_FLAG(std::string, listen, "", "server: listen address");
ABSL_FLAG(std::string, public_key_hex, "", "server: trusted token key (bench only)");
ABSL_FLAG(bool, lean, true, "server: NotifierServer::Options.lean_connections");
ABSL_FLAG(std::string, extra_args, "", "server: more channel args, name=int,name=int");
ABSL_FLAG(std::string, target, "", "grpc_devices: notifier host:port");
ABSL_FLAG(std::string, host, "", "mqtt_devices: broker host");
ABSL_FLAG(int, port, 0, "mqtt_devices: broker port");
ABSL_FLAG(int, first, 0, "device roles: index of the first device");
ABSL_FLAG(int, count, 0, "device roles: devices in this process");
ABSL_FLAG(std::string, signing_key_hex, "", "grpc_devices: bench token signing key");

namespace updraft::bench {
namespace {

std::string DeviceId(int i) { return absl::StrCat("bench-dev-", i); }

std::pair<std::string, int> HostPort(const std::string& s) {
  std::vector<std::string> p = absl::StrSplit(s, ':');
  int port = 0;
  if (p.size() != 2 || !absl::SimpleAtoi(p[1], &port)) return {"", 0};
  return {p[0], port};
}

// --- role: server ---------------------------------------------------------

int RunServer() {
  BlockShutdownSignals();
  RealClock clock;
  Logger logger("notifier", &clock, stderr, Logger::Level::kDebug);
  StaticKeySource keys;
  keys.Add(absl::HexStringToBytes(absl::GetFlag(FLAGS_public_key_hex)));
  notifier::NotifierServer::Options o;
  o.listen_address = absl::GetFlag(FLAGS_listen);
  o.pg_uri = absl::GetFlag(FLAGS_pg_uri);
  auto [redis_host, redis_port] = HostPort(absl::GetFlag(FLAGS_redis));
  o.redis.host = redis_host;
  o.redis.port = redis_port;
  o.redis_key_prefix = "bench:push:";
  o.key_source_override = &keys;
  // The bench measures IP Push: no gateways, no fallback worker; presence
  // outlives the run (the refresh belongs to the worker loop).
  o.delivery_poll_interval = absl::ZeroDuration();
  o.presence_ttl = absl::Hours(1);
  o.lean_connections = absl::GetFlag(FLAGS_lean);
  for (absl::string_view kv :
       absl::StrSplit(absl::GetFlag(FLAGS_extra_args), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> p = absl::StrSplit(kv, '=');
    int v = 0;
    if (absl::SimpleAtoi(p.second, &v)) o.extra_channel_args.push_back({p.first, v});
  }
  o.clock = &clock;
  o.logger = &logger;
  auto server = notifier::NotifierServer::Create(o);
  if (!server.ok()) {
    fprintf(stderr, "server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  printf("LISTENING %d\n", (*server)->port());
  fflush(stdout);
  // "TRIM": hand freed heap pages back to the system (glibc malloc_trim), so
  // RSS shows what is live; answers "OK".
  std::thread([] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line == "TRIM") malloc_trim(0);
      printf("OK\n");
      fflush(stdout);
    }
  }).detach();
  WaitForShutdownSignal();
  (*server)->Shutdown();
  _exit(0);  // skip destructors of what is already stopped
}

// --- roles: devices ---------------------------------------------------------

template <typename Devices, typename StatusFn>
int CommandLoop(Devices& devices, StatusFn status, GrpcDevices* grpc) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "OPEN") {
      devices.OpenAll();
      printf("OK\n");
    } else if (line == "STATUS") {
      printf("STATUS %s\n", status().c_str());
    } else if (absl::StartsWith(line, "POLICY ") && grpc != nullptr) {
      double j = 0;
      (void)absl::SimpleAtod(line.substr(7), &j);
      grpc->SetJitter(j);
      printf("OK\n");
    } else if (line == "MARK" && grpc != nullptr) {
      grpc->Mark();
      printf("OK\n");
    } else if (line == "DUMP") {
      devices.Dump(stdout);
    } else if (line == "QUIT") {
      break;
    } else {
      printf("ERROR unknown command\n");
    }
    fflush(stdout);
  }
  fflush(stdout);
  _exit(0);  // open streams and channels die with the process
}

int RunGrpcDevices() {
  RealClock clock;
  auto key =
      Ed25519KeyPair::FromPrivateKey(absl::HexStringToBytes(absl::GetFlag(FLAGS_signing_key_hex)));
  if (!key.ok()) return 2;
  TokenSigner signer(*std::move(key), &clock, absl::Hours(2));
  GrpcDevices::Options o;
  o.target = absl::GetFlag(FLAGS_target);
  o.first = absl::GetFlag(FLAGS_first);
  o.count = absl::GetFlag(FLAGS_count);
  for (int i = 0; i < o.count; ++i) {
    o.tokens.push_back(signer.Issue(DeviceId(o.first + i), kDeviceAudience)->token);
  }
  GrpcDevices devices(o);
  return CommandLoop(
      devices,
      [&] {
        auto c = devices.counts();
        return absl::StrCat(c.connected, " ", c.received, " ", c.attempts);
      },
      &devices);
}

int RunMqttDevices() {
  MqttDevices devices({.host = absl::GetFlag(FLAGS_host),
                       .port = absl::GetFlag(FLAGS_port),
                       .first = absl::GetFlag(FLAGS_first),
                       .count = absl::GetFlag(FLAGS_count)});
  return CommandLoop(
      devices,
      [&] {
        auto c = devices.counts();
        return absl::StrCat(c.subscribed, " ", c.received, " ", c.failed);
      },
      nullptr);
}

}  // namespace
}  // namespace updraft::bench

int main(int argc, char** argv) {
  updraft::ParseFlagsWithEnvironment(argc, argv);
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "server") return updraft::bench::RunServer();
  if (role == "grpc_devices") return updraft::bench::RunGrpcDevices();
  if (role == "mqtt_devices") return updraft::bench::RunMqttDevices();
  if (!role.empty()) {
    fprintf(stderr, "unknown --role %s\n", role.c_str());
    return 2;
  }
  updraft::bench::Coordinator::Options o;
  o.self = "/proc/self/exe";
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) o.self = std::string(exe, n);
  o.pg_uri = absl::GetFlag(FLAGS_pg_uri);
  o.redis = absl::GetFlag(FLAGS_redis);
  o.devices = absl::GetFlag(FLAGS_devices);
  o.processes = absl::GetFlag(FLAGS_processes);
  o.announcements = absl::GetFlag(FLAGS_announcements);
  o.ttl_seconds = absl::GetFlag(FLAGS_ttl_seconds);
  o.storm = absl::GetFlag(FLAGS_storm);
  o.mosquitto = absl::GetFlag(FLAGS_mosquitto);
  o.work_dir = absl::GetFlag(FLAGS_work_dir);
  updraft::bench::Coordinator c(o);
  if (absl::GetFlag(FLAGS_tuning)) return c.RunTuning(absl::GetFlag(FLAGS_tuning_devices));
  return c.Run();
}
