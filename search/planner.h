/* planner.h - from a prepared graph and measured costs to a complete plan: the whole-graph layout
 * and kernel choice (solver.h, exact), the layout conversions it implies, and the memory plan
 * (memplan.h). Costs come through a callback, so nothing here knows SQLite. */
#ifndef FT_PLANNER_H
#define FT_PLANNER_H

#include "plan.h"
#include "solver.h"

/* Seconds one call of candidate key takes for the op signature text, or NAN when never measured. */
typedef double (*ft_cost_fn)(void *ctx, const char *signature, const char *key);

#define FT_PLANNER_MAX_WARN 16

typedef struct ft_planner_report {
    double predicted_s;         /* the chosen plan: node times + conversion times */
    double default_predicted_s; /* the default plan under the same measurements */
    double greedy_predicted_s;  /* FluidML-style first-come-wins choice, for comparison */
    int n_nodes, n_choices_total, n_conversions;
    int n_unmeasured;           /* nodes with no measured candidate (default kernel kept) */
    char unmeasured[FT_PLANNER_MAX_WARN][160]; /* "name (op)" of the first few */
    ft_solve_stats stats;
} ft_planner_report;

/* Solves the layout and kernel choice for g, inserts the Reorder nodes it needs into g (which must be
 * prepared), and returns the plan with offsets without reuse (call ft_planner_memory next). */
int ft_planner_solve(ft_graph *g, ft_cost_fn cost, void *ctx, ft_plan **out, ft_planner_report *rep, ft_error *err);

/* The predicted time of node i of g under plan p (NAN when unmeasured). */
double ft_planner_node_cost(const ft_graph *g, const ft_plan *p, int i, ft_cost_fn cost, void *ctx);

typedef struct ft_memory_report {
    size_t arena_bytes, lower_bound_bytes, no_reuse_bytes;
    int algorithm; /* the memplan algorithm that won */
} ft_memory_report;

/* Lifetimes over p's schedule (views and relabelled transposes share their base's bytes and extend
 * its lifetime); unless the algorithm is FT_MEMPLAN_NAIVE, elementwise nodes write in place into a
 * first input that dies there (same bytes and layout); then offsets with the given algorithm
 * (FT_MEMPLAN_BEST tries them all), validated against overlap. */
int ft_planner_memory(const ft_graph *g, ft_plan *p, int algorithm, ft_memory_report *rep, ft_error *err);

#endif
