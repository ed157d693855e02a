#include "services/catalog/pending_operation_index.h"

#include "gtest/gtest.h"

namespace updraft::catalog {
namespace {

TEST(PendingOperationIndexTest, MarkedDevicesAreReadUntilAReadFindsNothing) {
  PendingOperationIndex index;
  EXPECT_EQ(index.MarkOf("d1"), 0u);
  index.Mark("d1");
  const uint64_t seen = index.MarkOf("d1");
  EXPECT_NE(seen, 0u);
  index.ClearIfUnchanged("d1", seen);
  EXPECT_EQ(index.MarkOf("d1"), 0u);
  EXPECT_EQ(index.size(), 0u);
}

TEST(PendingOperationIndexTest, AMarkDuringTheReadSurvivesTheClear) {
  PendingOperationIndex index;
  index.Mark("d1");
  const uint64_t seen = index.MarkOf("d1");
  index.Mark("d1");  // queued on another replica while we were reading
  index.ClearIfUnchanged("d1", seen);
  EXPECT_NE(index.MarkOf("d1"), 0u);
}

TEST(PendingOperationIndexTest, ResetReplacesEverything) {
  PendingOperationIndex index;
  index.Mark("old");
  index.Reset({"a", "b"});
  EXPECT_EQ(index.MarkOf("old"), 0u);
  EXPECT_NE(index.MarkOf("a"), 0u);
  EXPECT_NE(index.MarkOf("b"), index.MarkOf("a"));
  EXPECT_EQ(index.size(), 2u);
  index.ClearIfUnchanged("a", 12345);  // a stale token changes nothing
  EXPECT_NE(index.MarkOf("a"), 0u);
}

}  // namespace
}  // namespace updraft::catalog
