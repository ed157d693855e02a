#include "services/auth/durable_revocation_publisher.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace updraft {

absl::StatusOr<std::unique_ptr<DurableRevocationPublisher>> DurableRevocationPublisher::Create(
    Options options) {
  if (options.pool == nullptr || options.next == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "DurableRevocationPublisher needs a pool, a publisher and a clock");
  }
  std::unique_ptr<DurableRevocationPublisher> p(new DurableRevocationPublisher(std::move(options)));
  if (p->options_.interval > absl::ZeroDuration()) {
    p->thread_ = std::thread([raw = p.get()] { raw->Run(); });
  }
  return p;
}

DurableRevocationPublisher::~DurableRevocationPublisher() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::Status DurableRevocationPublisher::Publish(const Revocation& revocation) {
  const std::string message = EncodeRevocation(revocation);
  UPDRAFT_RETURN_IF_ERROR(options_.pool->Transact([&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO revocations (message, expires_at)"
        " VALUES ($1, to_timestamp($2::bigint / 1e3)) ON CONFLICT (message) DO NOTHING",
        message, absl::ToUnixMillis(revocation.expires_at));
    return absl::OkStatus();
  }));
  return options_.next->Publish(revocation);
}

absl::StatusOr<int> DurableRevocationPublisher::Republish() {
  const int64_t now_ms = absl::ToUnixMillis(options_.clock->Now());
  std::vector<std::string> messages;
  UPDRAFT_RETURN_IF_ERROR(options_.pool->Transact([&](pqxx::work& txn) {
    messages.clear();
    txn.exec_params("DELETE FROM revocations WHERE expires_at <= to_timestamp($1::bigint / 1e3)",
                    now_ms);
    for (const auto& row : txn.exec("SELECT message FROM revocations ORDER BY expires_at")) {
      messages.push_back(row[0].as<std::string>());
    }
    return absl::OkStatus();
  }));
  int published = 0;
  for (const std::string& message : messages) {
    absl::StatusOr<Revocation> r = DecodeRevocation(message);
    if (!r.ok())
      return absl::InternalError(absl::StrCat("stored revocation is corrupt: ", message));
    UPDRAFT_RETURN_IF_ERROR(options_.next->Publish(*r));
    ++published;
  }
  return published;
}

void DurableRevocationPublisher::Run() {
  while (!stop_.WaitForNotificationWithTimeout(options_.interval)) {
    absl::StatusOr<int> n = Republish();
    if (!n.ok() && options_.logger != nullptr) {
      options_.logger->Warning("revocations not republished",
                               {{"error", std::string(n.status().message())}});
    }
  }
}

}  // namespace updraft
