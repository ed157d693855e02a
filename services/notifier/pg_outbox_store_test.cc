// PgOutboxStore::Enqueue with idempotency keys on a real PostgreSQL
// (migrations/0002_outbox_idempotency.sql): one row per device and key, also
// when two calls race; the rows a key already holds come back unchanged.
#include "services/notifier/pg_outbox_store.h"

#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft::notifier {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795348800);

class PgOutboxStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = TestEnv::Create();
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto pool = PgPool::Create({.uri = env_->pg_uri(), .size = 4});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    auto store = PgOutboxStore::Create(pool_.get());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  static v1::Notification Notification(const std::string& id) {
    v1::Notification n;
    n.set_notification_id(id);
    n.set_server_address("catalog.example:443");
    n.set_software_name("demo-app 2.0.0");
    n.set_location("rel_1");
    n.set_timestamp_unix(absl::ToUnixSeconds(kNow));
    n.set_expires_at_unix(absl::ToUnixSeconds(kNow + absl::Hours(1)));
    n.set_signed_("signed-" + id);
    return n;
  }

  EnqueueResult Enqueue(const std::string& id, const std::vector<std::string>& devices,
                        const std::string& key) {
    auto r = store_->Enqueue(Notification(id), devices, key, kNow, kNow + absl::Seconds(30));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : EnqueueResult();
  }

  static std::vector<std::string> Devices(const std::vector<DevicePrefs>& prefs) {
    std::vector<std::string> out;
    for (const DevicePrefs& p : prefs) out.push_back(p.device_id);
    std::sort(out.begin(), out.end());
    return out;
  }

  // (device, notification, key) of every outbox row, sorted.
  std::vector<std::string> Rows() {
    std::vector<std::string> out;
    EXPECT_TRUE(pool_
                    ->Read([&](pqxx::nontransaction& txn) {
                      for (const auto& row :
                           txn.exec("SELECT device_id || ' ' || notification_id || ' ' || "
                                    "idempotency_key FROM notifier_outbox ORDER BY 1")) {
                        out.push_back(row[0].as<std::string>());
                      }
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  bool Stored(const std::string& notification_id) {
    bool found = false;
    EXPECT_TRUE(pool_
                    ->Read([&](pqxx::nontransaction& txn) {
                      found = !txn.exec_params(
                                      "SELECT 1 FROM notifier_announcements "
                                      "WHERE notification_id = $1",
                                      notification_id)
                                   .empty();
                      return absl::OkStatus();
                    })
                    .ok());
    return found;
  }

  std::unique_ptr<TestEnv> env_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgOutboxStore> store_;
};

TEST_F(PgOutboxStoreTest, SameKeyTwiceKeepsOneRowPerDeviceAndItsNotification) {
  ASSERT_TRUE(store_->UpsertDevices({{.device_id = "dev-a", .msisdn = "+4915112345678"}}).ok());
  EnqueueResult first = Enqueue("n1", {"dev-a", "dev-b"}, "k1");
  EXPECT_TRUE(first.stored);
  EXPECT_EQ(Devices(first.queued), (std::vector<std::string>{"dev-a", "dev-b"}));
  EXPECT_TRUE(first.existing.empty());
  EnqueueResult again = Enqueue("n2", {"dev-a", "dev-b"}, "k1");
  EXPECT_FALSE(again.stored);
  EXPECT_TRUE(again.queued.empty());
  ASSERT_EQ(again.existing.size(), 2u);
  for (const OutboxEntry& e : again.existing) {
    EXPECT_EQ(e.notification.notification_id(), "n1") << e.device_id;
    EXPECT_EQ(e.notification.signed_(), "signed-n1");
    EXPECT_EQ(e.state, "queued");
    EXPECT_EQ(e.attempts, 0);
  }
  EXPECT_EQ(again.existing[0].device_id, "dev-a");
  EXPECT_EQ(again.existing[0].prefs.msisdn, "+4915112345678");
  EXPECT_EQ(Rows(), (std::vector<std::string>{"dev-a n1 k1", "dev-b n1 k1"}));
  EXPECT_TRUE(Stored("n1"));
  EXPECT_FALSE(Stored("n2"));  // no row refers to it: not kept
}

TEST_F(PgOutboxStoreTest, ADifferentKeyOrNoKeyQueuesAgain) {
  Enqueue("n1", {"dev-a"}, "k1");
  EXPECT_EQ(Devices(Enqueue("n2", {"dev-a"}, "k2").queued), std::vector<std::string>{"dev-a"});
  EXPECT_EQ(Devices(Enqueue("n3", {"dev-a"}, "").queued), std::vector<std::string>{"dev-a"});
  EnqueueResult no_key = Enqueue("n4", {"dev-a"}, "");
  EXPECT_EQ(Devices(no_key.queued), std::vector<std::string>{"dev-a"});
  EXPECT_TRUE(no_key.existing.empty());
  EXPECT_EQ(Rows(),
            (std::vector<std::string>{"dev-a n1 k1", "dev-a n2 k2", "dev-a n3 ", "dev-a n4 "}));
}

TEST_F(PgOutboxStoreTest, OnlyTheDeviceNewToTheKeyGetsARow) {
  Enqueue("n1", {"dev-a", "dev-b"}, "k1");
  EnqueueResult second = Enqueue("n2", {"dev-b", "dev-c"}, "k1");
  EXPECT_TRUE(second.stored);
  EXPECT_EQ(Devices(second.queued), std::vector<std::string>{"dev-c"});
  ASSERT_EQ(second.existing.size(), 1u);
  EXPECT_EQ(second.existing[0].device_id, "dev-b");
  EXPECT_EQ(second.existing[0].notification.notification_id(), "n1");
  EXPECT_EQ(Rows(), (std::vector<std::string>{"dev-a n1 k1", "dev-b n1 k1", "dev-c n2 k1"}));
}

TEST_F(PgOutboxStoreTest, EveryKnownDeviceWithAKey) {
  ASSERT_TRUE(store_->UpsertDevices({{.device_id = "dev-a"}, {.device_id = "dev-b"}}).ok());
  EXPECT_EQ(Enqueue("n1", {}, "all").queued.size(), 2u);
  ASSERT_TRUE(store_->UpsertDevices({{.device_id = "dev-c"}}).ok());
  EnqueueResult second = Enqueue("n2", {}, "all");
  EXPECT_EQ(Devices(second.queued), std::vector<std::string>{"dev-c"});
  EXPECT_EQ(second.existing.size(), 2u);
}

// Two calls with the same key at once (a caller retrying while its first
// call is still running): the second waits for the first's commit and
// creates no second row for any device.
TEST_F(PgOutboxStoreTest, ConcurrentCallsWithTheSameKeyQueueEachDeviceOnce) {
  std::vector<std::string> devices;
  for (int i = 0; i < 200; ++i) devices.push_back(absl::StrCat("dev-", 1000 + i));
  for (int round = 0; round < 5; ++round) {
    const std::string key = absl::StrCat("race-", round);
    EnqueueResult results[2];
    std::thread a([&] { results[0] = Enqueue(absl::StrCat("a", round), devices, key); });
    std::thread b([&] { results[1] = Enqueue(absl::StrCat("b", round), devices, key); });
    a.join();
    b.join();
    std::set<std::string> queued;
    for (const EnqueueResult& r : results) {
      EXPECT_EQ(r.queued.size() + r.existing.size(), devices.size());
      for (const DevicePrefs& p : r.queued) EXPECT_TRUE(queued.insert(p.device_id).second);
    }
    EXPECT_EQ(queued.size(), devices.size()) << "round " << round;
  }
  EXPECT_EQ(Rows().size(), 5 * devices.size());
}

}  // namespace
}  // namespace updraft::notifier
