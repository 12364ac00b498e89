/* linalg.c - reference MatMul (numpy semantics, broadcast batches), Gemm, and fluidtune's
 * FusedMatMul. */
#include "op_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* MatMul operands seen as batches of [M,K] x [K,N] matrices; a 1-D operand is promoted. */
typedef struct matmul_dims {
    int64_t m, k, n;
    int batch_rank;
    int64_t batch[FT_MAX_RANK];
    int64_t a_stride[FT_MAX_RANK], b_stride[FT_MAX_RANK]; /* per batch dim in elements, 0 = broadcast */
} matmul_dims;

static int matmul_plan(const ft_op_ctx *ctx, matmul_dims *d, ft_shape *out_shape)
{
    const ft_tensor *a = ctx->in[0], *b = ctx->in[1];
    char sa[96], sb[96];
    if (a->shape.rank < 1 || b->shape.rank < 1)
        return ft_op_fail(ctx, FT_ERR_INPUT, "operands must have rank >= 1, got %s and %s",
                          ft_shape_str(&a->shape, sa, sizeof sa), ft_shape_str(&b->shape, sb, sizeof sb));
    ft_shape ab = {0, {0}}, bb = {0, {0}};
    int64_t ka, kb;
    if (a->shape.rank == 1) {
        d->m = 1;
        ka = a->shape.dims[0];
    } else {
        d->m = a->shape.dims[a->shape.rank - 2];
        ka = a->shape.dims[a->shape.rank - 1];
        ab.rank = a->shape.rank - 2;
        memcpy(ab.dims, a->shape.dims, (size_t)ab.rank * sizeof ab.dims[0]);
    }
    if (b->shape.rank == 1) {
        d->n = 1;
        kb = b->shape.dims[0];
    } else {
        kb = b->shape.dims[b->shape.rank - 2];
        d->n = b->shape.dims[b->shape.rank - 1];
        bb.rank = b->shape.rank - 2;
        memcpy(bb.dims, b->shape.dims, (size_t)bb.rank * sizeof bb.dims[0]);
    }
    ft_shape batch;
    if (ka != kb || ft_broadcast_shape(&ab, &bb, &batch) != FT_OK)
        return ft_op_fail(ctx, FT_ERR_INPUT, "shapes %s and %s do not multiply",
                          ft_shape_str(&a->shape, sa, sizeof sa), ft_shape_str(&b->shape, sb, sizeof sb));
    d->k = ka;
    d->batch_rank = batch.rank;
    int64_t sa_acc = d->m * d->k, sb_acc = d->k * d->n;
    for (int i = batch.rank - 1; i >= 0; i--) {
        int ia = i - (batch.rank - ab.rank), ib = i - (batch.rank - bb.rank);
        int64_t da = ia >= 0 ? ab.dims[ia] : 1, db = ib >= 0 ? bb.dims[ib] : 1;
        d->batch[i] = batch.dims[i];
        d->a_stride[i] = da == 1 ? 0 : sa_acc;
        d->b_stride[i] = db == 1 ? 0 : sb_acc;
        sa_acc *= da;
        sb_acc *= db;
    }
    *out_shape = batch;
    if (a->shape.rank > 1) out_shape->dims[out_shape->rank++] = d->m;
    if (b->shape.rank > 1) out_shape->dims[out_shape->rank++] = d->n;
    return FT_OK;
}

static int matmul_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 2);
    if (rc != FT_OK) return rc;
    const ft_tensor *a = ctx->in[0], *b = ctx->in[1];
    if (a->dtype != b->dtype)
        return ft_op_fail(ctx, FT_ERR_INPUT, "operands are %s and %s", ft_dtype_name(a->dtype),
                          ft_dtype_name(b->dtype));
    if (a->dtype != FT_FLOAT && a->dtype != FT_INT64 && a->dtype != FT_DOUBLE)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(a->dtype));
    matmul_dims d;
    ft_shape s;
    rc = matmul_plan(ctx, &d, &s);
    if (rc != FT_OK) return rc;
    ctx->out[0]->dtype = a->dtype;
    ctx->out[0]->shape = s;
    return FT_OK;
}

static void matmul_f32(const float *a, const float *b, float *c, int64_t m, int64_t k, int64_t n)
{
    for (int64_t i = 0; i < m; i++) {
        float *ci = c + i * n;
        for (int64_t j = 0; j < n; j++) ci[j] = 0.0f;
        for (int64_t p = 0; p < k; p++) {
            float av = a[i * k + p];
            const float *bp = b + p * n;
            for (int64_t j = 0; j < n; j++) ci[j] += av * bp[j];
        }
    }
}

static void matmul_f64(const double *a, const double *b, double *c, int64_t m, int64_t k, int64_t n)
{
    for (int64_t i = 0; i < m; i++) {
        double *ci = c + i * n;
        for (int64_t j = 0; j < n; j++) ci[j] = 0.0;
        for (int64_t p = 0; p < k; p++) {
            double av = a[i * k + p];
            const double *bp = b + p * n;
            for (int64_t j = 0; j < n; j++) ci[j] += av * bp[j];
        }
    }
}

/* Integer products wrap like two's complement hardware instead of being undefined on overflow. */
static void matmul_i64(const int64_t *a, const int64_t *b, int64_t *c, int64_t m, int64_t k, int64_t n)
{
    for (int64_t i = 0; i < m; i++) {
        int64_t *ci = c + i * n;
        for (int64_t j = 0; j < n; j++) ci[j] = 0;
        for (int64_t p = 0; p < k; p++) {
            uint64_t av = (uint64_t)a[i * k + p];
            const int64_t *bp = b + p * n;
            for (int64_t j = 0; j < n; j++) ci[j] = (int64_t)((uint64_t)ci[j] + av * (uint64_t)bp[j]);
        }
    }
}

static int matmul_run(ft_op_ctx *ctx)
{
    matmul_dims d;
    ft_shape s;
    int rc = matmul_plan(ctx, &d, &s);
    if (rc != FT_OK) return rc;
    int64_t nbatch = 1, idx[FT_MAX_RANK] = {0};
    for (int i = 0; i < d.batch_rank; i++) nbatch *= d.batch[i];
    int64_t aoff = 0, boff = 0, mn = d.m * d.n;
    ft_dtype dt = ctx->in[0]->dtype;
    for (int64_t bi = 0; bi < nbatch; bi++) {
        if (dt == FT_FLOAT)
            matmul_f32((const float *)ctx->in[0]->data + aoff, (const float *)ctx->in[1]->data + boff,
                       (float *)ctx->out[0]->data + bi * mn, d.m, d.k, d.n);
        else if (dt == FT_DOUBLE)
            matmul_f64((const double *)ctx->in[0]->data + aoff, (const double *)ctx->in[1]->data + boff,
                       (double *)ctx->out[0]->data + bi * mn, d.m, d.k, d.n);
        else
            matmul_i64((const int64_t *)ctx->in[0]->data + aoff, (const int64_t *)ctx->in[1]->data + boff,
                       (int64_t *)ctx->out[0]->data + bi * mn, d.m, d.k, d.n);
        for (int i = d.batch_rank - 1; i >= 0; i--) {
            aoff += d.a_stride[i];
            boff += d.b_stride[i];
            if (++idx[i] < d.batch[i]) break;
            aoff -= d.a_stride[i] * d.batch[i];
            boff -= d.b_stride[i] * d.batch[i];
            idx[i] = 0;
        }
    }
    return FT_OK;
}

/* Gemm geometry: Y[M,N] = alpha * op(A) op(B) + beta * C, C broadcast to [M,N] by strides. */
typedef struct gemm_dims {
    int64_t m, k, n;
    int ta, tb;
    int64_t c_rs, c_cs; /* C's row and column strides, 0 where broadcast */
} gemm_dims;

static int gemm_plan(const ft_op_ctx *ctx, gemm_dims *d)
{
    const ft_tensor *a = ctx->in[0], *b = ctx->in[1], *c = ft_op_in(ctx, 2);
    char sa[96], sb[96];
    if (a->shape.rank != 2 || b->shape.rank != 2)
        return ft_op_fail(ctx, FT_ERR_INPUT, "A and B must be 2-D, got %s and %s",
                          ft_shape_str(&a->shape, sa, sizeof sa), ft_shape_str(&b->shape, sb, sizeof sb));
    d->ta = ft_attr_int(ctx->node, "transA", 0) != 0;
    d->tb = ft_attr_int(ctx->node, "transB", 0) != 0;
    d->m = a->shape.dims[d->ta ? 1 : 0];
    d->k = a->shape.dims[d->ta ? 0 : 1];
    int64_t kb = b->shape.dims[d->tb ? 1 : 0];
    d->n = b->shape.dims[d->tb ? 0 : 1];
    if (kb != d->k)
        return ft_op_fail(ctx, FT_ERR_INPUT, "A %s and B %s do not multiply (transA=%d, transB=%d)",
                          ft_shape_str(&a->shape, sa, sizeof sa), ft_shape_str(&b->shape, sb, sizeof sb), d->ta,
                          d->tb);
    d->c_rs = d->c_cs = 0;
    if (!c) {
        if (ctx->node->opset < 11) return ft_op_fail(ctx, FT_ERR_INPUT, "input C is required before opset 11");
        return FT_OK;
    }
    int64_t cm = 1, cn = 1;
    if (c->shape.rank > 2)
        return ft_op_fail(ctx, FT_ERR_INPUT, "C has rank %d, more than 2", c->shape.rank);
    if (c->shape.rank == 2) cm = c->shape.dims[0];
    if (c->shape.rank >= 1) cn = c->shape.dims[c->shape.rank - 1];
    if ((cm != 1 && cm != d->m) || (cn != 1 && cn != d->n))
        return ft_op_fail(ctx, FT_ERR_INPUT, "C %s does not broadcast to [%lld,%lld]",
                          ft_shape_str(&c->shape, sa, sizeof sa), (long long)d->m, (long long)d->n);
    d->c_rs = cm == 1 ? 0 : cn;
    d->c_cs = cn == 1 ? 0 : 1;
    return FT_OK;
}

static int gemm_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 2);
    if (rc != FT_OK) return rc;
    const ft_tensor *a = ctx->in[0], *b = ctx->in[1], *c = ft_op_in(ctx, 2);
    if (a->dtype != FT_FLOAT || b->dtype != FT_FLOAT || (c && c->dtype != FT_FLOAT)) {
        const ft_tensor *bad = a->dtype != FT_FLOAT ? a : b->dtype != FT_FLOAT ? b : c;
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "input '%s' is %s; only float32 is supported", bad->name,
                          ft_dtype_name(bad->dtype));
    }
    gemm_dims d;
    rc = gemm_plan(ctx, &d);
    if (rc != FT_OK) return rc;
    ctx->out[0]->dtype = FT_FLOAT;
    ctx->out[0]->shape.rank = 2;
    ctx->out[0]->shape.dims[0] = d.m;
    ctx->out[0]->shape.dims[1] = d.n;
    return FT_OK;
}

static int gemm_run(ft_op_ctx *ctx)
{
    gemm_dims d;
    int rc = gemm_plan(ctx, &d);
    if (rc != FT_OK) return rc;
    const float *a = ctx->in[0]->data, *b = ctx->in[1]->data;
    const ft_tensor *ct = ft_op_in(ctx, 2);
    const float *c = ct ? ct->data : NULL;
    float *y = ctx->out[0]->data;
    float alpha = ft_attr_float(ctx->node, "alpha", 1.0f), beta = ft_attr_float(ctx->node, "beta", 1.0f);
    /* op(A)[i,p] and op(B)[p,j] as strides, so one loop nest serves every transpose combination. */
    int64_t a_is = d.ta ? 1 : d.k, a_ps = d.ta ? d.m : 1;
    int64_t b_ps = d.tb ? 1 : d.n, b_js = d.tb ? d.k : 1;
    for (int64_t i = 0; i < d.m; i++) {
        float *yi = y + i * d.n;
        for (int64_t j = 0; j < d.n; j++) yi[j] = 0.0f;
        if (!d.tb) {
            for (int64_t p = 0; p < d.k; p++) {
                float av = a[i * a_is + p * a_ps];
                const float *bp = b + p * b_ps;
                for (int64_t j = 0; j < d.n; j++) yi[j] += av * bp[j];
            }
        } else {
            for (int64_t j = 0; j < d.n; j++) {
                const float *bj = b + j * b_js;
                float acc = 0.0f;
                for (int64_t p = 0; p < d.k; p++) acc += a[i * a_is + p * a_ps] * bj[p];
                yi[j] = acc;
            }
        }
        for (int64_t j = 0; j < d.n; j++) {
            yi[j] *= alpha;
            if (c) yi[j] += beta * c[i * d.c_rs + j * d.c_cs];
        }
    }
    return FT_OK;
}

/* FusedMatMul (domain ai.fluidtune), made by prepare from a MatMul and the elementwise chain after
 * it: Y = act(MatMul(A, B) + bias + residual). bias (input 2, optional) has the output's last dim
 * and size-1 dims elsewhere; residual (input 3, optional) has the output's shape; activation is
 * "none", "relu" or "gelu" (PyTorch's erf GELU); transB = 1 reads B as [N, K] (a weight matrix
 * whose Transpose was not folded). float32 only. Each step rounds as the ONNX node it
 * replaces does, in the same order, so the fused graph computes what the original one did. */
int ft_fused_activation(const ft_node *n)
{
    const char *a = ft_attr_string(n, "activation", "none");
    if (!strcmp(a, "none")) return FT_FUSED_NONE;
    if (!strcmp(a, "relu")) return FT_FUSED_RELU;
    return !strcmp(a, "gelu") ? FT_FUSED_GELU : -1;
}

static int fused_activation(const ft_op_ctx *ctx, int *act)
{
    *act = ft_fused_activation(ctx->node);
    if (*act < 0)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "activation '%s' is not none, relu or gelu",
                          ft_attr_string(ctx->node, "activation", ""));
    return FT_OK;
}

/* A shallow copy of the context whose input 1 is B^T when transB is set: shapes always, data (a
 * transposed copy to free with free(bt->data)) when with_data. */
static int fused_operands(ft_op_ctx *ctx, ft_op_ctx *mm, ft_tensor **in, ft_tensor *bt, int with_data)
{
    *mm = *ctx;
    mm->n_in = 2;
    in[0] = ctx->in[0];
    in[1] = ctx->in[1];
    mm->in = in;
    if (!ft_attr_int(ctx->node, "transB", 0) || !ctx->in[1]) return FT_OK;
    const ft_tensor *b = ctx->in[1];
    if (b->shape.rank != 2) return ft_op_fail(ctx, FT_ERR_INPUT, "transB needs a 2-D B, not rank %d", b->shape.rank);
    *bt = *b;
    bt->shape.dims[0] = b->shape.dims[1];
    bt->shape.dims[1] = b->shape.dims[0];
    bt->data = NULL;
    in[1] = bt;
    if (!with_data || b->dtype != FT_FLOAT) return FT_OK;
    int64_t r = b->shape.dims[0], c = b->shape.dims[1];
    float *t = malloc((size_t)(r * c > 0 ? r * c : 1) * sizeof *t);
    if (!t) return ft_op_fail(ctx, FT_ERR_NOMEM, "out of memory");
    const float *src = b->data;
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++) t[j * r + i] = src[i * c + j];
    bt->data = t;
    return FT_OK;
}

static int fused_matmul_infer(ft_op_ctx *ctx)
{
    ft_op_ctx mm;
    ft_tensor *in[2], bt;
    int rc = fused_operands(ctx, &mm, in, &bt, 0);
    if (rc == FT_OK) rc = matmul_infer(&mm);
    if (rc != FT_OK) return rc;
    int act;
    if ((rc = fused_activation(ctx, &act)) != FT_OK) return rc;
    const ft_shape *ys = &ctx->out[0]->shape;
    if (ctx->in[0]->dtype != FT_FLOAT)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(ctx->in[0]->dtype));
    if (ys->rank < 1) return ft_op_fail(ctx, FT_ERR_INPUT, "the product has rank 0");
    const ft_tensor *bias = ctx->n_in > 2 ? ctx->in[2] : NULL, *res = ctx->n_in > 3 ? ctx->in[3] : NULL;
    if (bias) {
        int ok = bias->dtype == FT_FLOAT && bias->shape.rank >= 1 && bias->shape.rank <= ys->rank &&
                 bias->shape.dims[bias->shape.rank - 1] == ys->dims[ys->rank - 1];
        for (int i = 0; ok && i < bias->shape.rank - 1; i++) ok = bias->shape.dims[i] == 1;
        if (!ok) return ft_op_fail(ctx, FT_ERR_INPUT, "bias '%s' is not a float row of the product's last dim", bias->name);
    }
    if (res && (res->dtype != FT_FLOAT || !ft_shape_equal(&res->shape, ys)))
        return ft_op_fail(ctx, FT_ERR_INPUT, "residual '%s' does not have the product's shape", res->name);
    return FT_OK;
}

static int fused_matmul_run(ft_op_ctx *ctx)
{
    ft_op_ctx mm;
    ft_tensor *in[2], bt = {0};
    int rc = fused_operands(ctx, &mm, in, &bt, 1);
    if (rc == FT_OK) rc = matmul_run(&mm);
    free(bt.data);
    int act = 0;
    if (rc == FT_OK) rc = fused_activation(ctx, &act);
    if (rc != FT_OK) return rc;
    const ft_shape *ys = &ctx->out[0]->shape;
    int64_t total = ft_shape_numel(ys), n = ys->dims[ys->rank - 1];
    const float *bias = ctx->n_in > 2 && ctx->in[2] ? ctx->in[2]->data : NULL;
    const float *res = ctx->n_in > 3 && ctx->in[3] ? ctx->in[3]->data : NULL;
    float *y = ctx->out[0]->data;
    for (int64_t i = 0; i < total; i++) {
        float v = y[i];
        if (bias) v = v + bias[i % n];
        if (res) v = v + res[i];
        if (act == FT_FUSED_RELU) v = v < 0.0f ? 0.0f : v;
        if (act == FT_FUSED_GELU) v = (v * (erff(v / 1.41421353816986083984375f) + 1.0f)) * 0.5f;
        y[i] = v;
    }
    return FT_OK;
}

const ft_op_def ft_ops_fluidtune[] = {
    {"FusedMatMul", 2, 4, 1, 1, 0, fused_matmul_infer, fused_matmul_run},
    {0},
};

const ft_op_def ft_ops_linalg[] = {
    {"MatMul", 2, 2, 1, 1, 0, matmul_infer, matmul_run},
    {"Gemm", 2, 3, 1, 1, 0, gemm_infer, gemm_run},
    {0},
};
