// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
#include "services/catalog/pg_group_store.h"

#include "common/migrations.h"
#include "common/pg_test.h"
#include "common/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_migrations.h"

namespace updraft::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

class PgGroupStoreTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(ApplyMigrations(*pool_, "catalog", CatalogMigrations()).ok());
    store_ = std::make_unique<PgGroupStore>(pool_.get());
  }

  std::unique_ptr<PgGroupStore> store_;
};

TEST_F(PgGroupStoreTest, AddListRemoveAndGroupsOf) {
  EXPECT_EQ(*store_->AddMembers("beta", {"dev-b", "dev-a", "dev-\"q\\"}, kNow), 3);
  EXPECT_EQ(*store_->AddMembers("beta", {"dev-a", "dev-c"}, kNow), 1);
  EXPECT_EQ(*store_->AddMembers("night", {"dev-a"}, kNow), 1);
  // Byte order, as the C++ side sorts.
  EXPECT_THAT(*store_->ListMembers("beta", "", 100),
              ElementsAre("dev-\"q\\", "dev-a", "dev-b", "dev-c"));
  EXPECT_THAT(*store_->ListMembers("beta", "dev-a", 1), ElementsAre("dev-b"));
  EXPECT_THAT(*store_->ListMembers("beta", "dev-c", 10), IsEmpty());
  EXPECT_THAT(*store_->ListMembers("unknown", "", 10), IsEmpty());
  EXPECT_THAT(*store_->GroupsOf("dev-a"), ElementsAre("beta", "night"));
  EXPECT_THAT(*store_->GroupsOf("dev-zzz"), IsEmpty());
  EXPECT_EQ(*store_->RemoveMembers("beta", {"dev-a", "dev-x"}), 1);
  EXPECT_THAT(*store_->GroupsOf("dev-a"), ElementsAre("night"));
  EXPECT_EQ(*store_->RemoveMembers("beta", {"dev-a"}), 0);
}

TEST_F(PgGroupStoreTest, PagesThroughALargeGroup) {
  std::vector<std::string> ids;
  for (int i = 0; i < 2500; ++i) ids.push_back(absl::StrCat("d", 10000 + i));
  ASSERT_EQ(*store_->AddMembers("fleet", ids, kNow), 2500);
  std::string after;
  size_t seen = 0;
  for (;;) {
    auto page = store_->ListMembers("fleet", after, 1000);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& id : *page) EXPECT_EQ(id, ids[seen++]);
    if (page->size() < 1000) break;
    after = page->back();
  }
  EXPECT_EQ(seen, ids.size());
}

}  // namespace
}  // namespace updraft::catalog
