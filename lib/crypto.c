#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "crypto.h"

int
crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void
crypto_token_hex(char *out, size_t nbytes)
{
	unsigned char	raw[CRYPTO_TOKEN_MAX];

	if (nbytes > sizeof(raw))
		abort();
	randombytes_buf(raw, nbytes);
	sodium_bin2hex(out, nbytes * 2 + 1, raw, nbytes);
	sodium_memzero(raw, sizeof(raw));
}

void
crypto_sha256_hex(const void *data, size_t len, char out[CRYPTO_SHA256_HEX])
{
	unsigned char	h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, CRYPTO_SHA256_HEX, h, sizeof(h));
}

void
crypto_hmac_hex(const char *key, size_t keylen, const void *data, size_t len,
    char out[CRYPTO_SHA256_HEX])
{
	crypto_auth_hmacsha256_state	st;
	unsigned char			mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, keylen);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, CRYPTO_SHA256_HEX, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

int
crypto_sig_check(const char *header, const char *secret, const void *body,
    size_t len)
{
	crypto_auth_hmacsha256_state	st;
	unsigned char			want[crypto_auth_hmacsha256_BYTES];
	unsigned char			got[crypto_auth_hmacsha256_BYTES];
	size_t				n;
	int				rc;

	if (header == NULL || secret == NULL ||
	    strncmp(header, "sha256=", 7) != 0 ||
	    strlen(header + 7) != 2 * sizeof(got))
		return -1;
	/* Hex digits of either case, all of them (no hex_end: -1 if not). */
	if (sodium_hex2bin(got, sizeof(got), header + 7, 2 * sizeof(got),
	    NULL, &n, NULL) != 0 || n != sizeof(got))
		return -1;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, want);
	rc = sodium_memcmp(want, got, sizeof(want)) == 0 ? 0 : -1;
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(want, sizeof(want));
	return rc;
}

/*
 * Both strings are hashed and the hashes compared, so the time taken
 * depends on neither string's content nor on where they differ, and a
 * length mismatch does not return early.
 */
int
crypto_streq(const char *a, const char *b)
{
	unsigned char	ha[crypto_hash_sha256_BYTES];
	unsigned char	hb[crypto_hash_sha256_BYTES];
	size_t		la, lb;
	int		eq;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	crypto_hash_sha256(ha, (const unsigned char *)a, la);
	crypto_hash_sha256(hb, (const unsigned char *)b, lb);
	eq = sodium_memcmp(ha, hb, sizeof(ha)) == 0;
	return eq & (la == lb);
}

int
crypto_pw_hash(const char *pw, char out[CRYPTO_PWHASH_MAX])
{
	return crypto_pwhash_str_alg(out, pw, strlen(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

int
crypto_pw_verify(const char *stored, const char *pw)
{
	return crypto_pwhash_str_verify(stored, pw, strlen(pw)) == 0 ? 0 : -1;
}

void
crypto_wh_secret_new(char out[CRYPTO_WH_SECRET_MAX])
{
	unsigned char	key[CRYPTO_WH_KEY_BYTES];
	size_t		n = sizeof(CRYPTO_WH_PREFIX) - 1;

	randombytes_buf(key, sizeof(key));
	memcpy(out, CRYPTO_WH_PREFIX, n);
	sodium_bin2base64(out + n, CRYPTO_WH_SECRET_MAX - n, key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
}

int
crypto_wh_sign(const char *secret, const char *id, long long ts,
    const void *body, size_t len, char out[CRYPTO_WH_SIG_MAX])
{
	crypto_auth_hmacsha256_state	st;
	unsigned char			key[CRYPTO_WH_KEY_MAX];
	unsigned char			mac[crypto_auth_hmacsha256_BYTES];
	const char			*b64 = secret, *end;
	char				tsbuf[24];
	size_t				klen;

	out[0] = '\0';
	if (strncmp(b64, CRYPTO_WH_PREFIX, sizeof(CRYPTO_WH_PREFIX) - 1) == 0)
		b64 += sizeof(CRYPTO_WH_PREFIX) - 1;
	if (sodium_base642bin(key, sizeof(key), b64, strlen(b64), NULL, &klen,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 || *end != '\0' ||
	    klen == 0) {
		sodium_memzero(key, sizeof(key));
		return -1;
	}
	snprintf(tsbuf, sizeof(tsbuf), "%lld", ts);
	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id,
	    strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsbuf,
	    strlen(tsbuf));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, CRYPTO_WH_SIG_MAX - 3, mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(key, sizeof(key));
	return 0;
}
