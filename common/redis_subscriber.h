#ifndef UPDRAFT_COMMON_REDIS_SUBSCRIBER_H_
#define UPDRAFT_COMMON_REDIS_SUBSCRIBER_H_

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "common/redis_client.h"

namespace updraft {

// Receives the messages published on one Redis pub/sub channel on a
// background thread and hands each to a callback. Keeps its own connection
// (a subscribed connection can do nothing else); reconnects after a failure,
// waiting `reconnect_delay` between attempts. Stopped by the destructor.
class RedisSubscriber {
 public:
  using Callback = std::function<void(const std::string& message)>;

  RedisSubscriber(RedisClient::Options options, std::string channel, Callback callback,
                  absl::Duration reconnect_delay = absl::Seconds(1));
  ~RedisSubscriber();

  // Blocks until the first SUBSCRIBE is acknowledged or `timeout` passes;
  // true when subscribed. Lets callers publish only after listening.
  bool WaitUntilSubscribed(absl::Duration timeout);

 private:
  void Run();

  const RedisClient::Options options_;
  const std::string channel_;
  const Callback callback_;
  const absl::Duration reconnect_delay_;
  std::atomic<bool> stop_{false};
  absl::Notification subscribed_;
  std::thread thread_;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_REDIS_SUBSCRIBER_H_
