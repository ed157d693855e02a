#ifndef UPDRAFT_SDK_DEVICE_CHANNELS_H_
#define UPDRAFT_SDK_DEVICE_CHANNELS_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace updraft::device {

// How a device reaches Updraft's servers. TLS verifying the servers with
// `ca_file` is the default and the only production setting: a device with
// neither a CA nor an explicit `plaintext = true` gets no channel at all, so
// a handset build cannot ship plaintext by accident.
struct ChannelSecurity {
  // PEM CA bundle the device trusts for Updraft's servers (e.g. the
  // carrier's CA, or .run/tls/ca.pem from scripts/dev-ca.sh).
  std::string ca_file;
  // Optional device certificate and key, for servers requiring client
  // certificates (mutual TLS). Both or neither.
  std::string client_cert_file;
  std::string client_key_file;
  // Name expected in the servers' certificates when it differs from the host
  // dialled. Empty: the host of each address.
  std::string server_name_override;
  // Development and tests only: no TLS. Exclusive with the fields above.
  bool plaintext = false;
  // The credentials the fields above describe, once loaded
  // (LoadChannelCredentials): every channel made with this ChannelSecurity
  // then shares them instead of reading the files again. Null: read the
  // files for each channel.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
};

// The arguments every SDK channel gets, to keep a device small: the minimal
// filter stack (with deadline checking kept on), no gRPC-level retries (the
// SDK retries itself) and no channelz. Saves about 9 KiB per channel.
void SetLeanChannelArguments(grpc::ChannelArguments& args);

// INVALID_ARGUMENT when `security` is neither TLS (ca_file) nor explicitly
// plaintext, or mixes the two; file problems as common/tls.h describes.
absl::Status ValidateChannelSecurity(const ChannelSecurity& security);

// `security` validated as above, with `credentials` loaded from its files:
// for a process dialling several channels (auth, catalog, downloads, the
// notifier) so the CA and the client key are read once.
absl::StatusOr<ChannelSecurity> LoadChannelCredentials(ChannelSecurity security);

// A channel to `target` ("host:port") secured as `security` says.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeServiceChannel(const std::string& target,
                                                                  const ChannelSecurity& security);

// Like MakeServiceChannel, for a channel holding a long-lived stream (the IP
// Push subscription): HTTP/2 keepalive pings every `keepalive_time` (the
// notifier accepts one per minute at most, so at least 60 s) with a 20 s
// timeout, also while no call is active, so a dead link is noticed and the
// stream re-established. `extra`: further channel arguments, e.g.
// GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL so the channel never shares its
// connection with other channels of the process (the fleet simulator's one
// connection per device).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeStreamChannel(
    const std::string& target, const ChannelSecurity& security, int keepalive_time_ms = 300000,
    const grpc::ChannelArguments& extra = grpc::ChannelArguments());

// A Client::Options::download_channel_factory dialling every offer's
// download target with `security` (null for a target that cannot be
// dialled; the client then reports the download as failed).
std::function<std::shared_ptr<grpc::Channel>(const std::string&)> DownloadChannelFactory(
    ChannelSecurity security);

}  // namespace updraft::device

#endif  // UPDRAFT_SDK_DEVICE_CHANNELS_H_
