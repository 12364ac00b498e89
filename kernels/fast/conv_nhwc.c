/* conv_nhwc.c - conv.im2col_nhwc: 2-D float32 Conv (any group count) from NHWC to NHWC as im2col and
 * one GEMM per image and group. In NHWC a patch row is kh*kw contiguous runs of the group's channels
 * (one run per tap row when the group spans all channels and the taps are adjacent), and the GEMM's
 * [OH*OW, Mg] result is the output's own layout: it is written in place (ldc = M) over the bias,
 * with no transpose. The weights are re-laid out as B [kh*kw*Cg, Mg] per group, matching the
 * patch rows, and packed once when constant (otherwise re-laid into scratch on every run). A 1x1
 * convolution with stride 1 and no padding skips im2col: the NHWC input already is the patch matrix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_geom.h"
#include "fast_util.h"
#include "linalg_internal.h"

typedef struct nh_plan {
    ft_conv2d_geom g;
    int direct;             /* the input is the patch matrix: no im2col */
    int64_t mg, cg, ck, np; /* per group: output channels, input channels, depth, output positions */
    ft_linalg_problem prob; /* one GEMM call: [np, ck] x [ck, mg] */
    int64_t lda;
    int64_t col_floats, b_floats; /* scratch before the GEMM workspace: patches, re-laid weights */
} nh_plan;

static int64_t round16(int64_t x)
{
    return (x + 15) / 16 * 16;
}

static int nh_plan_build(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, nh_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    if (ft_conv2d_geom_of(n, in, out, &pl->g)) return -1;
    const ft_conv2d_geom *g = &pl->g;
    pl->mg = g->m / g->group;
    pl->cg = g->c / g->group;
    pl->ck = pl->cg * g->kh * g->kw;
    pl->np = g->oh * g->ow;
    pl->direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 && g->oh == g->h &&
                 g->ow == g->w;
    ft_linalg_problem *p = &pl->prob;
    p->M = pl->np;
    p->N = pl->mg;
    p->K = pl->ck;
    p->can_prepack = (in[1]->flags & FT_T_CONST) != 0;
    pl->lda = pl->direct ? g->c : pl->ck;
    if (pl->lda < 1) pl->lda = 1;
    pl->col_floats = pl->direct ? 0 : round16(pl->np * pl->ck);
    return 0;
}

/* B of group gr: row (i, j, c) is tap (i, j) of input channel c, column m output channel m. */
static void nh_weights_b(const nh_plan *pl, const float *w, int64_t gr, float *b)
{
    const ft_conv2d_geom *g = &pl->g;
    const int64_t taps = g->kh * g->kw;
    for (int64_t m = 0; m < pl->mg; m++) {
        const float *wm = w + (gr * pl->mg + m) * pl->ck;
        for (int64_t c = 0; c < pl->cg; c++)
            for (int64_t t = 0; t < taps; t++) b[(t * pl->cg + c) * pl->mg + m] = wm[c * taps + t];
    }
}

/* The patch matrix of group gr of one NHWC image: row (oy, ox) holds, tap by tap, the group's
 * channels at that tap, zero where it falls into the padding. */
static void nh_im2col(const nh_plan *pl, const float *x, int64_t gr, float *col)
{
    const ft_conv2d_geom *g = &pl->g;
    const int64_t cg = pl->cg, run = g->kw * cg;
    const int whole = g->group == 1 && g->dw == 1; /* a tap row is one run of kw * C floats */
    for (int64_t oy = 0; oy < g->oh; oy++)
        for (int64_t ox = 0; ox < g->ow; ox++) {
            float *r = col + (oy * g->ow + ox) * pl->ck;
            const int64_t y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
            int64_t jlo = x0 >= 0 ? 0 : (-x0 + g->dw - 1) / g->dw;
            int64_t jhi = x0 < g->w ? (g->w - 1 - x0) / g->dw + 1 : 0;
            if (jhi > g->kw) jhi = g->kw;
            if (jhi < jlo) jhi = jlo;
            for (int64_t i = 0; i < g->kh; i++) {
                float *t = r + i * run;
                const int64_t iy = y0 + i * g->dh;
                if (iy < 0 || iy >= g->h || jhi == jlo) {
                    memset(t, 0, (size_t)run * sizeof *t);
                    continue;
                }
                const float *xr = x + iy * g->w * g->c + gr * cg;
                memset(t, 0, (size_t)(jlo * cg) * sizeof *t);
                if (whole) {
                    memcpy(t + jlo * cg, xr + (x0 + jlo) * g->c, (size_t)((jhi - jlo) * cg) * sizeof *t);
                } else {
                    for (int64_t j = jlo; j < jhi; j++)
                        memcpy(t + j * cg, xr + (x0 + j * g->dw) * g->c, (size_t)cg * sizeof *t);
                }
                memset(t + jhi * cg, 0, (size_t)((g->kw - jhi) * cg) * sizeof *t);
            }
        }
}

typedef struct nh_state {
    nh_plan pl;
    ft_linalg_schedule s;
    size_t ws_bytes;
    ft_gemm_packed_b *packed[]; /* one per group when s.prepack */
} nh_state;

static void nh_release(void *state)
{
    nh_state *st = state;
    if (!st) return;
    if (st->s.prepack)
        for (int64_t i = 0; i < st->pl.g.group; i++) ft_gemm_packed_b_destroy(st->packed[i]);
    free(st);
}

static int nh_prepare(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes)
{
    const ft_candidate *c = ctx->cand;
    nh_plan pl;
    if (nh_plan_build(ctx->node, ctx->in, ctx->out, &pl))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s does not fit its tensors",
                       ctx->node->name, c->key);
    ft_linalg_schedule s;
    ft_linalg_schedule_load(c->params, &s);
    if (s.prepack && !pl.prob.can_prepack)
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s pre-packs weights that are not constant",
                       ctx->node->name, c->key);
    size_t n_packed = s.prepack ? (size_t)pl.g.group : 0;
    nh_state *st = calloc(1, sizeof *st + n_packed * sizeof st->packed[0]);
    float *b = n_packed ? malloc((size_t)(pl.ck * pl.mg > 0 ? pl.ck * pl.mg : 1) * sizeof *b) : NULL;
    if (!st || (n_packed && !b)) {
        free(st);
        free(b);
        return ft_fail(ctx->err, FT_ERR_NOMEM, "node '%s' (Conv): out of memory", ctx->node->name);
    }
    if (!n_packed) pl.b_floats = round16(pl.g.group * pl.ck * pl.mg);
    st->pl = pl;
    st->s = s;
    int rc = FT_OK;
    for (size_t i = 0; i < n_packed && rc == FT_OK; i++) {
        nh_weights_b(&pl, ctx->in[1]->data, (int64_t)i, b);
        st->packed[i] = ft_gemm_pack_b(&s.q, 0, pl.prob.M, pl.prob.N, pl.prob.K, b, pl.mg > 0 ? pl.mg : 1, ctx->err);
        if (!st->packed[i]) rc = ctx->err ? ctx->err->code : FT_ERR_FAIL;
    }
    free(b);
    if (rc == FT_OK) rc = ft_linalg_workspace(&s, &pl.prob, n_packed ? st->packed[0] : NULL, &st->ws_bytes, ctx->err);
    if (rc != FT_OK) {
        nh_release(st);
        return ft_fast_fail_callee(ctx, rc, 1);
    }
    if (n_packed) ctx->released |= 1u << 1;
    *state = st;
    *scratch_bytes = (size_t)(pl.col_floats + pl.b_floats) * sizeof(float) + st->ws_bytes;
    return FT_OK;
}

static int nh_run(ft_kernel_ctx *ctx)
{
    const nh_state *st = ctx->state;
    if (!st)
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s was not prepared", ctx->node->name,
                       ctx->cand->key);
    const nh_plan *pl = &st->pl;
    const ft_conv2d_geom *g = &pl->g;
    const ft_linalg_problem *p = &pl->prob;
    const float *x = ctx->in[0]->data;
    const float *bias = g->has_bias ? ctx->in[2]->data : NULL;
    if (pl->np == 0 || pl->mg == 0) return FT_OK;
    float *y = ctx->out[0]->data, *col = ctx->scratch;
    float *bt = col ? col + pl->col_floats : NULL;
    void *ws = bt ? bt + pl->b_floats : NULL;
    if (!st->s.prepack)
        for (int64_t gr = 0; gr < g->group; gr++) nh_weights_b(pl, ctx->in[1]->data, gr, bt + gr * pl->ck * pl->mg);
    int rc = FT_OK;
    for (int64_t n = 0; n < g->n && rc == FT_OK; n++) {
        float *yn = y + n * pl->np * g->m;
        if (bias)
            for (int64_t q = 0; q < pl->np; q++) memcpy(yn + q * g->m, bias, (size_t)g->m * sizeof *yn);
        const float *xn = x + n * g->h * g->w * g->c;
        for (int64_t gr = 0; gr < g->group && rc == FT_OK; gr++) {
            if (!pl->direct) nh_im2col(pl, xn, gr, col);
            const float *a = pl->direct ? xn + gr * pl->cg : col;
            float *yg = yn + gr * pl->mg, beta = bias ? 1.0f : 0.0f;
            rc = st->s.prepack ? ft_sgemm_packed(st->packed[gr], 0, p->M, 1.0f, a, pl->lda, beta, yg, g->m, ws,
                                                 st->ws_bytes, ctx->err)
                               : ft_sgemm_ws(&st->s.q, 0, 0, p->M, p->N, p->K, 1.0f, a, pl->lda,
                                             bt + gr * pl->ck * pl->mg, pl->mg, beta, yg, g->m, ws, st->ws_bytes,
                                             ctx->err);
        }
    }
    if (rc != FT_OK) {
        return ft_fast_fail_callee(ctx, rc, 0);
    }
    return FT_OK;
}

static int nh_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    nh_plan pl;
    /* a depthwise Conv is one GEMM per channel of depth kh*kw, one output column: the depthwise
     * family serves it in NHWC */
    if (nh_plan_build(n, in, out, &pl) || (pl.g.group == pl.g.c && pl.g.m == pl.g.c && pl.g.c > 1)) return FT_OK;
    const ft_layout nhwc = {.rank = 4, .perm = {0, 2, 3, 1}};
    char sk[96], li[32], lo[32];
    ft_linalg_schedule sched[FT_LINALG_MAX_SCHEDULES];
    int ns = ft_linalg_schedules(&pl.prob, 1, sched);
    for (int s = 0; s < ns; s++) {
        ft_candidate c;
        ft_candidate_init(&c, &ft_family_conv_im2col_nhwc, n, in, out);
        c.in_layout[0] = nhwc;
        c.out_layout = nhwc;
        ft_linalg_schedule_store(&sched[s], c.params);
        ft_linalg_schedule_str(&sched[s], sk, sizeof sk);
        snprintf(c.key, sizeof c.key, "conv/nhwc/im2col/%s/L:%s>%s", sk, ft_layout_str(&nhwc, li, sizeof li),
                 ft_layout_str(&nhwc, lo, sizeof lo));
        if (ft_candidate_list_push(list, &c) != 0)
            return ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory listing candidates", n->name);
    }
    return FT_OK;
}

const ft_kernel_family ft_family_conv_im2col_nhwc = {"conv.im2col_nhwc", "Conv", nh_enumerate, nh_prepare,
                                                     nh_release, nh_run, 0};
