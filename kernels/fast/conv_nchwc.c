/* conv_nchwc.c - conv.direct_nchwc: 2-D float32 Conv with one group and a multiple of 16 output
 * channels, computed directly into NCHW16c (no im2col). The input is NCHW16c when its channels are a
 * multiple of 16, NCHW otherwise (a network's first convolution, whose 3 channels cannot be blocked,
 * then hands its successors blocked data). Constant weights are packed once in prepare as
 * conv_nchwc.h describes; other weights are packed into scratch on every run. The row kernels come
 * per instruction set (conv_nchwc_*.c); the knobs are the ISA, the register tile, and how padding is
 * met: output columns whose taps leave the input run as single pixels (no copy), or the image is
 * first copied into a zero-bordered one in scratch so that every row is whole tiles (small maps,
 * where the edge columns are a large part of each row).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_geom.h"
#include "conv_nchwc.h"
#include "fast_util.h"
#include "isa.h"
#include "linalg_internal.h"

typedef struct nc_geom {
    ft_conv2d_geom g;
    int nchw_in;          /* the input is NCHW (one channel block of icn = C) */
    int64_t n_icb, icn;   /* input channel blocks, channels per block */
    int64_t n_mb;         /* output blocks */
    int64_t packed_floats;
    int64_t hp, wp;       /* the zero-bordered image: the rows and columns the windows reach */
} nc_geom;

static int nc_geom_of(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, int nchw_in, nc_geom *q)
{
    memset(q, 0, sizeof *q);
    if (ft_conv2d_geom_of(n, in, out, &q->g)) return -1;
    const ft_conv2d_geom *g = &q->g;
    if (g->group != 1 || g->m % FT_CONV_BLOCK || (!nchw_in && g->c % FT_CONV_BLOCK)) return -1;
    q->nchw_in = nchw_in;
    q->n_icb = nchw_in ? 1 : g->c / FT_CONV_BLOCK;
    q->icn = nchw_in ? g->c : FT_CONV_BLOCK;
    q->n_mb = g->m / FT_CONV_BLOCK;
    q->packed_floats = g->m * g->c * g->kh * g->kw;
    q->hp = (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1;
    q->wp = (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
    return 0;
}

/* w [M][C][kh][kw] into [M/16][n_icb][kh][kw][icn][16]. */
static void nc_pack(const nc_geom *q, const float *w, float *pk)
{
    const ft_conv2d_geom *g = &q->g;
    for (int64_t m = 0; m < g->m; m++)
        for (int64_t c = 0; c < g->c; c++)
            for (int64_t i = 0; i < g->kh; i++)
                for (int64_t j = 0; j < g->kw; j++) {
                    int64_t mb = m / 16, cb = c / q->icn, ci = c % q->icn;
                    pk[((((mb * q->n_icb + cb) * g->kh + i) * g->kw + j) * q->icn + ci) * 16 + m % 16] =
                        w[((m * g->c + c) * g->kh + i) * g->kw + j];
                }
}

/* Image x (NCHW16c, or NCHW when q->nchw_in) into xp, of the same layout and q->hp x q->wp pixels:
 * the input shifted by the padding, zero around it. */
static void nc_pad_copy(const nc_geom *q, const float *x, float *xp)
{
    const ft_conv2d_geom *g = &q->g;
    const int64_t px = q->nchw_in ? 1 : 16, planes = q->nchw_in ? g->c : g->c / 16;
    const int64_t ncopy = g->w < q->wp - g->pw ? g->w : q->wp - g->pw; /* columns of the input the windows reach */
    for (int64_t pl = 0; pl < planes; pl++)
        for (int64_t yp = 0; yp < q->hp; yp++) {
            float *d = xp + (pl * q->hp + yp) * q->wp * px;
            int64_t iy = yp - g->ph;
            if (iy < 0 || iy >= g->h || ncopy <= 0) {
                memset(d, 0, (size_t)(q->wp * px) * sizeof *d);
                continue;
            }
            int64_t lead = g->pw < q->wp ? g->pw : q->wp;
            memset(d, 0, (size_t)(lead * px) * sizeof *d);
            memcpy(d + lead * px, x + (pl * g->h + iy) * g->w * px, (size_t)(ncopy * px) * sizeof *d);
            memset(d + (lead + ncopy) * px, 0, (size_t)((q->wp - lead - ncopy) * px) * sizeof *d);
        }
}

static int tile_offered(const ft_conv_nchwc_kernels *k, int owb, int ocb)
{
    for (int t = 0; t < k->n_tiles; t++)
        if (k->tiles[t].owb == owb && k->tiles[t].ocb == ocb) return 1;
    return 0;
}

typedef struct nc_state {
    nc_geom q;
    const ft_conv_nchwc_kernels *k;
    int owb, ocb;
    int prepacked, pad_copy;
    float w[]; /* the packed weights when prepacked */
} nc_state;

static void nc_release(void *state)
{
    free(state);
}

static int nc_prepare(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes)
{
    const ft_candidate *c = ctx->cand;
    nc_geom q;
    const ft_conv_nchwc_kernels *k = ft_conv_nchwc_kernels_for(c->params[FT_NC_ISA]);
    if (!k || !ft_fast_isa_supported(c->params[FT_NC_ISA]))
        return ft_fail(ctx->err, FT_ERR_UNSUPPORTED,
                       "node '%s' (Conv): candidate %s needs %s, which this build or CPU lacks", ctx->node->name,
                       c->key, ft_fast_isa_name(c->params[FT_NC_ISA]));
    if (nc_geom_of(ctx->node, ctx->in, ctx->out, c->params[FT_NC_NCHW_IN] != 0, &q) ||
        !tile_offered(k, c->params[FT_NC_OWB], c->params[FT_NC_OCB]))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s does not fit its tensors",
                       ctx->node->name, c->key);
    int prepack = (ctx->in[1]->flags & FT_T_CONST) != 0;
    size_t n_w = prepack ? (size_t)q.packed_floats : 0;
    nc_state *st = calloc(1, sizeof *st + n_w * sizeof(float));
    if (!st) return ft_fail(ctx->err, FT_ERR_NOMEM, "node '%s' (Conv): out of memory", ctx->node->name);
    st->q = q;
    st->k = k;
    st->owb = c->params[FT_NC_OWB];
    st->ocb = c->params[FT_NC_OCB];
    st->prepacked = prepack;
    st->pad_copy = c->params[FT_NC_PAD_COPY] != 0;
    if (prepack) {
        nc_pack(&q, ctx->in[1]->data, st->w);
        ctx->released |= 1u << 1;
    }
    *state = st;
    int64_t floats = (prepack ? 0 : q.packed_floats) + (st->pad_copy ? q.g.c * q.hp * q.wp : 0);
    *scratch_bytes = (size_t)floats * sizeof(float);
    return FT_OK;
}

static int nc_run(ft_kernel_ctx *ctx)
{
    const nc_state *st = ctx->state;
    if (!st)
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s was not prepared", ctx->node->name,
                       ctx->cand->key);
    const nc_geom *q = &st->q;
    const ft_conv2d_geom *g = &q->g;
    const float *x = ctx->in[0]->data, *w = st->w;
    const float *bias = g->has_bias ? ctx->in[2]->data : NULL;
    float *y = ctx->out[0]->data;
    if (g->oh * g->ow == 0) return FT_OK;
    float *xp = ctx->scratch;
    if (!st->prepacked) {
        nc_pack(q, ctx->in[1]->data, ctx->scratch);
        w = ctx->scratch;
        xp += q->packed_floats;
    }
    /* the image the rows read: the input, or its zero-bordered copy */
    const int64_t ih = st->pad_copy ? q->hp : g->h, iw = st->pad_copy ? q->wp : g->w;
    const int64_t ph = st->pad_copy ? 0 : g->ph, pw = st->pad_copy ? 0 : g->pw;
    /* NCHW16c input: 16 floats per pixel, blocks of H*W*16; NCHW input: 1 float per pixel, channels
     * H*W apart */
    const int64_t x_col = q->nchw_in ? 1 : 16;
    ft_conv_nchwc_row r;
    memset(&r, 0, sizeof r);
    r.n_icb = q->n_icb;
    r.icn = q->icn;
    r.kw = g->kw;
    r.iw = iw;
    r.ow = g->ow;
    r.sw = g->sw;
    r.dw = g->dw;
    r.pw = pw;
    r.x_icb = ih * iw * 16;
    r.x_ic = q->nchw_in ? ih * iw : 1;
    r.x_kh = g->dh * iw * x_col;
    r.x_col = x_col;
    r.w_kh = g->kw * q->icn * 16;
    r.w_icb = g->kh * r.w_kh;
    r.w_ocb = q->n_icb * r.w_icb;
    r.y_ocb = g->oh * g->ow * 16;
    for (int64_t n = 0; n < g->n; n++) {
        const float *xn = x + n * g->c * g->h * g->w;
        if (st->pad_copy) {
            nc_pad_copy(q, xn, xp);
            xn = xp;
        }
        for (int64_t mb = 0; mb < q->n_mb; mb += st->ocb) {
            int nb = q->n_mb - mb < st->ocb ? (int)(q->n_mb - mb) : st->ocb;
            for (int64_t oy = 0; oy < g->oh; oy++) {
                int64_t y0 = oy * g->sh - ph;
                int64_t ilo = y0 >= 0 ? 0 : (-y0 + g->dh - 1) / g->dh;
                int64_t ihi = y0 < ih ? (ih - 1 - y0) / g->dh + 1 : 0;
                if (ihi > g->kh) ihi = g->kh;
                if (ihi < ilo) ihi = ilo;
                r.n_kh = ihi - ilo;
                r.x = xn + (r.n_kh ? (y0 + ilo * g->dh) * iw * x_col : 0);
                r.w = w + mb * r.w_ocb + ilo * r.w_kh;
                r.bias = bias ? bias + mb * 16 : NULL;
                r.y = y + n * g->m * g->oh * g->ow + mb * r.y_ocb + oy * g->ow * 16;
                st->k->row(&r, st->owb, nb);
            }
        }
    }
    return FT_OK;
}

/* A tile is worth measuring unless it has more output blocks than the node, or is wider than the
 * row while a narrower one exists (it would only run its narrower tails). */
static int tile_fits(const ft_conv_nchwc_kernels *k, const ft_conv_nchwc_tile *tl, const nc_geom *q)
{
    if (tl->ocb > q->n_mb) return 0;
    for (int u = 0; u < k->n_tiles; u++)
        if (k->tiles[u].ocb == tl->ocb && k->tiles[u].owb < tl->owb && tl->owb > q->g.ow) return 0;
    return 1;
}

/* The candidates of one ISA and tile: without and, when there is padding, with the padded copy. */
static int push_tile(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, const nc_geom *q, int isa,
                     const ft_conv_nchwc_tile *tl, ft_candidate_list *list, ft_error *err)
{
    const ft_conv2d_geom *g = &q->g;
    const ft_layout blocked = {.rank = 4, .perm = {0, 1, 2, 3}, .block_axis = 1, .block = FT_CONV_BLOCK};
    const int padded = g->ph > 0 || g->pw > 0 || q->hp > g->h || q->wp > g->w;
    char li[32], lo[32];
    for (int pad_copy = 0; pad_copy <= padded; pad_copy++) {
        ft_candidate c;
        ft_candidate_init(&c, &ft_family_conv_direct_nchwc, n, in, out);
        if (!q->nchw_in) c.in_layout[0] = blocked;
        c.out_layout = blocked;
        c.params[FT_NC_ISA] = isa;
        c.params[FT_NC_OWB] = tl->owb;
        c.params[FT_NC_OCB] = tl->ocb;
        c.params[FT_NC_NCHW_IN] = q->nchw_in;
        c.params[FT_NC_PAD_COPY] = pad_copy;
        int rc = ft_fast_push(list, &c, err, "conv/nchwc/direct/%s/ow%doc%d%s/L:%s>%s", ft_fast_isa_name(isa), tl->owb,
                              tl->ocb, pad_copy ? "/padcopy" : "", ft_layout_str(&c.in_layout[0], li, sizeof li),
                              ft_layout_str(&c.out_layout, lo, sizeof lo));
        if (rc != FT_OK) return rc;
    }
    return FT_OK;
}

static int nc_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    nc_geom q;
    if (nc_geom_of(n, in, out, 0, &q) && nc_geom_of(n, in, out, 1, &q)) return FT_OK;
    int isas[FT_FAST_N_ISA], n_isa = ft_fast_isas(isas), listed = 0;
    /* every tile of the widest ISA with kernels; the first fitting tile of the next narrower one
     * (what a CPU without the widest runs); the portable kernels only where no vector ISA has any */
    for (int a = 0; a < n_isa && listed < 2; a++) {
        const ft_conv_nchwc_kernels *k = ft_conv_nchwc_kernels_for(isas[a]);
        if (!k || (listed && isas[a] == FT_FAST_SCALAR)) continue;
        for (int t = 0; t < k->n_tiles; t++) {
            if (!tile_fits(k, &k->tiles[t], &q)) continue;
            int rc = push_tile(n, in, out, &q, isas[a], &k->tiles[t], list, err);
            if (rc != FT_OK) return rc;
            if (listed) break;
        }
        listed++;
    }
    return FT_OK;
}

const ft_kernel_family ft_family_conv_direct_nchwc = {"conv.direct_nchwc", "Conv", nc_enumerate, nc_prepare,
                                                      nc_release, nc_run, 0};
