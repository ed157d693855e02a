#ifndef UPDRAFT_SERVICES_CATALOG_PG_RELEASE_LISTENER_H_
#define UPDRAFT_SERVICES_CATALOG_PG_RELEASE_LISTENER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/logger.h"
#include "services/catalog/operation_store.h"
#include "services/catalog/pending_operation_index.h"
#include "services/catalog/release_cache.h"

namespace updraft::catalog {

// Keeps a ReleaseCache (and optionally a PendingOperationIndex) current across catalog replicas: a
// thread with its own PostgreSQL connection LISTENs on kReleasesChannel (publish and withdraw
// NOTIFY there in their transaction) and reloads the cache on every notification. A lost connection
// is reopened after `reconnect_delay`, followed by a full reload (notifications sent meanwhile are
// lost); a full reload also runs every `full_reload_interval` as a safety net.
class PgReleaseListener {
 public:
  struct Options {
    std::string pg_uri;
    ReleaseCache* cache = nullptr;
    Logger* logger = nullptr;
    // Optional, together: the listener also LISTENs on kOperationsChannel,
    // marks each notified device in `pending_operations`, and reloads the
    // index from `operation_store` whenever it reloads the cache.
    PendingOperationIndex* pending_operations = nullptr;
    OperationStore* operation_store = nullptr;
    absl::Duration full_reload_interval = absl::Minutes(5);
    absl::Duration reconnect_delay = absl::Seconds(1);
    // How often the thread checks for shutdown while idle.
    absl::Duration poll_interval = absl::Milliseconds(200);
  };

  // Connects, LISTENs, loads the cache once (so no change is missed between
  // the load and the LISTEN) and starts the thread. Fails if any of that fails.
  static absl::StatusOr<std::unique_ptr<PgReleaseListener>> Start(Options options);
  ~PgReleaseListener();

  // PostgreSQL backend PID of the listening connection (0 while
  // disconnected), e.g. for tests that cut it with pg_terminate_backend().
  int backend_pid() const { return backend_pid_.load(); }
  // Connections opened after the first.
  int reconnects() const { return reconnects_.load(); }

 private:
  class Session;
  explicit PgReleaseListener(Options options) : options_(std::move(options)) {}
  void Run(std::unique_ptr<Session> session);
  // The cache, and the pending-operation index when there is one.
  absl::Status Reload();
  absl::StatusOr<std::unique_ptr<Session>> Connect();

  const Options options_;
  absl::Notification stop_;
  std::atomic<int> backend_pid_{0};
  std::atomic<int> reconnects_{0};
  std::thread thread_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_PG_RELEASE_LISTENER_H_
