#ifndef UPDRAFT_COMMON_REDIS_REVOCATIONS_H_
#define UPDRAFT_COMMON_REDIS_REVOCATIONS_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/logger.h"
#include "common/redis_client.h"
#include "common/redis_subscriber.h"
#include "common/revocation.h"

namespace updraft {

// Redis names of the revocation feed under a key prefix (e.g. "updraft:"):
// the pub/sub channel "<prefix>revocations" and the snapshot, a sorted set
// "<prefix>revocations:recent" of encoded revocations scored by their expiry
// (Unix ms), so a service that starts (or reconnects) learns the recent ones.
std::string RevocationChannel(absl::string_view key_prefix);
std::string RevocationSnapshotKey(absl::string_view key_prefix);

// Auth's side: adds a revocation to the snapshot (dropping expired ones) and
// then publishes it, so a subscriber sees it either live or in the snapshot.
class RedisRevocationPublisher : public RevocationPublisher {
 public:
  // `redis` and `clock` must outlive the publisher.
  RedisRevocationPublisher(RedisClient* redis, std::string key_prefix, const Clock* clock)
      : redis_(redis), prefix_(std::move(key_prefix)), clock_(clock) {}
  absl::Status Publish(const Revocation& revocation) override;

 private:
  RedisClient* redis_;
  const std::string prefix_;
  const Clock* clock_;
};

// A verifying service's side: keeps a RevocationList up to date. Start
// subscribes to the channel and then loads the snapshot; afterwards every
// published revocation is applied as it arrives (the pub/sub latency, well
// under a second on a healthy Redis), and the snapshot is reloaded every
// `snapshot_interval` to catch anything missed while the subscription was
// reconnecting.
class RedisRevocationFeed {
 public:
  struct Options {
    RedisClient::Options redis;
    std::string key_prefix = "updraft:";
    // Required; must outlive the feed.
    RevocationList* list = nullptr;
    const Clock* clock = nullptr;
    // Optional.
    Logger* logger = nullptr;
    absl::Duration snapshot_interval = absl::Seconds(30);
    // How long Start waits for the subscription.
    absl::Duration subscribe_timeout = absl::Seconds(5);
  };

  // UNAVAILABLE when Redis cannot be reached.
  static absl::StatusOr<std::unique_ptr<RedisRevocationFeed>> Start(Options options);
  ~RedisRevocationFeed();

  // Loads the snapshot into the list now.
  absl::Status LoadSnapshot();

 private:
  explicit RedisRevocationFeed(Options options) : options_(std::move(options)) {}
  void Apply(const std::string& message);
  void ReloadLoop();

  const Options options_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisSubscriber> subscriber_;
  absl::Notification stop_;
  std::thread reloader_;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_REDIS_REVOCATIONS_H_
