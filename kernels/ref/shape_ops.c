/* shape_ops.c - reference data movement, shape producers (Shape, ConstantOfShape, Range) and views.
 * Data movement is Transpose, Gather, Concat, Split, Slice, Expand and Pad; the views are Reshape,
 * Flatten, Squeeze, Unsqueeze, Identity and Dropout. Dtype-agnostic ops move ft_dtype_size bytes. */
#include "op_util.h"

#include <math.h>
#include <string.h>

/* Split may have as many outputs as the executor allows a node (32); keep headroom. */
#define MAX_SPLIT 64

/* Copies a box of `box` elements from src to dst, both addressed by element offsets and strides
 * (strides may be 0 for broadcast or negative for reversed slices). */
static void copy_box(void *dst, int64_t doff, const int64_t *dstride, const void *src, int64_t soff,
                     const int64_t *sstride, const ft_shape *box, size_t es)
{
    int r = box->rank;
    int64_t n = ft_shape_numel(box);
    if (n <= 0) return;
    if (r == 0) {
        memcpy((char *)dst + doff * (int64_t)es, (const char *)src + soff * (int64_t)es, es);
        return;
    }
    int64_t len = box->dims[r - 1], ds = dstride[r - 1], ss = sstride[r - 1], rows = n / len;
    int64_t idx[FT_MAX_RANK] = {0};
    for (int64_t row = 0; row < rows; row++) {
        char *d = (char *)dst + doff * (int64_t)es;
        const char *s = (const char *)src + soff * (int64_t)es;
        /* memcpy of a constant 4 or 8 bytes compiles to one move and keeps typed data unaliased. */
        if (ds == 1 && ss == 1) memcpy(d, s, (size_t)len * es);
        else if (es == 4)
            for (int64_t j = 0; j < len; j++) memcpy(d + j * ds * 4, s + j * ss * 4, 4);
        else if (es == 8)
            for (int64_t j = 0; j < len; j++) memcpy(d + j * ds * 8, s + j * ss * 8, 8);
        else
            for (int64_t j = 0; j < len; j++) memcpy(d + j * ds * (int64_t)es, s + j * ss * (int64_t)es, es);
        for (int i = r - 2; i >= 0; i--) {
            doff += dstride[i];
            soff += sstride[i];
            if (++idx[i] < box->dims[i]) break;
            doff -= dstride[i] * box->dims[i];
            soff -= sstride[i] * box->dims[i];
            idx[i] = 0;
        }
    }
}

/* Fails unless the output shape's element count is sane; for ops whose outputs come from values. */
static int check_numel(const ft_op_ctx *ctx, const ft_shape *s)
{
    char sb[160];
    if (ft_shape_numel(s) < 0)
        return ft_op_fail(ctx, FT_ERR_INPUT, "output shape %s is negative or has more than %lld elements",
                          ft_shape_str(s, sb, sizeof sb), (long long)FT_MAX_NUMEL);
    return FT_OK;
}

/* Normalises axes against rank, refusing out-of-range and repeated ones. */
static int norm_axes(const ft_op_ctx *ctx, const int64_t *axes, int n, int rank, int allow_end, int *out)
{
    for (int i = 0; i < n; i++) {
        if (ft_normalize_axis(axes[i], rank, allow_end, &out[i]) != 0)
            return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is out of range for rank %d", (long long)axes[i],
                              rank + (allow_end ? 1 : 0));
        for (int j = 0; j < i; j++)
            if (out[j] == out[i]) return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is repeated", (long long)axes[i]);
    }
    return FT_OK;
}

/* Reads a list of ints that moved from an attribute to input `in_idx` at opset `input_from`. *n is
 * -1 when neither is given. */
static int attr_or_input(const ft_op_ctx *ctx, const char *name, int input_from, int in_idx, int64_t *vals, int max_n,
                         int *n)
{
    if (ctx->node->opset >= input_from) return ft_op_const_ints(ctx, in_idx, name, 0, vals, max_n, n);
    const int64_t *a;
    *n = ft_attr_ints(ctx->node, name, &a);
    if (*n > max_n) return ft_op_fail(ctx, FT_ERR_INPUT, "attribute %s has %d values, more than %d", name, *n, max_n);
    if (*n > 0) memcpy(vals, a, (size_t)*n * sizeof *vals);
    return FT_OK;
}

static int64_t prod(const int64_t *d, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++) p *= d[i];
    return p;
}

/* Output 0 of a view: the input's dtype with a new shape. */
static int set_view(ft_op_ctx *ctx, const ft_shape *s)
{
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    ctx->out[0]->shape = *s;
    return FT_OK;
}

/* ---- views ---- */

static int reshape_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, ctx->node->opset >= 5 ? 2 : 1);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    int64_t shp[FT_MAX_RANK + 1];
    int n;
    if ((rc = attr_or_input(ctx, "shape", 5, 1, shp, FT_MAX_RANK, &n)) != FT_OK) return rc;
    if (n < 0) return ft_op_fail(ctx, FT_ERR_INPUT, "attribute shape is required before opset 5");
    int allowzero = ctx->node->opset >= 14 && ft_attr_int(ctx->node, "allowzero", 0) != 0;
    ft_shape s = {n, {0}};
    int infer_at = -1;
    int64_t known = 1, total = ft_shape_numel(&x->shape);
    char sa[96], sb[96];
    for (int i = 0; i < n; i++) {
        int64_t v = shp[i];
        if (v == 0 && !allowzero) {
            if (i >= x->shape.rank)
                return ft_op_fail(ctx, FT_ERR_INPUT, "shape[%d] = 0 copies a dim that input %s does not have", i,
                                  ft_shape_str(&x->shape, sa, sizeof sa));
            v = x->shape.dims[i];
        }
        if (v == -1) {
            if (infer_at >= 0) return ft_op_fail(ctx, FT_ERR_INPUT, "shape has more than one -1");
            infer_at = i;
            continue;
        }
        if (v < 0 || v > FT_MAX_NUMEL || (known > 0 && v > FT_MAX_NUMEL / known))
            return ft_op_fail(ctx, FT_ERR_INPUT, "shape[%d] = %lld is invalid", i, (long long)shp[i]);
        s.dims[i] = v;
        known *= v;
    }
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
            return ft_op_fail(ctx, FT_ERR_INPUT, "cannot infer the -1 of the new shape from input %s",
                              ft_shape_str(&x->shape, sa, sizeof sa));
        s.dims[infer_at] = total / known;
        known = total;
    }
    if (known != total) {
        for (int i = 0; i < n; i++) s.dims[i] = shp[i];
        return ft_op_fail(ctx, FT_ERR_INPUT, "input %s cannot be reshaped to %s",
                          ft_shape_str(&x->shape, sa, sizeof sa), ft_shape_str(&s, sb, sizeof sb));
    }
    return set_view(ctx, &s);
}

static int flatten_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    const ft_shape *x = &ctx->in[0]->shape;
    int64_t axis = ft_attr_int(ctx->node, "axis", 1);
    /* Unlike Unsqueeze's, a negative axis counts from rank, not rank + 1: -1 keeps the last dim. */
    int64_t ax = axis < 0 ? axis + x->rank : axis;
    if (ax < 0 || ax > x->rank)
        return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    ft_shape s = {2, {prod(x->dims, 0, (int)ax), prod(x->dims, (int)ax, x->rank)}};
    return set_view(ctx, &s);
}

static int squeeze_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    const ft_shape *x = &ctx->in[0]->shape;
    int64_t axes[FT_MAX_RANK + 1];
    int n, ax[FT_MAX_RANK + 1];
    char sb[96];
    if ((rc = attr_or_input(ctx, "axes", 13, 1, axes, FT_MAX_RANK, &n)) != FT_OK) return rc;
    if ((rc = norm_axes(ctx, axes, n < 0 ? 0 : n, x->rank, 0, ax)) != FT_OK) return rc;
    int drop[FT_MAX_RANK] = {0};
    /* An empty axes input squeezes every 1, as an absent one does (ONNX Runtime agrees). */
    if (n <= 0) {
        for (int i = 0; i < x->rank; i++) drop[i] = x->dims[i] == 1;
    } else {
        for (int i = 0; i < n; i++) {
            if (x->dims[ax[i]] != 1)
                return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld of input %s is not 1", (long long)axes[i],
                                  ft_shape_str(x, sb, sizeof sb));
            drop[ax[i]] = 1;
        }
    }
    ft_shape s = {0, {0}};
    for (int i = 0; i < x->rank; i++)
        if (!drop[i]) s.dims[s.rank++] = x->dims[i];
    return set_view(ctx, &s);
}

static int unsqueeze_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, ctx->node->opset >= 13 ? 2 : 1);
    if (rc != FT_OK) return rc;
    const ft_shape *x = &ctx->in[0]->shape;
    int64_t axes[FT_MAX_RANK + 1];
    int n, ax[FT_MAX_RANK + 1];
    if ((rc = attr_or_input(ctx, "axes", 13, 1, axes, FT_MAX_RANK, &n)) != FT_OK) return rc;
    if (n < 0) return ft_op_fail(ctx, FT_ERR_INPUT, "attribute axes is required");
    int r = x->rank + n;
    if (r > FT_MAX_RANK)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "output rank %d exceeds the supported %d", r, FT_MAX_RANK);
    if ((rc = norm_axes(ctx, axes, n, r, 0, ax)) != FT_OK) return rc;
    int ins[FT_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) ins[ax[i]] = 1;
    ft_shape s = {r, {0}};
    for (int i = 0, j = 0; i < r; i++) s.dims[i] = ins[i] ? 1 : x->dims[j++];
    return set_view(ctx, &s);
}

static int identity_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    return set_view(ctx, &ctx->in[0]->shape);
}

static int dropout_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    if (ft_op_out(ctx, 1))
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "the mask output '%s' is not supported", ctx->out[1]->name);
    /* Before opset 7 the default was training mode (random masking), which fluidtune does not do. */
    if (ctx->node->opset < 7 && ft_attr_int(ctx->node, "is_test", 0) == 0)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "training mode (is_test=0) is not supported");
    /* A training_mode fed at run time could switch masking on, so only a constant false passes. */
    const ft_tensor *tm = ctx->node->opset >= 12 ? ft_op_in(ctx, 2) : NULL;
    if (tm && (!(tm->flags & FT_T_CONST) || !tm->data))
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "training_mode '%s' is not constant; only inference is supported",
                          tm->name);
    if (tm && ft_shape_numel(&tm->shape) != 1)
        return ft_op_fail(ctx, FT_ERR_INPUT, "training_mode '%s' is not a scalar", tm->name);
    if (tm && ft_tensor_get_i64(tm, 0))
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "training_mode '%s' is true; only inference is supported",
                          tm->name);
    return set_view(ctx, &ctx->in[0]->shape);
}

/* ---- Shape, ConstantOfShape, Range ---- */

static void shape_range(const ft_op_ctx *ctx, int64_t *start, int64_t *end)
{
    int64_t r = ctx->in[0]->shape.rank;
    int64_t s = ctx->node->opset >= 15 ? ft_attr_int(ctx->node, "start", 0) : 0;
    int64_t e = ctx->node->opset >= 15 ? ft_attr_int(ctx->node, "end", r) : r;
    if (s < 0) s += r;
    if (e < 0) e += r;
    *start = s < 0 ? 0 : s > r ? r : s;
    *end = e < 0 ? 0 : e > r ? r : e;
}

static int shape_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    int64_t s, e;
    shape_range(ctx, &s, &e);
    ctx->out[0]->dtype = FT_INT64;
    ctx->out[0]->shape.rank = 1;
    ctx->out[0]->shape.dims[0] = e > s ? e - s : 0;
    return FT_OK;
}

static int shape_run(ft_op_ctx *ctx)
{
    int64_t s, e;
    shape_range(ctx, &s, &e);
    int64_t *y = ctx->out[0]->data;
    for (int64_t i = s; i < e; i++) y[i - s] = ctx->in[0]->shape.dims[i];
    return FT_OK;
}

/* The one-element value tensor of ConstantOfShape, or NULL for the default float 0. */
static int cos_value(const ft_op_ctx *ctx, const ft_tensor **v)
{
    const ft_attr *a = ft_node_attr(ctx->node, "value");
    *v = NULL;
    if (!a) return FT_OK;
    if (a->type != FT_ATTR_TENSOR || !a->t || !a->t->data || ft_shape_numel(&a->t->shape) != 1)
        return ft_op_fail(ctx, FT_ERR_INPUT, "attribute value must be a tensor of one element");
    if (ft_dtype_size(a->t->dtype) == 0)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "value of type %s is not supported", ft_dtype_name(a->t->dtype));
    *v = a->t;
    return FT_OK;
}

static int constantofshape_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    const ft_tensor *v;
    int64_t dims[FT_MAX_RANK + 1];
    int n;
    if ((rc = cos_value(ctx, &v)) != FT_OK) return rc;
    if ((rc = ft_op_const_ints(ctx, 0, "shape", 1, dims, FT_MAX_RANK, &n)) != FT_OK) return rc;
    ft_shape s = {n, {0}};
    memcpy(s.dims, dims, (size_t)n * sizeof dims[0]);
    if ((rc = check_numel(ctx, &s)) != FT_OK) return rc;
    ctx->out[0]->dtype = v ? v->dtype : FT_FLOAT;
    ctx->out[0]->shape = s;
    return FT_OK;
}

static int constantofshape_run(ft_op_ctx *ctx)
{
    const ft_tensor *v;
    int rc = cos_value(ctx, &v);
    if (rc != FT_OK) return rc;
    int64_t n = ft_shape_numel(&ctx->out[0]->shape);
    if (!v) {
        memset(ctx->out[0]->data, 0, (size_t)n * sizeof(float));
        return FT_OK;
    }
    size_t es = ft_dtype_size(v->dtype);
    for (int64_t i = 0; i < n; i++) memcpy((char *)ctx->out[0]->data + i * (int64_t)es, v->data, es);
    return FT_OK;
}

static int range_is_float(ft_dtype t)
{
    return t == FT_FLOAT || t == FT_DOUBLE;
}

static int range_count(const ft_op_ctx *ctx, int64_t *count)
{
    const char *names[3] = {"start", "limit", "delta"};
    ft_dtype dt = ctx->in[0]->dtype;
    for (int i = 0; i < 3; i++) {
        const ft_tensor *t = ctx->in[i];
        if (!(t->flags & FT_T_CONST) || !t->data)
            return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "%s input '%s' is not constant", names[i], t->name);
        if (t->dtype != dt)
            return ft_op_fail(ctx, FT_ERR_INPUT, "%s input '%s' is %s, start is %s", names[i], t->name,
                              ft_dtype_name(t->dtype), ft_dtype_name(dt));
        if (ft_shape_numel(&t->shape) != 1)
            return ft_op_fail(ctx, FT_ERR_INPUT, "%s input '%s' is not a scalar", names[i], t->name);
    }
    if (!range_is_float(dt) && dt != FT_INT16 && dt != FT_INT32 && dt != FT_INT64)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(dt));
    double n;
    if (range_is_float(dt)) {
        double s = ft_tensor_get_f64(ctx->in[0], 0), l = ft_tensor_get_f64(ctx->in[1], 0);
        double d = ft_tensor_get_f64(ctx->in[2], 0);
        if (d == 0 || !isfinite(s) || !isfinite(l) || !isfinite(d))
            return ft_op_fail(ctx, FT_ERR_INPUT, "start %g, limit %g and delta %g do not make a range", s, l, d);
        n = ceil((l - s) / d);
    } else {
        int64_t s = ft_tensor_get_i64(ctx->in[0], 0), l = ft_tensor_get_i64(ctx->in[1], 0);
        int64_t d = ft_tensor_get_i64(ctx->in[2], 0);
        if (d == 0) return ft_op_fail(ctx, FT_ERR_INPUT, "delta is 0");
        /* Unsigned differences stay exact across the whole int64 range. */
        if (d > 0) n = l > s ? (double)(((uint64_t)l - (uint64_t)s - 1) / (uint64_t)d + 1) : 0;
        else n = s > l ? (double)(((uint64_t)s - (uint64_t)l - 1) / (0 - (uint64_t)d) + 1) : 0;
    }
    if (n < 0) n = 0;
    if (n > (double)FT_MAX_NUMEL)
        return ft_op_fail(ctx, FT_ERR_INPUT, "the range would have %.0f elements, more than %lld", n,
                          (long long)FT_MAX_NUMEL);
    *count = (int64_t)n;
    return FT_OK;
}

static int range_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 3);
    if (rc != FT_OK) return rc;
    int64_t n;
    if ((rc = range_count(ctx, &n)) != FT_OK) return rc;
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    ctx->out[0]->shape.rank = 1;
    ctx->out[0]->shape.dims[0] = n;
    return FT_OK;
}

static int range_run(ft_op_ctx *ctx)
{
    int64_t n;
    int rc = range_count(ctx, &n);
    if (rc != FT_OK) return rc;
    void *y = ctx->out[0]->data;
    switch (ctx->out[0]->dtype) {
    case FT_FLOAT: {
        float s = *(const float *)ctx->in[0]->data, d = *(const float *)ctx->in[2]->data;
        for (int64_t i = 0; i < n; i++) ((float *)y)[i] = (float)((double)s + (double)i * (double)d);
        break;
    }
    case FT_DOUBLE: {
        double s = *(const double *)ctx->in[0]->data, d = *(const double *)ctx->in[2]->data;
        for (int64_t i = 0; i < n; i++) ((double *)y)[i] = s + (double)i * d;
        break;
    }
    default: {
        uint64_t s = (uint64_t)ft_tensor_get_i64(ctx->in[0], 0), d = (uint64_t)ft_tensor_get_i64(ctx->in[2], 0);
        for (int64_t i = 0; i < n; i++) {
            int64_t v = (int64_t)(s + (uint64_t)i * d);
            if (ctx->out[0]->dtype == FT_INT64) ((int64_t *)y)[i] = v;
            else if (ctx->out[0]->dtype == FT_INT32) ((int32_t *)y)[i] = (int32_t)v;
            else ((int16_t *)y)[i] = (int16_t)v;
        }
    }
    }
    return FT_OK;
}

/* ---- Transpose ---- */

static int transpose_perm(const ft_op_ctx *ctx, int *perm)
{
    int r = ctx->in[0]->shape.rank;
    const int64_t *p;
    int n = ft_attr_ints(ctx->node, "perm", &p);
    if (n < 0) {
        for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        return FT_OK;
    }
    if (n != r) return ft_op_fail(ctx, FT_ERR_INPUT, "perm has %d values for an input of rank %d", n, r);
    int seen[FT_MAX_RANK] = {0};
    for (int i = 0; i < r; i++) {
        if (p[i] < 0 || p[i] >= r || seen[p[i]])
            return ft_op_fail(ctx, FT_ERR_INPUT, "perm is not a permutation of 0..%d", r - 1);
        seen[p[i]] = 1;
        perm[i] = (int)p[i];
    }
    return FT_OK;
}

static int transpose_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    int perm[FT_MAX_RANK];
    if ((rc = ft_op_check_sized(ctx, ctx->in[0])) != FT_OK) return rc;
    if ((rc = transpose_perm(ctx, perm)) != FT_OK) return rc;
    const ft_shape *x = &ctx->in[0]->shape;
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    ctx->out[0]->shape.rank = x->rank;
    for (int i = 0; i < x->rank; i++) ctx->out[0]->shape.dims[i] = x->dims[perm[i]];
    return FT_OK;
}

static int transpose_run(ft_op_ctx *ctx)
{
    int perm[FT_MAX_RANK];
    int rc = transpose_perm(ctx, perm);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0], *y = ctx->out[0];
    int64_t xs[FT_MAX_RANK], ys[FT_MAX_RANK], ss[FT_MAX_RANK];
    ft_shape_strides(&x->shape, xs);
    ft_shape_strides(&y->shape, ys);
    for (int i = 0; i < x->shape.rank; i++) ss[i] = xs[perm[i]];
    copy_box(y->data, 0, ys, x->data, 0, ss, &y->shape, ft_dtype_size(x->dtype));
    return FT_OK;
}

/* ---- Gather ---- */

static int gather_axis(const ft_op_ctx *ctx, int *ax)
{
    int64_t axis = ft_attr_int(ctx->node, "axis", 0);
    if (ft_normalize_axis(axis, ctx->in[0]->shape.rank, 0, ax) != 0)
        return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is out of range for rank %d", (long long)axis,
                          ctx->in[0]->shape.rank);
    return FT_OK;
}

/* Checks every index against the axis size; run-time data for a run, constants at infer time. */
static int gather_check_indices(const ft_op_ctx *ctx, int64_t dim)
{
    const ft_tensor *ind = ctx->in[1];
    int64_t n = ft_shape_numel(&ind->shape);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = ft_tensor_get_i64(ind, i);
        if (v < -dim || v >= dim)
            return ft_op_fail(ctx, FT_ERR_INPUT, "index %lld in '%s' is out of range [-%lld, %lld)", (long long)v,
                              ind->name, (long long)dim, (long long)dim);
    }
    return FT_OK;
}

static int gather_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 2);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0], *ind = ctx->in[1];
    int ax;
    if ((rc = ft_op_check_sized(ctx, x)) != FT_OK) return rc;
    if (ind->dtype != FT_INT64 && ind->dtype != FT_INT32)
        return ft_op_fail(ctx, FT_ERR_INPUT, "indices '%s' are %s, not int32 or int64", ind->name,
                          ft_dtype_name(ind->dtype));
    if ((rc = gather_axis(ctx, &ax)) != FT_OK) return rc;
    int r = x->shape.rank - 1 + ind->shape.rank;
    if (r > FT_MAX_RANK)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "output rank %d exceeds the supported %d", r, FT_MAX_RANK);
    if ((ind->flags & FT_T_CONST) && ind->data && (rc = gather_check_indices(ctx, x->shape.dims[ax])) != FT_OK)
        return rc;
    ft_shape *s = &ctx->out[0]->shape;
    s->rank = 0;
    for (int i = 0; i < ax; i++) s->dims[s->rank++] = x->shape.dims[i];
    for (int i = 0; i < ind->shape.rank; i++) s->dims[s->rank++] = ind->shape.dims[i];
    for (int i = ax + 1; i < x->shape.rank; i++) s->dims[s->rank++] = x->shape.dims[i];
    ctx->out[0]->dtype = x->dtype;
    return FT_OK;
}

static int gather_run(ft_op_ctx *ctx)
{
    int ax;
    int rc = gather_axis(ctx, &ax);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0], *ind = ctx->in[1];
    int64_t dim = x->shape.dims[ax];
    if ((rc = gather_check_indices(ctx, dim)) != FT_OK) return rc;
    size_t es = ft_dtype_size(x->dtype);
    int64_t outer = prod(x->shape.dims, 0, ax);
    size_t inner = (size_t)prod(x->shape.dims, ax + 1, x->shape.rank) * es;
    int64_t n = ft_shape_numel(&ind->shape);
    char *y = ctx->out[0]->data;
    const char *xd = x->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n; j++) {
            int64_t v = ft_tensor_get_i64(ind, j);
            if (v < 0) v += dim;
            memcpy(y + (size_t)(o * n + j) * inner, xd + (size_t)(o * dim + v) * inner, inner);
        }
    return FT_OK;
}

/* ---- Concat ---- */

static int concat_axis(const ft_op_ctx *ctx, int *ax)
{
    int r = ctx->in[0]->shape.rank;
    int64_t axis = ft_attr_int(ctx->node, "axis", ctx->node->opset < 4 ? 1 : INT64_MIN);
    if (axis == INT64_MIN) return ft_op_fail(ctx, FT_ERR_INPUT, "attribute axis is required");
    if (r < 1 || ft_normalize_axis(axis, r, 0, ax) != 0)
        return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is out of range for rank %d", (long long)axis, r);
    return FT_OK;
}

static int concat_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, ctx->n_in);
    if (rc != FT_OK) return rc;
    const ft_tensor *x0 = ctx->in[0];
    int ax;
    if ((rc = ft_op_check_sized(ctx, x0)) != FT_OK) return rc;
    if ((rc = concat_axis(ctx, &ax)) != FT_OK) return rc;
    ft_shape s = x0->shape;
    char sa[96], sb[96];
    for (int i = 1; i < ctx->n_in; i++) {
        const ft_tensor *t = ctx->in[i];
        if (t->dtype != x0->dtype)
            return ft_op_fail(ctx, FT_ERR_INPUT, "input '%s' is %s, input '%s' is %s", t->name,
                              ft_dtype_name(t->dtype), x0->name, ft_dtype_name(x0->dtype));
        int fits = t->shape.rank == s.rank;
        for (int d = 0; fits && d < s.rank; d++) fits = d == ax || t->shape.dims[d] == s.dims[d];
        if (!fits)
            return ft_op_fail(ctx, FT_ERR_INPUT, "input '%s' %s does not fit '%s' %s along axis %d", t->name,
                              ft_shape_str(&t->shape, sa, sizeof sa), x0->name,
                              ft_shape_str(&x0->shape, sb, sizeof sb), ax);
        s.dims[ax] += t->shape.dims[ax];
    }
    if ((rc = check_numel(ctx, &s)) != FT_OK) return rc;
    ctx->out[0]->dtype = x0->dtype;
    ctx->out[0]->shape = s;
    return FT_OK;
}

static int concat_run(ft_op_ctx *ctx)
{
    int ax;
    int rc = concat_axis(ctx, &ax);
    if (rc != FT_OK) return rc;
    const ft_shape *ys = &ctx->out[0]->shape;
    size_t es = ft_dtype_size(ctx->in[0]->dtype);
    int64_t outer = prod(ys->dims, 0, ax);
    size_t inner = (size_t)prod(ys->dims, ax + 1, ys->rank) * es;
    char *y = ctx->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int i = 0; i < ctx->n_in; i++) {
            size_t chunk = (size_t)ctx->in[i]->shape.dims[ax] * inner;
            memcpy(y, (const char *)ctx->in[i]->data + (size_t)o * chunk, chunk);
            y += chunk;
        }
    return FT_OK;
}

/* ---- Split ---- */

static int split_plan(const ft_op_ctx *ctx, int *ax, int64_t *sizes)
{
    const ft_tensor *x = ctx->in[0];
    int64_t axis = ft_attr_int(ctx->node, "axis", 0);
    if (ft_normalize_axis(axis, x->shape.rank, 0, ax) != 0)
        return ft_op_fail(ctx, FT_ERR_INPUT, "axis %lld is out of range for rank %d", (long long)axis,
                          x->shape.rank);
    int64_t dim = x->shape.dims[*ax];
    int n, nout = ctx->n_out, rc;
    /* Split-1 took the sizes as an optional second input as well as the attribute. */
    if (ctx->node->opset < 13 && ft_op_in(ctx, 1)) rc = ft_op_const_ints(ctx, 1, "split", 0, sizes, MAX_SPLIT, &n);
    else rc = attr_or_input(ctx, "split", 13, 1, sizes, MAX_SPLIT, &n);
    if (rc != FT_OK) return rc;
    int64_t num = ctx->node->opset >= 18 ? ft_attr_int(ctx->node, "num_outputs", -1) : -1;
    if (n >= 0 && num >= 0)
        return ft_op_fail(ctx, FT_ERR_INPUT, "split and num_outputs are both given");
    if (n >= 0) {
        int64_t sum = 0;
        if (n != nout) return ft_op_fail(ctx, FT_ERR_INPUT, "split has %d sizes for %d outputs", n, nout);
        for (int i = 0; i < n; i++) {
            if (sizes[i] < 0 || sizes[i] > dim)
                return ft_op_fail(ctx, FT_ERR_INPUT, "split size %lld is invalid", (long long)sizes[i]);
            sum += sizes[i];
        }
        if (sum != dim)
            return ft_op_fail(ctx, FT_ERR_INPUT, "split sizes add up to %lld, the axis has %lld", (long long)sum,
                              (long long)dim);
        return FT_OK;
    }
    if (num >= 0 && num != nout)
        return ft_op_fail(ctx, FT_ERR_INPUT, "num_outputs is %lld but the node has %d outputs", (long long)num, nout);
    /* num_outputs (opset 18) lets the last part be smaller; without it the parts must be equal. */
    int64_t part = num >= 0 ? (dim + nout - 1) / nout : dim / nout;
    if ((num < 0 && dim % nout != 0) || part * (nout - 1) > dim)
        return ft_op_fail(ctx, FT_ERR_INPUT, "an axis of %lld does not split into %d parts", (long long)dim, nout);
    for (int i = 0; i < nout; i++) sizes[i] = i < nout - 1 ? part : dim - part * (nout - 1);
    return FT_OK;
}

static int split_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    int ax;
    int64_t sizes[MAX_SPLIT];
    if ((rc = ft_op_check_sized(ctx, ctx->in[0])) != FT_OK) return rc;
    if (ctx->n_out > MAX_SPLIT) return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "more than %d outputs", MAX_SPLIT);
    if ((rc = split_plan(ctx, &ax, sizes)) != FT_OK) return rc;
    for (int i = 0; i < ctx->n_out; i++) {
        if (!ctx->out[i]) continue;
        ctx->out[i]->dtype = ctx->in[0]->dtype;
        ctx->out[i]->shape = ctx->in[0]->shape;
        ctx->out[i]->shape.dims[ax] = sizes[i];
    }
    return FT_OK;
}

static int split_run(ft_op_ctx *ctx)
{
    int ax;
    int64_t sizes[MAX_SPLIT];
    int rc = split_plan(ctx, &ax, sizes);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    size_t es = ft_dtype_size(x->dtype);
    int64_t outer = prod(x->shape.dims, 0, ax);
    size_t inner = (size_t)prod(x->shape.dims, ax + 1, x->shape.rank) * es;
    const char *src = x->data;
    for (int64_t o = 0; o < outer; o++)
        for (int i = 0; i < ctx->n_out; i++) {
            size_t chunk = (size_t)sizes[i] * inner;
            if (ctx->out[i]) memcpy((char *)ctx->out[i]->data + (size_t)o * chunk, src, chunk);
            src += chunk;
        }
    return FT_OK;
}

/* ---- Slice ---- */

/* Per input dim: the first element taken and the step, and the output shape. */
static int slice_plan(const ft_op_ctx *ctx, int64_t *first, int64_t *step, ft_shape *out)
{
    const ft_shape *x = &ctx->in[0]->shape;
    int64_t starts[FT_MAX_RANK + 1], ends[FT_MAX_RANK + 1], axes[FT_MAX_RANK + 1], steps[FT_MAX_RANK + 1];
    int ns, ne, na, nst = -1, rc, ax[FT_MAX_RANK + 1];
    if (ctx->node->opset >= 10) {
        if ((rc = ft_op_const_ints(ctx, 1, "starts", 1, starts, FT_MAX_RANK, &ns)) != FT_OK) return rc;
        if ((rc = ft_op_const_ints(ctx, 2, "ends", 1, ends, FT_MAX_RANK, &ne)) != FT_OK) return rc;
        if ((rc = ft_op_const_ints(ctx, 3, "axes", 0, axes, FT_MAX_RANK, &na)) != FT_OK) return rc;
        if ((rc = ft_op_const_ints(ctx, 4, "steps", 0, steps, FT_MAX_RANK, &nst)) != FT_OK) return rc;
    } else {
        if ((rc = attr_or_input(ctx, "starts", 10, 1, starts, FT_MAX_RANK, &ns)) != FT_OK) return rc;
        if ((rc = attr_or_input(ctx, "ends", 10, 2, ends, FT_MAX_RANK, &ne)) != FT_OK) return rc;
        if ((rc = attr_or_input(ctx, "axes", 10, 3, axes, FT_MAX_RANK, &na)) != FT_OK) return rc;
        if (ns < 0 || ne < 0) return ft_op_fail(ctx, FT_ERR_INPUT, "attributes starts and ends are required");
    }
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return ft_op_fail(ctx, FT_ERR_INPUT, "starts, ends, axes and steps differ in length");
    if (na < 0)
        for (int i = 0; i < ns; i++) axes[i] = i;
    if ((rc = norm_axes(ctx, axes, ns, x->rank, 0, ax)) != FT_OK) return rc;
    *out = *x;
    for (int i = 0; i < x->rank; i++) {
        first[i] = 0;
        step[i] = 1;
    }
    for (int j = 0; j < ns; j++) {
        int64_t d = x->dims[ax[j]], s = starts[j], e = ends[j], k = nst >= 0 ? steps[j] : 1, len;
        if (k == 0) return ft_op_fail(ctx, FT_ERR_INPUT, "step for axis %d is 0", ax[j]);
        if (s < 0) s += d;
        if (e < 0) e += d;
        if (k > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            len = e > s ? (e - s - 1) / k + 1 : 0;
        } else {
            /* Reversed slices stop before -1, so ends clamp to [-1, d-1]. */
            s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            len = s > e ? (int64_t)((uint64_t)(s - e - 1) / (0 - (uint64_t)k)) + 1 : 0;
        }
        first[ax[j]] = len > 0 ? s : 0;
        step[ax[j]] = len > 1 ? k : 1;
        out->dims[ax[j]] = len;
    }
    return FT_OK;
}

static int slice_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, ctx->node->opset >= 10 ? 3 : 1);
    if (rc != FT_OK) return rc;
    int64_t first[FT_MAX_RANK], step[FT_MAX_RANK];
    ft_shape s;
    if ((rc = ft_op_check_sized(ctx, ctx->in[0])) != FT_OK) return rc;
    if ((rc = slice_plan(ctx, first, step, &s)) != FT_OK) return rc;
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    ctx->out[0]->shape = s;
    return FT_OK;
}

static int slice_run(ft_op_ctx *ctx)
{
    int64_t first[FT_MAX_RANK], step[FT_MAX_RANK], xs[FT_MAX_RANK], ys[FT_MAX_RANK], ss[FT_MAX_RANK];
    ft_shape s;
    int rc = slice_plan(ctx, first, step, &s);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    ft_shape_strides(&x->shape, xs);
    ft_shape_strides(&s, ys);
    int64_t off = 0;
    for (int i = 0; i < s.rank; i++) {
        off += first[i] * xs[i];
        ss[i] = step[i] * xs[i];
    }
    copy_box(ctx->out[0]->data, 0, ys, x->data, off, ss, &s, ft_dtype_size(x->dtype));
    return FT_OK;
}

/* ---- Expand ---- */

static int expand_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 2);
    if (rc != FT_OK) return rc;
    int64_t dims[FT_MAX_RANK + 1];
    int n;
    char sa[96], sb[96];
    if ((rc = ft_op_check_sized(ctx, ctx->in[0])) != FT_OK) return rc;
    if ((rc = ft_op_const_ints(ctx, 1, "shape", 1, dims, FT_MAX_RANK, &n)) != FT_OK) return rc;
    ft_shape want = {n, {0}}, s;
    memcpy(want.dims, dims, (size_t)n * sizeof dims[0]);
    if ((rc = check_numel(ctx, &want)) != FT_OK) return rc;
    if (ft_broadcast_shape(&ctx->in[0]->shape, &want, &s) != FT_OK)
        return ft_op_fail(ctx, FT_ERR_INPUT, "input %s does not broadcast to %s",
                          ft_shape_str(&ctx->in[0]->shape, sa, sizeof sa), ft_shape_str(&want, sb, sizeof sb));
    if ((rc = check_numel(ctx, &s)) != FT_OK) return rc;
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    ctx->out[0]->shape = s;
    return FT_OK;
}

static int expand_run(ft_op_ctx *ctx)
{
    const ft_tensor *x = ctx->in[0], *y = ctx->out[0];
    int64_t xs[FT_MAX_RANK], ys[FT_MAX_RANK], ss[FT_MAX_RANK];
    int lead = y->shape.rank - x->shape.rank;
    ft_shape_strides(&x->shape, xs);
    ft_shape_strides(&y->shape, ys);
    for (int i = 0; i < y->shape.rank; i++)
        ss[i] = i < lead || x->shape.dims[i - lead] == 1 ? 0 : xs[i - lead];
    copy_box(y->data, 0, ys, x->data, 0, ss, &y->shape, ft_dtype_size(x->dtype));
    return FT_OK;
}

/* ---- Pad ---- */

/* Writes v as one element of type t; FT_ERR_UNSUPPORTED for types a float attribute cannot fill. */
static int store_scalar(ft_dtype t, void *dst, double v)
{
    switch (t) {
    case FT_FLOAT: *(float *)dst = (float)v; return FT_OK;
    case FT_DOUBLE: *(double *)dst = v; return FT_OK;
    case FT_INT8: *(int8_t *)dst = (int8_t)v; return FT_OK;
    case FT_UINT8: *(uint8_t *)dst = (uint8_t)v; return FT_OK;
    case FT_INT16: *(int16_t *)dst = (int16_t)v; return FT_OK;
    case FT_UINT16: *(uint16_t *)dst = (uint16_t)v; return FT_OK;
    case FT_INT32: *(int32_t *)dst = (int32_t)v; return FT_OK;
    case FT_UINT32: *(uint32_t *)dst = (uint32_t)v; return FT_OK;
    case FT_INT64: *(int64_t *)dst = (int64_t)v; return FT_OK;
    case FT_UINT64: *(uint64_t *)dst = (uint64_t)v; return FT_OK;
    case FT_BOOL: *(uint8_t *)dst = v != 0; return FT_OK;
    default:
        /* All-zero bytes are zero in every remaining fixed-size type (float16). */
        if (v != 0) return FT_ERR_UNSUPPORTED;
        memset(dst, 0, ft_dtype_size(t));
        return FT_OK;
    }
}

/* The pad value's bytes in the data's type, into val (at least 8 bytes). */
static int pad_value(const ft_op_ctx *ctx, void *val)
{
    const ft_tensor *x = ctx->in[0];
    const ft_tensor *cv = ctx->node->opset >= 11 ? ft_op_in(ctx, 2) : NULL;
    if (cv) {
        if (cv->dtype != x->dtype || ft_shape_numel(&cv->shape) != 1)
            return ft_op_fail(ctx, FT_ERR_INPUT, "constant_value '%s' must be one %s", cv->name,
                              ft_dtype_name(x->dtype));
        if (cv->data) memcpy(val, cv->data, ft_dtype_size(x->dtype));
        return FT_OK;
    }
    double v = ctx->node->opset < 11 ? ft_attr_float(ctx->node, "value", 0.0f) : 0.0;
    if (store_scalar(x->dtype, val, v) != FT_OK)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "pad value %g for element type %s", v, ft_dtype_name(x->dtype));
    return FT_OK;
}

/* Pads before (b) and after (e) every dim; negative values crop. */
static int pad_plan(const ft_op_ctx *ctx, int64_t *b, int64_t *e, ft_shape *out)
{
    const ft_shape *x = &ctx->in[0]->shape;
    int r = x->rank, n, na = -1, rc, ax[FT_MAX_RANK + 1];
    int64_t pads[2 * FT_MAX_RANK + 1], axes[FT_MAX_RANK + 1];
    const char *mode = ft_attr_string(ctx->node, "mode", "constant");
    if (strcmp(mode, "constant") != 0)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "mode '%s' is not supported, only constant", mode);
    if (ctx->node->opset >= 11) {
        if ((rc = ft_op_const_ints(ctx, 1, "pads", 1, pads, 2 * FT_MAX_RANK, &n)) != FT_OK) return rc;
        if (ctx->node->opset >= 18 && (rc = ft_op_const_ints(ctx, 3, "axes", 0, axes, FT_MAX_RANK, &na)) != FT_OK)
            return rc;
    } else {
        /* Pad-1 called the attribute paddings. */
        const char *name = ctx->node->opset < 2 ? "paddings" : "pads";
        if ((rc = attr_or_input(ctx, name, 11, 1, pads, 2 * FT_MAX_RANK, &n)) != FT_OK) return rc;
        if (n < 0) return ft_op_fail(ctx, FT_ERR_INPUT, "attribute %s is required", name);
    }
    if (na < 0) {
        na = r;
        for (int i = 0; i < r; i++) axes[i] = i;
    }
    if (n != 2 * na) return ft_op_fail(ctx, FT_ERR_INPUT, "%d pads for %d axes", n, na);
    if ((rc = norm_axes(ctx, axes, na, r, 0, ax)) != FT_OK) return rc;
    *out = *x;
    for (int i = 0; i < r; i++) b[i] = e[i] = 0;
    for (int j = 0; j < na; j++) {
        int64_t pb = pads[j], pe = pads[na + j], d = x->dims[ax[j]];
        if (pb < -FT_MAX_NUMEL || pb > FT_MAX_NUMEL || pe < -FT_MAX_NUMEL || pe > FT_MAX_NUMEL ||
            d + pb + pe < 0)
            return ft_op_fail(ctx, FT_ERR_INPUT, "pads %lld and %lld do not fit axis %d of size %lld",
                              (long long)pb, (long long)pe, ax[j], (long long)d);
        b[ax[j]] = pb;
        e[ax[j]] = pe;
        out->dims[ax[j]] = d + pb + pe;
    }
    return check_numel(ctx, out);
}

static int pad_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, ctx->node->opset >= 11 ? 2 : 1);
    if (rc != FT_OK) return rc;
    int64_t b[FT_MAX_RANK], e[FT_MAX_RANK];
    uint64_t val;
    ft_shape s;
    if ((rc = ft_op_check_sized(ctx, ctx->in[0])) != FT_OK) return rc;
    if ((rc = pad_plan(ctx, b, e, &s)) != FT_OK) return rc;
    if ((rc = pad_value(ctx, &val)) != FT_OK) return rc;
    ctx->out[0]->dtype = ctx->in[0]->dtype;
    ctx->out[0]->shape = s;
    return FT_OK;
}

static int pad_run(ft_op_ctx *ctx)
{
    int64_t b[FT_MAX_RANK], e[FT_MAX_RANK], xs[FT_MAX_RANK], ys[FT_MAX_RANK];
    uint64_t val = 0;
    ft_shape s;
    int rc = pad_plan(ctx, b, e, &s);
    if (rc == FT_OK) rc = pad_value(ctx, &val);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    size_t es = ft_dtype_size(x->dtype);
    int64_t n = ft_shape_numel(&s);
    char *y = ctx->out[0]->data;
    for (int64_t i = 0; i < n; i++) memcpy(y + i * (int64_t)es, &val, es);
    /* The kept input box: cropped where pads are negative, placed after positive leading pads. */
    ft_shape box = s;
    int64_t soff = 0, doff = 0;
    ft_shape_strides(&x->shape, xs);
    ft_shape_strides(&s, ys);
    for (int i = 0; i < s.rank; i++) {
        int64_t skip_b = b[i] < 0 ? -b[i] : 0, skip_e = e[i] < 0 ? -e[i] : 0;
        box.dims[i] = x->shape.dims[i] - skip_b - skip_e;
        if (box.dims[i] < 0) box.dims[i] = 0;
        soff += skip_b * xs[i];
        doff += (b[i] > 0 ? b[i] : 0) * ys[i];
    }
    copy_box(y, doff, ys, x->data, soff, xs, &box, es);
    return FT_OK;
}

const ft_op_def ft_ops_shape[] = {
    {"Reshape", 1, 2, 1, 1, FT_OP_VIEW, reshape_infer, NULL},
    {"Flatten", 1, 1, 1, 1, FT_OP_VIEW, flatten_infer, NULL},
    {"Squeeze", 1, 2, 1, 1, FT_OP_VIEW, squeeze_infer, NULL},
    {"Unsqueeze", 1, 2, 1, 1, FT_OP_VIEW, unsqueeze_infer, NULL},
    {"Identity", 1, 1, 1, 1, FT_OP_VIEW, identity_infer, NULL},
    {"Dropout", 1, 3, 1, 2, FT_OP_VIEW, dropout_infer, NULL},
    {"Shape", 1, 1, 1, 1, FT_OP_SHAPE_ONLY, shape_infer, shape_run},
    {"ConstantOfShape", 1, 1, 1, 1, 0, constantofshape_infer, constantofshape_run},
    {"Range", 3, 3, 1, 1, 0, range_infer, range_run},
    {"Transpose", 1, 1, 1, 1, 0, transpose_infer, transpose_run},
    {"Gather", 2, 2, 1, 1, 0, gather_infer, gather_run},
    {"Concat", 1, 1 << 16, 1, 1, 0, concat_infer, concat_run},
    {"Split", 1, 2, 1, MAX_SPLIT, 0, split_infer, split_run},
    {"Slice", 1, 5, 1, 1, 0, slice_infer, slice_run},
    {"Expand", 2, 2, 1, 1, 0, expand_infer, expand_run},
    {"Pad", 1, 4, 1, 1, 0, pad_infer, pad_run},
    {0},
};
