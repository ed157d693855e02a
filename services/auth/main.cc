// The auth service binary: device identities and admission, challenge-response
// login, access tokens with rotating signing keys, operator API keys. Flags
// can also be set as UPDRAFT_<FLAG> environment variables.

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/logger.h"
#include "common/service_main.h"
#include "common/signals.h"
#include "common/tls_flags.h"
#include "services/auth/auth_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7401", "gRPC listen address (host:port)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9401",
          "Prometheus /metrics listen address (host:port); empty for none");
ABSL_FLAG(std::string, pg_uri, "",
          "PostgreSQL connection URI, e.g. postgresql://updraft@127.0.0.1:54329/updraft");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799", "Redis address (host:port)");
ABSL_FLAG(std::string, redis_key_prefix, "updraft:", "Prefix of every Redis key");
ABSL_FLAG(std::string, signing_key_file, "",
          "File holding the first token signing key (raw Ed25519 private key, base64url), "
          "imported when PostgreSQL has no signing key yet; created with a new key when "
          "missing. Later keys come from RotateSigningKey");
ABSL_FLAG(absl::Duration, token_ttl, absl::Minutes(15), "Lifetime of device access tokens");
ABSL_FLAG(absl::Duration, next_challenge_ttl, absl::InfiniteDuration(),
          "Lifetime of the next challenge each Login answer carries (single use, bound to the "
          "device, one Redis key per device); 0: issue none; inf (the default): --token_ttl + "
          "5m");
ABSL_FLAG(absl::Duration, operator_token_ttl, absl::Minutes(10),
          "Lifetime of operator tokens (OperatorLogin)");
ABSL_FLAG(std::string, bootstrap_admin_key_file, "",
          "When set and no valid admin API key exists, create one and write it here (0600); "
          "nothing happens when the file already holds a valid key");
ABSL_FLAG(absl::Duration, signing_key_activation_delay, absl::Seconds(30),
          "How long a rotated token signing key is published before auth signs with it");
ABSL_FLAG(absl::Duration, signing_key_refresh_interval, absl::Seconds(5),
          "How often each replica re-reads the signing keys from PostgreSQL");
ABSL_FLAG(int64_t, login_attempts_per_device, 20,
          "GetChallenge+Login attempts allowed per device per --login_rate_window; 0: no limit");
ABSL_FLAG(int64_t, login_attempts_per_source, 1000,
          "GetChallenge+Login+OperatorLogin attempts allowed per source IP per "
          "--login_rate_window; 0: no limit");
ABSL_FLAG(absl::Duration, login_rate_window, absl::Minutes(1), "Window of the login rate limits");
ABSL_FLAG(std::string, log_level, "info", "Minimum log level: debug, info, warning or error");

namespace updraft {
namespace {

int Run() {
  RealClock clock;
  Logger logger("auth", &clock, stderr, LogLevelOrExit(absl::GetFlag(FLAGS_log_level)));
  AuthServer::Options options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.pg_uri = absl::GetFlag(FLAGS_pg_uri);
  if (!ParseRedisFlag(absl::GetFlag(FLAGS_redis), logger, &options.redis_host,
                      &options.redis_port)) {
    return 2;
  }
  options.redis_key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
  options.signing_key_file = absl::GetFlag(FLAGS_signing_key_file);
  options.token_ttl = absl::GetFlag(FLAGS_token_ttl);
  options.operator_token_ttl = absl::GetFlag(FLAGS_operator_token_ttl);
  if (absl::Duration next = absl::GetFlag(FLAGS_next_challenge_ttl);
      next != absl::InfiniteDuration()) {
    options.next_challenge_ttl = next;
  }
  options.bootstrap_admin_key_file = absl::GetFlag(FLAGS_bootstrap_admin_key_file);
  options.signing_key_activation_delay = absl::GetFlag(FLAGS_signing_key_activation_delay);
  options.signing_key_refresh_interval = absl::GetFlag(FLAGS_signing_key_refresh_interval);
  options.login_attempts_per_device = absl::GetFlag(FLAGS_login_attempts_per_device);
  options.login_attempts_per_source = absl::GetFlag(FLAGS_login_attempts_per_source);
  options.login_rate_window = absl::GetFlag(FLAGS_login_rate_window);
  options.tls = TlsOptionsFromFlags();
  options.logger = &logger;

  auto server = AuthServer::Create(options);
  if (!server.ok()) {
    logger.Error("auth failed to start", {{"error", server.status().ToString()}});
    return 1;
  }
  logger.Info("auth listening", {{"port", absl::StrCat((*server)->port())},
                                 {"metrics_port", absl::StrCat((*server)->metrics_port())}});
  int sig = WaitForShutdownSignal();
  logger.Info("shutting down", {{"signal", absl::StrCat(sig)}});
  (*server)->Shutdown(absl::Seconds(5));
  logger.Info("auth stopped");
  return 0;
}

}  // namespace
}  // namespace updraft

int main(int argc, char** argv) {
  updraft::BlockShutdownSignals();
  updraft::ParseFlagsWithEnvironment(argc, argv);
  return updraft::Run();
}
