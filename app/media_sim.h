/*
 * media_sim — the simulator's files: small real files of each kind, so
 * that inbound media work end to end without WhatsApp (`make run`).
 *
 * image: a 64x48 PNG (a colour gradient); sticker: a 1x1 WebP; audio: an
 * Ogg Opus voice note of one second of silence; video: an MP4 file
 * header; document: a one-page PDF (or plain text when the webhook said
 * text/plain).
 */
#ifndef WADESK_MEDIA_SIM_H
#define WADESK_MEDIA_SIM_H

#include <stddef.h>

#include "buf.h"

/* The file for a message type (and the webhook's MIME type, or NULL)
 * appended to out, its MIME type into type (len bytes). */
void	media_sim_file(const char *, const char *, struct buf *, char *,
	    size_t);

#endif
