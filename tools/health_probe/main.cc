// health_probe: asks a gRPC server for its health (grpc.health.v1) and exits
// 0 when it is SERVING, 1 otherwise (2 for bad TLS flags). Used by ./dev.sh to
// wait for services and as a container health check.
//   health_probe --address=127.0.0.1:7402 [--service=NAME] [--wait=10s]
//       [--tls_ca=ca.pem [--tls_client_cert=c.pem --tls_client_key=c.key]]
// Flags can also be set as UPDRAFT_<FLAG> environment variables; the TLS
// flags have the services' names and meaning, so inside a service's container
// the probe picks up the service's own UPDRAFT_TLS_CA/CLIENT_CERT/CLIENT_KEY.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/flags.h"
#include "common/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"

ABSL_FLAG(std::string, address, "127.0.0.1:7401", "gRPC address to probe");
ABSL_FLAG(std::string, service, "", "service name; empty for the whole server");
ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(), "keep trying this long");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA verifying the server (TLS); empty: plaintext");
ABSL_FLAG(std::string, tls_client_cert, "",
          "PEM client certificate, for servers requiring one (mutual TLS)");
ABSL_FLAG(std::string, tls_client_key, "", "PEM private key of --tls_client_cert");
ABSL_FLAG(std::string, tls_server_name, "",
          "name expected in the server's certificate when it differs from the address host");

int main(int argc, char** argv) {
  updraft::ParseFlagsWithEnvironment(argc, argv);
  updraft::TlsOptions tls;
  tls.ca_file = absl::GetFlag(FLAGS_tls_ca);
  tls.client_cert_file = absl::GetFlag(FLAGS_tls_client_cert);
  tls.client_key_file = absl::GetFlag(FLAGS_tls_client_key);
  tls.server_name_override = absl::GetFlag(FLAGS_tls_server_name);
  absl::Time give_up = absl::Now() + absl::GetFlag(FLAGS_wait);
  std::string last;
  do {
    // A new channel per attempt: a channel that failed to connect waits out
    // gRPC's reconnect backoff (1 s and growing), which would slow every
    // start-up wait by seconds.
    auto channel = updraft::MakeChannel(absl::GetFlag(FLAGS_address), tls);
    if (!channel.ok()) {
      fprintf(stderr, "health_probe: %s\n", std::string(channel.status().message()).c_str());
      return 2;
    }
    auto stub = grpc::health::v1::Health::NewStub(*channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(absl::GetFlag(FLAGS_service));
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status s = stub->Check(&ctx, req, &resp);
    if (s.ok() && resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) return 0;
    last = s.ok() ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status())
                  : s.error_message();
    if (absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < give_up);
  fprintf(stderr, "%s: not serving (%s)\n", absl::GetFlag(FLAGS_address).c_str(), last.c_str());
  return 1;
}
