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

int ft_layout_hints(const ft_graph *g, ft_layout_set *hints, ft_error *err)
{
    for (int t = 0; t < g->n_tensors; t++) hints[t].n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
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
