#ifndef UPDRAFT_SERVICES_DOWNLOAD_REDIS_DOWNLOAD_GRANTS_H_
#define UPDRAFT_SERVICES_DOWNLOAD_REDIS_DOWNLOAD_GRANTS_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/redis_client.h"
#include "services/download/download_grants.h"

namespace updraft::download {

// DownloadGrants read from the Redis keys the catalog writes (with a TTL)
// when it offers a release. A grant found is remembered for `cache_ttl`, so
// a device reconnecting its stream does not cost a Redis round trip each
// time; a missing grant is never cached (the catalog may write it a moment
// later). The cache is bounded: when full it is emptied.
class RedisDownloadGrants : public DownloadGrants {
 public:
  struct Options {
    RedisClient* redis = nullptr;
    std::string key_prefix = "updraft:";
    const Clock* clock = nullptr;
    absl::Duration cache_ttl = absl::Seconds(60);
    size_t cache_capacity = 100000;
  };

  static absl::StatusOr<std::unique_ptr<RedisDownloadGrants>> Create(Options options);

  absl::StatusOr<bool> IsGranted(absl::string_view device_id,
                                 absl::string_view sha256_hex) override;

 private:
  explicit RedisDownloadGrants(Options options) : options_(std::move(options)) {}

  const Options options_;
  absl::Mutex mu_;
  // Grant key -> until when it is trusted without asking Redis.
  absl::flat_hash_map<std::string, absl::Time> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace updraft::download

#endif  // UPDRAFT_SERVICES_DOWNLOAD_REDIS_DOWNLOAD_GRANTS_H_
