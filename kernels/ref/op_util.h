/* op_util.h - argument access and node-named errors shared by the reference kernels. */
#ifndef FT_OP_UTIL_H
#define FT_OP_UTIL_H

#include "ops.h"

/* Input i, or NULL when it is omitted or beyond the inputs the node has. */
ft_tensor *ft_op_in(const ft_op_ctx *ctx, int i);
/* Output i, or NULL when the node does not produce it (omitted optional outputs have no name). */
ft_tensor *ft_op_out(const ft_op_ctx *ctx, int i);
/* FT_ERR_INPUT unless inputs 0..n-1 are all present (only trailing optional inputs may be omitted). */
int ft_op_require_inputs(const ft_op_ctx *ctx, int n);
/* ft_fail with the message prefixed by "node 'NAME' (OP): ". */
int ft_op_fail(const ft_op_ctx *ctx, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Checks that input i (what says its role, e.g. "shape") is present when required, constant, and a
 * 1-D or scalar int32/int64 tensor of at most max_n values; copies them into vals and sets *n.
 * An omitted optional input gives *n = -1. FT_ERR_UNSUPPORTED when not constant. */
int ft_op_const_ints(const ft_op_ctx *ctx, int i, const char *what, int required, int64_t *vals, int max_n,
                     int *n);
/* Checks that the element type has a fixed size (string and undefined do not). */
int ft_op_check_sized(const ft_op_ctx *ctx, const ft_tensor *t);

#endif
