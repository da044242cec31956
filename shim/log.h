/* The daemon's log: logfmt lines (time="…" level=… msg="…") on fd 2, which is the bundle's `log`
 * FIFO that containerd copies into its own log. Writes never block: a full FIFO (or no reader,
 * while containerd restarts) drops the line and counts it. */
#ifndef WREN_SHIM_LOG_H
#define WREN_SHIM_LOG_H

#include <stdbool.h>

enum shim_log_level { SHIM_LOG_ERROR, SHIM_LOG_WARN, SHIM_LOG_INFO, SHIM_LOG_DEBUG };

void shim_log_init(const char *ns, const char *id, bool debug);
void shim_log(enum shim_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) shim_log(SHIM_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  shim_log(SHIM_LOG_WARN, __VA_ARGS__)
#define log_info(...)  shim_log(SHIM_LOG_INFO, __VA_ARGS__)
#define log_debug(...) shim_log(SHIM_LOG_DEBUG, __VA_ARGS__)

#endif
