/* plan.c - the default plan and plan helpers. */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "ops.h"

#define FT_ALIGN 64

ft_plan *ft_plan_create(int n_nodes, int n_tensors)
{
    ft_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_nodes = n_nodes;
    p->n_tensors = n_tensors;
    p->cand = calloc((size_t)n_nodes + 1, sizeof *p->cand);
    p->layout = calloc((size_t)n_tensors + 1, sizeof *p->layout);
    p->alias_of = malloc(((size_t)n_tensors + 1) * sizeof *p->alias_of);
    p->offset = malloc(((size_t)n_tensors + 1) * sizeof *p->offset);
    if (!p->cand || !p->layout || !p->alias_of || !p->offset) {
        ft_plan_destroy(p);
        return NULL;
    }
    for (int t = 0; t < n_tensors; t++) {
        p->alias_of[t] = -1;
        p->offset[t] = FT_NO_OFFSET;
    }
    return p;
}

void ft_plan_destroy(ft_plan *p)
{
    if (!p) return;
    free(p->cand);
    free(p->layout);
    free(p->alias_of);
    free(p->offset);
    free(p);
}

int ft_plan_root(const ft_plan *p, int t)
{
    int guard = 0;
    while (p->alias_of[t] >= 0 && guard++ < p->n_tensors) t = p->alias_of[t];
    return t;
}

void ft_plan_offsets_no_reuse(const ft_graph *g, ft_plan *p)
{
    size_t total = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        const ft_tensor *x = &g->tensors[t];
        p->offset[t] = FT_NO_OFFSET;
        if ((x->flags & FT_T_CONST) || p->alias_of[t] >= 0) continue;
        if (x->producer < 0 && !(x->flags & FT_T_INPUT)) continue;
        p->offset[t] = total;
        total += (ft_tensor_nbytes(x) + FT_ALIGN - 1) & ~(size_t)(FT_ALIGN - 1);
    }
    p->arena_bytes = total;
}

int ft_plan_default(const ft_graph *g, ft_plan **out, ft_error *err)
{
    *out = NULL;
    ft_plan *p = ft_plan_create(g->n_nodes, g->n_tensors);
    if (!p) return ft_fail(err, FT_ERR_NOMEM, "out of memory creating the default plan");
    for (int t = 0; t < g->n_tensors; t++) {
        ft_layout_identity(&p->layout[t], g->tensors[t].shape.rank > 0 ? g->tensors[t].shape.rank : 0);
        if (g->tensors[t].flags & FT_T_VIEW) p->alias_of[t] = g->tensors[t].alias_of;
    }
    ft_tensor *io[2 * FT_MAX_IO + 64];
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
        if (n->n_in + n->n_out > (int)(sizeof io / sizeof io[0])) {
            ft_plan_destroy(p);
            return ft_fail(err, FT_ERR_UNSUPPORTED, "node '%s': too many inputs and outputs", n->name);
        }
        ft_tensor **in = io, **outs = io + n->n_in;
        for (int j = 0; j < n->n_in; j++) in[j] = n->in[j] >= 0 ? (ft_tensor *)&g->tensors[n->in[j]] : NULL;
        for (int j = 0; j < n->n_out; j++) outs[j] = n->out[j] >= 0 ? (ft_tensor *)&g->tensors[n->out[j]] : NULL;
        int rc = ft_registry_default(n, in, outs, &p->cand[i], err);
        if (rc != FT_OK) {
            ft_plan_destroy(p);
            return rc;
        }
    }
    ft_plan_offsets_no_reuse(g, p);
    *out = p;
    return FT_OK;
}
