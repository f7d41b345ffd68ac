#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "media_sim.h"

#define SIM_W	64
#define SIM_H	48

static uint32_t	sim_crc32(const unsigned char *, size_t, uint32_t);
static uint32_t	sim_ogg_crc(const unsigned char *, size_t);
static void	sim_be32(struct buf *, uint32_t);
static void	sim_le(struct buf *, uint64_t, int);
static void	sim_png_chunk(struct buf *, const char *, const unsigned char *,
		    size_t);
static void	sim_png(struct buf *);
static void	sim_ogg_page(struct buf *, int, uint64_t, uint32_t,
		    const unsigned char *const *, const size_t *, size_t);
static void	sim_ogg(struct buf *);

/* CRC-32 of PNG (and zlib's polynomial), reflected, continued from crc. */
static uint32_t
sim_crc32(const unsigned char *p, size_t n, uint32_t crc)
{
	size_t	i;
	int	k;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* Ogg's CRC: polynomial 0x04c11db7, not reflected, initial 0. */
static uint32_t
sim_ogg_crc(const unsigned char *p, size_t n)
{
	uint32_t	crc = 0;
	size_t		i;
	int		k;

	for (i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (k = 0; k < 8; k++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u :
			    crc << 1;
	}
	return crc;
}

static void
sim_be32(struct buf *b, uint32_t v)
{
	unsigned char	c[4];

	c[0] = (unsigned char)(v >> 24);
	c[1] = (unsigned char)(v >> 16);
	c[2] = (unsigned char)(v >> 8);
	c[3] = (unsigned char)v;
	buf_append(b, c, 4);
}

static void
sim_le(struct buf *b, uint64_t v, int bytes)
{
	unsigned char	c[8];
	int		i;

	for (i = 0; i < bytes; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	buf_append(b, c, (size_t)bytes);
}

static void
sim_png_chunk(struct buf *b, const char *type, const unsigned char *data,
    size_t n)
{
	uint32_t	crc;

	sim_be32(b, (uint32_t)n);
	buf_append(b, type, 4);
	buf_append(b, data, n);
	crc = sim_crc32((const unsigned char *)type, 4, 0);
	crc = sim_crc32(data, n, crc);
	sim_be32(b, crc);
}

/* A 64x48 RGB gradient; the image data as one stored deflate block. */
static void
sim_png(struct buf *b)
{
	static const unsigned char	sig[8] = { 0x89, 'P', 'N', 'G', '\r',
					    '\n', 0x1a, '\n' };
	unsigned char			ihdr[13], raw[SIM_H * (1 + SIM_W * 3)];
	struct buf			z;
	uint32_t			a = 1, bb = 0;
	size_t				i, n = sizeof(raw);
	int				x, y;
	unsigned char			*p = raw;

	for (y = 0; y < SIM_H; y++) {
		*p++ = 0;	/* filter: none */
		for (x = 0; x < SIM_W; x++) {
			*p++ = (unsigned char)(x * 4);
			*p++ = (unsigned char)(y * 5);
			*p++ = 160;
		}
	}
	memset(ihdr, 0, sizeof(ihdr));
	ihdr[3] = SIM_W;
	ihdr[7] = SIM_H;
	ihdr[8] = 8;	/* bit depth */
	ihdr[9] = 2;	/* RGB */
	buf_append(b, sig, sizeof(sig));
	sim_png_chunk(b, "IHDR", ihdr, sizeof(ihdr));
	buf_init(&z);
	buf_append(&z, "\x78\x01", 2);
	buf_putc(&z, 1);	/* the final block, stored */
	sim_le(&z, n, 2);
	sim_le(&z, ~n & 0xffff, 2);
	buf_append(&z, raw, n);
	for (i = 0; i < n; i++) {
		a = (a + raw[i]) % 65521;
		bb = (bb + a) % 65521;
	}
	sim_be32(&z, (bb << 16) | a);
	sim_png_chunk(b, "IDAT", (const unsigned char *)z.data, z.len);
	buf_cleanup(&z);
	sim_png_chunk(b, "IEND", (const unsigned char *)"", 0);
}

/* One Ogg page holding whole packets (each under 255 bytes). */
static void
sim_ogg_page(struct buf *b, int flags, uint64_t granule, uint32_t seq,
    const unsigned char *const *pkts, const size_t *lens, size_t n)
{
	struct buf	page;
	uint32_t	crc;
	size_t		i;

	buf_init(&page);
	buf_append(&page, "OggS", 4);
	buf_putc(&page, 0);
	buf_putc(&page, (char)flags);
	sim_le(&page, granule, 8);
	sim_le(&page, 0x77616465, 4);	/* serial */
	sim_le(&page, seq, 4);
	sim_le(&page, 0, 4);		/* CRC, filled in below */
	buf_putc(&page, (char)n);
	for (i = 0; i < n; i++)
		buf_putc(&page, (char)lens[i]);
	for (i = 0; i < n; i++)
		buf_append(&page, pkts[i], lens[i]);
	crc = sim_ogg_crc((const unsigned char *)page.data, page.len);
	page.data[22] = (char)crc;
	page.data[23] = (char)(crc >> 8);
	page.data[24] = (char)(crc >> 16);
	page.data[25] = (char)(crc >> 24);
	buf_append(b, page.data, page.len);
	buf_cleanup(&page);
}

/* Ogg Opus, mono: the two header pages and one second of silent frames. */
static void
sim_ogg(struct buf *b)
{
	static const unsigned char	head[19] = { 'O', 'p', 'u', 's', 'H',
					    'e', 'a', 'd', 1, 1, 0x38, 0x01,
					    0x80, 0xbb, 0, 0, 0, 0, 0 };
	static const unsigned char	tags[] = "OpusTags\x06\0\0\0wadesk"
					    "\0\0\0\0";
	static const unsigned char	silence[3] = { 0xf8, 0xff, 0xfe };
	const unsigned char		*pkts[50];
	size_t				 lens[50], i;

	pkts[0] = head;
	lens[0] = sizeof(head);
	sim_ogg_page(b, 2, 0, 0, pkts, lens, 1);
	pkts[0] = tags;
	lens[0] = sizeof(tags) - 1;
	sim_ogg_page(b, 0, 0, 1, pkts, lens, 1);
	for (i = 0; i < 50; i++) {
		pkts[i] = silence;
		lens[i] = sizeof(silence);
	}
	/* 50 frames of 20 ms at 48 kHz, after the pre-skip (312). */
	sim_ogg_page(b, 4, 312 + 48000, 2, pkts, lens, 50);
}

void
media_sim_file(const char *kind, const char *hint, struct buf *out,
    char *type, size_t len)
{
	/* A 1x1 lossless WebP. */
	static const unsigned char	webp[] = "RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0"
					    "\0\x2f\0\0\0\x10\x07\x10\x11\x11"
					    "\x88\x88\xfe\x07\0";
	static const char		pdf[] = "%PDF-1.4\n"
	    "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
	    "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
	    "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>"
	    " endobj\n"
	    "trailer << /Root 1 0 R >>\n%%EOF\n";
	static const unsigned char	mp4[] = "\0\0\0\x18" "ftypisom\0\0\x02\0"
					    "isommp41\0\0\0\x08" "free";

	if (kind == NULL)
		kind = "document";
	if (strcmp(kind, "image") == 0) {
		sim_png(out);
		snprintf(type, len, "image/png");
	} else if (strcmp(kind, "sticker") == 0) {
		buf_append(out, webp, sizeof(webp) - 1);
		snprintf(type, len, "image/webp");
	} else if (strcmp(kind, "audio") == 0) {
		sim_ogg(out);
		snprintf(type, len, "audio/ogg");
	} else if (strcmp(kind, "video") == 0) {
		buf_append(out, mp4, sizeof(mp4) - 1);
		snprintf(type, len, "video/mp4");
	} else if (hint != NULL && strcmp(hint, "text/plain") == 0) {
		buf_puts(out, "A simulated document.\n");
		snprintf(type, len, "text/plain");
	} else {
		buf_append(out, pdf, sizeof(pdf) - 1);
		snprintf(type, len, "application/pdf");
	}
}
