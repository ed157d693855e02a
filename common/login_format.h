#ifndef UPDRAFT_COMMON_LOGIN_FORMAT_H_
#define UPDRAFT_COMMON_LOGIN_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace updraft {

// The small wire formats auth and the device SDK both need, apart from the
// token machinery (common/token.h), so the SDK links neither the token
// verifier nor its metrics library.

// The bytes a device signs to log in: "updraft-login-v1\0" device_id "\0"
// nonce. Shared by auth (verifies) and the device SDK (signs).
std::string LoginMessage(absl::string_view device_id, absl::string_view nonce);

// Key ID of an Ed25519 public key: the first 16 hex digits of its SHA-256.
std::string KeyIdFor(absl::string_view raw_public_key);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_LOGIN_FORMAT_H_
