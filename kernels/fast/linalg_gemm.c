/* linalg_gemm.c - gemm.gemm: float32 Gemm (transA, transB, alpha, beta, C broadcast) as one packed
 * GEMM call on row-major operands, the bias broadcast into Y first, constant B pre-packed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fast_util.h"
#include "linalg_internal.h"

typedef struct gm_geom {
    ft_linalg_problem p;
    int64_t lda, ldb;
    int has_c;
    int64_t c_rs, c_cs; /* C's strides over Y's rows and columns, 0 where broadcast */
    float alpha, beta;
} gm_geom;

static const ft_tensor *input_c(const ft_node *n, ft_tensor *const *in)
{
    return n->n_in > 2 ? in[2] : NULL;
}

/* -1 when the node is not a float32 Gemm these shapes describe (the reference reports why). */
static int gm_geom_build(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, gm_geom *g)
{
    memset(g, 0, sizeof *g);
    if (n->n_in < 2 || !in[0] || !in[1] || !out[0]) return -1;
    const ft_tensor *a = in[0], *b = in[1], *c = input_c(n, in), *y = out[0];
    if (a->dtype != FT_FLOAT || b->dtype != FT_FLOAT || y->dtype != FT_FLOAT || (c && c->dtype != FT_FLOAT)) return -1;
    if (a->shape.rank != 2 || b->shape.rank != 2 || y->shape.rank != 2) return -1;
    if (ft_shape_numel(&a->shape) < 0 || ft_shape_numel(&b->shape) < 0 || ft_shape_numel(&y->shape) < 0) return -1;
    ft_linalg_problem *p = &g->p;
    p->trans_a = ft_attr_int(n, "transA", 0) != 0;
    p->trans_b = ft_attr_int(n, "transB", 0) != 0;
    p->M = a->shape.dims[p->trans_a ? 1 : 0];
    p->K = a->shape.dims[p->trans_a ? 0 : 1];
    p->N = b->shape.dims[p->trans_b ? 0 : 1];
    if (b->shape.dims[p->trans_b ? 1 : 0] != p->K || y->shape.dims[0] != p->M || y->shape.dims[1] != p->N) return -1;
    g->lda = a->shape.dims[1] > 1 ? a->shape.dims[1] : 1;
    g->ldb = b->shape.dims[1] > 1 ? b->shape.dims[1] : 1;
    g->alpha = ft_attr_float(n, "alpha", 1.0f);
    g->beta = ft_attr_float(n, "beta", 1.0f);
    if (c) {
        if (c->shape.rank > 2 || ft_shape_numel(&c->shape) < 0) return -1;
        int64_t cm = c->shape.rank == 2 ? c->shape.dims[0] : 1;
        int64_t cn = c->shape.rank >= 1 ? c->shape.dims[c->shape.rank - 1] : 1;
        if ((cm != 1 && cm != p->M) || (cn != 1 && cn != p->N)) return -1;
        g->has_c = 1;
        g->c_rs = cm == 1 ? 0 : cn;
        g->c_cs = cn == 1 ? 0 : 1;
    }
    return 0;
}

typedef struct gm_state {
    gm_geom g;
    ft_linalg_schedule s;
    size_t ws_bytes;
    ft_gemm_packed_b *packed;
} gm_state;

static void gm_release(void *state)
{
    gm_state *st = state;
    if (!st) return;
    ft_gemm_packed_b_destroy(st->packed);
    free(st);
}

static int gm_prepare(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes)
{
    const ft_candidate *c = ctx->cand;
    gm_geom g;
    if (gm_geom_build(ctx->node, ctx->in, ctx->out, &g))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Gemm): candidate %s does not fit its tensors",
                       ctx->node->name, c->key);
    gm_state *st = calloc(1, sizeof *st);
    if (!st) return ft_fail(ctx->err, FT_ERR_NOMEM, "node '%s' (Gemm): out of memory", ctx->node->name);
    st->g = g;
    ft_linalg_schedule_load(c->params, &st->s);
    const ft_tensor *b = ctx->in[1];
    int rc = FT_OK;
    if (st->s.prepack) {
        if (!(b->flags & FT_T_CONST)) {
            gm_release(st);
            return ft_fail(ctx->err, FT_ERR_INPUT,
                           "node '%s' (Gemm): candidate %s pre-packs '%s', which is not constant", ctx->node->name,
                           c->key, b->name);
        }
        st->packed = ft_gemm_pack_b(&st->s.q, g.p.trans_b, g.p.M, g.p.N, g.p.K, b->data, g.ldb, ctx->err);
        if (!st->packed) rc = ctx->err ? ctx->err->code : FT_ERR_FAIL;
    }
    if (rc == FT_OK) rc = ft_linalg_workspace(&st->s, &g.p, st->packed, &st->ws_bytes, ctx->err);
    if (rc != FT_OK) {
        gm_release(st);
        return ft_fast_fail_callee(ctx, rc, 1);
    }
    if (st->packed) ctx->released |= 1u << 1;
    *state = st;
    *scratch_bytes = st->ws_bytes;
    return FT_OK;
}

static int gm_run(ft_kernel_ctx *ctx)
{
    const gm_state *st = ctx->state;
    if (!st)
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (Gemm): candidate %s was not prepared", ctx->node->name,
                       ctx->cand->key);
    const gm_geom *g = &st->g;
    const ft_linalg_problem *p = &g->p;
    float *y = ctx->out[0]->data;
    float beta = 0.0f;
    if (g->has_c) {
        /* Y = beta * C first, then the GEMM accumulates onto it: no second pass over Y. */
        const float *c = ctx->in[2]->data;
        for (int64_t i = 0; i < p->M; i++)
            for (int64_t j = 0; j < p->N; j++) y[i * p->N + j] = g->beta * c[i * g->c_rs + j * g->c_cs];
        beta = 1.0f;
    }
    int64_t ldc = p->N > 1 ? p->N : 1;
    int rc = st->packed ? ft_sgemm_packed(st->packed, p->trans_a, p->M, g->alpha, ctx->in[0]->data, g->lda, beta, y,
                                          ldc, ctx->scratch, st->ws_bytes, ctx->err)
                        : ft_sgemm_ws(&st->s.q, p->trans_a, p->trans_b, p->M, p->N, p->K, g->alpha, ctx->in[0]->data,
                                      g->lda, ctx->in[1]->data, g->ldb, beta, y, ldc, ctx->scratch, st->ws_bytes,
                                      ctx->err);
    if (rc != FT_OK) {
        return ft_fast_fail_callee(ctx, rc, 0);
    }
    return FT_OK;
}

static int gm_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    gm_geom g;
    if (gm_geom_build(n, in, out, &g)) return FT_OK;
    g.p.can_prepack = (in[1]->flags & FT_T_CONST) != 0;
    return ft_linalg_push_schedules(&g.p, &ft_family_gemm_gemm, n, in, out, "gemm", NULL, list, err);
}

const ft_kernel_family ft_family_gemm_gemm = {"gemm.gemm", "Gemm", gm_enumerate, gm_prepare, gm_release, gm_run, 0};
