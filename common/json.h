#ifndef UPDRAFT_COMMON_JSON_H_
#define UPDRAFT_COMMON_JSON_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace updraft {

// Escapes a string for the inside of a JSON string literal. Valid UTF-8
// passes through; control characters are escaped; an invalid byte becomes
// U+FFFD, so the output is always valid JSON whatever the input bytes.
std::string JsonEscape(absl::string_view s);

// A JSON object of string values, keys in order: {"a":"1","b":"2"}. Used for
// the jsonb columns that hold attributes and settings.
std::string JsonObject(const std::map<std::string, std::string>& fields);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_JSON_H_
