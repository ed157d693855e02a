#include "common/redis_revocations.h"

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft {

std::string RevocationChannel(absl::string_view key_prefix) {
  return absl::StrCat(key_prefix, "revocations");
}

std::string RevocationSnapshotKey(absl::string_view key_prefix) {
  return absl::StrCat(key_prefix, "revocations:recent");
}

absl::Status RedisRevocationPublisher::Publish(const Revocation& revocation) {
  std::string message = EncodeRevocation(revocation);
  std::string key = RevocationSnapshotKey(prefix_);
  UPDRAFT_RETURN_IF_ERROR(
      redis_
          ->Command({"ZADD", key, absl::StrCat(absl::ToUnixMillis(revocation.expires_at)), message})
          .status());
  UPDRAFT_RETURN_IF_ERROR(redis_
                              ->Command({"ZREMRANGEBYSCORE", key, "-inf",
                                         absl::StrCat(absl::ToUnixMillis(clock_->Now()))})
                              .status());
  return redis_->Publish(RevocationChannel(prefix_), message).status();
}

absl::StatusOr<std::unique_ptr<RedisRevocationFeed>> RedisRevocationFeed::Start(Options options) {
  if (options.list == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("RedisRevocationFeed needs a revocation list and a clock");
  }
  std::unique_ptr<RedisRevocationFeed> feed(new RedisRevocationFeed(std::move(options)));
  RedisClient::Options redis = feed->options_.redis;
  redis.connections = 1;
  UPDRAFT_ASSIGN_OR_RETURN(feed->redis_, RedisClient::Create(redis));
  RedisRevocationFeed* self = feed.get();
  feed->subscriber_ = std::make_unique<RedisSubscriber>(
      feed->options_.redis, RevocationChannel(feed->options_.key_prefix),
      [self](const std::string& message) { self->Apply(message); });
  if (!feed->subscriber_->WaitUntilSubscribed(feed->options_.subscribe_timeout)) {
    return absl::UnavailableError(
        absl::StrCat("cannot subscribe to revocations at Redis ", redis.host, ":", redis.port));
  }
  UPDRAFT_RETURN_IF_ERROR(feed->LoadSnapshot());
  feed->reloader_ = std::thread([self] { self->ReloadLoop(); });
  return feed;
}

RedisRevocationFeed::~RedisRevocationFeed() {
  stop_.Notify();
  if (reloader_.joinable()) reloader_.join();
  subscriber_.reset();
}

void RedisRevocationFeed::Apply(const std::string& message) {
  auto revocation = DecodeRevocation(message);
  if (!revocation.ok()) {
    if (options_.logger != nullptr) {
      options_.logger->Warning("ignoring malformed revocation message",
                               {{"message", message.substr(0, 200)}});
    }
    return;
  }
  options_.list->Add(*revocation);
}

absl::Status RedisRevocationFeed::LoadSnapshot() {
  UPDRAFT_ASSIGN_OR_RETURN(
      RedisReply reply,
      redis_->Command({"ZRANGEBYSCORE", RevocationSnapshotKey(options_.key_prefix),
                       absl::StrCat("(", absl::ToUnixMillis(options_.clock->Now())), "+inf"}));
  for (const RedisReply& e : reply.elements) {
    if (e.type == RedisReply::Type::kString) Apply(e.str);
  }
  return absl::OkStatus();
}

void RedisRevocationFeed::ReloadLoop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.snapshot_interval)) {
    absl::Status s = LoadSnapshot();
    if (!s.ok() && options_.logger != nullptr) {
      options_.logger->Warning("cannot reload the revocation snapshot", {{"error", s.ToString()}});
    }
  }
}

}  // namespace updraft
