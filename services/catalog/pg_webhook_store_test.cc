// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
#include "services/catalog/pg_webhook_store.h"

#include "gtest/gtest.h"
#include "services/catalog/pg_campaign_fixture.h"

namespace updraft::catalog {
namespace {

using PgWebhookStoreTest = PgCampaignFixture;

// Moved from pg_campaign_store_test: an event queues a delivery per
// webhook; a claimed delivery is leased; a failed one comes back at its
// next attempt; a delivered one never again.
TEST_F(PgWebhookStoreTest, DeliveriesAreClaimedLeasedAndFinished) {
  PgWebhookStore webhooks(pool_.get());
  v1::Webhook w;
  w.set_webhook_id("whk_1");
  w.set_url("https://hooks.example/x");
  w.set_created_at_unix(absl::ToUnixSeconds(kNow));
  ASSERT_TRUE(webhooks.CreateWebhook(w, "0123456789abcdef").ok());
  auto listed = webhooks.ListWebhooks();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].url(), "https://hooks.example/x");
  EXPECT_EQ((*listed)[0].created_at_unix(), absl::ToUnixSeconds(kNow));
  ASSERT_TRUE(store_
                  ->WithCampaign("cmp_1", true,
                                 [&](CampaignTxn& txn) {
                                   v1::CampaignEvent e;
                                   e.set_campaign_id("cmp_1");
                                   e.set_type(v1::CAMPAIGN_EVENT_PAUSED);
                                   return txn.AddEvent(e, kNow);
                                 })
                  .ok());
  auto due = webhooks.ClaimDeliveries(kNow, kNow + absl::Minutes(2), 10);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].secret, "0123456789abcdef");
  EXPECT_EQ((*due)[0].url, "https://hooks.example/x");
  EXPECT_EQ((*due)[0].event.type(), v1::CAMPAIGN_EVENT_PAUSED);
  EXPECT_TRUE(webhooks.ClaimDeliveries(kNow, kNow, 10)->empty());  // Leased.
  ASSERT_TRUE(webhooks
                  .FinishDelivery((*due)[0].delivery_id, false, false, kNow + absl::Seconds(10),
                                  "HTTP 500", kNow)
                  .ok());
  auto again = webhooks.ClaimDeliveries(kNow + absl::Seconds(10), kNow + absl::Minutes(3), 10);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 1);
  ASSERT_TRUE(webhooks.FinishDelivery((*again)[0].delivery_id, true, false, kNow, "", kNow).ok());
  EXPECT_TRUE(webhooks.ClaimDeliveries(kNow + absl::Hours(1), kNow + absl::Hours(2), 10)->empty());
  EXPECT_TRUE(webhooks.DeleteWebhook("whk_1").ok());
  EXPECT_EQ(webhooks.DeleteWebhook("whk_1").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(webhooks.ListWebhooks()->empty());
}

}  // namespace
}  // namespace updraft::catalog
