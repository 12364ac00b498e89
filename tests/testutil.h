/* testutil.h - helpers shared by the cmocka tests: tensors from literals, seeded random data. */
#ifndef FT_TESTUTIL_H
#define FT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "graph.h"

/* Fills a tensor struct with a name, dtype and shape and a zeroed, owned data buffer. */
void tu_tensor_init(ft_tensor *t, const char *name, ft_dtype dtype, int rank, const int64_t *dims);
/* Deterministic uniform floats in [lo, hi) from a 64-bit seed. */
void tu_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);
/* Max |a-b| over n floats. */
double tu_max_abs_diff(const float *a, const float *b, size_t n);

#endif
