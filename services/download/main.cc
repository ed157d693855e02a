// The download service: content-addressed artifact upload and chunked,
// resumable download for devices.
#include <cstdio>
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
#include "services/download/download_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7403", "gRPC listen address");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9403",
          "Prometheus /metrics listen address; empty for none");
ABSL_FLAG(std::string, artifact_root, "", "Directory (volume) holding the artifacts; required");
ABSL_FLAG(std::string, auth_address, "127.0.0.1:7401",
          "Auth service address, for the keys that verify device tokens");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799",
          "Redis (host:port) carrying auth's token revocations and the catalog's download "
          "grants; empty: neither is enforced");
ABSL_FLAG(std::string, redis_key_prefix, "updraft:", "Prefix of auth's Redis keys and channels");
ABSL_FLAG(int, max_fetches_per_device, 2,
          "Fetch streams one device may have open at once on this replica");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

int main(int argc, char** argv) {
  updraft::BlockShutdownSignals();
  updraft::ParseFlagsWithEnvironment(argc, argv);
  updraft::RealClock clock;
  updraft::Logger logger("download", &clock, stderr,
                         updraft::LogLevelOrExit(absl::GetFlag(FLAGS_log_level)));
  if (absl::GetFlag(FLAGS_artifact_root).empty()) {
    logger.Error("--artifact_root is required");
    return 2;
  }

  updraft::download::DownloadServer::Options options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.artifact_root = absl::GetFlag(FLAGS_artifact_root);
  options.auth_address = absl::GetFlag(FLAGS_auth_address);
  options.tls = updraft::TlsOptionsFromFlags();
  if (!updraft::ParseOptionalRedisFlag(absl::GetFlag(FLAGS_redis), logger, &options.redis)) {
    return 2;
  }
  options.redis_key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
  options.max_fetches_per_device = absl::GetFlag(FLAGS_max_fetches_per_device);
  options.clock = &clock;
  options.logger = &logger;
  auto server = updraft::download::DownloadServer::Create(options);
  if (!server.ok()) {
    logger.Error("cannot start", {{"error", server.status().ToString()}});
    return 1;
  }
  int sig = updraft::WaitForShutdownSignal();
  logger.Info("shutting down", {{"signal", absl::StrCat(sig)}});
  (*server)->Shutdown();
  return 0;
}
