#include "services/catalog/pg_webhook_store.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "services/catalog/pg_campaign_rows.h"

namespace updraft::catalog {

absl::Status PgWebhookStore::CreateWebhook(const v1::Webhook& w, const std::string& secret) {
  return pool_->Transact([&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO campaign_webhooks (webhook_id, url, secret, campaign_id, created_at)"
        " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint))",
        w.webhook_id(), w.url(), secret, w.campaign_id(), w.created_at_unix());
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::Webhook>> PgWebhookStore::ListWebhooks() {
  std::vector<v1::Webhook> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) {
    out.clear();
    for (const pqxx::row& row :
         txn.exec("SELECT webhook_id, url, campaign_id, extract(epoch FROM created_at)::bigint"
                  " FROM campaign_webhooks ORDER BY webhook_id")) {
      v1::Webhook w;
      w.set_webhook_id(row[0].as<std::string>());
      w.set_url(row[1].as<std::string>());
      w.set_campaign_id(row[2].as<std::string>());
      w.set_created_at_unix(row[3].as<int64_t>());
      out.push_back(std::move(w));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgWebhookStore::DeleteWebhook(const std::string& webhook_id) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    if (txn.exec_params("DELETE FROM campaign_webhooks WHERE webhook_id = $1", webhook_id)
            .affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("webhook ", webhook_id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<WebhookDelivery>> PgWebhookStore::ClaimDeliveries(absl::Time now,
                                                                             absl::Time lease_until,
                                                                             int limit) {
  std::vector<WebhookDelivery> out;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    out.clear();
    for (const pqxx::row& row : txn.exec_params(
             absl::StrCat(
                 "UPDATE campaign_webhook_deliveries d SET next_attempt_at = ", PgTimestampParam(2),
                 " FROM campaign_webhooks w, campaign_events e"
                 " WHERE d.delivery_id IN (SELECT delivery_id FROM"
                 " campaign_webhook_deliveries WHERE delivered_at IS NULL AND NOT gave_up"
                 " AND next_attempt_at <= ",
                 PgTimestampParam(1),
                 " ORDER BY delivery_id LIMIT $3 FOR UPDATE SKIP LOCKED)"
                 " AND w.webhook_id = d.webhook_id AND e.event_id = d.event_id"
                 " RETURNING d.delivery_id, d.attempts, w.url, w.secret, e.event_id,"
                 " encode(e.event, 'hex')"),
             PgMicros(now), PgMicros(lease_until), limit)) {
      WebhookDelivery d;
      d.delivery_id = row[0].as<int64_t>();
      d.attempts = row[1].as<int>();
      d.url = row[2].as<std::string>();
      d.secret = row[3].as<std::string>();
      UPDRAFT_ASSIGN_OR_RETURN(
          d.event, CampaignEventFromHex(row[4].as<int64_t>(), row[5].as<std::string>()));
      out.push_back(std::move(d));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.delivery_id < b.delivery_id; });
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgWebhookStore::FinishDelivery(int64_t delivery_id, bool delivered, bool give_up,
                                            absl::Time next_at, const std::string& error,
                                            absl::Time now) {
  return pool_->Transact([&](pqxx::work& txn) {
    txn.exec_params(absl::StrCat("UPDATE campaign_webhook_deliveries SET attempts = attempts + 1,"
                                 " delivered_at = CASE WHEN $2 THEN ",
                                 PgTimestampParam(5), " END, gave_up = $3, next_attempt_at = ",
                                 PgTimestampParam(4), ", last_error = $6 WHERE delivery_id = $1"),
                    delivery_id, delivered, give_up, PgMicros(next_at), PgMicros(now), error);
    return absl::OkStatus();
  });
}

}  // namespace updraft::catalog
