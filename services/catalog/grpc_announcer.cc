#include "services/catalog/grpc_announcer.h"

#include "common/status_util.h"

namespace updraft::catalog {

absl::StatusOr<v1::AnnounceResponse> GrpcAnnouncer::Announce(const v1::AnnounceRequest& request) {
  v1::AnnounceRequest r = request;
  if (r.server_address().empty()) r.set_server_address(server_address_);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  if (credentials_ != nullptr) UPDRAFT_RETURN_IF_ERROR(credentials_->Authorize(&context));
  v1::AnnounceResponse response;
  grpc::Status s = stub_->Announce(&context, r, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

}  // namespace updraft::catalog
