// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
#include "services/catalog/pg_campaign_rows.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/pg_pool.h"
#include "gtest/gtest.h"
#include "services/catalog/pg_campaign_fixture.h"

namespace updraft::catalog {
namespace {

using PgCampaignRowsTest = PgCampaignFixture;

TEST(PgCampaignSqlTest, ParametersAndArrays) {
  EXPECT_EQ(PgTimestampParam(3), "to_timestamp(($3)::bigint / 1e6)");
  EXPECT_EQ(PgBigintArray({}), "{}");
  EXPECT_EQ(PgBigintArray({1, -2, 30}), "{1,-2,30}");
  EXPECT_EQ(PgMicros(absl::FromUnixMillis(1500)), 1500000);
}

TEST_F(PgCampaignRowsTest, CorruptSpecsAndEventsAreInternalErrors) {
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    auto good = CampaignFromRow(txn.exec_params1(
        std::string(kSelectCampaignSql) + "WHERE campaign_id = $1", std::string("cmp_1")));
    EXPECT_TRUE(good.ok()) << good.status();
    EXPECT_EQ(good->spec().name(), "roll \"out\"");
    EXPECT_EQ(good->created_by(), "key_1");
    txn.exec_params("UPDATE campaigns SET spec = decode('ff', 'hex') WHERE campaign_id = $1",
                    std::string("cmp_1"));
    auto bad = CampaignFromRow(txn.exec_params1(
        std::string(kSelectCampaignSql) + "WHERE campaign_id = $1", std::string("cmp_1")));
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
    EXPECT_TRUE(absl::StrContains(bad.status().message(), "cmp_1")) << bad.status();
    return absl::InternalError("roll back");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(store_->Get("cmp_1").ok());  // Rolled back.

  auto event = CampaignEventFromHex(7, "ff");
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(event.status().message(), "campaign event 7 is corrupt");
  v1::CampaignEvent e;
  e.set_type(v1::CAMPAIGN_EVENT_PAUSED);
  event = CampaignEventFromHex(8, absl::BytesToHexString(e.SerializeAsString()));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->event_id(), 8);
  EXPECT_EQ(event->type(), v1::CAMPAIGN_EVENT_PAUSED);
}

// Webhooks of all campaigns ('') and of the event's campaign get a
// delivery; a webhook of another campaign does not.
TEST_F(PgCampaignRowsTest, InsertedEventsQueueADeliveryPerMatchingWebhook) {
  std::vector<std::string> delivered_to;
  int64_t stored_id = -1;
  ASSERT_TRUE(pool_
                  ->Transact([&](pqxx::work& txn) -> absl::Status {
                    for (const char* scope : {"", "cmp_1", "cmp_2"}) {
                      txn.exec_params(
                          "INSERT INTO campaign_webhooks (webhook_id, url, secret, campaign_id,"
                          " created_at) VALUES ('whk_' || $1, 'https://x', 's', $1, now())",
                          std::string(scope));
                    }
                    v1::CampaignEvent e;
                    e.set_campaign_id("cmp_1");
                    e.set_event_id(99);  // Ignored: the database assigns it.
                    absl::StatusOr<int64_t> id = InsertCampaignEvent(txn, e, kNow);
                    if (!id.ok()) return id.status();
                    for (const pqxx::row& row :
                         txn.exec_params("SELECT webhook_id FROM campaign_webhook_deliveries"
                                         " WHERE event_id = $1 ORDER BY webhook_id",
                                         *id)) {
                      delivered_to.push_back(row[0].as<std::string>());
                    }
                    stored_id = *id;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(delivered_to, (std::vector<std::string>{"whk_", "whk_cmp_1"}));
  auto events = *store_->Events("cmp_1", 1, 10, nullptr);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_id(), stored_id);
}

TEST_F(PgCampaignRowsTest, CountsGroupDevicesByWaveAndState) {
  ASSERT_TRUE(
      store_
          ->WithCampaign(
              "cmp_1", true,
              [&](CampaignTxn& txn) -> absl::Status {
                (void)txn.AddDevices({{"a", 1}, {"b", 2}}, 0, v1::CAMPAIGN_DEVICE_QUEUED, kNow);
                return txn.AddDevices({{"c", 3}}, 1, v1::CAMPAIGN_DEVICE_PENDING, kNow).status();
              })
          .ok());
  CampaignCounts counts;
  ASSERT_TRUE(pool_
                  ->Transact([&](pqxx::work& txn) {
                    counts = CampaignCountsFromRows(
                        txn.exec_params(kCampaignCountsSql, std::string("cmp_1")));
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0][v1::CAMPAIGN_DEVICE_QUEUED], 2);
  EXPECT_EQ(counts[1][v1::CAMPAIGN_DEVICE_PENDING], 1);
}

}  // namespace
}  // namespace updraft::catalog
