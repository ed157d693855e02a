#ifndef UPDRAFT_SDK_DEVICE_KEY_STORE_H_
#define UPDRAFT_SDK_DEVICE_KEY_STORE_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/crypto.h"

namespace updraft::device {

// Where the device keeps its identity: the Ed25519 key pair whose public half
// the carrier registers with auth. A handset would back this with its secure
// element or keystore; FileKeyStore keeps it in a file.
class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // The stored key; NOT_FOUND when the device has none yet.
  virtual absl::StatusOr<Ed25519KeyPair> Load() = 0;

  // Creates and stores a new key. ALREADY_EXISTS when one is stored: a
  // device's identity is never silently replaced.
  virtual absl::StatusOr<Ed25519KeyPair> Generate() = 0;

  // Load(), or Generate() when there is no key yet.
  absl::StatusOr<Ed25519KeyPair> LoadOrGenerate() {
    absl::StatusOr<Ed25519KeyPair> key = Load();
    if (absl::IsNotFound(key.status())) return Generate();
    return key;
  }
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_KEY_STORE_H_
