/*
 * wa_errors — what WhatsApp's error codes mean, in words an agent can act
 * on (shown with a failed message in the admin pages), and which of them
 * are worth another try.
 */
#ifndef WADESK_WA_ERRORS_H
#define WADESK_WA_ERRORS_H

/* The explanation of an error code ("131047", "network", ...), or NULL. */
const char	*wa_error_words(const char *);

#endif
