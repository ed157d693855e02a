#ifndef UPDRAFT_TOOLS_FLEET_SIM_SUMMARY_H_
#define UPDRAFT_TOOLS_FLEET_SIM_SUMMARY_H_

#include <string>
#include <vector>

#include "tools/fleet_sim/fleet.h"

namespace updraft::fleet_sim {

// The fleet simulator's report: per phase the counts by outcome and the
// p50/p99 of the devices' durations, as lines a person reads or as one JSON
// object ({"devices":N,"streams_open":M,"phases":[{"name":...,"count":...,
// "outcomes":{...},"p50_ms":...,"p99_ms":...,"wall_ms":...}]}).
std::string SummaryText(int devices, const std::vector<PhaseStats>& phases, int streams_open);
std::string SummaryJson(int devices, const std::vector<PhaseStats>& phases, int streams_open);

// True when every outcome of every phase is a good one (imported,
// registered, already_registered, installed, nothing_new, open).
bool AllGood(const std::vector<PhaseStats>& phases);

}  // namespace updraft::fleet_sim

#endif  // UPDRAFT_TOOLS_FLEET_SIM_SUMMARY_H_
