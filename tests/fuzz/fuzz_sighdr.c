/*
 * fuzz_sighdr — the webhook signature: X-Hub-Signature-256 header + raw
 * body -> crypto_sig_check() with a fixed app secret.
 *
 * Input layout: byte 0 is a control byte, the rest is split into a header
 * and a body.  The low 7 bits of byte 0 (scaled to the input) give the
 * header length; the header is a NUL-terminated copy of those bytes, as
 * FastCGI hands a header over (a NUL inside ends it).  When bit 7 is set the
 * header is instead built from the real HMAC of the body, with each hex
 * digit's case and one optional corruption taken from the header bytes, so
 * the accepting path is reached too.
 *
 * Invariant (abort() on a break): crypto_sig_check() returns 0 exactly when
 * the header is "sha256=" followed by the hex of HMAC-SHA256(secret, body)
 * in any mix of case, computed independently with crypto_hmac_hex().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "mem.h"

#define FZ_SECRET	"fuzz-app-secret"
#define FZ_SIGLEN	(7 + 64)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fz_fail(const char *) __attribute__((noreturn));
static int	fz_expected(const char *, const char *);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_sighdr: invariant broken: %s\n", what);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	hex[CRYPTO_SHA256_HEX];

	(void)argc;
	(void)argv;
	if (crypto_init() == -1)
		fz_fail("crypto_init");
	/* WHATSAPP.md's known vector. */
	crypto_hmac_hex("secret", 6, "test", 4, hex);
	if (strcmp(hex, "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a8"
	    "81ebb488c0914") != 0)
		fz_fail("crypto_hmac_hex known vector");
	if (crypto_sig_check("sha256=0329A06B62CD16B33EB6792BE8C60B158D89A2EE"
	    "3A876FCE9A881EBB488C0914", "secret", "test", 4) != 0)
		fz_fail("crypto_sig_check known vector (upper case)");
	return 0;
}

/* 1 when hdr is "sha256=" + want, hex digits in either case. */
static int
fz_expected(const char *hdr, const char *want)
{
	return strlen(hdr) == FZ_SIGLEN && strncmp(hdr, "sha256=", 7) == 0 &&
	    strcasecmp(hdr + 7, want) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 want[CRYPTO_SHA256_HEX];
	char		*hdr;
	const uint8_t	*h, *body;
	size_t		 hlen, blen, i;
	int		 rc;

	if (size == 0)
		return 0;
	hlen = (size_t)(data[0] & 0x7f);
	if (hlen > size - 1)
		hlen = size - 1;
	h = data + 1;
	body = h + hlen;
	blen = size - 1 - hlen;
	crypto_hmac_hex(FZ_SECRET, sizeof(FZ_SECRET) - 1, body, blen, want);

	hdr = mem_calloc(1, FZ_SIGLEN + hlen + 2);
	if (data[0] & 0x80) {
		/* A real signature; h chooses the case and a corruption. */
		memcpy(hdr, "sha256=", 7);
		for (i = 0; i < 64; i++) {
			hdr[7 + i] = want[i];
			if (i < hlen && (h[i] & 1) && want[i] >= 'a')
				hdr[7 + i] = (char)(want[i] - 'a' + 'A');
		}
		hdr[FZ_SIGLEN] = '\0';
		if (hlen > 64 && h[64] < FZ_SIGLEN + 1)
			hdr[h[64]] = hlen > 65 ? (char)h[65] : '\0';
	} else {
		memcpy(hdr, h, hlen);
		hdr[hlen] = '\0';
	}

	rc = crypto_sig_check(hdr, FZ_SECRET, body, blen);
	if (rc != 0 && rc != -1)
		fz_fail("crypto_sig_check returned neither 0 nor -1");
	if (rc == 0 && !fz_expected(hdr, want))
		fz_fail("a wrong signature was accepted");
	if (rc == -1 && fz_expected(hdr, want))
		fz_fail("the right signature was refused");
	if (crypto_sig_check(NULL, FZ_SECRET, body, blen) != -1)
		fz_fail("a missing header was accepted");
	mem_free(hdr);
	return 0;
}
