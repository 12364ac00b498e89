/* normalize.c - tuned float32 families for ops that reduce along axes: Softmax and LogSoftmax,
 * LayerNormalization, and ReduceSum / ReduceMean / ReduceMax.
 *
 * In a layout where the reduced axes sit at consecutive physical positions the tensor is
 * [outer][n][inner] in memory (fast_util.h); inner = 1 is the common last-axis case (contiguous
 * rows), inner > 1 is vectorised across inner. Layouts that split the reduced axes are not
 * enumerated. Inputs and outputs share the layout (Reduce drops or keeps the reduced axes of it).
 *
 * params: [0] ISA (isa.h), [1] unroll.
 */
#include <stdint.h>
#include <string.h>

#include "f32_ew.h"
#include "families.h"
#include "fast_util.h"
#include "isa.h"
#include "ops.h"

static int run_fail(ft_kernel_ctx *ctx, const char *what)
{
    return ft_fail(ctx->err, FT_ERR_UNSUPPORTED, "node '%s' (%s), candidate '%s': %s", ctx->node->name,
                   ctx->node->op_type, ctx->cand->key, what);
}

/* Pushes one candidate per ISA and unroll for these layouts. */
static int push_knobs(ft_candidate_list *list, ft_candidate *c, const char *op_key, const ft_layout *l,
                      ft_error *err)
{
    static const int unrolls[] = {2, 4, 1};
    int isas[FT_FAST_N_ISA], n_isa = ft_fast_isas(isas);
    char lb[16];
    ft_layout_str(l, lb, sizeof lb);
    for (int k = 0; k < n_isa; k++)
        for (size_t u = 0; u < sizeof unrolls / sizeof unrolls[0]; u++) {
            if (isas[k] == FT_FAST_SCALAR && unrolls[u] != 1) continue;
            c->params[0] = isas[k];
            c->params[1] = unrolls[u];
            int rc = ft_fast_push(list, c, err, "%s/%s/u%d/L:%s", op_key, ft_fast_isa_name(isas[k]), unrolls[u], lb);
            if (rc != FT_OK) return rc;
        }
    return FT_OK;
}

static int is_f32(const ft_tensor *t)
{
    return t && t->dtype == FT_FLOAT;
}

/* ---- Softmax, LogSoftmax ---------------------------------------------------------------------------- */

/* Before opset 13 the input is coerced to 2-D at axis (default 1): every axis from axis on is
 * normalised together; from 13 only axis (default -1). Returns 0 when axis is out of range. */
static int softmax_mask(const ft_node *n, const ft_shape *s, unsigned *mask)
{
    int old = n->opset < 13, axis;
    if (s->rank < 1 || ft_normalize_axis(ft_attr_int(n, "axis", old ? 1 : -1), s->rank, 0, &axis) != 0) return 0;
    *mask = old ? ((1u << s->rank) - 1u) & ~((1u << axis) - 1u) : 1u << axis;
    return 1;
}

static int softmax_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                             ft_error *err)
{
    unsigned mask;
    if (n->n_in != 1 || !is_f32(in[0]) || !is_f32(out[0]) || ft_shape_numel(&in[0]->shape) <= 0) return FT_OK;
    if (!softmax_mask(n, &in[0]->shape, &mask)) return FT_OK;
    int log_out = strcmp(n->op_type, "LogSoftmax") == 0;
    const ft_layout_set *sets[2] = {&list->in_hints[0], &list->out_hints};
    ft_layout choices[FT_FAST_MAX_CHOICES];
    int nc = ft_fast_layout_choices(&in[0]->shape, sets, 2, choices, FT_FAST_MAX_CHOICES);
    for (int i = 0; i < nc; i++) {
        int64_t outer, len, inner;
        if (!ft_fast_block_view(&choices[i], &in[0]->shape, mask, &outer, &len, &inner)) continue;
        ft_candidate c;
        ft_candidate_init(&c, log_out ? &ft_family_logsoftmax : &ft_family_softmax, n, in, out);
        c.in_layout[0] = c.out_layout = choices[i];
        int rc = push_knobs(list, &c, log_out ? "logsoftmax" : "softmax", &choices[i], err);
        if (rc != FT_OK) return rc;
    }
    return FT_OK;
}

static int softmax_run(ft_kernel_ctx *ctx)
{
    const ft_candidate *c = ctx->cand;
    const ft_f32_ew_kernels *kern = ft_f32_ew_for_isa(c->params[0]);
    const ft_tensor *x = ctx->in[0];
    unsigned mask;
    int64_t outer, n, inner;
    if (!kern) return run_fail(ctx, "this CPU lacks the candidate's instruction set");
    if (!softmax_mask(ctx->node, &x->shape, &mask) || !ft_layout_equal(&c->in_layout[0], &c->out_layout) ||
        !ft_fast_block_view(&c->in_layout[0], &x->shape, mask, &outer, &n, &inner))
        return run_fail(ctx, "the layout splits the normalised axes");
    int log_out = strcmp(ctx->node->op_type, "LogSoftmax") == 0;
    const float *xs = x->data;
    float *ys = ctx->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        kern->softmax(c->params[1], log_out, xs + o * n * inner, ys + o * n * inner, n, inner);
    return FT_OK;
}

/* ---- LayerNormalization ------------------------------------------------------------------------------ */

/* Scale and bias must broadcast onto X and vary only along the normalised axes (as the reference
 * requires); they are then expanded into the block's physical order at run time. */
static int ln_param_ok(const ft_tensor *p, const ft_shape *xs, int axis)
{
    if (!is_f32(p) || p->shape.rank > xs->rank) return 0;
    for (int d = 0; d < p->shape.rank; d++) {
        int xd = d + xs->rank - p->shape.rank;
        int64_t pd = p->shape.dims[d];
        if ((pd != 1 && pd != xs->dims[xd]) || (pd != 1 && xd < axis)) return 0;
    }
    return 1;
}

static int ln_axis(const ft_node *n, const ft_shape *s, int *axis)
{
    return s->rank >= 1 && ft_normalize_axis(ft_attr_int(n, "axis", -1), s->rank, 0, axis) == 0;
}

static int ln_has_stats(const ft_node *n, ft_tensor *const *out)
{
    return (n->n_out > 1 && out[1]) || (n->n_out > 2 && out[2]);
}

static int ln_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    int axis;
    if (n->n_in < 2 || n->n_in > 3 || !is_f32(in[0]) || !is_f32(out[0]) || ft_shape_numel(&in[0]->shape) <= 0)
        return FT_OK;
    const ft_shape *xs = &in[0]->shape;
    if (!ln_axis(n, xs, &axis) || !ln_param_ok(in[1], xs, axis)) return FT_OK;
    if (n->n_in > 2 && in[2] && !ln_param_ok(in[2], xs, axis)) return FT_OK;
    for (int k = 1; k < n->n_out && k < 3; k++)
        if (out[k] && out[k]->dtype != FT_FLOAT) return FT_OK;
    unsigned mask = ((1u << xs->rank) - 1u) & ~((1u << axis) - 1u);
    const ft_layout_set *sets[2] = {&list->in_hints[0], &list->out_hints};
    ft_layout choices[FT_FAST_MAX_CHOICES];
    /* the mean and inverse-deviation outputs are row-major: only row-major X keeps them in order */
    int nc = ft_fast_layout_choices(xs, sets, ln_has_stats(n, out) ? 0 : 2, choices, FT_FAST_MAX_CHOICES);
    for (int i = 0; i < nc; i++) {
        int64_t outer, len, inner;
        if (!ft_fast_block_view(&choices[i], xs, mask, &outer, &len, &inner)) continue;
        ft_candidate c;
        ft_candidate_init(&c, &ft_family_layernorm, n, in, out);
        c.in_layout[0] = c.out_layout = choices[i];
        int rc = push_knobs(list, &c, "layernorm", &choices[i], err);
        if (rc != FT_OK) return rc;
    }
    return FT_OK;
}

static int64_t ln_block_size(const ft_shape *xs, int axis)
{
    int64_t n = 1;
    for (int d = axis; d < xs->rank; d++) n *= xs->dims[d];
    return n;
}

static int ln_prepare(ft_kernel_ctx *ctx, void **state, size_t *scratch_bytes)
{
    int axis;
    *state = NULL;
    *scratch_bytes = 0;
    if (!ln_axis(ctx->node, &ctx->in[0]->shape, &axis)) return run_fail(ctx, "axis out of range");
    *scratch_bytes = 2 * (size_t)ln_block_size(&ctx->in[0]->shape, axis) * sizeof(float);
    return FT_OK;
}

/* Writes p's value for every element of the normalised block, in the block's physical order. */
static void ln_expand(const ft_tensor *p, const ft_shape *xs, const ft_layout *l, int axis, float *dst, int64_t n)
{
    int64_t pst[FT_MAX_RANK];
    int axes[FT_MAX_RANK], na = 0;
    ft_shape_strides(&p->shape, pst);
    for (int q = 0; q < l->rank; q++)
        if (l->perm[q] >= axis) axes[na++] = l->perm[q];
    const float *src = p->data;
    for (int64_t b = 0; b < n; b++) {
        int64_t rem = b, off = 0;
        for (int k = na - 1; k >= 0; k--) {
            int xd = axes[k];
            int64_t i = rem % xs->dims[xd];
            rem /= xs->dims[xd];
            int pd = xd - (xs->rank - p->shape.rank);
            if (pd >= 0 && p->shape.dims[pd] != 1) off += i * pst[pd];
        }
        dst[b] = src[off];
    }
}

static int ln_run(ft_kernel_ctx *ctx)
{
    const ft_candidate *c = ctx->cand;
    const ft_f32_ew_kernels *kern = ft_f32_ew_for_isa(c->params[0]);
    const ft_tensor *x = ctx->in[0], *bias = ctx->n_in > 2 ? ctx->in[2] : NULL;
    int axis;
    int64_t outer, n, inner;
    if (!kern) return run_fail(ctx, "this CPU lacks the candidate's instruction set");
    if (!ln_axis(ctx->node, &x->shape, &axis) ||
        !ft_fast_block_view(&c->in_layout[0], &x->shape, ((1u << x->shape.rank) - 1u) & ~((1u << axis) - 1u), &outer,
                            &n, &inner))
        return run_fail(ctx, "the layout splits the normalised axes");
    if (!ctx->scratch) return run_fail(ctx, "no scratch for the expanded scale and bias (prepare was not called)");
    float *sc = ctx->scratch, *bi = bias ? sc + n : NULL;
    ln_expand(ctx->in[1], &x->shape, &c->in_layout[0], axis, sc, n);
    if (bi) ln_expand(bias, &x->shape, &c->in_layout[0], axis, bi, n);
    float eps = ft_attr_float(ctx->node, "epsilon", 1e-5f);
    float *mean = ctx->n_out > 1 && ctx->out[1] ? ctx->out[1]->data : NULL;
    float *inv = ctx->n_out > 2 && ctx->out[2] ? ctx->out[2]->data : NULL;
    const float *xs = x->data;
    float *ys = ctx->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        kern->layernorm(c->params[1], xs + o * n * inner, ys + o * n * inner, n, inner, sc, bi, eps,
                        mean ? mean + o * inner : NULL, inv ? inv + o * inner : NULL);
    return FT_OK;
}

/* ---- ReduceSum, ReduceMean, ReduceMax --------------------------------------------------------------- */

typedef struct reduce_info {
    int op;       /* ft_ew_reduce_op */
    unsigned mask; /* reduced logical axes */
    int keepdims;
} reduce_info;

/* Resolves the reduced axes as the reference does; returns 0 for what this family leaves to it
 * (axes not constant, noop_with_empty_axes, bad axes). */
static int reduce_parse(const ft_node *n, ft_tensor *const *in, reduce_info *r)
{
    const ft_shape *s = &in[0]->shape;
    int axes_input_opset;
    if (strcmp(n->op_type, "ReduceSum") == 0) {
        r->op = FT_EW_REDUCE_SUM;
        axes_input_opset = 13;
    } else {
        r->op = strcmp(n->op_type, "ReduceMean") == 0 ? FT_EW_REDUCE_MEAN : FT_EW_REDUCE_MAX;
        axes_input_opset = 18;
    }
    int64_t axes[FT_MAX_RANK];
    int n_axes = 0;
    const ft_tensor *ax = n->n_in > 1 ? in[1] : NULL;
    if (ax) {
        if (n->opset < axes_input_opset || (ax->dtype != FT_INT64 && ax->dtype != FT_INT32)) return 0;
        int64_t cnt = ft_shape_numel(&ax->shape);
        if (cnt > FT_MAX_RANK || (cnt > 0 && (!(ax->flags & FT_T_CONST) || !ax->data))) return 0;
        for (int64_t i = 0; i < cnt; i++) axes[n_axes++] = ft_tensor_get_i64(ax, i);
    } else {
        const int64_t *v;
        int cnt = ft_attr_ints(n, "axes", &v);
        if (cnt > FT_MAX_RANK) return 0;
        for (int i = 0; i < cnt; i++) axes[n_axes++] = v[i];
    }
    if (s->rank < 1) return 0;
    r->mask = 0;
    if (n_axes == 0) {
        if (ft_attr_int(n, "noop_with_empty_axes", 0)) return 0;
        r->mask = (1u << s->rank) - 1u;
    }
    for (int i = 0; i < n_axes; i++) {
        int a;
        if (ft_normalize_axis(axes[i], s->rank, 0, &a) != 0 || (r->mask & (1u << a))) return 0;
        r->mask |= 1u << a;
    }
    r->keepdims = ft_attr_int(n, "keepdims", 1) != 0;
    return 1;
}

/* The output layout that stores the kept axes in the order l stores them. */
static void reduce_out_layout(const ft_layout *l, const reduce_info *r, const ft_shape *os, ft_layout *res)
{
    ft_layout o = {.rank = os->rank, .perm = {0}};
    if (r->keepdims) {
        o = *l;
    } else {
        int k = 0;
        for (int p = 0; p < l->rank; p++) {
            int ax = l->perm[p];
            if (r->mask & (1u << ax)) continue;
            int renum = 0;
            for (int b = 0; b < ax; b++) renum += !(r->mask & (1u << b));
            o.perm[k++] = (uint8_t)renum;
        }
    }
    ft_layout_identity(res, os->rank);
    if (!ft_layout_equivalent(&o, res, os)) *res = o;
}

static const ft_kernel_family *reduce_family(int op)
{
    return op == FT_EW_REDUCE_SUM ? &ft_family_reducesum : op == FT_EW_REDUCE_MEAN ? &ft_family_reducemean
                                                                                  : &ft_family_reducemax;
}

static int reduce_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                            ft_error *err)
{
    reduce_info r;
    if (n->n_in < 1 || !is_f32(in[0]) || !is_f32(out[0]) || ft_shape_numel(&in[0]->shape) <= 0) return FT_OK;
    if (!reduce_parse(n, in, &r)) return FT_OK;
    const ft_shape *xs = &in[0]->shape;
    int kept = 0;
    for (int d = 0; d < xs->rank; d++) kept += !(r.mask & (1u << d));
    if (out[0]->shape.rank != (r.keepdims ? xs->rank : kept)) return FT_OK;
    static const char *const keys[] = {"reducesum", "reducemean", "reducemax"};
    const ft_layout_set *sets[1] = {&list->in_hints[0]};
    ft_layout choices[FT_FAST_MAX_CHOICES];
    int nc = ft_fast_layout_choices(xs, sets, 1, choices, FT_FAST_MAX_CHOICES);
    for (int i = 0; i < nc; i++) {
        int64_t outer, len, inner;
        if (!ft_fast_block_view(&choices[i], xs, r.mask, &outer, &len, &inner)) continue;
        ft_candidate c;
        ft_candidate_init(&c, reduce_family(r.op), n, in, out);
        c.in_layout[0] = choices[i];
        reduce_out_layout(&choices[i], &r, &out[0]->shape, &c.out_layout);
        int rc = push_knobs(list, &c, keys[r.op], &choices[i], err);
        if (rc != FT_OK) return rc;
    }
    return FT_OK;
}

static int reduce_run(ft_kernel_ctx *ctx)
{
    const ft_candidate *c = ctx->cand;
    const ft_f32_ew_kernels *kern = ft_f32_ew_for_isa(c->params[0]);
    reduce_info r;
    int64_t outer, n, inner;
    if (!kern) return run_fail(ctx, "this CPU lacks the candidate's instruction set");
    if (!reduce_parse(ctx->node, ctx->in, &r) ||
        !ft_fast_block_view(&c->in_layout[0], &ctx->in[0]->shape, r.mask, &outer, &n, &inner))
        return run_fail(ctx, "the layout splits the reduced axes");
    const float *xs = ctx->in[0]->data;
    float *ys = ctx->out[0]->data;
    for (int64_t o = 0; o < outer; o++) kern->reduce(c->params[1], r.op, xs + o * n * inner, ys + o * inner, n, inner);
    return FT_OK;
}

const ft_kernel_family ft_family_softmax = {"softmax.fast", "Softmax", softmax_enumerate, NULL, NULL, softmax_run, 0};
const ft_kernel_family ft_family_logsoftmax = {"logsoftmax.fast", "LogSoftmax", softmax_enumerate, NULL, NULL,
                                               softmax_run, 0};
const ft_kernel_family ft_family_layernorm = {"layernorm.fast", "LayerNormalization", ln_enumerate, ln_prepare, NULL,
                                              ln_run, 0};
const ft_kernel_family ft_family_reducesum = {"reducesum.fast", "ReduceSum", reduce_enumerate, NULL, NULL,
                                              reduce_run, 0};
const ft_kernel_family ft_family_reducemean = {"reducemean.fast", "ReduceMean", reduce_enumerate, NULL, NULL,
                                               reduce_run, 0};
const ft_kernel_family ft_family_reducemax = {"reducemax.fast", "ReduceMax", reduce_enumerate, NULL, NULL,
                                              reduce_run, 0};
