// The notifier service: IP Push streams held by devices, announcements
// fanned out across replicas through Redis.
#include <cstdio>

#include "absl/flags/flag.h"
#include "common/flags.h"
#include "common/logger.h"
#include "common/signals.h"
#include "common/tls_flags.h"
#include "services/notifier/notifier_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7404", "gRPC listen address");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9404", "Prometheus /metrics address");
ABSL_FLAG(std::string, redis, "127.0.0.1:63799", "Redis host:port");
ABSL_FLAG(std::string, redis_channel, "updraft:announcements", "pub/sub channel between replicas");
ABSL_FLAG(std::string, redis_key_prefix,
          "updraft:", "prefix of auth's Redis keys and channels (token revocations)");
ABSL_FLAG(std::string, auth_address, "127.0.0.1:7401", "auth service, for token keys");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

int main(int argc, char** argv) {
  updraft::BlockShutdownSignals();
  updraft::ParseFlagsWithEnvironment(argc, argv);
  updraft::Logger::Level level;
  if (!updraft::ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    fprintf(stderr, "--log_level must be debug, info, warning or error\n");
    return 2;
  }
  updraft::RealClock clock;
  updraft::Logger logger("notifier", &clock, stderr, level);
  updraft::notifier::NotifierServer::Options o;
  o.listen_address = absl::GetFlag(FLAGS_listen);
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (!updraft::ParseHostPort(absl::GetFlag(FLAGS_redis), &o.redis.host, &o.redis.port)) {
    logger.Error("--redis must be host:port", {{"value", absl::GetFlag(FLAGS_redis)}});
    return 2;
  }
  o.redis_channel = absl::GetFlag(FLAGS_redis_channel);
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
