#include "services/download/redis_download_grants.h"

#include "absl/strings/str_cat.h"
#include "common/download_grant_key.h"

namespace updraft::download {

absl::StatusOr<std::unique_ptr<RedisDownloadGrants>> RedisDownloadGrants::Create(Options options) {
  if (options.redis == nullptr) return absl::InvalidArgumentError("Options.redis must be set");
  if (options.clock == nullptr) return absl::InvalidArgumentError("Options.clock must be set");
  if (options.cache_capacity < 1) {
    return absl::InvalidArgumentError("Options.cache_capacity must be positive");
  }
  return std::unique_ptr<RedisDownloadGrants>(new RedisDownloadGrants(std::move(options)));
}

absl::StatusOr<bool> RedisDownloadGrants::IsGranted(absl::string_view device_id,
                                                    absl::string_view sha256_hex) {
  std::string key = DownloadGrantKey(options_.key_prefix, device_id, sha256_hex);
  const absl::Time now = options_.clock->Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (now < it->second) return true;
      cache_.erase(it);
    }
  }
  absl::StatusOr<RedisReply> reply = options_.redis->Command({"EXISTS", key});
  if (!reply.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot read download grants: ", reply.status().message()));
  }
  if (reply->type != RedisReply::Type::kInteger) {
    return absl::InternalError("unexpected Redis reply to EXISTS");
  }
  if (reply->integer == 0) return false;
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= options_.cache_capacity) cache_.clear();
  cache_[std::move(key)] = now + options_.cache_ttl;
  return true;
}

}  // namespace updraft::download
