#include "common/metrics.h"

#include <chrono>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace updraft {
namespace {

class RpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(Metrics* metrics, const char* method)
      : metrics_(metrics), method_(method), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
      metrics_->ObserveRpc(method_, methods->GetSendStatus().error_code(), elapsed.count());
    }
    methods->Proceed();
  }

 private:
  Metrics* metrics_;
  const char* method_;  // the server's registered name: lives as long as the call
  std::chrono::steady_clock::time_point start_;
};

class RpcMetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  RpcMetricsInterceptorFactory(Metrics* metrics, std::vector<std::string> skip)
      : metrics_(metrics), skip_(skip.begin(), skip.end()) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (skip_.contains(info->method())) return nullptr;  // gRPC then runs no interceptor
    return new RpcMetricsInterceptor(metrics_, info->method());
  }

 private:
  Metrics* metrics_;
  const absl::flat_hash_set<std::string> skip_;
};

}  // namespace

const char* GrpcCodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return (i >= 0 && i <= 16) ? kNames[i] : "UNKNOWN";
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  handled_ = &prometheus::BuildCounter()
                  .Name("updraft_grpc_server_handled_total")
                  .Help("RPCs completed on the server, by method and status code.")
                  .Register(*registry_);
  latency_ = &prometheus::BuildHistogram()
                  .Name("updraft_grpc_server_handling_seconds")
                  .Help("Time from the start of an RPC to its status, by method and status code.")
                  .Register(*registry_);
}

absl::StatusOr<std::unique_ptr<Metrics>> Metrics::Create(const std::string& listen_address) {
  std::unique_ptr<Metrics> m(new Metrics());
  if (!listen_address.empty()) {
    try {
      m->exposer_ = std::make_unique<prometheus::Exposer>(listen_address);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot serve /metrics on ", listen_address, ": ", e.what()));
    }
    m->exposer_->RegisterCollectable(m->registry_);
  }
  return m;
}

int Metrics::port() const {
  if (!exposer_) return 0;
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Metrics::NewRpcInterceptorFactory(std::vector<std::string> observed_by_handlers) {
  return std::make_unique<RpcMetricsInterceptorFactory>(this, std::move(observed_by_handlers));
}

void Metrics::ObserveRpc(absl::string_view method, grpc::StatusCode code, double seconds) {
  const int c = static_cast<int>(code);
  const RpcSeries& series = SeriesFor(method, c >= 0 && c <= 16 ? c : 2 /* UNKNOWN */);
  series.handled->Increment();
  series.latency->Observe(seconds);
}

const Metrics::RpcSeries& Metrics::SeriesFor(absl::string_view method, int code) {
  {
    absl::ReaderMutexLock lock(&series_mu_);
    auto it = series_.find(method);
    if (it != series_.end() && it->second[code].handled != nullptr) return it->second[code];
  }
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  const std::map<std::string, std::string> labels = {
      {"method", std::string(method)}, {"code", GrpcCodeName(static_cast<grpc::StatusCode>(code))}};
  absl::MutexLock lock(&series_mu_);
  RpcSeries& series = series_[method][code];
  if (series.handled == nullptr) {
    series.latency = &latency_->Add(labels, kBuckets);
    series.handled = &handled_->Add(labels);
  }
  return series;
}

}  // namespace updraft
