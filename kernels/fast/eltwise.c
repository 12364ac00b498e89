/* eltwise.c - tuned float32 elementwise families (unary math and activations, Add/Sub/Mul/Div with
 * numpy broadcasting, Pow, Where) and the table of every family in kernels/fast but the linear
 * algebra and data-movement ones.
 *
 * A candidate stores the output in a layout L and every input of the output's shape in L too, so
 * walking the output's bytes in order walks theirs in order; broadcast inputs keep their own
 * layout. The walk runs along the output's physical order with per-operand strides, merges axes
 * that are contiguous for every operand, and hands each innermost row to a vector kernel when every
 * operand is contiguous or broadcast along it (strided rows fall back to a scalar loop).
 *
 * params: [0] ISA (isa.h), [1] unroll, [2] the kernel's op (f32_ew.h; Pow: a unary op for a constant
 * exponent of 2, 3 or 0.5, else -1 for the general power).
 */
#include <math.h>
#include <string.h>

#include "f32_ew.h"
#include "families.h"
#include "fast_util.h"
#include "isa.h"
#include "ops.h"

enum { K_UNARY, K_BINARY, K_POW, K_WHERE };
#define POW_GENERAL (-1)

typedef struct ew_op {
    const char *op_type, *key;
    int kind, code;
} ew_op;

static const ew_op ew_ops[] = {
    {"Relu", "relu", K_UNARY, FT_EW_RELU},
    {"Sigmoid", "sigmoid", K_UNARY, FT_EW_SIGMOID},
    {"Tanh", "tanh", K_UNARY, FT_EW_TANH},
    {"Erf", "erf", K_UNARY, FT_EW_ERF},
    {"Exp", "exp", K_UNARY, FT_EW_EXP},
    {"Sqrt", "sqrt", K_UNARY, FT_EW_SQRT},
    {"Neg", "neg", K_UNARY, FT_EW_NEG},
    {"Abs", "abs", K_UNARY, FT_EW_ABS},
    {"Reciprocal", "reciprocal", K_UNARY, FT_EW_RECIPROCAL},
    {"Add", "add", K_BINARY, FT_EW_ADD},
    {"Sub", "sub", K_BINARY, FT_EW_SUB},
    {"Mul", "mul", K_BINARY, FT_EW_MUL},
    {"Div", "div", K_BINARY, FT_EW_DIV},
    {"Pow", "pow", K_POW, POW_GENERAL},
    {"Where", "where", K_WHERE, 0},
};

extern const ft_kernel_family *const ft_families_eltwise[];

static const ft_kernel_family *family_of(const char *op_type)
{
    for (const ft_kernel_family *const *f = ft_families_eltwise; *f; f++)
        if (strcmp((*f)->op_type, op_type) == 0) return *f;
    return NULL;
}

static const ew_op *find_op(const char *op_type)
{
    for (size_t i = 0; i < sizeof ew_ops / sizeof ew_ops[0]; i++)
        if (strcmp(ew_ops[i].op_type, op_type) == 0) return &ew_ops[i];
    return NULL;
}

/* The unary kernel of Pow with this constant exponent tensor, or POW_GENERAL. */
static int pow_code(const ft_tensor *e)
{
    if (!(e->flags & FT_T_CONST) || !e->data || ft_shape_numel(&e->shape) != 1) return POW_GENERAL;
    if (e->dtype != FT_FLOAT && e->dtype != FT_DOUBLE && e->dtype != FT_INT32 && e->dtype != FT_INT64)
        return POW_GENERAL;
    double v = ft_tensor_get_f64(e, 0);
    return v == 2.0 ? FT_EW_SQUARE : v == 3.0 ? FT_EW_CUBE : v == 0.5 ? FT_EW_POW_HALF : POW_GENERAL;
}

/* The layout a broadcast input takes when the output is stored in l: its axes in l's order. When
 * that is row-major for its shape, row-major; else a hint of its own that stores the same bytes;
 * else row-major (the walk reads it strided). */
static void broadcast_layout(const ft_layout *l, const ft_shape *out, const ft_shape *s, const ft_layout_set *hints,
                             ft_layout *res)
{
    ft_layout induced = {.rank = s->rank, .perm = {0}};
    int k = 0, off = out->rank - s->rank;
    for (int p = 0; p < l->rank; p++)
        if (l->perm[p] >= off) induced.perm[k++] = (uint8_t)(l->perm[p] - off);
    ft_layout_identity(res, s->rank);
    if (ft_layout_equivalent(&induced, res, s)) return;
    for (int i = 0; i < hints->n && i < 6; i++)
        if (hints->l[i].rank == s->rank && ft_layout_equivalent(&induced, &hints->l[i], s)) {
            *res = hints->l[i];
            return;
        }
}

static int ew_enumerate(const ft_node *n, ft_tensor *const *in, ft_tensor *const *out, ft_candidate_list *list,
                        ft_error *err)
{
    const ew_op *op = find_op(n->op_type);
    if (!op) return FT_OK;
    int want_in = op->kind == K_UNARY ? 1 : op->kind == K_WHERE ? 3 : 2;
    if (n->n_in != want_in || n->n_out < 1 || !out[0] || out[0]->dtype != FT_FLOAT) return FT_OK;
    for (int i = 0; i < want_in; i++) {
        if (!in[i] || ft_shape_numel(&in[i]->shape) <= 0) return FT_OK;
        ft_dtype want = op->kind == K_WHERE && i == 0 ? FT_BOOL : FT_FLOAT;
        if (in[i]->dtype != want && !(op->kind == K_POW && i == 1)) return FT_OK;
    }
    const ft_shape *os = &out[0]->shape;
    if (ft_shape_numel(os) <= 0) return FT_OK;
    int code = op->code;
    int shaped[FT_MAX_IO] = {0}; /* inputs of the output's shape: they share its layout */
    if (op->kind == K_POW) {
        code = ft_shape_equal(&in[0]->shape, os) ? pow_code(in[1]) : POW_GENERAL;
        if (code == POW_GENERAL && in[1]->dtype != FT_FLOAT) return FT_OK;
    }
    const ft_layout_set *sets[FT_MAX_IO + 1];
    int n_sets = 0;
    sets[n_sets++] = &list->out_hints;
    for (int i = 0; i < want_in; i++) {
        shaped[i] = ft_shape_equal(&in[i]->shape, os) && !(op->kind == K_POW && code != POW_GENERAL && i == 1);
        if (shaped[i]) sets[n_sets++] = &list->in_hints[i];
    }
    ft_layout choices[FT_FAST_MAX_CHOICES];
    int n_choices = ft_fast_layout_choices_blocked(os, sets, n_sets, choices, FT_FAST_MAX_CHOICES);
    /* blocked layouts only where every other operand is a single value: the walk reads shaped
     * operands in the output's blocking and has no blocking for a broadcast one */
    int flat_only = 1;
    for (int i = 0; i < want_in; i++)
        if (!shaped[i] && ft_shape_numel(&in[i]->shape) != 1 && !(op->kind == K_POW && code != POW_GENERAL && i == 1))
            flat_only = 0;
    int isas[FT_FAST_N_ISA], n_isa = ft_fast_isas(isas);
    static const int unrolls[] = {2, 4, 1};
    for (int li = 0; li < n_choices; li++) {
        if (ft_layout_blocked(&choices[li]) && !flat_only) continue;
        ft_candidate c;
        char lb[16];
        ft_candidate_init(&c, family_of(n->op_type), n, in, out);
        c.out_layout = choices[li];
        for (int i = 0; i < want_in; i++) {
            if (shaped[i]) c.in_layout[i] = choices[li];
            else if (op->kind == K_POW && code != POW_GENERAL && i == 1)
                ft_layout_identity(&c.in_layout[i], in[i]->shape.rank);
            else broadcast_layout(&choices[li], os, &in[i]->shape, &list->in_hints[i], &c.in_layout[i]);
        }
        ft_layout_str(&choices[li], lb, sizeof lb);
        for (int k = 0; k < n_isa; k++) {
            if (code == POW_GENERAL && op->kind == K_POW && isas[k] != FT_FAST_SCALAR) continue;
            for (size_t u = 0; u < sizeof unrolls / sizeof unrolls[0]; u++) {
                if (isas[k] == FT_FAST_SCALAR && unrolls[u] != 1) continue;
                c.params[0] = isas[k];
                c.params[1] = unrolls[u];
                c.params[2] = code;
                int rc = ft_fast_push(list, &c, err, "%s/%s/u%d/L:%s", op->key, ft_fast_isa_name(isas[k]), unrolls[u], lb);
                if (rc != FT_OK) return rc;
            }
        }
    }
    return FT_OK;
}

/* ---- the walk ------------------------------------------------------------------------------------- */

#define EW_OPS 4 /* the output and up to three inputs */

typedef struct ew_walk {
    int rank; /* merged axes, in the output's physical order, outermost first */
    int64_t dims[FT_MAX_RANK];
    int64_t st[EW_OPS][FT_MAX_RANK]; /* element strides, operand 0 the output; 0 where broadcast */
} ew_walk;

static void walk_make(ew_walk *w, const ft_tensor *out, const ft_layout *lo, int n_in, ft_tensor *const *in,
                      const ft_layout *li);

/* A blocked output: the walk of the same bytes with the blocked axis split in two, operands of the
 * output's shape split alike (they share its layout), single values left as they are. -1 when the
 * candidate's layouts do not fit the tensors. */
static int walk_make_blocked(ew_walk *w, const ft_tensor *out, const ft_layout *lo, int n_in, ft_tensor *const *in,
                             const ft_layout *li)
{
    ft_tensor o2 = *out, i2[EW_OPS - 1];
    ft_tensor *ip[EW_OPS - 1];
    ft_layout lo2, li2[EW_OPS - 1];
    if (ft_layout_split(lo, &out->shape, 0, 0, &lo2, &o2.shape) != 0) return -1;
    for (int k = 0; k < n_in; k++) {
        i2[k] = *in[k];
        ip[k] = &i2[k];
        if (ft_shape_equal(&in[k]->shape, &out->shape)) {
            if (!ft_layout_equal(&li[k], lo) ||
                ft_layout_split(&li[k], &in[k]->shape, 0, 0, &li2[k], &i2[k].shape) != 0)
                return -1;
        } else {
            if (ft_shape_numel(&in[k]->shape) != 1) return -1;
            ft_layout_identity(&li2[k], in[k]->shape.rank);
        }
    }
    walk_make(w, &o2, &lo2, n_in, ip, li2);
    return 0;
}

static void walk_make(ew_walk *w, const ft_tensor *out, const ft_layout *lo, int n_in, ft_tensor *const *in,
                      const ft_layout *li)
{
    int r = out->shape.rank;
    int64_t ost[FT_MAX_RANK], ist[EW_OPS - 1][FT_MAX_RANK];
    ft_layout_strides(lo, &out->shape, ost);
    for (int k = 0; k < n_in; k++) ft_layout_strides(&li[k], &in[k]->shape, ist[k]);
    w->rank = 0;
    for (int p = 0; p < r; p++) {
        int a = lo->perm[p];
        int64_t d = out->shape.dims[a];
        if (d == 1) continue;
        int q = w->rank;
        w->dims[q] = d;
        w->st[0][q] = ost[a];
        for (int k = 0; k < n_in; k++) {
            int ia = a - (r - in[k]->shape.rank);
            w->st[k + 1][q] = ia >= 0 && in[k]->shape.dims[ia] != 1 ? ist[k][ia] : 0;
        }
        int merge = q > 0;
        for (int k = 0; k <= n_in && merge; k++) merge = w->st[k][q - 1] == w->st[k][q] * d;
        if (merge) {
            w->dims[q - 1] *= d;
            for (int k = 0; k <= n_in; k++) w->st[k][q - 1] = w->st[k][q];
        } else {
            w->rank++;
        }
    }
    if (w->rank == 0) {
        w->rank = 1;
        w->dims[0] = 1;
        for (int k = 0; k <= n_in; k++) w->st[k][0] = 1;
    }
}

static int run_fail(ft_kernel_ctx *ctx, const char *what)
{
    return ft_fail(ctx->err, FT_ERR_UNSUPPORTED, "node '%s' (%s), candidate '%s': %s", ctx->node->name,
                   ctx->node->op_type, ctx->cand->key, what);
}

static int ew_run(ft_kernel_ctx *ctx)
{
    const ft_candidate *c = ctx->cand;
    const ew_op *op = find_op(ctx->node->op_type);
    const ft_f32_ew_kernels *kern = ft_f32_ew_for_isa(c->params[0]);
    if (!op || !kern) return run_fail(ctx, "this CPU lacks the candidate's instruction set");
    int unroll = c->params[1], code = c->params[2];
    int n_in = op->kind == K_UNARY || (op->kind == K_POW && code != POW_GENERAL) ? 1 : op->kind == K_WHERE ? 3 : 2;
    ew_walk w;
    if (!ft_layout_blocked(&c->out_layout)) walk_make(&w, ctx->out[0], &c->out_layout, n_in, ctx->in, c->in_layout);
    else if (walk_make_blocked(&w, ctx->out[0], &c->out_layout, n_in, ctx->in, c->in_layout) != 0)
        return run_fail(ctx, "its blocked layouts do not fit the tensors");
    int last = w.rank - 1;
    int64_t inner = w.dims[last], rows = 1, idx[FT_MAX_RANK] = {0}, off[EW_OPS] = {0};
    for (int d = 0; d < last; d++) rows *= w.dims[d];
    int64_t s[EW_OPS];
    for (int k = 0; k <= n_in; k++) s[k] = w.st[k][last];
    int unit = s[0] == 1;
    for (int k = 1; k <= n_in; k++) unit &= s[k] == 0 || s[k] == 1;
    float *y = ctx->out[0]->data;
    const float *a = ctx->in[op->kind == K_WHERE ? 1 : 0]->data;
    const float *b = n_in > 1 ? ctx->in[op->kind == K_WHERE ? 2 : 1]->data : NULL;
    const uint8_t *cond = op->kind == K_WHERE ? ctx->in[0]->data : NULL;
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + off[0];
        switch (op->kind == K_POW && code != POW_GENERAL ? K_UNARY : op->kind) {
        case K_UNARY:
            if (unit && s[1] == 1) kern->unary(code, unroll, a + off[1], yr, inner);
            else
                for (int64_t i = 0; i < inner; i++) kern->unary(code, 1, a + off[1] + i * s[1], yr + i * s[0], 1);
            break;
        case K_BINARY:
            if (unit) kern->binary(code, unroll, a + off[1], s[1], b + off[2], s[2], yr, inner);
            else
                for (int64_t i = 0; i < inner; i++)
                    kern->binary(code, 1, a + off[1] + i * s[1], 0, b + off[2] + i * s[2], 0, yr + i * s[0], 1);
            break;
        case K_POW: /* in double and rounded once, exactly as the reference */
            for (int64_t i = 0; i < inner; i++)
                yr[i * s[0]] = (float)pow((double)a[off[1] + i * s[1]], (double)b[off[2] + i * s[2]]);
            break;
        default: /* K_WHERE: operand 1 is the condition, 2 and 3 the values */
            if (unit) kern->where(unroll, cond + off[1], s[1], a + off[2], s[2], b + off[3], s[3], yr, inner);
            else
                for (int64_t i = 0; i < inner; i++)
                    yr[i * s[0]] = cond[off[1] + i * s[1]] ? a[off[2] + i * s[2]] : b[off[3] + i * s[3]];
            break;
        }
        for (int d = last - 1; d >= 0; d--) {
            for (int k = 0; k <= n_in; k++) off[k] += w.st[k][d];
            if (++idx[d] < w.dims[d]) break;
            for (int k = 0; k <= n_in; k++) off[k] -= w.st[k][d] * w.dims[d];
            idx[d] = 0;
        }
    }
    return FT_OK;
}

#define EW_FAMILY(var, name, op_type)                                                               \
    static const ft_kernel_family var = {name, op_type, ew_enumerate, NULL, NULL, ew_run, 0};
EW_FAMILY(fam_relu, "eltwise.relu", "Relu")
EW_FAMILY(fam_sigmoid, "eltwise.sigmoid", "Sigmoid")
EW_FAMILY(fam_tanh, "eltwise.tanh", "Tanh")
EW_FAMILY(fam_erf, "eltwise.erf", "Erf")
EW_FAMILY(fam_exp, "eltwise.exp", "Exp")
EW_FAMILY(fam_sqrt, "eltwise.sqrt", "Sqrt")
EW_FAMILY(fam_neg, "eltwise.neg", "Neg")
EW_FAMILY(fam_abs, "eltwise.abs", "Abs")
EW_FAMILY(fam_reciprocal, "eltwise.reciprocal", "Reciprocal")
EW_FAMILY(fam_add, "eltwise.add", "Add")
EW_FAMILY(fam_sub, "eltwise.sub", "Sub")
EW_FAMILY(fam_mul, "eltwise.mul", "Mul")
EW_FAMILY(fam_div, "eltwise.div", "Div")
EW_FAMILY(fam_pow, "eltwise.pow", "Pow")
EW_FAMILY(fam_where, "eltwise.where", "Where")

const ft_kernel_family *const ft_families_eltwise[] = {
    &fam_relu, &fam_sigmoid, &fam_tanh, &fam_erf, &fam_exp, &fam_sqrt, &fam_neg, &fam_abs, &fam_reciprocal,
    &fam_add, &fam_sub, &fam_mul, &fam_div, &fam_pow, &fam_where, &ft_family_softmax, &ft_family_logsoftmax,
    &ft_family_layernorm, &ft_family_reducesum, &ft_family_reducemean, &ft_family_reducemax, NULL};
