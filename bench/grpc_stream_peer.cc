// The peer of bench/run.sh sdk: a bare gRPC client process holding one
// Notifier.Subscribe stream, with gRPC's default channel arguments and
// nothing else (no SDK).
//
//   grpc_stream_peer NOTIFIER_ADDRESS ACCESS_TOKEN

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <string>

#include "updraft/v1/notifier.grpc.pb.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: grpc_stream_peer NOTIFIER_ADDRESS ACCESS_TOKEN\n");
    return 2;
  }
  auto stub = updraft::v1::Notifier::NewStub(
      grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + argv[2]);
  auto reader = stub->Subscribe(&ctx, updraft::v1::SubscribeRequest());
  updraft::v1::Notification n;
  while (reader->Read(&n)) {
  }
  grpc::Status s = reader->Finish();
  fprintf(stderr, "grpc_stream_peer: stream ended: %s\n", s.error_message().c_str());
  return s.ok() ? 0 : 1;
}
