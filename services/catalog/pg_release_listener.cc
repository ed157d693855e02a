#include "services/catalog/pg_release_listener.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "services/catalog/pg_catalog_store.h"
#include "services/catalog/pg_operation_store.h"

namespace updraft::catalog {

// One listening connection; `notified` is set by libpqxx from inside
// await_notification().
class PgReleaseListener::Session {
 public:
  Session(const std::string& uri, PendingOperationIndex* index)
      : connection(uri), receiver(connection, this) {
    if (index != nullptr) operations = std::make_unique<OperationReceiver>(connection, index);
  }

  struct Receiver : pqxx::notification_receiver {
    Receiver(pqxx::connection_base& c, Session* s)
        : pqxx::notification_receiver(c, kReleasesChannel), session(s) {}
    void operator()(const std::string&, int) override { session->notified = true; }
    Session* session;
  };
  // Payload: a device with a newly queued operation.
  struct OperationReceiver : pqxx::notification_receiver {
    OperationReceiver(pqxx::connection_base& c, PendingOperationIndex* i)
        : pqxx::notification_receiver(c, kOperationsChannel), index(i) {}
    void operator()(const std::string& device_id, int) override { index->Mark(device_id); }
    PendingOperationIndex* index;
  };

  pqxx::connection connection;
  bool notified = false;
  Receiver receiver;
  std::unique_ptr<OperationReceiver> operations;
};

absl::StatusOr<std::unique_ptr<PgReleaseListener::Session>> PgReleaseListener::Connect() {
  try {
    auto session = std::make_unique<Session>(options_.pg_uri, options_.pending_operations);
    // Make sure LISTEN has reached the server before the reload that follows.
    session->connection.await_notification(0, 0);
    backend_pid_ = session->connection.backendpid();
    return session;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("release listener cannot connect: ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<PgReleaseListener>> PgReleaseListener::Start(Options options) {
  if (options.cache == nullptr || options.logger == nullptr || options.pg_uri.empty()) {
    return absl::InvalidArgumentError("PgReleaseListener needs pg_uri, a cache and a logger");
  }
  if ((options.pending_operations == nullptr) != (options.operation_store == nullptr)) {
    return absl::InvalidArgumentError(
        "PgReleaseListener needs both pending_operations and operation_store, or neither");
  }
  if (options.full_reload_interval <= absl::ZeroDuration() ||
      options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("PgReleaseListener intervals must be positive");
  }
  std::unique_ptr<PgReleaseListener> l(new PgReleaseListener(std::move(options)));
  auto session = l->Connect();
  if (!session.ok()) return session.status();
  absl::Status loaded = l->Reload();
  if (!loaded.ok()) return loaded;
  l->thread_ =
      std::thread([p = l.get(), s = *std::move(session)]() mutable { p->Run(std::move(s)); });
  return l;
}

absl::Status PgReleaseListener::Reload() {
  absl::Status s = options_.cache->Reload();
  if (!s.ok() || options_.pending_operations == nullptr) return s;
  absl::StatusOr<std::vector<std::string>> devices =
      options_.operation_store->DevicesWithOpenOperations();
  if (!devices.ok()) return devices.status();
  options_.pending_operations->Reset(*devices);
  return absl::OkStatus();
}

PgReleaseListener::~PgReleaseListener() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void PgReleaseListener::Run(std::unique_ptr<Session> session) {
  const int64_t poll_us = absl::ToInt64Microseconds(options_.poll_interval);
  absl::Time last_reload = absl::Now();
  // A full reload (releases and the pending-operation index) at reconnects
  // and every full_reload_interval; a release NOTIFY reloads only the
  // releases (the index follows its own channel).
  bool reload = false;
  bool releases_changed = false;
  while (!stop_.HasBeenNotified()) {
    if (session == nullptr) {
      auto s = Connect();
      if (!s.ok()) {
        options_.logger->Warning("release listener reconnect failed",
                                 {{"error", std::string(s.status().message())}});
        stop_.WaitForNotificationWithTimeout(options_.reconnect_delay);
        continue;
      }
      session = *std::move(s);
      ++reconnects_;
      options_.logger->Info("release listener reconnected");
      reload = true;
    }
    if (absl::Now() - last_reload >= options_.full_reload_interval) reload = true;
    if (reload || releases_changed) {
      absl::Status s = reload ? Reload() : options_.cache->Reload();
      if (s.ok()) {
        if (reload) last_reload = absl::Now();
        reload = false;
        releases_changed = false;
      } else {
        options_.logger->Warning("release snapshot reload failed",
                                 {{"error", std::string(s.message())}});
        stop_.WaitForNotificationWithTimeout(options_.reconnect_delay);
        continue;
      }
    }
    try {
      session->connection.await_notification(poll_us / 1000000, poll_us % 1000000);
      if (session->notified) {
        session->notified = false;
        releases_changed = true;
      }
    } catch (const std::exception& e) {
      options_.logger->Warning("release listener lost its connection", {{"error", e.what()}});
      backend_pid_ = 0;
      session.reset();
      stop_.WaitForNotificationWithTimeout(options_.reconnect_delay);
    }
  }
  backend_pid_ = 0;
}

}  // namespace updraft::catalog
