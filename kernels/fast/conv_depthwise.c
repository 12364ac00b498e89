/* conv_depthwise.c - conv.direct_depthwise: 2-D float32 Conv in NCHW with one group per input channel,
 * computed directly: each output row accumulates one scaled input row per tap, a loop the compiler
 * vectorises along the row (stride 1) with no im2col and no scratch. */
#include <stdio.h>
#include <string.h>

#include "conv_geom.h"
#include "linalg_internal.h"

static int dw_geom(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_conv2d_geom *g)
{
    if (ft_conv2d_geom_of(n, in, out, g)) return -1;
    return g->group == g->c ? 0 : -1;
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

static int dw_run(ft_kernel_ctx *ctx)
{
    ft_conv2d_geom g;
    if (dw_geom(ctx->node, ctx->in, ctx->out, &g))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s does not fit its tensors",
                       ctx->node->name, ctx->cand->key);
    const float *x = ctx->in[0]->data, *w = ctx->in[1]->data;
    const float *bias = g.has_bias ? ctx->in[2]->data : NULL;
    float *y = ctx->out[0]->data;
    int64_t mult = g.m / g.c, in_plane = g.h * g.w, out_plane = g.oh * g.ow, taps = g.kh * g.kw;
    if (out_plane == 0) return FT_OK;
    for (int64_t n = 0; n < g.n; n++)
        for (int64_t oc = 0; oc < g.m; oc++)
            dw_plane(&g, x + (n * g.c + oc / mult) * in_plane, w + oc * taps, bias ? bias[oc] : 0.0f,
                     y + (n * g.m + oc) * out_plane);
    return FT_OK;
}

static int dw_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    ft_conv2d_geom g;
    if (dw_geom(n, in, out, &g)) return FT_OK;
    ft_candidate c;
    ft_candidate_init(&c, &ft_family_conv_direct_depthwise, n, in, out);
    snprintf(c.key, sizeof c.key, "conv/depthwise/direct");
    if (ft_candidate_list_push(list, &c) != 0)
        return ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory listing candidates", n->name);
    return FT_OK;
}

const ft_kernel_family ft_family_conv_direct_depthwise = {"conv.direct_depthwise", "Conv", dw_enumerate, NULL,
                                                          NULL, dw_run, 0};
