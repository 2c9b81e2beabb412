/* A valid shared object that is not a Chronos plugin: it lacks chronos_plugin_entry. */
#include "chronos/plugin.h"

CHRONOS_EXPORT int not_a_plugin(void) { return 42; }
