#include "common/download_grant_key.h"

#include "absl/strings/str_cat.h"

namespace updraft {

std::string DownloadGrantKey(absl::string_view prefix, absl::string_view device_id,
                             absl::string_view sha256_hex) {
  return absl::StrCat(prefix, "download-grant:", device_id, ":", sha256_hex);
}

}  // namespace updraft
