/*
 * crypto — libsodium behind a few task-shaped calls.
 *
 * crypto_init() must run once per process before any other call.
 * Comparisons of secrets do not return early: crypto_streq compares SHA-256
 * hashes of both strings (its time depends on their lengths, which are not
 * secret, and not on their contents); crypto_sig_check compares the MAC
 * with sodium_memcmp.
 */
#ifndef WADESK_CRYPTO_H
#define WADESK_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_HEX	65	/* 64 hex digits + NUL */
#define CRYPTO_PWHASH_MAX	128
#define CRYPTO_TOKEN_MAX	64

int	crypto_init(void) __attribute__((warn_unused_result));
/*
 * nbytes (at most CRYPTO_TOKEN_MAX) random bytes written as 2*nbytes
 * lowercase hex plus NUL into out.  More is a programming error: abort.
 */
void	crypto_token_hex(char *, size_t);
/* SHA-256 of data as lowercase hex. */
void	crypto_sha256_hex(const void *, size_t, char out[CRYPTO_SHA256_HEX]);
/* HMAC-SHA256(key, data) as lowercase hex. */
void	crypto_hmac_hex(const char *, size_t, const void *, size_t,
	    char out[CRYPTO_SHA256_HEX]);
/*
 * Checks an X-Hub-Signature-256 header ("sha256=<hex>", hex in either case)
 * against HMAC-SHA256(secret, body).  0 when it matches, -1 otherwise
 * (including a missing or malformed header).
 */
int	crypto_sig_check(const char *, const char *, const void *, size_t)
	    __attribute__((warn_unused_result));
/*
 * 1 when the strings are equal, else 0 (NULL is unequal to anything).  The
 * hashes of both are compared, so neither a differing byte nor a differing
 * length makes it return sooner.
 */
int	crypto_streq(const char *, const char *);
/* argon2id password hash (libsodium's string format). 0 or -1. */
int	crypto_pw_hash(const char *, char out[CRYPTO_PWHASH_MAX])
	    __attribute__((warn_unused_result));
/* 0 when the password matches the stored hash. */
int	crypto_pw_verify(const char *, const char *)
	    __attribute__((warn_unused_result));

/*
 * Standard Webhooks (standardwebhooks.com) signatures.  A secret is
 * "whsec_" + base64 (standard alphabet, padded) of its key bytes.
 */
#define CRYPTO_WH_PREFIX	"whsec_"
#define CRYPTO_WH_KEY_BYTES	24	/* of a secret made here */
#define CRYPTO_WH_KEY_MAX	64	/* of a secret accepted */
#define CRYPTO_WH_SECRET_MAX	128	/* "whsec_" + base64 + NUL */
#define CRYPTO_WH_SIG_MAX	48	/* "v1," + 44 base64 digits + NUL */
/* A new random secret (CRYPTO_WH_KEY_BYTES bytes) into out. */
void	crypto_wh_secret_new(char out[CRYPTO_WH_SECRET_MAX]);
/*
 * The webhook-signature value "v1,<base64 HMAC-SHA256>" of
 * "{id}.{timestamp}.{body}" keyed with the base64-decoded part of secret
 * after "whsec_" (a secret without the prefix is taken as base64 whole).
 * 0, or -1 when the secret is not such base64 (out is then "").
 */
int	crypto_wh_sign(const char *, const char *, long long, const void *,
	    size_t, char out[CRYPTO_WH_SIG_MAX])
	    __attribute__((warn_unused_result));

#endif
