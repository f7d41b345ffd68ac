/*
 * Unit tests for lib/http's address policy (http_addr_public): which
 * addresses an event delivery may connect to.  Table-driven: each text
 * address is parsed with inet_pton and judged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "http.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct addr_case {
	const char	*addr;
	int		 public;
};

static const struct addr_case cases[] = {
	/* IPv4: public. */
	{ "1.1.1.1", 1 },
	{ "8.8.8.8", 1 },
	{ "93.184.216.34", 1 },
	{ "100.63.255.255", 1 },
	{ "100.128.0.0", 1 },
	{ "172.15.255.255", 1 },
	{ "172.32.0.0", 1 },
	{ "169.253.255.255", 1 },
	{ "192.169.0.1", 1 },
	{ "223.255.255.255", 1 },
	/* IPv4: not. */
	{ "0.0.0.0", 0 },
	{ "0.1.2.3", 0 },
	{ "10.0.0.1", 0 },
	{ "10.255.255.255", 0 },
	{ "100.64.0.1", 0 },
	{ "100.127.255.254", 0 },
	{ "127.0.0.1", 0 },
	{ "127.1.2.3", 0 },
	{ "169.254.169.254", 0 },
	{ "172.16.0.1", 0 },
	{ "172.31.255.255", 0 },
	{ "192.0.0.8", 0 },
	{ "192.0.2.1", 0 },
	{ "192.168.1.1", 0 },
	{ "198.18.0.1", 0 },
	{ "198.19.255.255", 0 },
	{ "198.51.100.7", 0 },
	{ "203.0.113.9", 0 },
	{ "224.0.0.1", 0 },
	{ "239.255.255.250", 0 },
	{ "240.0.0.1", 0 },
	{ "255.255.255.255", 0 },
	/* IPv6: public. */
	{ "2606:4700:4700::1111", 1 },
	{ "2a00:1450:4001:81b::200e", 1 },
	{ "::ffff:8.8.8.8", 1 },
	{ "64:ff9b::808:808", 1 },
	{ "2002:808:808::1", 1 },
	/* IPv6: not. */
	{ "::", 0 },
	{ "::1", 0 },
	{ "fc00::1", 0 },
	{ "fd12:3456:789a::1", 0 },
	{ "fe80::1", 0 },
	{ "febf::1", 0 },
	{ "fec0::1", 0 },
	{ "ff02::1", 0 },
	{ "2001:db8::1", 0 },
	{ "2001::1", 0 },
	{ "100::1", 0 },
	{ "4000::1", 0 },
	/* IPv4 carried in IPv6: judged by the IPv4 address. */
	{ "::ffff:127.0.0.1", 0 },
	{ "::ffff:10.1.2.3", 0 },
	{ "::ffff:169.254.169.254", 0 },
	{ "::ffff:192.168.0.1", 0 },
	{ "::127.0.0.1", 0 },
	{ "64:ff9b::7f00:1", 0 },
	{ "64:ff9b:1::1", 0 },
	{ "2002:7f00:1::1", 0 },
	{ "2002:a9fe:a9fe::1", 0 },
};

static void
test_addr_table(void **state)
{
	struct sockaddr_in	s4;
	struct sockaddr_in6	s6;
	size_t			i;
	int			got;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(&s4, 0, sizeof(s4));
		memset(&s6, 0, sizeof(s6));
		if (inet_pton(AF_INET, cases[i].addr, &s4.sin_addr) == 1) {
			s4.sin_family = AF_INET;
			got = http_addr_public((struct sockaddr *)&s4);
		} else {
			assert_int_equal(inet_pton(AF_INET6, cases[i].addr,
			    &s6.sin6_addr), 1);
			s6.sin6_family = AF_INET6;
			got = http_addr_public((struct sockaddr *)&s6);
		}
		if (got != cases[i].public)
			fail_msg("%s: %d, want %d", cases[i].addr, got,
			    cases[i].public);
	}
}

/* Any other family (a unix socket) is not an address to deliver to. */
static void
test_addr_family(void **state)
{
	struct sockaddr	sa;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	assert_int_equal(http_addr_public(&sa), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_table),
		cmocka_unit_test(test_addr_family),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
