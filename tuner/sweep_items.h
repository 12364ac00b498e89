/* sweep_items.h - the work list of a sweep: one item per (op signature, candidate), conversions
 * included, in a deterministic order that --shard slices and a resumed sweep filters. */
#ifndef FT_SWEEP_ITEMS_H
#define FT_SWEEP_ITEMS_H

#include "db.h"
#include "registry.h"

typedef struct ft_sweep_item {
    int sig;                /* index into the signature arrays */
    const ft_graph *graph;  /* the model, or the conversion graph */
    int node;               /* a representative node of the signature */
    ft_candidate cand;
} ft_sweep_item;

typedef struct ft_sweep_items {
    int n, cap;
    ft_sweep_item *items;
    int n_signatures;
    char **sig_text;  /* canonical signature text */
    char **sig_op;    /* op type */
    int64_t *sig_ids; /* database ids, set by ft_sweep_items_drop_measured */
    ft_graph *conv;   /* the conversion graph (owned) */
    int *conv_owner;
} ft_sweep_items;

/* Every candidate of every unique signature of g (views excluded: they cost nothing) and of the
 * conversions between its layout hints; ops (comma-separated op types, NULL = all) filters. Items are
 * sorted by signature text, then key. */
int ft_sweep_items_build(const ft_graph *g, const char *ops, ft_sweep_items *items, ft_error *err);
/* Keeps the items whose index is K-1 modulo N (1 <= K <= N). */
void ft_sweep_items_shard(ft_sweep_items *items, int k, int n);
/* Stores the signatures (setting sig_ids) and drops items already measured on machine+build. */
int ft_sweep_items_drop_measured(ft_sweep_items *items, ft_db *db, int64_t machine_id, int64_t build_id,
                                 ft_error *err);
/* {"family":...,"params":[...],"in":["0123",...],"out":"0213"} */
void ft_sweep_candidate_json(const ft_candidate *c, char *buf, size_t n);
void ft_sweep_items_free(ft_sweep_items *items);

#endif
