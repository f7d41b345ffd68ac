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
	char	want[CRYPTO_SHA256_HEX], got[CRYPTO_SHA256_HEX];
	size_t	i;

	if (header == NULL || secret == NULL ||
	    strncmp(header, "sha256=", 7) != 0 || strlen(header + 7) != 64)
		return -1;
	for (i = 0; i < 64; i++) {
		char	c = header[7 + i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		got[i] = c;
	}
	got[64] = '\0';
	crypto_hmac_hex(secret, strlen(secret), body, len, want);
	return sodium_memcmp(want, got, 64) == 0 ? 0 : -1;
}

int
crypto_streq(const char *a, const char *b)
{
	size_t	la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return 0;
	return sodium_memcmp(a, b, la) == 0;
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
