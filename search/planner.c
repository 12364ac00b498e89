/* planner.c - the whole-graph solve (candidates -> PBQP -> conversions) and the memory plan. */
#include "planner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "memplan.h"
#include "ops.h"

#define FT_ALIGN 64

typedef struct node_choices {
    ft_candidate_list list; /* filtered to the usable candidates */
    double *cost;
} node_choices;

static int is_activation(const ft_tensor *t)
{
    return !(t->flags & FT_T_CONST);
}

/* Cheapest measured conversion of tensor t from one layout to another; INFINITY when none. */
typedef struct conv_table {
    const ft_graph *conv;
    const int *owner;
    double *best;          /* per conversion node */
    ft_candidate *best_cand;
} conv_table;

static double conversion_cost(const conv_table *ct, int t, const ft_layout *from, const ft_layout *to, int *which)
{
    for (int i = 0; i < ct->conv->n_nodes; i++) {
        if (ct->owner[i] != t) continue;
        ft_layout f, o;
        ft_conversion_layouts(&ct->conv->nodes[i], &f, &o);
        if (ft_layout_equal(&f, from) && ft_layout_equal(&o, to)) {
            if (which) *which = i;
            return ct->best[i];
        }
    }
    return INFINITY;
}

double ft_planner_node_cost(const ft_graph *g, const ft_plan *p, int i, ft_cost_fn cost, void *ctx)
{
    char sig[1024];
    if (g->nodes[i].op->flags & FT_OP_VIEW) return 0;
    ft_node_signature(g, i, sig, sizeof sig);
    return cost(ctx, sig, p->cand[i].key);
}

static int layouts_agree(const ft_layout *a, const ft_layout *b, const ft_shape *s)
{
    return ft_layout_equal(a, b) || ft_layout_equivalent(a, b, s);
}

int ft_planner_solve(ft_graph *g, ft_cost_fn cost, void *ctx, ft_plan **out, ft_planner_report *rep, ft_error *err)
{
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    int rc = FT_OK;
    int n = g->n_nodes;
    ft_layout_set *hints = calloc((size_t)g->n_tensors + 1, sizeof *hints);
    node_choices *nc = calloc((size_t)n + 1, sizeof *nc);
    conv_table ct = {0};
    ft_graph *conv = NULL;
    int *owner = NULL;
    int *edge_a = NULL, *edge_b = NULL, *edge_slot = NULL, *choice = NULL, *greedy = NULL;
    double **edge_cost = NULL;
    int n_edges = 0;
    if (!hints || !nc) goto nomem;
    rc = ft_layout_hints(g, hints, err);
    if (rc == FT_OK) rc = ft_conversion_graph(g, hints, &conv, &owner, err);
    if (rc != FT_OK) goto done;
    ct.conv = conv;
    ct.owner = owner;
    ct.best = calloc((size_t)conv->n_nodes + 1, sizeof *ct.best);
    ct.best_cand = calloc((size_t)conv->n_nodes + 1, sizeof *ct.best_cand);
    if (!ct.best || !ct.best_cand) goto nomem;
    for (int i = 0; i < conv->n_nodes && rc == FT_OK; i++) {
        ft_candidate_list l = {0};
        char sig[1024];
        ct.best[i] = INFINITY;
        ft_node_signature(conv, i, sig, sizeof sig);
        rc = ft_conversion_candidates(conv, i, &l, err);
        for (int k = 0; rc == FT_OK && k < l.n; k++) {
            double c = cost(ctx, sig, l.items[k].key);
            if (c >= 0 && c < ct.best[i]) {
                ct.best[i] = c;
                ct.best_cand[i] = l.items[k];
            }
        }
        ft_candidate_list_free(&l);
    }
    /* node choices and costs */
    for (int i = 0; i < n && rc == FT_OK; i++) {
        const ft_node *nd = &g->nodes[i];
        ft_candidate_list all = {0};
        rc = ft_node_candidates(g, i, hints, &all, err);
        if (rc != FT_OK) {
            ft_candidate_list_free(&all);
            break;
        }
        char sig[1024];
        ft_node_signature(g, i, sig, sizeof sig);
        int view = (nd->op->flags & FT_OP_VIEW) != 0;
        nc[i].cost = malloc(sizeof(double) * (size_t)(all.n + 1));
        if (!nc[i].cost) {
            ft_candidate_list_free(&all);
            goto nomem;
        }
        int measured = 0;
        for (int k = 0; k < all.n; k++) {
            double c = view ? 0 : cost(ctx, sig, all.items[k].key);
            if (!(c >= 0)) continue;
            const ft_candidate *cd = &all.items[k];
            /* graph inputs and constants are row-major; graph outputs must come out row-major */
            int ok = 1;
            for (int j = 0; j < nd->n_in && j < cd->n_in && ok; j++) {
                int t = nd->in[j];
                if (t < 0) continue;
                const ft_tensor *x = &g->tensors[t];
                ft_layout id;
                ft_layout_identity(&id, cd->in_layout[j].rank);
                if ((x->flags & (FT_T_CONST | FT_T_INPUT)) && !layouts_agree(&cd->in_layout[j], &id, &x->shape)) ok = 0;
            }
            ft_layout id;
            ft_layout_identity(&id, cd->out_layout.rank);
            if ((g->tensors[nd->out[0]].flags & FT_T_OUTPUT) &&
                !layouts_agree(&cd->out_layout, &id, &g->tensors[nd->out[0]].shape))
                ok = 0;
            if (!ok) continue;
            if (ft_candidate_list_push(&nc[i].list, cd) != 0) {
                ft_candidate_list_free(&all);
                goto nomem;
            }
            nc[i].cost[nc[i].list.n - 1] = c;
            measured++;
        }
        if (!measured) {
            /* never swept: the default kernel, costed at 0, and the user is told */
            if (ft_candidate_list_push(&nc[i].list, &all.items[0]) != 0) {
                ft_candidate_list_free(&all);
                goto nomem;
            }
            nc[i].cost[0] = 0;
            if (rep->n_unmeasured < FT_PLANNER_MAX_WARN)
                snprintf(rep->unmeasured[rep->n_unmeasured], sizeof rep->unmeasured[0], "%s (%s)", nd->name, nd->op_type);
            rep->n_unmeasured++;
        }
        ft_candidate_list_free(&all);
        rep->n_choices_total += nc[i].list.n;
    }
    if (rc != FT_OK) goto done;
    /* edges: producer -> each consumer slot */
    int cap_edges = 0;
    for (int i = 0; i < n; i++) cap_edges += g->nodes[i].n_in;
    edge_a = malloc(sizeof(int) * (size_t)(cap_edges + 1));
    edge_b = malloc(sizeof(int) * (size_t)(cap_edges + 1));
    edge_slot = malloc(sizeof(int) * (size_t)(cap_edges + 1));
    edge_cost = calloc((size_t)cap_edges + 1, sizeof *edge_cost);
    if (!edge_a || !edge_b || !edge_slot || !edge_cost) goto nomem;
    for (int b = 0; b < n; b++) {
        const ft_node *nb = &g->nodes[b];
        for (int j = 0; j < nb->n_in; j++) {
            int t = nb->in[j];
            if (t < 0 || !is_activation(&g->tensors[t])) continue;
            int a = g->tensors[t].producer;
            if (a < 0 || a == b) continue;
            int out_slot = 0;
            while (out_slot < g->nodes[a].n_out && g->nodes[a].out[out_slot] != t) out_slot++;
            int na = nc[a].list.n, nbc = nc[b].list.n;
            double *m = malloc(sizeof(double) * (size_t)(na * nbc + 1));
            if (!m) goto nomem;
            for (int x = 0; x < na; x++)
                for (int y = 0; y < nbc; y++) {
                    ft_layout lo;
                    if (out_slot == 0) lo = nc[a].list.items[x].out_layout;
                    else ft_layout_identity(&lo, g->tensors[t].shape.rank);
                    const ft_layout *li = &nc[b].list.items[y].in_layout[j];
                    m[x * nbc + y] = layouts_agree(&lo, li, &g->tensors[t].shape)
                                         ? 0
                                         : conversion_cost(&ct, t, &lo, li, NULL);
                }
            edge_a[n_edges] = a;
            edge_b[n_edges] = b;
            edge_slot[n_edges] = j;
            edge_cost[n_edges] = m;
            n_edges++;
        }
    }
    int *n_choices = malloc(sizeof(int) * (size_t)(n + 1));
    const double **costs = malloc(sizeof(double *) * (size_t)(n + 1));
    choice = malloc(sizeof(int) * (size_t)(n + 1));
    greedy = malloc(sizeof(int) * (size_t)(n + 1));
    if (!n_choices || !costs || !choice || !greedy) {
        free(n_choices);
        free((void *)costs);
        goto nomem;
    }
    for (int i = 0; i < n; i++) {
        n_choices[i] = nc[i].list.n;
        costs[i] = nc[i].cost;
    }
    ft_solve_problem prob = {n, n_choices, costs, n_edges, edge_a, edge_b, (const double *const *)edge_cost};
    ft_solve_options opt = {10.0, 0, 0};
    double total = 0, gtotal = 0;
    rc = ft_solve_exact(&prob, &opt, choice, &total, &rep->stats, err);
    if (rc == FT_OK && ft_solve_greedy_chain(&prob, greedy, &gtotal, err) == FT_OK) rep->greedy_predicted_s = gtotal;
    rc = rc == FT_OK ? FT_OK : rc;
    /* the default plan under the same costs: each node's default candidate (index 0 when measured) */
    double def = 0;
    for (int i = 0; i < n && rc == FT_OK; i++) {
        char sig[1024];
        ft_candidate dflt;
        ft_tensor *io[2 * FT_MAX_IO + 64];
        const ft_node *nd = &g->nodes[i];
        if (nd->op->flags & FT_OP_VIEW) continue;
        for (int j = 0; j < nd->n_in; j++) io[j] = nd->in[j] >= 0 ? &g->tensors[nd->in[j]] : NULL;
        for (int j = 0; j < nd->n_out; j++) io[nd->n_in + j] = nd->out[j] >= 0 ? &g->tensors[nd->out[j]] : NULL;
        if (ft_registry_default(nd, io, io + nd->n_in, &dflt, err) != FT_OK) continue;
        ft_node_signature(g, i, sig, sizeof sig);
        double c = cost(ctx, sig, dflt.key);
        if (c >= 0) def += c;
    }
    free(n_choices);
    free((void *)costs);
    if (rc != FT_OK) goto done;
    rep->predicted_s = total;
    rep->default_predicted_s = def;
    rep->n_nodes = n;

    /* conversions: one Reorder per (tensor, target layout), placed right before its first consumer */
    int n_orig = n;
    int n_tensors_before = g->n_tensors;
    int *conv_for = NULL; /* per edge: the new tensor read instead, or -1 */
    conv_for = malloc(sizeof(int) * (size_t)(n_edges + 1));
    if (!conv_for) goto nomem;
    ft_candidate *reorder_cand = calloc((size_t)n_edges + 1, sizeof *reorder_cand);
    int *reorder_before = calloc((size_t)n_edges + 1, sizeof *reorder_before);
    int n_reorders = 0;
    if (!reorder_cand || !reorder_before) {
        free(conv_for);
        free(reorder_cand);
        free(reorder_before);
        goto nomem;
    }
    for (int e = 0; e < n_edges && rc == FT_OK; e++) {
        conv_for[e] = -1;
        int a = edge_a[e], b = edge_b[e], j = edge_slot[e];
        int t = g->nodes[b].in[j];
        ft_layout lo;
        int out_slot = g->nodes[a].out[0] == t ? 0 : 1;
        if (out_slot == 0) lo = nc[a].list.items[choice[a]].out_layout;
        else ft_layout_identity(&lo, g->tensors[t].shape.rank);
        const ft_layout *li = &nc[b].list.items[choice[b]].in_layout[j];
        if (layouts_agree(&lo, li, &g->tensors[t].shape)) continue;
        int which = -1;
        conversion_cost(&ct, t, &lo, li, &which);
        if (which < 0 || !isfinite(ct.best[which])) {
            rc = ft_fail(err, FT_ERR_FAIL, "planner: no measured conversion for tensor '%s'", g->tensors[t].name);
            break;
        }
        char lf[16], lt[16], name[600];
        snprintf(name, sizeof name, "reorder:%s:%s->%s", g->tensors[t].name, ft_layout_str(&lo, lf, sizeof lf),
                 ft_layout_str(li, lt, sizeof lt));
        char oname[640];
        snprintf(oname, sizeof oname, "%s:out", name);
        int dst = ft_graph_find_tensor(g, oname);
        if (dst < 0) {
            dst = ft_graph_add_tensor(g, oname);
            if (dst < 0) goto nomem_conv;
            g->tensors[dst].dtype = g->tensors[t].dtype;
            g->tensors[dst].shape = g->tensors[t].shape;
            if (g->n_nodes == g->cap_nodes) {
                int cap = g->cap_nodes ? 2 * g->cap_nodes : 16;
                ft_node *nodes = realloc(g->nodes, (size_t)cap * sizeof *nodes);
                if (!nodes) goto nomem_conv;
                g->nodes = nodes;
                g->cap_nodes = cap;
            }
            ft_node *r = &g->nodes[g->n_nodes];
            memset(r, 0, sizeof *r);
            r->name = strdup(name);
            r->op_type = strdup("Reorder");
            r->domain = strdup("ai.fluidtune");
            r->in = malloc(sizeof *r->in);
            r->out = malloc(sizeof *r->out);
            if (!r->name || !r->op_type || !r->domain || !r->in || !r->out) {
                ft_node_clear(r);
                goto nomem_conv;
            }
            r->op = &ft_op_reorder;
            r->opset = 1;
            r->n_in = r->n_out = 1;
            r->in[0] = t;
            r->out[0] = dst;
            reorder_cand[n_reorders] = ct.best_cand[which];
            reorder_before[n_reorders] = b;
            n_reorders++;
            g->n_nodes++;
        } else {
            for (int k = 0; k < n_reorders; k++)
                if (g->nodes[n_orig + k].out[0] == dst && b < reorder_before[k]) reorder_before[k] = b;
        }
        conv_for[e] = dst;
    }
    if (rc == FT_OK) {
        for (int e = 0; e < n_edges; e++)
            if (conv_for[e] >= 0) g->nodes[edge_b[e]].in[edge_slot[e]] = conv_for[e];
        /* new order: each Reorder right before its first consumer */
        int total_nodes = g->n_nodes;
        ft_node *order = malloc(sizeof(ft_node) * (size_t)(total_nodes + 1));
        int *src_index = malloc(sizeof(int) * (size_t)(total_nodes + 1));
        ft_plan *p = ft_plan_create(total_nodes, g->n_tensors);
        if (!order || !src_index || !p) {
            free(order);
            free(src_index);
            ft_plan_destroy(p);
            goto nomem_conv;
        }
        int w = 0;
        for (int i = 0; i < n_orig; i++) {
            for (int k = 0; k < n_reorders; k++)
                if (reorder_before[k] == i) {
                    src_index[w] = n_orig + k;
                    order[w++] = g->nodes[n_orig + k];
                }
            src_index[w] = i;
            order[w++] = g->nodes[i];
        }
        memcpy(g->nodes, order, sizeof(ft_node) * (size_t)total_nodes);
        for (int t = 0; t < g->n_tensors; t++) {
            ft_layout_identity(&p->layout[t], g->tensors[t].shape.rank > 0 ? g->tensors[t].shape.rank : 0);
            g->tensors[t].producer = -1;
            g->tensors[t].n_consumers = (g->tensors[t].flags & FT_T_OUTPUT) ? 1 : 0;
        }
        for (int i = 0; i < total_nodes; i++) {
            int s = src_index[i];
            const ft_node *nd = &g->nodes[i];
            p->cand[i] = s < n_orig ? nc[s].list.items[choice[s]] : reorder_cand[s - n_orig];
            for (int j = 0; j < nd->n_out; j++)
                if (nd->out[j] >= 0) g->tensors[nd->out[j]].producer = i;
            for (int j = 0; j < nd->n_in; j++)
                if (nd->in[j] >= 0) g->tensors[nd->in[j]].n_consumers++;
            if (nd->out[0] >= 0) p->layout[nd->out[0]] = p->cand[i].out_layout;
            if ((p->cand[i].family->flags & FT_FAMILY_ALIAS) && nd->in[0] >= 0) p->alias_of[nd->out[0]] = nd->in[0];
        }
        for (int t = 0; t < g->n_tensors; t++)
            if (g->tensors[t].flags & FT_T_VIEW) p->alias_of[t] = g->tensors[t].alias_of;
        free(order);
        free(src_index);
        ft_plan_offsets_no_reuse(g, p);
        rep->n_conversions = n_reorders;
        rep->predicted_s = total;
        *out = p;
    }
    (void)n_tensors_before;
    free(conv_for);
    free(reorder_cand);
    free(reorder_before);
    goto done;
nomem_conv:
    free(conv_for);
    free(reorder_cand);
    free(reorder_before);
nomem:
    rc = ft_fail(err, FT_ERR_NOMEM, "out of memory while planning");
done:
    for (int i = 0; nc && i < n; i++) {
        ft_candidate_list_free(&nc[i].list);
        free(nc[i].cost);
    }
    for (int e = 0; edge_cost && e < n_edges; e++) free(edge_cost[e]);
    free(edge_cost);
    free(edge_a);
    free(edge_b);
    free(edge_slot);
    free(choice);
    free(greedy);
    free(nc);
    free(hints);
    free(ct.best);
    free(ct.best_cand);
    free(owner);
    ft_graph_destroy(conv);
    return rc;
}

/* Lets elementwise nodes write into their first input where that input dies at the node: same bytes,
 * same layout, and nothing reads the input afterwards. The output then aliases the input. */
static int plan_in_place(const ft_graph *g, ft_plan *p, ft_error *err)
{
    int nt = g->n_tensors, steps = g->n_nodes;
    int *last_use = malloc(sizeof(int) * (size_t)(nt + 1));
    int *group_last = malloc(sizeof(int) * (size_t)(nt + 1));
    if (!last_use || !group_last) {
        free(last_use);
        free(group_last);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory planning memory");
    }
    for (int t = 0; t < nt; t++) last_use[t] = g->tensors[t].producer;
    for (int i = 0; i < steps; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0 && i > last_use[g->nodes[i].in[j]]) last_use[g->nodes[i].in[j]] = i;
    for (int t = 0; t < nt; t++)
        if (g->tensors[t].flags & (FT_T_OUTPUT | FT_T_INPUT)) last_use[t] = steps;
    for (int t = 0; t < nt; t++) group_last[t] = -1;
    for (int t = 0; t < nt; t++) {
        int r = ft_plan_root(p, t);
        if (last_use[t] > group_last[r]) group_last[r] = last_use[t];
    }
    for (int i = 0; i < steps; i++) {
        const ft_node *n = &g->nodes[i];
        const ft_candidate *c = &p->cand[i];
        if (!(n->op->flags & FT_OP_ELEMENTWISE) || n->n_in < 1 || n->in[0] < 0 || n->out[0] < 0) continue;
        if (c->family->flags & FT_FAMILY_ALIAS) continue;
        int x = n->in[0], y = n->out[0];
        const ft_tensor *tx = &g->tensors[x], *ty = &g->tensors[y];
        int r = ft_plan_root(p, x);
        const ft_tensor *tr = &g->tensors[r];
        if ((tr->flags & (FT_T_CONST | FT_T_INPUT | FT_T_OUTPUT)) || p->alias_of[y] >= 0) continue;
        if (tx->dtype != ty->dtype || !ft_shape_equal(&tx->shape, &ty->shape)) continue;
        if (ft_tensor_nbytes(tr) != ft_tensor_nbytes(ty)) continue;
        if (c->n_in < 1 || !ft_layout_equal(&c->in_layout[0], &c->out_layout)) continue;
        if (group_last[r] != i) continue;
        /* the other inputs must not share the bytes being overwritten */
        int shared = 0;
        for (int j = 1; j < n->n_in; j++)
            if (n->in[j] >= 0 && ft_plan_root(p, n->in[j]) == r) shared = 1;
        if (shared) continue;
        p->alias_of[y] = x;
        int ry = ft_plan_root(p, y);
        int gl = group_last[y] > last_use[y] ? group_last[y] : last_use[y];
        if (gl > group_last[ry]) group_last[ry] = gl;
    }
    free(last_use);
    free(group_last);
    return FT_OK;
}

int ft_planner_memory(const ft_graph *g, ft_plan *p, int algorithm, ft_memory_report *rep, ft_error *err)
{
    memset(rep, 0, sizeof *rep);
    int nt = g->n_tensors, steps = g->n_nodes;
    /* the no-reuse figure is what `run --no-reuse` allocates: every non-view activation its own bytes */
    for (int t = 0; t < nt; t++) {
        const ft_tensor *x = &g->tensors[t];
        if ((x->flags & FT_T_CONST) || p->alias_of[t] >= 0 || (x->producer < 0 && !(x->flags & FT_T_INPUT))) continue;
        rep->no_reuse_bytes += (ft_tensor_nbytes(x) + FT_ALIGN - 1) & ~(size_t)(FT_ALIGN - 1);
    }
    if (algorithm != FT_MEMPLAN_NAIVE) {
        int rc = plan_in_place(g, p, err);
        if (rc != FT_OK) return rc;
    }
    int *req_of = malloc(sizeof(int) * (size_t)(nt + 1));
    int *root_of = malloc(sizeof(int) * (size_t)(nt + 1));
    ft_mem_request *req = calloc((size_t)nt + 1, sizeof *req);
    size_t *off = calloc((size_t)nt + 1, sizeof *off);
    int *req_tensor = malloc(sizeof(int) * (size_t)(nt + 1));
    if (!req_of || !root_of || !req || !off || !req_tensor) {
        free(req_of);
        free(root_of);
        free(req);
        free(off);
        free(req_tensor);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory planning memory");
    }
    int n = 0;
    for (int t = 0; t < nt; t++) {
        const ft_tensor *x = &g->tensors[t];
        root_of[t] = ft_plan_root(p, t);
        req_of[t] = -1;
        if ((x->flags & FT_T_CONST) || root_of[t] != t) continue;
        if (x->producer < 0 && !(x->flags & FT_T_INPUT)) continue;
        req_of[t] = n;
        req_tensor[n] = t;
        req[n].size = ft_tensor_nbytes(x);
        req[n].first = x->producer >= 0 ? x->producer : 0;
        req[n].last = req[n].first;
        n++;
    }
    /* a use of any alias keeps the root alive */
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *nd = &g->nodes[i];
        for (int j = 0; j < nd->n_in; j++) {
            int t = nd->in[j];
            if (t < 0 || req_of[root_of[t]] < 0) continue;
            ft_mem_request *r = &req[req_of[root_of[t]]];
            if (i > r->last) r->last = i;
        }
        for (int j = 0; j < nd->n_out; j++) {
            int t = nd->out[j];
            if (t < 0 || req_of[root_of[t]] < 0) continue;
            ft_mem_request *r = &req[req_of[root_of[t]]];
            if (i > r->last) r->last = i;
            if (i < r->first) r->first = i;
        }
    }
    /* inputs are bound once and read by every run; outputs are read after the run */
    for (int t = 0; t < nt; t++) {
        if (!(g->tensors[t].flags & (FT_T_OUTPUT | FT_T_INPUT)) || req_of[root_of[t]] < 0) continue;
        req[req_of[root_of[t]]].last = steps > 0 ? steps - 1 : 0;
    }
    int rc = FT_OK;
    size_t best = 0;
    int best_alg = algorithm;
    if (n > 0) {
        rc = ft_memplan_lower_bound(req, n, FT_ALIGN, &rep->lower_bound_bytes, err);
        if (rc == FT_OK) rc = ft_memplan(req, n, algorithm, FT_ALIGN, off, &best, err);
        if (rc == FT_OK) rc = ft_memplan_validate(req, n, FT_ALIGN, off, best, err);
    }
    if (rc == FT_OK) {
        for (int t = 0; t < nt; t++) p->offset[t] = req_of[t] >= 0 ? off[req_of[t]] : FT_NO_OFFSET;
        p->arena_bytes = best;
        rep->arena_bytes = best;
        rep->algorithm = best_alg;
    }
    free(req_of);
    free(root_of);
    free(req);
    free(off);
    free(req_tensor);
    return rc;
}
