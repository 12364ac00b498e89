/* test_reorder.c - layout conversion (kernels/fast/reorder.h) against a naive index loop, for every
 * ISA, tile and element size, on random shapes and layouts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fast/fast_util.h"
#include "fast/isa.h"
#include "fast_check.h"

/* dst[i] = src[i] for every logical index i, each side at its layout's strides. */
static void naive_reorder(const uint8_t *src, const ft_layout *sl, uint8_t *dst, const ft_layout *dl,
                          const ft_shape *s, size_t esz)
{
    int64_t ss[FT_MAX_RANK], ds[FT_MAX_RANK], idx[FT_MAX_RANK] = {0};
    ft_layout_strides(sl, s, ss);
    ft_layout_strides(dl, s, ds);
    int64_t n = ft_shape_numel(s);
    for (int64_t k = 0; k < n; k++) {
        int64_t so = 0, dof = 0;
        for (int d = 0; d < s->rank; d++) {
            so += idx[d] * ss[d];
            dof += idx[d] * ds[d];
        }
        memcpy(dst + dof * (int64_t)esz, src + so * (int64_t)esz, esz);
        for (int d = s->rank - 1; d >= 0; d--) {
            if (++idx[d] < s->dims[d]) break;
            idx[d] = 0;
        }
    }
}

static void fill_bytes(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)fc_rand(&s);
}

/* Converts with every ISA and tile and compares with the naive loop; dst is poisoned each time. */
static void check_all_knobs(const ft_shape *s, const ft_layout *sl, const ft_layout *dl, size_t esz, uint64_t seed)
{
    size_t nb = (size_t)ft_shape_numel(s) * esz;
    /* 64-byte aligned destination, as the executor's arena gives, so that streaming stores run */
    uint8_t *src = malloc(nb + 1), *want = malloc(nb + 1), *got = aligned_alloc(64, (nb + 64) / 64 * 64);
    fill_bytes(src, nb, seed);
    naive_reorder(src, sl, want, dl, s, esz);
    static const int tiles[] = {8, 16, 32, 64};
    int isas[FT_FAST_N_ISA], n_isa = ft_fast_isas(isas);
    for (int k = 0; k < n_isa; k++)
        for (int t = 0; t < 4; t++)
            for (int nt = 0; nt < 2; nt++) {
                ft_reorder_knobs knobs = {isas[k], tiles[t], nt};
                memset(got, 0xA5, nb);
                assert_int_equal(ft_reorder_tiled(src, sl, got, dl, s, esz, &knobs), FT_OK);
                if (memcmp(got, want, nb) != 0) {
                    char sh[96], a[16], b[16];
                    fail_msg("%s tile %d%s, %zu-byte elements, %s from %s to %s: wrong bytes",
                             ft_fast_isa_name(isas[k]), tiles[t], nt ? " streaming" : "", esz,
                             ft_shape_str(s, sh, sizeof sh), ft_layout_str(sl, a, sizeof a), ft_layout_str(dl, b, sizeof b));
                }
            }
    memset(got, 0xA5, nb);
    assert_int_equal(ft_reorder(src, sl, got, dl, s, esz), FT_OK);
    assert_memory_equal(got, want, nb);
    free(src);
    free(want);
    free(got);
}

static void reorder_matches_a_naive_index_loop(void **state)
{
    (void)state;
    static const size_t sizes[] = {4, 1, 2, 8};
    uint64_t s = 2024;
    for (int trial = 0; trial < 120; trial++) {
        ft_shape sh;
        ft_layout sl, dl;
        sh.rank = fc_randint(&s, 6);
        int64_t n;
        do {
            n = 1;
            for (int d = 0; d < sh.rank; d++) n *= sh.dims[d] = fc_dim(&s);
        } while (n > 40000);
        fc_random_layout(&s, sh.rank, &sl);
        fc_random_layout(&s, sh.rank, &dl);
        if (trial % 5 == 0) ft_layout_identity(&sl, sh.rank);
        check_all_knobs(&sh, &sl, &dl, sizes[trial % 4], fc_rand(&s));
    }
}

static void tiles_cover_edges_of_large_transposes(void **state)
{
    (void)state;
    static const int64_t shapes[][2] = {{129, 67}, {64, 200}, {96, 160}, {1, 300}, {300, 1}, {17, 1000}, {257, 255}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        ft_shape sh = {2, {shapes[i][0], shapes[i][1]}};
        ft_layout id, tr = {.rank = 2, .perm = {1, 0}};
        ft_layout_identity(&id, 2);
        check_all_knobs(&sh, &id, &tr, 4, i);
        check_all_knobs(&sh, &tr, &id, 4, i + 100);
    }
    /* a batch of transposes whose axes are not adjacent: [A,B,C] -> [C,B,A] */
    ft_shape sh = {3, {37, 5, 45}};
    ft_layout id, rev = {.rank = 3, .perm = {2, 1, 0}};
    ft_layout_identity(&id, 3);
    check_all_knobs(&sh, &id, &rev, 4, 7);
}

/* Strides that put 16 consecutive rows into few L1 sets (multiples of 1 KiB, or 4 bytes past 4 KiB)
 * send the vector kernels through their buffered panels: whole and partial panels of 128 rows, widths
 * that are not a multiple of the register block, unaligned rows (no streaming), and a batch. */
static void transposes_at_aliasing_strides_match_a_naive_index_loop(void **state)
{
    (void)state;
    static const int64_t shapes[][2] = {{256, 300}, {300, 256}, {1024, 17}, {77, 1024}, {64, 256}, {96, 1025}, {130, 512}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        ft_shape sh = {2, {shapes[i][0], shapes[i][1]}};
        ft_layout id, tr = {.rank = 2, .perm = {1, 0}};
        ft_layout_identity(&id, 2);
        check_all_knobs(&sh, &id, &tr, 4, 200 + i);
    }
    ft_shape sh = {3, {3, 256, 80}};
    ft_layout id, swap = {.rank = 3, .perm = {0, 2, 1}};
    ft_layout_identity(&id, 3);
    check_all_knobs(&sh, &id, &swap, 4, 9);
}

static void describe_tells_row_copies_from_transposes(void **state)
{
    (void)state;
    ft_shape sh = {4, {1, 128, 12, 64}};
    ft_layout id, heads = {.rank = 4, .perm = {0, 2, 1, 3}}, last = {.rank = 4, .perm = {0, 1, 3, 2}};
    int64_t rows = 0, cols = 0;
    ft_layout_identity(&id, 4);
    assert_int_equal(ft_reorder_describe(&id, &heads, &sh, &rows, &cols), 0);
    assert_int_equal(ft_reorder_describe(&id, &last, &sh, &rows, &cols), 1);
    assert_int_equal(rows, 12);
    assert_int_equal(cols, 64);
    /* only size-1 axes move: a copy */
    ft_shape ones = {3, {1, 9, 1}};
    ft_layout l = {.rank = 3, .perm = {2, 1, 0}}, i3;
    ft_layout_identity(&i3, 3);
    assert_int_equal(ft_reorder_describe(&i3, &l, &ones, &rows, &cols), 0);
}

static void reorder_refuses_bad_layouts_and_knobs(void **state)
{
    (void)state;
    float src[6] = {0}, dst[6];
    ft_shape sh = {2, {2, 3}};
    ft_layout id, dup = {.rank = 2, .perm = {0, 0}}, wrong_rank = {.rank = 3, .perm = {0, 1, 2}}, out_of_range = {.rank = 2, .perm = {0, 5}};
    ft_layout_identity(&id, 2);
    assert_int_equal(ft_reorder(src, &dup, dst, &id, &sh, 4), FT_ERR_INPUT);
    assert_int_equal(ft_reorder(src, &id, dst, &wrong_rank, &sh, 4), FT_ERR_INPUT);
    assert_int_equal(ft_reorder(src, &out_of_range, dst, &id, &sh, 4), FT_ERR_INPUT);
    ft_reorder_knobs bad_tile = {FT_FAST_SCALAR, 12, 0}, bad_isa = {99, 32, 0};
    assert_int_equal(ft_reorder_tiled(src, &id, dst, &id, &sh, 4, &bad_tile), FT_ERR_UNSUPPORTED);
    assert_int_equal(ft_reorder_tiled(src, &id, dst, &id, &sh, 4, &bad_isa), FT_ERR_UNSUPPORTED);
    assert_int_equal(ft_reorder_describe(&dup, &id, &sh, NULL, NULL), -1);
}

static void scalars_and_empty_tensors_are_handled(void **state)
{
    (void)state;
    ft_shape scalar = {0, {0}}, empty = {2, {0, 5}};
    ft_layout l0 = {.rank = 0, .perm = {0}}, id, tr = {.rank = 2, .perm = {1, 0}};
    ft_layout_identity(&id, 2);
    float a = 3.5f, b = 0.0f;
    assert_int_equal(ft_reorder(&a, &l0, &b, &l0, &scalar, sizeof a), FT_OK);
    assert_true(b == 3.5f);
    assert_int_equal(ft_reorder(&a, &id, &b, &tr, &empty, sizeof a), FT_OK);
    assert_true(b == 3.5f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reorder_matches_a_naive_index_loop),
        cmocka_unit_test(tiles_cover_edges_of_large_transposes),
        cmocka_unit_test(transposes_at_aliasing_strides_match_a_naive_index_loop),
        cmocka_unit_test(describe_tells_row_copies_from_transposes),
        cmocka_unit_test(reorder_refuses_bad_layouts_and_knobs),
        cmocka_unit_test(scalars_and_empty_tensors_are_handled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
