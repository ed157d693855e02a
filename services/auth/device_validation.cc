#include "services/auth/device_validation.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace updraft {

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
         c == '-';
}

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

absl::Status ValidateDeviceId(absl::string_view device_id) {
  if (device_id.empty()) return absl::InvalidArgumentError("device_id is required");
  if (device_id.size() > kMaxDeviceIdLength) {
    return absl::InvalidArgumentError(absl::StrCat("device_id is ", device_id.size(),
                                                   " characters long; at most ", kMaxDeviceIdLength,
                                                   " allowed"));
  }
  if (!std::all_of(device_id.begin(), device_id.end(), IsIdChar)) {
    return absl::InvalidArgumentError(absl::StrCat("device_id '", absl::CEscape(device_id),
                                                   "' may contain only [A-Za-z0-9._:-]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateAttributes(const std::map<std::string, std::string>& attributes) {
  if (attributes.size() > kMaxAttributes) {
    return absl::InvalidArgumentError(absl::StrCat("attributes: at most ", kMaxAttributes,
                                                   " entries allowed, got ", attributes.size()));
  }
  for (const auto& [key, value] : attributes) {
    if (key.empty() || key.size() > kMaxAttributeKeyLength ||
        !std::all_of(key.begin(), key.end(), IsIdChar)) {
      return absl::InvalidArgumentError(absl::StrCat("attributes: key '", absl::CEscape(key),
                                                     "' must be 1..", kMaxAttributeKeyLength,
                                                     " characters of [A-Za-z0-9._:-]"));
    }
    if (value.size() > kMaxAttributeValueLength) {
      return absl::InvalidArgumentError(absl::StrCat("attributes[", key, "]: at most ",
                                                     kMaxAttributeValueLength, " bytes allowed"));
    }
    if (!IsValidUtf8(value) || value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("attributes[", key, "]: must be UTF-8 text without NUL characters"));
    }
  }
  return absl::OkStatus();
}

}  // namespace updraft
