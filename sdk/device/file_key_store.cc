#include "sdk/device/file_key_store.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "sdk/device/file_util.h"

namespace updraft::device {

absl::StatusOr<Ed25519KeyPair> FileKeyStore::Load() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no key file at ", path_));
    return ErrnoStatus(errno, absl::StrCat("cannot read key file ", path_));
  }
  absl::StatusOr<std::string> raw = ReadKeyFile(path_);
  if (!raw.ok()) return raw.status();
  if (raw->size() != kEd25519PrivateKeySize) {
    return absl::DataLossError(absl::StrCat("key file ", path_, " holds ", raw->size(),
                                            " bytes; an Ed25519 private key has ",
                                            kEd25519PrivateKeySize));
  }
  return Ed25519KeyPair::FromPrivateKey(*raw);
}

absl::StatusOr<Ed25519KeyPair> FileKeyStore::Generate() {
  if (PathExists(path_)) {
    return absl::AlreadyExistsError(
        absl::StrCat("key file ", path_, " already exists; refusing to replace the device key"));
  }
  absl::StatusOr<Ed25519KeyPair> key = Ed25519KeyPair::Generate();
  if (!key.ok()) return key.status();
  absl::Status written = WriteKeyFile(path_, key->private_key());
  if (!written.ok()) return written;
  return key;
}

}  // namespace updraft::device
