#include "services/catalog/pg_campaign_fixture.h"

#include "common/migrations.h"
#include "services/catalog/catalog_migrations.h"
#include "services/catalog/pg_catalog_store.h"

namespace updraft::catalog {

void PgCampaignFixture::SetUp() {
  PgTest::SetUp();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(ApplyMigrations(*pool_, "catalog", CatalogMigrations()).ok());
  PgCatalogStore catalog(pool_.get());
  v1::Package p;
  p.set_package_id("pkg_1");
  p.set_name("player");
  p.set_author("Acme");
  ASSERT_TRUE(catalog.CreatePackage(p, kNow).ok());
  v1::Release r;
  r.set_release_id("rel_1");
  r.set_package_id("pkg_1");
  r.set_version("1.0.0");
  r.set_state(v1::DRAFT);
  r.mutable_artifact()->set_sha256(std::string(64, 'e'));
  r.mutable_dcinfo()->set_variant(v1::DcInfo::FILES);
  ASSERT_TRUE(catalog.CreateRelease(r, kNow).ok());
  store_ = std::make_unique<PgCampaignStore>(pool_.get());
  campaign_.set_campaign_id("cmp_1");
  campaign_.mutable_spec()->set_name("roll \"out\"");
  campaign_.mutable_spec()->set_release_id("rel_1");
  campaign_.mutable_spec()->add_waves()->set_percent(100);
  campaign_.set_state(v1::CAMPAIGN_RUNNING);
  campaign_.set_software_name("player 1.0.0");
  campaign_.set_created_by("key_1");
  created_.set_campaign_id("cmp_1");
  created_.set_type(v1::CAMPAIGN_EVENT_CREATED);
  ASSERT_TRUE(store_->Create(campaign_, created_, kNow).ok());
}

}  // namespace updraft::catalog
