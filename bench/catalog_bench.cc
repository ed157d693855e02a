// Catalog benchmark (bench/run.sh catalog): update checks per second over
// gRPC (plaintext) by many devices with 50-component inventories, answered
// by the real CatalogServer (PostgreSQL, Redis grants, in-memory release
// snapshot refreshed by LISTEN/NOTIFY) in this process; against the same
// calls to a bare unary gRPC service on the same machine (same method,
// request bytes and metadata; it answers an empty response at once), the
// ceiling of any gRPC service here.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/client_unary_call.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
ABSL_FLAG(int, client_threads, 32, "concurrent checks in flight");
ABSL_FLAG(int, channels, 4, "connections the clients share");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "length of each measured phase");

namespace updraft::bench {
namespace {

// The peer: the device API's method with no work behind it.
class BareDeviceCatalog final : public v1::DeviceCatalog::Service {
  grpc::Status CheckForUpdates(grpc::ServerContext*, const v1::CheckForUpdatesRequest*,
                               v1::CheckForUpdatesResponse*) override {
    return grpc::Status::OK;
  }
};

struct Phase {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t failures = 0;
  int64_t offers = 0;
};

// Runs checks of every device round-robin on `threads` threads for
// `duration` and measures each call's latency.
// The clients send each device's request serialised once beforehand (as
// load generators such as ghz or h2load do), so that the two cores go to
// the server under test rather than to re-encoding 50 components per call.
Phase Measure(int port, const std::vector<grpc::ByteBuffer>& requests,
              const std::vector<std::string>& tokens, absl::Duration duration) {
  const int threads = absl::GetFlag(FLAGS_client_threads);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("updraft.bench.channel", i);  // distinct connections
    channels.push_back(grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                                 grpc::InsecureChannelCredentials(), args));
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> failures{0}, offers{0};
  std::vector<std::vector<float>> latencies(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      grpc::Channel* channel = channels[t % channels.size()].get();
      const grpc::internal::RpcMethod method("/updraft.v1.DeviceCatalog/CheckForUpdates",
                                             grpc::internal::RpcMethod::NORMAL_RPC);
      for (size_t i = t; !stop.load(std::memory_order_relaxed); i += threads) {
        const size_t d = i % requests.size();
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", tokens[d]);
        grpc::ByteBuffer reply;
        const absl::Time start = absl::Now();
        grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
            channel, method, &ctx, requests[d], &reply);
        latencies[t].push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
        v1::CheckForUpdatesResponse response;
        if (s.ok()) {
          s = grpc::SerializationTraits<v1::CheckForUpdatesResponse>::Deserialize(&reply,
                                                                                  &response);
        }
        if (!s.ok()) {
          if (failures++ == 0) fprintf(stderr, "check failed: %s\n", s.error_message().c_str());
        }
        offers += response.offers_size();
      }
    });
  }
  absl::SleepFor(duration);
  stop = true;
  for (auto& t : pool) t.join();
  std::vector<float> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Phase p;
  p.per_second = all.size() / absl::ToDoubleSeconds(duration);
  if (!all.empty()) {
    p.p50_ms = all[all.size() / 2];
    p.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  p.failures = failures;
  p.offers = offers;
  return p;
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

int Main() {
  RealClock clock;
  Logger logger("catalog-bench", &clock, stderr, Logger::Level::kWarning);
  const int devices = absl::GetFlag(FLAGS_devices);
  const int components = absl::GetFlag(FLAGS_components);
  const int outdated_every = std::max(1, absl::GetFlag(FLAGS_outdated_every));
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);

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

  std::vector<v1::CheckForUpdatesRequest> requests(devices);
  std::vector<std::string> tokens(devices);
  int64_t expected_offers = 0;
  for (int d = 0; d < devices; ++d) {
    tokens[d] = "Bearer " + signer.Issue(absl::StrCat("bench-", d), kDeviceAudience)->token;
    v1::CheckForUpdatesRequest& req = requests[d];
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
  }

  std::vector<grpc::ByteBuffer> payloads(devices);
  for (int d = 0; d < devices; ++d) {
    bool own = false;
    if (!grpc::SerializationTraits<v1::CheckForUpdatesRequest>::Serialize(requests[d], &payloads[d],
                                                                          &own)
             .ok()) {
      return 1;
    }
  }

  BareDeviceCatalog bare;
  grpc::ServerBuilder builder;
  int bare_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &bare_port);
  builder.RegisterService(&bare);
  std::unique_ptr<grpc::Server> bare_server = builder.BuildAndStart();
  if (bare_server == nullptr) return 1;

  const int port = (*server)->port();
  Measure(port, payloads, tokens, absl::Seconds(2));  // warm-up: connections, token cache
  Phase catalog = Measure(port, payloads, tokens, duration);
  // The catalog's threads stop before the peer runs, so that the peer has the
  // process (and gRPC's shared threads) to itself.
  (*server)->Shutdown(absl::ZeroDuration());
  Measure(bare_port, payloads, tokens, absl::Seconds(1));
  Phase peer = Measure(bare_port, payloads, tokens, duration);
  bare_server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));

  const int threads = absl::GetFlag(FLAGS_client_threads);
  printf("request: %d components, %zu bytes; 1 device in %d gets one offer (and a grant)\n",
         components, requests[1].ByteSizeLong(), outdated_every);
  printf(
      "catalog CheckForUpdates (%d devices, %d clients, %d connections): %.0f/s, "
      "p50 %.2f ms, p99 %.2f ms, %lld offers, %lld failed\n",
      devices, threads, absl::GetFlag(FLAGS_channels), catalog.per_second, catalog.p50_ms,
      catalog.p99_ms, static_cast<long long>(catalog.offers),
      static_cast<long long>(catalog.failures));
  printf("bare gRPC unary, same requests: %.0f/s, p50 %.2f ms, p99 %.2f ms\n", peer.per_second,
         peer.p50_ms, peer.p99_ms);
  printf("RESULT bench=catalog metric=p99_ms value=%.2f peer=grpc_echo peer_value=%.2f\n",
         catalog.p99_ms, peer.p99_ms);
  printf(
      "RESULT bench=catalog metric=checks_per_s value=%.0f peer=grpc_echo peer_value=%.0f "
      "ratio=%.3f\n",
      catalog.per_second, peer.per_second, catalog.per_second / peer.per_second);
  const bool offers_ok = catalog.offers > 0 && expected_offers > 0;
  return catalog.failures == 0 && peer.failures == 0 && offers_ok ? 0 : 1;
}

}  // namespace
}  // namespace updraft::bench

int main(int argc, char** argv) {
  updraft::ParseFlagsWithEnvironment(argc, argv);
  return updraft::bench::Main();
}
