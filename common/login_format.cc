#include "common/login_format.h"

#include "absl/strings/str_cat.h"
#include "common/crypto.h"

namespace updraft {

std::string LoginMessage(absl::string_view device_id, absl::string_view nonce) {
  return absl::StrCat(absl::string_view("updraft-login-v1\0", 17), device_id,
                      absl::string_view("\0", 1), nonce);
}

std::string KeyIdFor(absl::string_view raw_public_key) {
  return Sha256Hex(raw_public_key).substr(0, 16);
}

}  // namespace updraft
