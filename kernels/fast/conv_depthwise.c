/* conv_depthwise.c - conv.direct_depthwise: 2-D float32 Conv with one group per input channel,
 * computed directly with no im2col. In NCHW each output row accumulates one scaled input row per
 * tap, a loop the compiler vectorises along the row (stride 1). In NHWC and NCHW16c (one output
 * channel per input channel) the channels of a pixel are contiguous, so the loop runs across
 * channels instead: one output pixel of a block of channels accumulates, tap by tap, the input
 * pixel's channels times the tap's weights, which are re-laid out as [C/block][kh][kw][block] to
 * match (once in prepare when constant, into scratch on every run otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_geom.h"
#include "linalg_internal.h"

/* params[DW_LAYOUT]: which layouts the candidate reads and writes */
enum { DW_LAYOUT = 0 };
enum { DW_NCHW = 0, DW_NHWC = 1, DW_NCHW16C = 2 };

/* Channels one pass of the channels-last loop carries (a few vector registers of accumulators). */
#define DW_CHUNK 64

static int dw_geom(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, int layout, ft_conv2d_geom *g)
{
    if (ft_conv2d_geom_of(n, in, out, g) || g->group != g->c) return -1;
    if (layout != DW_NCHW && g->m != g->c) return -1;
    if (layout == DW_NCHW16C && g->c % FT_CONV_BLOCK) return -1;
    return 0;
}

/* One output plane of channel oc from input plane x through the kh x kw filter w. */
static void dw_plane(const ft_conv2d_geom *g, const float *x, const float *w, float bias, float *y)
{
    for (int64_t oy = 0; oy < g->oh; oy++) {
        float *row = y + oy * g->ow;
        for (int64_t ox = 0; ox < g->ow; ox++) row[ox] = bias;
        for (int64_t i = 0; i < g->kh; i++) {
            int64_t iy = oy * g->sh - g->ph + i * g->dh;
            if (iy < 0 || iy >= g->h) continue;
            const float *xr = x + iy * g->w;
            for (int64_t j = 0; j < g->kw; j++) {
                int64_t off = j * g->dw - g->pw, lo, hi;
                ft_conv_valid_range(off, g->sw, g->w, g->ow, &lo, &hi);
                const float wv = w[i * g->kw + j];
                if (g->sw == 1) {
                    for (int64_t ox = lo; ox < hi; ox++) row[ox] += wv * xr[ox + off];
                } else {
                    for (int64_t ox = lo; ox < hi; ox++) row[ox] += wv * xr[ox * g->sw + off];
                }
            }
        }
    }
}

static void dw_run_nchw(const ft_conv2d_geom *g, const float *x, const float *w, const float *bias, float *y)
{
    int64_t mult = g->m / g->c, in_plane = g->h * g->w, out_plane = g->oh * g->ow, taps = g->kh * g->kw;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oc = 0; oc < g->m; oc++)
            dw_plane(g, x + (n * g->c + oc / mult) * in_plane, w + oc * taps, bias ? bias[oc] : 0.0f,
                     y + (n * g->m + oc) * out_plane);
}

/* The channels-last view of one image: blocks of `cw` channels, `ps` floats per pixel, `bs` floats
 * between blocks (NHWC: one block of all C channels; NCHW16c: C/16 blocks of 16). */
typedef struct dw_view {
    int64_t blocks, cw, ps, bs_in, bs_out;
} dw_view;

static dw_view dw_view_of(const ft_conv2d_geom *g, int layout)
{
    dw_view v;
    if (layout == DW_NHWC) {
        v.blocks = 1;
        v.cw = v.ps = g->c;
        v.bs_in = v.bs_out = 0;
    } else {
        v.blocks = g->c / FT_CONV_BLOCK;
        v.cw = v.ps = FT_CONV_BLOCK;
        v.bs_in = g->h * g->w * FT_CONV_BLOCK;
        v.bs_out = g->oh * g->ow * FT_CONV_BLOCK;
    }
    return v;
}

/* w [C][1][kh][kw] into [blocks][kh][kw][cw]. */
static void dw_pack(const ft_conv2d_geom *g, const dw_view *v, const float *w, float *pk)
{
    const int64_t taps = g->kh * g->kw;
    for (int64_t c = 0; c < g->c; c++)
        for (int64_t t = 0; t < taps; t++) pk[((c / v->cw) * taps + t) * v->cw + c % v->cw] = w[c * taps + t];
}

/* Output pixel (oy, ox) of channels [c0, c0 + n) of one block: x, w, bias and y at the block. n is a
 * constant DW_CHUNK or FT_CONV_BLOCK in the hot calls, so the channel loops vectorise. */
static inline void dw_pixel(const ft_conv2d_geom *g, const dw_view *v, const float *x, const float *w,
                            const float *bias, float *y, int64_t oy, int64_t ox, int64_t c0, const int64_t n)
{
    float acc[DW_CHUNK];
    for (int64_t c = 0; c < n; c++) acc[c] = bias ? bias[c0 + c] : 0.0f;
    const int64_t y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
    for (int64_t i = 0; i < g->kh; i++) {
        const int64_t iy = y0 + i * g->dh;
        if (iy < 0 || iy >= g->h) continue;
        for (int64_t j = 0; j < g->kw; j++) {
            const int64_t ix = x0 + j * g->dw;
            if (ix < 0 || ix >= g->w) continue;
            const float *xp = x + (iy * g->w + ix) * v->ps + c0, *wp = w + (i * g->kw + j) * v->cw + c0;
            for (int64_t c = 0; c < n; c++) acc[c] += xp[c] * wp[c];
        }
    }
    float *yp = y + (oy * g->ow + ox) * v->ps + c0;
    for (int64_t c = 0; c < n; c++) yp[c] = acc[c];
}

static void dw_run_channels_last(const ft_conv2d_geom *g, int layout, const float *x, const float *pk,
                                 const float *bias, float *y)
{
    const dw_view v = dw_view_of(g, layout);
    const int64_t taps = g->kh * g->kw;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t b = 0; b < v.blocks; b++) {
            const float *xb = x + n * g->c * g->h * g->w + b * v.bs_in, *wb = pk + b * taps * v.cw;
            const float *bb = bias ? bias + b * v.cw : NULL;
            float *yb = y + n * g->m * g->oh * g->ow + b * v.bs_out;
            for (int64_t oy = 0; oy < g->oh; oy++)
                for (int64_t ox = 0; ox < g->ow; ox++) {
                    if (layout == DW_NCHW16C) {
                        dw_pixel(g, &v, xb, wb, bb, yb, oy, ox, 0, FT_CONV_BLOCK);
                        continue;
                    }
                    int64_t c0 = 0;
                    for (; c0 + DW_CHUNK <= v.cw; c0 += DW_CHUNK) dw_pixel(g, &v, xb, wb, bb, yb, oy, ox, c0, DW_CHUNK);
                    if (c0 < v.cw) dw_pixel(g, &v, xb, wb, bb, yb, oy, ox, c0, v.cw - c0);
                }
        }
}

typedef struct dw_state {
    int prepacked;
    float w[]; /* [blocks][kh][kw][cw] when prepacked */
} dw_state;

static void dw_release(void *state)
{
    free(state);
}

static int dw_prepare(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes)
{
    const int layout = ctx->cand->params[DW_LAYOUT];
    ft_conv2d_geom g;
    if (dw_geom(ctx->node, ctx->in, ctx->out, layout, &g))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s does not fit its tensors",
                       ctx->node->name, ctx->cand->key);
    *state = NULL;
    *scratch_bytes = 0;
    if (layout == DW_NCHW) return FT_OK;
    const int64_t floats = g.c * g.kh * g.kw;
    if (!(ctx->in[1]->flags & FT_T_CONST)) {
        *scratch_bytes = (size_t)floats * sizeof(float);
        return FT_OK;
    }
    dw_state *st = malloc(sizeof *st + (size_t)floats * sizeof(float));
    if (!st) return ft_fail(ctx->err, FT_ERR_NOMEM, "node '%s' (Conv): out of memory", ctx->node->name);
    st->prepacked = 1;
    const dw_view v = dw_view_of(&g, layout);
    dw_pack(&g, &v, ctx->in[1]->data, st->w);
    ctx->released |= 1u << 1;
    *state = st;
    return FT_OK;
}

static int dw_run(ft_kernel_ctx *ctx)
{
    const int layout = ctx->cand->params[DW_LAYOUT];
    ft_conv2d_geom g;
    if (dw_geom(ctx->node, ctx->in, ctx->out, layout, &g))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s does not fit its tensors",
                       ctx->node->name, ctx->cand->key);
    const float *x = ctx->in[0]->data;
    const float *bias = g.has_bias ? ctx->in[2]->data : NULL;
    float *y = ctx->out[0]->data;
    if (g.oh * g.ow == 0) return FT_OK;
    if (layout == DW_NCHW) {
        dw_run_nchw(&g, x, ctx->in[1]->data, bias, y);
        return FT_OK;
    }
    const dw_state *st = ctx->state;
    const float *pk = st ? st->w : ctx->scratch;
    if (!st) {
        if (!ctx->scratch)
            return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s was not prepared",
                           ctx->node->name, ctx->cand->key);
        const dw_view v = dw_view_of(&g, layout);
        dw_pack(&g, &v, ctx->in[1]->data, ctx->scratch);
    }
    dw_run_channels_last(&g, layout, x, pk, bias, y);
    return FT_OK;
}

static int dw_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    static const ft_layout layouts[] = {
        {.rank = 4, .perm = {0, 1, 2, 3}},
        {.rank = 4, .perm = {0, 2, 3, 1}},
        {.rank = 4, .perm = {0, 1, 2, 3}, .block_axis = 1, .block = FT_CONV_BLOCK},
    };
    ft_conv2d_geom g;
    char li[32], lo[32];
    for (int layout = DW_NCHW; layout <= DW_NCHW16C; layout++) {
        if (dw_geom(n, in, out, layout, &g)) continue;
        ft_candidate c;
        ft_candidate_init(&c, &ft_family_conv_direct_depthwise, n, in, out);
        c.params[DW_LAYOUT] = layout;
        if (layout == DW_NCHW) {
            snprintf(c.key, sizeof c.key, "conv/depthwise/direct");
        } else {
            c.in_layout[0] = c.out_layout = layouts[layout];
            snprintf(c.key, sizeof c.key, "conv/depthwise/direct/L:%s>%s",
                     ft_layout_str(&layouts[layout], li, sizeof li), ft_layout_str(&layouts[layout], lo, sizeof lo));
        }
        if (ft_candidate_list_push(list, &c) != 0)
            return ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory listing candidates", n->name);
    }
    return FT_OK;
}

const ft_kernel_family ft_family_conv_direct_depthwise = {"conv.direct_depthwise", "Conv", dw_enumerate, dw_prepare,
                                                          dw_release, dw_run, 0};
