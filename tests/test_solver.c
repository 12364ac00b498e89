/* test_solver.c - the exact layout solver agrees with brute force, beats the greedy baseline on
 * branching graphs, solves BERT-sized problems fast, and stops at its limits with a valid answer. */
#include "testutil.h"
#include "solver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------
 * A problem owned by the test, built node by node and edge by edge.
 * ---------------------------------------------------------------------------------------------- */

typedef struct tprob {
    int n, ne, cap_n, cap_e;
    int *k;
    double **cost;
    int *out_layouts;   /* how many layouts node v's output tensor can take */
    double *conv;       /* cost of converting node v's output between two layouts */
    int *ea, *eb;
    double **ec;
    uint64_t rng;
} tprob;

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int below(uint64_t *s, int n)
{
    return (int)(next_u64(s) % (uint64_t)n);
}

static void tp_init(tprob *t, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->rng = seed * 0x2545f4914f6cdd1dULL + 1;
}

static int tp_node(tprob *t, int k, const double *cost)
{
    if (t->n == t->cap_n) {
        t->cap_n = t->cap_n ? 2 * t->cap_n : 64;
        t->k = realloc(t->k, (size_t)t->cap_n * sizeof *t->k);
        t->cost = realloc(t->cost, (size_t)t->cap_n * sizeof *t->cost);
        t->out_layouts = realloc(t->out_layouts, (size_t)t->cap_n * sizeof *t->out_layouts);
        t->conv = realloc(t->conv, (size_t)t->cap_n * sizeof *t->conv);
        assert_non_null(t->k);
        assert_non_null(t->cost);
        assert_non_null(t->out_layouts);
        assert_non_null(t->conv);
    }
    t->k[t->n] = k;
    t->cost[t->n] = malloc((size_t)k * sizeof(double));
    assert_non_null(t->cost[t->n]);
    memcpy(t->cost[t->n], cost, (size_t)k * sizeof(double));
    t->out_layouts[t->n] = 1;
    t->conv[t->n] = 0;
    return t->n++;
}

/* Adds edge a-b with the given matrix (k[a] x k[b]), copied. */
static void tp_edge(tprob *t, int a, int b, const double *m)
{
    if (t->ne == t->cap_e) {
        t->cap_e = t->cap_e ? 2 * t->cap_e : 64;
        t->ea = realloc(t->ea, (size_t)t->cap_e * sizeof *t->ea);
        t->eb = realloc(t->eb, (size_t)t->cap_e * sizeof *t->eb);
        t->ec = realloc(t->ec, (size_t)t->cap_e * sizeof *t->ec);
        assert_non_null(t->ea);
        assert_non_null(t->eb);
        assert_non_null(t->ec);
    }
    size_t sz = (size_t)t->k[a] * (size_t)t->k[b];
    t->ea[t->ne] = a;
    t->eb[t->ne] = b;
    t->ec[t->ne] = malloc(sz * sizeof(double));
    assert_non_null(t->ec[t->ne]);
    memcpy(t->ec[t->ne], m, sz * sizeof(double));
    t->ne++;
}

static ft_solve_problem tp_problem(const tprob *t)
{
    ft_solve_problem p = {t->n, t->k, (const double *const *)t->cost, t->ne, t->ea, t->eb,
                          (const double *const *)t->ec};
    return p;
}

static void tp_free(tprob *t)
{
    for (int v = 0; v < t->n; v++)
        free(t->cost[v]);
    for (int e = 0; e < t->ne; e++)
        free(t->ec[e]);
    free(t->k);
    free(t->cost);
    free(t->out_layouts);
    free(t->conv);
    free(t->ea);
    free(t->eb);
    free(t->ec);
}

static int close_enough(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (1 + fabs(a) + fabs(b));
}

/* Solves p exactly and by brute force; both must fail alike or agree on the optimum, and the
 * exact assignment must cost what it claims. Adds the exact solver's counters to sum if given. */
static void expect_exact_matches_brute_force(const ft_solve_problem *p, const ft_solve_options *opt, int seed,
                                             ft_solve_stats *sum)
{
    int x[64], y[64];
    double te = 0, tb = 0;
    ft_error e1, e2;
    ft_solve_stats st;
    int r1 = ft_solve_exact(p, opt, x, &te, &st, &e1);
    int r2 = ft_solve_brute_force(p, y, &tb, &e2);
    if (r1 != r2)
        fail_msg("seed %d: exact returned %d (%s), brute force %d (%s)", seed, r1, r1 ? e1.msg : "",
                 r2, r2 ? e2.msg : "");
    if (r1 != FT_OK) {
        assert_int_equal(r1, FT_ERR_INPUT);
        return;
    }
    if (sum) {
        sum->branches += st.branches;
        sum->dominated += st.dominated;
        sum->r2 += st.r2;
    }
    if (!close_enough(te, tb))
        fail_msg("seed %d: exact total %.17g, brute force %.17g (%d nodes, %d edges, %lld branches)", seed, te, tb,
                 p->n_nodes, p->n_edges, st.branches);
    double check;
    assert_int_equal(ft_solve_evaluate(p, x, &check, &e1), FT_OK);
    assert_true(close_enough(check, te));
    assert_int_equal(st.optimal, 1);
    assert_true(close_enough(st.lower_bound, te));
}

/* Random graph: 2-9 nodes, 1-4 choices, up to 2.5 edges per node with repeats and cycles, some
 * forbidden entries; integer costs for half the seeds so that ties (and exact dominance) are common. */
static void random_small_problem(tprob *t, int seed)
{
    tp_init(t, (uint64_t)seed);
    int n = 2 + below(&t->rng, 8), ints = seed % 2;
    double inf_rate = (seed % 5) * 0.05;
    for (int v = 0; v < n; v++) {
        int k = 1 + below(&t->rng, 4);
        double c[4];
        for (int i = 0; i < k; i++)
            c[i] = uniform(&t->rng) < inf_rate ? INFINITY : ints ? below(&t->rng, 4) : 10 * uniform(&t->rng);
        tp_node(t, k, c);
    }
    int ne = below(&t->rng, (5 * n) / 2 + 1);
    for (int e = 0; e < ne; e++) {
        int a = below(&t->rng, n), b = below(&t->rng, n - 1);
        if (b >= a)
            b++;
        double m[16];
        for (int i = 0; i < t->k[a] * t->k[b]; i++)
            m[i] = uniform(&t->rng) < inf_rate ? INFINITY : ints ? below(&t->rng, 3) : 5 * uniform(&t->rng);
        tp_edge(t, a, b, m);
    }
}

static void exact_equals_brute_force_on_random_small_graphs(void **state)
{
    (void)state;
    ft_solve_options no_dom = {0, 0, 1};
    ft_solve_stats sum, sum_no_dom;
    memset(&sum, 0, sizeof sum);
    memset(&sum_no_dom, 0, sizeof sum_no_dom);
    for (int seed = 0; seed < 600; seed++) {
        tprob t;
        random_small_problem(&t, seed);
        ft_solve_problem p = tp_problem(&t);
        expect_exact_matches_brute_force(&p, NULL, seed, &sum);
        expect_exact_matches_brute_force(&p, &no_dom, seed, &sum_no_dom);
        tp_free(&t);
    }
    /* The seeds exercise every path: R2, branching, and dominance (only when asked for). */
    assert_true(sum.r2 > 0);
    assert_true(sum.branches > 0);
    assert_true(sum.dominated > 0);
    assert_int_equal(sum_no_dom.dominated, 0);
    print_message("600 random graphs: %lld R2, %lld branches, %lld choices dominated (%lld branches without "
                  "dominance)\n", sum.r2, sum.branches, sum.dominated, sum_no_dom.branches);
}

/* 11-13 nodes with 4-6 neighbours each: little reduces, so branch and bound does the work. */
static void exact_equals_brute_force_on_dense_graphs_that_need_branching(void **state)
{
    (void)state;
    long long branches = 0;
    for (int seed = 0; seed < 12; seed++) {
        tprob t;
        tp_init(&t, 1000 + (uint64_t)seed);
        int n = 11 + seed % 3;
        for (int v = 0; v < n; v++) {
            double c[3];
            for (int i = 0; i < 3; i++)
                c[i] = 10 * uniform(&t.rng);
            tp_node(&t, 3, c);
        }
        for (int e = 0; e < 5 * n / 2; e++) {
            int a = below(&t.rng, n), b = below(&t.rng, n - 1);
            if (b >= a)
                b++;
            double m[9];
            for (int i = 0; i < 9; i++)
                m[i] = (i % 4 == 0) ? 0 : 6 * uniform(&t.rng);
            tp_edge(&t, a, b, m);
        }
        ft_solve_problem p = tp_problem(&t);
        ft_solve_stats st;
        int x[16];
        double tot;
        ft_error err;
        assert_int_equal(ft_solve_exact(&p, NULL, x, &tot, &st, &err), FT_OK);
        branches += st.branches;
        expect_exact_matches_brute_force(&p, NULL, 1000 + seed, NULL);
        tp_free(&t);
    }
    assert_true(branches > 0);
}

/* A --> B, A --> C, B --> D, C --> D with conversions priced 5 when layouts differ. A is a little
 * cheaper in layout 0 but D is much cheaper in layout 1: first come wins keeps A's layout 0 and pays
 * at D; the whole-graph optimum puts everything in layout 1. */
static void greedy_chain_first_come_loses_on_a_diamond(void **state)
{
    (void)state;
    tprob t;
    tp_init(&t, 1);
    const double ca[2] = {1, 2}, cb[2] = {1, 1}, cd[2] = {10, 1};
    const double conv[4] = {0, 5, 5, 0};
    int a = tp_node(&t, 2, ca), b = tp_node(&t, 2, cb), c = tp_node(&t, 2, cb), d = tp_node(&t, 2, cd);
    tp_edge(&t, a, b, conv);
    tp_edge(&t, a, c, conv);
    tp_edge(&t, b, d, conv);
    tp_edge(&t, c, d, conv);
    ft_solve_problem p = tp_problem(&t);
    int xg[4], xe[4];
    double tg, te;
    ft_error err;
    assert_int_equal(ft_solve_greedy_chain(&p, xg, &tg, &err), FT_OK);
    assert_int_equal(ft_solve_exact(&p, NULL, xe, &te, NULL, &err), FT_OK);
    assert_true(close_enough(tg, 13)); /* 1 + 1 + 1 + 10: all layout 0 */
    assert_true(close_enough(te, 5));  /* 2 + 1 + 1 + 1: all layout 1 */
    for (int v = 0; v < 4; v++) {
        assert_int_equal(xg[v], 0);
        assert_int_equal(xe[v], 1);
    }
    tp_free(&t);
}

/* Chains and trees reduce completely: no branching, every node removed by R0/R1/R2. */
static void trees_reduce_without_branching(void **state)
{
    (void)state;
    tprob t;
    tp_init(&t, 7);
    for (int v = 0; v < 40; v++) {
        double c[3] = {uniform(&t.rng), uniform(&t.rng), uniform(&t.rng)};
        tp_node(&t, 3, c);
        if (v > 0) {
            double m[9];
            for (int i = 0; i < 9; i++)
                m[i] = (i % 4 == 0) ? 0 : uniform(&t.rng);
            tp_edge(&t, below(&t.rng, v), v, m); /* a random tree */
        }
    }
    ft_solve_problem p = tp_problem(&t);
    int x[40];
    double tot, tg;
    ft_solve_stats st;
    ft_error err;
    assert_int_equal(ft_solve_exact(&p, NULL, x, &tot, &st, &err), FT_OK);
    assert_int_equal(st.branches, 0);
    assert_int_equal(st.optimal, 1);
    assert_true(st.r0 + st.r1 + st.r2 >= 1);
    assert_int_equal(ft_solve_greedy_chain(&p, x, &tg, &err), FT_OK);
    assert_true(tot <= tg + 1e-12);
    tp_free(&t);
}

/* ------------------------------------------------------------------------------------------------
 * BERT-like problems. Every node's choice fixes the layout it writes its output in (choice modulo
 * the tensor's layout count) and, per input, the layout it reads; an edge costs nothing when the
 * two agree and a transpose of the tensor otherwise.
 * ---------------------------------------------------------------------------------------------- */

static int bert_op(tprob *t, int k, int layouts, double time, double tensor)
{
    double c[8];
    for (int i = 0; i < k; i++)
        c[i] = time * (0.7 + 0.6 * uniform(&t->rng));
    int v = tp_node(t, k, c);
    t->out_layouts[v] = layouts < k ? layouts : k;
    t->conv[v] = tensor;
    return v;
}

/* Consumer b reads producer a's output. Shape-only readers (layout-blind) pass blind = 1. */
static void bert_read(tprob *t, int a, int b, int blind)
{
    int ka = t->k[a], kb = t->k[b], L = t->out_layouts[a], shift = below(&t->rng, 8);
    double m[64];
    for (int i = 0; i < ka; i++)
        for (int j = 0; j < kb; j++) {
            int wrote = i % L, reads = kb == 1 ? 0 : (j + shift) % L;
            m[i * kb + j] = blind || wrote == reads ? 0 : t->conv[a] * (0.8 + 0.4 * uniform(&t->rng));
        }
    tp_edge(t, a, b, m);
}

static int op1(tprob *t, int k, int L, double time, double tensor, int a)
{
    int v = bert_op(t, k, L, time, tensor);
    bert_read(t, a, v, 0);
    return v;
}

static int op2(tprob *t, int k, int L, double time, double tensor, int a, int b)
{
    int v = op1(t, k, L, time, tensor, a);
    bert_read(t, b, v, 0);
    return v;
}

/* Shape-only plumbing (Shape, Gather, Unsqueeze, Concat, Cast): one choice, layout-blind. */
static int plumb(tprob *t, int a, int b)
{
    int v = bert_op(t, 1, 1, 1e-7, 0);
    bert_read(t, a, v, 1);
    if (b >= 0)
        bert_read(t, b, v, 1);
    return v;
}

static int layernorm(tprob *t, int x)
{
    const double T = 2e-5, S = 4e-5;
    int m1 = op1(t, 2, 2, T, 1e-6, x);
    int d1 = op2(t, 3, 2, T, S, x, m1);
    int pw = op2(t, 2, 2, T, S, d1, d1); /* d1 * d1: two edges between the same pair */
    int m2 = op1(t, 2, 2, T, 1e-6, pw);
    int a2 = op1(t, 1, 1, 1e-6, 1e-6, m2);
    int sq = op1(t, 1, 1, 1e-6, 1e-6, a2);
    int dv = op2(t, 3, 2, T, S, d1, sq);
    int mu = op1(t, 2, 2, T, S, dv);
    return op1(t, 3, 2, T, S, mu);
}

/* BERT-base shaped, following what a PyTorch export contains: embeddings, an attention mask shared
 * by every layer, then per layer q/k/v projections fanning out of one input, bias adds, reshapes
 * whose targets come from Shape/Gather/Unsqueeze/Concat plumbing, head-split transposes, two batched
 * matmuls, scaling by a square root computed from a shape, mask add, softmax, output projection,
 * residual add, layer norm (decomposed), FFN with GELU (decomposed), residual add, layer norm.
 * Choice counts: matmuls 8, transposes 4, batched matmuls 6, elementwise 2-3, plumbing 1. With
 * full = 0, one compact layer with 2 choices everywhere, small enough for brute force. */
static int bert_like(tprob *t, int layers, int full)
{
    const double MM = 1e-3, BMM = 3e-4, EW = 3e-5, TR = 6e-5; /* times (s) */
    const double ACT = 8e-5, SC = 1.6e-4, FF = 3.2e-4;        /* transpose cost of each tensor (s) */
    int x;
    if (full) {
        int words = bert_op(t, 2, 2, EW, ACT), pos = bert_op(t, 2, 2, EW, ACT), type = bert_op(t, 2, 2, EW, ACT);
        x = layernorm(t, op2(t, 3, 2, EW, ACT, op2(t, 3, 2, EW, ACT, words, pos), type));
    } else {
        x = bert_op(t, 2, 2, EW, ACT);
    }
    int mask = bert_op(t, 2, 2, EW, 1e-6);
    if (full)
        mask = op1(t, 2, 2, EW, 1e-6, op1(t, 2, 2, EW, 1e-6, op1(t, 1, 1, EW, 1e-6, mask)));
    for (int l = 0; l < layers; l++) {
        int mk = full ? 8 : 2, tk = full ? 4 : 2, bk = full ? 6 : 2, ek = full ? 3 : 2;
        int h[3], batch = -1, seq = -1, scale = -1;
        if (full) {
            int shape = plumb(t, x, -1);
            batch = plumb(t, plumb(t, shape, -1), -1);
            seq = plumb(t, plumb(t, shape, -1), -1);
        }
        for (int q = 0; q < 3; q++) {
            int r = op1(t, mk, 2, MM, ACT, x);
            if (full) {
                int b = op1(t, ek, 2, EW, ACT, r);
                int target = plumb(t, plumb(t, plumb(t, plumb(t, b, -1), -1), -1), batch);
                target = plumb(t, target, seq);
                r = op2(t, 1, 1, 1e-7, ACT, b, target); /* Reshape: one (row-major) choice */
                if (q == 1)
                    scale = plumb(t, plumb(t, plumb(t, r, -1), -1), -1);
            }
            h[q] = op1(t, tk, 2, TR, ACT, r);
        }
        int s = op2(t, bk, 2, BMM, SC, h[0], h[1]);
        if (full)
            s = op2(t, ek, 2, EW, SC, s, scale);
        int sm = op2(t, ek, 2, EW, SC, s, mask);
        int p = op1(t, ek, 2, 2 * EW, SC, sm);
        int c = op2(t, bk, 2, BMM, ACT, p, h[2]);
        int ct = op1(t, tk, 2, TR, ACT, c);
        if (full) {
            int target = plumb(t, batch, plumb(t, plumb(t, plumb(t, ct, -1), -1), -1));
            ct = op2(t, 1, 1, 1e-7, ACT, ct, target);
        }
        int o = op1(t, mk, 2, MM, ACT, ct);
        if (full)
            o = op1(t, ek, 2, EW, ACT, o);
        int r1 = op2(t, ek, 2, EW, ACT, o, x);
        int ln1 = full ? layernorm(t, r1) : op1(t, ek, 2, EW, ACT, r1);
        int f1 = op1(t, mk, 2, 4 * MM, FF, ln1);
        int gelu;
        if (full) {
            int f1b = op1(t, ek, 2, EW, FF, f1);
            int g1 = op1(t, ek, 2, EW, FF, f1b), g2 = op1(t, ek, 2, EW, FF, g1), g3 = op1(t, ek, 2, EW, FF, g2);
            gelu = op1(t, ek, 2, EW, FF, op2(t, ek, 2, EW, FF, f1b, g3));
        } else {
            gelu = op1(t, ek, 2, EW, FF, f1);
        }
        int f2 = op1(t, mk, 2, 4 * MM, ACT, gelu);
        if (full)
            f2 = op1(t, ek, 2, EW, ACT, f2);
        int r2 = op2(t, ek, 2, EW, ACT, f2, ln1);
        x = full ? layernorm(t, r2) : op1(t, ek, 2, EW, ACT, r2);
    }
    return x;
}

static void bert_sized_problem_solves_exactly_under_a_second(void **state)
{
    (void)state;
    for (int seed = 1; seed <= 3; seed++) {
        tprob t;
        tp_init(&t, (uint64_t)seed);
        bert_like(&t, 12, 1);
        ft_solve_problem p = tp_problem(&t);
        assert_true(p.n_nodes >= 900);
        assert_true(p.n_edges >= 1200);
        long long sum_k = 0;
        for (int v = 0; v < p.n_nodes; v++)
            sum_k += p.n_choices[v];
        int *x = malloc((size_t)p.n_nodes * sizeof *x), *xg = malloc((size_t)p.n_nodes * sizeof *xg);
        assert_non_null(x);
        assert_non_null(xg);
        double te, tg;
        ft_solve_stats st;
        ft_error err;
        assert_int_equal(ft_solve_exact(&p, NULL, x, &te, &st, &err), FT_OK);
        assert_int_equal(ft_solve_greedy_chain(&p, xg, &tg, &err), FT_OK);
        assert_int_equal(st.optimal, 1);
        assert_true(st.elapsed_s < 1.0);
        assert_true(te <= tg + 1e-12);
        print_message("bert-like seed %d: %d nodes, %d edges, %.2f choices/node: exact %.6f s in %.2f ms "
                      "(R0 %lld R1 %lld R2 %lld, %lld branches, %lld dominated, %lld edges folded), greedy %.6f s "
                      "(exact saves %.2f%%)\n",
                      seed, p.n_nodes, p.n_edges, (double)sum_k / p.n_nodes, te, 1e3 * st.elapsed_s, st.r0, st.r1,
                      st.r2, st.branches, st.dominated, st.edges_folded, tg, 100 * (tg - te) / tg);
        free(x);
        free(xg);
        tp_free(&t);
    }
}

/* One compact layer (16 nodes, 2-3 choices) is small enough for the oracle. */
static void attention_layer_matches_brute_force(void **state)
{
    (void)state;
    for (int seed = 0; seed < 8; seed++) {
        tprob t;
        tp_init(&t, 500 + (uint64_t)seed);
        bert_like(&t, 1, 0);
        ft_solve_problem p = tp_problem(&t);
        expect_exact_matches_brute_force(&p, NULL, 500 + seed, NULL);
        tp_free(&t);
    }
}

/* A large dense random problem cannot be finished in 20 branches: the solver says so and still
 * returns a valid assignment no worse than the greedy baseline. */
static void branch_limit_returns_best_found_and_says_so(void **state)
{
    (void)state;
    tprob t;
    tp_init(&t, 99);
    int n = 60;
    for (int v = 0; v < n; v++) {
        double c[4];
        for (int i = 0; i < 4; i++)
            c[i] = 10 * uniform(&t.rng);
        tp_node(&t, 4, c);
    }
    for (int e = 0; e < 4 * n; e++) {
        int a = below(&t.rng, n), b = below(&t.rng, n - 1);
        if (b >= a)
            b++;
        double m[16];
        for (int i = 0; i < 16; i++)
            m[i] = 8 * uniform(&t.rng);
        tp_edge(&t, a, b, m);
    }
    ft_solve_problem p = tp_problem(&t);
    ft_solve_options opt = {0, 20, 0};
    int x[60], xg[60];
    double te, tg, check;
    ft_solve_stats st;
    ft_error err;
    assert_int_equal(ft_solve_exact(&p, &opt, x, &te, &st, &err), FT_OK);
    assert_int_equal(st.optimal, 0);
    assert_int_equal(st.stopped_by, FT_SOLVE_STOP_BRANCHES);
    assert_int_equal(st.branches, 20);
    assert_true(st.lower_bound <= te);
    assert_int_equal(ft_solve_evaluate(&p, x, &check, &err), FT_OK);
    assert_true(close_enough(check, te));
    assert_int_equal(ft_solve_greedy_chain(&p, xg, &tg, &err), FT_OK);
    assert_true(te <= tg + 1e-12);

    ft_solve_options quick = {1e-9, 0, 0};
    assert_int_equal(ft_solve_exact(&p, &quick, x, &te, &st, &err), FT_OK);
    assert_int_equal(st.optimal, 0);
    assert_int_equal(st.stopped_by, FT_SOLVE_STOP_TIME);
    tp_free(&t);
}

static void malformed_and_infeasible_problems_are_refused(void **state)
{
    (void)state;
    tprob t;
    tp_init(&t, 3);
    const double c2[2] = {1, 2}, conv[4] = {0, 1, 1, 0};
    tp_node(&t, 2, c2);
    tp_node(&t, 2, c2);
    tp_edge(&t, 0, 1, conv);
    ft_solve_problem p = tp_problem(&t);
    int x[2];
    double tot;
    ft_error err;
    assert_int_equal(ft_solve_exact(&p, NULL, x, &tot, NULL, &err), FT_OK);

    t.cost[0][1] = NAN;
    assert_int_equal(ft_solve_exact(&p, NULL, x, &tot, NULL, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "node 0 choice 1"));
    t.cost[0][1] = -INFINITY;
    assert_int_equal(ft_solve_brute_force(&p, x, &tot, &err), FT_ERR_INPUT);
    t.cost[0][1] = 2;

    t.eb[0] = 0;
    assert_int_equal(ft_solve_exact(&p, NULL, x, &tot, NULL, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "self-loop"));
    t.eb[0] = 2;
    assert_int_equal(ft_solve_greedy_chain(&p, x, &tot, &err), FT_ERR_INPUT);
    t.eb[0] = 1;

    t.k[1] = 0;
    assert_int_equal(ft_solve_exact(&p, NULL, x, &tot, NULL, &err), FT_ERR_INPUT);
    t.k[1] = 2;

    /* Every pairing forbidden: no finite assignment exists. */
    for (int i = 0; i < 4; i++)
        t.ec[0][i] = INFINITY;
    assert_int_equal(ft_solve_exact(&p, NULL, x, &tot, NULL, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "INFINITY"));
    assert_int_equal(ft_solve_brute_force(&p, x, &tot, &err), FT_ERR_INPUT);
    assert_int_equal(ft_solve_greedy_chain(&p, x, &tot, &err), FT_OK);
    assert_true(isinf(tot));
    tp_free(&t);

    /* 4^12 = 16.7M assignments: the oracle refuses, the exact solver does not care. */
    tp_init(&t, 4);
    const double c4[4] = {1, 2, 3, 4};
    for (int v = 0; v < 12; v++)
        tp_node(&t, 4, c4);
    p = tp_problem(&t);
    int y[12];
    assert_int_equal(ft_solve_brute_force(&p, y, &tot, &err), FT_ERR_UNSUPPORTED);
    assert_int_equal(ft_solve_exact(&p, NULL, y, &tot, NULL, &err), FT_OK);
    assert_true(close_enough(tot, 12));
    tp_free(&t);
}

static void empty_problem_costs_nothing(void **state)
{
    (void)state;
    ft_solve_problem p = {0, NULL, NULL, 0, NULL, NULL, NULL};
    double tot = -1;
    ft_solve_stats st;
    ft_error err;
    assert_int_equal(ft_solve_exact(&p, NULL, NULL, &tot, &st, &err), FT_OK);
    assert_true(tot == 0);
    assert_int_equal(st.optimal, 1);
    tot = -1;
    assert_int_equal(ft_solve_brute_force(&p, NULL, &tot, &err), FT_OK);
    assert_true(tot == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_equals_brute_force_on_random_small_graphs),
        cmocka_unit_test(exact_equals_brute_force_on_dense_graphs_that_need_branching),
        cmocka_unit_test(greedy_chain_first_come_loses_on_a_diamond),
        cmocka_unit_test(trees_reduce_without_branching),
        cmocka_unit_test(bert_sized_problem_solves_exactly_under_a_second),
        cmocka_unit_test(attention_layer_matches_brute_force),
        cmocka_unit_test(branch_limit_returns_best_found_and_says_so),
        cmocka_unit_test(malformed_and_infeasible_problems_are_refused),
        cmocka_unit_test(empty_problem_costs_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
