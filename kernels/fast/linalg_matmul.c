/* linalg_matmul.c - matmul.gemm: float32 MatMul (numpy semantics) as one packed GEMM call per batch
 * index, reading and writing in place any layout whose matrix part is row- or column-major; and
 * matmul.fused: FusedMatMul as one GEMM whose epilogue adds the bias and the residual and applies
 * the activation to each block of the product while it is in cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f32_ew.h"
#include "isa.h"
#include "fast_util.h"
#include "linalg_internal.h"
#include "ops.h"

/* The node as GEMM calls C' = op(A') op(B'), one per remaining batch index. When C is stored
 * column-major the calls compute C^T = op(B)^T op(A)^T instead (swap): A' is then the node's B. */
typedef struct mm_geom {
    ft_linalg_problem p;
    int64_t lda, ldb, ldc;
    int swap;
    int nb; /* batch dims left after dropping size-1 dims and folding the rest into M */
    int64_t batch[FT_MAX_RANK];
    int64_t sa[FT_MAX_RANK], sb[FT_MAX_RANK], sc[FT_MAX_RANK]; /* element strides, 0 = broadcast */
    int64_t slice[FT_MAX_RANK]; /* index stride among the distinct B' matrices, 0 = broadcast */
    int64_t n_slices;
} mm_geom;

/* How GEMM reads a rows x cols matrix with these element strides: row-major (trans 0, ld = row
 * stride) or column-major (trans 1, ld = column stride). Strides of size-1 dims are free, so any
 * such matrix is row-major with the tightest ld. -1 when neither holds. */
static int matrix_ld(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int *trans, int64_t *ld)
{
    if ((cols <= 1 || cs == 1) && (rows <= 1 || rs >= cols)) {
        *trans = 0;
        *ld = rows <= 1 ? (cols > 1 ? cols : 1) : rs;
        return 0;
    }
    if ((rows <= 1 || rs == 1) && (cols <= 1 || cs >= rows)) {
        *trans = 1;
        *ld = cols <= 1 ? (rows > 1 ? rows : 1) : cs;
        return 0;
    }
    return -1;
}

/* The GEMM calls for a MatMul with these tensors stored in these layouts; -1 when the shapes do not
 * multiply or a matrix part is neither row- nor column-major (the reference or another candidate
 * serves those). */
static int mm_geom_build(const ft_tensor *a, const ft_tensor *b, const ft_tensor *c, const ft_layout *la,
                         const ft_layout *lb, const ft_layout *lc, mm_geom *g)
{
    memset(g, 0, sizeof *g);
    int ra = a->shape.rank, rb = b->shape.rank, rc = c->shape.rank;
    if (ra < 1 || rb < 1 || la->rank != ra || lb->rank != rb || lc->rank != rc) return -1;
    if (ft_shape_numel(&a->shape) < 0 || ft_shape_numel(&b->shape) < 0 || ft_shape_numel(&c->shape) < 0) return -1;
    int64_t as[FT_MAX_RANK], bs[FT_MAX_RANK], cs[FT_MAX_RANK];
    ft_layout_strides(la, &a->shape, as);
    ft_layout_strides(lb, &b->shape, bs);
    ft_layout_strides(lc, &c->shape, cs);
    const int64_t *ad = a->shape.dims, *bd = b->shape.dims, *cd = c->shape.dims;
    int64_t M = ra == 1 ? 1 : ad[ra - 2], K = ad[ra - 1];
    int64_t kb = rb == 1 ? bd[0] : bd[rb - 2], N = rb == 1 ? 1 : bd[rb - 1];
    int64_t a_rs = ra == 1 ? 0 : as[ra - 2], a_cs = as[ra - 1];
    int64_t b_rs = rb == 1 ? bs[0] : bs[rb - 2], b_cs = rb == 1 ? 0 : bs[rb - 1];
    int abr = ra > 2 ? ra - 2 : 0, bbr = rb > 2 ? rb - 2 : 0, nbatch = abr > bbr ? abr : bbr;
    if (kb != K || rc != nbatch + (ra > 1) + (rb > 1)) return -1;
    if ((ra > 1 && cd[nbatch] != M) || (rb > 1 && cd[rc - 1] != N)) return -1;
    int64_t c_rs = ra > 1 ? cs[nbatch] : 0, c_cs = rb > 1 ? cs[rc - 1] : 0;

    int64_t sa[FT_MAX_RANK], sb[FT_MAX_RANK];
    for (int i = 0; i < nbatch; i++) {
        int ia = i - (nbatch - abr), ib = i - (nbatch - bbr);
        int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        if (cd[i] != (da != 1 ? da : db) || (db != 1 && db != cd[i])) return -1;
        sa[i] = da == 1 ? 0 : as[ia];
        sb[i] = db == 1 ? 0 : bs[ib];
    }
    int ta, tb, tc;
    int64_t lda, ldb, ldc;
    if (matrix_ld(M, K, a_rs, a_cs, &ta, &lda) || matrix_ld(K, N, b_rs, b_cs, &tb, &ldb) ||
        matrix_ld(M, N, c_rs, c_cs, &tc, &ldc))
        return -1;

    ft_linalg_problem *p = &g->p;
    g->swap = tc;
    if (tc) {
        /* op(B)^T is B read with the opposite transpose flag, and likewise op(A)^T. */
        p->M = N;
        p->N = M;
        p->trans_a = !tb;
        p->trans_b = !ta;
        g->lda = ldb;
        g->ldb = lda;
    } else {
        p->M = M;
        p->N = N;
        p->trans_a = ta;
        p->trans_b = tb;
        g->lda = lda;
        g->ldb = ldb;
    }
    p->K = K;
    g->ldc = ldc;
    for (int i = 0; i < nbatch; i++) {
        if (cd[i] == 1) continue; /* a size-1 batch dim moves no pointer */
        g->batch[g->nb] = cd[i];
        g->sa[g->nb] = tc ? sb[i] : sa[i];
        g->sb[g->nb] = tc ? sa[i] : sb[i];
        g->sc[g->nb] = cs[i];
        g->nb++;
    }
    /* Inner batch dims where B' is shared and A' and C' continue row after row are more rows of
     * one call: fewer, larger GEMMs. A single row has a free ld, set to the batch stride. */
    while (g->nb > 0) {
        int i = g->nb - 1;
        if (g->sb[i] != 0 || p->trans_a) break;
        if (p->M == 1 && g->sa[i] >= (p->K > 1 ? p->K : 1)) g->lda = g->sa[i];
        if (p->M == 1 && g->sc[i] >= (p->N > 1 ? p->N : 1)) g->ldc = g->sc[i];
        if (g->sa[i] != p->M * g->lda || g->sc[i] != p->M * g->ldc) break;
        p->M *= g->batch[i];
        g->nb--;
    }
    int64_t n = 1;
    for (int i = g->nb - 1; i >= 0; i--) {
        g->slice[i] = g->sb[i] ? n : 0;
        if (g->sb[i]) n *= g->batch[i];
    }
    g->n_slices = n;
    for (int i = 0; i < g->nb; i++)
        if (g->batch[i] == 0) g->n_slices = 0;
    return 0;
}

typedef struct mm_state {
    mm_geom g;
    ft_linalg_schedule s;
    size_t ws_bytes;
    int act; /* FusedMatMul: -1 none, else the ft_ew_unary_op of its activation */
    ft_gemm_packed_b *packed[]; /* g.n_slices of them when s.prepack */
} mm_state;

static void mm_release(void *state)
{
    mm_state *st = state;
    if (!st) return;
    if (st->s.prepack)
        for (int64_t i = 0; i < st->g.n_slices; i++) ft_gemm_packed_b_destroy(st->packed[i]);
    free(st);
}

/* Walks the batch indices: calls fn(user, offset of A', of B', of C', B' slice) for each. */
typedef int (*batch_fn)(void *user, int64_t oa, int64_t ob, int64_t oc, int64_t os);

static int for_each_batch(const mm_geom *g, batch_fn fn, void *user)
{
    int64_t total = 1, idx[FT_MAX_RANK] = {0}, oa = 0, ob = 0, oc = 0, os = 0;
    for (int i = 0; i < g->nb; i++) total *= g->batch[i];
    for (int64_t t = 0; t < total; t++) {
        int rc = fn(user, oa, ob, oc, os);
        if (rc != FT_OK) return rc;
        for (int i = g->nb - 1; i >= 0; i--) {
            oa += g->sa[i];
            ob += g->sb[i];
            oc += g->sc[i];
            os += g->slice[i];
            if (++idx[i] < g->batch[i]) break;
            oa -= g->sa[i] * g->batch[i];
            ob -= g->sb[i] * g->batch[i];
            oc -= g->sc[i] * g->batch[i];
            os -= g->slice[i] * g->batch[i];
            idx[i] = 0;
        }
    }
    return FT_OK;
}

typedef struct mm_call {
    mm_state *st;
    const float *a, *b; /* A' and B' */
    float *c;
    void *scratch;
    ft_error *err;
} mm_call;

static int pack_slice(void *user, int64_t oa, int64_t ob, int64_t oc, int64_t os)
{
    mm_call *k = user;
    mm_state *st = k->st;
    const ft_linalg_problem *p = &st->g.p;
    (void)oa;
    (void)oc;
    if (st->packed[os]) return FT_OK;
    st->packed[os] = ft_gemm_pack_b(&st->s.q, p->trans_b, p->M, p->N, p->K, k->b + ob, st->g.ldb, k->err);
    return st->packed[os] ? FT_OK : k->err ? k->err->code : FT_ERR_FAIL;
}

static int mm_prepare(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes)
{
    const ft_candidate *c = ctx->cand;
    mm_geom g;
    if (mm_geom_build(ctx->in[0], ctx->in[1], ctx->out[0], &c->in_layout[0], &c->in_layout[1], &c->out_layout, &g))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (MatMul): candidate %s does not fit its tensors",
                       ctx->node->name, c->key);
    ft_linalg_schedule s;
    ft_linalg_schedule_load(c->params, &s);
    const ft_tensor *b = ctx->in[g.swap ? 0 : 1];
    if (s.prepack && !(b->flags & FT_T_CONST))
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (MatMul): candidate %s pre-packs '%s', which is not constant",
                       ctx->node->name, c->key, b->name);
    size_t n_packed = s.prepack ? (size_t)g.n_slices : 0;
    mm_state *st = calloc(1, sizeof *st + n_packed * sizeof st->packed[0]);
    if (!st) return ft_fail(ctx->err, FT_ERR_NOMEM, "node '%s' (MatMul): out of memory", ctx->node->name);
    st->g = g;
    st->s = s;
    int rc = FT_OK;
    if (s.prepack) {
        mm_call k = {st, NULL, b->data, NULL, NULL, ctx->err};
        rc = for_each_batch(&st->g, pack_slice, &k);
    }
    if (rc == FT_OK)
        rc = ft_linalg_workspace(&s, &g.p, s.prepack && n_packed ? st->packed[0] : NULL, &st->ws_bytes, ctx->err);
    if (rc != FT_OK) {
        mm_release(st);
        return ft_fast_fail_callee(ctx, rc, 1);
    }
    if (s.prepack) ctx->released |= 1u << (g.swap ? 0 : 1);
    *state = st;
    *scratch_bytes = st->ws_bytes;
    return FT_OK;
}

static int gemm_call(void *user, int64_t oa, int64_t ob, int64_t oc, int64_t os)
{
    mm_call *k = user;
    const mm_state *st = k->st;
    const mm_geom *g = &st->g;
    const ft_linalg_problem *p = &g->p;
    if (st->s.prepack)
        return ft_sgemm_packed(st->packed[os], p->trans_a, p->M, 1.0f, k->a + oa, g->lda, 0.0f, k->c + oc, g->ldc,
                               k->scratch, st->ws_bytes, k->err);
    return ft_sgemm_ws(&st->s.q, p->trans_a, p->trans_b, p->M, p->N, p->K, 1.0f, k->a + oa, g->lda, k->b + ob, g->ldb,
                       0.0f, k->c + oc, g->ldc, k->scratch, st->ws_bytes, k->err);
}

static int mm_run(ft_kernel_ctx *ctx)
{
    mm_state *st = ctx->state;
    if (!st)
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (MatMul): candidate %s was not prepared", ctx->node->name,
                       ctx->cand->key);
    if (ft_shape_numel(&ctx->out[0]->shape) == 0) return FT_OK;
    const float *a = ctx->in[0]->data, *b = ctx->in[1]->data;
    mm_call k = {st, st->g.swap ? b : a, st->g.swap ? a : b, ctx->out[0]->data, ctx->scratch, ctx->err};
    int rc = for_each_batch(&st->g, gemm_call, &k);
    if (rc != FT_OK) {
        return ft_fast_fail_callee(ctx, rc, 0);
    }
    return FT_OK;
}

/* Row-major first, then the hints of matching rank that store different bytes. */
static int layout_choices(const ft_tensor *t, const ft_layout_set *hints, ft_layout *out)
{
    int n = 1;
    ft_layout_identity(&out[0], t->shape.rank);
    for (int h = 0; h < hints->n && h < (int)(sizeof hints->l / sizeof hints->l[0]); h++) {
        const ft_layout *l = &hints->l[h];
        if (l->rank != t->shape.rank || ft_layout_blocked(l)) continue;
        unsigned seen = 0;
        for (int p = 0; p < l->rank; p++) seen |= l->perm[p] < l->rank ? 1u << l->perm[p] : 0;
        if (seen != (1u << l->rank) - 1) continue;
        int dup = 0;
        for (int i = 0; i < n && !dup; i++) dup = ft_layout_equivalent(&out[i], l, &t->shape);
        if (!dup) out[n++] = *l;
    }
    return n;
}

static int mm_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    if (n->n_in != 2 || !in[0] || !in[1] || !out[0]) return FT_OK;
    if (in[0]->dtype != FT_FLOAT || in[1]->dtype != FT_FLOAT || out[0]->dtype != FT_FLOAT) return FT_OK;
    ft_layout la[7], lb[7], lc[7];
    int na = layout_choices(in[0], &list->in_hints[0], la), nb = layout_choices(in[1], &list->in_hints[1], lb);
    int nc = layout_choices(out[0], &list->out_hints, lc);
    ft_linalg_schedule sched[FT_LINALG_MAX_SCHEDULES];
    for (int ic = 0; ic < nc; ic++)
        for (int ia = 0; ia < na; ia++)
            for (int ib = 0; ib < nb; ib++) {
                mm_geom g;
                if (mm_geom_build(in[0], in[1], out[0], &la[ia], &lb[ib], &lc[ic], &g)) continue;
                g.p.can_prepack = (in[g.swap ? 0 : 1]->flags & FT_T_CONST) != 0;
                int row_major = ia == 0 && ib == 0 && ic == 0;
                int ns = ft_linalg_schedules(&g.p, !row_major, sched);
                for (int s = 0; s < ns; s++) {
                    ft_candidate c;
                    char sk[96], ka[12], kb[12], kc[12];
                    ft_candidate_init(&c, &ft_family_matmul_gemm, n, in, out);
                    c.in_layout[0] = la[ia];
                    c.in_layout[1] = lb[ib];
                    c.out_layout = lc[ic];
                    ft_linalg_schedule_store(&sched[s], c.params);
                    ft_linalg_schedule_str(&sched[s], sk, sizeof sk);
                    snprintf(c.key, sizeof c.key, "matmul/%s/A:%s,B:%s,C:%s", sk, ft_layout_str(&la[ia], ka, sizeof ka),
                             ft_layout_str(&lb[ib], kb, sizeof kb), ft_layout_str(&lc[ic], kc, sizeof kc));
                    if (ft_candidate_list_push(list, &c) != 0)
                        return ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory listing candidates", n->name);
                }
            }
    return FT_OK;
}

const ft_kernel_family ft_family_matmul_gemm = {"matmul.gemm", "MatMul", mm_enumerate, mm_prepare,
                                                mm_release, mm_run, 0};

/* ---- matmul.fused ---------------------------------------------------------------------------- */

/* The epilogue of one FusedMatMul run: rows of the product are rows of the (batch-folded) output,
 * so the residual is read at the same (row, col) as C. */
typedef struct fused_epilogue {
    ft_gemm_epilogue base;
    const ft_f32_ew_kernels *ew;
    const float *bias, *res;
    int64_t ldr;
    int act;
} fused_epilogue;

static void fused_apply(const ft_gemm_epilogue *e, float *c, int64_t ldc, int64_t row, int64_t col, int64_t m,
                        int64_t n)
{
    const fused_epilogue *f = (const fused_epilogue *)e;
    for (int64_t i = 0; i < m; i++) {
        float *r = c + i * ldc;
        if (f->bias) f->ew->binary(FT_EW_ADD, 1, r, 1, f->bias + col, 1, r, n);
        if (f->res) f->ew->binary(FT_EW_ADD, 1, r, 1, f->res + (row + i) * f->ldr + col, 1, r, n);
        if (f->act >= 0) f->ew->unary(f->act, 1, r, r, n);
    }
}

/* The row kernel of the node's activation: -1 for none, -2 for one it does not know. */
static int fused_act(const ft_node *n)
{
    int a = ft_fused_activation(n);
    return a == FT_FUSED_RELU ? FT_EW_RELU : a == FT_FUSED_GELU ? FT_EW_GELU : a == FT_FUSED_NONE ? -1 : -2;
}

/* The elementwise kernels of the GEMM schedule's instruction set. */
static const ft_f32_ew_kernels *ew_for_gemm_isa(int isa)
{
    int f = FT_FAST_SCALAR;
#if defined(__x86_64__)
    if (isa == FT_GEMM_ISA_AVX512) f = FT_FAST_AVX512;
    if (isa == FT_GEMM_ISA_AVX2) f = FT_FAST_AVX2;
#endif
#if defined(__aarch64__)
    if (isa == FT_GEMM_ISA_NEON) f = FT_FAST_NEON;
#endif
    const ft_f32_ew_kernels *k = ft_f32_ew_for_isa(f);
    return k ? k : &ft_f32_ew_scalar;
}

/* The fused kernel runs the product as one GEMM over row-major tensors (batch dims folded into M) so
 * that a block's rows and columns are the output's; other layouts are left to the solver's
 * conversions. */
static int fused_fits(const mm_geom *g)
{
    return g->nb == 0 && !g->swap;
}

/* With transB, B is stored [N, K]: the product reads it as the [K, N] matrix B^T in column-major
 * order, i.e. a view of the same bytes under layout (1, 0). *bt receives that view. */
static void fused_b(const ft_node *n, const ft_tensor *b, ft_tensor *bt, ft_layout *lb)
{
    *bt = *b;
    ft_layout_identity(lb, b->shape.rank);
    if (!ft_attr_int(n, "transB", 0) || b->shape.rank != 2) return;
    bt->shape.dims[0] = b->shape.dims[1];
    bt->shape.dims[1] = b->shape.dims[0];
    lb->perm[0] = 1;
    lb->perm[1] = 0;
}

static int fm_prepare(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes)
{
    int act = fused_act(ctx->node);
    if (act == -2)
        return ft_fail(ctx->err, FT_ERR_UNSUPPORTED, "node '%s' (FusedMatMul): activation '%s' is not none, relu or gelu",
                       ctx->node->name, ft_attr_string(ctx->node, "activation", ""));
    /* the MatMul prepare on the logical operands: B^T as a view when transB */
    ft_tensor bt, *in[FT_MAX_IO];
    ft_candidate cand = *ctx->cand;
    for (int i = 0; i < ctx->n_in && i < FT_MAX_IO; i++) in[i] = ctx->in[i];
    fused_b(ctx->node, ctx->in[1], &bt, &cand.in_layout[1]);
    in[1] = &bt;
    ft_kernel_ctx mctx = *ctx;
    mctx.in = in;
    mctx.cand = &cand;
    int rc = mm_prepare(&mctx, state, scratch_bytes);
    ctx->released = mctx.released;
    if (rc != FT_OK) return rc;
    mm_state *st = *state;
    if (!fused_fits(&st->g)) {
        mm_release(st);
        *state = NULL;
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (FusedMatMul): candidate %s needs a single row-major GEMM",
                       ctx->node->name, ctx->cand->key);
    }
    st->act = act;
    return FT_OK;
}

static int fm_run(ft_kernel_ctx *ctx)
{
    mm_state *st = ctx->state;
    if (!st)
        return ft_fail(ctx->err, FT_ERR_INPUT, "node '%s' (FusedMatMul): candidate %s was not prepared",
                       ctx->node->name, ctx->cand->key);
    if (ft_shape_numel(&ctx->out[0]->shape) == 0) return FT_OK;
    const mm_geom *g = &st->g;
    const ft_linalg_problem *p = &g->p;
    const ft_tensor *bias = ctx->n_in > 2 ? ctx->in[2] : NULL, *res = ctx->n_in > 3 ? ctx->in[3] : NULL;
    fused_epilogue ep = {{fused_apply}, ew_for_gemm_isa(st->s.q.isa), bias ? bias->data : NULL,
                         res ? res->data : NULL, p->N, st->act};
    const float *a = ctx->in[0]->data;
    float *c = ctx->out[0]->data;
    int rc = st->s.prepack ? ft_sgemm_packed_ep(st->packed[0], p->trans_a, p->M, 1.0f, a, g->lda, 0.0f, c, g->ldc,
                                                ctx->scratch, st->ws_bytes, &ep.base, ctx->err)
                           : ft_sgemm_ws_ep(&st->s.q, p->trans_a, p->trans_b, p->M, p->N, p->K, 1.0f, a, g->lda,
                                            ctx->in[1]->data, g->ldb, 0.0f, c, g->ldc, ctx->scratch, st->ws_bytes,
                                            &ep.base, ctx->err);
    return rc != FT_OK ? ft_fast_fail_callee(ctx, rc, 0) : FT_OK;
}

static int fm_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    if (n->n_in < 2 || n->n_in > FT_MAX_IO || !in[0] || !in[1] || !out[0] || fused_act(n) == -2) return FT_OK;
    if (in[0]->dtype != FT_FLOAT || in[1]->dtype != FT_FLOAT || out[0]->dtype != FT_FLOAT) return FT_OK;
    ft_layout la, lb, lc;
    ft_tensor bt;
    ft_layout_identity(&la, in[0]->shape.rank);
    fused_b(n, in[1], &bt, &lb);
    ft_layout_identity(&lc, out[0]->shape.rank);
    mm_geom g;
    if (mm_geom_build(in[0], &bt, out[0], &la, &lb, &lc, &g) || !fused_fits(&g)) return FT_OK;
    g.p.can_prepack = (in[1]->flags & FT_T_CONST) != 0;
    return ft_linalg_push_schedules(&g.p, &ft_family_matmul_fused, n, in, out, "fusedmatmul",
                                    ft_attr_string(n, "activation", "none"), list, err);
}

const ft_kernel_family ft_family_matmul_fused = {"matmul.fused", "FusedMatMul", fm_enumerate, fm_prepare,
                                                 mm_release, fm_run, 0};
