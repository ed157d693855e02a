#include "services/catalog/grpc_announcer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "updraft/v1/notifier_mock.grpc.pb.h"

namespace updraft::catalog {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::Return;
using ::testing::SaveArg;

TEST(GrpcAnnouncerTest, FillsTheServerAddressAndForwards) {
  auto stub = std::make_unique<v1::MockNotifierStub>();
  v1::AnnounceRequest sent;
  v1::AnnounceResponse reply;
  reply.set_devices_targeted(2);
  EXPECT_CALL(*stub, Announce(_, _, _))
      .WillOnce(
          DoAll(SaveArg<1>(&sent), testing::SetArgPointee<2>(reply), Return(grpc::Status::OK)));
  GrpcAnnouncer announcer(std::move(stub), "catalog.example:7402", nullptr);
  v1::AnnounceRequest request;
  request.set_location("rel_1");
  request.add_targets()->set_device_id("d1");
  auto r = announcer.Announce(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->devices_targeted(), 2);
  EXPECT_EQ(sent.server_address(), "catalog.example:7402");
  EXPECT_EQ(sent.location(), "rel_1");
}

TEST(GrpcAnnouncerTest, KeepsAGivenServerAddressAndConvertsErrors) {
  auto stub = std::make_unique<v1::MockNotifierStub>();
  v1::AnnounceRequest sent;
  EXPECT_CALL(*stub, Announce(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent),
                      Return(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                          "role viewer may not call Announce; needs publisher"))));
  GrpcAnnouncer announcer(std::move(stub), "default:1", nullptr);
  v1::AnnounceRequest request;
  request.set_server_address("other:2");
  auto r = announcer.Announce(request);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(sent.server_address(), "other:2");
}

}  // namespace
}  // namespace updraft::catalog
