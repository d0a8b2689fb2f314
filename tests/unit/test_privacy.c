// SPDX-License-Identifier: BSD-3-Clause
/* --anonymize-ip and --hash-sni: which bits of an address survive, and
 * that the name hash is keyed, case-blind, stable for one key and never
 * the name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "privacy.h"

static void masked(const char *in, const char *want)
{
	struct endpoint e = { .port = 443 };
	char out[INET6_ADDRSTRLEN];
	int af = strchr(in, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(af, in, e.addr), 1);
	e.family = af;
	privacy_mask(&e);
	assert_non_null(inet_ntop(af, e.addr, out, sizeof(out)));
	assert_string_equal(out, want);
	assert_int_equal(e.port, 443);	/* ports are not addresses */
}

static void test_mask(void **state)
{
	(void)state;
	masked("203.0.113.77", "203.0.113.0");
	masked("10.1.2.255", "10.1.2.0");
	masked("2001:db8:1234:5678:9abc:def0:1:2", "2001:db8:1234::");
	masked("2001:db8:ffff:ffff::1", "2001:db8:ffff::");
	masked("::1", "::");
	/* IPv4 in IPv6 (a dual-stack socket): the IPv4 /24. */
	masked("::ffff:198.51.100.9", "::ffff:198.51.100.0");
}

static void hashed(const struct privacy *p, const char *name, char *out)
{
	struct tls_client_hello ch = { .has_sni = true };

	ch.sni_len = strlen(name);
	memcpy(ch.sni, name, ch.sni_len);
	privacy_hash_sni(p, &ch);
	assert_false(ch.sni_truncated);
	memcpy(out, ch.sni, ch.sni_len);
	out[ch.sni_len] = '\0';
}

static void test_hash(void **state)
{
	struct privacy a = { .hash_sni = true }, b = { .hash_sni = true };
	char h1[TLS_MAX_SNI + 1], h2[TLS_MAX_SNI + 1], h3[TLS_MAX_SNI + 1];
	char longname[TLS_MAX_SNI + 1];
	char err[256];

	(void)state;
	assert_int_equal(privacy_random_key(&a, err, sizeof(err)), 0);
	assert_int_equal(privacy_random_key(&b, err, sizeof(err)), 0);
	hashed(&a, "app.example.com", h1);
	assert_int_equal(strlen(h1), 5 + 16);
	assert_memory_equal(h1, "hash:", 5);
	assert_int_equal(strspn(h1 + 5, "0123456789abcdef"), 16);
	hashed(&a, "App.Example.COM", h2);
	assert_string_equal(h1, h2);		/* names are case-blind */
	hashed(&a, "api.example.com", h3);
	assert_string_not_equal(h1, h3);
	hashed(&b, "app.example.com", h3);	/* another run, another key */
	assert_string_not_equal(h1, h3);
	/* The longest name kept becomes a hash of the same length. */
	memset(longname, 'a', TLS_MAX_SNI);
	longname[TLS_MAX_SNI] = '\0';
	hashed(&a, longname, h3);
	assert_int_equal(strlen(h3), 21);
}

static void test_no_sni(void **state)
{
	struct privacy p = { .hash_sni = true };
	struct tls_client_hello ch = { .has_sni = false };

	(void)state;
	privacy_hash_sni(&p, &ch);
	assert_false(ch.has_sni);
	assert_int_equal(ch.sni_len, 0);
}

static void test_key_file(void **state)
{
	struct privacy a = { .hash_sni = true }, b = { .hash_sni = true };
	char path[] = "/tmp/tlswatch-key.XXXXXX", err[256];
	char h1[TLS_MAX_SNI + 1], h2[TLS_MAX_SNI + 1];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcde", 15), 15);
	/* Too short a key is refused, with the file named. */
	assert_int_equal(privacy_key_file(&a, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_int_equal(write(fd, "f0123456789abcdef", 17), 17);
	close(fd);
	/* The same file, the same hashes: across runs and hosts. */
	assert_int_equal(privacy_key_file(&a, path, err, sizeof(err)), 0);
	assert_int_equal(privacy_key_file(&b, path, err, sizeof(err)), 0);
	hashed(&a, "app.example.com", h1);
	hashed(&b, "APP.example.com", h2);
	assert_string_equal(h1, h2);
	unlink(path);
	assert_int_equal(privacy_key_file(&a, path, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_no_sni),
		cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
