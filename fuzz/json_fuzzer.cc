// Fuzzes common/json.h (JsonEscape, JsonObject), which puts device- and
// operator-supplied strings (attributes, settings, log fields) into JSON.
//
// Invariants, checked with an independent decoder of JSON string contents:
//  - the escaped text is valid JSON string content for any input bytes: no
//    raw control character, no unescaped quote or backslash, valid UTF-8;
//  - for valid UTF-8 input, decoding gives the input back;
//  - otherwise every invalid byte became U+FFFD and the rest is kept;
//  - JsonObject of a map decodes back to the map (valid UTF-8 keys/values).
#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/utf8_reference.h"

namespace updraft {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | cp >> 6));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | cp >> 12));
    out->push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes JSON string contents starting at `*pos` up to the closing quote
// (consumed) or the end when `quoted` is false; nullopt when malformed.
std::optional<std::string> DecodeString(absl::string_view s, size_t* pos, bool quoted) {
  std::string out;
  while (*pos < s.size()) {
    const unsigned char c = s[*pos];
    if (c == '"') {
      if (!quoted) return std::nullopt;
      ++*pos;
      return out;
    }
    if (c < 0x20) return std::nullopt;
    ++*pos;
    if (c != '\\') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (*pos >= s.size()) return std::nullopt;
    const char e = s[(*pos)++];
    switch (e) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        if (*pos + 4 > s.size()) return std::nullopt;
        uint32_t cp = 0;
        for (int k = 0; k < 4; ++k) {
          const char h = s[(*pos)++];
          int v = h >= '0' && h <= '9'   ? h - '0'
                  : h >= 'a' && h <= 'f' ? h - 'a' + 10
                  : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                         : -1;
          if (v < 0) return std::nullopt;
          cp = cp << 4 | v;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) return std::nullopt;  // JsonEscape never pairs
        AppendUtf8(cp, &out);
        break;
      }
      default:
        return std::nullopt;
    }
  }
  if (quoted) return std::nullopt;
  return out;
}

// The input with every byte that does not start a valid UTF-8 sequence
// replaced by U+FFFD, as the contract says.
std::string Replaced(absl::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = 0;
    for (size_t len = 1; len <= 4 && i + len <= s.size(); ++len) {
      if (fuzz::ReferenceUtf8(s.substr(i, len))) {
        n = len;
        break;
      }
    }
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

void CheckEscape(absl::string_view s) {
  const std::string escaped = JsonEscape(s);
  UPDRAFT_FUZZ_CHECK(fuzz::ReferenceUtf8(escaped));
  size_t pos = 0;
  std::optional<std::string> decoded = DecodeString(escaped, &pos, /*quoted=*/false);
  UPDRAFT_FUZZ_CHECK_MSG(decoded.has_value(), "JsonEscape output is not JSON string content");
  UPDRAFT_FUZZ_CHECK(*decoded == Replaced(s));
  if (fuzz::ReferenceUtf8(s)) UPDRAFT_FUZZ_CHECK(*decoded == s);
}

void CheckObject(fuzz::FuzzInput& in) {
  std::map<std::string, std::string> fields;
  while (!in.empty()) {
    std::string key(in.LengthPrefixed());
    std::string value(in.LengthPrefixed());
    if (fuzz::ReferenceUtf8(key) && fuzz::ReferenceUtf8(value)) fields[key] = value;
  }
  const std::string json = JsonObject(fields);
  std::map<std::string, std::string> back;
  size_t pos = 0;
  UPDRAFT_FUZZ_CHECK(json.size() >= 2 && json[pos++] == '{');
  while (json[pos] != '}') {
    if (!back.empty()) UPDRAFT_FUZZ_CHECK(json[pos++] == ',');
    UPDRAFT_FUZZ_CHECK(json[pos++] == '"');
    std::optional<std::string> key = DecodeString(json, &pos, true);
    UPDRAFT_FUZZ_CHECK(key.has_value() && pos < json.size() && json[pos++] == ':');
    UPDRAFT_FUZZ_CHECK(pos < json.size() && json[pos++] == '"');
    std::optional<std::string> value = DecodeString(json, &pos, true);
    UPDRAFT_FUZZ_CHECK(value.has_value() && pos < json.size());
    back[*key] = *value;
  }
  UPDRAFT_FUZZ_CHECK(pos + 1 == json.size());
  UPDRAFT_FUZZ_CHECK(back == fields);
}

}  // namespace
}  // namespace updraft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  updraft::CheckEscape(absl::string_view(reinterpret_cast<const char*>(data), size));
  updraft::fuzz::FuzzInput in(data, size);
  updraft::CheckObject(in);
  return 0;
}
