#ifndef UPDRAFT_SERVICES_AUTH_DEVICE_VALIDATION_H_
#define UPDRAFT_SERVICES_AUTH_DEVICE_VALIDATION_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace updraft {

// Limits on device fields, checked at the boundary.
inline constexpr size_t kMaxDeviceIdLength = 128;
inline constexpr size_t kMaxAttributes = 64;
inline constexpr size_t kMaxAttributeKeyLength = 64;
inline constexpr size_t kMaxAttributeValueLength = 1024;

// True for the characters of IDs and names: [A-Za-z0-9._:-].
bool IsIdChar(char c);

// OK when `device_id` is 1..128 characters of [A-Za-z0-9._:-];
// INVALID_ARGUMENT naming the field otherwise.
absl::Status ValidateDeviceId(absl::string_view device_id);

// OK for at most 64 attributes with keys of 1..64 [A-Za-z0-9._:-] and values
// of at most 1024 bytes of UTF-8 without NUL; INVALID_ARGUMENT naming the
// attribute otherwise.
absl::Status ValidateAttributes(const std::map<std::string, std::string>& attributes);

// True for well-formed UTF-8 without overlong forms, surrogates or code
// points past U+10FFFF.
bool IsValidUtf8(absl::string_view s);

}  // namespace updraft

#endif  // UPDRAFT_SERVICES_AUTH_DEVICE_VALIDATION_H_
