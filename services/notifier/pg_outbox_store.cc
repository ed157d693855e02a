#include "services/notifier/pg_outbox_store.h"

#include <map>
#include <pqxx/pqxx>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/crypto.h"
#include "common/migrations.h"
#include "common/notification_format.h"
#include "services/notifier/notifier_migrations.h"

namespace updraft::notifier {
namespace {

int64_t Ms(absl::Time t) { return absl::ToUnixMillis(t); }

std::string JoinChannels(const std::vector<v1::Channel>& channels) {
  std::vector<std::string> names;
  for (v1::Channel c : channels) names.push_back(ChannelName(c));
  return absl::StrJoin(names, ",");
}

// What an UpsertDevices call sets for one device; empty or zero: keep what
// is stored (the default for a new device).
struct DeviceUpdate {
  std::string msisdn;
  std::string channels;  // JoinChannels
  int64_t ack_timeout_ms = 0;
};

// Devices of one UpsertDevices statement, as parallel arrays.
struct DeviceBatch {
  std::vector<std::string> ids, msisdns, channels;
  std::vector<int64_t> ack_timeouts_ms;
};

// The fields a device update sets on an existing row (bit set).
constexpr int kSetMsisdn = 1, kSetChannels = 2, kSetAckTimeout = 4;

// Inserts every device of the arrays with defaults for empty fields, and
// on an existing row sets exactly `fields` (EXCLUDED holds the defaults,
// so it cannot tell an empty field apart: the statement is chosen by which
// fields its devices set).
std::string UpsertDevicesSql(int fields) {
  std::vector<std::string> set;
  if (fields & kSetMsisdn) set.push_back("msisdn = EXCLUDED.msisdn");
  if (fields & kSetChannels) set.push_back("channels = EXCLUDED.channels");
  if (fields & kSetAckTimeout) set.push_back("ack_timeout_ms = EXCLUDED.ack_timeout_ms");
  return absl::StrCat(
      "INSERT INTO notifier_devices (device_id, msisdn, channels, ack_timeout_ms) "
      "SELECT id, m, coalesce(nullif(c, ''), 'ip_push,sms,wap_push'), "
      "       coalesce(nullif(t, 0), 60000) "
      "FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(id, m, c, t) "
      "ON CONFLICT (device_id) DO ",
      set.empty() ? "NOTHING" : absl::StrCat("UPDATE SET ", absl::StrJoin(set, ", ")));
}

// Columns every entry query selects, in this order.
constexpr char kEntryColumns[] =
    "o.device_id, o.notification_id, o.state, o.channel_index, o.attempts, o.created_ms, "
    "a.server_address, a.software_name, a.location, a.timestamp_ms, a.expires_at_ms, "
    "encode(a.signed, 'hex'), coalesce(d.msisdn, ''), "
    "coalesce(d.channels, 'ip_push,sms,wap_push'), coalesce(d.ack_timeout_ms, 60000)";

OutboxEntry EntryFromRow(const pqxx::row& r) {
  OutboxEntry e;
  e.device_id = r[0].as<std::string>();
  e.notification.set_notification_id(r[1].as<std::string>());
  e.state = r[2].as<std::string>();
  e.channel_index = r[3].as<int>();
  e.attempts = r[4].as<int>();
  e.created = absl::FromUnixMillis(r[5].as<int64_t>());
  e.notification.set_server_address(r[6].as<std::string>());
  e.notification.set_software_name(r[7].as<std::string>());
  e.notification.set_location(r[8].as<std::string>());
  e.notification.set_timestamp_unix(r[9].as<int64_t>() / 1000);
  e.notification.set_expires_at_unix(r[10].as<int64_t>() / 1000);
  e.notification.set_signed_(absl::HexStringToBytes(r[11].as<std::string>()));
  e.prefs.device_id = e.device_id;
  e.prefs.msisdn = r[12].as<std::string>();
  for (absl::string_view name : absl::StrSplit(r[13].as<std::string>(), ',', absl::SkipEmpty())) {
    v1::Channel c = ParseChannel(name);
    if (c != v1::CHANNEL_UNSPECIFIED) e.prefs.channels.push_back(c);
  }
  e.prefs.ack_timeout = absl::Milliseconds(r[14].as<int64_t>());
  return e;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgOutboxStore>> PgOutboxStore::Create(PgPool* pool) {
  absl::Status s = ApplyMigrations(*pool, "notifier", NotifierMigrations());
  if (!s.ok()) return s;
  return std::unique_ptr<PgOutboxStore>(new PgOutboxStore(pool));
}

absl::Status PgOutboxStore::UpsertDevices(const std::vector<DevicePrefs>& devices) {
  // A device listed more than once: its entries merge in order (a later
  // non-empty field wins), which is what upserting them one after the other
  // leaves; the statement then holds each device once (ON CONFLICT DO UPDATE
  // cannot affect a row twice). Sorted by ID, so concurrent calls lock rows
  // in the same order.
  std::map<std::string, DeviceUpdate> merged;
  for (const DevicePrefs& d : devices) {
    const int64_t timeout_ms = absl::ToInt64Milliseconds(d.ack_timeout);
    if (timeout_ms < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ack_timeout of device ", d.device_id, " is negative"));
    }
    DeviceUpdate& m = merged[d.device_id];
    if (!d.msisdn.empty()) m.msisdn = d.msisdn;
    std::string channels = JoinChannels(d.channels);
    if (!channels.empty()) m.channels = std::move(channels);
    if (timeout_ms != 0) m.ack_timeout_ms = timeout_ms;
  }
  // One statement per set of non-empty fields: usually one per call.
  std::map<int, DeviceBatch> batches;
  for (const auto& [id, m] : merged) {
    const int fields = (m.msisdn.empty() ? 0 : kSetMsisdn) |
                       (m.channels.empty() ? 0 : kSetChannels) |
                       (m.ack_timeout_ms == 0 ? 0 : kSetAckTimeout);
    DeviceBatch& b = batches[fields];
    b.ids.push_back(id);
    b.msisdns.push_back(m.msisdn);
    b.channels.push_back(m.channels);
    b.ack_timeouts_ms.push_back(m.ack_timeout_ms);
  }
  if (batches.empty()) return absl::OkStatus();
  return pool_->Transact([&](pqxx::work& txn) {
    for (const auto& [fields, b] : batches) {
      txn.exec_params(UpsertDevicesSql(fields), PgTextArray(b.ids), PgTextArray(b.msisdns),
                      PgTextArray(b.channels), PgBigintArray(b.ack_timeouts_ms));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<EnqueueResult> PgOutboxStore::Enqueue(const v1::Notification& n,
                                                     const std::vector<std::string>& devices,
                                                     const std::string& idempotency_key,
                                                     absl::Time now, absl::Time due) {
  EnqueueResult out;
  const std::string targets = PgTextArray(devices);
  absl::Status s = pool_->Transact([&](pqxx::work& txn) {
    out = EnqueueResult();
    txn.exec_params(
        "INSERT INTO notifier_announcements (notification_id, server_address, software_name, "
        "location, timestamp_ms, expires_at_ms, signed) "
        "VALUES ($1, $2, $3, $4, $5, $6, decode($7, 'hex'))",
        n.notification_id(), n.server_address(), n.software_name(), n.location(),
        n.timestamp_unix() * 1000, n.expires_at_unix() * 1000, absl::BytesToHexString(n.signed_()));
    // $4: the targets; empty: every known device. A row whose (key, device)
    // exists is skipped (notifier_outbox_idempotency), as is a target listed
    // twice; a concurrent call with the same key waits here for the other's
    // commit.
    pqxx::result r = txn.exec_params(
        "WITH t AS (SELECT device_id FROM notifier_devices WHERE cardinality($4::text[]) = 0 "
        "           UNION ALL SELECT unnest($4::text[])), "
        "ins AS (INSERT INTO notifier_outbox (device_id, notification_id, next_attempt_ms, "
        "created_ms, idempotency_key) SELECT t.device_id, $1, $3, $2, $5 FROM t "
        "ON CONFLICT DO NOTHING RETURNING device_id) "
        "SELECT ins.device_id, coalesce(d.channels, 'ip_push,sms,wap_push'), "
        "coalesce(d.ack_timeout_ms, 60000) FROM ins "
        "LEFT JOIN notifier_devices d ON d.device_id = ins.device_id",
        n.notification_id(), Ms(now), Ms(due), targets, idempotency_key);
    out.queued.reserve(r.size());
    for (const auto& row : r) {
      DevicePrefs p;
      p.device_id = row[0].as<std::string>();
      for (absl::string_view name :
           absl::StrSplit(row[1].as<std::string>(), ',', absl::SkipEmpty())) {
        v1::Channel c = ParseChannel(name);
        if (c != v1::CHANNEL_UNSPECIFIED) p.channels.push_back(c);
      }
      p.ack_timeout = absl::Milliseconds(row[2].as<int64_t>());
      out.queued.push_back(std::move(p));
    }
    if (idempotency_key.empty()) return absl::OkStatus();
    // A statement of its own: its snapshot includes rows of a concurrent
    // call that committed while the insert above waited for it.
    r = txn.exec_params(
        std::string("SELECT ") + kEntryColumns +
            " FROM notifier_outbox o JOIN notifier_announcements a USING (notification_id) "
            "LEFT JOIN notifier_devices d ON d.device_id = o.device_id "
            "WHERE o.idempotency_key = $1 AND o.notification_id <> $2" +
            (devices.empty() ? " AND cardinality($3::text[]) = 0"
                             : " AND o.device_id = ANY ($3::text[])") +
            " ORDER BY o.device_id",
        idempotency_key, n.notification_id(), targets);
    for (const auto& row : r) out.existing.push_back(EntryFromRow(row));
    if (out.queued.empty()) {
      txn.exec_params("DELETE FROM notifier_announcements WHERE notification_id = $1",
                      n.notification_id());
      out.stored = false;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status PgOutboxStore::FinishFastPath(
    const std::string& notification_id, const std::vector<std::pair<std::string, absl::Time>>& sent,
    const std::vector<std::string>& released, absl::Time now) {
  return pool_->Transact([&](pqxx::work& txn) {
    if (!sent.empty()) {
      std::vector<std::string> devices;
      std::vector<int64_t> next;
      for (const auto& [device, due] : sent) {
        devices.push_back(device);
        next.push_back(Ms(due));
      }
      const std::string ids = PgTextArray(devices);
      txn.exec_params(
          "UPDATE notifier_outbox o SET state = 'sent', channel = 'ip_push', channel_index = 0, "
          "attempts = 0, next_attempt_ms = u.na, sent_ms = $3, last_error = '' "
          "FROM unnest($1::text[], $2::bigint[]) AS u(device_id, na) "
          "WHERE o.device_id = u.device_id AND o.notification_id = $4 AND o.state = 'queued'",
          ids, PgBigintArray(next), Ms(now), notification_id);
      txn.exec_params(
          "INSERT INTO notifier_receipts (device_id, notification_id, channel, event, at_ms, "
          "detail) SELECT unnest($1::text[]), $2, 'ip_push', 'sent', $3, ''",
          ids, notification_id, Ms(now));
    }
    if (!released.empty()) {
      txn.exec_params(
          "UPDATE notifier_outbox SET next_attempt_ms = $3 "
          "WHERE device_id = ANY ($1::text[]) AND notification_id = $2 AND state = 'queued'",
          PgTextArray(released), notification_id, Ms(now));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<OutboxEntry>> PgOutboxStore::ClaimDue(
    absl::Time now, int limit, absl::Duration lease, const std::string& only_notification) {
  std::vector<OutboxEntry> out;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) {
    pqxx::result r = txn.exec_params(
        std::string("WITH c AS (UPDATE notifier_outbox SET next_attempt_ms = $2 "
                    "  WHERE (device_id, notification_id) IN ("
                    "    SELECT device_id, notification_id FROM notifier_outbox "
                    "    WHERE state IN ('queued', 'sent') AND next_attempt_ms <= $1 "
                    "    AND ($4 = '' OR notification_id = $4) "
                    "    ORDER BY next_attempt_ms LIMIT $3 FOR UPDATE SKIP LOCKED) "
                    "  RETURNING *) "
                    "SELECT ") +
            kEntryColumns +
            " FROM c o JOIN notifier_announcements a USING (notification_id) "
            "LEFT JOIN notifier_devices d ON d.device_id = o.device_id "
            "ORDER BY o.created_ms",
        Ms(now), Ms(now + lease), limit, only_notification);
    for (const auto& row : r) out.push_back(EntryFromRow(row));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<OutboxEntry>> PgOutboxStore::TakePendingFor(const std::string& device_id,
                                                                       absl::Time now) {
  std::vector<OutboxEntry> out;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) {
    pqxx::result r = txn.exec_params(
        std::string("SELECT ") + kEntryColumns +
            " FROM notifier_outbox o JOIN notifier_announcements a USING (notification_id) "
            "LEFT JOIN notifier_devices d ON d.device_id = o.device_id "
            "WHERE o.device_id = $1 AND o.state IN ('queued', 'sent', 'failed') "
            "AND a.expires_at_ms > $2 ORDER BY o.created_ms FOR UPDATE OF o",
        device_id, Ms(now));
    for (const auto& row : r) {
      OutboxEntry e = EntryFromRow(row);
      txn.exec_params(
          "UPDATE notifier_outbox SET state = 'sent', channel = 'ip_push', sent_ms = $3, "
          "next_attempt_ms = $4 WHERE device_id = $1 AND notification_id = $2",
          device_id, e.notification.notification_id(), Ms(now), Ms(now + e.prefs.ack_timeout));
      txn.exec_params(
          "INSERT INTO notifier_receipts (device_id, notification_id, channel, event, at_ms, "
          "detail) VALUES ($1, $2, 'ip_push', 'sent', $3, 'redelivered on reconnect')",
          device_id, e.notification.notification_id(), Ms(now));
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

namespace {

// An IP Push "sent" update with nothing row-specific beyond numbers: the
// common case of a fan-out, written in bulk.
bool IsPlainIpPushSend(const OutboxUpdate& u) {
  return u.state == "sent" && u.channel == v1::CHANNEL_IP_PUSH && u.sent.has_value() &&
         u.last_error.empty() && u.receipt_event == "sent" && u.receipt_detail.empty();
}

// One statement per notification for every plain IP Push send (a fan-out to
// 15,000 devices is two statements, not 30,000).
void ApplyPlainSends(pqxx::work& txn, const std::string& notification_id,
                     const std::vector<const OutboxUpdate*>& rows, absl::Time now) {
  std::vector<std::string> devices;
  std::vector<int64_t> indexes, attempts, next, sent;
  for (const OutboxUpdate* u : rows) {
    devices.push_back(u->device_id);
    indexes.push_back(u->channel_index);
    attempts.push_back(u->attempts);
    next.push_back(Ms(u->next_attempt));
    sent.push_back(Ms(*u->sent));
  }
  const std::string ids = PgTextArray(devices);
  txn.exec_params(
      "UPDATE notifier_outbox o SET state = 'sent', channel = 'ip_push', "
      "channel_index = u.ci, attempts = u.at, next_attempt_ms = u.na, sent_ms = u.se, "
      "last_error = '' "
      "FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::bigint[]) "
      "     AS u(device_id, ci, at, na, se) "
      "WHERE o.device_id = u.device_id AND o.notification_id = $6 "
      "AND o.state <> 'acknowledged'",
      ids, PgBigintArray(indexes), PgBigintArray(attempts), PgBigintArray(next),
      PgBigintArray(sent), notification_id);
  txn.exec_params(
      "INSERT INTO notifier_receipts (device_id, notification_id, channel, event, at_ms, detail) "
      "SELECT unnest($1::text[]), $2, 'ip_push', 'sent', $3, ''",
      ids, notification_id, Ms(now));
}

}  // namespace

absl::Status PgOutboxStore::Apply(const std::vector<OutboxUpdate>& updates, absl::Time now) {
  return pool_->Transact([&](pqxx::work& txn) {
    std::map<std::string, std::vector<const OutboxUpdate*>> plain;
    for (const OutboxUpdate& u : updates) {
      if (IsPlainIpPushSend(u)) plain[u.notification_id].push_back(&u);
    }
    for (const auto& [id, rows] : plain) ApplyPlainSends(txn, id, rows, now);
    for (const OutboxUpdate& u : updates) {
      if (IsPlainIpPushSend(u)) continue;
      // Never overwrite an acknowledgement that raced with the delivery.
      txn.exec_params(
          "UPDATE notifier_outbox SET state = $3, channel_index = $4, channel = $5, "
          "attempts = $6, next_attempt_ms = $7, sent_ms = coalesce($8, sent_ms), "
          "last_error = $9 WHERE device_id = $1 AND notification_id = $2 "
          "AND state <> 'acknowledged'",
          u.device_id, u.notification_id, u.state, u.channel_index,
          u.channel == v1::CHANNEL_UNSPECIFIED ? std::string() : ChannelName(u.channel), u.attempts,
          Ms(u.next_attempt), u.sent ? std::optional<int64_t>(Ms(*u.sent)) : std::nullopt,
          u.last_error);
      if (!u.receipt_event.empty()) {
        txn.exec_params(
            "INSERT INTO notifier_receipts (device_id, notification_id, channel, event, at_ms, "
            "detail) VALUES ($1, $2, $3, $4, $5, $6)",
            u.device_id, u.notification_id, ChannelName(u.channel), u.receipt_event, Ms(now),
            u.receipt_detail);
      }
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<AckResult> PgOutboxStore::Acknowledge(const std::string& device_id,
                                                     const std::string& notification_id,
                                                     absl::Time now) {
  AckResult result;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r = txn.exec_params(
        "SELECT state, channel, created_ms FROM notifier_outbox "
        "WHERE device_id = $1 AND notification_id = $2 FOR UPDATE",
        device_id, notification_id);
    if (r.empty()) {
      return absl::NotFoundError("notification " + notification_id + " was not sent to device " +
                                 device_id);
    }
    result.channel = ParseChannel(r[0][1].as<std::string>());
    result.created = absl::FromUnixMillis(r[0][2].as<int64_t>());
    if (r[0][0].as<std::string>() == "acknowledged") return absl::OkStatus();
    result.newly_acknowledged = true;
    txn.exec_params(
        "UPDATE notifier_outbox SET state = 'acknowledged', acked_ms = $3 "
        "WHERE device_id = $1 AND notification_id = $2",
        device_id, notification_id, Ms(now));
    txn.exec_params(
        "INSERT INTO notifier_receipts (device_id, notification_id, channel, event, at_ms) "
        "VALUES ($1, $2, $3, 'acknowledged', $4)",
        device_id, notification_id, r[0][1].as<std::string>(), Ms(now));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<std::vector<std::string>> PgOutboxStore::SigningKeys(const std::string& seed,
                                                                    absl::Time now) {
  std::vector<std::string> keys;
  absl::Status s = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec("LOCK TABLE notifier_signing_keys IN EXCLUSIVE MODE");
    pqxx::result r = txn.exec(
        "SELECT private_key_hex FROM notifier_signing_keys ORDER BY created_ms DESC, key_id");
    if (r.empty()) {
      auto key = seed.empty() ? Ed25519KeyPair::Generate() : Ed25519KeyPair::FromPrivateKey(seed);
      if (!key.ok()) return key.status();
      txn.exec_params(
          "INSERT INTO notifier_signing_keys (key_id, private_key_hex, public_key_hex, "
          "created_ms) VALUES ($1, $2, $3, $4)",
          absl::BytesToHexString(NotificationKeyId(key->public_key())),
          absl::BytesToHexString(key->private_key()), absl::BytesToHexString(key->public_key()),
          Ms(now));
      keys.push_back(key->private_key());
      return absl::OkStatus();
    }
    for (const auto& row : r) keys.push_back(absl::HexStringToBytes(row[0].as<std::string>()));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return keys;
}

}  // namespace updraft::notifier
