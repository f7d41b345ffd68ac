#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int
cfg_str_required(const char *name, const char **out, struct cfg_err *err)
{
	const char	*v;

	v = getenv(name);
	if (v == NULL || *v == '\0') {
		snprintf(err->msg, sizeof(err->msg),
		    "%s is required but not set", name);
		return -1;
	}
	*out = v;
	return 0;
}

const char *
cfg_str(const char *name, const char *def)
{
	const char	*v;

	v = getenv(name);
	return (v == NULL || *v == '\0') ? def : v;
}

int
cfg_parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	/* strtol would skip leading white space and accept a '+'. */
	if (s == NULL || !((*s >= '0' && *s <= '9') || *s == '-'))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cfg_long(const char *name, long def, long min, long max, long *out,
    struct cfg_err *err)
{
	const char	*v;

	v = getenv(name);
	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	if (cfg_parse_long(v, min, max, out) == -1) {
		snprintf(err->msg, sizeof(err->msg),
		    "%s must be a whole number from %ld to %ld", name, min, max);
		return -1;
	}
	return 0;
}

int
cfg_double(const char *name, double def, double min, double max, double *out,
    struct cfg_err *err)
{
	const char	*v;
	char		*end;
	double		 d;

	v = getenv(name);
	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	/* Plain decimal only: no white space, sign, hex, inf or nan. */
	if (((*v >= '0' && *v <= '9') || *v == '.' || *v == '-') &&
	    strspn(v, "0123456789.eE-") == strlen(v)) {
		errno = 0;
		d = strtod(v, &end);
		if (errno == 0 && *end == '\0' && isfinite(d) && d >= min &&
		    d <= max) {
			*out = d;
			return 0;
		}
	}
	snprintf(err->msg, sizeof(err->msg),
	    "%s must be a number from %g to %g", name, min, max);
	return -1;
}
