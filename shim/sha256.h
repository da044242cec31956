/* SHA-256 (FIPS 180-4), for the socket name containerd expects: no crypto library is among our
 * dependencies and this is the only hash we need. */
#ifndef WREN_SHA256_H
#define WREN_SHA256_H

#include <stddef.h>
#include <stdint.h>

void shim_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
