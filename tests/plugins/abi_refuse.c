/* A plugin that refuses every host: its entry returns NULL. */
#include "chronos/plugin.h"

CHRONOS_EXPORT const chronos_plugin* CHRONOS_PLUGIN_ENTRY(uint32_t major, uint32_t minor) {
  (void)major;
  (void)minor;
  return NULL;
}
