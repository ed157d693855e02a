/* Updraft device SDK, C API: for handset vendors integrating the SDK from C,
 * from JNI or from any language with a C FFI.
 *
 * One opaque handle (updraft_device_t) is one device: its key, its SCOMO
 * state directory and its connections to Updraft's services. Only plain C
 * types cross this API; no C++ exception ever leaves it (the SDK's errors
 * become status codes, with a message from updraft_last_error()).
 *
 * THREADING RULES
 *  - Every function may be called from any thread. Functions taking the same
 *    handle may be called concurrently: the flows (active upgrade, SMS, WAP
 *    Push, IP Push, scheduled checks) are serialised inside the handle, so a
 *    call waits while another flow of the same handle runs. Different handles
 *    are independent.
 *  - Callbacks run on the thread running the flow: the caller's thread for
 *    updraft_device_run_active_upgrade / _handle_sms / _handle_wap_push, the
 *    handle's IP Push thread for notifications received over IP Push, the
 *    handle's scheduler thread for scheduled checks. A callback must return
 *    promptly and must not call updraft_device_run_active_upgrade,
 *    _handle_sms, _handle_wap_push, _start_*, _stop_* or _destroy on its own
 *    handle (that would deadlock); it may call updraft_device_get_inventory
 *    and updraft_last_error.
 *  - Pointers passed to a callback are valid during the callback only.
 *  - updraft_device_destroy stops the background threads (waiting for a flow
 *    they run) and frees the handle; no callback runs after it returns. Like
 *    free(), it must not overlap other calls on the same handle.
 *
 * ERRORS: every function returning updraft_status_t sets the calling
 * thread's last error message (updraft_last_error(); "" after success).
 */
#ifndef UPDRAFT_SDK_DEVICE_UPDRAFT_DEVICE_H_
#define UPDRAFT_SDK_DEVICE_UPDRAFT_DEVICE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: the gRPC / absl canonical codes. */
typedef enum updraft_status {
  UPDRAFT_OK = 0,
  UPDRAFT_CANCELLED = 1,
  UPDRAFT_UNKNOWN = 2,
  UPDRAFT_INVALID_ARGUMENT = 3,
  UPDRAFT_DEADLINE_EXCEEDED = 4,
  UPDRAFT_NOT_FOUND = 5,
  UPDRAFT_ALREADY_EXISTS = 6, /* e.g. a replayed notification */
  UPDRAFT_PERMISSION_DENIED = 7,
  UPDRAFT_RESOURCE_EXHAUSTED = 8,
  UPDRAFT_FAILED_PRECONDITION = 9, /* e.g. an expired notification */
  UPDRAFT_ABORTED = 10,
  UPDRAFT_OUT_OF_RANGE = 11,
  UPDRAFT_UNIMPLEMENTED = 12,
  UPDRAFT_INTERNAL = 13,
  UPDRAFT_UNAVAILABLE = 14, /* a service cannot be reached */
  UPDRAFT_DATA_LOSS = 15,
  UPDRAFT_UNAUTHENTICATED = 16 /* e.g. a forged notification, an unknown device */
} updraft_status_t;

/* The calling thread's message for the last failed call ("" after a
 * successful one). Valid until the thread's next updraft_* call. */
const char* updraft_last_error(void);

/* A release offered to the device (consent callback). */
typedef struct updraft_offer {
  const char* release_id;
  const char* package_name;
  const char* version;
  int64_t size_bytes;
  int fresh_install; /* 1: not installed yet; 0: overwrites an installed version */
} updraft_offer_t;

/* The per-component operation a result answers (updraft_result_t); the
 * values are those of ComponentOperation.Kind in the catalog API. */
typedef enum updraft_operation_kind {
  UPDRAFT_OPERATION_NONE = 0,       /* an ordinary release install, or nothing new */
  UPDRAFT_OPERATION_UPDATE = 1,     /* install a newer release of one component */
  UPDRAFT_OPERATION_ACTIVATE = 2,   /* activate_fn, or the default installer */
  UPDRAFT_OPERATION_DEACTIVATE = 3, /* deactivate_fn, or the default installer */
  UPDRAFT_OPERATION_REMOVE = 4      /* remove_component_fn or remove_fn */
} updraft_operation_kind_t;

/* How an offer or a per-component operation ended, or that there was
 * nothing new (result callback). The SDK allocates and owns the struct and
 * its strings (never NULL; valid during the callback only).
 * Versioning: fields are only ever added at the end. Since the caller never
 * allocates it, the struct needs no struct_size: a program built against an
 * earlier header reads the fields it knows and never sees the newer ones.
 * (A program reading the newer fields needs a library at least as new as its
 * header, as for any addition to this API.) */
typedef struct updraft_result {
  int nothing_new; /* 1: the catalog had no update; other fields empty */
  const char* release_id;
  const char* package_name;
  const char* version;
  int result_code; /* SCOMO result code: 1200 success, 1401 user cancelled, ... */
  const char* message;
  const char* const* dc_ids; /* Deployed component IDs registered (success) */
  size_t dc_id_count;
  int reported; /* 1 once the catalog acknowledged the report */
  /* Added in version 2 of this struct. For an outcome of a per-component
   * operation the server queued: its ID (as in the server's report), its
   * kind, and the Deployed component ID it acts on. For an ordinary release
   * install and for nothing_new: "", UPDRAFT_OPERATION_NONE and "". */
  const char* operation_id;
  updraft_operation_kind_t operation_kind;
  const char* operation_dc_id;
} updraft_result_t;

/* Steps of the flow (progress callback). */
typedef enum updraft_step {
  UPDRAFT_STEP_LOGGED_IN = 0,
  UPDRAFT_STEP_FOUND_UPDATE = 1,
  UPDRAFT_STEP_CONSENTED = 2,
  UPDRAFT_STEP_DOWNLOADING = 3,
  UPDRAFT_STEP_VERIFIED = 4,
  UPDRAFT_STEP_INSTALLED = 5,
  UPDRAFT_STEP_CONFIGURED = 6,
  UPDRAFT_STEP_COMPONENTS_REGISTERED = 7,
  UPDRAFT_STEP_REPORTED = 8
} updraft_step_t;

typedef struct updraft_progress {
  updraft_step_t step;
  const char* package_name; /* "" for LOGGED_IN */
  int offer_index;          /* 1-based among offer_count */
  int offer_count;
  int64_t bytes_done; /* DOWNLOADING, VERIFIED */
  int64_t bytes_total;
  int result_code; /* REPORTED */
} updraft_progress_t;

/* A verified push notification (notification callback). */
typedef struct updraft_notification {
  const char* notification_id; /* lower-case hex */
  const char* software_name;
  const char* location;
  int64_t timestamp_unix;
  int acked; /* SMS / WAP Push: 1 when the notifier acknowledged the receipt; IP Push:
               always 1 (an unacknowledged one is delivered again and acknowledged then) */
} updraft_notification_t;

/* Returns nonzero to download and install the offer, 0 to decline it
 * (reported as 1401 user cancelled). */
typedef int (*updraft_consent_fn)(void* user_data, const updraft_offer_t* offer);
typedef void (*updraft_result_fn)(void* user_data, const updraft_result_t* result);
typedef void (*updraft_progress_fn)(void* user_data, const updraft_progress_t* progress);
typedef void (*updraft_notification_fn)(void* user_data,
                                        const updraft_notification_t* notification);

/* The platform's installer (optional; default: a directory per package under
 * install_dir). Installs the verified artifact at `artifact_path` as
 * `package_name`, applying `setting_count` key=value settings, atomically:
 * either it completes or the previous version stays. Returns 0 on success,
 * else a SCOMO result code (1405 install failed, 1406 out of memory, 1407
 * package validation failed) and may write a message into `message`
 * (capacity `message_size`, NUL-terminated). `location` (same capacity)
 * receives where the package now lives; *fresh_install 1 when the package
 * was not installed before. Called on the flow's thread. */
typedef int (*updraft_install_fn)(void* user_data, const char* package_name,
                                  const char* artifact_path, const char* release_id,
                                  const char* version, const char* const* setting_keys,
                                  const char* const* setting_values, size_t setting_count,
                                  int* fresh_install, char* location, char* message,
                                  size_t message_size);

/* Removes an installed package: 0, or a SCOMO result code (1408). */
typedef int (*updraft_remove_fn)(void* user_data, const char* package_name, char* message,
                                 size_t message_size);

/* One deployed component (SCOMO Inventory/Deployed/<X>) that a
 * per-component operation acts on, as the SDK's inventory knows it. The
 * struct and its strings are owned by the SDK and valid during the callback
 * only; never NULL. */
typedef struct updraft_component_ref {
  const char* package_name; /* the package it came with; "" when installed offline */
  const char* dc_id;        /* Deployed component ID, e.g. "DC_2" */
  const char* name;         /* "" when unknown */
  const char* version;      /* "" when unknown */
} updraft_component_ref_t;

/* What a per-component callback returns, and the SCOMO result code the SDK
 * reports to the server for it. The codes per operation: activate 1409,
 * deactivate 1410, remove 1408 ("failure code" below). */
typedef enum updraft_component_result {
  /* Done, or already so (activating an active component): 1200. */
  UPDRAFT_COMPONENT_OK = 0,
  /* The platform tried and failed: the failure code; the component keeps
   * its previous state in the SDK's inventory. */
  UPDRAFT_COMPONENT_FAILED = 1,
  /* The platform has no such component: activate and deactivate report the
   * failure code; remove reports 1200 (it is gone already, e.g. removed
   * just before a crash) and drops it from the inventory. */
  UPDRAFT_COMPONENT_NOT_FOUND = 2,
  /* The platform cannot do this to this component: 1411 not implemented. */
  UPDRAFT_COMPONENT_NOT_SUPPORTED = 3
} updraft_component_result_t;

/* Per-component operation queued by the server (activate, deactivate or
 * remove one Deployed component of the host installer); `user_data` is
 * options.user_data. Returns an updraft_component_result_t value; any other
 * value is treated as UPDRAFT_COMPONENT_FAILED, and so is a C++ exception
 * thrown out of it. It may write a message into `message` (owned by the
 * SDK, capacity `message_size` >= 256, initially "", NUL-terminated), which
 * goes into the report as printable ASCII (other bytes become '?').
 * Must be idempotent: the SDK records the new state after the callback
 * returns, so after a crash the same operation may be asked again. Runs on
 * the flow's thread (see THREADING RULES), serialised with the handle's
 * other flows: never concurrently with install_fn, remove_fn or another
 * per-component callback of the same handle. An operation on a component
 * the SDK's inventory does not hold is answered with the failure code
 * without calling it. */
typedef int (*updraft_component_fn)(void* user_data, const updraft_component_ref_t* component,
                                    char* message, size_t message_size);

/* Options of updraft_device_create. Initialise with
 * updraft_device_options_init, then set fields; strings are copied.
 * Versioning: fields are only ever added at the end. struct_size tells the
 * library which fields the caller's header had: a caller built against an
 * earlier header (a smaller struct_size) gets the defaults for the fields
 * its struct lacks; a struct_size the library does not know (e.g. from a
 * newer header) is INVALID_ARGUMENT. */
typedef struct updraft_device_options {
  size_t struct_size; /* set by updraft_device_options_init */
  const char* device_id;
  /* Services, "host:port". notifier_address may be NULL/"" (no IP Push;
   * SMS and WAP Push then need no acknowledgement channel and fail). */
  const char* auth_address;
  const char* catalog_address;
  const char* notifier_address;
  /* Used instead of the download server each offer names (optional). */
  const char* download_address;
  /* TLS: the CA verifying Updraft's servers (required unless plaintext),
   * and optionally a device certificate and key for mutual TLS. */
  const char* ca_file;
  const char* client_cert_file;
  const char* client_key_file;
  const char* server_name_override;
  int plaintext; /* development only */
  /* The device key file (Ed25519, generated on first use) and the SDK's
   * state directory. */
  const char* key_file;
  const char* state_dir;
  /* Where the default installer puts packages (unless install_fn is set). */
  const char* install_dir;
  /* Device attributes sent with every update check (optional). */
  const char* model;
  const char* os_version;
  const char* carrier;
  /* Callbacks (all optional; without consent_fn every offer is declined). */
  updraft_consent_fn consent_fn;
  updraft_result_fn result_fn;
  updraft_progress_fn progress_fn;
  updraft_notification_fn notification_fn;
  updraft_install_fn install_fn; /* with remove_fn, replaces the default installer */
  updraft_remove_fn remove_fn;
  void* user_data; /* passed to every callback */
  /* Scheduled checks (updraft_device_start_scheduled_checks): every
   * check_interval_seconds (default 86400) +- check_jitter (fraction,
   * default 0.1), the first after a random part of one interval; failures
   * are retried after retry_interval_seconds (default 900). */
  int64_t check_interval_seconds;
  double check_jitter;
  int64_t retry_interval_seconds;
  /* RPC timeout in seconds (default 30). */
  int64_t rpc_timeout_seconds;
  /* Publisher public keys the device trusts, one base64url Ed25519 key per
   * line (optional). When set, every offer must carry release metadata
   * signed by one of them, matching the release and not expired; otherwise
   * it is refused with 1407 before consent_fn is asked. NULL/"": unsigned
   * releases are accepted. */
  const char* publisher_keys_file;
  /* IANA time zone of the device, e.g. "Asia/Tokyo" (optional): campaigns
   * keep their quiet hours in the device's local time. */
  const char* time_zone;
  /* Added in version 2 of this struct. Per-component operations for the host
   * installer (install_fn), each optional: NULL answers that operation 1411
   * not implemented. The server queues them per Deployed component; they run
   * after the offers of an update check, on its thread. remove_component_fn
   * removes one component of a package that keeps others; removing the last
   * remaining component of a package calls remove_fn for the whole package.
   * The default installer (install_dir) does all three itself: setting them
   * without install_fn is INVALID_ARGUMENT. */
  updraft_component_fn activate_fn;
  updraft_component_fn deactivate_fn;
  updraft_component_fn remove_component_fn;
} updraft_device_options_t;

void updraft_device_options_init(updraft_device_options_t* options);

typedef struct updraft_device updraft_device_t;

/* Creates a device: loads (or generates) its key, opens its state. On
 * success *out is a handle to free with updraft_device_destroy. */
updraft_status_t updraft_device_create(const updraft_device_options_t* options,
                                       updraft_device_t** out);
void updraft_device_destroy(updraft_device_t* device);

/* The device's public key, base64url (for registering it with the carrier's
 * Updraft). Copies at most `size` bytes including the NUL;
 * RESOURCE_EXHAUSTED when `size` is too small. */
updraft_status_t updraft_device_public_key(updraft_device_t* device, char* buffer, size_t size);

/* Runs the active upgrade once: login, check, consent, download, verify,
 * install, configure, register DC IDs, report. Per-offer outcomes go to
 * result_fn; *failed_offers (optional) receives how many offers did not end
 * in success. An error means the flow could not start (e.g. UNAVAILABLE). */
updraft_status_t updraft_device_run_active_upgrade(updraft_device_t* device, int* failed_offers);

/* Hands over a push the host app received: a binary SMS payload (the
 * notification bytes, reassembled) or a WAP Push SI (its href or the XML).
 * Verified (UNAUTHENTICATED forged, FAILED_PRECONDITION expired,
 * ALREADY_EXISTS replayed, INVALID_ARGUMENT malformed), acknowledged, passed
 * to notification_fn, then the active upgrade runs. Needs notifier_address. */
updraft_status_t updraft_device_handle_sms(updraft_device_t* device, const uint8_t* payload,
                                           size_t size);
updraft_status_t updraft_device_handle_wap_push(updraft_device_t* device, const char* href_or_si);

/* Holds the IP Push stream on a background thread (reconnecting with
 * backoff and jitter) until stopped; each notification runs the active
 * upgrade. FAILED_PRECONDITION without notifier_address. Idempotent. */
updraft_status_t updraft_device_start_ip_push(updraft_device_t* device);
updraft_status_t updraft_device_stop_ip_push(updraft_device_t* device);
/* IP Push streams opened since start (0 when not started). */
int updraft_device_ip_push_streams_opened(updraft_device_t* device);

/* Runs the active upgrade on a schedule on a background thread (see
 * check_interval_seconds). Idempotent. */
updraft_status_t updraft_device_start_scheduled_checks(updraft_device_t* device);
updraft_status_t updraft_device_stop_scheduled_checks(updraft_device_t* device);

/* Inventory/Deployed: one entry per deployed component. */
typedef struct updraft_component {
  char* dc_id;
  char* release_id;
  char* name;
  char* version;
  char* author;
  int active; /* 1 ACTIVE, 0 INACTIVE */
} updraft_component_t;

/* Copies the deployed components into a new array (*components, *count);
 * free it with updraft_inventory_free. */
updraft_status_t updraft_device_get_inventory(updraft_device_t* device,
                                              updraft_component_t** components, size_t* count);
void updraft_inventory_free(updraft_component_t* components, size_t count);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* UPDRAFT_SDK_DEVICE_UPDRAFT_DEVICE_H_ */
