#ifndef UPDRAFT_SERVICES_CATALOG_DOWNLOAD_GRANT_WRITER_H_
#define UPDRAFT_SERVICES_CATALOG_DOWNLOAD_GRANT_WRITER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/redis_client.h"

namespace updraft::catalog {

// Records which artifacts a device was offered, so the download service
// lets it fetch exactly those (design.md section 4). Implementations are
// thread-safe.
class DownloadGrantWriter {
 public:
  virtual ~DownloadGrantWriter() = default;
  // Grants `device_id` the artifacts `sha256s` for the writer's lifetime;
  // UNAVAILABLE when the grants cannot be stored.
  virtual absl::Status Grant(const std::string& device_id,
                             const std::vector<std::string>& sha256s) = 0;
};

// Grants as Redis keys DownloadGrantKey (common/download_grant_key.h) with a
// TTL, read by the download service. Each CheckForUpdates that offers an artifact
// renews its grant, so a download resumed after a reboot (which checks for
// updates first) keeps its access; memory is one small key per device and
// offered artifact for `ttl`.
class RedisDownloadGrantWriter : public DownloadGrantWriter {
 public:
  struct Options {
    RedisClient* redis = nullptr;
    std::string key_prefix = "updraft:";
    absl::Duration ttl = absl::Hours(6);
  };

  static absl::StatusOr<std::unique_ptr<RedisDownloadGrantWriter>> Create(Options options);

  absl::Status Grant(const std::string& device_id,
                     const std::vector<std::string>& sha256s) override;

 private:
  explicit RedisDownloadGrantWriter(Options options) : options_(std::move(options)) {}
  const Options options_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_DOWNLOAD_GRANT_WRITER_H_
