#include "sdk/device/updraft_device.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/notification_format.h"
#include "common/release_metadata.h"
#include "common/status_util.h"
#include "sdk/device/channels.h"
#include "sdk/device/client.h"
#include "sdk/device/directory_installer.h"
#include "sdk/device/file_key_store.h"
#include "sdk/device/installer.h"
#include "sdk/device/ip_push_listener.h"
#include "sdk/device/periodic_checker.h"
#include "sdk/device/push_handler.h"
#include "sdk/device/result_code.h"

namespace {

using ::updraft::device::Client;
using ::updraft::device::UpdateOutcome;

// The calling thread's last error (updraft_last_error).
thread_local std::string t_last_error;

updraft_status_t Report(const absl::Status& status) {
  t_last_error = status.ok() ? "" : std::string(status.message());
  return static_cast<updraft_status_t>(status.code());
}

// Runs `fn` (returning absl::Status) so that no exception crosses the C API.
template <typename Fn>
updraft_status_t Guard(Fn&& fn) {
  try {
    return Report(fn());
  } catch (const std::bad_alloc&) {
    return Report(absl::ResourceExhaustedError("out of memory"));
  } catch (const std::exception& e) {
    return Report(absl::InternalError(absl::StrCat("unexpected exception: ", e.what())));
  } catch (...) {
    return Report(absl::InternalError("unexpected exception"));
  }
}

std::string Str(const char* s) { return s == nullptr ? "" : s; }

// Sizes of updraft_device_options_t that callers may have been built with:
// version 1 ended with time_zone; version 2 (current) added the
// per-component callbacks.
constexpr size_t kOptionsSizeV1 = offsetof(updraft_device_options_t, activate_fn);

// An Installer over the host's C callbacks.
class CInstaller : public updraft::device::Installer {
 public:
  explicit CInstaller(const updraft_device_options_t& o)
      : install_(o.install_fn),
        remove_(o.remove_fn),
        activate_(o.activate_fn),
        deactivate_(o.deactivate_fn),
        remove_component_(o.remove_component_fn),
        user_data_(o.user_data) {}

  absl::StatusOr<updraft::device::InstallResult> Install(
      const std::string& package_name, const std::string& artifact_path,
      const updraft::v1::Release& release) override {
    // Pointers into `release`, which outlives the call.
    std::vector<const char*> key_ptrs, value_ptrs;
    for (const auto& [k, v] : release.settings()) {
      key_ptrs.push_back(k.c_str());
      value_ptrs.push_back(v.c_str());
    }
    int fresh = 0;
    char location[1024] = "";
    char message[1024] = "";
    int code =
        install_(user_data_, package_name.c_str(), artifact_path.c_str(),
                 release.release_id().c_str(), release.version().c_str(), key_ptrs.data(),
                 value_ptrs.data(), key_ptrs.size(), &fresh, location, message, sizeof(message));
    location[sizeof(location) - 1] = '\0';
    message[sizeof(message) - 1] = '\0';
    if (code != 0) {
      updraft::v1::ResultCode rc = updraft::v1::ResultCode_IsValid(code)
                                       ? static_cast<updraft::v1::ResultCode>(code)
                                       : updraft::v1::INSTALL_FAILED;
      return updraft::device::WithResultCode(
          absl::InternalError(
              absl::StrCat("the platform installer failed (", code, "): ", message)),
          rc);
    }
    updraft::device::InstallResult result;
    result.kind = fresh ? updraft::v1::FRESH_INSTALL : updraft::v1::OVERWRITE;
    result.location = location;
    result.settings_applied = static_cast<int>(key_ptrs.size());
    return result;
  }

  absl::Status Remove(const std::string& package_name) override {
    if (remove_ == nullptr) {
      return updraft::device::WithResultCode(
          absl::UnimplementedError("the platform installer has no remove_fn"),
          updraft::v1::NOT_IMPLEMENTED);
    }
    char message[1024] = "";
    int code = remove_(user_data_, package_name.c_str(), message, sizeof(message));
    message[sizeof(message) - 1] = '\0';
    if (code == 0) return absl::OkStatus();
    return updraft::device::WithResultCode(
        absl::InternalError(
            absl::StrCat("removing ", package_name, " failed (", code, "): ", message)),
        updraft::v1::REMOVE_FAILED);
  }

  absl::Status Activate(const updraft::device::ComponentRef& c) override {
    return CallComponentFn(activate_, "activate_fn", "activate", updraft::v1::ACTIVATE_FAILED,
                           /*not_found_is_done=*/false, c);
  }

  absl::Status Deactivate(const updraft::device::ComponentRef& c) override {
    return CallComponentFn(deactivate_, "deactivate_fn", "deactivate",
                           updraft::v1::DEACTIVATE_FAILED, /*not_found_is_done=*/false, c);
  }

  absl::Status RemoveComponent(const updraft::device::ComponentRef& c) override {
    return CallComponentFn(remove_component_, "remove_component_fn", "remove",
                           updraft::v1::REMOVE_FAILED, /*not_found_is_done=*/true, c);
  }

 private:
  // Runs a per-component callback and maps its updraft_component_result_t
  // to a status carrying the SCOMO code (see updraft_device.h);
  // `not_found_is_done`: NOT_FOUND means the operation's goal holds (remove).
  absl::Status CallComponentFn(updraft_component_fn fn, const char* field, const char* verb,
                               updraft::v1::ResultCode failure, bool not_found_is_done,
                               const updraft::device::ComponentRef& c) {
    using updraft::device::WithResultCode;
    const std::string what = absl::StrCat(verb, " component ", c.dc_id, " of package ",
                                          c.package_name.empty() ? "(none)" : c.package_name);
    if (fn == nullptr) {
      return WithResultCode(
          absl::UnimplementedError(absl::StrCat("the platform installer cannot ", what,
                                                " (updraft_device_options.", field, " not set)")),
          updraft::v1::NOT_IMPLEMENTED);
    }
    updraft_component_ref_t ref;
    ref.package_name = c.package_name.c_str();
    ref.dc_id = c.dc_id.c_str();
    ref.name = c.name.c_str();
    ref.version = c.version.c_str();
    char message[1024] = "";
    int code;
    try {
      code = fn(user_data_, &ref, message, sizeof(message));
    } catch (...) {
      return WithResultCode(
          absl::InternalError(absl::StrCat(field, " threw an exception trying to ", what)),
          failure);
    }
    message[sizeof(message) - 1] = '\0';
    const std::string detail = message[0] == '\0' ? "" : absl::StrCat(": ", message);
    switch (code) {
      case UPDRAFT_COMPONENT_OK:
        return absl::OkStatus();
      case UPDRAFT_COMPONENT_FAILED:
        return WithResultCode(
            absl::InternalError(absl::StrCat("the platform failed to ", what, detail)), failure);
      case UPDRAFT_COMPONENT_NOT_FOUND:
        if (not_found_is_done) return absl::OkStatus();  // Removed already.
        return WithResultCode(absl::NotFoundError(absl::StrCat(
                                  "cannot ", what, ": the platform does not have it", detail)),
                              failure);
      case UPDRAFT_COMPONENT_NOT_SUPPORTED:
        return WithResultCode(absl::UnimplementedError(absl::StrCat(
                                  "the platform does not support this: ", what, detail)),
                              updraft::v1::NOT_IMPLEMENTED);
      default:
        return WithResultCode(absl::InternalError(absl::StrCat(
                                  field, " returned ", code,
                                  ", not an updraft_component_result_t, trying to ", what, detail)),
                              failure);
    }
  }

  updraft_install_fn install_;
  updraft_remove_fn remove_;
  updraft_component_fn activate_;
  updraft_component_fn deactivate_;
  updraft_component_fn remove_component_;
  void* user_data_;
};

}  // namespace

struct updraft_device {
  updraft_device_options_t callbacks;  // only the callbacks, user_data and schedule
  std::unique_ptr<updraft::device::FileKeyStore> keys;
  std::unique_ptr<updraft::device::Installer> installer;
  std::unique_ptr<Client> client;
  // With a notifier: every use of the client goes through the handler,
  // which serialises it; without one, through client_mu.
  std::unique_ptr<updraft::device::PushHandler> push;
  absl::Mutex client_mu;
  // Guards starting and stopping the background threads.
  absl::Mutex control_mu;
  std::unique_ptr<updraft::device::IpPushListener> listener ABSL_GUARDED_BY(control_mu);
  std::unique_ptr<updraft::device::PeriodicChecker> scheduler ABSL_GUARDED_BY(control_mu);

  absl::StatusOr<std::vector<UpdateOutcome>> RunActiveUpgrade() {
    if (push != nullptr) return push->RunActiveUpgrade();
    absl::MutexLock lock(&client_mu);
    return client->RunActiveUpgrade();
  }

  void Notify(const updraft::NotificationFields& fields, bool acked) {
    if (callbacks.notification_fn == nullptr) return;
    std::string id = updraft::NotificationIdHex(fields.id);
    updraft_notification_t n;
    n.notification_id = id.c_str();
    n.software_name = fields.software_name.c_str();
    n.location = fields.location.c_str();
    n.timestamp_unix = fields.timestamp_unix;
    n.acked = acked ? 1 : 0;
    callbacks.notification_fn(callbacks.user_data, &n);
  }

  absl::Status NeedsNotifier() const {
    if (push != nullptr) return absl::OkStatus();
    return absl::FailedPreconditionError(
        "push notifications need updraft_device_options.notifier_address");
  }
};

namespace {

// What the C API reports for a handled push: the flow's status (the host
// heard of the notification itself through notification_fn, the handler's
// on_accepted).
absl::Status PushStatus(const absl::StatusOr<updraft::device::PushResult>& result) {
  if (!result.ok()) return result.status();
  return result->outcomes.status();
}

void OnConsentOffer(const updraft_device_options_t& cb, const updraft::v1::Offer& offer,
                    bool* yes) {
  *yes = false;
  if (cb.consent_fn == nullptr) return;
  updraft_offer_t o;
  o.release_id = offer.release().release_id().c_str();
  o.package_name = offer.release().package_name().c_str();
  o.version = offer.release().version().c_str();
  o.size_bytes = offer.release().artifact().size();
  o.fresh_install = offer.kind() == updraft::v1::FRESH_INSTALL ? 1 : 0;
  *yes = cb.consent_fn(cb.user_data, &o) != 0;
}

updraft_operation_kind_t OperationKind(updraft::v1::ComponentOperation::Kind kind) {
  switch (kind) {
    case updraft::v1::ComponentOperation::UPDATE:
      return UPDRAFT_OPERATION_UPDATE;
    case updraft::v1::ComponentOperation::ACTIVATE:
      return UPDRAFT_OPERATION_ACTIVATE;
    case updraft::v1::ComponentOperation::DEACTIVATE:
      return UPDRAFT_OPERATION_DEACTIVATE;
    case updraft::v1::ComponentOperation::REMOVE:
      return UPDRAFT_OPERATION_REMOVE;
    default:
      return UPDRAFT_OPERATION_NONE;
  }
}

void OnResult(const updraft_device_options_t& cb, const UpdateOutcome& outcome) {
  if (cb.result_fn == nullptr) return;
  std::vector<const char*> dc_ids;
  for (const std::string& id : outcome.dc_ids) dc_ids.push_back(id.c_str());
  updraft_result_t r;
  r.nothing_new = outcome.nothing_new ? 1 : 0;
  r.release_id = outcome.release.release_id().c_str();
  r.package_name = outcome.release.package_name().c_str();
  r.version = outcome.release.version().c_str();
  r.result_code = static_cast<int>(outcome.result);
  r.message = outcome.message.c_str();
  r.dc_ids = dc_ids.data();
  r.dc_id_count = dc_ids.size();
  r.reported = outcome.reported ? 1 : 0;
  r.operation_id = outcome.operation_id.c_str();
  r.operation_kind = OperationKind(outcome.operation_kind);
  r.operation_dc_id = outcome.dc_id.c_str();
  cb.result_fn(cb.user_data, &r);
}

void OnProgress(const updraft_device_options_t& cb, const updraft::device::ProgressEvent& e) {
  if (cb.progress_fn == nullptr) return;
  updraft_progress_t p;
  p.step = static_cast<updraft_step_t>(static_cast<int>(e.step));
  const updraft::v1::Release& release = e.offer != nullptr ? e.offer->release() : e.release;
  p.package_name = release.package_name().c_str();
  p.offer_index = e.offer_index;
  p.offer_count = e.offer_count;
  p.bytes_done = e.download.bytes_done;
  p.bytes_total = e.download.bytes_total;
  p.result_code = static_cast<int>(e.result);
  cb.progress_fn(cb.user_data, &p);
}

absl::Duration Seconds(int64_t s, absl::Duration fallback) {
  return s > 0 ? absl::Seconds(s) : fallback;
}

absl::Status Create(const updraft_device_options_t* caller_options, updraft_device_t** out) {
  if (out == nullptr) return absl::InvalidArgumentError("out is NULL");
  *out = nullptr;
  if (caller_options == nullptr) return absl::InvalidArgumentError("options is NULL");
  const size_t size = caller_options->struct_size;
  if (size != kOptionsSizeV1 && size != sizeof(updraft_device_options_t)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "options.struct_size ", size, " does not match this SDK (", kOptionsSizeV1, " or ",
        sizeof(updraft_device_options_t), "; call updraft_device_options_init)"));
  }
  // Fields past the caller's struct_size keep their defaults.
  updraft_device_options_t copy;
  updraft_device_options_init(&copy);
  memcpy(&copy, caller_options, size);
  const updraft_device_options_t* options = &copy;
  if (Str(options->key_file).empty()) {
    return absl::InvalidArgumentError("options.key_file is required");
  }
  if ((options->install_fn == nullptr) && Str(options->install_dir).empty()) {
    return absl::InvalidArgumentError("options.install_dir (or install_fn) is required");
  }
  if (options->install_fn == nullptr &&
      (options->activate_fn != nullptr || options->deactivate_fn != nullptr ||
       options->remove_component_fn != nullptr)) {
    return absl::InvalidArgumentError(
        "options.activate_fn, deactivate_fn and remove_component_fn belong to the host installer: "
        "set install_fn too (the default installer does these operations itself)");
  }
  if (options->check_jitter < 0 || options->check_jitter >= 1) {
    return absl::InvalidArgumentError("options.check_jitter must be within [0, 1)");
  }
  auto dev = std::make_unique<updraft_device>();
  updraft_device_options_t& cb = dev->callbacks;
  updraft_device_options_init(&cb);
  cb.consent_fn = options->consent_fn;
  cb.result_fn = options->result_fn;
  cb.progress_fn = options->progress_fn;
  cb.notification_fn = options->notification_fn;
  cb.user_data = options->user_data;
  cb.check_interval_seconds = options->check_interval_seconds;
  cb.check_jitter = options->check_jitter;
  cb.retry_interval_seconds = options->retry_interval_seconds;

  dev->keys = std::make_unique<updraft::device::FileKeyStore>(Str(options->key_file));
  if (options->install_fn != nullptr) {
    dev->installer = std::make_unique<CInstaller>(*options);
  } else {
    auto installer = updraft::device::DirectoryInstaller::Create({.root = options->install_dir});
    if (!installer.ok()) return installer.status();
    dev->installer = *std::move(installer);
  }
  updraft::device::ChannelSecurity security;
  security.ca_file = Str(options->ca_file);
  security.client_cert_file = Str(options->client_cert_file);
  security.client_key_file = Str(options->client_key_file);
  security.server_name_override = Str(options->server_name_override);
  security.plaintext = options->plaintext != 0;
  // Loaded once for the client's channels and the notifier's; when that
  // fails, Client::Create below reports why.
  if (absl::StatusOr<updraft::device::ChannelSecurity> loaded =
          updraft::device::LoadChannelCredentials(security);
      loaded.ok()) {
    security = *std::move(loaded);
  }

  Client::Options o;
  o.device_id = Str(options->device_id);
  o.auth_address = Str(options->auth_address);
  o.catalog_address = Str(options->catalog_address);
  o.security = security;
  o.download_target_override = Str(options->download_address);
  o.key_store = dev->keys.get();
  o.installer = dev->installer.get();
  o.state_dir = Str(options->state_dir);
  o.attributes.set_model(Str(options->model));
  o.attributes.set_os_version(Str(options->os_version));
  o.attributes.set_carrier(Str(options->carrier));
  o.attributes.set_time_zone(Str(options->time_zone));
  o.rpc_timeout = Seconds(options->rpc_timeout_seconds, absl::Seconds(30));
  if (!Str(options->publisher_keys_file).empty()) {
    absl::StatusOr<std::vector<std::string>> publishers =
        updraft::ReadPublisherKeyFile(Str(options->publisher_keys_file));
    if (!publishers.ok()) return publishers.status();
    o.trusted_publisher_keys = *std::move(publishers);
  }
  const updraft_device_options_t* cbp = &cb;
  o.consent = [cbp](const updraft::v1::Offer& offer) {
    bool yes;
    OnConsentOffer(*cbp, offer, &yes);
    return yes;
  };
  o.on_result = [cbp](const UpdateOutcome& outcome) { OnResult(*cbp, outcome); };
  o.on_progress = [cbp](const updraft::device::ProgressEvent& e) { OnProgress(*cbp, e); };
  auto client = Client::Create(std::move(o));
  if (!client.ok()) return client.status();
  dev->client = *std::move(client);

  if (!Str(options->notifier_address).empty()) {
    updraft::device::PushHandler::Options p;
    p.client = dev->client.get();
    p.notifier_address = options->notifier_address;
    p.security = security;
    p.state_dir = Str(options->state_dir);
    p.rpc_timeout = Seconds(options->rpc_timeout_seconds, absl::Seconds(30));
    updraft_device* d = dev.get();
    p.on_accepted = [d](const updraft::NotificationFields& fields, bool acked) {
      d->Notify(fields, acked);
    };
    auto push = updraft::device::PushHandler::Create(std::move(p));
    if (!push.ok()) return push.status();
    dev->push = *std::move(push);
  }
  *out = dev.release();
  return absl::OkStatus();
}

}  // namespace

extern "C" {

const char* updraft_last_error(void) { return t_last_error.c_str(); }

void updraft_device_options_init(updraft_device_options_t* options) {
  if (options == nullptr) return;
  memset(options, 0, sizeof(*options));
  options->struct_size = sizeof(*options);
  options->check_interval_seconds = 86400;
  options->check_jitter = 0.1;
  options->retry_interval_seconds = 900;
  options->rpc_timeout_seconds = 30;
}

updraft_status_t updraft_device_create(const updraft_device_options_t* options,
                                       updraft_device_t** out) {
  return Guard([&] { return Create(options, out); });
}

void updraft_device_destroy(updraft_device_t* device) {
  if (device == nullptr) return;
  try {
    {
      absl::MutexLock lock(&device->control_mu);
      if (device->listener != nullptr) device->listener->Stop();
      if (device->scheduler != nullptr) device->scheduler->Stop();
    }
    delete device;
  } catch (...) {
    // Nothing can be reported from here; the handle is gone either way.
  }
}

updraft_status_t updraft_device_public_key(updraft_device_t* device, char* buffer, size_t size) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr || buffer == nullptr) {
      return absl::InvalidArgumentError("device and buffer are required");
    }
    std::string key = absl::WebSafeBase64Escape(device->client->public_key());
    if (size < key.size() + 1) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the buffer needs ", key.size() + 1, " bytes, has ", size));
    }
    memcpy(buffer, key.c_str(), key.size() + 1);
    return absl::OkStatus();
  });
}

updraft_status_t updraft_device_run_active_upgrade(updraft_device_t* device, int* failed_offers) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr) return absl::InvalidArgumentError("device is NULL");
    absl::StatusOr<std::vector<UpdateOutcome>> outcomes = device->RunActiveUpgrade();
    if (!outcomes.ok()) return outcomes.status();
    int failed = 0;
    for (const UpdateOutcome& o : *outcomes) {
      if (!o.nothing_new && !o.success()) ++failed;
    }
    if (failed_offers != nullptr) *failed_offers = failed;
    return absl::OkStatus();
  });
}

updraft_status_t updraft_device_handle_sms(updraft_device_t* device, const uint8_t* payload,
                                           size_t size) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr) return absl::InvalidArgumentError("device is NULL");
    if (payload == nullptr && size > 0) return absl::InvalidArgumentError("payload is NULL");
    UPDRAFT_RETURN_IF_ERROR(device->NeedsNotifier());
    return PushStatus(device->push->HandleSmsPayload(
        absl::string_view(reinterpret_cast<const char*>(payload), payload == nullptr ? 0 : size)));
  });
}

updraft_status_t updraft_device_handle_wap_push(updraft_device_t* device, const char* href_or_si) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr) return absl::InvalidArgumentError("device is NULL");
    if (href_or_si == nullptr) return absl::InvalidArgumentError("href_or_si is NULL");
    // A malformed SI is INVALID_ARGUMENT even on a device without a notifier.
    UPDRAFT_ASSIGN_OR_RETURN(std::string bytes, updraft::device::NotificationFromSi(href_or_si));
    UPDRAFT_RETURN_IF_ERROR(device->NeedsNotifier());
    return PushStatus(device->push->HandleSmsPayload(bytes));
  });
}

updraft_status_t updraft_device_start_ip_push(updraft_device_t* device) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr) return absl::InvalidArgumentError("device is NULL");
    if (device->push == nullptr) {
      return absl::FailedPreconditionError("IP Push needs updraft_device_options.notifier_address");
    }
    absl::MutexLock lock(&device->control_mu);
    if (device->listener != nullptr) return absl::OkStatus();
    updraft::device::IpPushListener::Options o;
    o.handler = device->push.get();
    o.on_notification = [device](const updraft::NotificationFields& fields) {
      device->Notify(fields, /*acked=*/true);
      device->RunActiveUpgrade().IgnoreError();
    };
    auto listener = updraft::device::IpPushListener::Create(std::move(o));
    if (!listener.ok()) return listener.status();
    device->listener = *std::move(listener);
    device->listener->Start();
    return absl::OkStatus();
  });
}

updraft_status_t updraft_device_stop_ip_push(updraft_device_t* device) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr) return absl::InvalidArgumentError("device is NULL");
    absl::MutexLock lock(&device->control_mu);
    if (device->listener != nullptr) device->listener->Stop();
    device->listener.reset();
    return absl::OkStatus();
  });
}

int updraft_device_ip_push_streams_opened(updraft_device_t* device) {
  if (device == nullptr) return 0;
  absl::MutexLock lock(&device->control_mu);
  return device->listener == nullptr ? 0 : device->listener->streams_opened();
}

updraft_status_t updraft_device_start_scheduled_checks(updraft_device_t* device) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr) return absl::InvalidArgumentError("device is NULL");
    absl::MutexLock lock(&device->control_mu);
    if (device->scheduler != nullptr) return absl::OkStatus();
    updraft::device::PeriodicChecker::Options o;
    o.interval = Seconds(device->callbacks.check_interval_seconds, absl::Hours(24));
    o.jitter = device->callbacks.check_jitter;
    o.retry_interval = Seconds(device->callbacks.retry_interval_seconds, absl::Minutes(15));
    o.check = [device] { return device->RunActiveUpgrade().status(); };
    auto scheduler = updraft::device::PeriodicChecker::Create(std::move(o));
    if (!scheduler.ok()) return scheduler.status();
    device->scheduler = *std::move(scheduler);
    device->scheduler->Start();
    return absl::OkStatus();
  });
}

updraft_status_t updraft_device_stop_scheduled_checks(updraft_device_t* device) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr) return absl::InvalidArgumentError("device is NULL");
    absl::MutexLock lock(&device->control_mu);
    if (device->scheduler != nullptr) device->scheduler->Stop();
    device->scheduler.reset();
    return absl::OkStatus();
  });
}

updraft_status_t updraft_device_get_inventory(updraft_device_t* device,
                                              updraft_component_t** components, size_t* count) {
  return Guard([&]() -> absl::Status {
    if (device == nullptr || components == nullptr || count == nullptr) {
      return absl::InvalidArgumentError("device, components and count are required");
    }
    *components = nullptr;
    *count = 0;
    updraft::v1::DeviceLocalState state = device->client->LocalState();
    const int n = state.deployed_size();
    if (n == 0) return absl::OkStatus();
    auto* out = static_cast<updraft_component_t*>(calloc(n, sizeof(updraft_component_t)));
    if (out == nullptr) return absl::ResourceExhaustedError("out of memory");
    for (int i = 0; i < n; ++i) {
      const updraft::v1::InventoryComponent& c = state.deployed(i);
      out[i].dc_id = strdup(c.dc_id().c_str());
      out[i].release_id = strdup(c.release_id().c_str());
      out[i].name = strdup(c.name().c_str());
      out[i].version = strdup(c.version().c_str());
      out[i].author = strdup(c.author().c_str());
      out[i].active = c.state() == updraft::v1::INACTIVE ? 0 : 1;
      if (!out[i].dc_id || !out[i].release_id || !out[i].name || !out[i].version ||
          !out[i].author) {
        updraft_inventory_free(out, n);
        return absl::ResourceExhaustedError("out of memory");
      }
    }
    *components = out;
    *count = static_cast<size_t>(n);
    return absl::OkStatus();
  });
}

void updraft_inventory_free(updraft_component_t* components, size_t count) {
  if (components == nullptr) return;
  for (size_t i = 0; i < count; ++i) {
    free(components[i].dc_id);
    free(components[i].release_id);
    free(components[i].name);
    free(components[i].version);
    free(components[i].author);
  }
  free(components);
}

}  // extern "C"
