#include "services/catalog/pg_catalog_store.h"

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json.h"
#include "common/status_util.h"

namespace updraft::catalog {
namespace {

constexpr char kSelectRelease[] =
    "SELECT r.release_id, r.package_id, r.version, r.state, encode(r.manifest, 'hex'),"
    " encode(r.dcinfo, 'hex'), p.name, p.description, encode(r.compatibility, 'hex'),"
    " encode(r.signed_metadata, 'hex'), encode(r.group_settings, 'hex')"
    " FROM releases r JOIN packages p ON p.package_id = r.package_id ";

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// Tells every catalog replica's listener (PgReleaseListener) that what is
// offered changed; delivered only if the transaction commits.
void Announce(pqxx::work& txn, const std::string& release_id) {
  txn.exec_params("SELECT pg_notify($1, $2)", std::string(kReleasesChannel), release_id);
}

// Escapes a UTF-8 string for a JSON string literal.
std::string SettingsJson(const google::protobuf::Map<std::string, std::string>& settings) {
  return JsonObject(std::map<std::string, std::string>(settings.begin(), settings.end()));
}

template <typename Message>
absl::Status ParseHexProto(const pqxx::field& field, absl::string_view what,
                           absl::string_view release_id, Message* out) {
  if (!out->ParseFromString(absl::HexStringToBytes(field.as<std::string>()))) {
    return absl::InternalError(
        absl::StrCat("release ", release_id, " has a corrupt ", what, " in the database"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Release> ReleaseFromRow(const pqxx::row& row) {
  v1::Release r;
  r.set_release_id(row[0].as<std::string>());
  r.set_package_id(row[1].as<std::string>());
  r.set_version(row[2].as<std::string>());
  v1::ReleaseState state = v1::RELEASE_STATE_UNSPECIFIED;
  v1::ReleaseState_Parse(row[3].as<std::string>(), &state);
  r.set_state(state);
  UPDRAFT_RETURN_IF_ERROR(ParseHexProto(row[4], "manifest", r.release_id(), r.mutable_artifact()));
  UPDRAFT_RETURN_IF_ERROR(ParseHexProto(row[5], "DCinfo", r.release_id(), r.mutable_dcinfo()));
  r.set_package_name(row[6].as<std::string>());
  r.set_description(row[7].as<std::string>());
  UPDRAFT_RETURN_IF_ERROR(
      ParseHexProto(row[8], "compatibility", r.release_id(), r.mutable_compatibility()));
  if (!row[9].as<std::string>().empty()) {  // empty: published unsigned
    UPDRAFT_RETURN_IF_ERROR(
        ParseHexProto(row[9], "signed metadata", r.release_id(), r.mutable_signed_metadata()));
  }
  v1::Release groups;
  UPDRAFT_RETURN_IF_ERROR(ParseHexProto(row[10], "group settings", r.release_id(), &groups));
  *r.mutable_group_settings() = std::move(*groups.mutable_group_settings());
  return r;
}

absl::StatusOr<v1::Release> LoadRelease(pqxx::work& txn, const std::string& release_id) {
  pqxx::result rows =
      txn.exec_params(absl::StrCat(kSelectRelease, "WHERE r.release_id = $1"), release_id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("release ", release_id, " not found"));
  UPDRAFT_ASSIGN_OR_RETURN(v1::Release release, ReleaseFromRow(rows[0]));
  pqxx::result settings = txn.exec_params(
      "SELECT s.key, s.value FROM releases r, jsonb_each_text(r.settings) s"
      " WHERE r.release_id = $1",
      release_id);
  for (const auto& row : settings) {
    (*release.mutable_settings())[row[0].as<std::string>()] = row[1].as<std::string>();
  }
  return release;
}

}  // namespace

absl::Status PgCatalogStore::CreatePackage(const v1::Package& package, absl::Time now) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r = txn.exec_params(
        "INSERT INTO packages (package_id, name, author, description, created_at)"
        " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint / 1e6))"
        " ON CONFLICT (name) DO NOTHING RETURNING 1",
        package.package_id(), package.name(), package.author(), package.description(), Micros(now));
    if (r.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("package name ", package.name(), " already exists"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Package> PgCatalogStore::GetPackage(const std::string& package_id) {
  v1::Package package;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result r = txn.exec_params(
        "SELECT package_id, name, author, description FROM packages WHERE package_id = $1",
        package_id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("package ", package_id, " not found"));
    package.set_package_id(r[0][0].as<std::string>());
    package.set_name(r[0][1].as<std::string>());
    package.set_author(r[0][2].as<std::string>());
    package.set_description(r[0][3].as<std::string>());
    return absl::OkStatus();
  }));
  return package;
}

absl::Status PgCatalogStore::CreateRelease(const v1::Release& release, absl::Time now) {
  const bool published = release.state() == v1::PUBLISHED;
  // Stored as a Release holding only group_settings (empty: no overrides).
  v1::Release group_settings;
  *group_settings.mutable_group_settings() = release.group_settings();
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    if (txn.exec_params("SELECT 1 FROM packages WHERE package_id = $1 FOR SHARE",
                        release.package_id())
            .empty()) {
      return absl::NotFoundError(absl::StrCat("package ", release.package_id(), " not found"));
    }
    pqxx::result r = txn.exec_params(
        "INSERT INTO releases (release_id, package_id, version, state, artifact_sha256,"
        " manifest, dcinfo, settings, created_at, published_at, compatibility, group_settings)"
        " VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'), decode($7, 'hex'), $8::jsonb,"
        " to_timestamp($9::bigint / 1e6), CASE WHEN $10 THEN to_timestamp($9::bigint / 1e6) END,"
        " decode($11, 'hex'), decode($12, 'hex'))"
        " ON CONFLICT (package_id, version) DO NOTHING RETURNING 1",
        release.release_id(), release.package_id(), release.version(),
        published ? "PUBLISHED" : "DRAFT", release.artifact().sha256(),
        absl::BytesToHexString(release.artifact().SerializeAsString()),
        absl::BytesToHexString(release.dcinfo().SerializeAsString()),
        SettingsJson(release.settings()), Micros(now), published,
        absl::BytesToHexString(release.compatibility().SerializeAsString()),
        absl::BytesToHexString(group_settings.SerializeAsString()));
    if (r.empty()) {
      return absl::AlreadyExistsError(absl::StrCat("release ", release.version(), " of package ",
                                                   release.package_id(), " already exists"));
    }
    for (const v1::DcEntry& dc : release.dcinfo().entries()) {
      txn.exec_params(
          "INSERT INTO release_dcs (release_id, dc_id, author, name, version, files)"
          " VALUES ($1, $2, $3, $4, $5, $6::text[])",
          release.release_id(), dc.dc_id(), dc.author(), dc.name(), dc.version(),
          PgTextArray(dc.files()));
    }
    if (published) Announce(txn, release.release_id());
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Release> PgCatalogStore::PublishRelease(
    const std::string& release_id, const v1::SignedReleaseMetadata* signed_metadata,
    absl::Time now) {
  v1::Release release;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result state =
        txn.exec_params("SELECT state FROM releases WHERE release_id = $1 FOR UPDATE", release_id);
    if (state.empty())
      return absl::NotFoundError(absl::StrCat("release ", release_id, " not found"));
    if (state[0][0].as<std::string>() == "WITHDRAWN") {
      return absl::FailedPreconditionError(
          absl::StrCat("release ", release_id, " was withdrawn and cannot be published again"));
    }
    txn.exec_params(
        "UPDATE releases SET state = 'PUBLISHED',"
        " published_at = coalesce(published_at, to_timestamp($2::bigint / 1e6)),"
        " signed_metadata = CASE WHEN $3 THEN decode($4, 'hex') ELSE signed_metadata END"
        " WHERE release_id = $1",
        release_id, Micros(now), signed_metadata != nullptr,
        signed_metadata == nullptr ? std::string()
                                   : absl::BytesToHexString(signed_metadata->SerializeAsString()));
    Announce(txn, release_id);
    UPDRAFT_ASSIGN_OR_RETURN(release, LoadRelease(txn, release_id));
    return absl::OkStatus();
  }));
  return release;
}

absl::StatusOr<v1::Release> PgCatalogStore::WithdrawRelease(const std::string& release_id,
                                                            absl::Time now) {
  v1::Release release;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result state =
        txn.exec_params("SELECT state FROM releases WHERE release_id = $1 FOR UPDATE", release_id);
    if (state.empty())
      return absl::NotFoundError(absl::StrCat("release ", release_id, " not found"));
    if (state[0][0].as<std::string>() == "DRAFT") {
      return absl::FailedPreconditionError(absl::StrCat(
          "release ", release_id, " is a draft; only a published release can be withdrawn"));
    }
    txn.exec_params(
        "UPDATE releases SET state = 'WITHDRAWN',"
        " withdrawn_at = coalesce(withdrawn_at, to_timestamp($2::bigint / 1e6))"
        " WHERE release_id = $1",
        release_id, Micros(now));
    Announce(txn, release_id);
    UPDRAFT_ASSIGN_OR_RETURN(release, LoadRelease(txn, release_id));
    return absl::OkStatus();
  }));
  return release;
}

absl::StatusOr<v1::Release> PgCatalogStore::GetRelease(const std::string& release_id) {
  v1::Release release;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    UPDRAFT_ASSIGN_OR_RETURN(release, LoadRelease(txn, release_id));
    return absl::OkStatus();
  }));
  return release;
}

absl::StatusOr<std::vector<v1::Release>> PgCatalogStore::ListPublicReleases() {
  std::vector<v1::Release> releases;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    releases.clear();
    std::map<std::string, size_t> index;
    pqxx::result rows =
        txn.exec(absl::StrCat(kSelectRelease, "WHERE r.state <> 'DRAFT' ORDER BY r.release_id"));
    for (const auto& row : rows) {
      UPDRAFT_ASSIGN_OR_RETURN(v1::Release release, ReleaseFromRow(row));
      index[release.release_id()] = releases.size();
      releases.push_back(std::move(release));
    }
    pqxx::result settings = txn.exec(
        "SELECT r.release_id, s.key, s.value FROM releases r, jsonb_each_text(r.settings) s"
        " WHERE r.state <> 'DRAFT'");
    for (const auto& row : settings) {
      auto it = index.find(row[0].as<std::string>());
      if (it == index.end()) continue;
      (*releases[it->second].mutable_settings())[row[1].as<std::string>()] =
          row[2].as<std::string>();
    }
    return absl::OkStatus();
  }));
  return releases;
}

absl::StatusOr<RecordReportResult> PgCatalogStore::RecordReport(
    const std::string& device_id, const v1::ResultRecord& report,
    const std::vector<v1::InventoryComponent>& deployed) {
  RecordReportResult result;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    result.duplicate = false;
    result.release_id = report.release_id();
    result.result = report.result();
    txn.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 7402))",
                    absl::StrCat("catalog-device:", device_id));
    if (txn.exec_params("SELECT 1 FROM releases WHERE release_id = $1", report.release_id())
            .empty()) {
      return absl::NotFoundError(absl::StrCat("release ", report.release_id(), " not found"));
    }
    const int64_t micros = report.reported_at_unix() * 1000000;
    if (!report.operation_id().empty()) {
      pqxx::result op = txn.exec_params(
          "SELECT release_id FROM component_operations WHERE operation_id = $1 AND device_id = $2",
          report.operation_id(), device_id);
      if (op.empty()) {
        return absl::NotFoundError(
            absl::StrCat("operation ", report.operation_id(), " not found for device ", device_id));
      }
      if (op[0][0].as<std::string>() != report.release_id()) {
        return absl::InvalidArgumentError(
            absl::StrCat("release_id ", report.release_id(), " is not the release of operation ",
                         report.operation_id(), " (", op[0][0].as<std::string>(), ")"));
      }
    }
    pqxx::result r = txn.exec_params(
        "INSERT INTO device_reports (device_id, report_id, release_id, result_code, message,"
        " reported_at, operation_id, applied_settings)"
        " VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint / 1e6), $7, $8::jsonb)"
        " ON CONFLICT (device_id, report_id) DO NOTHING RETURNING 1",
        device_id, report.report_id(), report.release_id(), static_cast<int>(report.result()),
        report.message(), micros, report.operation_id(), SettingsJson(report.applied_settings()));
    if (r.empty()) {
      result.duplicate = true;
      pqxx::row first = txn.exec_params1(
          "SELECT release_id, result_code FROM device_reports WHERE device_id = $1"
          " AND report_id = $2",
          device_id, report.report_id());
      result.release_id = first[0].as<std::string>();
      result.result = static_cast<v1::ResultCode>(first[1].as<int>());
      return absl::OkStatus();
    }
    if (!report.operation_id().empty()) {
      // The first report of an operation decides its outcome.
      txn.exec_params(
          "UPDATE component_operations SET state = $2, result_code = $3, message = $4,"
          " completed_at = to_timestamp($5::bigint / 1e6),"
          " delivered_at = coalesce(delivered_at, to_timestamp($5::bigint / 1e6))"
          " WHERE operation_id = $1 AND state IN ('QUEUED', 'DELIVERED')",
          report.operation_id(), report.result() == v1::SUCCESS ? "SUCCEEDED" : "FAILED",
          static_cast<int>(report.result()), report.message(), micros);
    }
    if (report.result() != v1::SUCCESS) return absl::OkStatus();
    txn.exec_params("DELETE FROM device_components WHERE device_id = $1 AND location = 'DEPLOYED'",
                    device_id);
    for (const v1::InventoryComponent& c : deployed) {
      txn.exec_params(
          "INSERT INTO device_components (device_id, dc_id, release_id, author, name, version,"
          " location, state, updated_at)"
          " VALUES ($1, $2, $3, $4, $5, $6, 'DEPLOYED', $7, to_timestamp($8::bigint / 1e6))"
          " ON CONFLICT (device_id, author, name) DO UPDATE SET dc_id = excluded.dc_id,"
          " release_id = excluded.release_id, version = excluded.version,"
          " location = excluded.location, state = excluded.state,"
          " updated_at = excluded.updated_at",
          device_id, c.dc_id(), c.release_id(), c.author(), c.name(), c.version(),
          v1::ComponentState_Name(c.state()), micros);
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<v1::DeviceState> PgCatalogStore::GetDeviceState(const std::string& device_id,
                                                               int max_history) {
  v1::DeviceState state;
  UPDRAFT_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    state.Clear();
    state.set_device_id(device_id);
    pqxx::result components = txn.exec_params(
        "SELECT dc_id, release_id, author, name, version, location, state"
        " FROM device_components WHERE device_id = $1 ORDER BY author, name",
        device_id);
    for (const auto& row : components) {
      v1::InventoryComponent* c = state.add_deployed();
      c->set_dc_id(row[0].as<std::string>());
      c->set_release_id(row[1].as<std::string>());
      c->set_author(row[2].as<std::string>());
      c->set_name(row[3].as<std::string>());
      c->set_version(row[4].as<std::string>());
      v1::ComponentLocation location = v1::COMPONENT_LOCATION_UNSPECIFIED;
      v1::ComponentLocation_Parse(row[5].as<std::string>(), &location);
      c->set_location(location);
      v1::ComponentState component_state = v1::COMPONENT_STATE_UNSPECIFIED;
      v1::ComponentState_Parse(row[6].as<std::string>(), &component_state);
      c->set_state(component_state);
    }
    pqxx::result history = txn.exec_params(
        "SELECT report_id, release_id, result_code, message, epoch, operation_id FROM ("
        " SELECT report_id, release_id, result_code, message, seq, operation_id,"
        " floor(extract(epoch FROM reported_at))::bigint AS epoch"
        " FROM device_reports WHERE device_id = $1"
        " ORDER BY seq DESC LIMIT $2) latest"
        " ORDER BY seq",
        device_id, max_history);
    for (const auto& row : history) {
      v1::ResultRecord* h = state.add_history();
      h->set_report_id(row[0].as<std::string>());
      h->set_release_id(row[1].as<std::string>());
      h->set_result(static_cast<v1::ResultCode>(row[2].as<int>()));
      h->set_message(row[3].as<std::string>());
      h->set_reported_at_unix(row[4].as<int64_t>());
      h->set_operation_id(row[5].as<std::string>());
    }
    std::map<std::string, v1::ResultRecord*> by_report;
    for (v1::ResultRecord& h : *state.mutable_history()) by_report[h.report_id()] = &h;
    pqxx::result applied = txn.exec_params(
        "SELECT latest.report_id, s.key, s.value FROM ("
        " SELECT report_id, applied_settings FROM device_reports WHERE device_id = $1"
        " ORDER BY seq DESC LIMIT $2) latest, jsonb_each_text(latest.applied_settings) s",
        device_id, max_history);
    for (const auto& row : applied) {
      auto it = by_report.find(row[0].as<std::string>());
      if (it == by_report.end()) continue;  // reported since the history was read
      (*it->second->mutable_applied_settings())[row[1].as<std::string>()] =
          row[2].as<std::string>();
    }
    return absl::OkStatus();
  }));
  return state;
}

}  // namespace updraft::catalog
