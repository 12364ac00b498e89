/* op_util.c - argument access and node-named errors shared by the reference kernels. */
#include "op_util.h"

#include <stdarg.h>
#include <stdio.h>

ft_tensor *ft_op_in(const ft_op_ctx *ctx, int i)
{
    return i >= 0 && i < ctx->n_in ? ctx->in[i] : NULL;
}

ft_tensor *ft_op_out(const ft_op_ctx *ctx, int i)
{
    if (i < 0 || i >= ctx->n_out || !ctx->out[i]) return NULL;
    return ctx->out[i]->name && !ctx->out[i]->name[0] ? NULL : ctx->out[i];
}

int ft_op_fail(const ft_op_ctx *ctx, int code, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ft_fail(ctx->err, code, "node '%s' (%s): %s", ctx->node->name, ctx->node->op_type, msg);
}

int ft_op_require_inputs(const ft_op_ctx *ctx, int n)
{
    for (int i = 0; i < n; i++)
        if (!ft_op_in(ctx, i)) return ft_op_fail(ctx, FT_ERR_INPUT, "required input %d is missing", i);
    return FT_OK;
}

int ft_op_const_ints(const ft_op_ctx *ctx, int i, const char *what, int required, int64_t *vals, int max_n,
                     int *n)
{
    const ft_tensor *t = ft_op_in(ctx, i);
    *n = -1;
    if (!t) {
        if (required) return ft_op_fail(ctx, FT_ERR_INPUT, "the %s input is missing", what);
        return FT_OK;
    }
    if (!(t->flags & FT_T_CONST) || !t->data)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "%s input '%s' is not constant", what, t->name);
    if (t->dtype != FT_INT64 && t->dtype != FT_INT32)
        return ft_op_fail(ctx, FT_ERR_INPUT, "%s input '%s' is %s, not int64", what, t->name,
                          ft_dtype_name(t->dtype));
    if (t->shape.rank > 1)
        return ft_op_fail(ctx, FT_ERR_INPUT, "%s input '%s' has rank %d, not 1", what, t->name, t->shape.rank);
    int64_t cnt = ft_shape_numel(&t->shape);
    if (cnt < 0 || cnt > max_n)
        return ft_op_fail(ctx, FT_ERR_INPUT, "%s input '%s' has %lld values, more than %d", what, t->name,
                          (long long)cnt, max_n);
    for (int64_t k = 0; k < cnt; k++) vals[k] = ft_tensor_get_i64(t, k);
    *n = (int)cnt;
    return FT_OK;
}

int ft_op_check_sized(const ft_op_ctx *ctx, const ft_tensor *t)
{
    if (ft_dtype_size(t->dtype) == 0)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "tensor '%s' has element type %s, which has no fixed size",
                          t->name, ft_dtype_name(t->dtype));
    return FT_OK;
}
