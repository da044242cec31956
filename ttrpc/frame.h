/* ttrpc framing (shim-protocol.md §3.1): a 10-byte header, then `length` bytes of data.
 *   0..3 data length, uint32 big-endian (header excluded)   4..7 stream id, uint32 big-endian
 *   8 type                                                  9 flags */
#ifndef TTRPC_FRAME_H
#define TTRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TTRPC_HDR_LEN  10
#define TTRPC_MAX_DATA (4u << 20)

#define TTRPC_TYPE_REQUEST  1
#define TTRPC_TYPE_RESPONSE 2
#define TTRPC_TYPE_DATA	    3 /* ttrpc >= 1.2 streams; ignored here */

#define TTRPC_FLAG_REMOTE_CLOSED 0x01
#define TTRPC_FLAG_REMOTE_OPEN	 0x02
#define TTRPC_FLAG_NO_DATA	 0x04

struct ttrpc_hdr {
	uint32_t length; /* of the data that follows */
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_hdr_encode(uint8_t out[TTRPC_HDR_LEN], const struct ttrpc_hdr *h);
void ttrpc_hdr_decode(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h);

/* Look for one frame at the start of buf[0..len). Pure: no allocation, no state.
 *  > 0        a whole frame of that many bytes (TTRPC_HDR_LEN + h->length); its data is at
 *             buf + TTRPC_HDR_LEN
 *  0          more bytes are needed; *h is filled once len >= TTRPC_HDR_LEN
 *  -EMSGSIZE  the header (in *h) announces more than TTRPC_MAX_DATA bytes: the reader must
 *             discard TTRPC_HDR_LEN + h->length bytes and answer RESOURCE_EXHAUSTED. */
ssize_t ttrpc_frame_decode(const uint8_t *buf, size_t len, struct ttrpc_hdr *h);

/* Header + data in one malloc'd buffer of TTRPC_HDR_LEN + len bytes (*out_len). */
uint8_t *ttrpc_frame_encode(const struct ttrpc_hdr *h, const uint8_t *data, size_t len,
			    size_t *out_len);

#endif
