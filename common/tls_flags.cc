#include "common/tls_flags.h"

#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate (chain) of the gRPC listener; with --tls_key enables TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle verifying the services this one calls (TLS when set) and, with "
          "--tls_require_client_cert, the certificates clients present");
ABSL_FLAG(bool, tls_require_client_cert, false,
          "Mutual TLS: refuse clients without a certificate signed by --tls_ca");
ABSL_FLAG(std::string, tls_client_cert, "",
          "PEM certificate this service presents when calling other services (mutual TLS)");
ABSL_FLAG(std::string, tls_client_key, "", "PEM private key of --tls_client_cert");

namespace updraft {

TlsOptions TlsOptionsFromFlags() {
  TlsOptions tls;
  tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  tls.key_file = absl::GetFlag(FLAGS_tls_key);
  tls.ca_file = absl::GetFlag(FLAGS_tls_ca);
  tls.require_client_cert = absl::GetFlag(FLAGS_tls_require_client_cert);
  tls.client_cert_file = absl::GetFlag(FLAGS_tls_client_cert);
  tls.client_key_file = absl::GetFlag(FLAGS_tls_client_key);
  return tls;
}

}  // namespace updraft
