#ifndef UPDRAFT_COMMON_SERVICE_MAIN_H_
#define UPDRAFT_COMMON_SERVICE_MAIN_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/logger.h"
#include "common/redis_client.h"

namespace updraft {

// Flag handling shared by the service mains (services/*/main.cc).

// The level named by --log_level; on any other value prints
// "--log_level must be debug, info, warning or error" to stderr and exits
// with status 2.
Logger::Level LogLevelOrExit(absl::string_view log_level);

// Splits a --redis value (host:port) into `host` and `port`. On a bad value
// logs "--redis must be host:port" with the value under the field `field`
// and returns false (the main then exits with status 2).
bool ParseRedisFlag(absl::string_view value, Logger& logger, std::string* host, int* port,
                    absl::string_view field = "redis");

// As ParseRedisFlag, for services where an empty --redis means no Redis:
// `redis` is left unset for "", and set to the parsed address otherwise.
bool ParseOptionalRedisFlag(absl::string_view value, Logger& logger,
                            std::optional<RedisClient::Options>* redis);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_SERVICE_MAIN_H_
