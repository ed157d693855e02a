#include "sdk/device/result_code.h"

#include "gtest/gtest.h"

namespace updraft::device {
namespace {

TEST(ResultCodeTest, RoundTripsThroughStatus) {
  absl::Status s = WithResultCode(absl::DataLossError("bad chunk"), v1::PACKAGE_VALIDATION_FAILED);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "bad chunk");
  EXPECT_EQ(ResultCodeOf(s, v1::UNDEFINED_ERROR), v1::PACKAGE_VALIDATION_FAILED);
}

TEST(ResultCodeTest, FallbackWithoutPayload) {
  EXPECT_EQ(ResultCodeOf(absl::InternalError("x"), v1::INSTALL_FAILED), v1::INSTALL_FAILED);
}

TEST(ResultCodeTest, GarbagePayloadGivesFallback) {
  absl::Status s = absl::InternalError("x");
  s.SetPayload(kResultCodePayloadUrl, absl::Cord("not a number"));
  EXPECT_EQ(ResultCodeOf(s, v1::INSTALL_FAILED), v1::INSTALL_FAILED);
  s.SetPayload(kResultCodePayloadUrl, absl::Cord("77"));
  EXPECT_EQ(ResultCodeOf(s, v1::INSTALL_FAILED), v1::INSTALL_FAILED);
}

TEST(ResultCodeTest, OkStaysOk) { EXPECT_TRUE(WithResultCode(absl::OkStatus(), v1::SUCCESS).ok()); }

TEST(ResultCodeTest, Texts) {
  EXPECT_EQ(ResultCodeText(v1::SUCCESS), "success");
  EXPECT_EQ(ResultCodeText(v1::USER_CANCELLED), "user cancelled");
  EXPECT_EQ(ResultCodeText(v1::DOWNLOAD_SERVER_UNAVAILABLE), "download server unavailable");
}

}  // namespace
}  // namespace updraft::device
