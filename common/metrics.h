#ifndef UPDRAFT_COMMON_METRICS_H_
#define UPDRAFT_COMMON_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
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

  // The interceptor records every method except those in
  // `observed_by_handlers` (full names, "/pkg.Service/Method"), whose
  // handlers call ObserveRpc themselves: gRPC's interceptor machinery costs
  // a hot method about 4 microseconds per call (a seventh of an update
  // check), and a method no factory intercepts skips it.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRpcInterceptorFactory(
      std::vector<std::string> observed_by_handlers = {});

  // Records one finished RPC; used by the interceptor. The series of each
  // method and code are looked up in the families once and then found under
  // a reader lock (Family::Add builds a label map and hashes it under the
  // family's lock: two of those per call were a measurable part of a
  // 35-microsecond update check).
  void ObserveRpc(absl::string_view method, grpc::StatusCode code, double seconds);

 private:
  // One method's series, by status code (0-16), created on first use.
  struct RpcSeries {
    prometheus::Counter* handled = nullptr;
    prometheus::Histogram* latency = nullptr;
  };
  using MethodSeries = std::array<RpcSeries, 17>;

  Metrics();
  const RpcSeries& SeriesFor(absl::string_view method, int code);
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Family<prometheus::Counter>* handled_;
  prometheus::Family<prometheus::Histogram>* latency_;
  absl::Mutex series_mu_;
  // Node map: a found element stays where it is while others are added.
  absl::node_hash_map<std::string, MethodSeries> series_ ABSL_GUARDED_BY(series_mu_);
};

// Name of a gRPC status code as Prometheus label, e.g. "NOT_FOUND".
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_METRICS_H_
