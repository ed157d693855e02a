// Auth benchmark (bench/run.sh auth): logins per second over gRPC with TLS
// (GetChallenge + Login), and token refreshes per second with the next
// challenge the previous Login answer carried (one Login each), against the
// raw OpenSSL Ed25519 verifications per second of this machine, all using
// every core; and cached token verifications per second on one core. Runs
// the real AuthServer (PostgreSQL, Redis) in this process.
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto.h"
#include "common/flags.h"
#include "common/logger.h"
#include "common/operator_auth.h"
#include "common/tls.h"
#include "common/token.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/auth/auth_server.h"
#include "updraft/v1/auth.grpc.pb.h"

ABSL_FLAG(std::string, pg_uri, "", "PostgreSQL database for auth (emptied by run.sh)");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799", "Redis host:port");
ABSL_FLAG(std::string, tls_dir, "", "directory made by scripts/dev-ca.sh");
ABSL_FLAG(int, devices, 4000, "devices to provision");
ABSL_FLAG(int, client_threads, 16, "concurrent logins in flight");
ABSL_FLAG(int, channels, 4, "TLS connections the clients share");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "length of each measured phase");

namespace updraft::bench {
namespace {

// Runs `fn(thread_index, stop)` on `threads` threads for `duration`; returns
// the sum of the counts they return.
int64_t RunFor(int threads, absl::Duration duration,
               const std::function<int64_t(int, const std::atomic<bool>&)>& fn) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> total{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] { total += fn(i, stop); });
  }
  absl::SleepFor(duration);
  stop = true;
  for (auto& t : pool) t.join();
  return total;
}

// The peer: OpenSSL alone, with the key parsed once and one context per
// thread, verifying the same kind of message a login carries.
double OpensslVerifiesPerSecond(int threads, absl::Duration duration) {
  auto key = Ed25519KeyPair::Generate();
  std::string msg = LoginMessage("bench-device", RandomBytes(32));
  std::string sig = *key->Sign(msg);
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(key->public_key().data()),
      key->public_key().size());
  int64_t n = RunFor(threads, duration, [&](int, const std::atomic<bool>& stop) {
    int64_t count = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    while (!stop.load(std::memory_order_relaxed)) {
      if (EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey) != 1 ||
          EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                           reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) != 1) {
        abort();
      }
      ++count;
    }
    EVP_MD_CTX_free(ctx);
    return count;
  });
  EVP_PKEY_free(pkey);
  return n / absl::ToDoubleSeconds(duration);
}

// A login's signature work alone, on every core: the device signs the
// challenge, auth verifies it and signs the token (OpenSSL Ed25519, keys
// parsed once, as in the service).
double LoginCryptoPerSecond(int threads, absl::Duration duration) {
  Ed25519KeyPair device = *Ed25519KeyPair::Generate();
  Ed25519KeyPair auth = *Ed25519KeyPair::Generate();
  std::string msg = LoginMessage("bench-device", RandomBytes(32));
  int64_t n = RunFor(threads, duration, [&](int, const std::atomic<bool>& stop) {
    int64_t count = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      std::string sig = *device.Sign(msg);
      if (!Ed25519Verify(device.public_key(), msg, sig)) abort();
      if (!auth.Sign(msg).ok()) abort();
      ++count;
    }
    return count;
  });
  return n / absl::ToDoubleSeconds(duration);
}

// The transport alone: a bare gRPC server with TLS (the same certificate)
// and nothing but the health service; each iteration makes the two unary
// calls a login makes, with the same clients and connections.
double TwoTlsCallsPerSecond(const std::string& dir, int threads, int channels,
                            absl::Duration duration) {
  TlsOptions server_tls;
  server_tls.cert_file = dir + "/auth.pem";
  server_tls.key_file = dir + "/auth.key";
  auto server_creds = ServerCredentialsFrom(server_tls);
  if (!server_creds.ok()) return 0;
  grpc::EnableDefaultHealthCheckService(true);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", *server_creds, &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return 0;
  TlsOptions client_tls;
  client_tls.ca_file = dir + "/ca.pem";
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> stubs;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("updraft.bench.channel", i);
    stubs.push_back(grpc::health::v1::Health::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("localhost:", port), *ChannelCredentialsFrom(client_tls), args)));
  }
  auto loop = [&](int t, const std::atomic<bool>& stop) {
    int64_t count = 0;
    auto& stub = *stubs[t % stubs.size()];
    while (!stop.load(std::memory_order_relaxed)) {
      grpc::health::v1::HealthCheckRequest req;
      grpc::health::v1::HealthCheckResponse resp;
      grpc::ClientContext c1, c2;
      if (stub.Check(&c1, req, &resp).ok() && stub.Check(&c2, req, &resp).ok()) ++count;
    }
    return count;
  };
  RunFor(threads, absl::Seconds(1), loop);
  const double rate = RunFor(threads, duration, loop) / absl::ToDoubleSeconds(duration);
  server->Shutdown();
  return rate;
}

double CachedVerificationsPerSecond(absl::Duration duration) {
  RealClock clock;
  StaticKeySource keys;
  TokenSigner signer(*Ed25519KeyPair::Generate(), &clock, absl::Minutes(15));
  keys.Add(signer.public_key());
  TokenVerifier verifier(&keys, &clock, std::string(kDeviceAudience));
  std::string token = signer.Issue("bench-device", kDeviceAudience)->token;
  if (!verifier.Verify(token).ok()) abort();
  int64_t n = RunFor(1, duration, [&](int, const std::atomic<bool>& stop) {
    int64_t count = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 1000; ++i) {
        if (!verifier.Verify(token).ok()) abort();
      }
      count += 1000;
    }
    return count;
  });
  return n / absl::ToDoubleSeconds(duration);
}

int Main() {
  const std::string dir = absl::GetFlag(FLAGS_tls_dir);
  RealClock clock;
  Logger logger("auth-bench", &clock, stderr, Logger::Level::kWarning);
  AuthServer::Options o;
  o.listen_address = "127.0.0.1:0";
  o.metrics_listen = "";
  o.pg_uri = absl::GetFlag(FLAGS_pg_uri);
  if (!ParseHostPort(absl::GetFlag(FLAGS_redis), &o.redis_host, &o.redis_port)) return 2;
  o.redis_key_prefix = "bench:";
  o.signing_key_file = dir + "/bench-signing.key";
  o.bootstrap_admin_key_file = dir + "/bench-admin.key";
  o.pg_pool_size = 16;
  o.redis_connections = 16;
  o.login_attempts_per_device = 0;  // measure throughput, not the limiter
  o.login_attempts_per_source = 0;
  o.tls.cert_file = dir + "/auth.pem";
  o.tls.key_file = dir + "/auth.key";
  o.logger = &logger;
  auto server = AuthServer::Create(o);
  if (!server.ok()) {
    fprintf(stderr, "auth: %s\n", server.status().ToString().c_str());
    return 1;
  }

  // Provision devices in one CSV import.
  const int devices = absl::GetFlag(FLAGS_devices);
  std::vector<Ed25519KeyPair> keys;
  std::string csv = "device_id,key_type,public_key\n";
  for (int i = 0; i < devices; ++i) {
    keys.push_back(*Ed25519KeyPair::Generate());
    absl::StrAppend(&csv, "bench-", i, ",ed25519,", absl::WebSafeBase64Escape(keys[i].public_key()),
                    "\n");
  }
  auto imported =
      (*server)->admin().ImportDevices(OperatorIdentity{"bench", Role::kAdmin, ""}, csv);
  if (!imported.ok()) {
    fprintf(stderr, "import: %s\n", imported.status().ToString().c_str());
    return 1;
  }

  TlsOptions client_tls;
  client_tls.ca_file = dir + "/ca.pem";
  std::vector<std::unique_ptr<v1::Auth::Stub>> stubs;
  for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("updraft.bench.channel", i);  // distinct connections
    auto creds = ChannelCredentialsFrom(client_tls);
    if (!creds.ok()) return 1;
    stubs.push_back(v1::Auth::NewStub(
        grpc::CreateCustomChannel(absl::StrCat("localhost:", (*server)->port()), *creds, args)));
  }
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const int threads = absl::GetFlag(FLAGS_client_threads);
  std::atomic<int64_t> failures{0};
  // One login of device d: GetChallenge, then Login with the signed nonce.
  auto login_once = [&](v1::Auth::Stub& stub, int d, v1::LoginResponse* resp) {
    std::string id = absl::StrCat("bench-", d);
    grpc::ClientContext c1;
    v1::GetChallengeRequest req;
    req.set_device_id(id);
    v1::Challenge challenge;
    if (!stub.GetChallenge(&c1, req, &challenge).ok()) return false;
    grpc::ClientContext c2;
    v1::LoginRequest login;
    login.set_device_id(id);
    login.set_nonce(challenge.nonce());
    login.set_signature(*keys[d].Sign(LoginMessage(id, challenge.nonce())));
    return stub.Login(&c2, login, resp).ok();
  };
  auto login_loop = [&](int t, const std::atomic<bool>& stop) {
    int64_t count = 0;
    v1::Auth::Stub& stub = *stubs[t % stubs.size()];
    for (int i = t; !stop.load(std::memory_order_relaxed); i += threads) {
      v1::LoginResponse resp;
      if (login_once(stub, i % devices, &resp)) {
        ++count;
      } else {
        ++failures;
      }
    }
    return count;
  };
  RunFor(threads, absl::Seconds(1), login_loop);  // warm-up: connections, caches
  failures = 0;
  const double logins = RunFor(threads, duration, login_loop) / absl::ToDoubleSeconds(duration);
  const int64_t login_failures = failures.load();

  // Token refreshes: each thread first logs each of its devices in once
  // (GetChallenge + Login, not measured), then refreshes them in turn, each
  // refresh one Login with the next challenge the previous answer carried.
  // Thread t owns devices t, t + threads, ...: no two threads share one.
  std::vector<std::string> next(devices);
  auto full_login = [&](v1::Auth::Stub& stub, int d) {
    v1::LoginResponse resp;
    if (!login_once(stub, d, &resp) || !resp.has_next_challenge()) return false;
    next[d] = resp.next_challenge().nonce();
    return true;
  };
  {
    std::vector<std::thread> setup;
    for (int t = 0; t < threads; ++t) {
      setup.emplace_back([&, t] {
        for (int d = t; d < devices; d += threads) {
          if (!full_login(*stubs[t % stubs.size()], d)) ++failures;
        }
      });
    }
    for (auto& t : setup) t.join();
  }
  auto refresh_loop = [&](int t, const std::atomic<bool>& stop) {
    int64_t count = 0;
    v1::Auth::Stub& stub = *stubs[t % stubs.size()];
    for (int d = t; !stop.load(std::memory_order_relaxed); d += threads) {
      if (d >= devices) d = t;
      std::string id = absl::StrCat("bench-", d);
      grpc::ClientContext ctx;
      v1::LoginRequest login;
      login.set_device_id(id);
      login.set_nonce(next[d]);
      login.set_signature(*keys[d].Sign(LoginMessage(id, next[d])));
      v1::LoginResponse resp;
      if (stub.Login(&ctx, login, &resp).ok() && resp.has_next_challenge()) {
        next[d] = resp.next_challenge().nonce();
        ++count;
      } else {
        ++failures;
        full_login(stub, d);  // start this device over
      }
    }
    return count;
  };
  const double refreshes =
      RunFor(threads, duration, refresh_loop) / absl::ToDoubleSeconds(duration);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const double verifies = OpensslVerifiesPerSecond(cores, duration);
  const double cached = CachedVerificationsPerSecond(absl::Seconds(3));
  (*server)->Shutdown(absl::ZeroDuration());
  const double crypto = LoginCryptoPerSecond(cores, duration);
  const double transport =
      TwoTlsCallsPerSecond(dir, threads, absl::GetFlag(FLAGS_channels), duration);
  // Both on the same cores: their costs per login add up.
  const double bound = crypto > 0 && transport > 0 ? 1 / (1 / crypto + 1 / transport) : 0;
  // A refresh is one of the two calls.
  const double refresh_bound =
      crypto > 0 && transport > 0 ? 1 / (1 / crypto + 1 / (2 * transport)) : 0;

  printf(
      "auth logins over gRPC+TLS (%d clients, %d connections, %d devices): %.0f/s, %lld failed\n",
      threads, absl::GetFlag(FLAGS_channels), devices, logins,
      static_cast<long long>(login_failures));
  printf(
      "token refreshes with the next challenge (one Login each; same clients and devices): "
      "%.0f/s (%.2fx the two-call logins), %lld failed\n",
      refreshes, logins > 0 ? refreshes / logins : 0,
      static_cast<long long>(failures.load() - login_failures));
  printf("OpenSSL Ed25519 verifications on %d threads: %.0f/s\n", cores, verifies);
  printf("cached token verifications on 1 thread: %.0f/s\n", cached);
  printf(
      "a login's signatures alone (device sign, auth verify, token sign) on %d threads: %.0f/s\n",
      cores, crypto);
  printf("two unary calls to a bare gRPC+TLS server (health service), same clients: %.0f/s\n",
         transport);
  printf(
      "ceiling for a login from these two on the same cores: %.0f/s (logins reach %.0f%% of it; "
      "ratio to the peer at most %.3f)\n",
      bound, bound > 0 ? 100 * logins / bound : 0, verifies > 0 ? bound / verifies : 0);
  printf(
      "ceiling for a refresh (one call) on the same cores: %.0f/s (refreshes reach %.0f%% of "
      "it)\n",
      refresh_bound, refresh_bound > 0 ? 100 * refreshes / refresh_bound : 0);
  printf("RESULT bench=auth metric=cached_verifications_per_s value=%.0f\n", cached);
  printf(
      "RESULT bench=auth metric=refreshes_per_s value=%.0f peer=openssl_verify peer_value=%.0f "
      "ratio=%.3f\n",
      refreshes, verifies, refreshes / verifies);
  printf(
      "RESULT bench=auth metric=logins_per_s value=%.0f peer=openssl_verify peer_value=%.0f "
      "ratio=%.3f\n",
      logins, verifies, logins / verifies);
  return failures.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace updraft::bench

int main(int argc, char** argv) {
  updraft::ParseFlagsWithEnvironment(argc, argv);
  return updraft::bench::Main();
}
