#include "common/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace updraft {

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(Options options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<GrpcServer> s(new GrpcServer());
  grpc::ServerBuilder builder;
  auto creds = options.credentials ? options.credentials : grpc::InsecureServerCredentials();
  builder.AddListeningPort(options.listen_address, creds, &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  for (grpc::Service* service : options.services) builder.RegisterService(service);
  for (const auto& [key, value] : options.int_channel_args) builder.AddChannelArgument(key, value);
  if (options.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
    f.push_back(options.metrics->NewRpcInterceptorFactory(options.methods_observing_themselves));
    builder.experimental().SetInterceptorCreators(std::move(f));
  }
  s->server_ = builder.BuildAndStart();
  if (!s->server_ || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", options.listen_address));
  }
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  return s;
}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || !server_) return;
  shut_down_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace updraft
