/* A plugin whose init always fails with a message, as one given a bad config would. */
#include <stdio.h>

#include "chronos/plugin.h"

static int fail_init(chronos_host* host, const chronos_host_api* api, const char* config,
                     size_t config_len, void** instance, char* error, size_t error_len) {
  (void)host;
  (void)api;
  (void)config;
  (void)config_len;
  (void)instance;
  snprintf(error, error_len, "nope: bad config");
  return 1;
}

static void fail_shutdown(void* instance) { (void)instance; }

static int64_t fail_on_data(void* self, chronos_conn* conn, void* state, const uint8_t* data,
                            size_t len) {
  (void)self;
  (void)conn;
  (void)state;
  (void)data;
  return (int64_t)len;
}

static const chronos_plugin k_plugin = {
    .abi_major = CHRONOS_ABI_MAJOR,
    .abi_minor = CHRONOS_ABI_MINOR,
    .size = sizeof(chronos_plugin),
    .name = "init_fails",
    .version = "1.0.0",
    .init = fail_init,
    .shutdown = fail_shutdown,
    .on_data = fail_on_data,
};

CHRONOS_EXPORT const chronos_plugin* CHRONOS_PLUGIN_ENTRY(uint32_t major, uint32_t minor) {
  (void)minor;
  return major == CHRONOS_ABI_MAJOR ? &k_plugin : NULL;
}
