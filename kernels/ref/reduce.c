/* reduce.c - reference reductions (ReduceSum, ReduceMean, ReduceMax, ...), Softmax and LogSoftmax,
 * LayerNormalization and inference-mode BatchNormalization. */
#include "op_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Reduce* ---------------------------------------------------------------------------------- */

typedef enum reduce_kind {
    R_SUM,
    R_MEAN,
    R_MAX,
    R_MIN,
    R_PROD,
    R_SUM_SQUARE,
    R_L1,
    R_L2,
    R_LOG_SUM,
    R_LOG_SUM_EXP
} reduce_kind;

static const struct {
    const char *op;
    reduce_kind kind;
    int axes_input_opset; /* the opset from which axes is an input instead of an attribute */
    int int_ok;           /* also on int32/int64 (accumulated in int64, wrapping) */
} reduce_ops[] = {
    {"ReduceSum", R_SUM, 13, 1},       {"ReduceMean", R_MEAN, 18, 0},
    {"ReduceMax", R_MAX, 18, 1},       {"ReduceMin", R_MIN, 18, 1},
    {"ReduceProd", R_PROD, 18, 1},     {"ReduceSumSquare", R_SUM_SQUARE, 18, 0},
    {"ReduceL1", R_L1, 18, 0},         {"ReduceL2", R_L2, 18, 0},
    {"ReduceLogSum", R_LOG_SUM, 18, 0}, {"ReduceLogSumExp", R_LOG_SUM_EXP, 18, 0},
};

typedef struct reduce_plan {
    reduce_kind kind;
    int int_ok;
    int noop;      /* noop_with_empty_axes with no axes: the output is the input */
    unsigned mask; /* bit d set: input axis d is reduced */
    ft_shape out;
} reduce_plan;

/* Resolves axes (attribute, constant input, or an input known to be empty from its shape alone),
 * keepdims and noop_with_empty_axes into the reduced-axes mask and the output shape. */
static int reduce_plan_make(const ft_op_ctx *ctx, reduce_plan *p)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    const ft_node *node = ctx->node;
    const ft_tensor *x = ctx->in[0], *axes_in = ft_op_in(ctx, 1);
    size_t k = 0;
    while (strcmp(reduce_ops[k].op, node->op_type) != 0) k++;
    p->kind = reduce_ops[k].kind;
    p->int_ok = reduce_ops[k].int_ok;
    int64_t axes[FT_MAX_RANK];
    int n_axes = 0;
    if (axes_in) {
        if (node->opset < reduce_ops[k].axes_input_opset)
            return ft_op_fail(ctx, FT_ERR_INPUT, "axes is an attribute, not an input, before opset %d",
                              reduce_ops[k].axes_input_opset);
        if (ft_shape_numel(&axes_in->shape) == 0) n_axes = 0;
        else if ((rc = ft_op_const_ints(ctx, 1, "axes", 0, axes, FT_MAX_RANK, &n_axes)) != FT_OK) return rc;
    } else {
        const int64_t *v;
        n_axes = ft_attr_ints(node, "axes", &v);
        if (n_axes > FT_MAX_RANK)
            return ft_op_fail(ctx, FT_ERR_INPUT, "%d axes for a rank-%d input", n_axes, x->shape.rank);
        if (n_axes > 0) memcpy(axes, v, (size_t)n_axes * sizeof axes[0]);
    }
    p->noop = 0;
    p->mask = 0;
    if (n_axes <= 0) {
        if (ft_attr_int(node, "noop_with_empty_axes", 0)) {
            p->noop = 1;
            p->out = x->shape;
            return FT_OK;
        }
        p->mask = (1u << x->shape.rank) - 1u;
    }
    for (int i = 0; i < n_axes; i++) {
        int a;
        if (ft_normalize_axis(axes[i], x->shape.rank, 0, &a) != 0)
            return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is out of range for rank %d", (long long)axes[i],
                              x->shape.rank);
        if (p->mask & (1u << a)) return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is given twice", (long long)axes[i]);
        p->mask |= 1u << a;
    }
    int keepdims = ft_attr_int(node, "keepdims", 1) != 0;
    p->out.rank = 0;
    for (int d = 0; d < x->shape.rank; d++) {
        if (!(p->mask & (1u << d))) p->out.dims[p->out.rank++] = x->shape.dims[d];
        else if (keepdims) p->out.dims[p->out.rank++] = 1;
    }
    return FT_OK;
}

static int reduce_infer(ft_op_ctx *ctx)
{
    reduce_plan p;
    int rc = reduce_plan_make(ctx, &p);
    if (rc != FT_OK) return rc;
    ft_dtype t = ctx->in[0]->dtype;
    if (t != FT_FLOAT && t != FT_DOUBLE && !(p.int_ok && (t == FT_INT64 || t == FT_INT32)))
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(t));
    ctx->out[0]->dtype = t;
    ctx->out[0]->shape = p.out;
    return FT_OK;
}

/* Visits the input in row-major order, rows along its last axis; *out_off tracks the offset of the
 * output element that each row's first element reduces into, ostep the offset step along the row. */
typedef struct reduce_walk {
    int rank;
    int64_t dims[FT_MAX_RANK], ost[FT_MAX_RANK], idx[FT_MAX_RANK];
    int64_t inner, rows, ostep, out_off;
} reduce_walk;

static void reduce_walk_init(reduce_walk *w, const ft_shape *in, unsigned mask)
{
    int64_t stride = 1;
    w->rank = in->rank > 0 ? in->rank : 1;
    for (int d = w->rank - 1; d >= 0; d--) {
        w->dims[d] = in->rank > 0 ? in->dims[d] : 1;
        w->idx[d] = 0;
        w->ost[d] = mask & (1u << d) ? 0 : stride;
        if (!(mask & (1u << d))) stride *= w->dims[d];
    }
    w->inner = w->dims[w->rank - 1];
    w->rows = 1;
    for (int d = 0; d < w->rank - 1; d++) w->rows *= w->dims[d];
    w->ostep = w->ost[w->rank - 1];
    w->out_off = 0;
}

static void reduce_walk_next(reduce_walk *w)
{
    for (int d = w->rank - 2; d >= 0; d--) {
        w->out_off += w->ost[d];
        if (++w->idx[d] < w->dims[d]) return;
        w->out_off -= w->ost[d] * w->dims[d];
        w->idx[d] = 0;
    }
}

static double load_f(const ft_tensor *t, int64_t i)
{
    return t->dtype == FT_FLOAT ? ((const float *)t->data)[i] : ((const double *)t->data)[i];
}

static void store_f(ft_tensor *t, int64_t i, double v)
{
    if (t->dtype == FT_FLOAT) ((float *)t->data)[i] = (float)v;
    else ((double *)t->data)[i] = v;
}

/* Float reductions accumulate in double; ReduceLogSumExp subtracts the maximum (a first pass) so
 * that large inputs do not overflow exp. */
static int reduce_run_float(ft_op_ctx *ctx, const reduce_plan *p)
{
    const ft_tensor *x = ctx->in[0];
    ft_tensor *y = ctx->out[0];
    int64_t n_out = ft_shape_numel(&p->out), n_in = ft_shape_numel(&x->shape);
    int64_t count = n_out > 0 ? n_in / n_out : 0;
    double *acc = malloc((size_t)(n_out > 0 ? n_out : 1) * sizeof *acc);
    double *shift = p->kind == R_LOG_SUM_EXP ? malloc((size_t)(n_out > 0 ? n_out : 1) * sizeof *shift) : NULL;
    if (!acc || (p->kind == R_LOG_SUM_EXP && !shift)) {
        free(acc);
        free(shift);
        return ft_op_fail(ctx, FT_ERR_NOMEM, "out of memory for %lld accumulators", (long long)n_out);
    }
    reduce_walk w;
    if (shift) {
        for (int64_t o = 0; o < n_out; o++) shift[o] = -INFINITY;
        reduce_walk_init(&w, &x->shape, p->mask);
        for (int64_t r = 0; r < w.rows; r++, reduce_walk_next(&w))
            for (int64_t j = 0; j < w.inner; j++) {
                double v = load_f(x, r * w.inner + j), *s = &shift[w.out_off + j * w.ostep];
                if (v > *s) *s = v;
            }
        for (int64_t o = 0; o < n_out; o++)
            if (isinf(shift[o])) shift[o] = 0.0;
    }
    double init = p->kind == R_MAX ? -INFINITY : p->kind == R_MIN ? INFINITY : p->kind == R_PROD ? 1.0 : 0.0;
    for (int64_t o = 0; o < n_out; o++) acc[o] = init;
    reduce_walk_init(&w, &x->shape, p->mask);
    for (int64_t r = 0; r < w.rows; r++, reduce_walk_next(&w)) {
        for (int64_t j = 0; j < w.inner; j++) {
            int64_t o = w.out_off + j * w.ostep;
            double v = load_f(x, r * w.inner + j), *a = &acc[o];
            switch (p->kind) {
            case R_MAX: if (v > *a || isnan(v)) *a = v; break;
            case R_MIN: if (v < *a || isnan(v)) *a = v; break;
            case R_PROD: *a *= v; break;
            case R_SUM_SQUARE: case R_L2: *a += v * v; break;
            case R_L1: *a += fabs(v); break;
            case R_LOG_SUM_EXP: *a += exp(v - shift[o]); break;
            default: *a += v; break;
            }
        }
    }
    for (int64_t o = 0; o < n_out; o++) {
        double v = acc[o];
        switch (p->kind) {
        case R_MEAN: v /= (double)count; break;
        case R_L2: v = sqrt(v); break;
        case R_LOG_SUM: v = log(v); break;
        case R_LOG_SUM_EXP: v = log(v) + shift[o]; break;
        default: break;
        }
        store_f(y, o, v);
    }
    free(acc);
    free(shift);
    return FT_OK;
}

static int64_t load_i(const ft_tensor *t, int64_t i)
{
    return t->dtype == FT_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

/* Integer sums and products wrap modulo 2^64 (then to the element type), as numpy's do. */
static int reduce_run_int(ft_op_ctx *ctx, const reduce_plan *p)
{
    const ft_tensor *x = ctx->in[0];
    ft_tensor *y = ctx->out[0];
    int64_t n_out = ft_shape_numel(&p->out);
    int64_t *acc = malloc((size_t)(n_out > 0 ? n_out : 1) * sizeof *acc);
    if (!acc) return ft_op_fail(ctx, FT_ERR_NOMEM, "out of memory for %lld accumulators", (long long)n_out);
    int64_t init = p->kind == R_MAX ? INT64_MIN : p->kind == R_MIN ? INT64_MAX : p->kind == R_PROD ? 1 : 0;
    if (x->dtype == FT_INT32 && p->kind == R_MAX) init = INT32_MIN;
    if (x->dtype == FT_INT32 && p->kind == R_MIN) init = INT32_MAX;
    for (int64_t o = 0; o < n_out; o++) acc[o] = init;
    reduce_walk w;
    reduce_walk_init(&w, &x->shape, p->mask);
    for (int64_t r = 0; r < w.rows; r++, reduce_walk_next(&w)) {
        for (int64_t j = 0; j < w.inner; j++) {
            int64_t v = load_i(x, r * w.inner + j), *a = &acc[w.out_off + j * w.ostep];
            switch (p->kind) {
            case R_MAX: if (v > *a) *a = v; break;
            case R_MIN: if (v < *a) *a = v; break;
            case R_PROD: *a = (int64_t)((uint64_t)*a * (uint64_t)v); break;
            default: *a = (int64_t)((uint64_t)*a + (uint64_t)v); break;
            }
        }
    }
    for (int64_t o = 0; o < n_out; o++) {
        if (y->dtype == FT_INT64) ((int64_t *)y->data)[o] = acc[o];
        else ((int32_t *)y->data)[o] = (int32_t)acc[o];
    }
    free(acc);
    return FT_OK;
}

static int reduce_run(ft_op_ctx *ctx)
{
    reduce_plan p;
    int rc = reduce_plan_make(ctx, &p);
    if (rc != FT_OK) return rc;
    if (p.noop) {
        memcpy(ctx->out[0]->data, ctx->in[0]->data, ft_tensor_nbytes(ctx->in[0]));
        return FT_OK;
    }
    if (ctx->in[0]->dtype == FT_FLOAT || ctx->in[0]->dtype == FT_DOUBLE) return reduce_run_float(ctx, &p);
    return reduce_run_int(ctx, &p);
}

/* ---- Softmax, LogSoftmax ---------------------------------------------------------------------- */

/* The input seen as [outer, n, inner], normalised along n. Before opset 13 the input is coerced to
 * 2-D at axis (default 1), so n spans every axis from axis on and inner is 1; from 13 on n is the
 * single axis (default -1). */
typedef struct softmax_dims {
    int64_t outer, n, inner;
} softmax_dims;

static int softmax_dims_make(const ft_op_ctx *ctx, softmax_dims *s)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    const ft_shape *sh = &ctx->in[0]->shape;
    int old = ctx->node->opset < 13, axis;
    int64_t a = ft_attr_int(ctx->node, "axis", old ? 1 : -1);
    if (sh->rank < 1 || ft_normalize_axis(a, sh->rank, 0, &axis) != 0)
        return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is out of range for rank %d", (long long)a, sh->rank);
    s->outer = s->n = s->inner = 1;
    for (int d = 0; d < sh->rank; d++) {
        if (d < axis) s->outer *= sh->dims[d];
        else if (d == axis || old) s->n *= sh->dims[d];
        else s->inner *= sh->dims[d];
    }
    return FT_OK;
}

static int softmax_infer(ft_op_ctx *ctx)
{
    softmax_dims s;
    int rc = softmax_dims_make(ctx, &s);
    if (rc != FT_OK) return rc;
    ft_dtype t = ctx->in[0]->dtype;
    if (t != FT_FLOAT && t != FT_DOUBLE)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(t));
    ctx->out[0]->dtype = t;
    ctx->out[0]->shape = ctx->in[0]->shape;
    return FT_OK;
}

/* Subtracting the maximum keeps exp from overflowing; sums are in double. */
static int softmax_common(ft_op_ctx *ctx, int log_out)
{
    softmax_dims s;
    int rc = softmax_dims_make(ctx, &s);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    ft_tensor *y = ctx->out[0];
    for (int64_t o = 0; o < s.outer; o++) {
        for (int64_t i = 0; i < s.inner; i++) {
            int64_t base = o * s.n * s.inner + i;
            double mx = -INFINITY, sum = 0.0;
            for (int64_t k = 0; k < s.n; k++) {
                double v = load_f(x, base + k * s.inner);
                if (v > mx) mx = v;
            }
            for (int64_t k = 0; k < s.n; k++) sum += exp(load_f(x, base + k * s.inner) - mx);
            double log_sum = log(sum);
            for (int64_t k = 0; k < s.n; k++) {
                double d = load_f(x, base + k * s.inner) - mx;
                store_f(y, base + k * s.inner, log_out ? d - log_sum : exp(d) / sum);
            }
        }
    }
    return FT_OK;
}

static int softmax_run(ft_op_ctx *ctx)
{
    return softmax_common(ctx, 0);
}

static int log_softmax_run(ft_op_ctx *ctx)
{
    return softmax_common(ctx, 1);
}

/* ---- LayerNormalization (opset 17) ------------------------------------------------------------ */

/* Checks that a scale or bias broadcasts onto X and varies only along the normalised axes, the
 * case where it can be expanded once into one block of the normalised size. */
static int layer_norm_check_param(const ft_op_ctx *ctx, const ft_tensor *p, int axis)
{
    char sp[96], sx[96];
    const ft_shape *xs = &ctx->in[0]->shape;
    if (p->dtype != ctx->in[0]->dtype)
        return ft_op_fail(ctx, FT_ERR_INPUT, "'%s' is %s but X is %s", p->name, ft_dtype_name(p->dtype),
                          ft_dtype_name(ctx->in[0]->dtype));
    if (p->shape.rank > xs->rank)
        return ft_op_fail(ctx, FT_ERR_INPUT, "'%s' has shape %s, more axes than X %s", p->name,
                          ft_shape_str(&p->shape, sp, sizeof sp), ft_shape_str(xs, sx, sizeof sx));
    for (int d = 0; d < p->shape.rank; d++) {
        int xd = d + xs->rank - p->shape.rank;
        int64_t pd = p->shape.dims[d];
        if (pd != 1 && pd != xs->dims[xd])
            return ft_op_fail(ctx, FT_ERR_INPUT, "'%s' of shape %s does not broadcast onto X %s", p->name,
                              ft_shape_str(&p->shape, sp, sizeof sp), ft_shape_str(xs, sx, sizeof sx));
        if (pd != 1 && xd < axis)
            return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "'%s' of shape %s varies along axis %d, outside the normalised axes",
                              p->name, ft_shape_str(&p->shape, sp, sizeof sp), xd);
    }
    return FT_OK;
}

static int layer_norm_axis(const ft_op_ctx *ctx, int *axis)
{
    int rc = ft_op_require_inputs(ctx, 2);
    if (rc != FT_OK) return rc;
    int64_t a = ft_attr_int(ctx->node, "axis", -1);
    int rank = ctx->in[0]->shape.rank;
    if (ft_normalize_axis(a, rank, 0, axis) != 0)
        return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is out of range for rank %d", (long long)a, rank);
    return FT_OK;
}

static int layer_norm_infer(ft_op_ctx *ctx)
{
    int axis, rc = layer_norm_axis(ctx, &axis);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    if (x->dtype != FT_FLOAT && x->dtype != FT_DOUBLE)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(x->dtype));
    for (int k = 1; k < 3; k++) {
        const ft_tensor *p = ft_op_in(ctx, k);
        if (p && (rc = layer_norm_check_param(ctx, p, axis)) != FT_OK) return rc;
    }
    ctx->out[0]->dtype = x->dtype;
    ctx->out[0]->shape = x->shape;
    for (int k = 1; k < 3; k++) {
        ft_tensor *o = ft_op_out(ctx, k);
        if (!o) continue;
        o->dtype = FT_FLOAT; /* stash_type: the only type the opset allows besides bfloat16 */
        o->shape = x->shape;
        for (int d = axis; d < x->shape.rank; d++) o->shape.dims[d] = 1;
    }
    return FT_OK;
}

/* Expands scale or bias (checked by layer_norm_check_param) into n values for one normalised block. */
static void layer_norm_expand(const ft_tensor *p, const ft_shape *xs, int axis, double *blk, int64_t n)
{
    int64_t pst[FT_MAX_RANK];
    ft_shape_strides(&p->shape, pst);
    for (int64_t b = 0; b < n; b++) {
        int64_t rem = b, off = 0;
        for (int xd = xs->rank - 1; xd >= axis; xd--) {
            int64_t i = rem % xs->dims[xd];
            rem /= xs->dims[xd];
            int pd = xd - (xs->rank - p->shape.rank);
            if (pd >= 0 && p->shape.dims[pd] != 1) off += i * pst[pd];
        }
        blk[b] = load_f(p, off);
    }
}

static int layer_norm_run(ft_op_ctx *ctx)
{
    int axis, rc = layer_norm_axis(ctx, &axis);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0], *scale = ctx->in[1], *bias = ft_op_in(ctx, 2);
    ft_tensor *y = ctx->out[0], *mean_out = ft_op_out(ctx, 1), *inv_out = ft_op_out(ctx, 2);
    double eps = ft_attr_float(ctx->node, "epsilon", 1e-5f);
    int64_t n = 1, outer = 1;
    for (int d = 0; d < x->shape.rank; d++) {
        if (d < axis) outer *= x->shape.dims[d];
        else n *= x->shape.dims[d];
    }
    double *sc = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof *sc);
    if (!sc) return ft_op_fail(ctx, FT_ERR_NOMEM, "out of memory for a block of %lld", (long long)n);
    double *bi = sc + n;
    layer_norm_expand(scale, &x->shape, axis, sc, n);
    if (bias) layer_norm_expand(bias, &x->shape, axis, bi, n);
    else
        for (int64_t b = 0; b < n; b++) bi[b] = 0.0;
    for (int64_t o = 0; o < outer; o++) {
        int64_t base = o * n;
        double sum = 0.0, sq = 0.0;
        for (int64_t b = 0; b < n; b++) sum += load_f(x, base + b);
        double mean = sum / (double)n;
        for (int64_t b = 0; b < n; b++) {
            double d = load_f(x, base + b) - mean;
            sq += d * d;
        }
        double inv = 1.0 / sqrt(sq / (double)n + eps);
        for (int64_t b = 0; b < n; b++) store_f(y, base + b, (load_f(x, base + b) - mean) * inv * sc[b] + bi[b]);
        if (mean_out) ((float *)mean_out->data)[o] = (float)mean;
        if (inv_out) ((float *)inv_out->data)[o] = (float)inv;
    }
    free(sc);
    return FT_OK;
}

/* ---- BatchNormalization, inference mode ------------------------------------------------------- */

static int batch_norm_infer(ft_op_ctx *ctx)
{
    char sx[96];
    int rc = ft_op_require_inputs(ctx, 5);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    if (ft_attr_int(ctx->node, "training_mode", 0))
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "training_mode=1 is not supported (inference only)");
    if (ctx->node->opset < 9 && ft_attr_int(ctx->node, "spatial", 1) == 0)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "spatial=0 is not supported");
    for (int k = 1; k < ctx->n_out; k++)
        if (ft_op_out(ctx, k))
            return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "output %d (running statistics) exists only in training", k);
    if (x->dtype != FT_FLOAT && x->dtype != FT_DOUBLE)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(x->dtype));
    if (x->shape.rank < 2)
        return ft_op_fail(ctx, FT_ERR_INPUT, "X '%s' has shape %s, rank below 2", x->name,
                          ft_shape_str(&x->shape, sx, sizeof sx));
    static const char *const role[5] = {"X", "scale", "B", "input_mean", "input_var"};
    for (int k = 1; k < 5; k++) {
        const ft_tensor *p = ctx->in[k];
        if (p->dtype != x->dtype)
            return ft_op_fail(ctx, FT_ERR_INPUT, "%s '%s' is %s but X is %s", role[k], p->name,
                              ft_dtype_name(p->dtype), ft_dtype_name(x->dtype));
        if (p->shape.rank != 1 || p->shape.dims[0] != x->shape.dims[1])
            return ft_op_fail(ctx, FT_ERR_INPUT, "%s '%s' has shape %s, not [%lld]", role[k], p->name,
                              ft_shape_str(&p->shape, sx, sizeof sx), (long long)x->shape.dims[1]);
    }
    ctx->out[0]->dtype = x->dtype;
    ctx->out[0]->shape = x->shape;
    return FT_OK;
}

static int batch_norm_run(ft_op_ctx *ctx)
{
    const ft_tensor *x = ctx->in[0];
    ft_tensor *y = ctx->out[0];
    double eps = ft_attr_float(ctx->node, "epsilon", 1e-5f);
    int64_t n = x->shape.dims[0], c = x->shape.dims[1], spatial = 1;
    for (int d = 2; d < x->shape.rank; d++) spatial *= x->shape.dims[d];
    for (int64_t ch = 0; ch < c; ch++) {
        double scale = load_f(ctx->in[1], ch), bias = load_f(ctx->in[2], ch), mean = load_f(ctx->in[3], ch);
        double inv = 1.0 / sqrt(load_f(ctx->in[4], ch) + eps);
        for (int64_t b = 0; b < n; b++) {
            int64_t base = (b * c + ch) * spatial;
            for (int64_t i = 0; i < spatial; i++)
                store_f(y, base + i, (load_f(x, base + i) - mean) * inv * scale + bias);
        }
    }
    return FT_OK;
}

/* ---- the table ---------------------------------------------------------------------------------- */

const ft_op_def ft_ops_reduce[] = {
    {"ReduceSum", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceMean", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceMax", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceMin", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceProd", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceSumSquare", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceL1", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceL2", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceLogSum", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"ReduceLogSumExp", 1, 2, 1, 1, 0, reduce_infer, reduce_run},
    {"Softmax", 1, 1, 1, 1, 0, softmax_infer, softmax_run},
    {"LogSoftmax", 1, 1, 1, 1, 0, softmax_infer, log_softmax_run},
    {"LayerNormalization", 2, 3, 1, 3, 0, layer_norm_infer, layer_norm_run},
    {"BatchNormalization", 5, 5, 1, 5, 0, batch_norm_infer, batch_norm_run},
    {0},
};
