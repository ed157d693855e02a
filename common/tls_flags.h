#ifndef UPDRAFT_COMMON_TLS_FLAGS_H_
#define UPDRAFT_COMMON_TLS_FLAGS_H_

#include "common/tls.h"

namespace updraft {

// The TLS flags every service binary shares (link this library into a
// service main only; each flag can also be set as UPDRAFT_<FLAG>):
//   --tls_cert, --tls_key          certificate and key of the gRPC listener
//   --tls_ca                       CA verifying the services this one calls,
//                                  and client certificates with mutual TLS
//   --tls_require_client_cert      mutual TLS on the listener
//   --tls_client_cert, --tls_client_key
//                                  certificate presented to other services
// All empty: plaintext.
TlsOptions TlsOptionsFromFlags();

}  // namespace updraft

#endif  // UPDRAFT_COMMON_TLS_FLAGS_H_
