/* executor.h - runs a prepared graph with the default plan: row-major layouts, reference kernels,
 * one buffer per tensor (views alias their base, constants are used in place). */
#ifndef FT_EXECUTOR_H
#define FT_EXECUTOR_H

#include "graph.h"

typedef struct ft_session ft_session;

/* The graph must have been through ft_graph_prepare; it is borrowed, not owned. */
int ft_session_create(const ft_graph *g, ft_session **out, ft_error *err);
void ft_session_destroy(ft_session *s);
/* Copies input i's bytes (dtype and shape must match the graph input). */
int ft_session_set_input(ft_session *s, int i, const ft_tensor *value, ft_error *err);
int ft_session_run(ft_session *s, ft_error *err);
/* The output tensor (dtype, shape, data) valid until the next run or destroy. */
const ft_tensor *ft_session_output(const ft_session *s, int i);
/* Bytes allocated for activations (excluding constants). */
size_t ft_session_arena_bytes(const ft_session *s);

#endif
