/* executor.h - runs a prepared graph under a plan (plan.h): one arena allocation, constants used in
 * place, each node's chosen kernel; nothing is allocated inside a run. */
#ifndef FT_EXECUTOR_H
#define FT_EXECUTOR_H

#include "graph.h"
#include "plan.h"

typedef struct ft_session ft_session;

/* With the default plan (ft_plan_default). The graph must have been through ft_graph_prepare; it is
 * borrowed, not owned. */
int ft_session_create(const ft_graph *g, ft_session **out, ft_error *err);
/* With the caller's plan, borrowed: it must outlive the session. */
int ft_session_create_with_plan(const ft_graph *g, const ft_plan *p, ft_session **out, ft_error *err);

enum {
    /* Free each constant's bytes as soon as every kernel reading it has re-laid it out into its own
     * state (pre-packed weights), so the weights are not held twice. The graph then serves this
     * session only. */
    FT_SESSION_FREE_REPACKED = 1u << 0
};
int ft_session_create_ex(ft_graph *g, const ft_plan *p, unsigned flags, ft_session **out, ft_error *err);
/* Bytes of constants freed by FT_SESSION_FREE_REPACKED. */
size_t ft_session_freed_constant_bytes(const ft_session *s);
void ft_session_destroy(ft_session *s);
/* Copies input i's bytes (dtype and shape must match the graph input). */
int ft_session_set_input(ft_session *s, int i, const ft_tensor *value, ft_error *err);
int ft_session_run(ft_session *s, ft_error *err);
/* Profiling: with node_seconds (the caller's array of one double per graph node), every later run
 * adds each node's wall time (CLOCK_MONOTONIC, two clock reads per node) to its entry; NULL stops. */
void ft_session_set_profile(ft_session *s, double *node_seconds);
/* The output tensor (dtype, shape, data) valid until the next run or destroy. Graph outputs are
 * always row-major. */
const ft_tensor *ft_session_output(const ft_session *s, int i);
/* Bytes allocated for activations (excluding constants). */
size_t ft_session_arena_bytes(const ft_session *s);

#endif
