#ifndef UPDRAFT_SERVICES_CATALOG_OFFER_GATE_H_
#define UPDRAFT_SERVICES_CATALOG_OFFER_GATE_H_

#include <string>

namespace updraft::catalog {

// Decides whether a release the update decision chose may be offered to a
// device now: a staged rollout (CampaignSpec.gate_offers) offers its release
// only to devices whose wave has started. Consulted on the update-check hot
// path, so a release that no gate restricts must be answered from memory.
class OfferGate {
 public:
  virtual ~OfferGate() = default;
  virtual bool MayOffer(const std::string& device_id, const std::string& release_id) = 0;
};

}  // namespace updraft::catalog

#endif  // UPDRAFT_SERVICES_CATALOG_OFFER_GATE_H_
