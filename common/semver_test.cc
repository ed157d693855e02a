#include "common/semver.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

SemVer V(const char* s) {
  auto v = SemVer::Parse(s);
  EXPECT_TRUE(v.ok()) << s << ": " << v.status();
  return *v;
}

TEST(SemVerTest, OrdersBySpecPrecedence) {
  const char* ordered[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                           "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                           "1.0.0-rc.1",  "1.0.0",         "1.2.0",
                           "1.10.0",      "2.0.0"};
  for (size_t i = 0; i + 1 < sizeof(ordered) / sizeof(*ordered); ++i) {
    EXPECT_LT(V(ordered[i]), V(ordered[i + 1])) << ordered[i] << " < " << ordered[i + 1];
    EXPECT_GT(V(ordered[i + 1]), V(ordered[i]));
  }
}

TEST(SemVerTest, BuildMetadataIgnoredInOrder) { EXPECT_EQ(V("1.0.0+a"), V("1.0.0+b")); }

TEST(SemVerTest, RejectsBadVersionsWithClearMessage) {
  for (const char* s : {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.2.x", "1.2.3-", "1.2.3-a..b",
                        "1.2.3+", "v1.2.3", "1.2.3-01", "99999999999999999999.0.0"}) {
    auto v = SemVer::Parse(s);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << s;
  }
  EXPECT_NE(SemVer::Parse("1.2").status().message().find("expected MAJOR.MINOR.PATCH"),
            absl::string_view::npos);
}

TEST(SemVerTest, NoCrashOnAnyBytes) {
  std::string s;
  for (int i = 0; i < 256; ++i) {
    s.push_back(static_cast<char>(i));
    (void)SemVer::Parse(s);
    (void)SemVer::Parse(std::string(1, static_cast<char>(i)));
  }
}

}  // namespace
}  // namespace updraft
