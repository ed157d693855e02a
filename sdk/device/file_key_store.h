#ifndef UPDRAFT_SDK_DEVICE_FILE_KEY_STORE_H_
#define UPDRAFT_SDK_DEVICE_FILE_KEY_STORE_H_

#include <string>

#include "sdk/device/key_store.h"

namespace updraft::device {

// A KeyStore over one file holding the raw 32-byte Ed25519 private key as
// base64url text, mode 0600 (common/crypto.h ReadKeyFile/WriteKeyFile). Used
// by the device simulator; LoadOrGenerate() creates the file on first use.
class FileKeyStore : public KeyStore {
 public:
  explicit FileKeyStore(std::string path) : path_(std::move(path)) {}

  absl::StatusOr<Ed25519KeyPair> Load() override;
  absl::StatusOr<Ed25519KeyPair> Generate() override;

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
};

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_FILE_KEY_STORE_H_
