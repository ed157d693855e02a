// health_probe: asks a gRPC server for its health (grpc.health.v1) and exits
// 0 when it is SERVING, 1 otherwise. Used by ./dev.sh to wait for services and
// as a container health check.
//   health_probe --address=127.0.0.1:7402 [--service=NAME] [--wait=10s]
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"

ABSL_FLAG(std::string, address, "127.0.0.1:7401", "gRPC address to probe");
ABSL_FLAG(std::string, service, "", "service name; empty for the whole server");
ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(), "keep trying this long");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_address), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  absl::Time give_up = absl::Now() + absl::GetFlag(FLAGS_wait);
  std::string last;
  do {
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
