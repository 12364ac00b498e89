/* memplan.c - arena offsets from lifetimes (greedy heuristics, order search), lower bound, validator. */
#include "memplan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ALIGNMENT 64

const char *ft_memplan_name(int algorithm)
{
    switch (algorithm) {
    case FT_MEMPLAN_NAIVE:
        return "naive";
    case FT_MEMPLAN_GREEDY_BY_SIZE:
        return "greedy-by-size";
    case FT_MEMPLAN_GREEDY_BY_BREADTH:
        return "greedy-by-breadth";
    case FT_MEMPLAN_BEST:
        return "best";
    default:
        return NULL;
    }
}

/* Checks the requests and fills asz with the aligned sizes; their sum must fit in size_t so that no
 * offset computed later can overflow. */
static int aligned_sizes(const ft_mem_request *req, int n, size_t *alignment, size_t *asz, ft_error *err)
{
    if (*alignment == 0)
        *alignment = DEFAULT_ALIGNMENT;
    size_t a = *alignment;
    if (a & (a - 1))
        return ft_fail(err, FT_ERR_INPUT, "memplan: alignment %zu is not a power of two", a);
    if (n < 0)
        return ft_fail(err, FT_ERR_INPUT, "memplan: negative request count %d", n);
    if (n > 0 && !req)
        return ft_fail(err, FT_ERR_INPUT, "memplan: %d requests but no array", n);
    size_t sum = 0;
    for (int i = 0; i < n; i++) {
        if (req[i].first > req[i].last)
            return ft_fail(err, FT_ERR_INPUT, "memplan: request %d lives from step %d to step %d (reversed)", i,
                           req[i].first, req[i].last);
        if (req[i].size > SIZE_MAX - (a - 1))
            return ft_fail(err, FT_ERR_INPUT, "memplan: request %d size %zu overflows when aligned", i, req[i].size);
        size_t s = (req[i].size + a - 1) & ~(a - 1);
        if (s > SIZE_MAX - sum)
            return ft_fail(err, FT_ERR_INPUT, "memplan: total size overflows at request %d", i);
        sum += s;
        if (asz)
            asz[i] = s;
    }
    return FT_OK;
}

static int lives_overlap(const ft_mem_request *x, const ft_mem_request *y)
{
    return x->first <= y->last && y->first <= x->last;
}

/* ---------------------------------------------------------------------------------------------
 * Placement: requests in a given order, each at a gap among the placed requests alive with it.
 * ------------------------------------------------------------------------------------------- */

typedef struct plan_ws {
    const ft_mem_request *req;
    const size_t *asz;
    int n;
    int *placed; /* placed requests sorted by offset */
    size_t *off;
} plan_ws;

/* best_fit: the smallest gap that fits (TFLite); otherwise the lowest one that fits. */
static size_t place_in_order(plan_ws *w, const int *order, int best_fit)
{
    int np = 0;
    size_t arena = 0;
    for (int t = 0; t < w->n; t++) {
        int r = order[t];
        size_t need = w->asz[r];
        if (need == 0) {
            w->off[r] = 0;
            continue;
        }
        size_t prev_end = 0, best_gap = SIZE_MAX, best_off = SIZE_MAX;
        for (int q = 0; q < np; q++) {
            int p = w->placed[q];
            if (!lives_overlap(&w->req[r], &w->req[p]))
                continue;
            if (w->off[p] >= prev_end) {
                size_t gap = w->off[p] - prev_end;
                if (gap >= need && gap < best_gap) {
                    best_gap = gap;
                    best_off = prev_end;
                    if (!best_fit)
                        break;
                }
            }
            size_t end = w->off[p] + w->asz[p];
            if (end > prev_end)
                prev_end = end;
        }
        if (best_off == SIZE_MAX)
            best_off = prev_end;
        w->off[r] = best_off;
        int lo = 0, hi = np;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (w->off[w->placed[mid]] <= best_off)
                lo = mid + 1;
            else
                hi = mid;
        }
        memmove(w->placed + lo + 1, w->placed + lo, (size_t)(np - lo) * sizeof *w->placed);
        w->placed[lo] = r;
        np++;
        if (best_off + need > arena)
            arena = best_off + need;
    }
    return arena;
}

/* ---------------------------------------------------------------------------------------------
 * Orders
 * ------------------------------------------------------------------------------------------- */

typedef struct sort_key {
    size_t k1, k2;
    int idx;
} sort_key;

/* Descending k1, then descending k2, then ascending index: deterministic on ties. */
static int cmp_key(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->k1 != b->k1)
        return a->k1 > b->k1 ? -1 : 1;
    if (a->k2 != b->k2)
        return a->k2 > b->k2 ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

enum { ORDER_SIZE, ORDER_LENGTH, ORDER_AREA, ORDER_START, ORDER_COUNT };

static size_t lifetime(const ft_mem_request *r)
{
    return (size_t)((long long)r->last - (long long)r->first + 1);
}

static void order_by(const ft_mem_request *req, const size_t *asz, int n, int kind, sort_key *keys, int *order)
{
    for (int i = 0; i < n; i++) {
        keys[i].idx = i;
        switch (kind) {
        case ORDER_SIZE:
            keys[i].k1 = asz[i];
            keys[i].k2 = lifetime(&req[i]);
            break;
        case ORDER_LENGTH:
            keys[i].k1 = lifetime(&req[i]);
            keys[i].k2 = asz[i];
            break;
        case ORDER_AREA: /* bytes x steps, saturating: only the ranking matters */
            keys[i].k1 = asz[i] > SIZE_MAX / lifetime(&req[i]) ? SIZE_MAX : asz[i] * lifetime(&req[i]);
            keys[i].k2 = asz[i];
            break;
        default: /* earliest first: flip the step into a descending key */
            keys[i].k1 = (size_t)(0x7fffffffLL - (long long)req[i].first);
            keys[i].k2 = asz[i];
            break;
        }
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_key);
    for (int i = 0; i < n; i++)
        order[i] = keys[i].idx;
}

/* TFLite's greedy by breadth order: steps with the most live bytes first, and at each step the
 * requests alive there, largest first, that no earlier step took. Each request is alive at its own
 * first step, so the distinct first steps visit every request. */
static int order_by_breadth(const ft_mem_request *req, const size_t *asz, int n, sort_key *keys, int *order)
{
    sort_key *steps = malloc(((size_t)n + 1) * sizeof *steps);
    unsigned char *taken = calloc((size_t)n + 1, 1);
    if (!steps || !taken) {
        free(steps);
        free(taken);
        return -1;
    }
    int ns = 0;
    for (int i = 0; i < n; i++) {
        int s = req[i].first, dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = req[j].first == s;
        if (dup)
            continue;
        size_t breadth = 0;
        for (int j = 0; j < n; j++)
            if (req[j].first <= s && s <= req[j].last)
                breadth += asz[j];
        steps[ns].k1 = breadth;
        steps[ns].k2 = 0;
        steps[ns].idx = i; /* a request starting at that step */
        ns++;
    }
    qsort(steps, (size_t)ns, sizeof *steps, cmp_key);
    int no = 0;
    for (int t = 0; t < ns; t++) {
        int s = req[steps[t].idx].first, m = 0;
        for (int j = 0; j < n; j++)
            if (!taken[j] && req[j].first <= s && s <= req[j].last) {
                keys[m].k1 = asz[j];
                keys[m].k2 = lifetime(&req[j]);
                keys[m].idx = j;
                m++;
            }
        qsort(keys, (size_t)m, sizeof *keys, cmp_key);
        for (int q = 0; q < m; q++) {
            taken[keys[q].idx] = 1;
            order[no++] = keys[q].idx;
        }
    }
    free(steps);
    free(taken);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Public entry points
 * ------------------------------------------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Runs every order with both gap rules, then a seeded local search: swap two nearby requests in the
 * best order and keep the swap when the arena does not grow (equal arenas are accepted so the search
 * can cross plateaus). Stops as soon as the lower bound is met. */
static int plan_best(plan_ws *w, const ft_mem_request *req, const size_t *asz, int n, size_t bound, sort_key *keys,
                     size_t *offsets, size_t *arena)
{
    int *order = malloc((size_t)n * sizeof *order), *best_order = malloc((size_t)n * sizeof *best_order);
    if (!order || !best_order) {
        free(order);
        free(best_order);
        return -1;
    }
    size_t best = SIZE_MAX;
    for (int kind = 0; kind <= ORDER_COUNT && best > bound; kind++) {
        if (kind == ORDER_COUNT) {
            if (order_by_breadth(req, asz, n, keys, order)) {
                free(order);
                free(best_order);
                return -1;
            }
        } else {
            order_by(req, asz, n, kind, keys, order);
        }
        for (int fit = 1; fit >= 0 && best > bound; fit--) {
            size_t a = place_in_order(w, order, fit);
            if (a < best) {
                best = a;
                memcpy(best_order, order, (size_t)n * sizeof *order);
                memcpy(offsets, w->off, (size_t)n * sizeof *offsets);
            }
        }
    }
    /* Each trial costs O(n^2) at worst: spend about 4e6 such steps, but always a few dozen trials. */
    long long trials = 4000000LL / ((long long)n * n + 1);
    if (trials < 32)
        trials = 32;
    if (trials > 2000)
        trials = 2000;
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    size_t cur = best;
    memcpy(order, best_order, (size_t)n * sizeof *order);
    for (long long t = 0; t < trials && n > 1 && best > bound; t++) {
        int i = (int)(xorshift(&rng) % (uint64_t)n);
        int span = n - 1 < 16 ? n - 1 : 16;
        int j = (i + 1 + (int)(xorshift(&rng) % (uint64_t)span)) % n;
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
        size_t a = place_in_order(w, order, 1);
        if (a <= cur) {
            cur = a;
            if (a < best) {
                best = a;
                memcpy(offsets, w->off, (size_t)n * sizeof *offsets);
            }
        } else {
            order[j] = order[i];
            order[i] = tmp;
        }
    }
    *arena = best;
    free(order);
    free(best_order);
    return 0;
}

int ft_memplan(const ft_mem_request *req, int n, int algorithm, size_t alignment, size_t *offsets,
               size_t *arena_bytes, ft_error *err)
{
    if (!ft_memplan_name(algorithm))
        return ft_fail(err, FT_ERR_INPUT, "memplan: unknown algorithm %d", algorithm);
    if (n > 0 && !offsets)
        return ft_fail(err, FT_ERR_INPUT, "memplan: no offsets array for %d requests", n);
    size_t *asz = malloc(((size_t)n + 1) * sizeof *asz);
    if (!asz)
        return ft_fail(err, FT_ERR_NOMEM, "memplan: out of memory for %d requests", n);
    int rc = aligned_sizes(req, n, &alignment, asz, err);
    if (rc) {
        free(asz);
        return rc;
    }
    size_t arena = 0;
    if (algorithm == FT_MEMPLAN_NAIVE || n == 0) {
        for (int i = 0; i < n; i++) {
            offsets[i] = arena;
            arena += asz[i];
        }
        free(asz);
        *arena_bytes = arena;
        return FT_OK;
    }
    plan_ws w = {req, asz, n, NULL, NULL};
    w.placed = malloc(((size_t)n + 1) * sizeof *w.placed);
    w.off = malloc(((size_t)n + 1) * sizeof *w.off);
    int *order = malloc(((size_t)n + 1) * sizeof *order);
    sort_key *keys = malloc(((size_t)n + 1) * sizeof *keys);
    if (!w.placed || !w.off || !order || !keys) {
        rc = ft_fail(err, FT_ERR_NOMEM, "memplan: out of memory for %d requests", n);
        goto done;
    }
    if (algorithm == FT_MEMPLAN_BEST) {
        size_t bound = 0;
        rc = ft_memplan_lower_bound(req, n, alignment, &bound, err);
        if (rc)
            goto done;
        if (plan_best(&w, req, asz, n, bound, keys, offsets, &arena)) {
            rc = ft_fail(err, FT_ERR_NOMEM, "memplan: out of memory for %d requests", n);
            goto done;
        }
    } else {
        if (algorithm == FT_MEMPLAN_GREEDY_BY_SIZE) {
            order_by(req, asz, n, ORDER_SIZE, keys, order);
        } else if (order_by_breadth(req, asz, n, keys, order)) {
            rc = ft_fail(err, FT_ERR_NOMEM, "memplan: out of memory for %d requests", n);
            goto done;
        }
        arena = place_in_order(&w, order, 1);
        memcpy(offsets, w.off, (size_t)n * sizeof *offsets);
    }
    *arena_bytes = arena;
done:
    free(asz);
    free(w.placed);
    free(w.off);
    free(order);
    free(keys);
    return rc;
}

typedef struct live_event {
    long long step;
    int idx, starts;
} live_event;

static int cmp_event(const void *pa, const void *pb)
{
    const live_event *a = pa, *b = pb;
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    return b->starts - a->starts; /* starts first, so the unsigned running sum never dips below 0 */
}

int ft_memplan_lower_bound(const ft_mem_request *req, int n, size_t alignment, size_t *bound, ft_error *err)
{
    size_t *asz = malloc(((size_t)n + 1) * sizeof *asz);
    live_event *ev = malloc(((size_t)n * 2 + 1) * sizeof *ev);
    if (!asz || !ev) {
        free(asz);
        free(ev);
        return ft_fail(err, FT_ERR_NOMEM, "memplan: out of memory for %d requests", n);
    }
    int rc = aligned_sizes(req, n, &alignment, asz, err);
    if (rc) {
        free(asz);
        free(ev);
        return rc;
    }
    int ne = 0;
    for (int i = 0; i < n; i++) {
        ev[ne++] = (live_event){req[i].first, i, 1};
        ev[ne++] = (live_event){(long long)req[i].last + 1, i, 0};
    }
    qsort(ev, (size_t)ne, sizeof *ev, cmp_event);
    /* All changes at one step are applied before that step's total counts. */
    size_t live = 0, best = 0;
    for (int t = 0; t < ne;) {
        long long s = ev[t].step;
        for (; t < ne && ev[t].step == s; t++) {
            if (ev[t].starts)
                live += asz[ev[t].idx];
            else
                live -= asz[ev[t].idx];
        }
        if (live > best)
            best = live;
    }
    *bound = best;
    free(asz);
    free(ev);
    return FT_OK;
}

static int cmp_by_offset(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

int ft_memplan_validate(const ft_mem_request *req, int n, size_t alignment, const size_t *offsets,
                        size_t arena_bytes, ft_error *err)
{
    if (n > 0 && !offsets)
        return ft_fail(err, FT_ERR_INPUT, "memplan: no offsets to validate for %d requests", n);
    size_t *asz = malloc(((size_t)n + 1) * sizeof *asz);
    sort_key *byoff = malloc(((size_t)n + 1) * sizeof *byoff);
    if (!asz || !byoff) {
        free(asz);
        free(byoff);
        return ft_fail(err, FT_ERR_NOMEM, "memplan: out of memory for %d requests", n);
    }
    int rc = aligned_sizes(req, n, &alignment, asz, err);
    if (rc)
        goto done;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (offsets[i] % alignment) {
            rc = ft_fail(err, FT_ERR_FAIL, "memplan: request %d offset %zu is not %zu-byte aligned", i, offsets[i],
                         alignment);
            goto done;
        }
        if (asz[i] == 0)
            continue;
        if (offsets[i] > arena_bytes || asz[i] > arena_bytes - offsets[i]) {
            rc = ft_fail(err, FT_ERR_FAIL, "memplan: request %d ([%zu,%zu)) ends past the %zu-byte arena", i,
                         offsets[i], offsets[i] + asz[i], arena_bytes);
            goto done;
        }
        byoff[m].k1 = offsets[i];
        byoff[m].k2 = 0;
        byoff[m].idx = i;
        m++;
    }
    qsort(byoff, (size_t)m, sizeof *byoff, cmp_by_offset);
    /* Only requests starting below i's end can overlap it in memory. */
    for (int a = 0; a < m; a++) {
        int i = byoff[a].idx;
        size_t end = offsets[i] + asz[i];
        for (int b = a + 1; b < m && offsets[byoff[b].idx] < end; b++) {
            int j = byoff[b].idx;
            if (!lives_overlap(&req[i], &req[j]))
                continue;
            int x = i < j ? i : j, y = i < j ? j : i;
            rc = ft_fail(err, FT_ERR_FAIL,
                         "memplan: requests %d (steps %d..%d, bytes [%zu,%zu)) and %d (steps %d..%d, bytes "
                         "[%zu,%zu)) are alive together and overlap",
                         x, req[x].first, req[x].last, offsets[x], offsets[x] + asz[x], y, req[y].first,
                         req[y].last, offsets[y], offsets[y] + asz[y]);
            goto done;
        }
    }
done:
    free(asz);
    free(byoff);
    return rc;
}
