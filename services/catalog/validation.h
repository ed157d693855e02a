#ifndef UPDRAFT_SERVICES_CATALOG_VALIDATION_H_
#define UPDRAFT_SERVICES_CATALOG_VALIDATION_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/semver.h"
#include "google/protobuf/repeated_field.h"
#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/common.pb.h"

namespace updraft::catalog {

inline constexpr size_t kMaxInventoryComponents = 1000;
inline constexpr size_t kMaxIdLength = 64;
inline constexpr size_t kMaxAuthorLength = 128;
inline constexpr size_t kMaxNameLength = 128;
inline constexpr size_t kMaxVersionLength = 64;
// A device attribute (model, OS version, carrier) or a value matched to one.
inline constexpr size_t kMaxAttributeLength = 128;

// Field checks shared by the catalog's validators. Every function returns
// INVALID_ARGUMENT naming `field` (e.g. "inventory[3].name") or OK.

// Free text: valid UTF-8, no NUL, at most `max_bytes` bytes; empty allowed
// unless `required`.
absl::Status ValidateText(absl::string_view field, absl::string_view value, size_t max_bytes,
                          bool required);

// An identifier: 1..`max_len` characters of [A-Za-z0-9._-].
absl::Status ValidateIdentifier(absl::string_view field, absl::string_view value, size_t max_len);

bool IsValidUtf8(absl::string_view s);

// A list of at most `max_count` distinct texts, each required and at most
// `max_length` bytes (ValidateText), e.g. compatibility models or campaign
// target groups.
absl::Status ValidateDistinctTexts(absl::string_view field,
                                   const google::protobuf::RepeatedPtrField<std::string>& items,
                                   size_t max_count, size_t max_length);

// An optional OS version bound (ParseOsVersion); empty leaves `out` unset.
absl::Status ParseOsBound(absl::string_view field, const std::string& text,
                          std::optional<SemVer>* out);

// A device's inventory as sent with CheckForUpdates: at most 1000
// components, bounded fields, location DELIVERED or DEPLOYED, a known state.
absl::Status ValidateInventory(absl::string_view field,
                               const google::protobuf::RepeatedPtrField<v1::InventoryComponent>& c);

// The Deployed list of a result report: as an inventory, but every component
// is Deployed (location DEPLOYED or unset), has a name and a version, and
// {author, name} is unique.
absl::Status ValidateDeployed(absl::string_view field,
                              const google::protobuf::RepeatedPtrField<v1::InventoryComponent>& c);

inline constexpr size_t kMaxGroupNameLength = 64;
inline constexpr size_t kMaxDeviceIdLength = 128;
inline constexpr size_t kMaxGroupSettings = 32;
inline constexpr size_t kMaxSettingsPerGroup = 64;
inline constexpr size_t kMaxSettingKeyLength = 128;
inline constexpr size_t kMaxSettingValueLength = 4096;

// A device group name: 1..64 characters of [a-z0-9._-], starting with a
// letter or digit (lower case, so "Beta" and "beta" cannot both exist).
absl::Status ValidateGroupName(absl::string_view field, absl::string_view name);

// A device ID as auth registers it: 1..128 characters of [A-Za-z0-9._:-].
absl::Status ValidateDeviceIdSyntax(absl::string_view field, absl::string_view device_id);

// A key of a group settings override: 1..128 characters of [A-Za-z0-9._-].
absl::Status ValidateSettingKey(absl::string_view field, absl::string_view key);

// A release's per-group overrides (CreateReleaseRequest.group_settings): at
// most 32 groups, each named once and validly, each with 1..64 settings of
// valid keys and values of valid UTF-8 without NUL or line breaks, at most
// 4096 bytes.
absl::Status ValidateGroupSettings(
    absl::string_view field, const google::protobuf::RepeatedPtrField<v1::GroupSettings>& groups);

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_VALIDATION_H_
