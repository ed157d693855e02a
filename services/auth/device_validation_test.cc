#include "services/auth/device_validation.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(DeviceValidationTest, DeviceIds) {
  EXPECT_TRUE(ValidateDeviceId("A-z.0_9:x").ok());
  EXPECT_TRUE(ValidateDeviceId(std::string(128, 'a')).ok());
  for (const std::string& id : {std::string(""), std::string(129, 'a'), std::string("dev 1"),
                                std::string("dév"), std::string("a\0b", 3)}) {
    EXPECT_EQ(ValidateDeviceId(id).code(), absl::StatusCode::kInvalidArgument) << id;
  }
}

TEST(DeviceValidationTest, Attributes) {
  EXPECT_TRUE(ValidateAttributes({{"model", "Ünïcode ✓"}, {"empty", ""}}).ok());
  std::map<std::string, std::string> too_many;
  for (int i = 0; i < 65; ++i) too_many["k" + std::to_string(i)] = "v";
  for (const auto& attrs :
       std::vector<std::map<std::string, std::string>>{too_many,
                                                       {{"", "v"}},
                                                       {{"bad key", "v"}},
                                                       {{std::string(65, 'k'), "v"}},
                                                       {{"k", std::string(1025, 'v')}},
                                                       {{"k", std::string("a\0b", 3)}},
                                                       {{"k", "\xc3"}},
                                                       {{"k", "\xed\xa0\x80"}},
                                                       {{"k", "\xc0\xaf"}}}) {
    absl::Status s = ValidateAttributes(attrs);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("attributes"), absl::string_view::npos);
  }
}

}  // namespace
}  // namespace updraft
