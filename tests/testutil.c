/* testutil.c - helpers shared by the cmocka tests. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tu_tensor_init(ft_tensor *t, const char *name, ft_dtype dtype, int rank, const int64_t *dims)
{
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->dtype = dtype;
    t->shape.rank = rank;
    for (int i = 0; i < rank; i++) t->shape.dims[i] = dims[i];
    t->producer = -1;
    t->alias_of = -1;
    size_t nb = ft_tensor_nbytes(t);
    t->data = calloc(nb ? nb : 1, 1);
}

void tu_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) * (1.0 / 16777216.0));
    }
}

double tu_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}
