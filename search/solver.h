/* solver.h - the whole-graph layout solver: one choice per node minimising node plus conversion costs.
 *
 * The problem is a PBQP (partitioned boolean quadratic problem). Nodes are graph operators and their
 * choices the candidates (layouts and tilings) measured for them; edges join a tensor's producer to
 * each of its consumers and price the conversion between the layout one writes and the layout the
 * other reads. ft_solve_exact is exact: the optimal PBQP reductions (degree 0, 1 and 2) and, on what
 * they leave, branch and bound. ft_solve_brute_force is its oracle on small problems and
 * ft_solve_greedy_chain the FluidML-style baseline (first come wins) it is compared against.
 */
#ifndef FT_SOLVER_H
#define FT_SOLVER_H

#include "ft_common.h"

typedef struct ft_solve_problem {
    int n_nodes;
    const int *n_choices;      /* per node, >= 1 */
    const double *const *cost; /* cost[v][i]: node v's time with choice i (INFINITY = forbidden) */
    int n_edges;
    const int *edge_a, *edge_b; /* edge e joins nodes edge_a[e] and edge_b[e] (a != b); repeats add up */
    /* edge_cost[e][i * n_choices[b] + j]: conversion cost when a picks i and b picks j (0 when the
     * layouts agree, INFINITY when the pair is impossible). */
    const double *const *edge_cost;
} ft_solve_problem;

typedef struct ft_solve_options {
    double time_limit_s;    /* stop branching after this long and return the best found (<= 0: none) */
    long long branch_limit; /* stop after opening this many branches (<= 0: none) */
    int no_dominance;       /* 1: keep dominated choices (to measure what that pruning buys) */
} ft_solve_options;

enum { FT_SOLVE_STOP_NONE = 0, FT_SOLVE_STOP_TIME = 1, FT_SOLVE_STOP_BRANCHES = 2 };

typedef struct ft_solve_stats {
    long long r0, r1, r2;   /* reductions applied, summed over every branch */
    long long branches;     /* subproblems opened by fixing one node's choice */
    long long pruned;       /* subproblems cut because their lower bound reached the best found */
    long long dominated;    /* choices dropped because another was no worse everywhere */
    long long edges_folded; /* edges that split into per-node costs and were removed */
    int max_depth;          /* deepest branching */
    double elapsed_s;
    double lower_bound; /* proven lower bound on the optimum; equals total when optimal */
    int optimal;        /* 1: total is proven minimal; 0: a limit stopped the search (see stopped_by) */
    int stopped_by;     /* FT_SOLVE_STOP_* */
} ft_solve_stats;

/* Minimum of node costs plus edge costs. choice (n_nodes ints) receives the assignment and total its
 * cost, re-evaluated on the original problem. options and stats may be NULL. When a limit stops the
 * search the best assignment found is returned with FT_OK and stats->optimal = 0. Fails with
 * FT_ERR_INPUT on a malformed problem (NaN or -INFINITY costs, bad edges) or when every assignment
 * costs INFINITY, FT_ERR_FAIL when a limit stopped the search before any finite assignment was found. */
int ft_solve_exact(const ft_solve_problem *p, const ft_solve_options *options, int *choice, double *total,
                   ft_solve_stats *stats, ft_error *err);

#define FT_SOLVE_BRUTE_FORCE_MAX 10000000.0

/* Tries every assignment (the oracle); refuses with FT_ERR_UNSUPPORTED when there are more than
 * FT_SOLVE_BRUTE_FORCE_MAX. Ties go to the lexicographically first assignment. */
int ft_solve_brute_force(const ft_solve_problem *p, int *choice, double *total, ft_error *err);

/* The FluidML-style baseline: nodes in index order, each takes its cheapest choice given the
 * choices already made by lower-indexed neighbours (later neighbours are ignored: first come wins).
 * Never fails on a valid problem; total is INFINITY when it walks into a forbidden combination. */
int ft_solve_greedy_chain(const ft_solve_problem *p, int *choice, double *total, ft_error *err);

/* Cost of an assignment: FT_ERR_INPUT if a choice is out of range. */
int ft_solve_evaluate(const ft_solve_problem *p, const int *choice, double *total, ft_error *err);

#endif
