/* pool.c - tuned 2-D float32 pooling families (MaxPool, AveragePool, GlobalAveragePool,
 * GlobalMaxPool) in NCHW, NHWC and NCHW16c, input and output in the same layout, and their table.
 *
 * Every candidate computes bit for bit what the reference (kernels/ref/conv.c) computes: a window's
 * taps are visited in its row-major order; a max keeps the first greatest non-NaN tap from -inf
 * (pool_impl.h); an average sums in double and divides once by the reference's count. Grouping
 * taps (one input row's, then the next row's) keeps the first maximum, so loops may be reordered
 * but never the order of taps per output.
 *
 * MaxPool (pool_impl.h, per ISA): each output row takes, tap by tap, the max with the input row
 * the tap reads, along the row in NCHW and across contiguous channels in NHWC and NCHW16c.
 * AveragePool sums each output pixel's taps in double, across channels when they are contiguous.
 * The global pools sum or max whole planes; their output [N, C, 1, 1] is the same bytes in all
 * three layouts.
 *
 * params: [0] layout (FT_POOL_NCHW, FT_POOL_NHWC, FT_POOL_NCHW16C), [1] ISA of the MaxPool kernel
 * (isa.h; the other pools are portable C).
 */
#include <stdio.h>
#include <string.h>

#include "fast_util.h"
#include "isa.h"

#define FT_POOL_MAX_FN ft_f32_maxpool_scalar
#include "pool_impl.h"

enum { P_LAYOUT = 0, P_ISA = 1 };
enum { K_MAX, K_AVG, K_GLOBAL_AVG, K_GLOBAL_MAX };

/* Planes the NCHW global pools sum side by side, so the in-order double additions of one plane
 * overlap with the others'. */
#define POOL_PLANES 8
/* The reference's bound on window attributes: sums and products of them and of dims fit in int64. */
#define POOL_ATTR_MAX ((int64_t)1 << 31)

extern const ft_kernel_family *const ft_families_pool[];
static const ft_kernel_family fam_max, fam_avg, fam_global_avg, fam_global_max;

/* The window geometry of the reference's geom_plan, for 2 spatial dims. */
static int window_geom(const ft_node *n, int kind, ft_pool_geom *g)
{
    int64_t ks[2], st[2], dil[2], pads[4];
    const int64_t *kv;
    if (ft_attr_ints(n, "kernel_shape", &kv) != 2 ||
        ft_fast_ints_attr(n, "kernel_shape", 2, 1, 1, POOL_ATTR_MAX, ks) ||
        ft_fast_ints_attr(n, "strides", 2, 1, 1, POOL_ATTR_MAX, st) ||
        ft_fast_ints_attr(n, "dilations", 2, 1, 1, POOL_ATTR_MAX, dil) ||
        ft_fast_ints_attr(n, "pads", 4, 0, 0, POOL_ATTR_MAX, pads))
        return -1;
    if (kind == K_AVG && ft_node_attr(n, "dilations") && n->opset < 19) return -1;
    const char *ap = ft_attr_string(n, "auto_pad", "NOTSET");
    int upper = strcmp(ap, "SAME_UPPER") == 0, lower = strcmp(ap, "SAME_LOWER") == 0, valid = strcmp(ap, "VALID") == 0;
    if (!upper && !lower && !valid && strcmp(ap, "NOTSET") != 0) return -1;
    int ceil_mode = ft_attr_int(n, "ceil_mode", 0) != 0;
    const int64_t in[2] = {g->h, g->w};
    int64_t o[2], pb[2], pe[2];
    for (int i = 0; i < 2; i++) {
        int64_t eff = dil[i] * (ks[i] - 1) + 1;
        if (upper || lower) {
            o[i] = (in[i] + st[i] - 1) / st[i];
            int64_t total = (o[i] - 1) * st[i] + eff - in[i];
            if (total < 0) total = 0;
            pb[i] = upper ? total / 2 : total - total / 2;
            pe[i] = total - pb[i];
            continue;
        }
        pb[i] = valid ? 0 : pads[i];
        pe[i] = valid ? 0 : pads[2 + i];
        int64_t span = in[i] + pb[i] + pe[i] - eff;
        if (span < 0) return -1;
        o[i] = (ceil_mode ? (span + st[i] - 1) / st[i] : span / st[i]) + 1;
        if (ceil_mode && (o[i] - 1) * st[i] >= in[i] + pb[i]) o[i]--;
    }
    g->oh = o[0];
    g->ow = o[1];
    g->kh = ks[0];
    g->kw = ks[1];
    g->sh = st[0];
    g->sw = st[1];
    g->dh = dil[0];
    g->dw = dil[1];
    g->ph = pb[0];
    g->pw = pb[1];
    g->pe_h = pe[0];
    g->pe_w = pe[1];
    g->count_pad = kind == K_AVG && ft_attr_int(n, "count_include_pad", 0) != 0;
    return 0;
}

/* 0 when node n is a 2-D float32 pool of this kind whose attributes agree with its output's shape
 * and that this file computes; -1 otherwise (the reference serves or reports the rest: other ranks
 * and types, MaxPool's Indices output, empty tensors, bad attributes). */
static int ft_pool_geom_of(const ft_node *n, int kind, ft_tensor *const *in, ft_tensor *const *out, ft_pool_geom *g)
{
    memset(g, 0, sizeof *g);
    if (n->n_in != 1 || n->n_out < 1 || !in[0] || !out[0]) return -1;
    if (n->n_out > 1 && (kind != K_MAX || n->n_out > 2 || out[1])) return -1;
    const ft_tensor *x = in[0], *y = out[0];
    if (x->dtype != FT_FLOAT || y->dtype != FT_FLOAT || x->shape.rank != 4 || y->shape.rank != 4) return -1;
    if (ft_shape_numel(&x->shape) <= 0 || ft_shape_numel(&y->shape) <= 0) return -1;
    g->n = x->shape.dims[0];
    g->c = x->shape.dims[1];
    g->h = x->shape.dims[2];
    g->w = x->shape.dims[3];
    if (kind == K_GLOBAL_AVG || kind == K_GLOBAL_MAX) {
        g->oh = g->ow = 1;
        g->kh = g->h;
        g->kw = g->w;
        g->sh = g->sw = g->dh = g->dw = 1;
    } else if (window_geom(n, kind, g)) {
        return -1;
    }
    const int64_t *yd = y->shape.dims;
    return yd[0] == g->n && yd[1] == g->c && yd[2] == g->oh && yd[3] == g->ow ? 0 : -1;
}

/* The reference's divisor of the window at (y0, x0): taps in the input, or with count_include_pad
 * taps in the padded input. */
static inline int64_t avg_count(const ft_pool_geom *g, int64_t y0, int64_t x0, int64_t ylo, int64_t yhi, int64_t xlo,
                                int64_t xhi)
{
    if (!g->count_pad) return (yhi - ylo) * (xhi - xlo);
    int64_t a, b, c, d;
    tap_range(y0 + g->ph, g->dh, g->kh, g->h + g->ph + g->pe_h, &a, &b);
    tap_range(x0 + g->pw, g->dw, g->kw, g->w + g->pw + g->pe_w, &c, &d);
    return (b - a) * (d - c);
}

/* ---- MaxPool and AveragePool ------------------------------------------------------------------- */

/* AveragePool output pixel (oy, ox) of `nc` channels whose pixels lie `ps` floats apart, x and y at
 * the first channel: the sum of the taps in double, in the reference's order, divided once. */
static inline void avg_pixel(const ft_pool_geom *g, const float *x, int64_t ps, float *y, int64_t oy, int64_t ox,
                             const int64_t nc)
{
    double acc[POOL_CHUNK];
    for (int64_t c = 0; c < nc; c++) acc[c] = 0.0;
    const int64_t y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
    int64_t ylo, yhi, xlo, xhi;
    tap_range(y0, g->dh, g->kh, g->h, &ylo, &yhi);
    tap_range(x0, g->dw, g->kw, g->w, &xlo, &xhi);
    for (int64_t i = ylo; i < yhi; i++)
        for (int64_t j = xlo; j < xhi; j++) {
            const float *xp = x + ((y0 + i * g->dh) * g->w + x0 + j * g->dw) * ps;
            for (int64_t c = 0; c < nc; c++) acc[c] += xp[c];
        }
    const int64_t cnt = avg_count(g, y0, x0, ylo, yhi, xlo, xhi);
    float *yp = y + (oy * g->ow + ox) * ps;
    for (int64_t c = 0; c < nc; c++) yp[c] = (float)(cnt > 0 ? acc[c] / (double)cnt : 0.0);
}

static void avg_run(const ft_pool_geom *g, int layout, const float *x, float *y)
{
    const int64_t in_plane = g->h * g->w, out_plane = g->oh * g->ow;
    if (layout == FT_POOL_NCHW) {
        for (int64_t p = 0; p < g->n * g->c; p++)
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++) avg_pixel(g, x + p * in_plane, 1, y + p * out_plane, oy, ox, 1);
    } else if (layout == FT_POOL_NCHW16C) {
        for (int64_t b = 0; b < g->n * (g->c / FT_CONV_BLOCK); b++)
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++)
                    avg_pixel(g, x + b * in_plane * FT_CONV_BLOCK, FT_CONV_BLOCK, y + b * out_plane * FT_CONV_BLOCK, oy,
                              ox, FT_CONV_BLOCK);
    } else {
        for (int64_t n = 0; n < g->n; n++) {
            const float *xn = x + n * in_plane * g->c;
            float *yn = y + n * out_plane * g->c;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    int64_t c0 = 0;
                    for (; c0 + POOL_CHUNK <= g->c; c0 += POOL_CHUNK)
                        avg_pixel(g, xn + c0, g->c, yn + c0, oy, ox, POOL_CHUNK);
                    if (c0 < g->c) avg_pixel(g, xn + c0, g->c, yn + c0, oy, ox, g->c - c0);
                }
        }
    }
}

/* ---- GlobalAveragePool and GlobalMaxPool -------------------------------------------------------- */

/* NCHW: POOL_PLANES planes at a time, each summed (or maxed) in order. */
static void global_run_nchw(int64_t planes, int64_t plane, int is_max, const float *x, float *y)
{
    for (int64_t p0 = 0; p0 < planes; p0 += POOL_PLANES) {
        const int64_t m = planes - p0 < POOL_PLANES ? planes - p0 : POOL_PLANES;
        const float *xp = x + p0 * plane;
        if (is_max) {
            float acc[POOL_PLANES];
            for (int64_t q = 0; q < m; q++) acc[q] = -INFINITY;
            for (int64_t i = 0; i < plane; i++)
                for (int64_t q = 0; q < m; q++) acc[q] = max_first(acc[q], xp[q * plane + i]);
            for (int64_t q = 0; q < m; q++) y[p0 + q] = acc[q];
        } else {
            double acc[POOL_PLANES];
            for (int64_t q = 0; q < m; q++) acc[q] = 0.0;
            for (int64_t i = 0; i < plane; i++)
                for (int64_t q = 0; q < m; q++) acc[q] += xp[q * plane + i];
            for (int64_t q = 0; q < m; q++) y[p0 + q] = (float)(acc[q] / (double)plane);
        }
    }
}

/* `nc` channels whose pixels lie `ps` floats apart, over `plane` pixels, into y[0..nc). */
static inline void global_channels(const float *x, int64_t ps, int64_t plane, int is_max, float *y, const int64_t nc)
{
    if (is_max) {
        float acc[POOL_CHUNK];
        for (int64_t c = 0; c < nc; c++) acc[c] = -INFINITY;
        for (int64_t i = 0; i < plane; i++)
            for (int64_t c = 0; c < nc; c++) acc[c] = max_first(acc[c], x[i * ps + c]);
        for (int64_t c = 0; c < nc; c++) y[c] = acc[c];
        return;
    }
    double acc[POOL_CHUNK];
    for (int64_t c = 0; c < nc; c++) acc[c] = 0.0;
    for (int64_t i = 0; i < plane; i++)
        for (int64_t c = 0; c < nc; c++) acc[c] += x[i * ps + c];
    for (int64_t c = 0; c < nc; c++) y[c] = (float)(acc[c] / (double)plane);
}

static void global_run(const ft_pool_geom *g, int is_max, int layout, const float *x, float *y)
{
    const int64_t plane = g->h * g->w;
    if (layout == FT_POOL_NCHW) {
        global_run_nchw(g->n * g->c, plane, is_max, x, y);
        return;
    }
    if (layout == FT_POOL_NCHW16C) {
        for (int64_t b = 0; b < g->n * (g->c / FT_CONV_BLOCK); b++)
            global_channels(x + b * plane * FT_CONV_BLOCK, FT_CONV_BLOCK, plane, is_max, y + b * FT_CONV_BLOCK,
                            FT_CONV_BLOCK);
        return;
    }
    for (int64_t n = 0; n < g->n; n++) {
        const float *xn = x + n * plane * g->c;
        float *yn = y + n * g->c;
        int64_t c0 = 0;
        for (; c0 + POOL_CHUNK <= g->c; c0 += POOL_CHUNK)
            global_channels(xn + c0, g->c, plane, is_max, yn + c0, POOL_CHUNK);
        if (c0 < g->c) global_channels(xn + c0, g->c, plane, is_max, yn + c0, g->c - c0);
    }
}

/* ---- families ----------------------------------------------------------------------------------- */

static int kind_of(const ft_kernel_family *f)
{
    return f == &fam_max ? K_MAX : f == &fam_avg ? K_AVG : f == &fam_global_avg ? K_GLOBAL_AVG : K_GLOBAL_MAX;
}

static const ft_layout layout_nhwc = {.rank = 4, .perm = {0, 2, 3, 1}};
static const ft_layout layout_nchw16c = {.rank = 4, .perm = {0, 1, 2, 3}, .block_axis = 1, .block = FT_CONV_BLOCK};

/* Which kernel reads and writes layout l for input x and output y: the layout's bytes must be those
 * of NCHW, NHWC or NCHW16c for both shapes; -1 otherwise. */
static int layout_kind(const ft_layout *l, const ft_shape *x, const ft_shape *y)
{
    ft_layout id;
    ft_layout_identity(&id, 4);
    if (!ft_layout_fits(l, x) || !ft_layout_fits(l, y)) return -1;
    if (ft_layout_equivalent(l, &id, x) && ft_layout_equivalent(l, &id, y)) return FT_POOL_NCHW;
    if (ft_layout_equivalent(l, &layout_nhwc, x) && ft_layout_equivalent(l, &layout_nhwc, y)) return FT_POOL_NHWC;
    if (ft_layout_fits(&layout_nchw16c, x) && ft_layout_equivalent(l, &layout_nchw16c, x) &&
        ft_layout_equivalent(l, &layout_nchw16c, y))
        return FT_POOL_NCHW16C;
    return -1;
}

static const char *key_op(int kind)
{
    static const char *const keys[] = {"maxpool", "averagepool", "globalaveragepool", "globalmaxpool"};
    return keys[kind];
}

typedef void (*max_kernel)(const ft_pool_geom *g, int layout, const float *x, float *y);

/* The MaxPool kernel compiled for isa, or NULL when this build or CPU has none. */
static max_kernel max_kernel_for(int isa)
{
    if (!ft_fast_isa_supported(isa)) return NULL;
    if (isa == FT_FAST_SCALAR) return ft_f32_maxpool_scalar;
#if defined(__x86_64__)
    if (isa == FT_FAST_AVX2) return ft_f32_maxpool_avx2;
#endif
    return NULL;
}

/* The ISAs with a MaxPool kernel on this CPU, widest first (the first is the default). */
static int max_isas(int *isas)
{
    int all[FT_FAST_N_ISA], n = 0, n_all = ft_fast_isas(all);
    for (int k = 0; k < n_all; k++)
        if (max_kernel_for(all[k])) isas[n++] = all[k];
    return n;
}

static int pool_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                          ft_error *err)
{
    const ft_kernel_family *fam = NULL;
    for (const ft_kernel_family *const *f = ft_families_pool; *f; f++)
        if (strcmp((*f)->op_type, n->op_type) == 0) fam = *f;
    if (!fam) return FT_OK;
    const int kind = kind_of(fam);
    ft_pool_geom g;
    if (ft_pool_geom_of(n, kind, in, out, &g)) return FT_OK;
    const ft_layout_set *sets[2] = {&list->in_hints[0], &list->out_hints};
    ft_layout choices[FT_FAST_MAX_CHOICES];
    int n_choices = ft_fast_layout_choices_blocked(&in[0]->shape, sets, 2, choices, FT_FAST_MAX_CHOICES);
    int isas[FT_FAST_N_ISA], n_isa = kind == K_MAX ? max_isas(isas) : 1;
    if (kind != K_MAX) isas[0] = FT_FAST_SCALAR;
    for (int li = 0; li < n_choices; li++) {
        int layout = layout_kind(&choices[li], &in[0]->shape, &out[0]->shape);
        if (layout < 0 || (li > 0 && layout == FT_POOL_NCHW)) continue;
        ft_candidate c;
        char lb[32];
        ft_candidate_init(&c, fam, n, in, out);
        c.in_layout[0] = c.out_layout = choices[li];
        c.params[P_LAYOUT] = layout;
        ft_layout_str(&choices[li], lb, sizeof lb);
        for (int k = 0; k < n_isa; k++) {
            c.params[P_ISA] = isas[k];
            int rc = ft_fast_push(list, &c, err, "%s/%s/L:%s", key_op(kind), ft_fast_isa_name(isas[k]), lb);
            if (rc != FT_OK) return rc;
        }
    }
    return FT_OK;
}

static int pool_run(ft_kernel_ctx *ctx)
{
    const ft_candidate *c = ctx->cand;
    const int kind = kind_of(c->family), layout = c->params[P_LAYOUT];
    ft_pool_geom g;
    if (ft_pool_geom_of(ctx->node, kind, ctx->in, ctx->out, &g) ||
        layout_kind(&c->in_layout[0], &ctx->in[0]->shape, &ctx->out[0]->shape) != layout ||
        !ft_layout_equal(&c->in_layout[0], &c->out_layout))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (%s): candidate '%s' does not fit its tensors",
                       ctx->node->name, ctx->node->op_type, c->key);
    const float *x = ctx->in[0]->data;
    float *y = ctx->out[0]->data;
    if (kind == K_MAX) {
        max_kernel kern = max_kernel_for(c->params[P_ISA]);
        if (!kern)
            return ft_fail(ctx->err, FT_ERR_UNSUPPORTED, "node '%s' (%s): candidate '%s' needs an instruction set "
                           "this CPU lacks", ctx->node->name, ctx->node->op_type, c->key);
        kern(&g, layout, x, y);
    } else if (kind == K_AVG) {
        avg_run(&g, layout, x, y);
    } else {
        global_run(&g, kind == K_GLOBAL_MAX, layout, x, y);
    }
    return FT_OK;
}

static const ft_kernel_family fam_max = {"pool.max", "MaxPool", pool_enumerate, NULL, NULL, pool_run, 0};
static const ft_kernel_family fam_avg = {"pool.average", "AveragePool", pool_enumerate, NULL, NULL, pool_run, 0};
static const ft_kernel_family fam_global_avg = {"pool.global_average", "GlobalAveragePool", pool_enumerate, NULL, NULL,
                                                pool_run, 0};
static const ft_kernel_family fam_global_max = {"pool.global_max", "GlobalMaxPool", pool_enumerate, NULL, NULL,
                                                pool_run, 0};

/* In order of preference for the default plan (registry.c reads it). */
const ft_kernel_family *const ft_families_pool[] = {&fam_max, &fam_avg, &fam_global_avg, &fam_global_max, NULL};
