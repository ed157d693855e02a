#include "tools/updraftctl/campaign_commands.h"

#include <grpcpp/test/mock_stream.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/updraftctl/help.h"
#include "tools/updraftctl/output.h"
#include "updraft/v1/campaign_mock.grpc.pb.h"

namespace updraft::ctl {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::SetArgPointee;

Args Parse(const std::vector<std::string>& raw) {
  Args a;
  EXPECT_TRUE(ParseArgs(raw, &a).ok());
  return a;
}

std::string RunCommand(absl::Status (*cmd)(const Args&, Stubs&, FILE*), const Args& args,
                       Stubs& stubs, absl::Status* status) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  *status = cmd(args, stubs, out);
  fclose(out);
  std::string s(buf, len);
  free(buf);
  return s;
}

TEST(CampaignCommandsTest, ParsesACreateCommandLine) {
  v1::CampaignSpec spec;
  absl::Status s = ParseCampaignSpec(
      Parse({"--name=r1", "--release_id=rel_1", "--group=beta", "--device_id=d1", "--model=M",
             "--wave=10%", "--wave=500", "--wave=100%", "--error_threshold=0.1", "--channel=sms",
             "--channel=ip_push", "--ttl=72h", "--jitter=5m", "--quiet_hours=22:00-07:30",
             "--time_zone=Europe/Paris", "--max_retries=2", "--retry_delay=15m"}),
      &spec);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(spec.targets().groups(0), "beta");
  EXPECT_EQ(spec.targets().device_ids(0), "d1");
  EXPECT_EQ(spec.targets().filter().models(0), "M");
  ASSERT_EQ(spec.waves_size(), 3);
  EXPECT_EQ(spec.waves(0).percent(), 10u);
  EXPECT_EQ(spec.waves(1).count(), 500u);
  EXPECT_DOUBLE_EQ(spec.success_threshold(), 0.95);
  EXPECT_DOUBLE_EQ(spec.error_threshold(), 0.1);
  EXPECT_EQ(spec.channels(0), v1::CHANNEL_SMS);
  EXPECT_EQ(spec.ttl_seconds(), 72 * 3600);
  EXPECT_EQ(spec.jitter_seconds(), 300);
  EXPECT_EQ(spec.quiet_hours().start_minute(), 22u * 60);
  EXPECT_EQ(spec.quiet_hours().end_minute(), 7u * 60 + 30);
  EXPECT_EQ(spec.max_retries(), 2u);
  EXPECT_EQ(spec.retry_delay_seconds(), 900);
}

TEST(CampaignCommandsTest, BadFlagsAreUsageErrorsNamingTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--release_id=r", "--wave=1"}, "--name"},
      {{"--name=n", "--release_id=r"}, "--wave"},
      {{"--name=n", "--release_id=r", "--wave=0"}, "--wave"},
      {{"--name=n", "--release_id=r", "--wave=150%"}, "--wave"},
      {{"--name=n", "--release_id=r", "--wave=1", "--error_threshold=2"}, "--error_threshold"},
      {{"--name=n", "--release_id=r", "--wave=1", "--channel=pigeon"}, "--channel"},
      {{"--name=n", "--release_id=r", "--wave=1", "--ttl=soon"}, "--ttl"},
      {{"--name=n", "--release_id=r", "--wave=1", "--quiet_hours=25:00-01:00"}, "--quiet_hours"},
      {{"--name=n", "--release_id=r", "--wave=1", "--devices_file=/nonexistent"}, "--devices_file"},
  };
  for (const auto& [raw, flag] : cases) {
    v1::CampaignSpec spec;
    absl::Status s = ParseCampaignSpec(Parse(raw), &spec);
    EXPECT_TRUE(absl::StartsWith(s.message(), flag)) << s;
    EXPECT_EQ(ExitCodeFor(s), kExitUsage) << s;
  }
}

v1::Campaign Sample(v1::CampaignState state) {
  v1::Campaign c;
  c.set_campaign_id("cmp_1");
  c.mutable_spec()->set_name("rollout");
  c.mutable_spec()->add_waves()->set_percent(10);
  c.set_state(state);
  c.set_current_wave(1);
  v1::WaveProgress* w = c.add_waves();
  w->set_wave(1);
  w->set_devices(10);
  w->set_installed(5);
  w->set_failed(2);
  w->set_notified(1);
  return c;
}

TEST(CampaignCommandsTest, RendersProgressBars) {
  v1::WaveProgress w = Sample(v1::CAMPAIGN_RUNNING).waves(0);
  EXPECT_EQ(ProgressBar(w, 10), "[#####xx-  ]");
  EXPECT_EQ(ProgressBar(v1::WaveProgress(), 4), "[    ]");
  std::string table = RenderCampaign(Sample(v1::CAMPAIGN_PAUSED));
  EXPECT_TRUE(absl::StrContains(table, "cmp_1  rollout  paused")) << table;
  EXPECT_TRUE(absl::StrContains(table, "[###############xxxxxx---      ]  50%")) << table;
}

TEST(CampaignCommandsTest, ShowCallsGetCampaignWithTheToken) {
  Stubs stubs;
  stubs.token = "tok";
  auto mock = std::make_unique<v1::MockCampaignAdminStub>();
  v1::GetCampaignRequest sent;
  EXPECT_CALL(*mock, GetCampaign(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), SetArgPointee<2>(Sample(v1::CAMPAIGN_RUNNING)),
                      Return(grpc::Status::OK)));
  stubs.campaigns = std::move(mock);
  absl::Status s;
  std::string out = RunCommand(CampaignShow, Parse({"--campaign_id=cmp_1"}), stubs, &s);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(sent.campaign_id(), "cmp_1");
  EXPECT_TRUE(absl::StrContains(out, "running")) << out;
  RunCommand(CampaignShow, Parse({}), stubs, &s);
  EXPECT_EQ(ExitCodeFor(s), kExitUsage);
}

TEST(CampaignCommandsTest, WatchStreamsUntilTheEndAndReportsHowItEnded) {
  for (bool json : {false, true}) {
    Stubs stubs;
    stubs.json = json;
    auto mock = std::make_unique<v1::MockCampaignAdminStub>();
    auto* reader = new grpc::testing::MockClientReader<v1::CampaignUpdate>();
    v1::CampaignUpdate event, progress;
    event.mutable_event()->set_type(v1::CAMPAIGN_EVENT_DEVICE_FAILED);
    event.mutable_event()->set_device_id("dev-9");
    event.mutable_event()->set_result(v1::INSTALL_FAILED);
    *progress.mutable_progress() = Sample(v1::CAMPAIGN_CANCELLED);
    EXPECT_CALL(*reader, Read(_))
        .WillOnce(DoAll(SetArgPointee<0>(event), Return(true)))
        .WillOnce(DoAll(SetArgPointee<0>(progress), Return(true)))
        .WillOnce(Return(false));
    EXPECT_CALL(*reader, Finish()).WillOnce(Return(grpc::Status::OK));
    EXPECT_CALL(*mock, WatchCampaignRaw(_, _)).WillOnce(Return(reader));
    stubs.campaigns = std::move(mock);
    absl::Status s;
    std::string out = RunCommand(CampaignWatch, Parse({"--campaign_id=cmp_1"}), stubs, &s);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(s.message(), "cancelled")) << s;
    if (json) {
      EXPECT_TRUE(absl::StrContains(out, "\"device_id\":\"dev-9\"")) << out;
      EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
    } else {
      EXPECT_TRUE(absl::StrContains(out, "device_failed  dev-9  INSTALL_FAILED (1405)")) << out;
      EXPECT_TRUE(absl::StrContains(out, "[###")) << out;
    }
  }
}

TEST(CampaignCommandsTest, HelpAndExitCodes) {
  for (const char* c : {"campaign-create", "campaign-list", "campaign-show", "campaign-pause",
                        "campaign-resume", "campaign-cancel", "campaign-watch", "webhook-create",
                        "webhook-list", "webhook-delete", "publish", "register-device"}) {
    EXPECT_TRUE(absl::StartsWith(CommandHelp(c), "usage: updraftctl")) << c;
  }
  EXPECT_EQ(CommandHelp("no-such-command"), "");
  EXPECT_TRUE(absl::StrContains(GeneralHelp(), "3 a server could not be reached"));
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("down")), kExitUnreachable);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("no")), kExitRefused);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("spec.name is bad")), kExitRefused);
  v1::Webhook w;
  w.set_webhook_id("whk_1");
  EXPECT_EQ(ToJson(w), "{\"webhook_id\":\"whk_1\"}");
}

}  // namespace
}  // namespace updraft::ctl
