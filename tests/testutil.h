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

/* Graph building for tests: adds a node (names copied; "" in ins stands for an omitted input),
 * creating output tensors as needed. Returns the node index. */
int tu_add_node(ft_graph *g, const char *op_type, const char *name, int n_in, const char *const *ins, int n_out,
                const char *const *outs);
/* Adds an INTS / INT attribute to node ni. */
void tu_attr_ints(ft_graph *g, int ni, const char *name, int n, const int64_t *v);
void tu_attr_int(ft_graph *g, int ni, const char *name, int64_t v);
void tu_attr_float(ft_graph *g, int ni, const char *name, float v);
/* Adds a run-time graph input / a constant int64 tensor / a constant float tensor; returns its index. */
int tu_add_input(ft_graph *g, const char *name, ft_dtype dtype, int rank, const int64_t *dims);
int tu_add_const_i64(ft_graph *g, const char *name, int rank, const int64_t *dims, const int64_t *vals);
int tu_add_const_f32(ft_graph *g, const char *name, int rank, const int64_t *dims, const float *vals);
void tu_mark_output(ft_graph *g, const char *name);
