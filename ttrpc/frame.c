/* Frame header encoding and the pure frame decoder every reader (and the fuzz target) goes through.
 */
#include "ttrpc/frame.h"
#include "ttrpc/util.h"

#include <errno.h>
#include <string.h>

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void ttrpc_hdr_encode(uint8_t out[TTRPC_HDR_LEN], const struct ttrpc_hdr *h)
{
	put_be32(out, h->length);
	put_be32(out + 4, h->stream_id);
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_hdr_decode(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h)
{
	h->length = get_be32(in);
	h->stream_id = get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

ssize_t ttrpc_frame_decode(const uint8_t *buf, size_t len, struct ttrpc_hdr *h)
{
	if (len < TTRPC_HDR_LEN)
		return 0;
	ttrpc_hdr_decode(buf, h);
	if (h->length > TTRPC_MAX_DATA)
		return -EMSGSIZE;
	if (len - TTRPC_HDR_LEN < h->length)
		return 0;
	return (ssize_t)(TTRPC_HDR_LEN + h->length);
}

uint8_t *ttrpc_frame_encode(const struct ttrpc_hdr *h, const uint8_t *data, size_t len,
			    size_t *out_len)
{
	uint8_t *b = ttrpc_xmalloc(TTRPC_HDR_LEN + len);
	struct ttrpc_hdr hh = *h;
	hh.length = (uint32_t)len;
	ttrpc_hdr_encode(b, &hh);
	if (len)
		memcpy(b + TTRPC_HDR_LEN, data, len);
	*out_len = TTRPC_HDR_LEN + len;
	return b;
}
