/* updraft_example: the Updraft device SDK driven from plain C (C99), as a
 * handset vendor's integration would. Runs the active upgrade once, prints
 * each step and the Deployed inventory; optionally handles a binary SMS
 * payload from a file, or holds the IP Push stream for some seconds.
 *
 *   updraft_example --device_id=phone-0001 --key_file=/tmp/p/key
 *       --state_dir=/tmp/p/state --install_dir=/tmp/p/apps
 *       --auth=127.0.0.1:7401 --catalog=127.0.0.1:7402
 *       [--notifier=127.0.0.1:7404] [--ca=ca.pem | --plaintext]
 *       [--consent=no] [--sms_file=payload.bin] [--ip_push_seconds=N]
 *   updraft_example --key_file=/tmp/p/key --print_public_key ...
 *
 * Exit code: 0 success or nothing new, 1 an offer failed or was declined,
 * 2 bad arguments or the flow could not run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdk/device/updraft_device.h"

struct example {
  int consent;
  int results;
};

static int on_consent(void* user_data, const updraft_offer_t* offer) {
  struct example* ex = (struct example*)user_data;
  printf("offer: %s %s (%s, %lld bytes): %s\n", offer->package_name, offer->version,
         offer->fresh_install ? "fresh install" : "overwrite", (long long)offer->size_bytes,
         ex->consent ? "accepted" : "declined");
  return ex->consent;
}

static void on_progress(void* user_data, const updraft_progress_t* p) {
  (void)user_data;
  switch (p->step) {
    case UPDRAFT_STEP_LOGGED_IN:
      printf("step: logged in\n");
      break;
    case UPDRAFT_STEP_VERIFIED:
      printf("step: %s verified (%lld bytes)\n", p->package_name, (long long)p->bytes_total);
      break;
    case UPDRAFT_STEP_INSTALLED:
      printf("step: %s installed\n", p->package_name);
      break;
    case UPDRAFT_STEP_REPORTED:
      printf("step: result %d reported\n", p->result_code);
      break;
    default:
      break;
  }
}

static void on_result(void* user_data, const updraft_result_t* r) {
  struct example* ex = (struct example*)user_data;
  size_t i;
  ex->results++;
  if (r->nothing_new) {
    printf("result: nothing new\n");
    return;
  }
  printf("result: %s %s -> %d%s%s\n", r->package_name, r->version, r->result_code,
         r->message[0] ? ": " : "", r->message);
  for (i = 0; i < r->dc_id_count; ++i) printf("result: component %s\n", r->dc_ids[i]);
}

static void on_notification(void* user_data, const updraft_notification_t* n) {
  (void)user_data;
  printf("notification: %s for %s (%s)\n", n->notification_id, n->software_name,
         n->acked ? "acknowledged" : "not acknowledged");
}

static const char* flag(int argc, char** argv, const char* name) {
  size_t len = strlen(name);
  int i;
  for (i = 1; i < argc; ++i) {
    if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') return argv[i] + len + 1;
    if (strcmp(argv[i], name) == 0) return "1";
  }
  return NULL;
}

static int read_file(const char* path, unsigned char** data, size_t* size) {
  FILE* f = fopen(path, "rb");
  long n;
  if (f == NULL) return -1;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return -1;
  }
  *data = (unsigned char*)malloc(n > 0 ? (size_t)n : 1);
  if (*data == NULL || fread(*data, 1, (size_t)n, f) != (size_t)n) {
    free(*data);
    fclose(f);
    return -1;
  }
  *size = (size_t)n;
  fclose(f);
  return 0;
}

static int print_inventory(updraft_device_t* device) {
  updraft_component_t* components = NULL;
  size_t count = 0, i;
  if (updraft_device_get_inventory(device, &components, &count) != UPDRAFT_OK) {
    fprintf(stderr, "updraft_example: inventory: %s\n", updraft_last_error());
    return -1;
  }
  printf("inventory: %zu deployed component(s)\n", count);
  for (i = 0; i < count; ++i) {
    printf("inventory: %s %s %s (release %s, %s)\n", components[i].dc_id, components[i].name,
           components[i].version, components[i].release_id,
           components[i].active ? "active" : "inactive");
  }
  updraft_inventory_free(components, count);
  return 0;
}

int main(int argc, char** argv) {
  struct example ex = {1, 0};
  updraft_device_options_t options;
  updraft_device_t* device = NULL;
  updraft_status_t status;
  const char* consent = flag(argc, argv, "--consent");
  const char* sms_file = flag(argc, argv, "--sms_file");
  const char* ip_push = flag(argc, argv, "--ip_push_seconds");
  int failed = 0;
  int code = 0;

  if (consent != NULL && strcmp(consent, "yes") != 0 && strcmp(consent, "no") != 0) {
    fprintf(stderr, "updraft_example: --consent must be yes or no\n");
    return 2;
  }
  ex.consent = consent == NULL || strcmp(consent, "yes") == 0;

  updraft_device_options_init(&options);
  options.device_id = flag(argc, argv, "--device_id");
  options.key_file = flag(argc, argv, "--key_file");
  options.state_dir = flag(argc, argv, "--state_dir");
  options.install_dir = flag(argc, argv, "--install_dir");
  options.auth_address = flag(argc, argv, "--auth");
  options.catalog_address = flag(argc, argv, "--catalog");
  options.notifier_address = flag(argc, argv, "--notifier");
  options.ca_file = flag(argc, argv, "--ca");
  options.plaintext = flag(argc, argv, "--plaintext") != NULL;
  options.model = "c-example";
  options.consent_fn = on_consent;
  options.progress_fn = on_progress;
  options.result_fn = on_result;
  options.notification_fn = on_notification;
  options.user_data = &ex;

  status = updraft_device_create(&options, &device);
  if (status != UPDRAFT_OK) {
    fprintf(stderr, "updraft_example: create failed (%d): %s\n", (int)status,
            updraft_last_error());
    return 2;
  }
  if (flag(argc, argv, "--print_public_key") != NULL) {
    char key[128];
    status = updraft_device_public_key(device, key, sizeof(key));
    if (status == UPDRAFT_OK) printf("%s\n", key);
    updraft_device_destroy(device);
    return status == UPDRAFT_OK ? 0 : 2;
  }

  if (sms_file != NULL) {
    unsigned char* payload = NULL;
    size_t size = 0;
    if (read_file(sms_file, &payload, &size) != 0) {
      fprintf(stderr, "updraft_example: cannot read %s\n", sms_file);
      updraft_device_destroy(device);
      return 2;
    }
    status = updraft_device_handle_sms(device, payload, size);
    free(payload);
    if (status != UPDRAFT_OK) {
      fprintf(stderr, "updraft_example: SMS rejected (%d): %s\n", (int)status,
              updraft_last_error());
      code = 2;
    }
  } else if (ip_push != NULL) {
    int seconds = atoi(ip_push);
    status = updraft_device_start_ip_push(device);
    if (status != UPDRAFT_OK) {
      fprintf(stderr, "updraft_example: IP Push (%d): %s\n", (int)status, updraft_last_error());
      code = 2;
    } else {
      struct timespec ts = {1, 0};
      int i;
      for (i = 0; i < seconds; ++i) nanosleep(&ts, NULL);
      updraft_device_stop_ip_push(device);
    }
  } else {
    status = updraft_device_run_active_upgrade(device, &failed);
    if (status != UPDRAFT_OK) {
      fprintf(stderr, "updraft_example: active upgrade failed (%d): %s\n", (int)status,
              updraft_last_error());
      code = 2;
    } else if (failed > 0) {
      code = 1;
    }
  }
  if (print_inventory(device) != 0 && code == 0) code = 2;
  updraft_device_destroy(device);
  return code;
}
