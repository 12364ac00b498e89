/* movement.c - tuned data-movement families: Transpose as a tiled copy (transpose.tiled) or as a
 * relabelling of its input's bytes (transpose.relabel), and the planner's Reorder node
 * (reorder.tiled), all on the layout conversion of reorder.h.
 *
 * params: [0] ISA (isa.h), [1] tile (the cache block of the 2-D transposes), [2] 1 for
 * non-temporal stores (offered for 4-byte tensors of FT_REORDER_STREAM_MIN_BYTES and more).
 */
#include <stdio.h>
#include <string.h>

#include "fast_util.h"
#include "isa.h"
#include "reorder.h"

static const ft_kernel_family fam_transpose_tiled, fam_transpose_relabel, fam_reorder_tiled;

/* Tiles in order of preference; the first is the default. */
static const int tiles[] = {64, 32, 16, 8};

static int run_fail(ft_kernel_ctx *ctx, int code, const char *what)
{
    return ft_fail(ctx->err, code, "node '%s' (%s), candidate '%s': %s", ctx->node->name, ctx->node->op_type,
                   ctx->cand->key, what);
}

/* A tile pays off only up to about the size of the transposes it blocks. */
static int tile_useful(int tile, int64_t rows, int64_t cols)
{
    int64_t big = rows > cols ? rows : cols;
    return tile == tiles[sizeof tiles / sizeof tiles[0] - 1] || tile < 2 * big;
}

/* One candidate per ISA, useful tile and store kind for a conversion src -> dst of shape s (one
 * "copy" candidate when it only copies rows). Keys: prefix/isa/tTILE[/nt]suffix. */
static int push_conversions(ft_candidate_list *list, ft_candidate *c, const ft_layout *src, const ft_layout *dst,
                            const ft_shape *s, size_t esz, const char *prefix, const char *suffix, ft_error *err)
{
    int64_t rows = 0, cols = 0;
    int kind = ft_reorder_describe(src, dst, s, &rows, &cols);
    if (kind < 0) return FT_OK;
    if (kind == 0) {
        /* a row copy uses no ISA: params that name none keep the key's meaning the same on every
         * machine, so databases of different machines merge */
        c->params[0] = FT_FAST_SCALAR;
        c->params[1] = FT_REORDER_DEFAULT_TILE;
        c->params[2] = 0;
        return ft_fast_push(list, c, err, "%s/copy%s", prefix, suffix);
    }
    int isas[FT_FAST_N_ISA], n_isa = ft_fast_isas(isas);
    size_t bytes = (size_t)ft_shape_numel(s) * esz;
    for (int k = 0; k < n_isa; k++) {
        /* vector code exists for 4-byte elements only; other sizes would repeat the scalar tiles */
        if (esz != 4 && isas[k] != FT_FAST_SCALAR) continue;
        int streams = isas[k] != FT_FAST_SCALAR && bytes >= FT_REORDER_STREAM_MIN_BYTES ? 2 : 1;
        for (int nt = 0; nt < streams; nt++)
            for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
                if (!tile_useful(tiles[t], rows, cols)) continue;
                c->params[0] = isas[k];
                c->params[1] = tiles[t];
                c->params[2] = nt;
                int rc = ft_fast_push(list, c, err, "%s/%s/t%d%s%s", prefix, ft_fast_isa_name(isas[k]), tiles[t],
                                      nt ? "/nt" : "", suffix);
                if (rc != FT_OK) return rc;
            }
    }
    return FT_OK;
}

/* The candidate's knobs as reorder.h takes them. */
static ft_reorder_knobs knobs_of(const ft_candidate *c)
{
    ft_reorder_knobs k = {c->params[0], c->params[1], c->params[2]};
    return k;
}

/* ---- Transpose ------------------------------------------------------------------------------------ */

/* perm (default: reversed axes), or 0 when it is not a permutation of the input's axes. */
static int transpose_perm(const ft_node *n, int rank, int64_t *perm)
{
    const int64_t *p;
    int cnt = ft_attr_ints(n, "perm", &p);
    unsigned seen = 0;
    if (rank < 0 || rank > FT_MAX_RANK) return 0;
    if (cnt < 0) {
        for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
        return 1;
    }
    if (cnt != rank) return 0;
    for (int i = 0; i < rank; i++) {
        if (p[i] < 0 || p[i] >= rank || (seen & (1u << p[i]))) return 0;
        seen |= 1u << p[i];
        perm[i] = p[i];
    }
    return 1;
}

static int transpose_ok(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, int64_t *perm)
{
    return n->n_in == 1 && in[0] && out[0] && ft_dtype_size(in[0]->dtype) > 0 && out[0]->dtype == in[0]->dtype &&
           ft_shape_numel(&in[0]->shape) > 0 && transpose_perm(n, in[0]->shape.rank, perm);
}

static int tiled_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                           ft_error *err)
{
    int64_t perm[FT_MAX_RANK];
    if (!transpose_ok(n, in, out, perm)) return FT_OK;
    const ft_shape *s = &in[0]->shape;
    ft_layout src, dst = {.rank = s->rank, .perm = {0}};
    ft_layout_identity(&src, s->rank);
    for (int p = 0; p < s->rank; p++) dst.perm[p] = (uint8_t)perm[p];
    ft_candidate c;
    ft_candidate_init(&c, &fam_transpose_tiled, n, in, out);
    return push_conversions(list, &c, &src, &dst, s, ft_dtype_size(in[0]->dtype), "transpose", "", err);
}

/* The output stored in out_layout is the input stored in this layout of the input's axes. */
static void output_as_input_layout(const ft_layout *out_layout, const int64_t *perm, ft_layout *res)
{
    ft_layout_identity(res, out_layout->rank);
    for (int p = 0; p < out_layout->rank; p++) res->perm[p] = (uint8_t)perm[out_layout->perm[p]];
}

static int tiled_run(ft_kernel_ctx *ctx)
{
    int64_t perm[FT_MAX_RANK];
    const ft_tensor *x = ctx->in[0];
    if (!transpose_perm(ctx->node, x->shape.rank, perm)) return run_fail(ctx, FT_ERR_INPUT, "bad perm");
    ft_layout dst;
    output_as_input_layout(&ctx->cand->out_layout, perm, &dst);
    ft_reorder_knobs k = knobs_of(ctx->cand);
    int rc = ft_reorder_tiled(x->data, &ctx->cand->in_layout[0], ctx->out[0]->data, &dst, &x->shape,
                              ft_dtype_size(x->dtype), &k);
    if (rc != FT_OK) return run_fail(ctx, rc, "the layouts or knobs do not fit this tensor or CPU");
    return FT_OK;
}

/* Input layouts: row-major, the input's hints, and for each output hint the input layout that
 * relabels into it. The output layout stores the result in the input's bytes. */
static int relabel_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                             ft_error *err)
{
    int64_t perm[FT_MAX_RANK];
    if (!transpose_ok(n, in, out, perm)) return FT_OK;
    const ft_shape *xs = &in[0]->shape, *ys = &out[0]->shape;
    ft_layout_set from_out = {0, {{.rank = 0}}};
    for (int i = 0; i < list->out_hints.n && i < 6; i++)
        if (list->out_hints.l[i].rank == ys->rank)
            output_as_input_layout(&list->out_hints.l[i], perm, &from_out.l[from_out.n++]);
    const ft_layout_set *sets[2] = {&list->in_hints[0], &from_out};
    ft_layout choices[FT_FAST_MAX_CHOICES];
    int nc = ft_fast_layout_choices(xs, sets, 2, choices, FT_FAST_MAX_CHOICES);
    for (int i = 0; i < nc; i++) {
        ft_candidate c;
        ft_layout id;
        char lb[16];
        ft_candidate_init(&c, &fam_transpose_relabel, n, in, out);
        c.in_layout[0] = choices[i];
        ft_layout_after_transpose(&choices[i], perm, &c.out_layout);
        ft_layout_identity(&id, ys->rank);
        if (ft_layout_equivalent(&c.out_layout, &id, ys)) c.out_layout = id;
        /* the default plan cannot alias: an all-row-major relabelling is transpose.tiled's copy */
        if (ft_layout_is_identity(&c.in_layout[0]) && ft_layout_is_identity(&c.out_layout)) continue;
        int rc = ft_fast_push(list, &c, err, "transpose/relabel/L:%s", ft_layout_str(&choices[i], lb, sizeof lb));
        if (rc != FT_OK) return rc;
    }
    return FT_OK;
}

static int relabel_run(ft_kernel_ctx *ctx)
{
    return FT_OK;
}

/* ---- Reorder: the planner's conversion node, from in_hints[0] to out_hints (row-major if empty) ---- */

static int reorder_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                             ft_error *err)
{
    if (n->n_in != 1 || !in[0] || !out[0] || !ft_shape_equal(&in[0]->shape, &out[0]->shape) ||
        ft_dtype_size(in[0]->dtype) == 0 || ft_shape_numel(&in[0]->shape) <= 0)
        return FT_OK;
    const ft_shape *s = &in[0]->shape;
    size_t esz = ft_dtype_size(in[0]->dtype);
    ft_layout id;
    ft_layout_identity(&id, s->rank);
    ft_layout_set srcs = list->in_hints[0], dsts = list->out_hints;
    if (srcs.n == 0) srcs.l[srcs.n++] = id;
    if (dsts.n == 0) dsts.l[dsts.n++] = id;
    ft_candidate c;
    char sb[16], db[16], suffix[40];
    /* row-major to row-major first: the default plan's (a copy) */
    ft_candidate_init(&c, &fam_reorder_tiled, n, in, out);
    snprintf(suffix, sizeof suffix, "/L:%s>%s", ft_layout_str(&id, sb, sizeof sb), ft_layout_str(&id, db, sizeof db));
    int rc = push_conversions(list, &c, &id, &id, s, esz, "reorder", suffix, err);
    for (int i = 0; rc == FT_OK && i < srcs.n && i < 6; i++)
        for (int j = 0; rc == FT_OK && j < dsts.n && j < 6; j++) {
            if (srcs.l[i].rank != s->rank || dsts.l[j].rank != s->rank) continue;
            c.in_layout[0] = srcs.l[i];
            c.out_layout = dsts.l[j];
            snprintf(suffix, sizeof suffix, "/L:%s>%s", ft_layout_str(&srcs.l[i], sb, sizeof sb),
                     ft_layout_str(&dsts.l[j], db, sizeof db));
            rc = push_conversions(list, &c, &srcs.l[i], &dsts.l[j], s, esz, "reorder", suffix, err);
        }
    return rc;
}

static int reorder_run(ft_kernel_ctx *ctx)
{
    const ft_tensor *x = ctx->in[0];
    ft_reorder_knobs k = knobs_of(ctx->cand);
    int rc = ft_reorder_tiled(x->data, &ctx->cand->in_layout[0], ctx->out[0]->data, &ctx->cand->out_layout,
                              &x->shape, ft_dtype_size(x->dtype), &k);
    if (rc != FT_OK) return run_fail(ctx, rc, "the layouts or knobs do not fit this tensor or CPU");
    return FT_OK;
}

static const ft_kernel_family fam_transpose_tiled = {"transpose.tiled", "Transpose", tiled_enumerate, NULL, NULL,
                                                     tiled_run, 0};
static const ft_kernel_family fam_transpose_relabel = {"transpose.relabel", "Transpose", relabel_enumerate, NULL,
                                                       NULL, relabel_run, FT_FAMILY_ALIAS};
static const ft_kernel_family fam_reorder_tiled = {"reorder.tiled", "Reorder", reorder_enumerate, NULL, NULL,
                                                   reorder_run, 0};

const ft_kernel_family *const ft_families_movement[] = {&fam_transpose_tiled, &fam_transpose_relabel,
                                                        &fam_reorder_tiled, NULL};
