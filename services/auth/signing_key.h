#ifndef UPDRAFT_SERVICES_AUTH_SIGNING_KEY_H_
#define UPDRAFT_SERVICES_AUTH_SIGNING_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/crypto.h"
#include "common/logger.h"

namespace updraft {

// Loads the token signing key (raw Ed25519 private key, base64url text as
// written by WriteKeyFile) from `path`. When the file does not exist, a new
// key is generated, written there with mode 0600, and a warning is logged:
// tokens issued before a restart stay valid only if the key survives it.
// INVALID_ARGUMENT for an empty path or a file that does not hold a key.
absl::StatusOr<Ed25519KeyPair> LoadOrCreateSigningKey(const std::string& path, Logger* logger);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_SIGNING_KEY_H_
