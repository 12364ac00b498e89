/* conv.c - reference Conv (1-3 spatial dims, groups) and the pools: Max, Average, Global. */
#include "op_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Windowed ops run on up to three spatial dims; fewer are padded with size-1 dims so that one loop
 * nest serves 1-D, 2-D and 3-D. */
#define NS_MAX 3
/* Upper bound of strides, dilations, pads and window sizes: far above any real model, and low enough
 * that the geometry's sums and products of them and of dims (at most FT_MAX_NUMEL) fit in int64. */
#define GEOM_MAX ((int64_t)1 << 31)

typedef struct window_geom {
    int ns; /* spatial dims of the tensor, 1..NS_MAX */
    int64_t in[NS_MAX], out[NS_MAX], k[NS_MAX], stride[NS_MAX], dil[NS_MAX], pad_b[NS_MAX], pad_e[NS_MAX];
} window_geom;

/* Reads an INTS attribute of ns values (or all `def` when absent) into v. */
static int geom_ints(const ft_op_ctx *ctx, const char *name, int ns, int64_t def, int min, int64_t *v)
{
    const int64_t *a;
    int n = ft_attr_ints(ctx->node, name, &a);
    for (int i = 0; i < ns; i++) v[i] = def;
    if (n < 0) return FT_OK;
    if (n != ns) return ft_op_fail(ctx, FT_ERR_INPUT, "attribute %s has %d values, expected %d", name, n, ns);
    for (int i = 0; i < ns; i++) {
        if (a[i] < min)
            return ft_op_fail(ctx, FT_ERR_INPUT, "attribute %s[%d] = %lld is below %d", name, i, (long long)a[i], min);
        if (a[i] > GEOM_MAX)
            return ft_op_fail(ctx, FT_ERR_INPUT, "attribute %s[%d] = %lld is above 2^31", name, i, (long long)a[i]);
        v[i] = a[i];
    }
    return FT_OK;
}

/* Spatial geometry of a Conv or pool over x; kernel holds the window size per spatial dim. */
static int geom_plan(const ft_op_ctx *ctx, const ft_shape *x, const int64_t *kernel, int ceil_mode, window_geom *g)
{
    char sb[96];
    int ns = x->rank - 2;
    if (ns < 1) return ft_op_fail(ctx, FT_ERR_INPUT, "input %s needs rank >= 3", ft_shape_str(x, sb, sizeof sb));
    if (ns > NS_MAX)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "%d spatial dims; at most %d are supported", ns, NS_MAX);
    g->ns = ns;
    int rc;
    if ((rc = geom_ints(ctx, "strides", ns, 1, 1, g->stride)) != FT_OK) return rc;
    if ((rc = geom_ints(ctx, "dilations", ns, 1, 1, g->dil)) != FT_OK) return rc;
    int64_t pads[2 * NS_MAX];
    if ((rc = geom_ints(ctx, "pads", 2 * ns, 0, 0, pads)) != FT_OK) return rc;
    const char *ap = ft_attr_string(ctx->node, "auto_pad", "NOTSET");
    int same_upper = strcmp(ap, "SAME_UPPER") == 0, same_lower = strcmp(ap, "SAME_LOWER") == 0;
    int valid = strcmp(ap, "VALID") == 0;
    if (!same_upper && !same_lower && !valid && strcmp(ap, "NOTSET") != 0)
        return ft_op_fail(ctx, FT_ERR_INPUT, "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", ap);
    for (int i = 0; i < ns; i++) {
        int64_t in = x->dims[2 + i], st = g->stride[i];
        if (kernel[i] < 1 || kernel[i] > GEOM_MAX)
            return ft_op_fail(ctx, FT_ERR_INPUT, "kernel dim %d is %lld (1..2^31)", i, (long long)kernel[i]);
        g->in[i] = in;
        g->k[i] = kernel[i];
        int64_t eff = g->dil[i] * (kernel[i] - 1) + 1;
        if (same_upper || same_lower) {
            g->out[i] = (in + st - 1) / st;
            int64_t total = (g->out[i] - 1) * st + eff - in;
            if (total < 0) total = 0;
            g->pad_b[i] = same_upper ? total / 2 : total - total / 2;
            g->pad_e[i] = total - g->pad_b[i];
            continue;
        }
        g->pad_b[i] = valid ? 0 : pads[i];
        g->pad_e[i] = valid ? 0 : pads[ns + i];
        int64_t span = in + g->pad_b[i] + g->pad_e[i] - eff;
        if (span < 0)
            return ft_op_fail(ctx, FT_ERR_INPUT, "window of %lld along spatial dim %d exceeds the padded input of %lld",
                              (long long)eff, i, (long long)(in + g->pad_b[i] + g->pad_e[i]));
        g->out[i] = (ceil_mode ? (span + st - 1) / st : span / st) + 1;
        /* ceil_mode must not add a window that starts inside the end padding (ONNX and PyTorch agree). */
        if (ceil_mode && (g->out[i] - 1) * st >= in + g->pad_b[i]) g->out[i]--;
    }
    for (int i = ns; i < NS_MAX; i++) {
        g->in[i] = g->out[i] = g->k[i] = g->stride[i] = g->dil[i] = 1;
        g->pad_b[i] = g->pad_e[i] = 0;
    }
    return FT_OK;
}

/* Taps t in [*lo, *hi) of a window starting at base keep base + t*dil inside [0, n). */
static void tap_range(int64_t base, int64_t dil, int64_t k, int64_t n, int64_t *lo, int64_t *hi)
{
    int64_t l = base >= 0 ? 0 : (-base + dil - 1) / dil;
    int64_t h = base >= n ? 0 : (n - base + dil - 1) / dil;
    if (h > k) h = k;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* One output position's window: the input offset of tap 0 (possibly in the padding) and, per
 * spatial dim, the taps inside the input [lo, hi) and inside the padded input [plo, phi). */
typedef struct window {
    int64_t base;
    int64_t lo[NS_MAX], hi[NS_MAX], plo[NS_MAX], phi[NS_MAX];
} window;

static void window_at(const window_geom *g, const int64_t *pos, window *w)
{
    w->base = 0;
    for (int i = 0; i < NS_MAX; i++) {
        int64_t b = pos[i] * g->stride[i] - g->pad_b[i];
        w->base = w->base * g->in[i] + b;
        tap_range(b, g->dil[i], g->k[i], g->in[i], &w->lo[i], &w->hi[i]);
        tap_range(b + g->pad_b[i], g->dil[i], g->k[i], g->in[i] + g->pad_b[i] + g->pad_e[i], &w->plo[i], &w->phi[i]);
    }
}

/* Advances pos through the output positions in row-major order; 0 after the last one. */
static int next_pos(const window_geom *g, int64_t *pos)
{
    for (int i = NS_MAX - 1; i >= 0; i--) {
        if (++pos[i] < g->out[i]) return 1;
        pos[i] = 0;
    }
    return 0;
}

static void geom_out_shape(const ft_shape *x, int64_t channels, const window_geom *g, ft_shape *out)
{
    out->rank = x->rank;
    out->dims[0] = x->dims[0];
    out->dims[1] = channels;
    for (int i = 0; i < g->ns; i++) out->dims[2 + i] = g->out[i];
}

/* ---- Conv ---- */

static int conv_plan(const ft_op_ctx *ctx, window_geom *g, int64_t *group)
{
    const ft_tensor *x = ctx->in[0], *w = ctx->in[1], *b = ft_op_in(ctx, 2);
    char sx[96], sw[96];
    if (w->shape.rank != x->shape.rank)
        return ft_op_fail(ctx, FT_ERR_INPUT, "weights %s and input %s differ in rank",
                          ft_shape_str(&w->shape, sw, sizeof sw), ft_shape_str(&x->shape, sx, sizeof sx));
    *group = ft_attr_int(ctx->node, "group", 1);
    int64_t c = x->shape.rank > 1 ? x->shape.dims[1] : 0, m = w->shape.dims[0];
    if (*group < 1 || *group > (c > 0 ? c : 1) || c % *group != 0 || m % *group != 0 || w->shape.dims[1] * *group != c)
        return ft_op_fail(ctx, FT_ERR_INPUT, "input %s, weights %s and group %lld do not fit",
                          ft_shape_str(&x->shape, sx, sizeof sx), ft_shape_str(&w->shape, sw, sizeof sw),
                          (long long)*group);
    if (b && (b->shape.rank != 1 || b->shape.dims[0] != m))
        return ft_op_fail(ctx, FT_ERR_INPUT, "bias %s is not [%lld]", ft_shape_str(&b->shape, sx, sizeof sx),
                          (long long)m);
    const int64_t *ks;
    int nk = ft_attr_ints(ctx->node, "kernel_shape", &ks);
    int ns = x->shape.rank - 2;
    if (nk >= 0) {
        if (nk != ns) return ft_op_fail(ctx, FT_ERR_INPUT, "kernel_shape has %d values, expected %d", nk, ns);
        for (int i = 0; i < ns; i++)
            if (ks[i] != w->shape.dims[2 + i])
                return ft_op_fail(ctx, FT_ERR_INPUT, "kernel_shape disagrees with weights %s",
                                  ft_shape_str(&w->shape, sw, sizeof sw));
    }
    return geom_plan(ctx, &x->shape, w->shape.dims + 2, 0, g);
}

static int conv_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 2);
    if (rc != FT_OK) return rc;
    for (int i = 0; i < 3; i++) {
        const ft_tensor *t = ft_op_in(ctx, i);
        if (t && t->dtype != FT_FLOAT)
            return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "input '%s' is %s; only float32 is supported", t->name,
                              ft_dtype_name(t->dtype));
    }
    window_geom g;
    int64_t group;
    if ((rc = conv_plan(ctx, &g, &group)) != FT_OK) return rc;
    ctx->out[0]->dtype = FT_FLOAT;
    geom_out_shape(&ctx->in[0]->shape, ctx->in[1]->shape.dims[0], &g, &ctx->out[0]->shape);
    return FT_OK;
}

static int conv_run(ft_op_ctx *ctx)
{
    window_geom g;
    int64_t group;
    int rc = conv_plan(ctx, &g, &group);
    if (rc != FT_OK) return rc;
    const ft_tensor *bt = ft_op_in(ctx, 2);
    const float *x = ctx->in[0]->data, *w = ctx->in[1]->data, *bias = bt ? bt->data : NULL;
    float *y = ctx->out[0]->data;
    int64_t nb = ctx->in[0]->shape.dims[0], c = ctx->in[0]->shape.dims[1], m = ctx->in[1]->shape.dims[0];
    int64_t cg = c / group, mg = m / group;
    int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
    int64_t kvol = g.k[0] * g.k[1] * g.k[2];
    if (out_plane == 0) return FT_OK;
    /* Row-major offsets: tap (kd,kh,kw) sits at base + (kd*dil0*in1 + kh*dil1)*in2 + kw*dil2. */
    int64_t sd = g.dil[0] * g.in[1] * g.in[2], sh = g.dil[1] * g.in[2], sw = g.dil[2];
    for (int64_t n = 0; n < nb; n++)
        for (int64_t oc = 0; oc < m; oc++) {
            const float *xg = x + (n * c + (oc / mg) * cg) * in_plane;
            const float *wo = w + oc * cg * kvol;
            float *yo = y + (n * m + oc) * out_plane;
            int64_t pos[NS_MAX] = {0};
            do {
                window win;
                window_at(&g, pos, &win);
                double acc = bias ? bias[oc] : 0.0;
                for (int64_t ic = 0; ic < cg; ic++) {
                    const float *xc = xg + ic * in_plane;
                    const float *wc = wo + ic * kvol;
                    for (int64_t kd = win.lo[0]; kd < win.hi[0]; kd++)
                        for (int64_t kh = win.lo[1]; kh < win.hi[1]; kh++) {
                            int64_t xr = win.base + kd * sd + kh * sh;
                            const float *wr = wc + (kd * g.k[1] + kh) * g.k[2];
                            for (int64_t kw = win.lo[2]; kw < win.hi[2]; kw++) acc += (double)xc[xr + kw * sw] * wr[kw];
                        }
                }
                *yo++ = (float)acc;
            } while (next_pos(&g, pos));
        }
    return FT_OK;
}

/* ---- MaxPool, AveragePool ---- */

static int pool_plan(const ft_op_ctx *ctx, window_geom *g)
{
    const ft_tensor *x = ctx->in[0];
    const int64_t *ks;
    int nk = ft_attr_ints(ctx->node, "kernel_shape", &ks);
    if (nk < 0) return ft_op_fail(ctx, FT_ERR_INPUT, "attribute kernel_shape is required");
    if (nk != x->shape.rank - 2)
        return ft_op_fail(ctx, FT_ERR_INPUT, "kernel_shape has %d values for an input of rank %d", nk, x->shape.rank);
    return geom_plan(ctx, &x->shape, ks, ft_attr_int(ctx->node, "ceil_mode", 0) != 0, g);
}

static int pool_infer(ft_op_ctx *ctx, int is_max)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    int ok = x->dtype == FT_FLOAT || (is_max && (x->dtype == FT_UINT8 || x->dtype == FT_INT8));
    if (!ok)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(x->dtype));
    if (is_max && ft_op_out(ctx, 1))
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "the Indices output '%s' is not supported", ctx->out[1]->name);
    if (!is_max && ft_node_attr(ctx->node, "dilations") && ctx->node->opset < 19)
        return ft_op_fail(ctx, FT_ERR_INPUT, "attribute dilations needs opset 19");
    window_geom g;
    if ((rc = pool_plan(ctx, &g)) != FT_OK) return rc;
    ctx->out[0]->dtype = x->dtype;
    geom_out_shape(&x->shape, x->shape.dims[1], &g, &ctx->out[0]->shape);
    return FT_OK;
}

static int maxpool_infer(ft_op_ctx *ctx)
{
    return pool_infer(ctx, 1);
}

static int avgpool_infer(ft_op_ctx *ctx)
{
    return pool_infer(ctx, 0);
}

/* One input plane to one output plane. */
static void pool_plane(const window_geom *g, const float *x, float *y, int is_max, int count_pad)
{
    int64_t sd = g->dil[0] * g->in[1] * g->in[2], sh = g->dil[1] * g->in[2], sw = g->dil[2];
    int64_t pos[NS_MAX] = {0};
    do {
        window win;
        window_at(g, pos, &win);
        double acc = is_max ? -INFINITY : 0.0;
        for (int64_t kd = win.lo[0]; kd < win.hi[0]; kd++)
            for (int64_t kh = win.lo[1]; kh < win.hi[1]; kh++)
                for (int64_t kw = win.lo[2]; kw < win.hi[2]; kw++) {
                    double v = x[win.base + kd * sd + kh * sh + kw * sw];
                    if (is_max) acc = v > acc ? v : acc;
                    else acc += v;
                }
        if (!is_max) {
            /* count_include_pad counts taps on explicit or SAME padding, never past it. */
            int64_t cnt = 1;
            for (int i = 0; i < NS_MAX; i++) cnt *= count_pad ? win.phi[i] - win.plo[i] : win.hi[i] - win.lo[i];
            acc = cnt > 0 ? acc / (double)cnt : 0.0;
        }
        *y++ = (float)acc;
    } while (next_pos(g, pos));
}

static int pool_run(ft_op_ctx *ctx, int is_max)
{
    window_geom g;
    int rc = pool_plan(ctx, &g);
    if (rc != FT_OK) return rc;
    int count_pad = !is_max && ft_attr_int(ctx->node, "count_include_pad", 0) != 0;
    const ft_tensor *xt = ctx->in[0];
    int64_t planes = xt->shape.dims[0] * xt->shape.dims[1];
    int64_t in_plane = g.in[0] * g.in[1] * g.in[2], out_plane = g.out[0] * g.out[1] * g.out[2];
    if (out_plane == 0) return FT_OK;
    if (xt->dtype == FT_FLOAT) {
        for (int64_t p = 0; p < planes; p++)
            pool_plane(&g, (const float *)xt->data + p * in_plane, (float *)ctx->out[0]->data + p * out_plane,
                       is_max, count_pad);
        return FT_OK;
    }
    /* 8-bit integers are exact in float, so they share the float kernel through one scratch plane. */
    float *xs = malloc((size_t)(in_plane + out_plane) * sizeof *xs + 1);
    if (!xs) return ft_op_fail(ctx, FT_ERR_NOMEM, "out of memory for a pooling plane");
    float *ys = xs + in_plane;
    for (int64_t p = 0; p < planes; p++) {
        for (int64_t i = 0; i < in_plane; i++)
            xs[i] = xt->dtype == FT_UINT8 ? (float)((const uint8_t *)xt->data)[p * in_plane + i]
                                          : (float)((const int8_t *)xt->data)[p * in_plane + i];
        pool_plane(&g, xs, ys, is_max, count_pad);
        /* An all-padding window yields -inf, which has to saturate rather than be cast. */
        for (int64_t i = 0; i < out_plane; i++) {
            if (xt->dtype == FT_UINT8)
                ((uint8_t *)ctx->out[0]->data)[p * out_plane + i] = (uint8_t)(ys[i] < 0.0f ? 0.0f : ys[i]);
            else
                ((int8_t *)ctx->out[0]->data)[p * out_plane + i] = (int8_t)(ys[i] < -128.0f ? -128.0f : ys[i]);
        }
    }
    free(xs);
    return FT_OK;
}

static int maxpool_run(ft_op_ctx *ctx)
{
    return pool_run(ctx, 1);
}

static int avgpool_run(ft_op_ctx *ctx)
{
    return pool_run(ctx, 0);
}

/* ---- GlobalAveragePool, GlobalMaxPool ---- */

static int global_pool_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    char sb[96];
    if (x->dtype != FT_FLOAT)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(x->dtype));
    if (x->shape.rank < 3)
        return ft_op_fail(ctx, FT_ERR_INPUT, "input %s needs rank >= 3", ft_shape_str(&x->shape, sb, sizeof sb));
    ctx->out[0]->dtype = FT_FLOAT;
    ctx->out[0]->shape = x->shape;
    for (int i = 2; i < x->shape.rank; i++) ctx->out[0]->shape.dims[i] = 1;
    return FT_OK;
}

static int global_pool_run(ft_op_ctx *ctx, int is_max)
{
    const ft_tensor *xt = ctx->in[0];
    int64_t planes = xt->shape.dims[0] * xt->shape.dims[1];
    int64_t plane = ft_shape_numel(&xt->shape) / (planes ? planes : 1);
    const float *x = xt->data;
    float *y = ctx->out[0]->data;
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * plane;
        double acc = is_max ? -INFINITY : 0.0;
        for (int64_t i = 0; i < plane; i++) {
            if (is_max) acc = xp[i] > acc ? xp[i] : acc;
            else acc += xp[i];
        }
        y[p] = (float)(is_max || plane == 0 ? acc : acc / (double)plane);
    }
    return FT_OK;
}

static int global_avgpool_run(ft_op_ctx *ctx)
{
    return global_pool_run(ctx, 0);
}

static int global_maxpool_run(ft_op_ctx *ctx)
{
    return global_pool_run(ctx, 1);
}

const ft_op_def ft_ops_conv[] = {
    {"Conv", 2, 3, 1, 1, 0, conv_infer, conv_run},
    {"MaxPool", 1, 1, 1, 2, 0, maxpool_infer, maxpool_run},
    {"AveragePool", 1, 1, 1, 1, 0, avgpool_infer, avgpool_run},
    {"GlobalAveragePool", 1, 1, 1, 1, 0, global_pool_infer, global_avgpool_run},
    {"GlobalMaxPool", 1, 1, 1, 1, 0, global_pool_infer, global_maxpool_run},
    {0},
};
