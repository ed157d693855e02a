#ifndef UPDRAFT_SERVICES_CATALOG_GRPC_ANNOUNCER_H_
#define UPDRAFT_SERVICES_CATALOG_GRPC_ANNOUNCER_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/operator_auth.h"
#include "services/catalog/announcer.h"
#include "updraft/v1/notifier.grpc.pb.h"

namespace updraft::catalog {

// Announcer over the notifier's Announce RPC, sending the catalog's operator
// token (role publisher) from `credentials` when set. Fills server_address
// with `server_address` (the catalog address devices check with) when the
// request leaves it empty.
class GrpcAnnouncer : public Announcer {
 public:
  GrpcAnnouncer(std::unique_ptr<v1::Notifier::StubInterface> stub, std::string server_address,
                OperatorTokenSource* credentials, absl::Duration timeout = absl::Seconds(10))
      : stub_(std::move(stub)),
        server_address_(std::move(server_address)),
        credentials_(credentials),
        timeout_(timeout) {}

  absl::StatusOr<v1::AnnounceResponse> Announce(const v1::AnnounceRequest& request) override;

 private:
  std::unique_ptr<v1::Notifier::StubInterface> stub_;
  const std::string server_address_;
  OperatorTokenSource* credentials_;
  const absl::Duration timeout_;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_GRPC_ANNOUNCER_H_
