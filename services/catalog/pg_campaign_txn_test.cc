// Integration test: needs the real PostgreSQL named by UPDRAFT_TEST_PG_URI.
#include "services/catalog/pg_campaign_txn.h"

#include "common/status_util.h"
#include "gtest/gtest.h"
#include "services/catalog/pg_campaign_fixture.h"

namespace updraft::catalog {
namespace {

class PgCampaignTxnTest : public PgCampaignFixture {
 protected:
  // Runs `fn` on a PgCampaignTxn of cmp_1 in one transaction, flushed and
  // committed iff `fn` returns OK.
  absl::Status InTxn(const std::function<absl::Status(PgCampaignTxn&)>& fn) {
    return pool_->Transact([&](pqxx::work& work) -> absl::Status {
      PgCampaignTxn txn(work, campaign_);
      UPDRAFT_RETURN_IF_ERROR(fn(txn));
      return txn.Flush();
    });
  }
};

// Moved from pg_campaign_store_test: the device operations of a step.
TEST_F(PgCampaignTxnTest, DeviceOperationsOfAStep) {
  v1::DeviceAttributes tz;
  tz.set_time_zone("Asia/Tokyo");
  ASSERT_TRUE(store_->PutAttributes("b", tz, kNow).ok());
  ASSERT_TRUE(
      InTxn([&](PgCampaignTxn& txn) -> absl::Status {
        EXPECT_EQ(*txn.AddDevices({{"a", 3}, {"b", 1}, {"c\"q", 2}, {"a", 9}}, 0,
                                  v1::CAMPAIGN_DEVICE_QUEUED, kNow),
                  3);
        EXPECT_EQ(*txn.Queued(2), (std::vector<std::string>{"b", "c\"q"}));
        EXPECT_TRUE(txn.Queued(0)->empty());
        EXPECT_TRUE(
            txn.StartDevices({{"b", kNow}, {"c\"q", kNow + absl::Seconds(5)}}, 1, kNow).ok());
        auto due = *txn.Due(kNow, 10);
        EXPECT_EQ(due.size(), 1u);
        EXPECT_EQ(due[0].device_id, "b");
        EXPECT_EQ(due[0].wave, 1);
        EXPECT_EQ(due[0].time_zone, "Asia/Tokyo");
        EXPECT_EQ(due[0].attempts, 0);
        EXPECT_TRUE(txn.Defer({{"b", kNow + absl::Hours(1)}}).ok());
        EXPECT_TRUE(txn.Due(kNow, 10)->empty());
        EXPECT_EQ(txn.Due(kNow + absl::Seconds(5), 10)->size(), 1u);
        EXPECT_TRUE(txn.MarkNotified({"b"}, kNow).ok());
        v1::Campaign c = txn.campaign();
        c.set_current_wave(1);
        c.set_state_reason("r");
        EXPECT_TRUE(txn.Save(c).ok());
        EXPECT_EQ(txn.campaign().current_wave(), 1u);
        CampaignCounts counts = *txn.Counts();
        EXPECT_EQ(counts[0][v1::CAMPAIGN_DEVICE_QUEUED], 1);
        EXPECT_EQ(counts[1][v1::CAMPAIGN_DEVICE_NOTIFIED], 1);
        EXPECT_EQ(counts[1][v1::CAMPAIGN_DEVICE_PENDING], 1);
        return absl::OkStatus();
      }).ok());
  v1::Campaign saved = *store_->Get("cmp_1");
  EXPECT_EQ(saved.current_wave(), 1u);
  EXPECT_EQ(saved.state_reason(), "r");
}

// Moved from pg_campaign_store_test: failed devices in a wave come back
// PENDING once their failure is old enough, at most max_attempts times.
TEST_F(PgCampaignTxnTest, RetryRevivesFailedDevicesUpToTheLimit) {
  ASSERT_TRUE(
      InTxn([&](PgCampaignTxn& txn) -> absl::Status {
        EXPECT_TRUE(txn.AddDevices({{"b", 1}}, 1, v1::CAMPAIGN_DEVICE_FAILED, kNow).ok());
        EXPECT_TRUE(txn.AddDevices({{"queued", 2}}, 0, v1::CAMPAIGN_DEVICE_FAILED, kNow).ok());
        EXPECT_TRUE(txn.AddDevices({{"c", 3}}, 1, v1::CAMPAIGN_DEVICE_PENDING, kNow).ok());
        EXPECT_TRUE(txn.Retry(1, kNow - absl::Seconds(1), kNow)->empty());
        auto r = *txn.Retry(1, kNow, kNow);
        EXPECT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].device_id, "b");
        EXPECT_EQ(r[0].attempts, 1);
        EXPECT_TRUE(txn.Retry(1, kNow, kNow)->empty());
        auto due = *txn.Due(kNow, 10);
        EXPECT_EQ(due.size(), 2u);  // "c" and the retried "b"
        for (const DueDevice& d : due) {
          EXPECT_EQ(d.attempts, d.device_id == "b" ? 1 : 0);
        }
        return absl::OkStatus();
      }).ok());
}

// Events are inserted by Flush(), and only then queued for the webhooks.
TEST_F(PgCampaignTxnTest, EventsWaitForFlush) {
  v1::CampaignEvent paused;
  paused.set_campaign_id("cmp_1");
  paused.set_type(v1::CAMPAIGN_EVENT_PAUSED);
  ASSERT_TRUE(pool_
                  ->Transact([&](pqxx::work& work) -> absl::Status {
                    PgCampaignTxn txn(work, campaign_);
                    UPDRAFT_RETURN_IF_ERROR(txn.AddEvent(paused, kNow));
                    auto count = [&] {
                      return work.exec_params1("SELECT count(*) FROM campaign_events")[0].as<int>();
                    };
                    EXPECT_EQ(count(), 1);  // The CREATED event.
                    UPDRAFT_RETURN_IF_ERROR(txn.Flush());
                    EXPECT_EQ(count(), 2);
                    UPDRAFT_RETURN_IF_ERROR(txn.Flush());  // Nothing left to insert.
                    EXPECT_EQ(count(), 2);
                    return absl::OkStatus();
                  })
                  .ok());
  auto events = *store_->Events("cmp_1", 1, 10, nullptr);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), v1::CAMPAIGN_EVENT_PAUSED);
}

}  // namespace
}  // namespace updraft::catalog
