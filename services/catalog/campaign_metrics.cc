#include "services/catalog/campaign_metrics.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace updraft::catalog {
namespace {

std::string Lower(absl::string_view name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

}  // namespace

CampaignMetrics::CampaignMetrics(prometheus::Registry& registry)
    : devices_(prometheus::BuildGauge()
                   .Name("updraft_campaign_devices")
                   .Help("Devices of a campaign by wave (0: queued) and state.")
                   .Register(registry)),
      state_(prometheus::BuildGauge()
                 .Name("updraft_campaign_state")
                 .Help("1 for a campaign's current state, 0 for its other states.")
                 .Register(registry)),
      announced_(prometheus::BuildCounter()
                     .Name("updraft_campaign_announced_devices_total")
                     .Help("Devices announced by campaign waves from this replica.")
                     .Register(registry)
                     .Add({})),
      webhooks_(prometheus::BuildCounter()
                    .Name("updraft_campaign_webhook_deliveries_total")
                    .Help("Campaign webhook delivery attempts by result.")
                    .Register(registry)) {
  for (const char* r : {"delivered", "retry", "gave_up"}) webhooks_.Add({{"result", r}});
}

void CampaignMetrics::Update(const v1::Campaign& c) {
  const std::string& id = c.campaign_id();
  for (int s = v1::CAMPAIGN_RUNNING; s <= v1::CAMPAIGN_EXPIRED; ++s) {
    auto state = static_cast<v1::CampaignState>(s);
    state_.Add({{"campaign", id}, {"state", Lower(v1::CampaignState_Name(state), "CAMPAIGN_")}})
        .Set(c.state() == state ? 1 : 0);
  }
  devices_.Add({{"campaign", id}, {"wave", "0"}, {"state", "queued"}})
      .Set(static_cast<double>(c.queued_devices()));
  devices_.Add({{"campaign", id}, {"wave", "0"}, {"state", "installed"}})
      .Set(static_cast<double>(c.installed_outside_waves()));
  for (const v1::WaveProgress& w : c.waves()) {
    const std::string wave = absl::StrCat(w.wave());
    auto set = [&](const char* state, int64_t n) {
      devices_.Add({{"campaign", id}, {"wave", wave}, {"state", state}})
          .Set(static_cast<double>(n));
    };
    set("pending", w.pending());
    set("notified", w.notified());
    set("downloading", w.downloading());
    set("installed", w.installed());
    set("failed", w.failed());
  }
}

void CampaignMetrics::CountAnnounced(int64_t devices) {
  announced_.Increment(static_cast<double>(devices));
}

void CampaignMetrics::CountWebhook(const std::string& result) {
  webhooks_.Add({{"result", result}}).Increment();
}

}  // namespace updraft::catalog
