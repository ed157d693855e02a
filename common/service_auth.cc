#include "common/service_auth.h"

#include <grpcpp/grpcpp.h>

#include "common/device_auth.h"
#include "common/status_util.h"
#include "updraft/v1/auth.grpc.pb.h"

namespace updraft {

absl::StatusOr<std::unique_ptr<ServiceAuth>> ServiceAuth::Create(Options options) {
  if (options.clock == nullptr) return absl::InvalidArgumentError("ServiceAuth needs a clock");
  if (options.metrics == nullptr) {
    return absl::InvalidArgumentError("ServiceAuth needs a metrics registry");
  }
  std::unique_ptr<ServiceAuth> a(new ServiceAuth());
  PublicKeySource* keys = options.key_source_override;
  if (keys == nullptr) {
    UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                             MakeChannel(options.auth_address, options.tls));
    a->key_source_ =
        std::make_unique<AuthServiceKeySource>(v1::Auth::NewStub(channel), options.clock);
    keys = a->key_source_.get();
  }
  a->revocations_ = std::make_unique<RevocationList>(options.clock);
  if (options.redis.has_value()) {
    UPDRAFT_ASSIGN_OR_RETURN(a->revocation_feed_,
                             RedisRevocationFeed::Start({.redis = *options.redis,
                                                         .key_prefix = options.redis_key_prefix,
                                                         .list = a->revocations_.get(),
                                                         .clock = options.clock,
                                                         .logger = options.logger}));
  }
  a->device_verifier_ = std::make_unique<TokenVerifier>(
      TokenVerifier::Options{.keys = keys,
                             .clock = options.clock,
                             .audience = std::string(kDeviceAudience),
                             .revocations = a->revocations_.get(),
                             .metrics = options.metrics});
  a->operator_verifier_ = std::make_unique<TokenVerifier>(
      TokenVerifier::Options{.keys = keys,
                             .clock = options.clock,
                             .audience = std::string(kOperatorAudience),
                             .cache_capacity = 10000,
                             .revocations = a->revocations_.get(),
                             .metrics = options.metrics});
  return a;
}

}  // namespace updraft
