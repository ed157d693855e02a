#ifndef UPDRAFT_COMMON_GRPC_SERVER_H_
#define UPDRAFT_COMMON_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics.h"

namespace updraft {

// A started gRPC server carrying what every Updraft service has: the given
// services, gRPC health checking (status SERVING once started), server
// reflection, and the RPC metrics interceptor.
class GrpcServer {
 public:
  struct Options {
    // "127.0.0.1:0" picks a free port; see port().
    std::string listen_address = "127.0.0.1:0";
    std::vector<grpc::Service*> services;
    // Optional; RPC metrics are recorded when set.
    Metrics* metrics = nullptr;
    // Methods whose handlers record their own RPC metrics (see
    // Metrics::NewRpcInterceptorFactory), e.g. a service's hot path.
    std::vector<std::string> methods_observing_themselves;
    std::shared_ptr<grpc::ServerCredentials> credentials;
    // Applied to the builder last, for service-specific tuning.
    std::vector<std::pair<std::string, int>> int_channel_args;
    int max_receive_message_bytes = 8 << 20;
  };

  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(Options options);
  ~GrpcServer();

  int port() const { return port_; }
  grpc::Server* server() { return server_.get(); }
  // Marks the server NOT_SERVING, then stops it, waiting up to `grace`.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

 private:
  GrpcServer() = default;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace updraft

#endif  // UPDRAFT_COMMON_GRPC_SERVER_H_
