#include "common/login_format.h"

#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(LoginFormatTest, LoginMessageSeparatesItsFields) {
  EXPECT_EQ(LoginMessage("dev", "nonce"), std::string("updraft-login-v1\0dev\0nonce", 26));
  // A device ID cannot borrow bytes from the nonce.
  EXPECT_NE(LoginMessage("ab", "c"), LoginMessage("a", "bc"));
}

TEST(LoginFormatTest, KeyIdIsTheSha256Prefix) {
  // SHA-256("abc") = ba7816bf8f01cfea...
  EXPECT_EQ(KeyIdFor("abc"), "ba7816bf8f01cfea");
}

}  // namespace
}  // namespace updraft
