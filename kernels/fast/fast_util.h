/* fast_util.h - what the tuned kernel families share: the layouts worth enumerating for a tensor,
 * the [outer, n, inner] view of a reduction in a given layout, and the ISAs to enumerate. */
#ifndef FT_FAST_UTIL_H
#define FT_FAST_UTIL_H

#include "registry.h"

#define FT_FAST_MAX_CHOICES (1 + 6 * FT_MAX_IO)

/* Row-major first, then every unblocked layout of the given hint sets (NULL sets are skipped) that
 * has the rank of s and is not equivalent for s to one already chosen (layouts that only move
 * size-1 axes are the same bytes). Returns the count, at most max. */
int ft_fast_layout_choices(const ft_shape *s, const ft_layout_set *const *sets, int n_sets, ft_layout *out, int max);
/* The same, blocked layouts that fit s included (for kernels that read any layout as flat bytes). */
int ft_fast_layout_choices_blocked(const ft_shape *s, const ft_layout_set *const *sets, int n_sets, ft_layout *out,
                                   int max);

/* A tensor of shape s stored in layout l, reduced over the logical axes in mask: when those axes
 * (size-1 axes aside) sit at consecutive physical positions, the data is [outer][n][inner] in
 * memory with n the product of the reduced dims. Returns 1 and sets the three, else returns 0. */
int ft_fast_block_view(const ft_layout *l, const ft_shape *s, unsigned mask, int64_t *outer, int64_t *n,
                       int64_t *inner);

/* An INTS attribute of exactly n values in [min, max], or `def` everywhere when absent: 0, or -1
 * when it has another count or a value out of range. */
int ft_fast_ints_attr(const ft_node *node, const char *name, int n, int64_t def, int64_t min, int64_t max,
                      int64_t *v);

/* The ISAs this CPU runs, widest first (the first is the default). Returns the count. */
int ft_fast_isas(int *isas);

/* A callee (GEMM, packing) left its message in ctx->err and returned rc: the same status with the
 * message prefixed by the node, its op type and, when with_key, the candidate key. */
int ft_fast_fail_callee(const ft_kernel_ctx *ctx, int rc, int with_key);

/* Appends c with its key printed from fmt; FT_ERR_NOMEM through err on failure. */
int ft_fast_push(ft_candidate_list *list, ft_candidate *c, ft_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
