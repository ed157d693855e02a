#ifndef UPDRAFT_COMMON_REDIS_CLIENT_H_
#define UPDRAFT_COMMON_REDIS_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct redisContext;

namespace updraft {

// A reply from Redis, reduced to what Updraft uses.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kArray, kStatus };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;
  std::vector<RedisReply> elements;
};

// A synchronous Redis client (hiredis) shared by a service's threads. Each
// command takes one of a small set of connections; a broken connection is
// reopened on the next command. hiredis error codes end here: every failure
// is an absl::Status (UNAVAILABLE when Redis cannot be reached, INTERNAL for
// an error reply).
class RedisClient {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 6379;
    absl::Duration timeout = absl::Seconds(2);
    int connections = 4;
  };

  static absl::StatusOr<std::unique_ptr<RedisClient>> Create(Options options);
  ~RedisClient();

  // Runs one command; binary-safe arguments.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args);

  // SET key value PX ttl: replaces any value; an error unless Redis answers OK.
  absl::Status SetWithTtl(const std::string& key, const std::string& value, absl::Duration ttl);
  // SET key value PX ttl NX: true when the key was set.
  absl::StatusOr<bool> SetIfAbsent(const std::string& key, const std::string& value,
                                   absl::Duration ttl);
  // GETDEL: the value, or nullopt when absent. Atomic: one caller wins.
  absl::StatusOr<std::optional<std::string>> GetAndDelete(const std::string& key);
  // INCR, and PEXPIRE when the key is new, atomically (one Lua call);
  // returns the new count.
  absl::StatusOr<int64_t> IncrementWindow(const std::string& key, absl::Duration window);
  absl::StatusOr<int64_t> Publish(const std::string& channel, const std::string& message);

 private:
  explicit RedisClient(Options options) : options_(std::move(options)) {}
  absl::StatusOr<redisContext*> Connect();

  const Options options_;
  absl::Mutex mu_;
  std::vector<redisContext*> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_REDIS_CLIENT_H_
