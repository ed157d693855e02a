#include "common/status_util.h"

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace updraft {
namespace {

TEST(StatusUtilTest, MapsEveryCodeAndKeepsMessage) {
  for (int code = 0; code <= 16; ++code) {
    absl::Status s(static_cast<absl::StatusCode>(code), code == 0 ? "" : "msg");
    grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), code);
    if (code != 0) EXPECT_EQ(g.error_message(), "msg");
    EXPECT_EQ(FromGrpcStatus(g), s);
  }
}

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  UPDRAFT_ASSIGN_OR_RETURN(int h, Half(x));
  UPDRAFT_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusUtilTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace updraft
