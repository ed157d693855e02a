// Fuzzes common/semver.h: release versions come from publishers, offers and
// device inventories; their order decides what is offered (never a
// downgrade).
//
// The input is split at the first two newlines into up to three versions.
// Invariants:
//  - refusals are INVALID_ARGUMENT; accepted text is at most 128 bytes and
//    text() is the input;
//  - parse(text()) compares equal; Compare is reflexive, antisymmetric and
//    transitive over the parsed versions, and <, >, == agree with it;
//  - build metadata does not change the order.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/semver.h"
#include "fuzz/fuzz_util.h"

namespace updraft {
namespace {

int Sign(int v) { return v < 0 ? -1 : v > 0 ? 1 : 0; }

}  // namespace
}  // namespace updraft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using updraft::SemVer;
  using updraft::Sign;
  updraft::fuzz::FuzzInput in(data, size);
  std::vector<SemVer> versions;
  for (int i = 0; i < 3 && !in.empty(); ++i) {
    absl::string_view text = in.UpTo('\n');
    absl::StatusOr<SemVer> v = SemVer::Parse(text);
    if (!v.ok()) {
      UPDRAFT_FUZZ_CHECK(absl::IsInvalidArgument(v.status()));
      continue;
    }
    UPDRAFT_FUZZ_CHECK(v->text() == text && text.size() <= 128);
    absl::StatusOr<SemVer> again = SemVer::Parse(v->text());
    UPDRAFT_FUZZ_CHECK(again.ok() && again->Compare(*v) == 0);
    UPDRAFT_FUZZ_CHECK(v->Compare(*v) == 0 && *v == *v && !(*v < *v));
    if (text.find('+') == absl::string_view::npos && text.size() <= 120) {
      absl::StatusOr<SemVer> with_build = SemVer::Parse(absl::StrCat(text, "+b.7"));
      UPDRAFT_FUZZ_CHECK(with_build.ok() && with_build->Compare(*v) == 0);
    }
    versions.push_back(*std::move(v));
  }
  for (const SemVer& a : versions) {
    for (const SemVer& b : versions) {
      const int ab = Sign(a.Compare(b));
      UPDRAFT_FUZZ_CHECK(ab == -Sign(b.Compare(a)));
      UPDRAFT_FUZZ_CHECK((a < b) == (ab < 0) && (a > b) == (ab > 0) && (a == b) == (ab == 0));
      if (ab == 0) {
        UPDRAFT_FUZZ_CHECK(a.major() == b.major() && a.minor() == b.minor() &&
                           a.patch() == b.patch());
      }
      for (const SemVer& c : versions) {
        if (ab <= 0 && Sign(b.Compare(c)) <= 0) UPDRAFT_FUZZ_CHECK(Sign(a.Compare(c)) <= 0);
      }
    }
  }
  return 0;
}
