#ifndef UPDRAFT_SERVICES_CATALOG_CAMPAIGN_OBSERVER_H_
#define UPDRAFT_SERVICES_CATALOG_CAMPAIGN_OBSERVER_H_

#include <string>
#include <vector>

#include "updraft/v1/catalog.pb.h"
#include "updraft/v1/common.pb.h"

namespace updraft::catalog {

// What CatalogService tells the campaign engine about devices: each
// successful update check (the device's attributes and the releases it was
// offered) and each result report, a duplicate re-send too (with the release
// and result recorded first), so that an outcome lost with a killed process
// is recorded when the device sends again: OnReport must be idempotent.
// Called after the catalog's own work succeeded; must not fail the device's
// RPC (implementations log errors).
class CampaignObserver {
 public:
  virtual ~CampaignObserver() = default;

  virtual void OnCheck(const std::string& device_id, const v1::DeviceAttributes& attributes,
                       const std::vector<std::string>& offered_release_ids) = 0;
  virtual void OnReport(const std::string& device_id, const std::string& release_id,
                        v1::ResultCode result) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_CAMPAIGN_OBSERVER_H_
