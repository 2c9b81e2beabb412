/* An example plugin in plain C: sends back every line it receives in upper case.
 *
 * Config (optional):  max_line: 4096   # a line longer than this closes the connection
 */
#include <chronos/plugin.h>
#include <chronos/plugin_config.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct upper {
  const chronos_host_api* api;
  size_t max_line;
} upper;

static int upper_init(chronos_host* host, const chronos_host_api* api, const char* config,
                      size_t config_len, void** instance, char* error, size_t error_len) {
  long long max_line = 4096;
  upper* self;
  (void)host;
  if (chronos_config_int(config, config_len, "max_line", &max_line) == CHRONOS_CONFIG_INVALID ||
      max_line < 1) {
    snprintf(error, error_len, "max_line must be a positive integer");
    return -1;
  }
  self = malloc(sizeof *self);
  if (self == NULL) {
    snprintf(error, error_len, "out of memory");
    return -1;
  }
  self->api = api;
  self->max_line = (size_t)max_line;
  *instance = self;
  return 0;
}

static void upper_shutdown(void* instance) { free(instance); }

static int64_t upper_on_data(void* instance, chronos_conn* conn, void* conn_state,
                             const uint8_t* data, size_t len) {
  const upper* self = instance;
  char out[4096];
  size_t lines_end = 0, used = 0, i;
  (void)conn_state;
  /* Only whole lines are answered: the host offers an unfinished one again with what follows. */
  for (i = len; i > 0; --i) {
    if (data[i - 1] == '\n') {
      lines_end = i;
      break;
    }
  }
  if (len - lines_end > self->max_line) return -1; /* closes the connection */
  for (i = 0; i < lines_end; ++i) {
    uint8_t c = data[i];
    out[used++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    if (used == sizeof out || i + 1 == lines_end) {
      self->api->send(conn, out, used); /* all sends of one call leave in one write */
      used = 0;
    }
  }
  return (int64_t)lines_end;
}

CHRONOS_PLUGIN_C("upper", "1.0.0", upper_init, upper_shutdown, NULL, upper_on_data, NULL)
