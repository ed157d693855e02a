// The notifier service: a PostgreSQL outbox of signed notifications,
// delivered over IP Push streams (routed between replicas through Redis),
// binary SMS and WAP Push (through Kannel), with per-device fallback.
#include <cstdio>

#include "absl/flags/flag.h"
#include "common/crypto.h"
#include "common/flags.h"
#include "common/logger.h"
#include "common/service_main.h"
#include "common/signals.h"
#include "common/tls_flags.h"
#include "services/notifier/notifier_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7404", "gRPC listen address");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9404", "Prometheus /metrics address");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799", "Redis host:port");
ABSL_FLAG(std::string, pg_uri, "", "PostgreSQL URI (the outbox)");
ABSL_FLAG(std::string, redis_key_prefix, "updraft:",
          "prefix of Redis keys and channels (revocations, presence, replica channels)");
ABSL_FLAG(std::string, kannel_sendsms_url, "",
          "Kannel smsbox sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms; empty: no SMS");
ABSL_FLAG(std::string, kannel_ppg_url, "",
          "Kannel PPG (PAP) URL, e.g. http://127.0.0.1:8080/wappush; empty: no WAP Push");
ABSL_FLAG(std::string, kannel_username, "", "sendsms user and PPG user");
ABSL_FLAG(std::string, kannel_password, "", "their password (better: UPDRAFT_KANNEL_PASSWORD)");
ABSL_FLAG(std::string, wap_href_base, "https://updraft.example/n/",
          "WAP Push SI href prefix; the base64url notification is appended");
ABSL_FLAG(std::string, notification_key_file, "",
          "Ed25519 private key (base64url) seeding the shared notification signing key");
ABSL_FLAG(std::string, auth_address, "127.0.0.1:7401", "auth service, for token keys");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

int main(int argc, char** argv) {
  updraft::BlockShutdownSignals();
  updraft::ParseFlagsWithEnvironment(argc, argv);
  updraft::RealClock clock;
  updraft::Logger logger("notifier", &clock, stderr,
                         updraft::LogLevelOrExit(absl::GetFlag(FLAGS_log_level)));
  updraft::notifier::NotifierServer::Options o;
  o.listen_address = absl::GetFlag(FLAGS_listen);
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!updraft::ParseRedisFlag(absl::GetFlag(FLAGS_redis), logger, &o.redis.host, &o.redis.port,
                               "value")) {
    return 2;
  }
  o.pg_uri = absl::GetFlag(FLAGS_pg_uri);
  o.sendsms_url = absl::GetFlag(FLAGS_kannel_sendsms_url);
  o.ppg_url = absl::GetFlag(FLAGS_kannel_ppg_url);
  o.sendsms_username = o.ppg_username = absl::GetFlag(FLAGS_kannel_username);
  o.sendsms_password = o.ppg_password = absl::GetFlag(FLAGS_kannel_password);
  o.wap_href_base = absl::GetFlag(FLAGS_wap_href_base);
  if (!absl::GetFlag(FLAGS_notification_key_file).empty()) {
    auto seed = updraft::ReadKeyFile(absl::GetFlag(FLAGS_notification_key_file));
    if (!seed.ok()) {
      logger.Error("--notification_key_file unreadable", {{"error", seed.status().ToString()}});
      return 2;
    }
    o.signing_key_seed = *seed;
  }
  o.redis_key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
  o.auth_address = absl::GetFlag(FLAGS_auth_address);
  o.tls = updraft::TlsOptionsFromFlags();
  o.clock = &clock;
  o.logger = &logger;
  auto server = updraft::notifier::NotifierServer::Create(o);
  if (!server.ok()) {
    logger.Error("notifier failed to start", {{"error", server.status().ToString()}});
    return 1;
  }
  int sig = updraft::WaitForShutdownSignal();
  logger.Info("draining device streams", {{"signal", std::to_string(sig)}});
  (*server)->Shutdown();
  logger.Info("notifier stopped");
  return 0;
}
