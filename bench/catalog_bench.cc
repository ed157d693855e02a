// Catalog benchmark (bench/run.sh catalog): update checks per second over
// gRPC (plaintext) by many devices with 50-component inventories, answered
// by the real CatalogServer (PostgreSQL, Redis grants, in-memory release
// snapshot refreshed by LISTEN/NOTIFY) in this process; against the same
// calls to a bare unary gRPC service on the same machine (same method,
// request bytes and metadata; it answers an empty response at once), the
// ceiling of any gRPC service here. The calls come from a load process of
// their own (this binary with --role=load), as devices would not share the
// server's process.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/child_process.h"
#include "bench/unary_load.h"
#include "common/arena_messages.h"
#include "common/clock.h"
#include "common/crypto.h"
#include "common/flags.h"
#include "common/logger.h"
#include "common/pg_pool.h"
#include "common/token.h"
#include "services/catalog/catalog_server.h"
#include "services/catalog/pg_catalog_store.h"
#include "updraft/v1/catalog.grpc.pb.h"

ABSL_FLAG(std::string, pg_uri, "", "PostgreSQL database for the catalog (emptied by run.sh)");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799", "Redis host:port (download grants)");
ABSL_FLAG(int, devices, 10000, "devices checking");
ABSL_FLAG(int, components, 50, "packages published, and components in every inventory");
ABSL_FLAG(int, outdated_every, 10, "every Nth device has one outdated component (gets an offer)");
ABSL_FLAG(int, in_flight, 32, "concurrent checks in flight (devices checking at once)");
ABSL_FLAG(int, load_threads, 2, "threads of the load process driving the calls");
ABSL_FLAG(int, channels, 4, "connections the clients share");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(4), "length of each measured phase");
ABSL_FLAG(int, rounds, 5, "rounds of one catalog phase and one peer phase, alternating");
ABSL_FLAG(std::string, work_dir, "/tmp", "where the requests file for the load processes goes");
ABSL_FLAG(std::string, role, "", "load: a load process (started by the bench); empty: the bench");
ABSL_FLAG(std::string, target, "", "load: host:port to call");
ABSL_FLAG(std::string, requests, "", "load: the requests file the bench wrote");

namespace updraft::bench {
namespace {

// The peer: the device API's method with no work behind it, served the way
// the catalog serves it (gRPC's callback API, the request parsed onto a
// per-call arena), so that the ratio shows what the catalog's own work costs.
class BareDeviceCatalog final : public v1::DeviceCatalog::CallbackService {
 public:
  BareDeviceCatalog() { SetMessageAllocatorFor_CheckForUpdates(&arenas_); }

 private:
  grpc::ServerUnaryReactor* CheckForUpdates(grpc::CallbackServerContext* context,
                                            const v1::CheckForUpdatesRequest*,
                                            v1::CheckForUpdatesResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  ArenaMessages<v1::CheckForUpdatesRequest, v1::CheckForUpdatesResponse> arenas_;
};

// Runs in its own process (--role=load), so that the load generator's gRPC
// threads never poll the server's connections (in one process they share
// gRPC's pollers): keeps its connections to --target and answers each line
// on standard input with one line: "RUN <duration>" replays the parent's
// requests for that long and prints what it measured; "TOTAL" prints all
// runs since "FORGET" as one.
int RunLoad() {
  auto requests = ReadUnaryRequests(absl::GetFlag(FLAGS_requests));
  if (!requests.ok() || requests->empty()) {
    fprintf(stderr, "load: %s\n",
            requests.ok() ? "no requests" : requests.status().ToString().c_str());
    return 1;
  }
  UnaryLoadOptions o;
  o.target = absl::GetFlag(FLAGS_target);
  o.method = "/updraft.v1.DeviceCatalog/CheckForUpdates";
  o.threads = absl::GetFlag(FLAGS_load_threads);
  o.in_flight = absl::GetFlag(FLAGS_in_flight);
  o.channels = absl::GetFlag(FLAGS_channels);
  o.count = [](grpc::ByteBuffer* answer) -> int64_t {
    v1::CheckForUpdatesResponse response;
    if (!grpc::SerializationTraits<v1::CheckForUpdatesResponse>::Deserialize(answer, &response)
             .ok()) {
      return -1;
    }
    return response.offers_size();
  };
  UnaryLoad load(o, *requests);
  char line[256];
  while (fgets(line, sizeof line, stdin) != nullptr) {
    absl::Duration d;
    std::string command(line);
    if (!command.empty() && command.back() == '\n') command.pop_back();
    UnaryLoadResult r;
    if (command == "TOTAL") {
      r = load.Total();
    } else if (absl::StartsWith(command, "RUN ") && absl::ParseDuration(command.substr(4), &d) &&
               d > absl::ZeroDuration()) {
      r = load.Run(d);
      if (r.failures > 0) fprintf(stderr, "load: first failure: %s\n", r.first_failure.c_str());
    } else if (command == "FORGET") {
      load.Forget();
    } else {
      fprintf(stderr, "load: not a command: %s\n", command.c_str());
      return 2;
    }
    printf("%s\n", r.ToLine().c_str());
    fflush(stdout);
  }
  return 0;
}

// A load process (this binary, --role=load) aimed at one server.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartLoad(const std::string& self, int port,
                                                        const std::string& requests) {
  return ChildProcess::Start({self, "--role=load", absl::StrCat("--target=127.0.0.1:", port),
                              "--requests=" + requests,
                              absl::StrCat("--in_flight=", absl::GetFlag(FLAGS_in_flight)),
                              absl::StrCat("--load_threads=", absl::GetFlag(FLAGS_load_threads)),
                              absl::StrCat("--channels=", absl::GetFlag(FLAGS_channels))});
}

// One command to a load process (see RunLoad), and its answer.
absl::StatusOr<UnaryLoadResult> Ask(ChildProcess& load, const std::string& command,
                                    absl::Duration duration = absl::ZeroDuration()) {
  if (!load.Send(command)) return absl::InternalError("the load process is gone");
  std::optional<std::string> line = load.ReadLine(duration + absl::Seconds(60));
  if (!line.has_value()) return absl::InternalError("the load process printed nothing");
  return UnaryLoadResult::FromLine(*line);
}

// CPU time this process has used (all threads, user and system).
absl::Duration ProcessCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return absl::DurationFromTimeval(u.ru_utime) + absl::DurationFromTimeval(u.ru_stime);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()           ? 0
         : v.size() % 2 == 1 ? v[v.size() / 2]
                             : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

v1::Release MakeRelease(const std::string& package_id, int c, const std::string& version) {
  v1::Release r;
  r.set_release_id(absl::StrCat("rel_", c, "_", version));
  r.set_package_id(package_id);
  r.set_version(version);
  r.set_state(v1::DRAFT);
  const std::string sha = Sha256Hex(r.release_id());
  r.mutable_artifact()->set_sha256(sha);
  r.mutable_artifact()->set_size(1 << 20);
  r.mutable_artifact()->set_chunk_size(1 << 20);
  r.mutable_artifact()->add_chunk_sha256(Sha256(sha));
  r.mutable_artifact()->add_files("bin/app");
  r.mutable_dcinfo()->set_variant(v1::DcInfo::TRIPLES);
  v1::DcEntry* e = r.mutable_dcinfo()->add_entries();
  e->set_dc_id(absl::StrCat("DC_", c));
  e->set_author("Acme");
  e->set_name(absl::StrCat("component-", c));
  e->set_version(version);
  e->add_files("bin/app");
  r.mutable_compatibility()->set_min_os_version("10");
  return r;
}

int Main(const std::string& self) {
  RealClock clock;
  Logger logger("catalog-bench", &clock, stderr, Logger::Level::kWarning);
  const int devices = absl::GetFlag(FLAGS_devices);
  const int components = absl::GetFlag(FLAGS_components);
  const int outdated_every = std::max(1, absl::GetFlag(FLAGS_outdated_every));

  auto signing = Ed25519KeyPair::Generate();
  if (!signing.ok()) return 1;
  StaticKeySource keys;
  keys.Add(signing->public_key());
  TokenSigner signer(*signing, &clock, absl::Hours(1));

  catalog::CatalogServer::Options o;
  o.pg_uri = absl::GetFlag(FLAGS_pg_uri);
  o.download_address = "127.0.0.1:1";  // manifests are not fetched: releases are seeded
  o.key_source_override = &keys;
  RedisClient::Options redis;
  if (!ParseHostPort(absl::GetFlag(FLAGS_redis), &redis.host, &redis.port)) return 2;
  redis.connections = 8;
  o.redis = redis;
  o.redis_key_prefix = "bench:";
  o.logger = &logger;
  auto server = catalog::CatalogServer::Create(o);
  if (!server.ok()) {
    fprintf(stderr, "catalog: %s\n", server.status().ToString().c_str());
    return 1;
  }

  // Seed two published versions of every package straight into the store;
  // the server's snapshot learns of them through NOTIFY.
  auto pool = PgPool::Create({.uri = o.pg_uri, .size = 2});
  if (!pool.ok()) return 1;
  catalog::PgCatalogStore store(pool->get());
  const absl::Time now = absl::Now();
  for (int c = 0; c < components; ++c) {
    v1::Package p;
    p.set_package_id(absl::StrCat("pkg_", c));
    p.set_name(absl::StrCat("package-", c));
    p.set_author("Acme");
    if (!store.CreatePackage(p, now).ok()) return 1;
    for (const char* version : {"1.0.0", "1.1.0"}) {
      v1::Release r = MakeRelease(p.package_id(), c, version);
      if (!store.CreateRelease(r, now).ok() ||
          !store.PublishRelease(r.release_id(), nullptr, now).ok()) {
        return 1;
      }
    }
  }
  if (!(*server)->releases().WaitFor(
          [&](const catalog::ReleaseSnapshot& s) {
            return s.releases.size() == static_cast<size_t>(2 * components);
          },
          absl::Seconds(30))) {
    fprintf(stderr, "the snapshot never saw the seeded releases\n");
    return 1;
  }

  std::vector<UnaryRequest> requests(devices);
  size_t request_bytes = 0;
  int64_t expected_offers = 0;
  for (int d = 0; d < devices; ++d) {
    requests[d].authorization =
        "Bearer " + signer.Issue(absl::StrCat("bench-", d), kDeviceAudience)->token;
    v1::CheckForUpdatesRequest req;
    req.mutable_attributes()->set_model("SM-A515F");
    req.mutable_attributes()->set_os_version("13.1");
    req.mutable_attributes()->set_carrier("acme-mobile");
    const int outdated = d % outdated_every == 0 ? (d / outdated_every) % components : -1;
    if (outdated >= 0) ++expected_offers;
    for (int c = 0; c < components; ++c) {
      const std::string version = c == outdated ? "1.0.0" : "1.1.0";
      v1::InventoryComponent* ic = req.add_inventory();
      ic->set_dc_id(absl::StrCat("DC_", c));
      ic->set_release_id(absl::StrCat("rel_", c, "_", version));
      ic->set_author("Acme");
      ic->set_name(absl::StrCat("component-", c));
      ic->set_version(version);
      ic->set_location(v1::DEPLOYED);
      ic->set_state(v1::ACTIVE);
    }
    requests[d].payload = req.SerializeAsString();
    if (d == 1) request_bytes = requests[d].payload.size();
  }
  const std::string requests_file = absl::GetFlag(FLAGS_work_dir) + "/catalog-requests.bin";
  if (absl::Status s = WriteUnaryRequests(requests_file, requests); !s.ok()) {
    fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }

  // Both servers run on gRPC's callback API, whose threads they share; only
  // one of them has calls at any time. The rounds alternate, so that a slow
  // spell of this shared machine hits both sides rather than one.
  BareDeviceCatalog bare;
  grpc::ServerBuilder builder;
  int bare_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &bare_port);
  builder.RegisterService(&bare);
  std::unique_ptr<grpc::Server> bare_server = builder.BuildAndStart();
  if (bare_server == nullptr) return 1;
  auto catalog_load = StartLoad(self, (*server)->port(), requests_file);
  auto peer_load = StartLoad(self, bare_port, requests_file);
  if (!catalog_load.ok() || !peer_load.ok()) return 1;

  printf("request: %d components, %zu bytes; 1 device in %d gets one offer (and a grant)\n",
         components, request_bytes, outdated_every);
  printf("%d devices, %d checks in flight over %d connections from a load process of %d threads\n",
         devices, absl::GetFlag(FLAGS_in_flight), absl::GetFlag(FLAGS_channels),
         absl::GetFlag(FLAGS_load_threads));
  // Warm-up: connections, the catalog's token cache.
  if (!Ask(**catalog_load, "RUN 2s", absl::Seconds(2)).ok() ||
      !Ask(**peer_load, "RUN 1s", absl::Seconds(1)).ok() || !Ask(**catalog_load, "FORGET").ok() ||
      !Ask(**peer_load, "FORGET").ok()) {
    fprintf(stderr, "the warm-up failed\n");
    return 1;
  }
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  std::vector<double> catalog_rates, peer_rates, ratios;
  int64_t failures = 0, offers = 0, catalog_calls = 0, peer_calls = 0;
  absl::Duration catalog_cpu, peer_cpu;  // this process's CPU time in each side's phases
  for (int round = 1; round <= std::max(1, absl::GetFlag(FLAGS_rounds)); ++round) {
    const std::string run = absl::StrCat("RUN ", absl::FormatDuration(duration));
    const absl::Duration cpu_before = ProcessCpu();
    auto catalog = Ask(**catalog_load, run, duration);
    const absl::Duration cpu_between = ProcessCpu();
    auto peer = Ask(**peer_load, run, duration);
    const absl::Duration cpu_after = ProcessCpu();
    if (!catalog.ok() || !peer.ok()) {
      fprintf(stderr, "%s\n", (catalog.ok() ? peer : catalog).status().ToString().c_str());
      return 1;
    }
    printf(
        "round %d: catalog %.0f checks/s (p50 %.2f ms, p99 %.2f ms, %lld offers, %lld failed); "
        "bare gRPC %.0f/s (p50 %.2f ms, p99 %.2f ms, %lld failed)\n",
        round, catalog->per_second, catalog->p50_ms, catalog->p99_ms,
        static_cast<long long>(catalog->counted), static_cast<long long>(catalog->failures),
        peer->per_second, peer->p50_ms, peer->p99_ms, static_cast<long long>(peer->failures));
    catalog_cpu += cpu_between - cpu_before;
    peer_cpu += cpu_after - cpu_between;
    catalog_calls += catalog->calls;
    peer_calls += peer->calls;
    catalog_rates.push_back(catalog->per_second);
    peer_rates.push_back(peer->per_second);
    ratios.push_back(peer->per_second > 0 ? catalog->per_second / peer->per_second : 0);
    failures += catalog->failures + peer->failures;
    offers += catalog->counted;
  }
  auto catalog_total = Ask(**catalog_load, "TOTAL");
  auto peer_total = Ask(**peer_load, "TOTAL");
  if (!catalog_total.ok() || !peer_total.ok()) return 1;
  (*catalog_load)->Stop(absl::Seconds(5));
  (*peer_load)->Stop(absl::Seconds(5));
  (*server)->Shutdown(absl::ZeroDuration());
  bare_server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));

  // Latency over every measured call; throughput: the median round; ratio:
  // the median of the rounds' ratios.
  printf("all rounds: catalog p50 %.2f ms, p99 %.2f ms; bare gRPC p50 %.2f ms, p99 %.2f ms\n",
         catalog_total->p50_ms, catalog_total->p99_ms, peer_total->p50_ms, peer_total->p99_ms);
  // The server's CPU per call (both servers live in this process, only one
  // has calls at a time): the server's own cost, whatever the load process
  // and the shared cores allow.
  const double catalog_us =
      absl::ToDoubleMicroseconds(catalog_cpu) / std::max<int64_t>(1, catalog_calls);
  const double peer_us = absl::ToDoubleMicroseconds(peer_cpu) / std::max<int64_t>(1, peer_calls);
  printf(
      "RESULT bench=catalog metric=server_cpu_us_per_check value=%.1f peer=grpc_echo "
      "peer_value=%.1f ratio=%.3f\n",
      catalog_us, peer_us, peer_us / catalog_us);
  printf("RESULT bench=catalog metric=p99_ms value=%.2f peer=grpc_echo peer_value=%.2f\n",
         catalog_total->p99_ms, peer_total->p99_ms);
  printf(
      "RESULT bench=catalog metric=checks_per_s value=%.0f peer=grpc_echo peer_value=%.0f "
      "ratio=%.3f\n",
      Median(catalog_rates), Median(peer_rates), Median(ratios));
  return failures == 0 && offers > 0 && expected_offers > 0 ? 0 : 1;
}

}  // namespace
}  // namespace updraft::bench

int main(int argc, char** argv) {
  updraft::ParseFlagsWithEnvironment(argc, argv);
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "load") return updraft::bench::RunLoad();
  if (!role.empty()) {
    fprintf(stderr, "unknown --role %s\n", role.c_str());
    return 2;
  }
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return 1;
  return updraft::bench::Main(std::string(exe, n));
}
