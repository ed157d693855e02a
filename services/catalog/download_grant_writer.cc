#include "services/catalog/download_grant_writer.h"

#include "absl/strings/str_cat.h"
#include "common/download_grant_key.h"

namespace updraft::catalog {

absl::StatusOr<std::unique_ptr<RedisDownloadGrantWriter>> RedisDownloadGrantWriter::Create(
    Options options) {
  if (options.redis == nullptr) return absl::InvalidArgumentError("Options.redis must be set");
  if (options.ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("download grant TTL must be at least 1 s");
  }
  return std::unique_ptr<RedisDownloadGrantWriter>(new RedisDownloadGrantWriter(options));
}

absl::Status RedisDownloadGrantWriter::Grant(const std::string& device_id,
                                             const std::vector<std::string>& sha256s) {
  for (const std::string& sha : sha256s) {
    absl::Status s = options_.redis->SetWithTtl(
        DownloadGrantKey(options_.key_prefix, device_id, sha), "1", options_.ttl);
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat("cannot record download grants: ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace updraft::catalog
