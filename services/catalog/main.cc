// The catalog service: packages, releases, DCinfo, update decisions and
// device result reports. See design.md sections 1-3.
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/flags.h"
#include "common/logger.h"
#include "common/service_main.h"
#include "common/signals.h"
#include "common/tls_flags.h"
#include "services/catalog/catalog_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7402", "gRPC listen address.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9402",
          "Prometheus /metrics listen address; empty for none.");
ABSL_FLAG(std::string, pg_uri, "", "PostgreSQL connection URI.");
ABSL_FLAG(std::string, download_address, "127.0.0.1:7403",
          "Download service address, asked for artifact manifests.");
ABSL_FLAG(std::string, auth_address, "127.0.0.1:7401",
          "Auth service address, asked for token verification keys.");
ABSL_FLAG(std::string, public_download_target, "",
          "Download target sent to devices in offers; empty means --download_address.");
ABSL_FLAG(std::string, public_http_base, "",
          "Base URL of a web server or CDN serving the download service's artifact volume "
          "(objects/<sha256>); offers then name it as an HTTP source. Empty: none.");
ABSL_FLAG(absl::Duration, download_grant_ttl, absl::Hours(6),
          "How long an offer lets the device fetch its artifact from the download service.");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799",
          "Redis (host:port) carrying auth's token revocations and the download grants the "
          "catalog writes; empty: neither.");
ABSL_FLAG(std::string, redis_key_prefix, "updraft:", "Prefix of auth's Redis keys and channels.");
ABSL_FLAG(std::string, api_key_file, "",
          "API key file (role viewer) the catalog logs in with to fetch manifests from the "
          "download service.");
ABSL_FLAG(std::string, publisher_keys_file, "",
          "Trusted publisher public keys, one base64url Ed25519 key per line: every "
          "publication must then carry release metadata signed by one of them.");
ABSL_FLAG(std::string, notifier_address, "127.0.0.1:7404",
          "Notifier address: campaign waves (and queued operations) are announced through it, "
          "with the operator token of --api_key_file (role publisher). Empty: this replica "
          "drives no campaign.");
ABSL_FLAG(std::string, public_catalog_address, "",
          "Catalog address devices are told to check with in announcements; empty: --listen.");
ABSL_FLAG(absl::Duration, campaign_tick_interval, absl::Seconds(2),
          "How often running campaigns are stepped and due webhooks sent.");
ABSL_FLAG(std::string, log_level, "info", "Minimum log level: debug, info, warning or error.");

int main(int argc, char** argv) {
  updraft::BlockShutdownSignals();
  updraft::ParseFlagsWithEnvironment(argc, argv);
  updraft::RealClock clock;
  updraft::Logger logger("catalog", &clock, stderr,
                         updraft::LogLevelOrExit(absl::GetFlag(FLAGS_log_level)));
  std::optional<updraft::RedisClient::Options> redis;
  if (!updraft::ParseOptionalRedisFlag(absl::GetFlag(FLAGS_redis), logger, &redis)) return 2;
  auto server = updraft::catalog::CatalogServer::Create({
      .listen_address = absl::GetFlag(FLAGS_listen),
      .metrics_listen = absl::GetFlag(FLAGS_metrics_listen),
      .pg_uri = absl::GetFlag(FLAGS_pg_uri),
      .download_address = absl::GetFlag(FLAGS_download_address),
      .auth_address = absl::GetFlag(FLAGS_auth_address),
      .public_download_target = absl::GetFlag(FLAGS_public_download_target),
      .public_http_base = absl::GetFlag(FLAGS_public_http_base),
      .download_grant_ttl = absl::GetFlag(FLAGS_download_grant_ttl),
      .tls = updraft::TlsOptionsFromFlags(),
      .redis = redis,
      .redis_key_prefix = absl::GetFlag(FLAGS_redis_key_prefix),
      .api_key_file = absl::GetFlag(FLAGS_api_key_file),
      .publisher_keys_file = absl::GetFlag(FLAGS_publisher_keys_file),
      .notifier_address = absl::GetFlag(FLAGS_notifier_address),
      .public_catalog_address = absl::GetFlag(FLAGS_public_catalog_address),
      .campaign_tick_interval = absl::GetFlag(FLAGS_campaign_tick_interval),
      .clock = &clock,
      .logger = &logger,
  });
  if (!server.ok()) {
    logger.Error("catalog failed to start", {{"error", server.status().ToString()}});
    return 1;
  }
  int sig = updraft::WaitForShutdownSignal();
  logger.Info("shutting down", {{"signal", absl::StrCat(sig)}});
  (*server)->Shutdown();
  return 0;
}
