/* conv_im2col.c - conv.im2col: 2-D float32 Conv in NCHW (any group count) as im2col into scratch and
 * one packed GEMM per image and group. Two forms: the weights as A, read where they lie, against
 * the patch matrix [C*kh*kw, OH*OW] (writes NCHW directly); or the patches [OH*OW, C*kh*kw] as A
 * against the weights transposed and pre-packed as B, then the [OH*OW, M] result transposed into
 * NCHW (better when OH*OW is small and M large: the last stages of a CNN). 1x1 convolutions with
 * stride 1 and no padding skip im2col: the input already is the patch matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_geom.h"
#include "fast_util.h"
#include "linalg_internal.h"

enum { CV_WEIGHTS_A = 0, CV_WEIGHTS_B = 1 };

typedef struct cv_plan {
    ft_conv2d_geom g;
    int variant;
    int direct;                 /* the input is the patch matrix: no im2col */
    int64_t mg, cg, ck, np;     /* per group: output channels, input channels, depth, output positions */
    ft_linalg_problem prob;     /* one GEMM call */
    int64_t lda, ldb, ldc;
    int64_t col_floats, yt_floats; /* scratch regions before the GEMM workspace */
} cv_plan;

static int64_t max1(int64_t x)
{
    return x > 1 ? x : 1;
}

static int64_t round16(int64_t x)
{
    return (x + 15) / 16 * 16;
}

static int cv_plan_build(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, int variant, cv_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    if (ft_conv2d_geom_of(n, in, out, &pl->g)) return -1;
    const ft_conv2d_geom *g = &pl->g;
    pl->variant = variant;
    pl->mg = g->m / g->group;
    pl->cg = g->c / g->group;
    pl->ck = pl->cg * g->kh * g->kw;
    pl->np = g->oh * g->ow;
    pl->direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 && g->oh == g->h &&
                 g->ow == g->w;
    ft_linalg_problem *p = &pl->prob;
    p->K = pl->ck;
    if (variant == CV_WEIGHTS_A) {
        p->M = pl->mg;
        p->N = pl->np;
        pl->lda = max1(pl->ck);
        pl->ldb = max1(pl->np);
        pl->ldc = max1(pl->np);
    } else {
        p->M = pl->np;
        p->N = pl->mg;
        p->trans_a = pl->direct; /* the input [C, H*W] read as its transpose */
        p->trans_b = 1;
        p->can_prepack = (in[1]->flags & FT_T_CONST) != 0;
        pl->lda = pl->direct ? max1(pl->np) : max1(pl->ck);
        pl->ldb = max1(pl->ck);
        pl->ldc = max1(pl->mg);
        pl->yt_floats = round16(pl->np * pl->mg);
    }
    pl->col_floats = pl->direct ? 0 : round16(pl->ck * pl->np);
    return 0;
}

/* The patch matrix of one group, one row per (channel, tap), one column per output position:
 * each row is a strided copy of input rows, zero where the tap falls into the padding. */
static void im2col_columns(const cv_plan *pl, const float *x, float *col)
{
    const ft_conv2d_geom *g = &pl->g;
    for (int64_t ci = 0; ci < pl->cg; ci++)
        for (int64_t i = 0; i < g->kh; i++)
            for (int64_t j = 0; j < g->kw; j++) {
                float *row = col + ((ci * g->kh + i) * g->kw + j) * pl->np;
                int64_t offy = i * g->dh - g->ph, offx = j * g->dw - g->pw, ylo, yhi, xlo, xhi;
                ft_conv_valid_range(offy, g->sh, g->h, g->oh, &ylo, &yhi);
                ft_conv_valid_range(offx, g->sw, g->w, g->ow, &xlo, &xhi);
                for (int64_t oy = 0; oy < g->oh; oy++) {
                    float *r = row + oy * g->ow;
                    if (oy < ylo || oy >= yhi) {
                        memset(r, 0, (size_t)g->ow * sizeof *r);
                        continue;
                    }
                    const float *xr = x + (ci * g->h + oy * g->sh + offy) * g->w + offx;
                    memset(r, 0, (size_t)xlo * sizeof *r);
                    if (g->sw == 1)
                        memcpy(r + xlo, xr + xlo, (size_t)(xhi - xlo) * sizeof *r);
                    else
                        for (int64_t ox = xlo; ox < xhi; ox++) r[ox] = xr[ox * g->sw];
                    memset(r + xhi, 0, (size_t)(g->ow - xhi) * sizeof *r);
                }
            }
}

/* The transposed patch matrix: one row of C*kh*kw taps per output position. */
static void im2col_rows(const cv_plan *pl, const float *x, float *col)
{
    const ft_conv2d_geom *g = &pl->g;
    for (int64_t oy = 0; oy < g->oh; oy++)
        for (int64_t ox = 0; ox < g->ow; ox++) {
            float *r = col + (oy * g->ow + ox) * pl->ck;
            int64_t y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
            for (int64_t ci = 0; ci < pl->cg; ci++) {
                const float *xc = x + ci * g->h * g->w;
                for (int64_t i = 0; i < g->kh; i++) {
                    int64_t iy = y0 + i * g->dh;
                    float *t = r + (ci * g->kh + i) * g->kw;
                    if (iy < 0 || iy >= g->h) {
                        memset(t, 0, (size_t)g->kw * sizeof *t);
                        continue;
                    }
                    const float *xr = xc + iy * g->w;
                    for (int64_t j = 0; j < g->kw; j++) {
                        int64_t ix = x0 + j * g->dw;
                        t[j] = ix >= 0 && ix < g->w ? xr[ix] : 0.0f;
                    }
                }
            }
        }
}

typedef struct cv_state {
    cv_plan pl;
    ft_linalg_schedule s;
    size_t ws_bytes;
    ft_gemm_packed_b *packed[]; /* one per group when s.prepack */
} cv_state;

static void cv_release(void *state)
{
    cv_state *st = state;
    if (!st) return;
    if (st->s.prepack)
        for (int64_t i = 0; i < st->pl.g.group; i++) ft_gemm_packed_b_destroy(st->packed[i]);
    free(st);
}

static int cv_prepare(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes)
{
    const ft_candidate *c = ctx->cand;
    cv_plan pl;
    if (cv_plan_build(ctx->node, ctx->in, ctx->out, c->params[FT_LP_VARIANT], &pl))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s does not fit its tensors",
                       ctx->node->name, c->key);
    ft_linalg_schedule s;
    ft_linalg_schedule_load(c->params, &s);
    if (s.prepack && !pl.prob.can_prepack)
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s pre-packs weights that are not constant",
                       ctx->node->name, c->key);
    size_t n_packed = s.prepack ? (size_t)pl.g.group : 0;
    cv_state *st = calloc(1, sizeof *st + n_packed * sizeof st->packed[0]);
    if (!st) return ft_fail(ctx->err, FT_ERR_NOMEM, "node '%s' (Conv): out of memory", ctx->node->name);
    st->pl = pl;
    st->s = s;
    int rc = FT_OK;
    const float *w = ctx->in[1]->data;
    for (size_t i = 0; i < n_packed && rc == FT_OK; i++) {
        st->packed[i] = ft_gemm_pack_b(&s.q, 1, pl.prob.M, pl.prob.N, pl.prob.K, w + (int64_t)i * pl.mg * pl.ck,
                                       pl.ldb, ctx->err);
        if (!st->packed[i]) rc = ctx->err ? ctx->err->code : FT_ERR_FAIL;
    }
    if (rc == FT_OK) rc = ft_linalg_workspace(&s, &pl.prob, n_packed ? st->packed[0] : NULL, &st->ws_bytes, ctx->err);
    if (rc != FT_OK) {
        cv_release(st);
        return ft_fast_fail_callee(ctx, rc, 1);
    }
    if (n_packed && pl.variant != CV_WEIGHTS_A) ctx->released |= 1u << 1;
    *state = st;
    *scratch_bytes = (size_t)(pl.col_floats + pl.yt_floats) * sizeof(float) + st->ws_bytes;
    return FT_OK;
}

/* y[m][p] = yt[p][m] + bias[m], in tiles that keep both sides in L1. */
static void transpose_out(const float *yt, int64_t np, int64_t mg, const float *bias, float *y)
{
    enum { T = 32 };
    for (int64_t m0 = 0; m0 < mg; m0 += T)
        for (int64_t p0 = 0; p0 < np; p0 += T) {
            int64_t m1 = m0 + T < mg ? m0 + T : mg, p1 = p0 + T < np ? p0 + T : np;
            for (int64_t m = m0; m < m1; m++) {
                float b = bias ? bias[m] : 0.0f, *dst = y + m * np;
                for (int64_t p = p0; p < p1; p++) dst[p] = yt[p * mg + m] + b;
            }
        }
}

static int cv_run(ft_kernel_ctx *ctx)
{
    const cv_state *st = ctx->state;
    if (!st)
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Conv): candidate %s was not prepared", ctx->node->name,
                       ctx->cand->key);
    const cv_plan *pl = &st->pl;
    const ft_conv2d_geom *g = &pl->g;
    const ft_linalg_problem *p = &pl->prob;
    const float *x = ctx->in[0]->data, *w = ctx->in[1]->data;
    const float *bias = g->has_bias ? ctx->in[2]->data : NULL;
    if (pl->np == 0 || pl->mg == 0) return FT_OK;
    float *y = ctx->out[0]->data, *col = ctx->scratch;
    float *yt = col ? col + pl->col_floats : NULL;
    void *ws = yt ? yt + pl->yt_floats : NULL;
    int rc = FT_OK;
    for (int64_t n = 0; n < g->n && rc == FT_OK; n++)
        for (int64_t gr = 0; gr < g->group && rc == FT_OK; gr++) {
            const float *xg = x + (n * g->c + gr * pl->cg) * g->h * g->w, *wg = w ? w + gr * pl->mg * pl->ck : NULL;
            const float *bg = bias ? bias + gr * pl->mg : NULL;
            float *yg = y + (n * g->m + gr * pl->mg) * pl->np;
            if (pl->variant == CV_WEIGHTS_A) {
                if (!pl->direct) im2col_columns(pl, xg, col);
                if (bg)
                    for (int64_t m = 0; m < pl->mg; m++)
                        for (int64_t q = 0; q < pl->np; q++) yg[m * pl->np + q] = bg[m];
                rc = ft_sgemm_ws(&st->s.q, 0, 0, p->M, p->N, p->K, 1.0f, wg, pl->lda, pl->direct ? xg : col, pl->ldb,
                                 bg ? 1.0f : 0.0f, yg, pl->ldc, ws, st->ws_bytes, ctx->err);
                continue;
            }
            if (!pl->direct) im2col_rows(pl, xg, col);
            const float *a = pl->direct ? xg : col;
            rc = st->s.prepack ? ft_sgemm_packed(st->packed[gr], p->trans_a, p->M, 1.0f, a, pl->lda, 0.0f, yt, pl->ldc,
                                                 ws, st->ws_bytes, ctx->err)
                               : ft_sgemm_ws(&st->s.q, p->trans_a, 1, p->M, p->N, p->K, 1.0f, a, pl->lda, wg, pl->ldb,
                                             0.0f, yt, pl->ldc, ws, st->ws_bytes, ctx->err);
            if (rc == FT_OK) transpose_out(yt, pl->np, pl->mg, bg, yg);
        }
    if (rc != FT_OK) {
        return ft_fast_fail_callee(ctx, rc, 0);
    }
    return FT_OK;
}

/* Which form goes first (the default). Measured on ResNet-18's convolutions (Zen 4, AVX-512): the
 * weights-as-A form wins while the output has more positions than channels (the early stages) and
 * for strided 1x1 downsampling (its im2col is a plain strided copy, the gather of the other form is
 * not); the weights-as-B form wins by 10-25% for 3x3 and larger kernels on 14x14 and 7x7 maps,
 * where the positions no longer fill the wide tiles of the weights-as-A form. */
static int preferred_variant(const cv_plan *pl)
{
    return pl->np < pl->mg && pl->g.kh * pl->g.kw > 1 ? CV_WEIGHTS_B : CV_WEIGHTS_A;
}

static int cv_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    cv_plan pl[2];
    if (cv_plan_build(n, in, out, CV_WEIGHTS_A, &pl[0]) || cv_plan_build(n, in, out, CV_WEIGHTS_B, &pl[1]))
        return FT_OK;
    int first = preferred_variant(&pl[0]);
    ft_linalg_schedule sched[FT_LINALG_MAX_SCHEDULES];
    for (int v = 0; v < 2; v++) {
        int variant = v == 0 ? first : 1 - first;
        int ns = ft_linalg_schedules(&pl[variant].prob, 0, sched);
        for (int s = 0; s < ns; s++) {
            ft_candidate c;
            char sk[96];
            ft_candidate_init(&c, &ft_family_conv_im2col, n, in, out);
            ft_linalg_schedule_store(&sched[s], c.params);
            c.params[FT_LP_VARIANT] = variant;
            ft_linalg_schedule_str(&sched[s], sk, sizeof sk);
            snprintf(c.key, sizeof c.key, "conv/im2col/%s/%s", variant == CV_WEIGHTS_A ? "weightsA" : "weightsB", sk);
            if (ft_candidate_list_push(list, &c) != 0)
                return ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory listing candidates", n->name);
        }
    }
    return FT_OK;
}

const ft_kernel_family ft_family_conv_im2col = {"conv.im2col", "Conv", cv_enumerate, cv_prepare,
                                                cv_release, cv_run, 0};
