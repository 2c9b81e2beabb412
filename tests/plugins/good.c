/* A minimal valid plugin: echoes every byte. init counts its calls in a global, so a test can
 * tell whether two loads share their code and data (shared dlopen) or not (private copies). */
#include <string.h>

#include "chronos/plugin.h"

static int g_inits; /* per loaded copy of this object */

typedef struct instance {
  const chronos_host_api* api;
  int serial; /* the value of g_inits when this instance started */
} instance;

static instance g_instances[16];

static int good_init(chronos_host* host, const chronos_host_api* api, const char* config,
                     size_t config_len, void** out, char* error, size_t error_len) {
  (void)host;
  (void)config;
  (void)config_len;
  if (g_inits >= 16) {
    strncpy(error, "too many instances", error_len - 1);
    error[error_len - 1] = '\0';
    return 1;
  }
  instance* self = &g_instances[g_inits];
  self->api = api;
  self->serial = ++g_inits;
  *out = self;
  return 0;
}

static void good_shutdown(void* self) { (void)self; }

static int64_t good_on_data(void* self, chronos_conn* conn, void* state, const uint8_t* data,
                            size_t len) {
  (void)state;
  const instance* inst = self;
  if (inst->api->send(conn, data, len) != 0) return -1;
  return (int64_t)len;
}

static const chronos_plugin k_plugin = {
    .abi_major = CHRONOS_ABI_MAJOR,
    .abi_minor = CHRONOS_ABI_MINOR,
    .size = sizeof(chronos_plugin),
    .name = "good",
    .version = "1.0.0",
    .init = good_init,
    .shutdown = good_shutdown,
    .on_open = NULL,
    .on_data = good_on_data,
    .on_close = NULL,
};

/* For tests: how many instances this copy of the code has started. */
CHRONOS_EXPORT int good_init_count(void) { return g_inits; }

CHRONOS_EXPORT const chronos_plugin* CHRONOS_PLUGIN_ENTRY(uint32_t major, uint32_t minor) {
  (void)minor;
  return major == CHRONOS_ABI_MAJOR ? &k_plugin : NULL;
}
