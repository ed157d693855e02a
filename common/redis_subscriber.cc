#include "common/redis_subscriber.h"

#include <hiredis/hiredis.h>

#include <cstring>

#include "absl/time/clock.h"

namespace updraft {
namespace {

// How often the reading thread wakes up to check for Stop.
constexpr absl::Duration kPollInterval = absl::Milliseconds(200);

}  // namespace

RedisSubscriber::RedisSubscriber(RedisClient::Options options, std::string channel,
                                 Callback callback, absl::Duration reconnect_delay)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      callback_(std::move(callback)),
      reconnect_delay_(reconnect_delay),
      thread_([this] { Run(); }) {}

RedisSubscriber::~RedisSubscriber() {
  stop_ = true;
  thread_.join();
}

bool RedisSubscriber::WaitUntilSubscribed(absl::Duration timeout) {
  return subscribed_.WaitForNotificationWithTimeout(timeout);
}

void RedisSubscriber::Run() {
  while (!stop_) {
    timeval connect_tv = absl::ToTimeval(options_.timeout);
    redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, connect_tv);
    bool healthy = c != nullptr && c->err == 0;
    if (healthy) {
      timeval poll_tv = absl::ToTimeval(kPollInterval);
      redisSetTimeout(c, poll_tv);
      auto* r = static_cast<redisReply*>(
          redisCommand(c, "SUBSCRIBE %b", channel_.data(), channel_.size()));
      healthy = r != nullptr && r->type == REDIS_REPLY_ARRAY;
      if (r) freeReplyObject(r);
      if (healthy && !subscribed_.HasBeenNotified()) subscribed_.Notify();
    }
    while (healthy && !stop_) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK) {
        // A read timeout is how we poll for stop_; anything else is a failure.
        if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          c->err = 0;
          memset(c->errstr, 0, sizeof(c->errstr));
          continue;
        }
        healthy = false;
        break;
      }
      auto* r = static_cast<redisReply*>(raw);
      if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
          r->element[2]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "message") == 0) {
        callback_(std::string(r->element[2]->str, r->element[2]->len));
      }
      freeReplyObject(r);
    }
    if (c) redisFree(c);
    absl::Time until = absl::Now() + reconnect_delay_;
    while (!stop_ && absl::Now() < until) absl::SleepFor(kPollInterval);
  }
}

}  // namespace updraft
