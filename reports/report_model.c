/* report_model.c - a model through each run's measurements: default and tuned plans per op type, the
 * memory plan with every tensor's lifetime and offset, and each run's plan costed on the others. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "memplan.h"
#include "ops.h"
#include "planner.h"
#include "report_internal.h"

typedef struct run_cost {
    const ft_report *r;
    int run;
} run_cost;

static double cost_of_run(void *ctx, const char *signature, const char *key)
{
    const run_cost *c = ctx;
    return ft_report_cost(c->r, c->run, signature, key);
}

static int nomem(ft_error *err)
{
    return ft_fail(err, FT_ERR_NOMEM, "report: out of memory");
}

static int is_view(const ft_node *n)
{
    return n->op && (n->op->flags & FT_OP_VIEW);
}

static int op_index(const ft_report *r, const char *op)
{
    for (int i = 0; i < r->n_model_ops; i++)
        if (strcmp(r->model_ops[i], op) == 0) return i;
    return -1;
}

static int add_op(ft_report *r, const char *op, ft_error *err)
{
    if (op_index(r, op) >= 0) return FT_OK;
    char **o = realloc(r->model_ops, (size_t)(r->n_model_ops + 1) * sizeof *o);
    if (!o) return nomem(err);
    r->model_ops = o;
    if (!(o[r->n_model_ops] = strdup(op))) return nomem(err);
    r->n_model_ops++;
    return FT_OK;
}

static int node_default(const ft_graph *g, int i, ft_candidate *c, ft_error *err)
{
    const ft_node *nd = &g->nodes[i];
    ft_tensor *io[2 * FT_MAX_IO + 64];
    if (nd->n_in + nd->n_out > (int)(sizeof io / sizeof io[0]))
        return ft_fail(err, FT_ERR_UNSUPPORTED, "report: node '%s' has too many inputs and outputs", nd->name);
    for (int j = 0; j < nd->n_in; j++) io[j] = nd->in[j] >= 0 ? &g->tensors[nd->in[j]] : NULL;
    for (int j = 0; j < nd->n_out; j++) io[nd->n_in + j] = nd->out[j] >= 0 ? &g->tensors[nd->out[j]] : NULL;
    return ft_registry_default(nd, io, io + nd->n_in, c, err);
}

/* The signature text the sweep stored for a conversion the planner inserted: the conversion graph's
 * Reorder nodes carry their layouts as "from" and "to" attributes, the inserted ones do not. */
static void plan_node_signature(const ft_graph *g, const ft_plan *p, int i, char *buf, size_t n)
{
    ft_node_signature(g, i, buf, n);
    const ft_node *nd = &g->nodes[i];
    if (nd->op != &ft_op_reorder || ft_node_attr(nd, "from")) return;
    const ft_layout *ls[2] = {&p->cand[i].in_layout[0], &p->cand[i].out_layout};
    const char *names[2] = {"from", "to"};
    size_t o = strlen(buf);
    for (int k = 0; k < 2 && o < n; k++) {
        o += (size_t)snprintf(buf + o, n - o, ";%s=[", names[k]);
        for (int d = 0; d < ls[k]->rank && o < n; d++) o += (size_t)snprintf(buf + o, n - o, "%s%d", d ? "," : "", ls[k]->perm[d]);
        if (o < n) o += (size_t)snprintf(buf + o, n - o, "]");
    }
}

/* Lifetimes exactly as ft_planner_memory computes them, so the chart shows what the planner packed. */
static int memory_rects(const ft_graph *g, const ft_plan *p, ft_report_model_run *m, ft_error *err)
{
    int nt = g->n_tensors, steps = g->n_nodes;
    int *req_of = malloc(sizeof(int) * (size_t)(nt + 1));
    m->rects = calloc((size_t)nt + 1, sizeof *m->rects);
    if (!req_of || !m->rects) {
        free(req_of);
        return nomem(err);
    }
    int n = 0;
    for (int t = 0; t < nt; t++) {
        const ft_tensor *x = &g->tensors[t];
        req_of[t] = -1;
        if ((x->flags & FT_T_CONST) || ft_plan_root(p, t) != t || p->offset[t] == FT_NO_OFFSET) continue;
        if (x->producer < 0 && !(x->flags & FT_T_INPUT)) continue;
        ft_report_memrect *q = &m->rects[n];
        q->size = ft_tensor_nbytes(x);
        q->offset = p->offset[t];
        q->first = q->last = x->producer >= 0 ? x->producer : 0;
        snprintf(q->tensor, sizeof q->tensor, "%s", x->name ? x->name : "?");
        req_of[t] = n++;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *nd = &g->nodes[i];
        for (int j = 0; j < nd->n_in + nd->n_out; j++) {
            int t = j < nd->n_in ? nd->in[j] : nd->out[j - nd->n_in];
            if (t < 0) continue;
            int q = req_of[ft_plan_root(p, t)];
            if (q < 0) continue;
            if (i > m->rects[q].last) m->rects[q].last = i;
            if (j >= nd->n_in && i < m->rects[q].first) m->rects[q].first = i;
        }
    }
    for (int t = 0; t < nt; t++) {
        if (!(g->tensors[t].flags & (FT_T_OUTPUT | FT_T_INPUT))) continue;
        int q = req_of[ft_plan_root(p, t)];
        if (q >= 0) m->rects[q].last = steps > 0 ? steps - 1 : 0;
    }
    m->n_rects = n;
    m->n_steps = steps;
    free(req_of);
    return FT_OK;
}

static int analyze_run(ft_report *r, int u, ft_report_model_loader load, void *ctx, ft_error *err)
{
    ft_report_model_run *m = &r->mruns[u];
    m->tuned_by_op = calloc((size_t)r->n_model_ops + 1, sizeof *m->tuned_by_op);
    m->default_by_op = calloc((size_t)r->n_model_ops + 1, sizeof *m->default_by_op);
    m->cross_s = calloc((size_t)r->n_runs + 1, sizeof *m->cross_s);
    m->cross_missing = calloc((size_t)r->n_runs + 1, sizeof *m->cross_missing);
    if (!m->tuned_by_op || !m->default_by_op || !m->cross_s || !m->cross_missing) return nomem(err);
    ft_graph *g = NULL;
    ft_plan *plan = NULL;
    run_cost rc_ctx = {r, u};
    int rc = load(ctx, &g, err);
    if (rc != FT_OK) return rc;
    int n_compute = 0, n_measured = 0;
    char sig[2048];
    for (int i = 0; i < g->n_nodes && rc == FT_OK; i++) {
        if (is_view(&g->nodes[i])) continue;
        n_compute++;
        ft_candidate dflt;
        rc = node_default(g, i, &dflt, err);
        if (rc != FT_OK) break;
        ft_node_signature(g, i, sig, sizeof sig);
        double c = cost_of_run(&rc_ctx, sig, dflt.key);
        if (!isfinite(c)) {
            m->n_default_unmeasured++;
            continue;
        }
        m->default_by_op[op_index(r, g->nodes[i].op_type)] += c;
        m->default_s += c;
    }
    ft_planner_report rep;
    if (rc == FT_OK) rc = ft_planner_solve(g, cost_of_run, &rc_ctx, &plan, &rep, err);
    if (rc != FT_OK) goto done;
    m->predicted_s = rep.predicted_s;
    m->greedy_s = rep.greedy_predicted_s;
    m->n_unmeasured = rep.n_unmeasured;
    m->n_conversions = rep.n_conversions;
    m->plan_sig = calloc((size_t)g->n_nodes + 1, sizeof *m->plan_sig);
    m->plan_key = calloc((size_t)g->n_nodes + 1, sizeof *m->plan_key);
    if (!m->plan_sig || !m->plan_key) {
        rc = nomem(err);
        goto done;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const ft_node *nd = &g->nodes[i];
        if (is_view(nd)) continue;
        plan_node_signature(g, plan, i, sig, sizeof sig);
        m->plan_sig[m->n_plan] = strdup(sig);
        m->plan_key[m->n_plan] = strdup(plan->cand[i].key);
        m->n_plan++;
        if (!m->plan_sig[m->n_plan - 1] || !m->plan_key[m->n_plan - 1]) {
            rc = nomem(err);
            goto done;
        }
        double c = cost_of_run(&rc_ctx, sig, plan->cand[i].key);
        if (!isfinite(c)) continue;
        int op = op_index(r, nd->op_type);
        if (op >= 0) m->tuned_by_op[op] += c;
        if (nd->op != &ft_op_reorder) n_measured++;
    }
    if (n_measured == 0) {
        snprintf(m->note, sizeof m->note, "%s holds no measurement of this model's operators", r->runs[u].label);
        goto done;
    }
    m->ok = 1;
    if (rep.n_unmeasured)
        snprintf(m->note, sizeof m->note, "%d of %d operators never swept on %s: the planner keeps their default "
                 "kernel and costs it 0", rep.n_unmeasured, n_compute, r->runs[u].label);
    ft_memory_report mem;
    rc = ft_planner_memory(g, plan, FT_MEMPLAN_BEST, &mem, err);
    if (rc != FT_OK) goto done;
    m->arena_bytes = mem.arena_bytes;
    m->lower_bound_bytes = mem.lower_bound_bytes;
    m->no_reuse_bytes = mem.no_reuse_bytes;
    snprintf(m->mem_algorithm, sizeof m->mem_algorithm, "%s", ft_memplan_name(mem.algorithm) ? ft_memplan_name(mem.algorithm) : "?");
    rc = memory_rects(g, plan, m, err);
done:
    ft_plan_destroy(plan);
    ft_graph_destroy(g);
    return rc;
}

int ft_report_set_model(ft_report *r, const char *label, ft_report_model_loader load, void *ctx, ft_error *err)
{
    ft_graph *g = NULL;
    int rc = load(ctx, &g, err);
    if (rc != FT_OK) return rc;
    snprintf(r->model_label, sizeof r->model_label, "%s", label);
    for (int i = 0; i < 32; i++) snprintf(r->model_sha256 + 2 * i, 3, "%02x", g->digest[i]);
    for (int s = 0; s < r->n_sigs; s++) {
        r->sigs[s].model_nodes = 0;
        free(r->sigs[s].default_key);
        r->sigs[s].default_key = NULL;
    }
    r->model_nodes = 0;
    char sig[2048];
    for (int i = 0; i < g->n_nodes && rc == FT_OK; i++) {
        if (is_view(&g->nodes[i])) continue;
        r->model_nodes++;
        rc = add_op(r, g->nodes[i].op_type, err);
        if (rc != FT_OK) break;
        ft_node_signature(g, i, sig, sizeof sig);
        int s = ft_report_map_get(&r->sig_map, sig);
        if (s < 0) continue;
        r->sigs[s].model_nodes++;
        if (r->sigs[s].default_key) continue;
        ft_candidate dflt;
        rc = node_default(g, i, &dflt, err);
        if (rc == FT_OK && !(r->sigs[s].default_key = strdup(dflt.key))) rc = nomem(err);
    }
    ft_graph_destroy(g);
    if (rc == FT_OK) rc = add_op(r, "Reorder", err);
    if (rc != FT_OK) return rc;
    r->has_model = 1;
    ft_report_compute_stats(r);
    r->mruns = calloc((size_t)r->n_runs + 1, sizeof *r->mruns);
    if (!r->mruns) return nomem(err);
    for (int u = 0; u < r->n_runs && rc == FT_OK; u++) rc = analyze_run(r, u, load, ctx, err);
    if (rc != FT_OK) return rc;
    for (int a = 0; a < r->n_runs; a++) {
        ft_report_model_run *m = &r->mruns[a];
        if (!m->ok) continue;
        for (int b = 0; b < r->n_runs; b++)
            for (int i = 0; i < m->n_plan; i++) {
                double c = ft_report_cost(r, b, m->plan_sig[i], m->plan_key[i]);
                if (isfinite(c)) m->cross_s[b] += c;
                else m->cross_missing[b]++;
            }
    }
    return FT_OK;
}
