/* test_memplan.c - every memory plan validates, respects the live-bytes lower bound, reuses gaps
 * (including the one at offset 0), and a BERT-shaped schedule lands within 5% of the bound. */
#include "testutil.h"
#include "memplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int below(uint64_t *s, int n)
{
    return (int)(next_u64(s) % (uint64_t)n);
}

static const int ALGOS[] = {FT_MEMPLAN_NAIVE, FT_MEMPLAN_GREEDY_BY_SIZE, FT_MEMPLAN_GREEDY_BY_BREADTH,
                            FT_MEMPLAN_BEST};

/* Plans req with algo, validates the result and returns the arena. */
static size_t plan_and_validate(const ft_mem_request *req, int n, int algo, size_t *off, int seed)
{
    size_t arena = 0;
    ft_error err;
    int rc = ft_memplan(req, n, algo, 64, off, &arena, &err);
    if (rc)
        fail_msg("seed %d %s: %s", seed, ft_memplan_name(algo), err.msg);
    rc = ft_memplan_validate(req, n, 64, off, arena, &err);
    if (rc)
        fail_msg("seed %d %s: %s", seed, ft_memplan_name(algo), err.msg);
    return arena;
}

/* Up to 300 requests over a schedule as long as the request count; most live a few steps, some
 * (weights-like, residual-like) live long; sizes unaligned, a few zero. */
static int random_requests(ft_mem_request *req, uint64_t *rng)
{
    int n = 1 + below(rng, 300), steps = 1 + n / 2;
    for (int i = 0; i < n; i++) {
        int first = below(rng, steps), len = below(rng, 10) == 0 ? below(rng, steps) : below(rng, 4);
        req[i].first = first;
        req[i].last = first + len;
        int kind = below(rng, 10);
        req[i].size = kind == 0 ? 0 : kind < 4 ? (size_t)below(rng, 200) : (size_t)below(rng, 1 << 20);
    }
    return n;
}

static void every_plan_validates_and_respects_the_lower_bound(void **state)
{
    (void)state;
    ft_mem_request req[300];
    size_t off[300];
    double ratio[4] = {0, 0, 0, 0};
    int best_wins = 0, seeds = 300;
    for (int seed = 0; seed < seeds; seed++) {
        uint64_t rng = (uint64_t)seed + 17;
        int n = random_requests(req, &rng);
        size_t bound = 0, arena[4], sum = 0;
        ft_error err;
        assert_int_equal(ft_memplan_lower_bound(req, n, 64, &bound, &err), FT_OK);
        for (int a = 0; a < 4; a++) {
            arena[a] = plan_and_validate(req, n, ALGOS[a], off, seed);
            if (arena[a] < bound)
                fail_msg("seed %d %s: arena %zu below the lower bound %zu", seed, ft_memplan_name(ALGOS[a]),
                         arena[a], bound);
        }
        for (int i = 0; i < n; i++)
            sum += (req[i].size + 63) / 64 * 64;
        assert_int_equal(arena[0], sum);
        if (arena[3] > arena[1] || arena[3] > arena[2])
            fail_msg("seed %d: best %zu worse than by-size %zu or by-breadth %zu", seed, arena[3], arena[1],
                     arena[2]);
        best_wins += arena[3] < arena[1] && arena[3] < arena[2];
        for (int a = 0; a < 4; a++)
            ratio[a] += bound ? (double)arena[a] / (double)bound / seeds : 1.0 / seeds;
    }
    print_message("%d random request sets, mean arena / lower bound: naive %.3f, by-size %.4f, by-breadth %.4f, "
                  "best %.4f (best beat both greedy plans on %d)\n",
                  seeds, ratio[0], ratio[1], ratio[2], ratio[3], best_wins);
}

/* Offsets are 64-byte aligned and sizes are rounded up: two 1-byte tensors alive together sit 64
 * bytes apart, never closer. */
static void offsets_and_sizes_are_aligned(void **state)
{
    (void)state;
    const ft_mem_request req[3] = {{1, 0, 1}, {1, 1, 2}, {65, 0, 2}};
    size_t off[3], arena, bound;
    ft_error err;
    for (int a = 0; a < 4; a++) {
        assert_int_equal(ft_memplan(req, 3, ALGOS[a], 64, off, &arena, &err), FT_OK);
        for (int i = 0; i < 3; i++)
            assert_int_equal(off[i] % 64, 0);
        assert_int_equal(ft_memplan_validate(req, 3, 64, off, arena, &err), FT_OK);
    }
    assert_int_equal(ft_memplan_lower_bound(req, 3, 64, &bound, &err), FT_OK);
    assert_int_equal(bound, 64 + 64 + 128);
}

/* A (256 B, steps 0-1) goes to 0, B (192 B, steps 1-3) above it; C (128 B, steps 2-3) lives only
 * with B, so it belongs in the gap at offset 0 that A left, not above B. */
static void gap_at_offset_zero_is_reused(void **state)
{
    (void)state;
    const ft_mem_request req[3] = {{256, 0, 1}, {192, 1, 3}, {128, 2, 3}};
    size_t off[3], arena, bound;
    ft_error err;
    assert_int_equal(ft_memplan(req, 3, FT_MEMPLAN_GREEDY_BY_SIZE, 64, off, &arena, &err), FT_OK);
    assert_int_equal(off[0], 0);
    assert_int_equal(off[1], 256);
    assert_int_equal(off[2], 0);
    assert_int_equal(arena, 448);
    assert_int_equal(ft_memplan_lower_bound(req, 3, 64, &bound, &err), FT_OK);
    assert_int_equal(bound, 448);
    assert_int_equal(ft_memplan(req, 3, FT_MEMPLAN_NAIVE, 64, off, &arena, &err), FT_OK);
    assert_int_equal(arena, 576);
}

/* At step 2 two gaps are free: [0,448) and [832,1024). Best fit puts the 128-byte request in the
 * smaller one and keeps the large gap whole. */
static void greedy_by_size_takes_the_smallest_sufficient_gap(void **state)
{
    (void)state;
    const ft_mem_request req[5] = {{1024, 0, 0}, {512, 0, 2}, {448, 1, 1}, {384, 1, 2}, {128, 2, 2}};
    const size_t want[5] = {0, 1024, 0, 448, 832};
    size_t off[5], arena;
    ft_error err;
    assert_int_equal(ft_memplan(req, 5, FT_MEMPLAN_GREEDY_BY_SIZE, 64, off, &arena, &err), FT_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(off[i], want[i]);
    assert_int_equal(arena, 1536);
}

static void validator_catches_broken_plans(void **state)
{
    (void)state;
    const ft_mem_request req[4] = {{100, 0, 2}, {200, 1, 3}, {300, 3, 4}, {50, 5, 5}};
    size_t off[4], arena;
    ft_error err;
    assert_int_equal(ft_memplan(req, 4, FT_MEMPLAN_BEST, 64, off, &arena, &err), FT_OK);
    assert_int_equal(ft_memplan_validate(req, 4, 64, off, arena, &err), FT_OK);

    /* A valid hand-made plan, then broken one way at a time. */
    const size_t good[4] = {0, 128, 384, 0};
    assert_int_equal(ft_memplan_validate(req, 4, 64, good, 704, &err), FT_OK);
    size_t bad[4];
    memcpy(bad, good, sizeof bad);
    bad[1] = 64; /* request 1 (steps 1-3) now starts inside request 0 (steps 0-2) */
    assert_int_equal(ft_memplan_validate(req, 4, 64, bad, 704, &err), FT_ERR_FAIL);
    assert_non_null(strstr(err.msg, "requests 0 "));
    assert_non_null(strstr(err.msg, " and 1 "));

    memcpy(bad, good, sizeof bad);
    bad[2] += 32;
    assert_int_equal(ft_memplan_validate(req, 4, 64, bad, 1024, &err), FT_ERR_FAIL);
    assert_non_null(strstr(err.msg, "request 2 offset"));

    assert_int_equal(ft_memplan_validate(req, 4, 64, good, 640, &err), FT_ERR_FAIL);
    assert_non_null(strstr(err.msg, "request 2 "));
    assert_non_null(strstr(err.msg, "arena"));

    /* Requests 2 and 3 never live together: sharing bytes is fine. */
    memcpy(bad, good, sizeof bad);
    bad[3] = bad[2];
    assert_int_equal(ft_memplan_validate(req, 4, 64, bad, 704, &err), FT_OK);
}

static void malformed_requests_are_refused(void **state)
{
    (void)state;
    ft_mem_request req[2] = {{64, 0, 1}, {64, 3, 2}};
    size_t off[2], arena, bound;
    ft_error err;
    assert_int_equal(ft_memplan(req, 2, FT_MEMPLAN_GREEDY_BY_SIZE, 64, off, &arena, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "request 1"));
    req[1].first = 2;
    assert_int_equal(ft_memplan(req, 2, FT_MEMPLAN_GREEDY_BY_SIZE, 48, off, &arena, &err), FT_ERR_INPUT);
    assert_int_equal(ft_memplan(req, 2, 42, 64, off, &arena, &err), FT_ERR_INPUT);
    req[0].size = (size_t)-10;
    assert_int_equal(ft_memplan_lower_bound(req, 2, 64, &bound, &err), FT_ERR_INPUT);
    assert_int_equal(ft_memplan(NULL, 0, FT_MEMPLAN_BEST, 0, NULL, &arena, &err), FT_OK);
    assert_int_equal(arena, 0);
}

/* ------------------------------------------------------------------------------------------------
 * A BERT-base schedule as a PyTorch export runs it: fp32 activations of [128,768], [128,3072] and
 * [12,128,128], bias adds, layer norm and GELU decomposed into elementwise ops, one op per step.
 * Each tensor lives from the step that writes it to the last step that reads it. Reshapes are views
 * and only stretch their input's lifetime (the caller merges aliases); the layer input stays alive
 * through attention until the residual add, ln1 through the FFN; the mask lives throughout.
 * ---------------------------------------------------------------------------------------------- */

typedef struct sched {
    ft_mem_request req[1024];
    int n, step;
} sched;

/* The next op writes a new tensor of the given size and reads the given earlier tensors. */
static int op(sched *s, size_t bytes, int n_in, const int *in)
{
    int step = s->step++;
    for (int i = 0; i < n_in; i++)
        if (s->req[in[i]].last < step)
            s->req[in[i]].last = step;
    s->req[s->n].size = bytes;
    s->req[s->n].first = step;
    s->req[s->n].last = step;
    return s->n++;
}

static int op1(sched *s, size_t bytes, int a)
{
    return op(s, bytes, 1, &a);
}

static int op2(sched *s, size_t bytes, int a, int b)
{
    const int in[2] = {a, b};
    return op(s, bytes, 2, in);
}

/* A view: no new bytes, the source must survive until the view's readers are done, which the
 * caller expresses by returning the source itself. */
static int view(sched *s, int a)
{
    (void)s;
    return a;
}

static int layernorm(sched *s, int x, size_t act)
{
    const size_t ROW = 128 * 4;
    int m1 = op1(s, ROW, x), d = op2(s, act, x, m1), pw = op1(s, act, d), m2 = op1(s, ROW, pw);
    int sq = op1(s, ROW, op1(s, ROW, m2));
    return op1(s, act, op1(s, act, op2(s, act, d, sq)));
}

static void bert_schedule(sched *s)
{
    const size_t ACT = 128 * 768 * 4, FF = 128 * 3072 * 4, SC = 12 * 128 * 128 * 4;
    s->n = 0;
    s->step = 0;
    int emb = op(s, ACT, 0, NULL), pos = op(s, ACT, 0, NULL), type = op(s, ACT, 0, NULL);
    int x = layernorm(s, op2(s, ACT, op2(s, ACT, emb, pos), type), ACT);
    int mask = op1(s, 128 * 4, op(s, 128 * 4, 0, NULL));
    for (int l = 0; l < 12; l++) {
        int h[3];
        for (int q = 0; q < 3; q++)
            h[q] = op1(s, ACT, view(s, op1(s, ACT, op1(s, ACT, x)))); /* matmul, bias, reshape, transpose */
        int sc = op1(s, SC, op2(s, SC, h[0], h[1]));                   /* batched matmul, scale */
        int p = op1(s, SC, op2(s, SC, sc, mask));                        /* mask add, softmax */
        int ctx = view(s, op1(s, ACT, op2(s, ACT, p, h[2])));           /* batched matmul, transpose */
        int r1 = op2(s, ACT, op1(s, ACT, op1(s, ACT, ctx)), x);         /* projection, bias, residual */
        int ln1 = layernorm(s, r1, ACT);
        int f1 = op1(s, FF, op1(s, FF, ln1));                           /* matmul, bias */
        int g3 = op1(s, FF, op1(s, FF, op1(s, FF, f1)));                 /* div, erf, add */
        int gelu = op1(s, FF, op2(s, FF, f1, g3));                       /* mul, mul */
        int r2 = op2(s, ACT, op1(s, ACT, op1(s, ACT, gelu)), ln1);       /* matmul, bias, residual */
        x = layernorm(s, r2, ACT);
    }
    s->req[x].last = s->step; /* the model output is read after the last op */
}

static void bert_schedule_comes_within_five_percent_of_the_lower_bound(void **state)
{
    (void)state;
    static sched s;
    bert_schedule(&s);
    size_t off[sizeof s.req / sizeof s.req[0]], bound;
    ft_error err;
    assert_int_equal(ft_memplan_lower_bound(s.req, s.n, 64, &bound, &err), FT_OK);
    size_t arena[4];
    for (int a = 0; a < 4; a++) {
        arena[a] = plan_and_validate(s.req, s.n, ALGOS[a], off, -1);
        print_message("bert-base schedule (%d tensors) %-17s arena %9zu B = %.4f x lower bound %zu B\n", s.n,
                      ft_memplan_name(ALGOS[a]), arena[a], (double)arena[a] / (double)bound, bound);
    }
    assert_true((double)arena[3] <= 1.05 * (double)bound);
    assert_true(arena[3] <= arena[1] && arena[3] <= arena[2]);
    assert_true(arena[3] * 10 < arena[0]); /* reuse beats the no-reuse default by more than 10x */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_plan_validates_and_respects_the_lower_bound),
        cmocka_unit_test(offsets_and_sizes_are_aligned),
        cmocka_unit_test(gap_at_offset_zero_is_reused),
        cmocka_unit_test(greedy_by_size_takes_the_smallest_sufficient_gap),
        cmocka_unit_test(validator_catches_broken_plans),
        cmocka_unit_test(malformed_requests_are_refused),
        cmocka_unit_test(bert_schedule_comes_within_five_percent_of_the_lower_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
