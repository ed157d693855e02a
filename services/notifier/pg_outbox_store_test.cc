// PgOutboxStore::Enqueue with idempotency keys on a real PostgreSQL
// (migrations/0002_outbox_idempotency.sql): one row per device and key, also
// when two calls race; the rows a key already holds come back unchanged.
#include "services/notifier/pg_outbox_store.h"

#include <algorithm>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/pg_test.h"
#include "common/test_env.h"
#include "gtest/gtest.h"

namespace updraft::notifier {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795348800);

class PgOutboxStoreTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
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

  // "msisdn|channels|ack_timeout_ms" of a stored device; "" when absent.
  std::string Device(const std::string& device_id) {
    std::string out;
    EXPECT_TRUE(pool_
                    ->Read([&](pqxx::nontransaction& txn) {
                      for (const auto& row : txn.exec_params(
                               "SELECT msisdn || '|' || channels || '|' || ack_timeout_ms "
                               "FROM notifier_devices WHERE device_id = $1",
                               device_id)) {
                        out = row[0].as<std::string>();
                      }
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  int64_t Count(const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(pool_
                    ->Read([&](pqxx::nontransaction& txn) {
                      n = txn.exec(sql)[0][0].as<int64_t>();
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

  int64_t CountFor(const std::string& sql, const std::string& param) {
    int64_t n = -1;
    EXPECT_TRUE(pool_
                    ->Read([&](pqxx::nontransaction& txn) {
                      n = txn.exec_params(sql, param)[0][0].as<int64_t>();
                      return absl::OkStatus();
                    })
                    .ok());
    return n;
  }

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

// A device listed several times in one call: no "cannot affect row a second
// time" error, and the result is that of applying the entries in order (a
// later non-empty field wins), for a new and for an existing device.
TEST_F(PgOutboxStoreTest, ADeviceListedTwiceInOneCallMergesInOrder) {
  std::vector<DevicePrefs> call = {
      {.device_id = "dev-a", .msisdn = "+4915100000001", .channels = {v1::CHANNEL_SMS}},
      {.device_id = "dev-b"},
      {.device_id = "dev-a", .ack_timeout = absl::Seconds(90)},
      {.device_id = "dev-b"},
      {.device_id = "dev-a", .msisdn = "+4915100000002"},
  };
  ASSERT_TRUE(store_->UpsertDevices(call).ok());
  EXPECT_EQ(Device("dev-a"), "+4915100000002|sms|90000");
  EXPECT_EQ(Device("dev-b"), "|ip_push,sms,wap_push|60000");
  absl::Status again = store_->UpsertDevices({
      {.device_id = "dev-a", .channels = {v1::CHANNEL_WAP_PUSH, v1::CHANNEL_IP_PUSH}},
      {.device_id = "dev-a", .msisdn = "+4915100000003", .ack_timeout = absl::Seconds(5)},
      {.device_id = "dev-a", .channels = {v1::CHANNEL_IP_PUSH}},
      {.device_id = "dev-b", .ack_timeout = absl::Seconds(7)},
      {.device_id = "dev-b", .ack_timeout = absl::Seconds(8)},
  });
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(Device("dev-a"), "+4915100000003|ip_push|5000");
  EXPECT_EQ(Device("dev-b"), "|ip_push,sms,wap_push|8000");
  EXPECT_EQ(Count("SELECT count(*) FROM notifier_devices"), 2);
}

// Empty msisdn, no channels and a zero timeout keep what is stored, field by
// field, also when one call mixes devices that set different fields.
TEST_F(PgOutboxStoreTest, EmptyFieldsKeepStoredPreferences) {
  ASSERT_TRUE(store_
                  ->UpsertDevices({{.device_id = "dev-a",
                                    .msisdn = "+4915100000001",
                                    .channels = {v1::CHANNEL_SMS, v1::CHANNEL_IP_PUSH},
                                    .ack_timeout = absl::Seconds(30)},
                                   {.device_id = "dev-b",
                                    .msisdn = "+4915100000002",
                                    .channels = {v1::CHANNEL_WAP_PUSH},
                                    .ack_timeout = absl::Seconds(40)}})
                  .ok());
  ASSERT_TRUE(store_->UpsertDevices({{.device_id = "dev-a"}, {.device_id = "dev-b"}}).ok());
  EXPECT_EQ(Device("dev-a"), "+4915100000001|sms,ip_push|30000");
  EXPECT_EQ(Device("dev-b"), "+4915100000002|wap_push|40000");
  ASSERT_TRUE(store_
                  ->UpsertDevices({{.device_id = "dev-a", .channels = {v1::CHANNEL_IP_PUSH}},
                                   {.device_id = "dev-b", .ack_timeout = absl::Seconds(2)},
                                   {.device_id = "dev-c", .msisdn = "+4915100000003"},
                                   {.device_id = "dev-d"}})
                  .ok());
  EXPECT_EQ(Device("dev-a"), "+4915100000001|ip_push|30000");
  EXPECT_EQ(Device("dev-b"), "+4915100000002|wap_push|2000");
  EXPECT_EQ(Device("dev-c"), "+4915100000003|ip_push,sms,wap_push|60000");
  EXPECT_EQ(Device("dev-d"), "|ip_push,sms,wap_push|60000");
  // Channels given explicitly as the default list replace stored ones.
  ASSERT_TRUE(store_
                  ->UpsertDevices(
                      {{.device_id = "dev-b",
                        .channels = {v1::CHANNEL_IP_PUSH, v1::CHANNEL_SMS, v1::CHANNEL_WAP_PUSH}}})
                  .ok());
  EXPECT_EQ(Device("dev-b"), "+4915100000002|ip_push,sms,wap_push|2000");
  EXPECT_TRUE(store_->UpsertDevices({}).ok());
}

// A negative ack timeout is refused before anything is written.
TEST_F(PgOutboxStoreTest, NegativeAckTimeoutWritesNothing) {
  absl::Status s =
      store_->UpsertDevices({{.device_id = "dev-a", .msisdn = "+4915100000001"},
                             {.device_id = "dev-b", .ack_timeout = absl::Seconds(-1)}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("dev-b"), absl::string_view::npos) << s;
  EXPECT_EQ(Count("SELECT count(*) FROM notifier_devices"), 0);
}

// 5,000 devices with preferences upserted and enqueued in one call each: one
// row per device, the preferences come back with the queued rows, and the
// fast path's bulk recording reaches every row.
TEST_F(PgOutboxStoreTest, FiveThousandDevicesInOneCall) {
  constexpr int kDevices = 5000;
  std::vector<DevicePrefs> prefs;
  std::vector<std::string> ids;
  for (int i = 0; i < kDevices; ++i) {
    ids.push_back(absl::StrCat("dev-", 10000 + i));
    prefs.push_back({.device_id = ids.back(),
                     .msisdn = i % 2 ? absl::StrCat("+49151", 1000000 + i) : "",
                     .channels = {v1::CHANNEL_SMS, v1::CHANNEL_IP_PUSH},
                     .ack_timeout = absl::Seconds(1 + i % 100)});
  }
  ASSERT_TRUE(store_->UpsertDevices(prefs).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM notifier_devices"), kDevices);
  EXPECT_EQ(Device("dev-12345"), "+491511002345|sms,ip_push|46000");
  EXPECT_EQ(Device("dev-12344"), "|sms,ip_push|45000");
  EnqueueResult r = Enqueue("n1", ids, "wave-1");
  ASSERT_EQ(r.queued.size(), static_cast<size_t>(kDevices));
  EXPECT_EQ(Devices(r.queued), [&] {
    std::vector<std::string> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }());
  for (const DevicePrefs& p : r.queued) {
    if (p.device_id != "dev-12345") continue;
    EXPECT_EQ(p.channels, (std::vector<v1::Channel>{v1::CHANNEL_SMS, v1::CHANNEL_IP_PUSH}));
    EXPECT_EQ(p.ack_timeout, absl::Seconds(46));
  }
  EXPECT_EQ(Count("SELECT count(*) FROM notifier_outbox WHERE notification_id = 'n1' "
                  "AND state = 'queued' AND idempotency_key = 'wave-1'"),
            kDevices);
  EnqueueResult again = Enqueue("n2", ids, "wave-1");
  EXPECT_FALSE(again.stored);
  EXPECT_EQ(again.existing.size(), static_cast<size_t>(kDevices));
  std::vector<std::pair<std::string, absl::Time>> sent;
  std::vector<std::string> released;
  for (int i = 0; i < kDevices; ++i) {
    if (i % 3 == 0) {
      sent.push_back({ids[i], kNow + absl::Seconds(i)});
    } else {
      released.push_back(ids[i]);
    }
  }
  ASSERT_TRUE(store_->FinishFastPath("n1", sent, released, kNow + absl::Seconds(1)).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM notifier_outbox WHERE state = 'sent'"),
            static_cast<int64_t>(sent.size()));
  EXPECT_EQ(Count("SELECT count(*) FROM notifier_receipts WHERE event = 'sent'"),
            static_cast<int64_t>(sent.size()));
  EXPECT_EQ(Count("SELECT next_attempt_ms FROM notifier_outbox WHERE device_id = 'dev-13003'"),
            absl::ToUnixMillis(kNow + absl::Seconds(3003)));
  EXPECT_EQ(Count("SELECT count(*) FROM notifier_outbox WHERE state = 'queued' "
                  "AND next_attempt_ms = " +
                  std::to_string(absl::ToUnixMillis(kNow + absl::Seconds(1)))),
            static_cast<int64_t>(released.size()));
}

// Device IDs with characters that matter to array literals and quoting go
// through every bulk statement unchanged; a target listed twice gets one row.
TEST_F(PgOutboxStoreTest, DeviceIdsWithArraySyntaxCharacters) {
  const std::vector<std::string> ids = {"a,b",        "\"quoted\"",  "{braces}", "back\\slash",
                                        "with space", "trailing\\",  "NULL",     "'single'",
                                        "",           "über-設備-📱", "}{\",\\"};
  std::vector<DevicePrefs> prefs;
  for (size_t i = 0; i < ids.size(); ++i) {
    prefs.push_back({.device_id = ids[i], .msisdn = absl::StrCat("+4915100000", 10 + i)});
  }
  ASSERT_TRUE(store_->UpsertDevices(prefs).ok());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(Device(ids[i]), absl::StrCat("+4915100000", 10 + i, "|ip_push,sms,wap_push|60000"))
        << ids[i];
  }
  EXPECT_EQ(Count("SELECT count(*) FROM notifier_devices"), static_cast<int64_t>(ids.size()));
  std::vector<std::string> targets = ids;
  targets.push_back("a,b");  // twice
  EnqueueResult r = Enqueue("n1", targets, "k");
  std::vector<std::string> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Devices(r.queued), sorted);
  EnqueueResult again = Enqueue("n2", ids, "k");
  std::vector<std::string> existing;
  for (const OutboxEntry& e : again.existing) {
    existing.push_back(e.device_id);
    const size_t i = std::find(ids.begin(), ids.end(), e.device_id) - ids.begin();
    EXPECT_EQ(e.prefs.msisdn, absl::StrCat("+4915100000", 10 + i)) << e.device_id;
  }
  std::sort(existing.begin(), existing.end());
  EXPECT_EQ(existing, sorted);
  // Half sent, half released: each row ends where its ID says.
  std::vector<std::pair<std::string, absl::Time>> sent;
  std::vector<std::string> released;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i % 2 == 0) {
      sent.push_back({ids[i], kNow + absl::Minutes(1)});
    } else {
      released.push_back(ids[i]);
    }
  }
  ASSERT_TRUE(store_->FinishFastPath("n1", sent, released, kNow).ok());
  auto due = store_->ClaimDue(kNow, 100, absl::Seconds(30), "n1");
  ASSERT_TRUE(due.ok()) << due.status();
  std::vector<std::string> claimed;
  for (const OutboxEntry& e : *due) claimed.push_back(e.device_id);
  std::sort(claimed.begin(), claimed.end());
  std::sort(released.begin(), released.end());
  EXPECT_EQ(claimed, released);
  for (const auto& [id, unused] : sent) {
    EXPECT_EQ(CountFor("SELECT count(*) FROM notifier_outbox o JOIN notifier_receipts r "
                       "USING (device_id, notification_id) WHERE o.state = 'sent' "
                       "AND r.event = 'sent' AND device_id = $1",
                       id),
              1)
        << id;
  }
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
