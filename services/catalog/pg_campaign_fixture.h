#ifndef UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_FIXTURE_H_
#define UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_FIXTURE_H_

#include <memory>

#include "common/pg_test.h"
#include "gtest/gtest.h"
#include "services/catalog/pg_campaign_store.h"
#include "updraft/v1/campaign.pb.h"

namespace updraft::catalog {

// Test fixture of the PostgreSQL campaign adapters' integration tests: a
// fresh database (UPDRAFT_TEST_PG_URI) with the catalog migrations, package
// pkg_1 with DRAFT release rel_1, and campaign cmp_1 of it (RUNNING, one
// wave of 100%) created at kNow with its CREATED event (event 1).
class PgCampaignFixture : public PgTest {
 protected:
  static inline const absl::Time kNow = absl::FromUnixSeconds(1800000000);

  void SetUp() override;

  std::unique_ptr<PgCampaignStore> store_;
  v1::Campaign campaign_;
  v1::CampaignEvent created_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_CAMPAIGN_FIXTURE_H_
