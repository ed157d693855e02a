#include "tools/updraftctl/output.h"

#include <grpcpp/support/client_interceptor.h>

#include "absl/strings/match.h"
#include "common/status_util.h"
#include "google/protobuf/util/json_util.h"

namespace updraft::ctl {
namespace {

class RecordingInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit RecordingInterceptor(ResponseRecorder* recorder) : recorder_(recorder) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_MESSAGE)) {
      void* m = methods->GetRecvMessage();
      if (m != nullptr) recorder_->Record(*static_cast<google::protobuf::Message*>(m));
    }
    methods->Proceed();
  }

 private:
  ResponseRecorder* recorder_;
};

class RecordingFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit RecordingFactory(ResponseRecorder* recorder) : recorder_(recorder) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new RecordingInterceptor(recorder_);
  }

 private:
  ResponseRecorder* recorder_;
};

}  // namespace

int ExitCodeFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnreachable;
    case absl::StatusCode::kInvalidArgument:
      return absl::StartsWith(s.message(), "--") ? kExitUsage : kExitRefused;
    default:
      return kExitRefused;
  }
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  return json;
}

void ResponseRecorder::Record(const google::protobuf::Message& message) {
  std::unique_ptr<google::protobuf::Message> copy(message.New());
  copy->CopyFrom(message);
  absl::MutexLock lock(&mu_);
  messages_.push_back(std::move(copy));
}

std::vector<std::unique_ptr<google::protobuf::Message>> ResponseRecorder::Take() {
  absl::MutexLock lock(&mu_);
  return std::exchange(messages_, {});
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeRecordingChannel(const std::string& address,
                                                                    const TlsOptions& tls,
                                                                    ResponseRecorder* recorder) {
  if (address.empty()) return absl::InvalidArgumentError("channel address is empty");
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> creds,
                           ChannelCredentialsFrom(tls));
  grpc::ChannelArguments args;
  if (tls.dials_tls() && !tls.server_name_override.empty()) {
    args.SetSslTargetNameOverride(tls.server_name_override);
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<RecordingFactory>(recorder));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, creds, args,
                                                                 std::move(factories));
}

}  // namespace updraft::ctl
