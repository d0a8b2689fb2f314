/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the table-driven unit tests: one cmocka test per table row,
 * and a byte builder for hand-made messages. Include after cmocka.h. */
#ifndef TLSWATCH_TEST_TABLE_H
#define TLSWATCH_TEST_TABLE_H

#include <stddef.h>
#include <stdint.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* One test per table row, named after it. Every row struct starts with
 * its name. */
static inline void add_rows(struct CMUnitTest *tests, size_t *n,
			    const void *rows, size_t count, size_t size,
			    CMUnitTestFunction fn)
{
	for (size_t i = 0; i < count; i++) {
		const char *row = (const char *)rows + i * size;

		tests[*n].name = *(const char *const *)row;
		tests[*n].test_func = fn;
		tests[*n].setup_func = NULL;
		tests[*n].teardown_func = NULL;
		tests[*n].initial_state = (void *)row;
		(*n)++;
	}
}

#define ADD_ROWS(tests, n, rows, fn)					\
	add_rows(tests, n, rows, ARRAY_SIZE(rows), sizeof(rows[0]), fn)

struct builder {
	uint8_t b[4096];
	size_t len;
};

static inline void put8(struct builder *w, unsigned x)
{
	assert_true(w->len < sizeof(w->b));
	w->b[w->len++] = (uint8_t)x;
}

static inline void put16(struct builder *w, unsigned x)
{
	put8(w, x >> 8);
	put8(w, x);
}

/* Opens a vector with a width-byte length; close_vec() fills it in. */
static inline size_t open_vec(struct builder *w, size_t width)
{
	size_t at = w->len;

	while (width--)
		put8(w, 0);
	return at;
}

static inline void close_vec(struct builder *w, size_t at, size_t width)
{
	size_t n = w->len - at - width;

	if (width == 2)
		w->b[at++] = (uint8_t)(n >> 8);
	w->b[at] = (uint8_t)n;
}

#endif
