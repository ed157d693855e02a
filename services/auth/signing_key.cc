#include "services/auth/signing_key.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/token.h"

namespace updraft {

absl::StatusOr<Ed25519KeyPair> LoadOrCreateSigningKey(const std::string& path, Logger* logger) {
  if (path.empty()) return absl::InvalidArgumentError("signing_key_file is required");
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot access signing key file ", path, ": ", strerror(errno)));
    }
    auto key = Ed25519KeyPair::Generate();
    if (!key.ok()) return key.status();
    absl::Status written = WriteKeyFile(path, key->private_key());
    if (!written.ok()) return written;
    logger->Warning("signing key file did not exist; generated a new token signing key",
                    {{"path", path}, {"key_id", KeyIdFor(key->public_key())}});
    return key;
  }
  auto raw = ReadKeyFile(path);
  if (!raw.ok()) return raw.status();
  auto key = Ed25519KeyPair::FromPrivateKey(*raw);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signing key file ", path,
                     " does not hold a raw Ed25519 private key: ", key.status().message()));
  }
  return key;
}

}  // namespace updraft
