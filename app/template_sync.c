#include <stdio.h>

#include "model_template.h"
#include "template_sync.h"

int
template_sync(struct db *db, const struct settings *s, char *err,
    size_t errsz)
{
	if (s->provider == PROVIDER_SIMULATED)
		return model_template_sync_catalog(db, err, errsz);
	snprintf(err, errsz, "syncing from the Cloud API is not built yet");
	return -1;
}
