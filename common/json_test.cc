#include "common/json.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(JsonTest, EscapesControlBytesAndKeepsValidUtf8) {
  EXPECT_EQ(JsonEscape(std::string("a\x01\\", 3)), "a\\u0001\\\\");
  EXPECT_EQ(JsonEscape("Gr\xc3\xbc\xc3\x9f"
                       "e \xe2\x82\xac \xf0\x9f\x93\xb1"),
            "Gr\xc3\xbc\xc3\x9f"
            "e \xe2\x82\xac \xf0\x9f\x93\xb1");
}

TEST(JsonTest, ReplacesInvalidUtf8) {
  // lone continuation, truncated sequence, overlong, surrogate
  EXPECT_EQ(JsonEscape("\x80"), "\\ufffd");
  EXPECT_EQ(JsonEscape("\xe2\x82"), "\\ufffd\\ufffd");
  EXPECT_EQ(JsonEscape("\xc0\xaf"), "\\ufffd\\ufffd");
  EXPECT_EQ(JsonEscape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
  EXPECT_EQ(JsonEscape("\xf8\x88\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");
}

TEST(JsonTest, ObjectOfStrings) {
  EXPECT_EQ(JsonObject({}), "{}");
  EXPECT_EQ(JsonObject({{"b", "2"}, {"a", "q\"uote"}}), "{\"a\":\"q\\\"uote\",\"b\":\"2\"}");
}

}  // namespace
}  // namespace updraft
