#include "common/semver.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace updraft {
namespace {

bool IsNumeric(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsIdentifier(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-') return false;
  }
  return true;
}

bool ParseCore(absl::string_view s, uint64_t* out) {
  if (!IsNumeric(s) || (s.size() > 1 && s[0] == '0')) return false;
  return absl::SimpleAtoi(s, out);
}

}  // namespace

absl::StatusOr<SemVer> SemVer::Parse(absl::string_view text) {
  auto error = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "version '", absl::CHexEscape(text.substr(0, 64)), "' is not a semantic version (", why,
        "); expected MAJOR.MINOR.PATCH, e.g. 2.1.0"));
  };
  if (text.empty() || text.size() > 128) return error("empty or longer than 128 characters");
  absl::string_view rest = text;
  absl::string_view build;
  if (size_t plus = rest.find('+'); plus != absl::string_view::npos) {
    build = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
    for (absl::string_view id : absl::StrSplit(build, '.')) {
      if (!IsIdentifier(id)) return error("bad build metadata");
    }
  }
  absl::string_view pre;
  bool has_pre = false;
  if (size_t dash = rest.find('-'); dash != absl::string_view::npos) {
    pre = rest.substr(dash + 1);
    rest = rest.substr(0, dash);
    has_pre = true;
  }
  std::vector<absl::string_view> core = absl::StrSplit(rest, '.');
  SemVer v;
  if (core.size() != 3 || !ParseCore(core[0], &v.major_) || !ParseCore(core[1], &v.minor_) ||
      !ParseCore(core[2], &v.patch_)) {
    return error("needs three numbers without leading zeros");
  }
  if (has_pre) {
    for (absl::string_view id : absl::StrSplit(pre, '.')) {
      if (!IsIdentifier(id)) return error("bad pre-release");
      if (IsNumeric(id) && id.size() > 1 && id[0] == '0') return error("bad pre-release");
      v.pre_.emplace_back(id);
    }
  }
  v.text_ = std::string(text);
  return v;
}

int SemVer::Compare(const SemVer& o) const {
  if (major_ != o.major_) return major_ < o.major_ ? -1 : 1;
  if (minor_ != o.minor_) return minor_ < o.minor_ ? -1 : 1;
  if (patch_ != o.patch_) return patch_ < o.patch_ ? -1 : 1;
  if (pre_.empty() || o.pre_.empty()) {
    if (pre_.empty() == o.pre_.empty()) return 0;
    return pre_.empty() ? 1 : -1;  // A release ranks above its pre-releases.
  }
  for (size_t i = 0; i < pre_.size() && i < o.pre_.size(); ++i) {
    const std::string& a = pre_[i];
    const std::string& b = o.pre_[i];
    bool an = IsNumeric(a), bn = IsNumeric(b);
    if (an && bn) {
      if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
      if (a != b) return a < b ? -1 : 1;
    } else if (an != bn) {
      return an ? -1 : 1;  // Numeric identifiers rank lower.
    } else if (a != b) {
      return a < b ? -1 : 1;
    }
  }
  if (pre_.size() == o.pre_.size()) return 0;
  return pre_.size() < o.pre_.size() ? -1 : 1;
}

}  // namespace updraft
