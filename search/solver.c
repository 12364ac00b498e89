/* solver.c - exact PBQP layout solver (reductions, branch and bound), brute-force oracle, greedy baseline. */
#include "solver.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Relative slack below which two costs count as equal: keeps equal-cost branches from being explored
 * again and lets rounding noise from folded sums still recognise a separable edge. */
#define REL_EPS 1e-12

/* ------------------------------------------------------------------------------------------------
 * Problem checks and evaluation
 * ---------------------------------------------------------------------------------------------- */

static int bad_value(double x)
{
    return isnan(x) || (isinf(x) && x < 0);
}

static int check_problem(const ft_solve_problem *p, ft_error *err)
{
    if (!p)
        return ft_fail(err, FT_ERR_INPUT, "solver: no problem given");
    if (p->n_nodes < 0 || p->n_edges < 0)
        return ft_fail(err, FT_ERR_INPUT, "solver: negative node (%d) or edge (%d) count", p->n_nodes, p->n_edges);
    if (p->n_nodes > 0 && (!p->n_choices || !p->cost))
        return ft_fail(err, FT_ERR_INPUT, "solver: %d nodes but no choice counts or costs", p->n_nodes);
    if (p->n_edges > 0 && (!p->edge_a || !p->edge_b || !p->edge_cost))
        return ft_fail(err, FT_ERR_INPUT, "solver: %d edges but no endpoints or costs", p->n_edges);
    for (int v = 0; v < p->n_nodes; v++) {
        if (p->n_choices[v] < 1)
            return ft_fail(err, FT_ERR_INPUT, "solver: node %d has %d choices (needs >= 1)", v, p->n_choices[v]);
        if (!p->cost[v])
            return ft_fail(err, FT_ERR_INPUT, "solver: node %d has no cost vector", v);
        for (int i = 0; i < p->n_choices[v]; i++)
            if (bad_value(p->cost[v][i]))
                return ft_fail(err, FT_ERR_INPUT, "solver: node %d choice %d costs %g (NaN and -inf are not costs)", v,
                               i, p->cost[v][i]);
    }
    for (int e = 0; e < p->n_edges; e++) {
        int a = p->edge_a[e], b = p->edge_b[e];
        if (a < 0 || a >= p->n_nodes || b < 0 || b >= p->n_nodes)
            return ft_fail(err, FT_ERR_INPUT, "solver: edge %d joins %d and %d, outside 0..%d", e, a, b,
                           p->n_nodes - 1);
        if (a == b)
            return ft_fail(err, FT_ERR_INPUT, "solver: edge %d is a self-loop on node %d", e, a);
        if (!p->edge_cost[e])
            return ft_fail(err, FT_ERR_INPUT, "solver: edge %d has no cost matrix", e);
        size_t m = (size_t)p->n_choices[a] * (size_t)p->n_choices[b];
        for (size_t t = 0; t < m; t++)
            if (bad_value(p->edge_cost[e][t]))
                return ft_fail(err, FT_ERR_INPUT, "solver: edge %d (%d-%d) entry %zu costs %g", e, a, b, t,
                               p->edge_cost[e][t]);
    }
    return FT_OK;
}

static double evaluate(const ft_solve_problem *p, const int *x)
{
    double t = 0;
    for (int v = 0; v < p->n_nodes; v++)
        t += p->cost[v][x[v]];
    for (int e = 0; e < p->n_edges; e++) {
        int a = p->edge_a[e], b = p->edge_b[e];
        t += p->edge_cost[e][x[a] * p->n_choices[b] + x[b]];
    }
    return t;
}

int ft_solve_evaluate(const ft_solve_problem *p, const int *choice, double *total, ft_error *err)
{
    int rc = check_problem(p, err);
    if (rc)
        return rc;
    for (int v = 0; v < p->n_nodes; v++)
        if (choice[v] < 0 || choice[v] >= p->n_choices[v])
            return ft_fail(err, FT_ERR_INPUT, "solver: node %d choice %d is outside 0..%d", v, choice[v],
                           p->n_choices[v] - 1);
    *total = evaluate(p, choice);
    return FT_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------------
 * Greedy baseline and local improvement
 * ---------------------------------------------------------------------------------------------- */

/* Incident edges of every node in one CSR array: adj_e[adj_off[v] .. adj_off[v+1]). */
typedef struct incidence {
    int *off, *e;
} incidence;

static int incidence_build(const ft_solve_problem *p, incidence *inc)
{
    inc->off = calloc((size_t)p->n_nodes + 1, sizeof *inc->off);
    inc->e = malloc(((size_t)p->n_edges * 2 + 1) * sizeof *inc->e);
    if (!inc->off || !inc->e) {
        free(inc->off);
        free(inc->e);
        return -1;
    }
    for (int e = 0; e < p->n_edges; e++) {
        inc->off[p->edge_a[e] + 1]++;
        inc->off[p->edge_b[e] + 1]++;
    }
    for (int v = 0; v < p->n_nodes; v++)
        inc->off[v + 1] += inc->off[v];
    int *fill = malloc(((size_t)p->n_nodes + 1) * sizeof *fill);
    if (!fill) {
        free(inc->off);
        free(inc->e);
        return -1;
    }
    memcpy(fill, inc->off, ((size_t)p->n_nodes + 1) * sizeof *fill);
    for (int e = 0; e < p->n_edges; e++) {
        inc->e[fill[p->edge_a[e]]++] = e;
        inc->e[fill[p->edge_b[e]]++] = e;
    }
    free(fill);
    return 0;
}

static void incidence_free(incidence *inc)
{
    free(inc->off);
    free(inc->e);
}

/* Cost of node v taking choice i, counting only edges to neighbours with known[u] set. */
static double local_cost(const ft_solve_problem *p, const incidence *inc, const int *x, const unsigned char *known,
                         int v, int i)
{
    double c = p->cost[v][i];
    for (int t = inc->off[v]; t < inc->off[v + 1]; t++) {
        int e = inc->e[t], a = p->edge_a[e], b = p->edge_b[e];
        if (a == v && known[b])
            c += p->edge_cost[e][i * p->n_choices[b] + x[b]];
        else if (b == v && known[a])
            c += p->edge_cost[e][x[a] * p->n_choices[b] + i];
    }
    return c;
}

static void greedy_assign(const ft_solve_problem *p, const incidence *inc, int *x, unsigned char *known)
{
    memset(known, 0, (size_t)p->n_nodes);
    for (int v = 0; v < p->n_nodes; v++) {
        int best = 0;
        double bc = INFINITY;
        for (int i = 0; i < p->n_choices[v]; i++) {
            double c = local_cost(p, inc, x, known, v, i);
            if (c < bc) {
                bc = c;
                best = i;
            }
        }
        if (isinf(bc)) /* a dead end: keep the cheapest node choice, the total says INFINITY */
            for (int i = 1; i < p->n_choices[v]; i++)
                if (p->cost[v][i] < p->cost[v][best])
                    best = i;
        x[v] = best;
        known[v] = 1;
    }
}

int ft_solve_greedy_chain(const ft_solve_problem *p, int *choice, double *total, ft_error *err)
{
    int rc = check_problem(p, err);
    if (rc)
        return rc;
    incidence inc;
    unsigned char *known = malloc((size_t)p->n_nodes + 1);
    if (!known || incidence_build(p, &inc)) {
        free(known);
        return ft_fail(err, FT_ERR_NOMEM, "solver: out of memory for %d nodes", p->n_nodes);
    }
    greedy_assign(p, &inc, choice, known);
    *total = evaluate(p, choice);
    incidence_free(&inc);
    free(known);
    return FT_OK;
}

/* Iterated conditional modes: every node moves to its best choice given all its neighbours until
 * nothing improves. A cheap upper bound that lets branch and bound prune from the start. */
static void local_improve(const ft_solve_problem *p, const incidence *inc, int *x, unsigned char *known)
{
    memset(known, 1, (size_t)p->n_nodes);
    for (int pass = 0; pass < 20; pass++) {
        int moved = 0;
        for (int v = 0; v < p->n_nodes; v++) {
            double cur = local_cost(p, inc, x, known, v, x[v]);
            for (int i = 0; i < p->n_choices[v]; i++) {
                double c = local_cost(p, inc, x, known, v, i);
                if (c < cur && (isinf(cur) || cur - c > REL_EPS * fabs(cur))) {
                    cur = c;
                    x[v] = i;
                    moved = 1;
                }
            }
        }
        if (!moved)
            break;
    }
}

/* ------------------------------------------------------------------------------------------------
 * Brute force
 * ---------------------------------------------------------------------------------------------- */

int ft_solve_brute_force(const ft_solve_problem *p, int *choice, double *total, ft_error *err)
{
    int rc = check_problem(p, err);
    if (rc)
        return rc;
    double count = 1;
    for (int v = 0; v < p->n_nodes; v++) {
        count *= p->n_choices[v];
        if (count > FT_SOLVE_BRUTE_FORCE_MAX)
            return ft_fail(err, FT_ERR_UNSUPPORTED, "solver: brute force refuses more than %.0f assignments",
                           FT_SOLVE_BRUTE_FORCE_MAX);
    }
    if (p->n_nodes == 0) {
        *total = 0;
        return FT_OK;
    }
    int n = p->n_nodes;
    /* Edges grouped by their later endpoint, so each is added once both ends are set. */
    int *off = calloc((size_t)n + 1, sizeof *off);
    int *by = malloc(((size_t)p->n_edges + 1) * sizeof *by);
    int *x = malloc((size_t)n * sizeof *x);
    double *partial = malloc(((size_t)n + 1) * sizeof *partial);
    if (!off || !by || !x || !partial) {
        free(off);
        free(by);
        free(x);
        free(partial);
        return ft_fail(err, FT_ERR_NOMEM, "solver: out of memory for brute force");
    }
    for (int e = 0; e < p->n_edges; e++) {
        int hi = p->edge_a[e] > p->edge_b[e] ? p->edge_a[e] : p->edge_b[e];
        off[hi + 1]++;
    }
    for (int v = 0; v < n; v++)
        off[v + 1] += off[v];
    memcpy(x, off, (size_t)n * sizeof *x); /* x doubles as the fill cursor until enumeration starts */
    for (int e = 0; e < p->n_edges; e++) {
        int hi = p->edge_a[e] > p->edge_b[e] ? p->edge_a[e] : p->edge_b[e];
        by[x[hi]++] = e;
    }
    double best = INFINITY;
    partial[0] = 0;
    int d = 0;
    x[0] = -1;
    while (d >= 0) {
        if (++x[d] >= p->n_choices[d]) {
            d--;
            continue;
        }
        double val = partial[d] + p->cost[d][x[d]];
        for (int k = off[d]; k < off[d + 1]; k++) {
            int e = by[k], a = p->edge_a[e], b = p->edge_b[e];
            val += p->edge_cost[e][x[a] * p->n_choices[b] + x[b]];
        }
        if (d == n - 1) {
            if (val < best) {
                best = val;
                memcpy(choice, x, (size_t)n * sizeof *x);
            }
        } else {
            partial[d + 1] = val;
            x[++d] = -1;
        }
    }
    free(off);
    free(by);
    free(x);
    free(partial);
    if (isinf(best))
        return ft_fail(err, FT_ERR_INPUT, "solver: every assignment of the %d nodes costs INFINITY", n);
    *total = evaluate(p, choice);
    return FT_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Exact solver: working graph
 *
 * A working graph holds the nodes still undecided, renumbered densely; orig maps them back. Between
 * any two nodes there is at most one edge (parallel edges are summed), so a node's degree is the
 * length of its adjacency list. Choices found dominated or impossible carry cost INFINITY.
 * ---------------------------------------------------------------------------------------------- */

typedef struct wedge {
    int a, b; /* m is k[a] rows (a's choice) by k[b] columns */
    double *m;
} wedge;

typedef struct wgraph {
    int n, n_live;
    int *orig, *k;
    double **cost;
    unsigned char *alive;
    int **adj, *deg, *adj_cap; /* live incident edges */
    wedge *e;
    int ne, cap_e;
    double offset; /* cost already committed by removed nodes */
} wgraph;

static void wgraph_free(wgraph *g)
{
    if (!g)
        return;
    for (int v = 0; v < g->n; v++) {
        if (g->cost)
            free(g->cost[v]);
        if (g->adj)
            free(g->adj[v]);
    }
    for (int e = 0; e < g->ne; e++)
        free(g->e[e].m);
    free(g->orig);
    free(g->k);
    free(g->cost);
    free(g->alive);
    free(g->adj);
    free(g->deg);
    free(g->adj_cap);
    free(g->e);
    free(g);
}

static wgraph *wgraph_new(int n)
{
    wgraph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->n = n;
    size_t m = (size_t)n + 1;
    g->orig = calloc(m, sizeof *g->orig);
    g->k = calloc(m, sizeof *g->k);
    g->cost = calloc(m, sizeof *g->cost);
    g->alive = calloc(m, 1);
    g->adj = calloc(m, sizeof *g->adj);
    g->deg = calloc(m, sizeof *g->deg);
    g->adj_cap = calloc(m, sizeof *g->adj_cap);
    if (!g->orig || !g->k || !g->cost || !g->alive || !g->adj || !g->deg || !g->adj_cap) {
        wgraph_free(g);
        return NULL;
    }
    return g;
}

static int adj_push(wgraph *g, int v, int e)
{
    if (g->deg[v] == g->adj_cap[v]) {
        int cap = g->adj_cap[v] ? 2 * g->adj_cap[v] : 4;
        int *a = realloc(g->adj[v], (size_t)cap * sizeof *a);
        if (!a)
            return -1;
        g->adj[v] = a;
        g->adj_cap[v] = cap;
    }
    g->adj[v][g->deg[v]++] = e;
    return 0;
}

static void adj_drop(wgraph *g, int v, int e)
{
    for (int t = 0; t < g->deg[v]; t++)
        if (g->adj[v][t] == e) {
            g->adj[v][t] = g->adj[v][--g->deg[v]];
            return;
        }
    assert(!"edge missing from adjacency");
}

static int other_end(const wgraph *g, int e, int v)
{
    return g->e[e].a == v ? g->e[e].b : g->e[e].a;
}

/* Entry of edge e for node v choosing x and the other end choosing y. */
static double edge_val(const wgraph *g, int e, int v, int x, int y)
{
    const wedge *w = &g->e[e];
    return w->a == v ? w->m[x * g->k[w->b] + y] : w->m[y * g->k[w->b] + x];
}

static int find_edge(const wgraph *g, int u, int w)
{
    int s = g->deg[u] <= g->deg[w] ? u : w, t = s == u ? w : u;
    for (int i = 0; i < g->deg[s]; i++)
        if (other_end(g, g->adj[s][i], s) == t)
            return g->adj[s][i];
    return -1;
}

/* Adds m (rows = u's choices, columns = w's) onto the edge u-w, creating it when absent. Returns the
 * edge id or -1 on allocation failure. */
static int edge_add(wgraph *g, int u, int w, const double *m)
{
    int e = find_edge(g, u, w);
    if (e >= 0) {
        wedge *x = &g->e[e];
        int ku = g->k[u], kw = g->k[w];
        if (x->a == u) {
            for (int i = 0; i < ku * kw; i++)
                x->m[i] += m[i];
        } else {
            for (int i = 0; i < ku; i++)
                for (int j = 0; j < kw; j++)
                    x->m[j * ku + i] += m[i * kw + j];
        }
        return e;
    }
    if (g->ne == g->cap_e) {
        int cap = g->cap_e ? 2 * g->cap_e : 16;
        wedge *ne = realloc(g->e, (size_t)cap * sizeof *ne);
        if (!ne)
            return -1;
        g->e = ne;
        g->cap_e = cap;
    }
    size_t sz = (size_t)g->k[u] * (size_t)g->k[w];
    double *cp = malloc(sz * sizeof *cp);
    if (!cp)
        return -1;
    memcpy(cp, m, sz * sizeof *cp);
    e = g->ne;
    g->e[e].a = u;
    g->e[e].b = w;
    g->e[e].m = cp;
    if (adj_push(g, u, e) || adj_push(g, w, e)) {
        /* Leave the graph consistent: the edge is not half-attached. */
        if (g->deg[u] && g->adj[u][g->deg[u] - 1] == e)
            g->deg[u]--;
        free(cp);
        g->e[e].m = NULL;
        return -1;
    }
    g->ne++;
    return e;
}

static void edge_remove(wgraph *g, int e)
{
    adj_drop(g, g->e[e].a, e);
    adj_drop(g, g->e[e].b, e);
    free(g->e[e].m);
    g->e[e].m = NULL;
}

static void node_remove(wgraph *g, int v)
{
    assert(g->alive[v] && g->deg[v] == 0);
    g->alive[v] = 0;
    g->n_live--;
}

static int node_dead(const wgraph *g, int v)
{
    for (int i = 0; i < g->k[v]; i++)
        if (!isinf(g->cost[v][i]))
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------------
 * Exact solver: reduction records, kept on one stack shared by the whole depth-first search. A
 * branch truncates the stack back to where it started when it returns, so at any leaf the stack
 * lists every decision on the path from the root, and reading it backwards rebuilds the assignment.
 * ---------------------------------------------------------------------------------------------- */

enum { REC_R0, REC_R1, REC_R2, REC_FIX };

typedef struct rec {
    int kind, v, u, w; /* original node ids */
    int kv, ku, kw, fixed;
    size_t data; /* into the double stack: cost[kv], then [kv x ku], then [kv x kw] */
} rec;

typedef struct solver {
    const ft_solve_problem *p;
    ft_solve_options opt;
    ft_solve_stats st;
    rec *r;
    size_t nr, cap_r;
    double *d;
    size_t nd, cap_d;
    int *cur, *best;
    double best_cost;
    int have_best, stopped, nomem;
    double t0;
    int *stack;
    unsigned char *inq;
    double *tmp;
    size_t tmp_cap;
} solver;

static double *rec_push(solver *s, int kind, int v, int kv, int u, int ku, int w, int kw, int fixed)
{
    size_t need = (size_t)kv * (1 + (size_t)ku + (size_t)kw);
    if (s->nr == s->cap_r) {
        size_t cap = s->cap_r ? 2 * s->cap_r : 256;
        rec *r = realloc(s->r, cap * sizeof *r);
        if (!r)
            return NULL;
        s->r = r;
        s->cap_r = cap;
    }
    if (s->nd + need + 1 > s->cap_d) {
        size_t cap = s->cap_d ? 2 * s->cap_d : 4096;
        while (cap < s->nd + need + 1)
            cap *= 2;
        double *d = realloc(s->d, cap * sizeof *d);
        if (!d)
            return NULL;
        s->d = d;
        s->cap_d = cap;
    }
    rec *x = &s->r[s->nr++];
    x->kind = kind;
    x->v = v;
    x->u = u;
    x->w = w;
    x->kv = kv;
    x->ku = ku;
    x->kw = kw;
    x->fixed = fixed;
    x->data = s->nd;
    s->nd += need;
    return s->d + x->data;
}

static int argmin_rec(const solver *s, const rec *x, const int *cur)
{
    const double *c = s->d + x->data;
    const double *mu = c + x->kv, *mw = mu + (size_t)x->kv * (size_t)x->ku;
    int best = 0;
    double bv = INFINITY;
    for (int i = 0; i < x->kv; i++) {
        double t = c[i];
        if (x->kind != REC_R0)
            t += mu[i * x->ku + cur[x->u]];
        if (x->kind == REC_R2)
            t += mw[i * x->kw + cur[x->w]];
        if (t < bv) {
            bv = t;
            best = i;
        }
    }
    return best;
}

static void backtrack_assignment(solver *s)
{
    for (size_t t = s->nr; t-- > 0;) {
        const rec *x = &s->r[t];
        s->cur[x->v] = x->kind == REC_FIX ? x->fixed : argmin_rec(s, x, s->cur);
    }
}

static double *scratch(solver *s, size_t n)
{
    if (n > s->tmp_cap) {
        double *t = realloc(s->tmp, n * sizeof *t);
        if (!t)
            return NULL;
        s->tmp = t;
        s->tmp_cap = n;
    }
    return s->tmp;
}

/* ------------------------------------------------------------------------------------------------
 * Exact solver: reductions
 * ---------------------------------------------------------------------------------------------- */

static void enqueue(solver *s, int *top, const wgraph *g, int v)
{
    if (g->alive[v] && g->deg[v] <= 2 && !s->inq[v]) {
        s->inq[v] = 1;
        s->stack[(*top)++] = v;
    }
}

/* An edge whose matrix is row term + column term over the choices still possible moves into the two
 * node costs and disappears; this is how a node left with one possible choice detaches. */
static int edge_try_fold(solver *s, wgraph *g, int e)
{
    const wedge *x = &g->e[e];
    int a = x->a, b = x->b, ka = g->k[a], kb = g->k[b];
    const double *ca = g->cost[a], *cb = g->cost[b], *m = x->m;
    int i0 = -1, j0 = -1;
    for (int i = 0; i < ka && i0 < 0; i++)
        if (!isinf(ca[i]))
            i0 = i;
    for (int j = 0; j < kb && j0 < 0; j++)
        if (!isinf(cb[j]))
            j0 = j;
    if (i0 < 0 || j0 < 0)
        return 0;
    double base = m[i0 * kb + j0];
    for (int i = 0; i < ka; i++) {
        if (isinf(ca[i]))
            continue;
        for (int j = 0; j < kb; j++) {
            if (isinf(cb[j]))
                continue;
            double v = m[i * kb + j], r = m[i * kb + j0], c = m[i0 * kb + j];
            if (isinf(v) || isinf(r) || isinf(c) || isinf(base))
                return 0;
            double dev = fabs(v - r - c + base);
            if (dev > REL_EPS * (fabs(v) + fabs(r) + fabs(c) + fabs(base)))
                return 0;
        }
    }
    for (int i = 0; i < ka; i++)
        if (!isinf(ca[i]))
            g->cost[a][i] += m[i * kb + j0];
    for (int j = 0; j < kb; j++)
        if (!isinf(cb[j]))
            g->cost[b][j] += m[i0 * kb + j] - base;
    edge_remove(g, e);
    s->st.edges_folded++;
    return 1;
}

static int reduce_r0(solver *s, wgraph *g, int v)
{
    double *c = rec_push(s, REC_R0, g->orig[v], g->k[v], 0, 0, 0, 0, 0);
    if (!c)
        return -1;
    double best = INFINITY;
    for (int i = 0; i < g->k[v]; i++) {
        c[i] = g->cost[v][i];
        if (c[i] < best)
            best = c[i];
    }
    g->offset += best;
    node_remove(g, v);
    s->st.r0++;
    return 0;
}

static int reduce_r1(solver *s, wgraph *g, int v)
{
    int e = g->adj[v][0], u = other_end(g, e, v), kv = g->k[v], ku = g->k[u];
    double *c = rec_push(s, REC_R1, g->orig[v], kv, g->orig[u], ku, 0, 0, 0);
    if (!c)
        return -1;
    double *m = c + kv;
    for (int i = 0; i < kv; i++) {
        c[i] = g->cost[v][i];
        for (int j = 0; j < ku; j++)
            m[i * ku + j] = edge_val(g, e, v, i, j);
    }
    for (int j = 0; j < ku; j++) {
        double best = INFINITY;
        for (int i = 0; i < kv; i++) {
            double t = c[i] + m[i * ku + j];
            if (t < best)
                best = t;
        }
        g->cost[u][j] += best;
    }
    edge_remove(g, e);
    node_remove(g, v);
    s->st.r1++;
    return 0;
}

/* Returns the new or grown edge between the two neighbours, -1 on allocation failure. */
static int reduce_r2(solver *s, wgraph *g, int v)
{
    int e1 = g->adj[v][0], e2 = g->adj[v][1];
    int u = other_end(g, e1, v), w = other_end(g, e2, v);
    int kv = g->k[v], ku = g->k[u], kw = g->k[w];
    double *c = rec_push(s, REC_R2, g->orig[v], kv, g->orig[u], ku, g->orig[w], kw, 0);
    double *dm = scratch(s, (size_t)ku * (size_t)kw);
    if (!c || !dm)
        return -1;
    double *mu = c + kv, *mw = mu + (size_t)kv * (size_t)ku;
    for (int i = 0; i < kv; i++) {
        c[i] = g->cost[v][i];
        for (int j = 0; j < ku; j++)
            mu[i * ku + j] = edge_val(g, e1, v, i, j);
        for (int j = 0; j < kw; j++)
            mw[i * kw + j] = edge_val(g, e2, v, i, j);
    }
    for (int j = 0; j < ku; j++)
        for (int l = 0; l < kw; l++) {
            double best = INFINITY;
            for (int i = 0; i < kv; i++) {
                double t = c[i] + mu[i * ku + j] + mw[i * kw + l];
                if (t < best)
                    best = t;
            }
            dm[j * kw + l] = best;
        }
    edge_remove(g, e1);
    edge_remove(g, e2);
    node_remove(g, v);
    s->st.r2++;
    return edge_add(g, u, w, dm);
}

/* Applies R0, R1 and R2 until every live node has degree >= 3. */
static int reduce(solver *s, wgraph *g)
{
    int top = 0;
    for (int v = 0; v < g->n; v++)
        enqueue(s, &top, g, v);
    while (top > 0) {
        int v = s->stack[--top];
        s->inq[v] = 0;
        if (!g->alive[v] || g->deg[v] > 2)
            continue;
        if (g->deg[v] == 0) {
            if (reduce_r0(s, g, v))
                return -1;
        } else if (g->deg[v] == 1) {
            int u = other_end(g, g->adj[v][0], v);
            if (reduce_r1(s, g, v))
                return -1;
            enqueue(s, &top, g, u);
        } else {
            int u = other_end(g, g->adj[v][0], v), w = other_end(g, g->adj[v][1], v);
            int e = reduce_r2(s, g, v);
            if (e < 0)
                return -1;
            edge_try_fold(s, g, e);
            enqueue(s, &top, g, u);
            enqueue(s, &top, g, w);
        }
    }
    return 0;
}

/* Drops choice i of v when another choice j costs no more at v and on every incident edge against
 * every choice of the neighbour: any solution using i is no worse with j. Exact ties keep the lower
 * index. Returns how many choices were dropped. */
static long long dominate(wgraph *g, int v)
{
    long long dropped = 0;
    double *c = g->cost[v];
    for (int i = 0; i < g->k[v]; i++) {
        if (isinf(c[i]))
            continue;
        for (int j = 0; j < g->k[v]; j++) {
            if (j == i || isinf(c[j]) || c[j] > c[i])
                continue;
            int strict = c[j] < c[i] || j < i, ok = 1;
            for (int t = 0; t < g->deg[v] && ok; t++) {
                int e = g->adj[v][t], u = other_end(g, e, v);
                for (int y = 0; y < g->k[u]; y++) {
                    if (isinf(g->cost[u][y]))
                        continue;
                    double vj = edge_val(g, e, v, j, y), vi = edge_val(g, e, v, i, y);
                    if (vj > vi) {
                        ok = 0;
                        break;
                    }
                    if (vj < vi)
                        strict = 1;
                }
            }
            if (ok && strict) {
                c[i] = INFINITY;
                dropped++;
                break;
            }
        }
    }
    return dropped;
}

static int fold_all(solver *s, wgraph *g)
{
    int folded = 0;
    for (int v = 0; v < g->n; v++)
        for (int t = g->deg[v] - 1; t >= 0; t--) {
            int e = g->adj[v][t];
            if (g->e[e].a == v && t < g->deg[v])
                folded += edge_try_fold(s, g, e);
        }
    return folded;
}

/* Lower bound on the best completion. Each edge is charged to its first endpoint, and each node
 * shares its cost equally between itself and the edges charged to its neighbours, so the sum over
 * nodes of "cheapest own share plus cheapest row of every charged edge" cannot exceed any
 * assignment's cost, and it sees the second endpoint's cost, which a plain sum of minima ignores. */
static double lower_bound(const wgraph *g, int *shares)
{
    for (int v = 0; v < g->n; v++)
        shares[v] = 1;
    for (int v = 0; v < g->n; v++)
        if (g->alive[v])
            for (int q = 0; q < g->deg[v]; q++)
                if (g->e[g->adj[v][q]].b == v)
                    shares[v]++;
    double lb = g->offset;
    for (int v = 0; v < g->n; v++) {
        if (!g->alive[v])
            continue;
        double best = INFINITY;
        for (int i = 0; i < g->k[v]; i++) {
            double t = g->cost[v][i] / shares[v];
            for (int q = 0; q < g->deg[v] && !isinf(t); q++) {
                int e = g->adj[v][q];
                if (g->e[e].a != v)
                    continue;
                int u = g->e[e].b;
                double mn = INFINITY;
                for (int y = 0; y < g->k[u]; y++) {
                    double x = edge_val(g, e, v, i, y) + g->cost[u][y] / shares[u];
                    if (x < mn)
                        mn = x;
                }
                t += mn;
            }
            if (t < best)
                best = t;
        }
        lb += best;
    }
    return lb;
}

/* Reduces g as far as it goes, dropping dominated choices and folding separable edges between
 * rounds. Dominance runs before the first reduction only at the root: a subproblem differs from its
 * parent, already checked, by one fixed node. Returns 1 if g became infeasible, 0 otherwise, -1 on
 * allocation failure. */
static int simplify(solver *s, wgraph *g, int root)
{
    fold_all(s, g);
    for (int round = 0;; round++) {
        long long dropped = 0;
        if (!s->opt.no_dominance && (round > 0 || root)) {
            for (int v = 0; v < g->n; v++)
                if (g->alive[v])
                    dropped += dominate(g, v);
            s->st.dominated += dropped;
            if (dropped)
                fold_all(s, g);
        }
        if (round > 0 && !dropped)
            return 0; /* the last reduce left nothing for dominance to change */
        if (reduce(s, g))
            return -1;
        if (isinf(g->offset))
            return 1;
        for (int v = 0; v < g->n; v++)
            if (g->alive[v] && node_dead(g, v))
                return 1;
        if (g->n_live == 0 || s->opt.no_dominance)
            return 0;
    }
}

/* The subproblem with node v fixed to choice i: v's edges move into its neighbours' costs and the
 * live nodes are renumbered densely. */
static wgraph *fix_copy(const wgraph *g, int v, int i)
{
    int *map = malloc((size_t)g->n * sizeof *map);
    if (!map)
        return NULL;
    int n = 0;
    for (int u = 0; u < g->n; u++)
        map[u] = g->alive[u] && u != v ? n++ : -1;
    wgraph *c = wgraph_new(n);
    if (!c) {
        free(map);
        return NULL;
    }
    c->n_live = n;
    c->offset = g->offset + g->cost[v][i];
    for (int u = 0; u < g->n; u++) {
        int x = map[u];
        if (x < 0)
            continue;
        c->orig[x] = g->orig[u];
        c->k[x] = g->k[u];
        c->alive[x] = 1;
        c->cost[x] = malloc((size_t)g->k[u] * sizeof(double));
        if (!c->cost[x])
            goto fail;
        memcpy(c->cost[x], g->cost[u], (size_t)g->k[u] * sizeof(double));
    }
    for (int t = 0; t < g->deg[v]; t++) {
        int e = g->adj[v][t], u = other_end(g, e, v);
        for (int y = 0; y < g->k[u]; y++)
            c->cost[map[u]][y] += edge_val(g, e, v, i, y);
    }
    for (int u = 0; u < g->n; u++) {
        if (map[u] < 0)
            continue;
        for (int t = 0; t < g->deg[u]; t++) {
            int e = g->adj[u][t];
            if (g->e[e].a != u || map[g->e[e].b] < 0)
                continue;
            if (edge_add(c, map[u], map[g->e[e].b], g->e[e].m) < 0)
                goto fail;
        }
    }
    free(map);
    return c;
fail:
    free(map);
    wgraph_free(c);
    return NULL;
}

static int limit_reached(solver *s)
{
    if (s->opt.branch_limit > 0 && s->st.branches >= s->opt.branch_limit) {
        s->st.stopped_by = FT_SOLVE_STOP_BRANCHES;
        return 1;
    }
    if (s->opt.time_limit_s > 0 && now_s() - s->t0 >= s->opt.time_limit_s) {
        s->st.stopped_by = FT_SOLVE_STOP_TIME;
        return 1;
    }
    return 0;
}

static int prune_at(const solver *s, double lb)
{
    return s->have_best && lb >= s->best_cost - REL_EPS * fabs(s->best_cost);
}

/* The choices of branch node v, most promising first (own cost plus cheapest reply of each neighbour),
 * impossible ones left out. Returns how many were written to order. */
static int branch_order(const wgraph *g, int v, int *order, double *key)
{
    int n = 0;
    for (int i = 0; i < g->k[v]; i++) {
        double t = g->cost[v][i];
        for (int q = 0; q < g->deg[v] && !isinf(t); q++) {
            int e = g->adj[v][q], u = other_end(g, e, v);
            double mn = INFINITY;
            for (int y = 0; y < g->k[u]; y++) {
                double x = g->cost[u][y] + edge_val(g, e, v, i, y);
                if (x < mn)
                    mn = x;
            }
            t += mn;
        }
        if (isinf(t))
            continue;
        int at = n++;
        while (at > 0 && key[at - 1] > t) {
            key[at] = key[at - 1];
            order[at] = order[at - 1];
            at--;
        }
        key[at] = t;
        order[at] = i;
    }
    return n;
}

/* Depth-first branch and bound on g (owned by the caller). */
static void search(solver *s, wgraph *g, int depth)
{
    if (depth > s->st.max_depth)
        s->st.max_depth = depth;
    int rc = simplify(s, g, depth == 0);
    if (rc < 0) {
        s->nomem = 1;
        return;
    }
    if (rc > 0)
        return;
    if (g->n_live == 0) {
        if (!prune_at(s, g->offset)) {
            backtrack_assignment(s);
            memcpy(s->best, s->cur, (size_t)s->p->n_nodes * sizeof *s->best);
            s->best_cost = g->offset;
            s->have_best = 1;
        }
        return;
    }
    double lb = lower_bound(g, s->stack); /* the reduce worklist is free between reductions */
    if (depth == 0)
        s->st.lower_bound = lb;
    if (prune_at(s, lb)) {
        s->st.pruned++;
        return;
    }
    /* Branch where fixing a choice removes the most edges; fewer choices break ties. */
    int v = -1;
    for (int u = 0; u < g->n; u++)
        if (g->alive[u] && (v < 0 || g->deg[u] > g->deg[v] || (g->deg[u] == g->deg[v] && g->k[u] < g->k[v])))
            v = u;
    int *order = malloc((size_t)g->k[v] * sizeof *order);
    double *key = malloc((size_t)g->k[v] * sizeof *key);
    if (!order || !key) {
        free(order);
        free(key);
        s->nomem = 1;
        return;
    }
    int n = branch_order(g, v, order, key);
    for (int t = 0; t < n && !s->stopped && !s->nomem; t++) {
        if (limit_reached(s)) {
            s->stopped = 1;
            break;
        }
        wgraph *c = fix_copy(g, v, order[t]);
        size_t mr = s->nr, md = s->nd;
        if (!c || !rec_push(s, REC_FIX, g->orig[v], 0, 0, 0, 0, 0, order[t])) {
            wgraph_free(c);
            s->nomem = 1;
            break;
        }
        s->st.branches++;
        search(s, c, depth + 1);
        s->nr = mr;
        s->nd = md;
        wgraph_free(c);
    }
    free(order);
    free(key);
}

static wgraph *build_root(const ft_solve_problem *p)
{
    wgraph *g = wgraph_new(p->n_nodes);
    if (!g)
        return NULL;
    g->n_live = p->n_nodes;
    for (int v = 0; v < p->n_nodes; v++) {
        g->orig[v] = v;
        g->k[v] = p->n_choices[v];
        g->alive[v] = 1;
        g->cost[v] = malloc((size_t)p->n_choices[v] * sizeof(double));
        if (!g->cost[v]) {
            wgraph_free(g);
            return NULL;
        }
        memcpy(g->cost[v], p->cost[v], (size_t)p->n_choices[v] * sizeof(double));
    }
    for (int e = 0; e < p->n_edges; e++)
        if (edge_add(g, p->edge_a[e], p->edge_b[e], p->edge_cost[e]) < 0) {
            wgraph_free(g);
            return NULL;
        }
    return g;
}

int ft_solve_exact(const ft_solve_problem *p, const ft_solve_options *options, int *choice, double *total,
                   ft_solve_stats *stats, ft_error *err)
{
    int rc = check_problem(p, err);
    if (rc)
        return rc;
    solver s;
    memset(&s, 0, sizeof s);
    s.p = p;
    if (options)
        s.opt = *options;
    s.t0 = now_s();
    s.best_cost = INFINITY;
    size_t n = (size_t)p->n_nodes + 1;
    s.cur = calloc(n, sizeof *s.cur);
    s.best = calloc(n, sizeof *s.best);
    s.stack = malloc(n * sizeof *s.stack);
    s.inq = calloc(n, 1);
    unsigned char *known = malloc(n);
    incidence inc = {NULL, NULL};
    wgraph *g = NULL;
    int have_inc = 0;
    if (!s.cur || !s.best || !s.stack || !s.inq || !known)
        goto nomem;
    if (incidence_build(p, &inc))
        goto nomem;
    have_inc = 1;
    greedy_assign(p, &inc, s.best, known);
    local_improve(p, &inc, s.best, known);
    s.best_cost = evaluate(p, s.best);
    s.have_best = !isinf(s.best_cost);
    g = build_root(p);
    if (!g)
        goto nomem;
    s.st.lower_bound = -INFINITY;
    search(&s, g, 0);
    if (s.nomem)
        goto nomem;
    s.st.optimal = !s.stopped;
    if (s.st.optimal || s.st.lower_bound > s.best_cost)
        s.st.lower_bound = s.best_cost;
    s.st.elapsed_s = now_s() - s.t0;
    if (!s.have_best)
        rc = s.stopped ? ft_fail(err, FT_ERR_FAIL,
                                 "solver: the %s limit stopped the search before any finite assignment was found",
                                 s.st.stopped_by == FT_SOLVE_STOP_TIME ? "time" : "branch")
                       : ft_fail(err, FT_ERR_INPUT, "solver: every assignment of the %d nodes costs INFINITY",
                                 p->n_nodes);
    else {
        if (p->n_nodes > 0)
            memcpy(choice, s.best, (size_t)p->n_nodes * sizeof *choice);
        *total = evaluate(p, s.best);
    }
    if (stats)
        *stats = s.st;
    goto done;
nomem:
    rc = ft_fail(err, FT_ERR_NOMEM, "solver: out of memory solving %d nodes and %d edges", p->n_nodes, p->n_edges);
done:
    wgraph_free(g);
    if (have_inc)
        incidence_free(&inc);
    free(known);
    free(s.cur);
    free(s.best);
    free(s.stack);
    free(s.inq);
    free(s.r);
    free(s.d);
    free(s.tmp);
    return rc;
}
