#include "services/catalog/validation.h"

#include <cstdint>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "services/catalog/update_decider.h"

namespace updraft::catalog {
namespace {

// Validates one component with field names relative to it ("dc_id"); the
// caller names the component only when it fails (InComponent), so that a
// check of a 50-component inventory builds no strings.
absl::Status ValidateComponent(const v1::InventoryComponent& c) {
  if (!c.dc_id().empty()) {
    UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("dc_id", c.dc_id(), kMaxIdLength));
  }
  if (!c.release_id().empty()) {
    UPDRAFT_RETURN_IF_ERROR(ValidateIdentifier("release_id", c.release_id(), kMaxIdLength));
  }
  UPDRAFT_RETURN_IF_ERROR(ValidateText("author", c.author(), kMaxAuthorLength, false));
  UPDRAFT_RETURN_IF_ERROR(ValidateText("name", c.name(), kMaxNameLength, false));
  UPDRAFT_RETURN_IF_ERROR(ValidateText("version", c.version(), kMaxVersionLength, false));
  if (!v1::ComponentState_IsValid(c.state())) {
    return absl::InvalidArgumentError(
        absl::StrCat("state ", static_cast<int>(c.state()), " is not a ComponentState"));
  }
  return absl::OkStatus();
}

// `s` about component `index` of `field`, its message prefixed with
// "field[index].".
absl::Status InComponent(absl::string_view field, int index, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(field, "[", index, "].", s.message()));
}

absl::Status CheckCount(absl::string_view field, int size) {
  if (static_cast<size_t>(size) > kMaxInventoryComponents) {
    return absl::InvalidArgumentError(absl::StrCat(field, " has ", size, " components; at most ",
                                                   kMaxInventoryComponents, " are allowed"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong encodings, surrogates and code points past U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

absl::Status ValidateText(absl::string_view field, absl::string_view value, size_t max_bytes,
                          bool required) {
  if (value.empty()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
    return absl::OkStatus();
  }
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", value.size(), " bytes long; at most ", max_bytes, " allowed"));
  }
  if (value.find('\0') != absl::string_view::npos || !IsValidUtf8(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be UTF-8 text without NUL characters"));
  }
  return absl::OkStatus();
}

absl::Status ValidateIdentifier(absl::string_view field, absl::string_view value, size_t max_len) {
  if (value.empty() || value.size() > max_len) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be 1 to ", max_len, " characters long"));
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " may contain only letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDistinctTexts(absl::string_view field,
                                   const google::protobuf::RepeatedPtrField<std::string>& items,
                                   size_t max_count, size_t max_length) {
  if (static_cast<size_t>(items.size()) > max_count) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " has ", items.size(), " entries; at most ", max_count));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < items.size(); ++i) {
    UPDRAFT_RETURN_IF_ERROR(
        ValidateText(absl::StrCat(field, "[", i, "]"), items[i], max_length, true));
    if (!seen.insert(items[i]).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, " lists \"", items[i], "\" twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseOsBound(absl::string_view field, const std::string& text,
                          std::optional<SemVer>* out) {
  if (text.empty()) return absl::OkStatus();
  UPDRAFT_RETURN_IF_ERROR(ValidateText(field, text, kMaxVersionLength, true));
  auto v = ParseOsVersion(text);
  if (!v.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", text, "\" is not an OS version (e.g. 13, 13.1 or 13.1.2)"));
  }
  *out = *std::move(v);
  return absl::OkStatus();
}

absl::Status ValidateInventory(
    absl::string_view field, const google::protobuf::RepeatedPtrField<v1::InventoryComponent>& c) {
  UPDRAFT_RETURN_IF_ERROR(CheckCount(field, c.size()));
  for (int i = 0; i < c.size(); ++i) {
    UPDRAFT_RETURN_IF_ERROR(InComponent(field, i, ValidateComponent(c[i])));
    if (c[i].location() != v1::DELIVERED && c[i].location() != v1::DEPLOYED) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "].location must be DELIVERED or DEPLOYED"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDeployed(absl::string_view field,
                              const google::protobuf::RepeatedPtrField<v1::InventoryComponent>& c) {
  UPDRAFT_RETURN_IF_ERROR(CheckCount(field, c.size()));
  std::set<std::pair<std::string, std::string>> seen;
  for (int i = 0; i < c.size(); ++i) {
    UPDRAFT_RETURN_IF_ERROR(InComponent(field, i, ValidateComponent(c[i])));
    absl::Status problem;
    if (c[i].location() != v1::DEPLOYED && c[i].location() != v1::COMPONENT_LOCATION_UNSPECIFIED) {
      problem = absl::InvalidArgumentError("location must be DEPLOYED");
    } else if (c[i].name().empty()) {
      problem = absl::InvalidArgumentError("name is required");
    } else if (c[i].version().empty()) {
      problem = absl::InvalidArgumentError("version is required");
    }
    UPDRAFT_RETURN_IF_ERROR(InComponent(field, i, problem));
    if (!seen.insert({c[i].author(), c[i].name()}).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "[", i, "] repeats author '", c[i].author(), "' and name '", c[i].name(), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateGroupName(absl::string_view field, absl::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxGroupNameLength &&
            (absl::ascii_islower(name[0]) || absl::ascii_isdigit(name[0]));
  for (char c : name) {
    ok = ok &&
         (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", absl::CHexEscape(name.substr(0, kMaxGroupNameLength)),
        "\" must be 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or"
        " digit"));
  }
  return absl::OkStatus();
}

absl::Status ValidateDeviceIdSyntax(absl::string_view field, absl::string_view device_id) {
  bool ok = !device_id.empty() && device_id.size() <= kMaxDeviceIdLength;
  for (char c : device_id) {
    ok = ok && (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", absl::CHexEscape(device_id.substr(0, kMaxDeviceIdLength)),
                     "\" must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSettingKey(absl::string_view field, absl::string_view key) {
  bool ok = !key.empty() && key.size() <= kMaxSettingKeyLength;
  for (char c : key) ok = ok && (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-');
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", absl::CHexEscape(key.substr(0, kMaxSettingKeyLength)),
                     "\" must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateGroupSettings(
    absl::string_view field, const google::protobuf::RepeatedPtrField<v1::GroupSettings>& groups) {
  if (static_cast<size_t>(groups.size()) > kMaxGroupSettings) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " has ", groups.size(), " groups; at most ", kMaxGroupSettings));
  }
  std::set<std::string> seen;
  for (int i = 0; i < groups.size(); ++i) {
    const v1::GroupSettings& g = groups[i];
    const std::string f = absl::StrCat(field, "[", i, "]");
    UPDRAFT_RETURN_IF_ERROR(ValidateGroupName(absl::StrCat(f, ".group"), g.group()));
    if (!seen.insert(g.group()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ".group \"", g.group(), "\" is listed twice"));
    }
    if (g.settings().empty() || static_cast<size_t>(g.settings().size()) > kMaxSettingsPerGroup) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".settings has ", g.settings().size(),
                                                     " entries; 1 to ", kMaxSettingsPerGroup,
                                                     " are allowed"));
    }
    for (const auto& [key, value] : g.settings()) {
      UPDRAFT_RETURN_IF_ERROR(ValidateSettingKey(absl::StrCat(f, ".settings key"), key));
      const std::string vf = absl::StrCat(f, ".settings[", key, "]");
      UPDRAFT_RETURN_IF_ERROR(ValidateText(vf, value, kMaxSettingValueLength, false));
      if (value.find_first_of("\r\n") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(vf, " must not contain line breaks"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace updraft::catalog
