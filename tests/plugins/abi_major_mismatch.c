/* A plugin built for a future, incompatible ABI (major 99): the host must refuse it. */
#include "chronos/plugin.h"

static int64_t on_data(void* self, chronos_conn* conn, void* state, const uint8_t* data,
                       size_t len) {
  (void)self;
  (void)conn;
  (void)state;
  (void)data;
  return (int64_t)len;
}

static const chronos_plugin k_plugin = {
    .abi_major = 99,
    .abi_minor = 0,
    .size = sizeof(chronos_plugin),
    .name = "abi_major_mismatch",
    .version = "99.0.0",
    .on_data = on_data,
};

/* Ignores the host's version on purpose, as a careless plugin would. */
CHRONOS_EXPORT const chronos_plugin* CHRONOS_PLUGIN_ENTRY(uint32_t major, uint32_t minor) {
  (void)major;
  (void)minor;
  return &k_plugin;
}
