/* memplan.h - the memory planner: arena offsets for tensors whose lifetimes are known.
 *
 * Each request is a block of bytes that must stay intact over a range of schedule steps. Two
 * requests may share bytes only when their lifetimes do not overlap. Views and in-place reuse are
 * resolved by the caller, who merges aliased tensors into one request spanning their joint lifetime.
 * Every offset and every size is rounded up to the alignment (64 bytes for the runtime).
 */
#ifndef FT_MEMPLAN_H
#define FT_MEMPLAN_H

#include "ft_common.h"

typedef struct ft_mem_request {
    size_t size;     /* bytes */
    int first, last; /* schedule steps during which it must stay intact, inclusive (first <= last) */
} ft_mem_request;

enum {
    /* No reuse: offsets are cumulative in request order (the "default plan without memory reuse"). */
    FT_MEMPLAN_NAIVE = 0,
    /* TFLite's greedy by size: largest first, each into the smallest sufficient gap among the placed
     * requests alive at the same time (the gap at offset 0 included), else above them. */
    FT_MEMPLAN_GREEDY_BY_SIZE = 1,
    /* TFLite's greedy by breadth: steps by how many bytes are alive there, largest first; at each,
     * its unplaced requests largest first, placed as above. */
    FT_MEMPLAN_GREEDY_BY_BREADTH = 2,
    /* The smallest arena of every heuristic above plus more orders (by lifetime length, by
     * size x lifetime) and a seeded search over perturbed orders; stops early at the lower bound. */
    FT_MEMPLAN_BEST = 3
};
#define FT_MEMPLAN_COUNT 4

/* Fills offsets[n] and *arena_bytes. alignment must be a power of two (0 means 64). Fails with
 * FT_ERR_INPUT naming the request whose lifetime is reversed or whose size overflows. */
int ft_memplan(const ft_mem_request *req, int n, int algorithm, size_t alignment, size_t *offsets,
               size_t *arena_bytes, ft_error *err);

/* The maximum over steps of the aligned bytes alive at that step: no plan can use less. */
int ft_memplan_lower_bound(const ft_mem_request *req, int n, size_t alignment, size_t *bound, ft_error *err);

/* Checks a plan: every offset aligned, every request inside the arena, and no two requests alive at
 * a common step sharing a byte (sizes rounded up to the alignment). Returns FT_ERR_FAIL naming the
 * first offending request or pair, FT_ERR_INPUT for malformed requests. */
int ft_memplan_validate(const ft_mem_request *req, int n, size_t alignment, const size_t *offsets,
                        size_t arena_bytes, ft_error *err);

/* "naive", "greedy-by-size", "greedy-by-breadth", "best"; NULL for an unknown algorithm. */
const char *ft_memplan_name(int algorithm);

#endif
