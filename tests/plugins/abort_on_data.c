/* Echoes every byte, but abort()s the whole process when a message contains "abort": a plugin
 * bug that takes the server down, for the supervisor's tests (tests/supervisor_test.cpp). */
#include <stdlib.h>
#include <string.h>

#include "chronos/plugin.h"

static const chronos_host_api* g_api;

static int abort_init(chronos_host* host, const chronos_host_api* api, const char* config,
                      size_t config_len, void** instance, char* error, size_t error_len) {
  (void)host;
  (void)config;
  (void)config_len;
  (void)error;
  (void)error_len;
  g_api = api;
  *instance = NULL;
  return 0;
}

static void abort_shutdown(void* instance) { (void)instance; }

static int64_t abort_on_data(void* self, chronos_conn* conn, void* state, const uint8_t* data,
                             size_t len) {
  (void)self;
  (void)state;
  for (size_t i = 0; i + 5 <= len; ++i)
    if (memcmp(data + i, "abort", 5) == 0) abort();
  if (g_api->send(conn, data, len) != 0) return -1;
  return (int64_t)len;
}

CHRONOS_PLUGIN_C("abort_on_data", "1.0.0", abort_init, abort_shutdown, NULL, abort_on_data, NULL)
