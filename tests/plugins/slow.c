/* A plugin that takes its time, for the tests of what a slow or stuck plugin may not do to the
 * server: its init sleeps for the config's "init_ms" (e.g. {"init_ms":2000}); on_data echoes,
 * but a message starting with "hang" logs "hanging" and never returns (the handler sleeps
 * until the process ends). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chronos/plugin.h"

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

typedef struct slow {
  chronos_host* host;
  const chronos_host_api* api;
} slow;

static slow g_instances[64]; /* one per init: enough for any test's reloads */
static int g_count;

static int slow_init(chronos_host* host, const chronos_host_api* api, const char* config,
                     size_t config_len, void** out, char* error, size_t error_len) {
  (void)config_len;
  const char* at = strstr(config, "\"init_ms\"");
  if (at != NULL) {
    at = strchr(at, ':');
    if (at != NULL) sleep_ms(strtol(at + 1, NULL, 10));
  }
  /* Atomic: an abandoned reload's init may still run beside the next one's. */
  const int i = __atomic_fetch_add(&g_count, 1, __ATOMIC_RELAXED);
  if (i >= 64) {
    strncpy(error, "too many instances", error_len - 1);
    error[error_len - 1] = '\0';
    return 1;
  }
  g_instances[i].host = host;
  g_instances[i].api = api;
  *out = &g_instances[i];
  return 0;
}

static void slow_shutdown(void* self) { (void)self; }

static int64_t slow_on_data(void* self, chronos_conn* conn, void* state, const uint8_t* data,
                            size_t len) {
  (void)state;
  const chronos_host_api* api = ((const slow*)self)->api;
  if (len >= 4 && memcmp(data, "hang", 4) == 0) {
    slow* inst = self;
    inst->api->log(inst->host, CHRONOS_LOG_INFO,
                   "hanging"); /* the test waits for this line in the log */
    for (;;) sleep_ms(1000);
  }
  if (api->send(conn, data, len) != 0) return -1;
  return (int64_t)len;
}

static const chronos_plugin k_plugin = {
    .abi_major = CHRONOS_ABI_MAJOR,
    .abi_minor = CHRONOS_ABI_MINOR,
    .size = sizeof(chronos_plugin),
    .name = "slow",
    .version = "1.0.0",
    .init = slow_init,
    .shutdown = slow_shutdown,
    .on_open = NULL,
    .on_data = slow_on_data,
    .on_close = NULL,
};

CHRONOS_EXPORT const chronos_plugin* CHRONOS_PLUGIN_ENTRY(uint32_t major, uint32_t minor) {
  (void)minor;
  return major == CHRONOS_ABI_MAJOR ? &k_plugin : NULL;
}
