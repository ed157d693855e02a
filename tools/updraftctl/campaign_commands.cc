#include "tools/updraftctl/campaign_commands.h"

#include <unistd.h>

#include <cmath>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_util.h"
#include "tools/updraftctl/output.h"

namespace updraft::ctl {
namespace {

absl::Status ParseFraction(const Args& args, const char* key, double def, double* out) {
  std::string v = args.Get(key);
  if (v.empty()) {
    *out = def;
    return absl::OkStatus();
  }
  if (!absl::SimpleAtod(v, out) || !(*out > 0 && *out <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", key, " must be a fraction in (0, 1], e.g. 0.95; got '", v, "'"));
  }
  return absl::OkStatus();
}

absl::Status ParseSeconds(const Args& args, const char* key, int64_t* out) {
  std::string v = args.Get(key);
  if (v.empty()) return absl::OkStatus();
  absl::Duration d;
  if (!absl::ParseDuration(v, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", key, " must be a duration such as 90s, 10m or 720h; got '", v, "'"));
  }
  *out = absl::ToInt64Seconds(d);
  return absl::OkStatus();
}

absl::Status ParseClock(const std::string& text, uint32_t* minute) {
  std::vector<std::string> hm = absl::StrSplit(text, ':');
  int h = 0, m = 0;
  if (hm.size() != 2 || !absl::SimpleAtoi(hm[0], &h) || !absl::SimpleAtoi(hm[1], &m) || h < 0 ||
      h > 23 || m < 0 || m > 59) {
    return absl::InvalidArgumentError(
        absl::StrCat("--quiet_hours must look like 22:00-07:00; got '", text, "'"));
  }
  *minute = static_cast<uint32_t>(h * 60 + m);
  return absl::OkStatus();
}

std::string Lower(absl::string_view name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

// The human-readable answer; with --json main() prints the response itself.
absl::Status Print(const Stubs& stubs, FILE* out, const std::string& human) {
  if (!stubs.json) fputs(human.c_str(), out);
  return absl::OkStatus();
}

absl::Status Action(const Args& args, Stubs& stubs, FILE* out, const char* verb,
                    grpc::Status (v1::CampaignAdmin::StubInterface::*rpc)(
                        grpc::ClientContext*, const v1::CampaignActionRequest&, v1::Campaign*)) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"campaign_id"}));
  v1::CampaignActionRequest req;
  req.set_campaign_id(args.Get("campaign_id"));
  req.set_reason(args.Get("reason"));
  v1::Campaign c;
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(((*stubs.campaigns).*rpc)(Context(stubs).get(), req, &c)));
  return Print(stubs, out,
               absl::StrCat("campaign ", c.campaign_id(), " ", verb, "\n", RenderCampaign(c)));
}

std::string EventLine(const v1::CampaignEvent& e) {
  std::string line = absl::StrCat(Time(e.at_unix()), "  ",
                                  Lower(v1::CampaignEventType_Name(e.type()), "CAMPAIGN_EVENT_"));
  if (e.wave() > 0) absl::StrAppend(&line, "  wave ", e.wave());
  if (!e.device_id().empty()) absl::StrAppend(&line, "  ", e.device_id());
  if (e.result() != v1::RESULT_CODE_UNSPECIFIED) {
    absl::StrAppend(&line, "  ", v1::ResultCode_Name(e.result()), " (",
                    static_cast<int>(e.result()), ")");
  }
  if (!e.message().empty()) absl::StrAppend(&line, "  ", e.message());
  return line + "\n";
}

}  // namespace

std::string ProgressBar(const v1::WaveProgress& w, int width) {
  std::string bar(width, ' ');
  if (w.devices() > 0) {
    auto cells = [&](int64_t n) {
      return static_cast<int>(std::floor(static_cast<double>(n) * width / w.devices()));
    };
    int installed = cells(w.installed());
    int failed = cells(w.failed());
    int flight = cells(w.notified() + w.downloading());
    int i = 0;
    for (int k = 0; k < installed && i < width; ++k) bar[i++] = '#';
    for (int k = 0; k < failed && i < width; ++k) bar[i++] = 'x';
    for (int k = 0; k < flight && i < width; ++k) bar[i++] = '-';
  }
  return absl::StrCat("[", bar, "]");
}

std::string RenderCampaign(const v1::Campaign& c) {
  std::string s = absl::StrFormat("%s  %s  %s  release %s (%s)\n", c.campaign_id(), c.spec().name(),
                                  Lower(v1::CampaignState_Name(c.state()), "CAMPAIGN_"),
                                  c.spec().release_id(), c.software_name());
  absl::StrAppendFormat(&s, "created %s by %s; wave %d of %d; %d devices queued",
                        Time(c.created_at_unix()), c.created_by(), c.current_wave(),
                        c.spec().waves_size(), c.queued_devices());
  if (c.installed_outside_waves() > 0) {
    absl::StrAppendFormat(&s, "; %d installed before their wave", c.installed_outside_waves());
  }
  s += "\n";
  if (!c.state_reason().empty()) absl::StrAppend(&s, "reason: ", c.state_reason(), "\n");
  absl::StrAppendFormat(&s, "%-5s %8s %8s %8s %11s %9s %7s  %s\n", "WAVE", "DEVICES", "PENDING",
                        "NOTIFIED", "DOWNLOADING", "INSTALLED", "FAILED", "PROGRESS");
  for (const v1::WaveProgress& w : c.waves()) {
    int pct = w.devices() > 0 ? static_cast<int>(100 * w.installed() / w.devices()) : 0;
    absl::StrAppendFormat(&s, "%-5d %8d %8d %8d %11d %9d %7d  %s %3d%%\n", w.wave(), w.devices(),
                          w.pending(), w.notified(), w.downloading(), w.installed(), w.failed(),
                          ProgressBar(w, 30), pct);
  }
  return s;
}

absl::Status ParseCampaignSpec(const Args& args, v1::CampaignSpec* spec) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"name", "release_id"}));
  spec->set_name(args.Get("name"));
  spec->set_release_id(args.Get("release_id"));
  v1::TargetSet* t = spec->mutable_targets();
  for (const std::string& d : args.GetAll("device_id")) t->add_device_ids(d);
  if (!args.Get("devices_file").empty()) {
    std::ifstream in(args.Get("devices_file"));
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("--devices_file: cannot open ", args.Get("devices_file")));
    }
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view id = absl::StripAsciiWhitespace(line);
      if (!id.empty() && id[0] != '#') t->add_device_ids(std::string(id));
    }
  }
  for (const std::string& g : args.GetAll("group")) t->add_groups(g);
  for (const std::string& m : args.GetAll("model")) t->mutable_filter()->add_models(m);
  for (const std::string& c : args.GetAll("carrier")) t->mutable_filter()->add_carriers(c);
  t->mutable_filter()->set_min_os_version(args.Get("min_os_version"));
  t->mutable_filter()->set_max_os_version(args.Get("max_os_version"));
  std::vector<std::string> waves = args.GetAll("wave");
  if (waves.empty())
    return absl::InvalidArgumentError("--wave is required (e.g. --wave=10% --wave=100%)");
  for (const std::string& w : waves) {
    uint32_t n = 0;
    bool pct = absl::EndsWith(w, "%");
    if (!absl::SimpleAtoi(pct ? absl::string_view(w).substr(0, w.size() - 1) : w, &n) || n == 0 ||
        (pct && n > 100)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--wave must be a percentage (10%) or a device count (500); got '", w, "'"));
    }
    if (pct) {
      spec->add_waves()->set_percent(n);
    } else {
      spec->add_waves()->set_count(n);
    }
  }
  double v = 0;
  UPDRAFT_RETURN_IF_ERROR(ParseFraction(args, "success_threshold", 0.95, &v));
  spec->set_success_threshold(v);
  UPDRAFT_RETURN_IF_ERROR(ParseFraction(args, "error_threshold", 0.05, &v));
  spec->set_error_threshold(v);
  for (const std::string& ch : args.GetAll("channel")) {
    v1::Channel c;
    if (!v1::Channel_Parse(absl::StrCat("CHANNEL_", absl::AsciiStrToUpper(ch)), &c) ||
        c == v1::CHANNEL_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("--channel must be ip_push, sms or wap_push; got '", ch, "'"));
    }
    spec->add_channels(c);
  }
  int64_t secs = 0;
  UPDRAFT_RETURN_IF_ERROR(ParseSeconds(args, "ttl", &secs));
  spec->set_ttl_seconds(secs);
  secs = 0;
  UPDRAFT_RETURN_IF_ERROR(ParseSeconds(args, "jitter", &secs));
  spec->set_jitter_seconds(secs);
  secs = 0;
  UPDRAFT_RETURN_IF_ERROR(ParseSeconds(args, "retry_delay", &secs));
  spec->set_retry_delay_seconds(secs);
  if (!args.Get("max_retries").empty()) {
    uint32_t n = 0;
    if (!absl::SimpleAtoi(args.Get("max_retries"), &n)) {
      return absl::InvalidArgumentError("--max_retries must be a number");
    }
    spec->set_max_retries(n);
  }
  const std::string gate = args.Get("gate_offers");
  if (!gate.empty() && gate != "true" && gate != "false") {
    return absl::InvalidArgumentError("--gate_offers must be true or false");
  }
  spec->set_gate_offers(gate == "true");
  if (!args.Get("quiet_hours").empty()) {
    std::vector<std::string> range = absl::StrSplit(args.Get("quiet_hours"), '-');
    if (range.size() != 2) {
      return absl::InvalidArgumentError("--quiet_hours must look like 22:00-07:00");
    }
    uint32_t start = 0, end = 0;
    UPDRAFT_RETURN_IF_ERROR(ParseClock(range[0], &start));
    UPDRAFT_RETURN_IF_ERROR(ParseClock(range[1], &end));
    spec->mutable_quiet_hours()->set_start_minute(start);
    spec->mutable_quiet_hours()->set_end_minute(end);
  }
  spec->mutable_quiet_hours()->set_default_time_zone(args.Get("time_zone"));
  return absl::OkStatus();
}

absl::Status CampaignCreate(const Args& args, Stubs& stubs, FILE* out) {
  v1::CreateCampaignRequest req;
  UPDRAFT_RETURN_IF_ERROR(ParseCampaignSpec(args, req.mutable_spec()));
  v1::Campaign c;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.campaigns->CreateCampaign(Context(stubs).get(), req, &c)));
  return Print(stubs, out,
               absl::StrCat("campaign ", c.campaign_id(), " created\n", RenderCampaign(c)));
}

absl::Status CampaignList(const Args& args, Stubs& stubs, FILE* out) {
  v1::ListCampaignsRequest req;
  req.set_after_campaign_id(args.Get("after"));
  if (!args.Get("limit").empty()) {
    int limit = 0;
    if (!absl::SimpleAtoi(args.Get("limit"), &limit)) {
      return absl::InvalidArgumentError("--limit must be a number");
    }
    req.set_limit(limit);
  }
  v1::ListCampaignsResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.campaigns->ListCampaigns(Context(stubs).get(), req, &resp)));
  std::string s = absl::StrFormat("%-21s %-10s %-6s %9s %9s %7s  %s\n", "CAMPAIGN", "STATE", "WAVE",
                                  "DEVICES", "INSTALLED", "FAILED", "NAME");
  for (const v1::Campaign& c : resp.campaigns()) {
    int64_t devices = c.queued_devices() + c.installed_outside_waves();
    int64_t installed = c.installed_outside_waves(), failed = 0;
    for (const auto& w : c.waves()) {
      devices += w.devices();
      installed += w.installed();
      failed += w.failed();
    }
    absl::StrAppendFormat(&s, "%-21s %-10s %2d/%-3d %9d %9d %7d  %s\n", c.campaign_id(),
                          Lower(v1::CampaignState_Name(c.state()), "CAMPAIGN_"), c.current_wave(),
                          c.spec().waves_size(), devices, installed, failed, c.spec().name());
  }
  return Print(stubs, out, s);
}

absl::Status CampaignShow(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"campaign_id"}));
  v1::GetCampaignRequest req;
  req.set_campaign_id(args.Get("campaign_id"));
  v1::Campaign c;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.campaigns->GetCampaign(Context(stubs).get(), req, &c)));
  return Print(stubs, out, RenderCampaign(c));
}

absl::Status CampaignPause(const Args& args, Stubs& stubs, FILE* out) {
  return Action(args, stubs, out, "paused", &v1::CampaignAdmin::StubInterface::PauseCampaign);
}

absl::Status CampaignResume(const Args& args, Stubs& stubs, FILE* out) {
  return Action(args, stubs, out, "resumed", &v1::CampaignAdmin::StubInterface::ResumeCampaign);
}

absl::Status CampaignCancel(const Args& args, Stubs& stubs, FILE* out) {
  return Action(args, stubs, out, "cancelled", &v1::CampaignAdmin::StubInterface::CancelCampaign);
}

absl::Status CampaignWatch(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"campaign_id"}));
  const bool all_events = args.Get("events") == "all";
  if (!args.Get("events").empty() && args.Get("events") != "all" &&
      args.Get("events") != "campaign") {
    return absl::InvalidArgumentError("--events must be all or campaign");
  }
  v1::WatchCampaignRequest req;
  req.set_campaign_id(args.Get("campaign_id"));
  auto ctx = Context(stubs, /*deadline=*/false);
  auto reader = stubs.campaigns->WatchCampaign(ctx.get(), req);
  const bool tty = !stubs.json && isatty(fileno(out));
  int drawn = 0;
  v1::Campaign last;
  v1::CampaignUpdate u;
  while (reader->Read(&u)) {
    if (stubs.json) {
      fprintf(out, "%s\n", ToJson(u).c_str());
      fflush(out);
      if (u.has_progress()) last = u.progress();
      continue;
    }
    std::string text;
    if (u.has_event()) {
      const v1::CampaignEvent& e = u.event();
      bool device = !e.device_id().empty();
      if (all_events || !device || e.type() == v1::CAMPAIGN_EVENT_DEVICE_FAILED)
        text = EventLine(e);
      if (tty && !text.empty() && drawn > 0) {
        fprintf(out, "\x1b[%dA\x1b[J", drawn);  // Events above the bars.
        drawn = 0;
      }
      fputs(text.c_str(), out);
      if (tty && !text.empty() && last.waves_size() > 0) u.mutable_progress()->CopyFrom(last);
    }
    if (u.has_progress()) {
      last = u.progress();
      if (tty && drawn > 0) fprintf(out, "\x1b[%dA\x1b[J", drawn);
      std::string bars = RenderCampaign(last);
      fputs(bars.c_str(), out);
      drawn = tty ? static_cast<int>(std::count(bars.begin(), bars.end(), '\n')) : 0;
    }
    fflush(out);
  }
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
  if (last.state() != v1::CAMPAIGN_COMPLETED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "campaign ", req.campaign_id(), " ended ",
        Lower(v1::CampaignState_Name(last.state()), "CAMPAIGN_"), ": ", last.state_reason()));
  }
  return absl::OkStatus();
}

absl::Status WebhookCreate(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"url", "secret_file"}));
  std::ifstream in(args.Get("secret_file"));
  if (!in)
    return absl::InvalidArgumentError(
        absl::StrCat("--secret_file: cannot open ", args.Get("secret_file")));
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  v1::CreateWebhookRequest req;
  req.set_url(args.Get("url"));
  req.set_secret(std::string(absl::StripTrailingAsciiWhitespace(secret)));
  req.set_campaign_id(args.Get("campaign_id"));
  v1::Webhook w;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.campaigns->CreateWebhook(Context(stubs).get(), req, &w)));
  return Print(stubs, out,
               absl::StrCat("webhook ", w.webhook_id(), " created for ", w.url(), "\n"));
}

absl::Status WebhookList(const Args& args, Stubs& stubs, FILE* out) {
  v1::ListWebhooksResponse resp;
  UPDRAFT_RETURN_IF_ERROR(FromGrpcStatus(
      stubs.campaigns->ListWebhooks(Context(stubs).get(), v1::ListWebhooksRequest(), &resp)));
  std::string s =
      absl::StrFormat("%-21s %-21s %-19s  %s\n", "WEBHOOK", "CAMPAIGN", "CREATED", "URL");
  for (const v1::Webhook& w : resp.webhooks()) {
    absl::StrAppendFormat(&s, "%-21s %-21s %-19s  %s\n", w.webhook_id(),
                          w.campaign_id().empty() ? "(all)" : w.campaign_id(),
                          Time(w.created_at_unix()), w.url());
  }
  return Print(stubs, out, s);
}

absl::Status WebhookDelete(const Args& args, Stubs& stubs, FILE* out) {
  UPDRAFT_RETURN_IF_ERROR(Require(args, {"webhook_id"}));
  v1::DeleteWebhookRequest req;
  req.set_webhook_id(args.Get("webhook_id"));
  v1::DeleteWebhookResponse resp;
  UPDRAFT_RETURN_IF_ERROR(
      FromGrpcStatus(stubs.campaigns->DeleteWebhook(Context(stubs).get(), req, &resp)));
  return Print(stubs, out, absl::StrCat("webhook ", req.webhook_id(), " deleted\n"));
}

}  // namespace updraft::ctl
