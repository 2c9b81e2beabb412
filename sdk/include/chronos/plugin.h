/* The Chronos plugin ABI: plain C, so a plugin survives compiler and host upgrades.
 *
 * A plugin is a shared object exporting one function, CHRONOS_PLUGIN_ENTRY, that receives the
 * host's ABI version and returns a descriptor (or NULL to refuse). The descriptor names the
 * plugin and holds its callbacks; the host calls them, and the plugin calls back into the host
 * only through the function table (chronos_host_api) it is given at init. Both structs carry
 * their own size and only ever grow at the end, so either side can tell what the other knows.
 *
 * Threads. init runs once per plugin instance, on the host's control thread (at start-up or
 * reload). shutdown runs once, after the instance's last callback has returned, on whichever host
 * thread let go of the instance last (after a reload: the one that closed its last connection).
 * on_open, on_data and on_close of one connection never run at the same time: one connection is
 * served by one thread at a time (though not always the same thread). Callbacks of different
 * connections run in parallel, so state shared by an instance must be thread-safe.
 *
 * Execution. On a listener with `execution: pool` callbacks run on worker threads and may block.
 * With `execution: inline` they run on the reactor thread and must never block.
 */
#ifndef CHRONOS_PLUGIN_H
#define CHRONOS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHRONOS_ABI_MAJOR 1 /* changes break plugins: host and plugin must match exactly */
#define CHRONOS_ABI_MINOR 0 /* additions: a plugin built for minor M runs on hosts >= M */

#if defined(__GNUC__)
#define CHRONOS_EXPORT __attribute__((visibility("default")))
#else
#define CHRONOS_EXPORT
#endif

/* Log levels for chronos_host_api.log, most verbose first. */
enum chronos_log_level {
  CHRONOS_LOG_TRACE = 0,
  CHRONOS_LOG_DEBUG = 1,
  CHRONOS_LOG_INFO = 2,
  CHRONOS_LOG_WARN = 3,
  CHRONOS_LOG_ERROR = 4
};

/* Opaque: one plugin instance as the host sees it (for logging). Valid from init to shutdown. */
typedef struct chronos_host chronos_host;
/* Opaque: one client connection. Valid from on_open until on_close returns. */
typedef struct chronos_conn chronos_conn;

/* What the host offers a plugin. Append-only: check `size` before using a later member. */
typedef struct chronos_host_api {
  uint32_t size; /* sizeof(chronos_host_api) as the host was built */

  /* Writes a line to the host's log, tagged with the plugin's name. `message` is copied. */
  void (*log)(chronos_host* host, int level, const char* message);

  /* Queues `len` bytes for the peer, after everything queued before; they go out in one write
   * with the rest of this callback's output when the callback returns. Returns 0, or -1 when
   * the connection is closing. Only valid inside a callback for `conn`. */
  int (*send)(chronos_conn* conn, const void* data, size_t len);

  /* Closes `conn` once its queued output is written; no more on_data for it. Only valid inside
   * a callback for `conn`. on_close still follows. */
  void (*close)(chronos_conn* conn);

  /* A number that names `conn` for logs: unique among the host's open connections. */
  uint64_t (*conn_id)(chronos_conn* conn);
} chronos_host_api;

/* What a plugin offers the host. Fill every member; `size` = sizeof(chronos_plugin). */
typedef struct chronos_plugin {
  uint32_t abi_major;  /* CHRONOS_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;  /* CHRONOS_ABI_MINOR the plugin was built with */
  uint32_t size;       /* sizeof(chronos_plugin) the plugin was built with */
  const char* name;    /* e.g. "echo" */
  const char* version; /* free text, e.g. "1.2.0" */

  /* Starts one instance. `config` is the listener's `config:` map as JSON text (`config_len`
   * bytes, NUL-terminated, "{}" when empty). On success store the instance pointer (may be
   * NULL) in *instance and return 0; on failure write a message into `error` (at most
   * `error_len` bytes, NUL-terminated) and return non-zero. `host` and `api` stay valid until
   * shutdown returns. */
  int (*init)(chronos_host* host, const chronos_host_api* api, const char* config,
              size_t config_len, void** instance, char* error, size_t error_len);

  /* Ends an instance, after its last callback has returned. */
  void (*shutdown)(void* instance);

  /* A connection opened. Store per-connection state in *conn_state (NULL is fine). Return 0 to
   * accept it, non-zero to close it at once (on_close is not called then). May be NULL. */
  int (*on_open)(void* instance, chronos_conn* conn, void** conn_state);

  /* Bytes arrived. `data` holds everything received and not yet consumed, oldest first.
   * Return how many bytes from the front were consumed (0..len): the rest is offered again, with
   * newer bytes after it, when more arrive. Return a negative number to close the connection. */
  int64_t (*on_data)(void* instance, chronos_conn* conn, void* conn_state, const uint8_t* data,
                     size_t len);

  /* The connection is closing (peer closed, error, idle timeout, shutdown, or close()). Free
   * conn_state here. Nothing can be sent any more. May be NULL. */
  void (*on_close)(void* instance, chronos_conn* conn, void* conn_state);
} chronos_plugin;

/* The one symbol a plugin exports. The host passes its ABI version; return the descriptor, or
 * NULL if this plugin cannot run on that host (the host reports both versions). */
#define CHRONOS_PLUGIN_ENTRY chronos_plugin_entry
#define CHRONOS_PLUGIN_ENTRY_NAME "chronos_plugin_entry"
typedef const chronos_plugin* (*chronos_plugin_entry_fn)(uint32_t host_abi_major,
                                                         uint32_t host_abi_minor);

/* For a plugin in C: defines its descriptor and the entry point that returns it to a host of
 * the same ABI major (the host itself refuses a plugin built for a newer minor than its own).
 * on_open and on_close may be NULL; in C++, plugin.hpp's CHRONOS_PLUGIN does this.
 *
 *   CHRONOS_PLUGIN_C("echo", "1.0.0", echo_init, echo_shutdown, NULL, echo_on_data, NULL)
 */
#define CHRONOS_PLUGIN_C(name_, version_, init_, shutdown_, on_open_, on_data_, on_close_) \
  static const chronos_plugin chronos_plugin_descriptor_ = {                               \
      .abi_major = CHRONOS_ABI_MAJOR,                                                      \
      .abi_minor = CHRONOS_ABI_MINOR,                                                      \
      .size = sizeof(chronos_plugin),                                                      \
      .name = (name_),                                                                     \
      .version = (version_),                                                               \
      .init = (init_),                                                                     \
      .shutdown = (shutdown_),                                                             \
      .on_open = (on_open_),                                                               \
      .on_data = (on_data_),                                                               \
      .on_close = (on_close_),                                                             \
  };                                                                                       \
  CHRONOS_EXPORT const chronos_plugin* CHRONOS_PLUGIN_ENTRY(uint32_t host_abi_major,       \
                                                            uint32_t host_abi_minor) {     \
    (void)host_abi_minor;                                                                  \
    return host_abi_major == CHRONOS_ABI_MAJOR ? &chronos_plugin_descriptor_ : NULL;       \
  }

#ifdef __cplusplus
}
#endif

#endif /* CHRONOS_PLUGIN_H */
