/* The shipped `echo` plugin: sends back every byte it receives, in order. */
#include <stdio.h>
#include <stdlib.h>

#include "chronos/plugin.h"

/* The instance only remembers the host's function table: on_data needs its send. */
typedef struct echo_instance {
  const chronos_host_api* api;
} echo_instance;

static int echo_init(chronos_host* host, const chronos_host_api* api, const char* config,
                     size_t config_len, void** instance, char* error, size_t error_len) {
  echo_instance* self = malloc(sizeof *self);
  (void)host, (void)config, (void)config_len;
  if (self == NULL) {
    snprintf(error, error_len, "out of memory");
    return -1;
  }
  self->api = api;
  *instance = self;
  return 0;
}

static void echo_shutdown(void* instance) { free(instance); }

static int64_t echo_on_data(void* instance, chronos_conn* conn, void* conn_state,
                            const uint8_t* data, size_t len) {
  const echo_instance* self = instance;
  (void)conn_state;
  /* The host copies the bytes, so all of them are consumed. A failed send means the connection
   * is closing: nothing left to do. */
  self->api->send(conn, data, len);
  return (int64_t)len;
}

CHRONOS_PLUGIN_C("echo", "1.0.0", echo_init, echo_shutdown, NULL, echo_on_data, NULL)
