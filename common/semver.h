#ifndef UPDRAFT_COMMON_SEMVER_H_
#define UPDRAFT_COMMON_SEMVER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace updraft {

// A semantic version (semver.org 2.0): MAJOR.MINOR.PATCH, an optional
// pre-release after '-', optional build metadata after '+' (ignored when
// ordering). Releases are ordered with it, so a downgrade is never offered.
class SemVer {
 public:
  static absl::StatusOr<SemVer> Parse(absl::string_view text);

  // <0, 0, >0 like strcmp, by semver precedence.
  int Compare(const SemVer& other) const;
  bool operator<(const SemVer& o) const { return Compare(o) < 0; }
  bool operator>(const SemVer& o) const { return Compare(o) > 0; }
  bool operator==(const SemVer& o) const { return Compare(o) == 0; }

  uint64_t major() const { return major_; }
  uint64_t minor() const { return minor_; }
  uint64_t patch() const { return patch_; }
  const std::string& text() const { return text_; }

 private:
  uint64_t major_ = 0, minor_ = 0, patch_ = 0;
  std::vector<std::string> pre_;
  std::string text_;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_SEMVER_H_
