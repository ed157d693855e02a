#ifndef UPDRAFT_COMMON_TLS_H_
#define UPDRAFT_COMMON_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace updraft {

// Transport security of one process: the certificate it serves with, the CA
// it trusts, and the certificate it presents when calling other services.
// Every field empty means plaintext everywhere (unit tests, quick local
// runs). Paths name PEM files. Services fill it from the --tls_* flags (see
// tls_flags.h); tools and the device SDK fill the client half.
struct TlsOptions {
  // Certificate chain and private key of this process's gRPC listener. Both
  // or neither; neither means the listener is plaintext.
  std::string cert_file;
  std::string key_file;
  // CA bundle that verifies the servers this process calls and, with
  // require_client_cert, the certificates its clients present. Empty means
  // outgoing channels are plaintext.
  std::string ca_file;
  // Mutual TLS: the listener refuses clients without a certificate signed by
  // ca_file.
  bool require_client_cert = false;
  // Certificate and key presented when calling other services (mutual TLS).
  // Both or neither; they need ca_file.
  std::string client_cert_file;
  std::string client_key_file;
  // Name expected in the servers' certificates instead of the host of the
  // address dialled (e.g. "auth" when dialling 10.0.0.7:7401). Empty: the
  // host of the address.
  std::string server_name_override;

  bool serves_tls() const { return !cert_file.empty() || !key_file.empty(); }
  bool dials_tls() const { return !ca_file.empty(); }
};

// Credentials for a listener. Insecure when neither cert_file nor key_file
// is set. Errors: NOT_FOUND for a file that cannot be read,
// INVALID_ARGUMENT for a file without the expected PEM content, a key that
// does not match its certificate, or an incomplete combination (the message
// names the file or the option).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFrom(
    const TlsOptions& options);

// Credentials for outgoing channels: TLS verifying servers with ca_file (and
// presenting client_cert_file when set); insecure when ca_file is empty.
// Errors as for ServerCredentialsFrom.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFrom(
    const TlsOptions& options);

// A channel to `address` with ChannelCredentialsFrom(options), honouring
// server_name_override. Connects lazily: a server that is down or fails
// verification shows up as UNAVAILABLE on the first RPC.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& address,
                                                           const TlsOptions& options);

}  // namespace updraft

#endif  // UPDRAFT_COMMON_TLS_H_
