#include <stddef.h>
#include <string.h>

#include "wa_errors.h"

static const struct {
	const char	*code;
	const char	*words;
} wa_errors[] = {
	{ "131047", "More than 24 hours have passed since the customer last "
	    "wrote: only a template can reach them now. Send a template." },
	{ "131026", "WhatsApp could not deliver it: the number may not use "
	    "WhatsApp, or the customer has not accepted WhatsApp's latest "
	    "terms, or uses an old app version." },
	{ "131049", "WhatsApp held it back to keep the ecosystem healthy "
	    "(too many marketing messages to this customer). Try again later "
	    "or send a different message." },
	{ "131050", "The customer has stopped marketing messages from this "
	    "business." },
	{ "131051", "WhatsApp does not support this kind of message." },
	{ "131052", "WhatsApp could not download the customer's media." },
	{ "131053", "WhatsApp could not take the file (type or size not "
	    "accepted)." },
	{ "131056", "Too many messages to this customer in a short time: "
	    "it is tried again after a pause." },
	{ "130429", "The business number reached WhatsApp's throughput limit: "
	    "it is tried again after a pause." },
	{ "131000", "WhatsApp had an unexpected error: it is tried again." },
	{ "131062", "This message cannot go to a customer known only by a "
	    "username (BSUID)." },
	{ "131008", "A required part of the message was missing." },
	{ "131009", "A value in the message was not accepted." },
	{ "132000", "The template's parameters do not match the template "
	    "(number of values)." },
	{ "132001", "WhatsApp does not have this template in this language "
	    "(sync the templates)." },
	{ "132015", "The template is paused: WhatsApp saw poor quality "
	    "ratings." },
	{ "132016", "The template is disabled." },
	{ "100", "WhatsApp refused a parameter of the message." },
	{ "190", "The access token is invalid or expired "
	    "(WADESK_CLOUDAPI_TOKEN)." },
	{ "2635", "This Graph API version is no longer supported "
	    "(WADESK_CLOUDAPI_VERSION)." },
	{ "network", "WhatsApp could not be reached: it is tried again." },
	{ "gave_up", "Given up after WADESK_MAX_ATTEMPTS tries." },
};

const char *
wa_error_words(const char *code)
{
	size_t	i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < sizeof(wa_errors) / sizeof(wa_errors[0]); i++)
		if (strcmp(wa_errors[i].code, code) == 0)
			return wa_errors[i].words;
	return NULL;
}
