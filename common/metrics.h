#ifndef UPDRAFT_COMMON_METRICS_H_
#define UPDRAFT_COMMON_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace updraft {

// A service's Prometheus registry and, when asked, the HTTP `/metrics`
// endpoint that serves it. Components register their own families on
// registry(); RPC latency by method and code comes from the interceptor
// returned by NewRpcInterceptorFactory().
class Metrics {
 public:
  // `listen_address` like "127.0.0.1:9090" (port 0 picks one); empty means
  // no HTTP endpoint (tests).
  static absl::StatusOr<std::unique_ptr<Metrics>> Create(const std::string& listen_address);

  prometheus::Registry& registry() { return *registry_; }
  // Port the exposer listens on; 0 without an endpoint.
  int port() const;

  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRpcInterceptorFactory();

  // Records one finished RPC; used by the interceptor.
  void ObserveRpc(const std::string& method, grpc::StatusCode code, double seconds);

 private:
  Metrics();
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Family<prometheus::Counter>* handled_;
  prometheus::Family<prometheus::Histogram>* latency_;
};

// Name of a gRPC status code as Prometheus label, e.g. "NOT_FOUND".
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_METRICS_H_
