/* plan.h - an execution plan for a prepared graph: one candidate per node, a layout and an arena
 * offset per tensor. The default plan needs no database; tuned plans come from the solver and are
 * stored in plan files (search/planfile.h). */
#ifndef FT_PLAN_H
#define FT_PLAN_H

#include "registry.h"

#define FT_NO_OFFSET ((size_t)-1)

typedef struct ft_plan {
    int n_nodes;
    ft_candidate *cand; /* per graph node, in graph order */
    int n_tensors;
    ft_layout *layout;  /* per tensor: how its bytes are ordered */
    int *alias_of;      /* per tensor: the tensor whose bytes it shares (views), or -1 */
    size_t *offset;     /* per tensor: arena offset, FT_NO_OFFSET for constants, views and unused */
    size_t arena_bytes;
} ft_plan;

typedef enum ft_memory_mode {
    FT_MEMORY_NO_REUSE = 0, /* every activation its own slot: the untuned baseline */
    FT_MEMORY_PLANNED = 1   /* offsets from a memory planner (ft_plan_assign_offsets' caller) */
} ft_memory_mode;

ft_plan *ft_plan_create(int n_nodes, int n_tensors);
void ft_plan_destroy(ft_plan *p);

/* The default plan: row-major layouts everywhere, each node's default candidate (its fastest
 * family at default knobs; the reference kernel where none applies), views aliasing their base,
 * and offsets without reuse. */
int ft_plan_default(const ft_graph *g, ft_plan **out, ft_error *err);

/* Per tensor, the index of the tensor whose bytes it really lives in (following views), or -1 for
 * constants and tensors that need no bytes. Sizes in bytes of those roots. */
int ft_plan_root(const ft_plan *p, int t);

/* Assigns offsets without reuse (cumulative, 64-byte aligned) to every root activation. */
void ft_plan_offsets_no_reuse(const ft_graph *g, ft_plan *p);

#endif
