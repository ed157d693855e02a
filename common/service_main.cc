#include "common/service_main.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "common/flags.h"

namespace updraft {

Logger::Level LogLevelOrExit(absl::string_view log_level) {
  Logger::Level level;
  if (!ParseLogLevel(log_level, &level)) {
    fprintf(stderr, "--log_level must be debug, info, warning or error\n");
    exit(2);
  }
  return level;
}

bool ParseRedisFlag(absl::string_view value, Logger& logger, std::string* host, int* port,
                    absl::string_view field) {
  if (ParseHostPort(value, host, port)) return true;
  logger.Error("--redis must be host:port", {{field, std::string(value)}});
  return false;
}

bool ParseOptionalRedisFlag(absl::string_view value, Logger& logger,
                            std::optional<RedisClient::Options>* redis) {
  if (value.empty()) {
    redis->reset();
    return true;
  }
  RedisClient::Options parsed;
  if (!ParseRedisFlag(value, logger, &parsed.host, &parsed.port)) return false;
  *redis = std::move(parsed);
  return true;
}

}  // namespace updraft
