/* Echoes every byte; its init dereferences a null pointer when its config is {crash: true}: a
 * plugin that takes the server down while a reload starts it (tests/supervisor_test.cpp). */
#include <string.h>

#include "chronos/plugin.h"

static const chronos_host_api* g_api;

/* A real fault, also in sanitizer builds: UBSan would otherwise catch the store and exit 1. */
__attribute__((no_sanitize("undefined"), noinline)) static void store_to_null(void) {
  volatile int* volatile nowhere = NULL;
  *nowhere = 1; /* SIGSEGV */
}

static int segv_init(chronos_host* host, const chronos_host_api* api, const char* config,
                     size_t config_len, void** instance, char* error, size_t error_len) {
  (void)host;
  (void)error;
  (void)error_len;
  g_api = api;
  *instance = NULL;
  static const char crash[] = "\"crash\":true";
  for (size_t i = 0; i + sizeof(crash) - 1 <= config_len; ++i)
    if (memcmp(config + i, crash, sizeof(crash) - 1) == 0) store_to_null();
  return 0;
}

static void segv_shutdown(void* instance) { (void)instance; }

static int64_t segv_on_data(void* self, chronos_conn* conn, void* state, const uint8_t* data,
                            size_t len) {
  (void)self;
  (void)state;
  if (g_api->send(conn, data, len) != 0) return -1;
  return (int64_t)len;
}

CHRONOS_PLUGIN_C("segv_in_init", "1.0.0", segv_init, segv_shutdown, NULL, segv_on_data, NULL)
