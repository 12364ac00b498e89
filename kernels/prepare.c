/* prepare.c - resolve ops, fix shapes, fold constants and BatchNorms into Convs, mark views, drop dead
 * nodes. */
#include "prepare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* A folded constant larger than this is refused: folding must never be the way an absurd shape
 * turns into an allocation of many gigabytes. The fuzz build (fuzz/CMakeLists.txt) sets a lower
 * bound that fits its memory limit. */
#ifndef FT_MAX_FOLD_BYTES
#define FT_MAX_FOLD_BYTES ((size_t)4 << 30)
#endif

int ft_graph_set_input_shape(ft_graph *g, const char *name, const ft_shape *shape, ft_error *err)
{
    char want[128], have[128];
    for (int k = 0; k < g->n_inputs; k++) {
        ft_tensor *t = &g->tensors[g->inputs[k]];
        if (strcmp(t->name, name) != 0) continue;
        if (ft_shape_numel(shape) < 0)
            return ft_fail(err, FT_ERR_INPUT, "--shape %s=%s: dims must be non-negative and the element count at most %lld",
                           name, ft_shape_str(shape, want, sizeof want), (long long)FT_MAX_NUMEL);
        if (t->shape.rank >= 0) {
            int ok = t->shape.rank == shape->rank;
            for (int i = 0; ok && i < shape->rank; i++)
                if (t->shape.dims[i] >= 0 && t->shape.dims[i] != shape->dims[i]) ok = 0;
            if (!ok)
                return ft_fail(err, FT_ERR_INPUT, "--shape %s=%s does not fit the model's input shape %s", name,
                               ft_shape_str(shape, want, sizeof want), ft_shape_str(&t->shape, have, sizeof have));
        }
        t->shape = *shape;
        return FT_OK;
    }
    size_t o = 0;
    char names[512] = "";
    for (int k = 0; k < g->n_inputs && o < sizeof names; k++)
        o += (size_t)snprintf(names + o, sizeof names - o, "%s'%s'", k ? ", " : "", g->tensors[g->inputs[k]].name);
    return ft_fail(err, FT_ERR_INPUT, "--shape %s: the model has no input named '%s' (its inputs: %s)", name, name,
                   g->n_inputs ? names : "none");
}

static int resolve_ops(ft_graph *g, ft_error *err)
{
    char list[768] = "";
    size_t o = 0;
    int n_bad = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        ft_node *n = &g->nodes[i];
        n->op = ft_op_find(n->domain, n->op_type);
        if (n->op) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !g->nodes[j].op && strcmp(g->nodes[j].op_type, n->op_type) == 0 &&
                   strcmp(g->nodes[j].domain, n->domain) == 0;
        if (seen) continue;
        n_bad++;
        if (o < sizeof list)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s%s%s (node '%s')", n_bad > 1 ? ", " : "",
                                  n->domain[0] ? n->domain : "", n->domain[0] ? "." : "", n->op_type, n->name);
    }
    if (n_bad)
        return ft_fail(err, FT_ERR_UNSUPPORTED, "%s: %d unsupported operator type%s: %s", g->path ? g->path : "model",
                       n_bad, n_bad > 1 ? "s" : "", list);
    for (int i = 0; i < g->n_nodes; i++) {
        ft_node *n = &g->nodes[i];
        int n_in = n->n_in;
        while (n_in > 0 && n->in[n_in - 1] < 0) n_in--;
        if (n_in < n->op->min_in || n->n_in > n->op->max_in || n->n_out < n->op->min_out ||
            n->n_out > n->op->max_out)
            return ft_fail(err, FT_ERR_INPUT, "node '%s' (%s): %d inputs and %d outputs, expected %d..%d and %d..%d",
                           n->name, n->op_type, n->n_in, n->n_out, n->op->min_in, n->op->max_in, n->op->min_out,
                           n->op->max_out);
    }
    return FT_OK;
}

static int check_inputs_static(ft_graph *g, ft_error *err)
{
    char buf[128];
    for (int k = 0; k < g->n_inputs; k++) {
        ft_tensor *t = &g->tensors[g->inputs[k]];
        int dynamic = t->shape.rank < 0;
        for (int i = 0; i < t->shape.rank; i++)
            if (t->shape.dims[i] < 0) dynamic = 1;
        if (dynamic) {
            char dims[256] = "";
            size_t o = 0;
            for (int i = 0; i < t->shape.rank && o < sizeof dims; i++)
                o += (size_t)snprintf(dims + o, sizeof dims - o, "%s%s", i ? "," : "",
                                      t->shape.dims[i] >= 0 ? "" : (t->dim_param[i] ? t->dim_param[i] : "?"));
            return ft_fail(err, FT_ERR_INPUT, "input '%s' has a dynamic shape %s%s%s%s: fix it with --shape %s=D0,D1,...",
                           t->name, t->shape.rank < 0 ? "(unknown rank)" : ft_shape_str(&t->shape, buf, sizeof buf),
                           o ? " (" : "", o ? dims : "", o ? ")" : "", t->name);
        }
        if (ft_shape_numel(&t->shape) < 0)
            return ft_fail(err, FT_ERR_INPUT, "input '%s': shape %s has too many elements", t->name,
                           ft_shape_str(&t->shape, buf, sizeof buf));
        if (ft_dtype_size(t->dtype) == 0)
            return ft_fail(err, FT_ERR_UNSUPPORTED, "input '%s': element type %s is not supported", t->name,
                           ft_dtype_name(t->dtype));
    }
    return FT_OK;
}

static int is_const(const ft_graph *g, int t)
{
    return t < 0 || (g->tensors[t].flags & FT_T_CONST);
}

/* Infers the node's output shapes and, when foldable (and may_fold), computes its outputs now.
 * *folded tells. */
static int infer_and_fold(ft_graph *g, ft_node *n, int may_fold, int *folded, ft_error *err)
{
    ft_tensor *in[32], *out[32];
    char buf[128];
    if (n->n_in > 32 || n->n_out > 32)
        return ft_fail(err, FT_ERR_UNSUPPORTED, "node '%s' (%s): more than 32 inputs or outputs", n->name, n->op_type);
    int all_const = 1;
    for (int i = 0; i < n->n_in; i++) {
        in[i] = n->in[i] >= 0 ? &g->tensors[n->in[i]] : NULL;
        if (!is_const(g, n->in[i])) all_const = 0;
        if (in[i] && ft_shape_numel(&in[i]->shape) < 0)
            return ft_fail(err, FT_ERR_INPUT, "node '%s' (%s): input '%s' has no known shape", n->name, n->op_type,
                           in[i]->name);
    }
    for (int i = 0; i < n->n_out; i++) {
        out[i] = n->out[i] >= 0 ? &g->tensors[n->out[i]] : NULL;
        if (!out[i]) continue;
        out[i]->dtype = FT_UNDEFINED;
        out[i]->shape.rank = -1;
    }
    if (n->n_out == 0 || !out[0])
        return ft_fail(err, FT_ERR_UNSUPPORTED, "node '%s' (%s): its first output is omitted", n->name, n->op_type);
    ft_op_ctx ctx = {n, n->n_in, n->n_out, in, out, err};
    int rc = n->op->infer(&ctx);
    if (rc != FT_OK) return rc;
    for (int i = 0; i < n->n_out; i++) {
        if (!out[i]) continue;
        if (ft_dtype_size(out[i]->dtype) == 0 || out[i]->shape.rank < 0 || out[i]->shape.rank > FT_MAX_RANK)
            return ft_fail(err, FT_ERR_FAIL, "node '%s' (%s): shape inference left output '%s' undefined", n->name,
                           n->op_type, out[i]->name);
        if (ft_shape_numel(&out[i]->shape) < 0)
            return ft_fail(err, FT_ERR_INPUT, "node '%s' (%s): output '%s' would have shape %s, too many elements",
                           n->name, n->op_type, out[i]->name, ft_shape_str(&out[i]->shape, buf, sizeof buf));
    }
    *folded = may_fold && (all_const || (n->op->flags & FT_OP_SHAPE_ONLY));
    if (!*folded) return FT_OK;
    for (int i = 0; i < n->n_out; i++) {
        if (!out[i]) continue;
        size_t nb = ft_tensor_nbytes(out[i]);
        if (nb > FT_MAX_FOLD_BYTES)
            return ft_fail(err, FT_ERR_INPUT, "node '%s' (%s): constant output '%s' would take %zu bytes", n->name,
                           n->op_type, out[i]->name, nb);
        free(out[i]->data);
        out[i]->data = calloc(nb ? nb : 1, 1);
        if (!out[i]->data) return ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory folding constants", n->name);
    }
    if (n->op->flags & FT_OP_VIEW) {
        memcpy(out[0]->data, in[0]->data, ft_tensor_nbytes(out[0]));
    } else {
        rc = n->op->run(&ctx);
        if (rc != FT_OK) return rc;
    }
    for (int i = 0; i < n->n_out; i++) {
        if (!out[i]) continue;
        out[i]->flags |= FT_T_CONST;
        out[i]->producer = -1;
    }
    return FT_OK;
}

/* Keeps the nodes that are neither folded nor dead, renumbers producers, recounts consumers, and
 * frees constants nobody reads any more. */
static int compact(ft_graph *g, const char *drop)
{
    char *needed = calloc((size_t)g->n_tensors + 1, 1);
    char *keep = calloc((size_t)g->n_nodes + 1, 1);
    if (!needed || !keep) {
        free(needed);
        free(keep);
        return FT_ERR_NOMEM;
    }
    for (int k = 0; k < g->n_outputs; k++) needed[g->outputs[k]] = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        ft_node *n = &g->nodes[i];
        if (drop[i]) continue;
        int used = 0;
        for (int j = 0; j < n->n_out; j++) used |= n->out[j] >= 0 && needed[n->out[j]];
        if (!used) continue;
        keep[i] = 1;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) needed[n->in[j]] = 1;
    }
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (!keep[i]) {
            ft_node_clear(&g->nodes[i]);
            continue;
        }
        if (w != i) g->nodes[w] = g->nodes[i];
        w++;
    }
    g->n_nodes = w;
    for (int t = 0; t < g->n_tensors; t++) {
        ft_tensor *x = &g->tensors[t];
        x->n_consumers = (x->flags & FT_T_OUTPUT) ? 1 : 0;
        x->producer = -1;
        if ((x->flags & FT_T_CONST) && !needed[t] && !(x->flags & FT_T_OUTPUT)) {
            free(x->data);
            x->data = NULL;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ft_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) g->tensors[n->in[j]].n_consumers++;
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0) g->tensors[n->out[j]].producer = i;
    }
    free(needed);
    free(keep);
    return FT_OK;
}

static void mark_views(ft_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        ft_node *n = &g->nodes[i];
        if (!(n->op->flags & FT_OP_VIEW) || n->in[0] < 0) continue;
        ft_tensor *src = &g->tensors[n->in[0]];
        ft_tensor *dst = &g->tensors[n->out[0]];
        dst->flags |= FT_T_VIEW;
        dst->alias_of = (src->flags & FT_T_VIEW) ? src->alias_of : n->in[0];
    }
}

static const float *const_floats(const ft_graph *g, int t, int64_t n)
{
    if (t < 0) return NULL;
    const ft_tensor *x = &g->tensors[t];
    if (!(x->flags & FT_T_CONST) || x->dtype != FT_FLOAT || !x->data || ft_shape_numel(&x->shape) != n) return NULL;
    return x->data;
}

/* A constant float tensor of n elements for node `owner`'s folded parameters: t itself when only
 * this node reads it (rewritten in place), else a new tensor initialised from t (or zeros, t < 0).
 * Returns its index or -1 (out of memory). */
static int private_copy(ft_graph *g, int t, int64_t n, const char *owner, const char *what)
{
    if (t >= 0 && g->tensors[t].n_consumers == 1 && !(g->tensors[t].flags & FT_T_OUTPUT)) return t;
    char name[600];
    snprintf(name, sizeof name, "%s:%s", owner, what);
    float *data = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    if (!data) return -1;
    int nt = ft_graph_add_tensor(g, name);
    if (nt < 0) {
        free(data);
        return -1;
    }
    ft_tensor *x = &g->tensors[nt];
    if (t >= 0) {
        x->shape = g->tensors[t].shape;
        memcpy(data, g->tensors[t].data, (size_t)n * sizeof(float));
    } else {
        x->shape.rank = 1;
        x->shape.dims[0] = n;
    }
    x->dtype = FT_FLOAT;
    x->flags = FT_T_CONST;
    x->data = data;
    x->producer = -1;
    x->n_consumers = 1;
    return nt;
}

/* Folds an inference BatchNormalization into the Conv before it (the Conv's output read by nothing
 * else, every parameter constant): w'[m] = w[m] * s[m], b'[m] = (b[m] - mean[m]) * s[m] + beta[m]
 * with s = gamma / sqrt(var + eps), in double, and the Conv writes the BatchNormalization's output.
 * PyTorch exports CNNs with every BatchNorm separate; folded, a ResNet runs one pass less over each
 * activation and its Conv layouts reach the next layer directly. Marks the BatchNormalization nodes
 * in drop[]; returns how many or a negative status. */
static int fold_batchnorm(ft_graph *g, char *drop, ft_error *err)
{
    int folded = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        ft_node *bn = &g->nodes[i];
        if (strcmp(bn->op_type, "BatchNormalization") != 0 || bn->domain[0] || bn->n_in != 5 || bn->in[0] < 0 ||
            bn->out[0] < 0 || ft_attr_int(bn, "training_mode", 0) != 0)
            continue;
        int extra = 0;
        for (int j = 1; j < bn->n_out; j++) extra |= bn->out[j] >= 0;
        int x = bn->in[0], y = bn->out[0], ci = g->tensors[x].producer;
        if (extra || ci < 0 || g->tensors[x].n_consumers != 1 || (g->tensors[x].flags & FT_T_OUTPUT)) continue;
        ft_node *cv = &g->nodes[ci];
        if (strcmp(cv->op_type, "Conv") != 0 || cv->domain[0] || cv->n_out != 1 || cv->out[0] != x || cv->n_in < 2 ||
            g->tensors[x].dtype != FT_FLOAT || g->tensors[x].shape.rank < 3)
            continue;
        int64_t m = g->tensors[x].shape.dims[1];
        int wt = cv->in[1], bt = cv->n_in > 2 ? cv->in[2] : -1;
        if (wt < 0 || m <= 0 || g->tensors[wt].shape.rank < 1 || g->tensors[wt].shape.dims[0] != m) continue;
        int64_t wn = ft_shape_numel(&g->tensors[wt].shape), per = wn / m;
        const float *gamma = const_floats(g, bn->in[1], m), *beta = const_floats(g, bn->in[2], m);
        const float *mean = const_floats(g, bn->in[3], m), *var = const_floats(g, bn->in[4], m);
        if (!gamma || !beta || !mean || !var || !const_floats(g, wt, wn) || (bt >= 0 && !const_floats(g, bt, m)))
            continue;
        double eps = ft_attr_float(bn, "epsilon", 1e-5f);
        char owner[512];
        snprintf(owner, sizeof owner, "%s", cv->name);
        /* new tensors may move g->tensors: indices only from here, pointers re-read after */
        int nw = private_copy(g, wt, wn, owner, "bn_folded_weight");
        int nb = nw < 0 ? -1 : private_copy(g, bt, m, owner, "bn_folded_bias");
        if (nw < 0 || nb < 0) return -ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory folding BatchNormalization", owner);
        cv = &g->nodes[ci];
        bn = &g->nodes[i];
        gamma = g->tensors[bn->in[1]].data;
        beta = g->tensors[bn->in[2]].data;
        mean = g->tensors[bn->in[3]].data;
        var = g->tensors[bn->in[4]].data;
        float *w = g->tensors[nw].data, *b = g->tensors[nb].data;
        for (int64_t k = 0; k < m; k++) {
            double s = (double)gamma[k] / sqrt((double)var[k] + eps);
            for (int64_t e = 0; e < per; e++) w[k * per + e] = (float)((double)w[k * per + e] * s);
            b[k] = (float)(((double)b[k] - (double)mean[k]) * s + (double)beta[k]);
        }
        if (cv->n_in < 3) {
            int *in = realloc(cv->in, 3 * sizeof *in);
            if (!in) return -ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory folding BatchNormalization", owner);
            cv->in = in;
            cv->n_in = 3;
        }
        cv->in[1] = nw;
        cv->in[2] = nb;
        cv->out[0] = y;
        g->tensors[y].producer = ci;
        g->tensors[x].n_consumers = 0;
        drop[i] = 1;
        folded++;
    }
    return folded;
}

/* ---- MatMul epilogue fusion ------------------------------------------------------------------ */

/* Node i is Transpose(W), W a 2-D float32 constant, perm [1, 0]: a weight matrix stored as [N, K]
 * (a tied embedding read again as the LM head), and, when only_matmuls, every reader of its output
 * is a MatMul reading it as B. Such a Transpose is not folded at load time: FusedMatMul reads W
 * itself (transB) and packs it once, so W^T never exists in memory beside W. */
static int is_weight_transpose(const ft_graph *g, int i, int only_matmuls)
{
    const ft_node *n = &g->nodes[i];
    if (strcmp(n->op_type, "Transpose") != 0 || n->domain[0] || n->n_in != 1 || n->n_out != 1 || n->in[0] < 0 ||
        n->out[0] < 0)
        return 0;
    const ft_tensor *w = &g->tensors[n->in[0]];
    if (!(w->flags & FT_T_CONST) || w->dtype != FT_FLOAT || w->shape.rank != 2) return 0;
    const int64_t *perm;
    int np = ft_attr_ints(n, "perm", &perm);
    if (np >= 0 && (np != 2 || perm[0] != 1 || perm[1] != 0)) return 0;
    int t = n->out[0];
    if (g->tensors[t].flags & FT_T_OUTPUT) return 0;
    if (!only_matmuls) return 1;
    int readers = 0;
    for (int j = i + 1; j < g->n_nodes; j++) {
        const ft_node *m = &g->nodes[j];
        for (int k = 0; k < m->n_in; k++) {
            if (m->in[k] != t) continue;
            if (strcmp(m->op_type, "MatMul") != 0 || m->domain[0] || k != 1 || m->in[0] == t) return 0;
            readers++;
        }
    }
    return readers > 0;
}

/* Folds every node whose inputs are all constant: the weight Transposes that no MatMul fusion took
 * (is_weight_transpose). Returns how many or a negative status. */
static int fold_left_over(ft_graph *g, char *drop, ft_error *err)
{
    int n_folded = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        ft_node *n = &g->nodes[i];
        int all_const = n->n_in > 0, folded = 0;
        for (int j = 0; j < n->n_in; j++) all_const &= is_const(g, n->in[j]);
        if (!all_const) continue;
        int rc = infer_and_fold(g, n, 1, &folded, err);
        if (rc != FT_OK) return -rc;
        drop[i] = (char)folded;
        n_folded += folded;
    }
    return n_folded;
}

/* The one node reading tensor t (after node `after`), when t is an intermediate result: exactly one
 * consumer, not a graph output. -1 otherwise. */
static int sole_consumer(const ft_graph *g, const char *drop, int t, int after)
{
    if (t < 0 || g->tensors[t].n_consumers != 1 || (g->tensors[t].flags & FT_T_OUTPUT)) return -1;
    for (int j = after + 1; j < g->n_nodes; j++) {
        const ft_node *n = &g->nodes[j];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == t) return drop[j] ? -1 : j;
    }
    return -1;
}

/* Node j is a default-domain op_type with two inputs and one output, one input being t: *other
 * gets the other input. */
static int binary_with(const ft_graph *g, int j, const char *op_type, int t, int *other)
{
    const ft_node *n = &g->nodes[j];
    if (strcmp(n->op_type, op_type) != 0 || n->domain[0] || n->n_in != 2 || n->n_out != 1 || n->out[0] < 0)
        return 0;
    if (n->in[0] == t && n->in[1] != t) *other = n->in[1];
    else if (n->in[1] == t && n->in[0] != t) *other = n->in[0];
    else return 0;
    return *other >= 0;
}

/* Tensor t is a float32 constant holding one value near v. */
static int const_scalar_near(const ft_graph *g, int t, double v, double tol)
{
    const float *x = const_floats(g, t, 1);
    return x && fabs((double)x[0] - v) <= tol;
}

/* The GELU that PyTorch exports for an erf GELU of tensor t: Div(t, sqrt2), Erf, Add(1), Mul(t, .),
 * Mul(0.5), either operand order. Fills the five nodes and returns the output tensor, or -1. */
static int match_gelu(const ft_graph *g, const char *drop, int t, int after, int nodes[5])
{
    if (t < 0 || g->tensors[t].n_consumers != 2 || (g->tensors[t].flags & FT_T_OUTPUT)) return -1;
    int div = -1, other;
    for (int j = after + 1; j < g->n_nodes && div < 0; j++)
        if (!drop[j] && binary_with(g, j, "Div", t, &other) && g->nodes[j].in[0] == t &&
            const_scalar_near(g, other, 1.4142135623730951, 1e-6))
            div = j;
    if (div < 0) return -1;
    int erf = sole_consumer(g, drop, g->nodes[div].out[0], div);
    if (erf < 0 || strcmp(g->nodes[erf].op_type, "Erf") != 0 || g->nodes[erf].domain[0] || g->nodes[erf].n_out != 1)
        return -1;
    int add = sole_consumer(g, drop, g->nodes[erf].out[0], erf);
    if (add < 0 || !binary_with(g, add, "Add", g->nodes[erf].out[0], &other) || !const_scalar_near(g, other, 1.0, 0))
        return -1;
    int mul = sole_consumer(g, drop, g->nodes[add].out[0], add);
    if (mul < 0 || !binary_with(g, mul, "Mul", g->nodes[add].out[0], &other) || other != t) return -1;
    int half = sole_consumer(g, drop, g->nodes[mul].out[0], mul);
    if (half < 0 || !binary_with(g, half, "Mul", g->nodes[mul].out[0], &other) || !const_scalar_near(g, other, 0.5, 0))
        return -1;
    nodes[0] = div;
    nodes[1] = erf;
    nodes[2] = add;
    nodes[3] = mul;
    nodes[4] = half;
    return g->nodes[half].out[0];
}

/* Tensor b can be a FusedMatMul bias for a product of shape y: float32 constant, y's last dim, size-1
 * dims before it, no higher rank than y. */
static int is_bias_row(const ft_graph *g, int b, const ft_shape *y)
{
    if (b < 0 || y->rank < 1) return 0;
    const ft_tensor *x = &g->tensors[b];
    if (!(x->flags & FT_T_CONST) || x->dtype != FT_FLOAT || !x->data || x->shape.rank < 1 || x->shape.rank > y->rank ||
        x->shape.dims[x->shape.rank - 1] != y->dims[y->rank - 1])
        return 0;
    for (int i = 0; i < x->shape.rank - 1; i++)
        if (x->shape.dims[i] != 1) return 0;
    return 1;
}

/* Turns MatMul(A, constant 2-D B) followed by any of Add(bias row), Add(residual of the same shape),
 * Relu or PyTorch's erf GELU, in that order, into one FusedMatMul (also with no epilogue at all when
 * B is a weight Transpose left unfolded, which FusedMatMul reads as transB) whose GEMM applies them to each
 * block of the product while it is in cache (kernels/fast/linalg_matmul.c) instead of one pass over
 * memory per op. Every intermediate tensor must be read by the chain alone. The fused node takes the
 * place of the chain's last node (the residual may be computed after the MatMul) and the MatMul's
 * name. Marks the replaced nodes in drop[]; returns how many chains were fused or a negative
 * status. */
static int fuse_matmul_epilogues(ft_graph *g, char *drop, ft_error *err)
{
    const ft_op_def *fused_op = ft_op_find(FT_DOMAIN, "FusedMatMul");
    int fused = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *mm = &g->nodes[i];
        if (drop[i] || strcmp(mm->op_type, "MatMul") != 0 || mm->domain[0] || mm->n_in != 2 || mm->n_out != 1 ||
            mm->in[0] < 0 || mm->in[1] < 0 || mm->out[0] < 0)
            continue;
        /* the weights: a constant [K, N], or the [N, K] constant under a weight Transpose */
        int wt = mm->in[1], trans_b = 0, tp = g->tensors[wt].producer;
        if (tp >= 0 && !drop[tp] && is_weight_transpose(g, tp, 0)) {
            wt = g->nodes[tp].in[0];
            trans_b = 1;
        }
        const ft_tensor *a = &g->tensors[mm->in[0]], *w = &g->tensors[wt];
        const ft_shape ys = g->tensors[mm->out[0]].shape;
        if (a->dtype != FT_FLOAT || w->dtype != FT_FLOAT || !(w->flags & FT_T_CONST) || w->shape.rank != 2 ||
            a->shape.rank < 1)
            continue;
        int chain[8], n_chain = 0, cur = mm->out[0], last = i, bias = -1, res = -1, other;
        const char *act = "none";
        int c = sole_consumer(g, drop, cur, last);
        if (c >= 0 && binary_with(g, c, "Add", cur, &other) && is_bias_row(g, other, &ys) &&
            ft_shape_equal(&g->tensors[g->nodes[c].out[0]].shape, &ys)) {
            bias = other;
            chain[n_chain++] = last = c;
            cur = g->nodes[c].out[0];
            c = sole_consumer(g, drop, cur, last);
        }
        if (c >= 0 && binary_with(g, c, "Add", cur, &other) && g->tensors[other].dtype == FT_FLOAT &&
            ft_shape_equal(&g->tensors[other].shape, &ys) && ft_shape_equal(&g->tensors[g->nodes[c].out[0]].shape, &ys)) {
            res = other;
            chain[n_chain++] = last = c;
            cur = g->nodes[c].out[0];
            c = sole_consumer(g, drop, cur, last);
        }
        int gelu[5];
        if (c >= 0 && strcmp(g->nodes[c].op_type, "Relu") == 0 && !g->nodes[c].domain[0] && g->nodes[c].n_in == 1 &&
            g->nodes[c].n_out == 1) {
            act = "relu";
            chain[n_chain++] = last = c;
            cur = g->nodes[c].out[0];
        } else {
            int y = match_gelu(g, drop, cur, last, gelu);
            if (y >= 0) {
                act = "gelu";
                for (int k = 0; k < 5; k++) {
                    chain[n_chain++] = gelu[k];
                    if (gelu[k] > last) last = gelu[k];
                }
                cur = y;
            }
        }
        if (n_chain == 0 && !trans_b) continue;

        ft_node f = {0};
        f.name = strdup(mm->name);
        f.op_type = strdup("FusedMatMul");
        f.domain = strdup(FT_DOMAIN);
        f.opset = 1;
        f.op = fused_op;
        f.n_in = 4;
        f.n_out = 1;
        f.in = malloc(4 * sizeof *f.in);
        f.out = malloc(sizeof *f.out);
        f.n_attrs = 2;
        f.attrs = calloc(2, sizeof *f.attrs);
        if (f.attrs) {
            f.attrs[0].name = strdup("activation");
            f.attrs[0].type = FT_ATTR_STRING;
            f.attrs[0].s = strdup(act);
            f.attrs[1].name = strdup("transB");
            f.attrs[1].type = FT_ATTR_INT;
            f.attrs[1].i = trans_b;
        }
        if (!f.name || !f.op_type || !f.domain || !f.in || !f.out || !f.attrs || !f.attrs[0].name || !f.attrs[0].s ||
            !f.attrs[1].name) {
            ft_node_clear(&f);
            return -ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory fusing its epilogue", mm->name);
        }
        f.in[0] = mm->in[0];
        f.in[1] = wt;
        f.in[2] = bias;
        f.in[3] = res;
        f.out[0] = cur;
        drop[i] = last != i;
        for (int k = 0; k < n_chain; k++)
            if (chain[k] != last) drop[chain[k]] = 1;
        ft_node_clear(&g->nodes[last]);
        g->nodes[last] = f;
        fused++;
    }
    return fused;
}

/* Runs one graph rewrite (it marks the nodes it replaced in drop[] and returns how many rewrites
 * it made, or a negative status) and compacts the graph after it. drop[] holds n_nodes + 1 bytes. */
static int rewrite(ft_graph *g, char *drop, int (*pass)(ft_graph *, char *, ft_error *), ft_error *err)
{
    memset(drop, 0, (size_t)g->n_nodes + 1);
    int n = pass(g, drop, err);
    if (n < 0) return -n;
    if (n > 0 && compact(g, drop) != FT_OK) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    return FT_OK;
}

int ft_graph_prepare(ft_graph *g, ft_error *err)
{
    return ft_graph_prepare_ex(g, 0, err);
}

int ft_graph_prepare_ex(ft_graph *g, unsigned flags, ft_error *err)
{
    int rc = resolve_ops(g, err);
    if (rc != FT_OK) return rc;
    rc = check_inputs_static(g, err);
    if (rc != FT_OK) return rc;
    char *drop = calloc((size_t)g->n_nodes + 1, 1);
    /* Constants are freed as soon as their last reader has been folded (PyTorch exports transpose
     * every weight at load time: without this the model would be held twice while preparing). */
    int *pending = calloc((size_t)g->n_tensors + 1, sizeof *pending);
    char *runtime_reader = calloc((size_t)g->n_tensors + 1, 1);
    if (!drop || !pending || !runtime_reader) {
        free(drop);
        free(pending);
        free(runtime_reader);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) pending[g->nodes[i].in[j]]++;
    for (int i = 0; i < g->n_nodes; i++) {
        int folded = 0;
        ft_node *n = &g->nodes[i];
        rc = infer_and_fold(g, n, (flags & FT_PREPARE_NO_FUSION) || !is_weight_transpose(g, i, 1), &folded, err);
        if (rc != FT_OK) {
            free(drop);
            free(pending);
            free(runtime_reader);
            return rc;
        }
        drop[i] = (char)folded;
        for (int j = 0; j < n->n_in; j++) {
            int t = n->in[j];
            if (t < 0) continue;
            if (!folded) runtime_reader[t] = 1;
            ft_tensor *x = &g->tensors[t];
            if (--pending[t] == 0 && !runtime_reader[t] && (x->flags & FT_T_CONST) && !(x->flags & FT_T_OUTPUT)) {
                free(x->data);
                x->data = NULL;
            }
        }
    }
    free(pending);
    free(runtime_reader);
    rc = compact(g, drop);
    if (rc != FT_OK) {
        free(drop);
        return ft_fail(err, rc, "out of memory");
    }
    rc = rewrite(g, drop, fold_batchnorm, err);
    if (rc == FT_OK && !(flags & FT_PREPARE_NO_FUSION)) rc = rewrite(g, drop, fuse_matmul_epilogues, err);
    if (rc == FT_OK && !(flags & FT_PREPARE_NO_FUSION)) rc = rewrite(g, drop, fold_left_over, err);
    free(drop);
    if (rc != FT_OK) return rc;
    mark_views(g);
    return FT_OK;
}
