/* reorder_op.c - the Reorder op the planner inserts for layout conversions (logically an Identity). */
#include <string.h>

#include "ops.h"

static int reorder_infer(ft_op_ctx *ctx)
{
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    ctx->out[0]->shape = ctx->in[0]->shape;
    return FT_OK;
}

static int reorder_run(ft_op_ctx *ctx)
{
    memcpy(ctx->out[0]->data, ctx->in[0]->data, ft_tensor_nbytes(ctx->in[0]));
    return FT_OK;
}

const ft_op_def ft_op_reorder = {"Reorder", 1, 1, 1, 1, 0, reorder_infer, reorder_run};
