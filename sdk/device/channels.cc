#include "sdk/device/channels.h"

#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "common/tls.h"

namespace updraft::device {
namespace {

TlsOptions ToTls(const ChannelSecurity& security) {
  TlsOptions tls;
  tls.ca_file = security.ca_file;
  tls.client_cert_file = security.client_cert_file;
  tls.client_key_file = security.client_key_file;
  tls.server_name_override = security.server_name_override;
  return tls;
}

// The shape checks of ValidateChannelSecurity, then the credentials:
// `security.credentials` when loaded already, else read from the files.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> CredentialsOf(
    const ChannelSecurity& security) {
  const bool tls_fields = !security.ca_file.empty() || !security.client_cert_file.empty() ||
                          !security.client_key_file.empty() ||
                          !security.server_name_override.empty();
  if (security.plaintext) {
    if (tls_fields) {
      return absl::InvalidArgumentError(
          "ChannelSecurity.plaintext excludes ca_file, client_cert_file, client_key_file and "
          "server_name_override");
    }
  } else if (security.ca_file.empty()) {
    return absl::InvalidArgumentError(
        "ChannelSecurity.ca_file is required to verify Updraft's servers (set plaintext only "
        "for development against plaintext servers)");
  }
  if (security.credentials != nullptr) return security.credentials;
  return ChannelCredentialsFrom(ToTls(security));
}

}  // namespace

void SetLeanChannelArguments(grpc::ChannelArguments& args) {
  args.SetInt(GRPC_ARG_MINIMAL_STACK, 1);
  // The minimal stack defaults deadline checking off (grpc_types.h); the
  // SDK's RPC timeouts rely on it, so it is kept on explicitly.
  args.SetInt(GRPC_ARG_ENABLE_DEADLINE_CHECKS, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetInt(GRPC_ARG_ENABLE_CHANNELZ, 0);
}

absl::Status ValidateChannelSecurity(const ChannelSecurity& security) {
  return CredentialsOf(security).status();
}

absl::StatusOr<ChannelSecurity> LoadChannelCredentials(ChannelSecurity security) {
  UPDRAFT_ASSIGN_OR_RETURN(security.credentials, CredentialsOf(security));
  return security;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeServiceChannel(const std::string& target,
                                                                  const ChannelSecurity& security) {
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                           CredentialsOf(security));
  if (target.empty()) return absl::InvalidArgumentError("server address is empty");
  grpc::ChannelArguments args;
  SetLeanChannelArguments(args);
  if (!security.server_name_override.empty()) {
    args.SetSslTargetNameOverride(security.server_name_override);
  }
  return grpc::CreateCustomChannel(target, credentials, args);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeStreamChannel(
    const std::string& target, const ChannelSecurity& security, int keepalive_time_ms,
    const grpc::ChannelArguments& extra) {
  UPDRAFT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                           CredentialsOf(security));
  if (target.empty()) return absl::InvalidArgumentError("server address is empty");
  if (keepalive_time_ms < 60000) {
    return absl::InvalidArgumentError(
        "keepalive_time_ms must be at least 60000 (the notifier's ping limit)");
  }
  grpc::ChannelArguments args = extra;
  SetLeanChannelArguments(args);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, keepalive_time_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  if (!security.server_name_override.empty()) {
    args.SetSslTargetNameOverride(security.server_name_override);
  }
  return grpc::CreateCustomChannel(target, credentials, args);
}

std::function<std::shared_ptr<grpc::Channel>(const std::string&)> DownloadChannelFactory(
    ChannelSecurity security) {
  return [security = std::move(security)](const std::string& target) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeServiceChannel(target, security);
    return channel.ok() ? *std::move(channel) : nullptr;
  };
}

}  // namespace updraft::device
