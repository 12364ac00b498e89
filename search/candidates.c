/* candidates.c - op signatures, layout hints and per-node candidate lists. */
#include "candidates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static int cmp_attr(const void *a, const void *b)
{
    return strcmp((*(const ft_attr *const *)a)->name, (*(const ft_attr *const *)b)->name);
}

int ft_node_signature(const ft_graph *g, int node, char *buf, size_t n)
{
    const ft_node *nd = &g->nodes[node];
    char sh[160];
    size_t o = 0;
#define PUT(...)                                                                  \
    do {                                                                          \
        if (o < n) o += (size_t)snprintf(buf + o, n - o, __VA_ARGS__);           \
    } while (0)
    PUT("%s:%d(", nd->op_type, nd->opset);
    for (int i = 0; i < nd->n_in; i++) {
        if (nd->in[i] < 0) {
            PUT("%s-", i ? "," : "");
            continue;
        }
        const ft_tensor *t = &g->tensors[nd->in[i]];
        PUT("%s%s%s%s", i ? "," : "", ft_dtype_name(t->dtype), ft_shape_str(&t->shape, sh, sizeof sh),
            (t->flags & FT_T_CONST) ? "c" : "");
    }
    PUT(")->(");
    for (int i = 0; i < nd->n_out; i++) {
        if (nd->out[i] < 0) {
            PUT("%s-", i ? "," : "");
            continue;
        }
        const ft_tensor *t = &g->tensors[nd->out[i]];
        PUT("%s%s%s", i ? "," : "", ft_dtype_name(t->dtype), ft_shape_str(&t->shape, sh, sizeof sh));
    }
    PUT(")");
    const ft_attr *sorted[64];
    int na = nd->n_attrs < 64 ? nd->n_attrs : 64;
    for (int i = 0; i < na; i++) sorted[i] = &nd->attrs[i];
    qsort(sorted, (size_t)na, sizeof sorted[0], cmp_attr);
    for (int i = 0; i < na; i++) {
        const ft_attr *a = sorted[i];
        switch (a->type) {
        case FT_ATTR_INT: PUT(";%s=%lld", a->name, (long long)a->i); break;
        case FT_ATTR_FLOAT: PUT(";%s=%.9g", a->name, (double)a->f); break;
        case FT_ATTR_STRING: PUT(";%s=%s", a->name, a->s ? a->s : ""); break;
        case FT_ATTR_INTS:
            PUT(";%s=[", a->name);
            for (int k = 0; k < a->n; k++) PUT("%s%lld", k ? "," : "", (long long)a->ints[k]);
            PUT("]");
            break;
        case FT_ATTR_FLOATS:
            PUT(";%s=[", a->name);
            for (int k = 0; k < a->n; k++) PUT("%s%.9g", k ? "," : "", (double)a->floats[k]);
            PUT("]");
            break;
        default: PUT(";%s=?", a->name); break;
        }
    }
#undef PUT
    return o < n ? FT_OK : FT_ERR_FAIL;
}

static int add_hint(ft_layout_set *s, const ft_layout *l, const ft_shape *shape)
{
    ft_layout id;
    ft_layout_identity(&id, l->rank);
    if (ft_layout_equivalent(l, &id, shape)) return 0;
    for (int i = 0; i < s->n; i++)
        if (ft_layout_equivalent(&s->l[i], l, shape)) return 0;
    if (s->n == (int)(sizeof s->l / sizeof s->l[0])) return 0;
    s->l[s->n++] = *l;
    return 1;
}

/* Ops whose kernels read and write any layout alike, so a layout flows through them unchanged. */
static int layout_agnostic(const ft_node *n)
{
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Erf", "Exp", "Sqrt",
                                      "Neg", "Abs", "Reciprocal", "Pow", "Where", "Softmax", NULL};
    for (int i = 0; ops[i]; i++)
        if (strcmp(n->op_type, ops[i]) == 0) return 1;
    return 0;
}

/* Pools keep their input's layout in their output (kernels/fast/pool.c) though H and W change, so a
 * 4-D layout that fits both shapes flows through them, both ways. Returns 1 when a hint was added. */
static int carry_through_pool(const ft_graph *g, const ft_node *n, ft_layout_set *hints)
{
    static const char *const ops[] = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", NULL};
    int is_pool = 0, changed = 0;
    for (int i = 0; ops[i]; i++) is_pool |= strcmp(n->op_type, ops[i]) == 0;
    if (!is_pool || n->n_in < 1 || n->in[0] < 0 || n->out[0] < 0) return 0;
    int x = n->in[0], y = n->out[0];
    const ft_tensor *tx = &g->tensors[x], *ty = &g->tensors[y];
    if ((tx->flags & FT_T_CONST) || tx->shape.rank != 4 || ty->shape.rank != 4) return 0;
    for (int k = 0; k < hints[x].n; k++)
        if (ft_layout_fits(&hints[x].l[k], &ty->shape)) changed |= add_hint(&hints[y], &hints[x].l[k], &ty->shape);
    for (int k = 0; k < hints[y].n; k++)
        if (ft_layout_fits(&hints[y].l[k], &tx->shape)) changed |= add_hint(&hints[x], &hints[y].l[k], &tx->shape);
    return changed;
}

/* The layouts the Conv families offer besides NCHW, for a 4-D float tensor a Conv reads or writes:
 * NHWC, and NCHW16c when the channels divide into blocks. */
static void conv_hints(ft_layout_set *s, const ft_tensor *t)
{
    if ((t->flags & FT_T_CONST) || t->dtype != FT_FLOAT || t->shape.rank != 4) return;
    ft_layout nhwc = {.rank = 4, .perm = {0, 2, 3, 1}}, blocked;
    add_hint(s, &nhwc, &t->shape);
    ft_layout_identity(&blocked, 4);
    blocked.block_axis = 1;
    blocked.block = FT_CONV_BLOCK;
    if (ft_layout_fits(&blocked, &t->shape)) add_hint(s, &blocked, &t->shape);
}

int ft_layout_hints(const ft_graph *g, ft_layout_set *hints, ft_error *err)
{
    for (int t = 0; t < g->n_tensors; t++) hints[t].n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
        if (strcmp(n->op_type, "Conv") == 0 && n->n_in >= 2 && n->in[0] >= 0 && n->out[0] >= 0) {
            conv_hints(&hints[n->in[0]], &g->tensors[n->in[0]]);
            conv_hints(&hints[n->out[0]], &g->tensors[n->out[0]]);
            continue;
        }
        if (strcmp(n->op_type, "Transpose") != 0 || n->in[0] < 0) continue;
        const ft_tensor *x = &g->tensors[n->in[0]], *y = &g->tensors[n->out[0]];
        int rank = x->shape.rank;
        int64_t perm[FT_MAX_RANK];
        const int64_t *p;
        int np = ft_attr_ints(n, "perm", &p);
        for (int k = 0; k < rank; k++) perm[k] = np == rank ? p[k] : rank - 1 - k;
        ft_layout id, ly, lx;
        ft_layout_identity(&id, rank);
        ft_layout_after_transpose(&id, perm, &ly); /* x row-major: y relabelled */
        ft_layout_identity(&lx, rank);
        lx.rank = rank;                            /* y row-major: x stored as y's order */
        for (int k = 0; k < rank; k++) lx.perm[k] = (uint8_t)perm[k];
        if (!(y->flags & FT_T_CONST)) add_hint(&hints[n->out[0]], &ly, &y->shape);
        if (!(x->flags & FT_T_CONST)) add_hint(&hints[n->in[0]], &lx, &x->shape);
    }
    /* carry hints through layout-agnostic ops, both ways, between operands of the output's shape */
    for (int changed = 1, rounds = 0; changed && rounds < 16; rounds++) {
        changed = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            const ft_node *n = &g->nodes[i];
            changed |= carry_through_pool(g, n, hints);
            if (!layout_agnostic(n) || n->out[0] < 0) continue;
            int y = n->out[0];
            for (int j = 0; j < n->n_in; j++) {
                int x = n->in[j];
                if (x < 0 || (g->tensors[x].flags & FT_T_CONST) ||
                    !ft_shape_equal(&g->tensors[x].shape, &g->tensors[y].shape))
                    continue;
                for (int k = 0; k < hints[x].n; k++) changed |= add_hint(&hints[y], &hints[x].l[k], &g->tensors[y].shape);
                for (int k = 0; k < hints[y].n; k++) changed |= add_hint(&hints[x], &hints[y].l[k], &g->tensors[x].shape);
            }
        }
    }
    (void)err;
    return FT_OK;
}

int ft_node_candidates(const ft_graph *g, int i, const ft_layout_set *hints, ft_candidate_list *list, ft_error *err)
{
    const ft_node *n = &g->nodes[i];
    ft_tensor *io[2 * FT_MAX_IO + 64];
    if (n->n_in + n->n_out > (int)(sizeof io / sizeof io[0]))
        return ft_fail(err, FT_ERR_UNSUPPORTED, "node '%s': too many inputs and outputs", n->name);
    ft_tensor **in = io, **out = io + n->n_in;
    for (int j = 0; j < n->n_in; j++) in[j] = n->in[j] >= 0 ? (ft_tensor *)&g->tensors[n->in[j]] : NULL;
    for (int j = 0; j < n->n_out; j++) out[j] = n->out[j] >= 0 ? (ft_tensor *)&g->tensors[n->out[j]] : NULL;
    for (int j = 0; j < FT_MAX_IO; j++) list->in_hints[j].n = 0;
    list->out_hints.n = 0;
    if (hints) {
        for (int j = 0; j < n->n_in && j < FT_MAX_IO; j++)
            if (n->in[j] >= 0) list->in_hints[j] = hints[n->in[j]];
        if (n->out[0] >= 0) list->out_hints = hints[n->out[0]];
    }
    return ft_registry_enumerate(n, in, out, list, err);
}

static int add_ints_attr(ft_node *n, const char *name, const int64_t *v, int count)
{
    ft_attr *attrs = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *attrs);
    if (!attrs) return -1;
    n->attrs = attrs;
    ft_attr *a = &attrs[n->n_attrs];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->type = FT_ATTR_INTS;
    a->n = count;
    a->ints = malloc(sizeof(int64_t) * (size_t)(count + 1));
    if (!a->name || !a->ints) {
        ft_attr_clear(a);
        return -1;
    }
    for (int i = 0; i < count; i++) a->ints[i] = v[i];
    n->n_attrs++;
    return 0;
}

/* A layout as attributes: its permutation under `name`, and [block_axis, block] under
 * "<name>_block" when blocked. */
static int add_layout_attr(ft_node *n, const char *name, const ft_layout *l)
{
    int64_t v[FT_MAX_RANK];
    for (int i = 0; i < l->rank; i++) v[i] = l->perm[i];
    if (add_ints_attr(n, name, v, l->rank) != 0) return -1;
    if (!ft_layout_blocked(l)) return 0;
    char bname[32];
    int64_t b[2] = {l->block_axis, l->block};
    snprintf(bname, sizeof bname, "%s_block", name);
    return add_ints_attr(n, bname, b, 2);
}

static void read_layout_attr(const ft_node *n, const char *name, ft_layout *l)
{
    const int64_t *v;
    char bname[32];
    int k = ft_attr_ints(n, name, &v);
    ft_layout_identity(l, k > 0 && k <= FT_MAX_RANK ? k : 0);
    for (int i = 0; i < l->rank; i++) l->perm[i] = (uint8_t)v[i];
    snprintf(bname, sizeof bname, "%s_block", name);
    if (ft_attr_ints(n, bname, &v) == 2 && v[0] >= 0 && v[0] < l->rank && v[1] > 1 && v[1] < 256) {
        l->block_axis = (uint8_t)v[0];
        l->block = (uint8_t)v[1];
    }
}

void ft_conversion_layouts(const ft_node *n, ft_layout *from, ft_layout *to)
{
    read_layout_attr(n, "from", from);
    read_layout_attr(n, "to", to);
}

static int add_conversion(ft_graph *c, const ft_tensor *t, int owner, const ft_layout *from, const ft_layout *to,
                          int **owners)
{
    char name[600], lf[16], lt[16];
    snprintf(name, sizeof name, "reorder:%s:%s->%s", t->name, ft_layout_str(from, lf, sizeof lf),
             ft_layout_str(to, lt, sizeof lt));
    int ti = ft_graph_add_tensor(c, name);
    char oname[640];
    snprintf(oname, sizeof oname, "%s:out", name);
    int to_i = ft_graph_add_tensor(c, oname);
    if (ti < 0 || to_i < 0) return -1;
    c->tensors[ti].dtype = c->tensors[to_i].dtype = t->dtype;
    c->tensors[ti].shape = c->tensors[to_i].shape = t->shape;
    c->tensors[ti].flags = FT_T_INPUT;
    if (c->n_nodes == c->cap_nodes) {
        int cap = c->cap_nodes ? 2 * c->cap_nodes : 16;
        ft_node *nodes = realloc(c->nodes, (size_t)cap * sizeof *nodes);
        int *o = realloc(*owners, (size_t)cap * sizeof *o);
        if (!nodes || !o) {
            if (nodes) c->nodes = nodes;
            if (o) *owners = o;
            return -1;
        }
        c->nodes = nodes;
        *owners = o;
        c->cap_nodes = cap;
    }
    ft_node *n = &c->nodes[c->n_nodes];
    memset(n, 0, sizeof *n);
    n->name = strdup(name);
    n->op_type = strdup("Reorder");
    n->domain = strdup("ai.fluidtune");
    n->in = malloc(sizeof *n->in);
    n->out = malloc(sizeof *n->out);
    if (!n->name || !n->op_type || !n->domain || !n->in || !n->out) {
        ft_node_clear(n);
        return -1;
    }
    n->op = &ft_op_reorder;
    n->opset = 1;
    n->n_in = n->n_out = 1;
    n->in[0] = ti;
    n->out[0] = to_i;
    (*owners)[c->n_nodes] = owner;
    c->tensors[to_i].producer = c->n_nodes;
    c->n_nodes++;
    if (add_layout_attr(n, "from", from) != 0 || add_layout_attr(n, "to", to) != 0) return -1;
    return 0;
}

int ft_conversion_graph(const ft_graph *g, const ft_layout_set *hints, ft_graph **out, int **owner_tensor,
                        ft_error *err)
{
    *out = NULL;
    *owner_tensor = NULL;
    ft_graph *c = ft_graph_create();
    if (!c) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    c->opset = g->opset;
    int *owners = NULL;
    for (int t = 0; t < g->n_tensors; t++) {
        const ft_tensor *x = &g->tensors[t];
        if ((x->flags & FT_T_CONST) || hints[t].n == 0 || x->dtype == FT_UNDEFINED) continue;
        ft_layout id;
        ft_layout_identity(&id, x->shape.rank);
        for (int k = 0; k < hints[t].n; k++)
            if (add_conversion(c, x, t, &id, &hints[t].l[k], &owners) != 0 ||
                add_conversion(c, x, t, &hints[t].l[k], &id, &owners) != 0) {
                free(owners);
                ft_graph_destroy(c);
                return ft_fail(err, FT_ERR_NOMEM, "out of memory");
            }
    }
    *out = c;
    *owner_tensor = owners;
    return FT_OK;
}

int ft_conversion_candidates(const ft_graph *conv, int i, ft_candidate_list *list, ft_error *err)
{
    const ft_node *n = &conv->nodes[i];
    ft_layout from, to;
    ft_conversion_layouts(n, &from, &to);
    ft_tensor *in[1] = {&((ft_graph *)conv)->tensors[n->in[0]]}, *outs[1] = {&((ft_graph *)conv)->tensors[n->out[0]]};
    ft_candidate_list all = {0};
    all.in_hints[0].n = 1;
    all.in_hints[0].l[0] = from;
    all.out_hints.n = 1;
    all.out_hints.l[0] = to;
    int rc = ft_registry_enumerate(n, in, outs, &all, err);
    for (int k = 0; rc == FT_OK && k < all.n; k++) {
        const ft_candidate *cd = &all.items[k];
        if (!ft_layout_equal(&cd->in_layout[0], &from) || !ft_layout_equal(&cd->out_layout, &to)) continue;
        if (ft_candidate_list_push(list, cd) != 0) rc = ft_fail(err, FT_ERR_NOMEM, "out of memory");
    }
    ft_candidate_list_free(&all);
    return rc;
}
