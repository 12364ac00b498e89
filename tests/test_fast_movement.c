/* test_fast_movement.c - the Transpose families (tiled copy and relabelling) and the planner's
 * Reorder node: every candidate against the reference kernel, and the layouts they are offered. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fast/fast_util.h"
#include "fast/isa.h"
#include "fast_check.h"

static void fill_random(ft_tensor *t, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 3;
    uint8_t *p = t->data;
    for (size_t i = 0; i < ft_tensor_nbytes(t); i++) p[i] = (uint8_t)fc_rand(&s);
    if (t->dtype == FT_FLOAT) /* finite values, so that the comparison is of numbers */
        tu_fill_uniform(t->data, (size_t)ft_shape_numel(&t->shape), seed, -5, 5);
}

static int count_family(const ft_candidate_list *l, const char *name)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) n += strcmp(l->items[i].family->name, name) == 0;
    return n;
}

static void transposes_match_the_reference_for_every_candidate(void **state)
{
    (void)state;
    static const ft_dtype types[] = {FT_FLOAT, FT_INT64, FT_UINT8, FT_FLOAT16, FT_INT32};
    uint64_t s = 31;
    for (int trial = 0; trial < 40; trial++) {
        fc_case c;
        int64_t dims[5], perm[5], n;
        int rank = 1 + fc_randint(&s, 5);
        do {
            n = 1;
            for (int i = 0; i < rank; i++) n *= dims[i] = fc_dim(&s);
        } while (n > 20000);
        ft_layout p;
        fc_random_layout(&s, rank, &p);
        for (int i = 0; i < rank; i++) perm[i] = p.perm[i];
        fc_init(&c, "Transpose", 13);
        fill_random(fc_input(&c, types[trial % 5], rank, dims), fc_rand(&s));
        fc_outputs(&c, 1);
        if (trial % 7) fc_attr_ints(&c, "perm", rank, perm); /* else the default: reversed axes */
        fc_random_hints(&s, rank, &c.in_hints[0]);
        fc_random_hints(&s, rank, &c.out_hints);
        assert_true(fc_check_all(&c, 0.0) > 0);
        fc_free(&c);
    }
}

static void relabel_stores_the_output_in_the_input_bytes(void **state)
{
    (void)state;
    /* attention heads: [1,128,12,64] -> [1,12,128,64] */
    fc_case c;
    const int64_t perm[4] = {0, 2, 1, 3};
    fc_init(&c, "Transpose", 13);
    fc_input_f32(&c, 4, (const int64_t[]){1, 16, 12, 8}, -1, 1, 5);
    fc_outputs(&c, 1);
    fc_attr_ints(&c, "perm", 4, perm);
    /* the consumer would like the output row-major: the input must then be stored as 0213 */
    c.out_hints.n = 1;
    ft_layout_identity(&c.out_hints.l[0], 4);
    ft_candidate_list list;
    fc_enumerate(&c, &list);
    int relabels = 0, found_rowmajor_out = 0;
    for (int i = 0; i < list.n; i++) {
        const ft_candidate *k = &list.items[i];
        if (strcmp(k->family->name, "transpose.relabel") != 0) continue;
        relabels++;
        assert_true(k->family->flags & FT_FAMILY_ALIAS);
        assert_false(ft_layout_is_identity(&k->in_layout[0]) && ft_layout_is_identity(&k->out_layout));
        ft_layout expect;
        ft_layout_after_transpose(&k->in_layout[0], perm, &expect);
        assert_true(ft_layout_equal(&expect, &k->out_layout) || ft_layout_is_identity(&k->out_layout));
        if (ft_layout_is_identity(&k->out_layout)) {
            found_rowmajor_out = 1;
            assert_string_equal(k->key, "transpose/relabel/L:0213");
        }
    }
    assert_int_equal(relabels, 2); /* from a row-major input, and into a row-major output */
    assert_true(found_rowmajor_out);
    ft_candidate_list_free(&list);
    assert_true(fc_check_all(&c, 0.0) > 0);
    fc_free(&c);
}

static void default_transpose_is_a_tiled_row_major_copy(void **state)
{
    (void)state;
    fc_case c;
    ft_error err = {0};
    ft_candidate def;
    fc_init(&c, "Transpose", 13);
    fc_input_f32(&c, 2, (const int64_t[]){100, 60}, -1, 1, 5);
    fc_outputs(&c, 1);
    c.in_hints[0].n = 1;
    c.in_hints[0].l[0] = (ft_layout){.rank = 2, .perm = {1, 0}};
    ft_candidate_list list;
    fc_enumerate(&c, &list);
    assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
    assert_string_equal(def.family->name, "transpose.tiled");
    assert_true(ft_layout_is_identity(&def.in_layout[0]) && ft_layout_is_identity(&def.out_layout));
    assert_int_equal(def.params[0], ft_fast_isa_best());
    /* tiles: none larger than twice the problem, so 100x60 gets all four, per ISA */
    int isas[FT_FAST_N_ISA];
    assert_int_equal(count_family(&list, "transpose.tiled"), 4 * ft_fast_isas(isas));
    ft_candidate_list_free(&list);
    fc_free(&c);
    /* a transpose that moves whole rows copies them: one candidate, no tiles */
    fc_init(&c, "Transpose", 13);
    fc_input_f32(&c, 3, (const int64_t[]){6, 4, 32}, -1, 1, 5);
    fc_outputs(&c, 1);
    fc_attr_ints(&c, "perm", 3, (const int64_t[]){1, 0, 2});
    fc_enumerate(&c, &list);
    assert_int_equal(count_family(&list, "transpose.tiled"), 1);
    assert_string_equal(list.items[0].key, "transpose/copy");
    ft_candidate_list_free(&list);
    assert_true(fc_check_all(&c, 0.0) > 0);
    fc_free(&c);
}

static void large_transposes_also_offer_streaming_stores(void **state)
{
    (void)state;
    fc_case c;
    fc_init(&c, "Transpose", 13);
    fc_input_f32(&c, 2, (const int64_t[]){1024, 600}, -1, 1, 9); /* 2.4 MB */
    fc_outputs(&c, 1);
    ft_candidate_list list;
    fc_enumerate(&c, &list);
    int nt = 0;
    for (int i = 0; i < list.n; i++) nt += strstr(list.items[i].key, "/nt") != NULL;
    int isas[FT_FAST_N_ISA], vector_isas = ft_fast_isas(isas) - 1;
    assert_int_equal(nt, 4 * vector_isas);
    assert_int_equal(list.items[1].params[2], 0); /* the default keeps results in cache */
    ft_candidate_list_free(&list);
    assert_true(fc_check_all(&c, 0.0) > 0);
    fc_free(&c);
}

/* Runs every candidate of a Reorder node on data stored in its input layout and checks that the
 * output holds the same tensor in its output layout. */
static void reorder_node_converts_between_hinted_layouts(void **state)
{
    (void)state;
    const ft_kernel_family *f = ft_registry_family("reorder.tiled");
    assert_non_null(f);
    assert_string_equal(f->op_type, "Reorder");
    uint64_t s = 77;
    for (int trial = 0; trial < 12; trial++) {
        ft_node node;
        ft_tensor x, y;
        ft_error err = {0};
        int64_t dims[4], n;
        int rank = 1 + fc_randint(&s, 4);
        do {
            n = 1;
            for (int i = 0; i < rank; i++) n *= dims[i] = fc_dim(&s);
        } while (n > 20000);
        tu_tensor_init(&x, "x", trial % 3 ? FT_FLOAT : FT_INT64, rank, dims);
        tu_tensor_init(&y, "y", x.dtype, rank, dims);
        fill_random(&x, fc_rand(&s));
        memset(&node, 0, sizeof node);
        node.name = (char *)"reorder0";
        node.op_type = (char *)"Reorder";
        node.domain = (char *)"";
        node.n_in = node.n_out = 1;
        ft_tensor *in[1] = {&x}, *out[1] = {&y};
        ft_candidate_list list = {0};
        fc_random_hints(&s, rank, &list.in_hints[0]);
        fc_random_hints(&s, rank, &list.out_hints);
        assert_int_equal(ft_registry_enumerate(&node, in, out, &list, &err), FT_OK);
        assert_true(list.n >= 1);
        assert_true(ft_layout_is_identity(&list.items[0].in_layout[0]) && ft_layout_is_identity(&list.items[0].out_layout));
        size_t nb = ft_tensor_nbytes(&x), esz = ft_dtype_size(x.dtype);
        void *rowmajor = malloc(nb), *back = malloc(nb);
        memcpy(rowmajor, x.data, nb);
        ft_layout id;
        ft_layout_identity(&id, rank);
        int pairs_seen = 0;
        for (int k = 0; k < list.n; k++) {
            const ft_candidate *cand = &list.items[k];
            assert_ptr_equal(cand->family, f);
            assert_int_equal(ft_reorder(rowmajor, &id, x.data, &cand->in_layout[0], &x.shape, esz), FT_OK);
            memset(y.data, 0xA5, nb);
            ft_kernel_ctx ctx;
            memset(&ctx, 0, sizeof ctx);
            ctx.node = &node;
            ctx.n_in = ctx.n_out = 1;
            ctx.in = in;
            ctx.out = out;
            ctx.cand = cand;
            ctx.err = &err;
            assert_int_equal(f->run(&ctx), FT_OK);
            assert_int_equal(ft_reorder(y.data, &cand->out_layout, back, &id, &x.shape, esz), FT_OK);
            if (memcmp(back, rowmajor, nb) != 0) fail_msg("%s: wrong bytes", cand->key);
            for (int i = 0; i < list.in_hints[0].n; i++)
                for (int j = 0; j < list.out_hints.n; j++)
                    pairs_seen += ft_layout_equal(&cand->in_layout[0], &list.in_hints[0].l[i]) &&
                                  ft_layout_equal(&cand->out_layout, &list.out_hints.l[j]);
        }
        if (list.in_hints[0].n && list.out_hints.n) assert_true(pairs_seen > 0);
        free(rowmajor);
        free(back);
        ft_candidate_list_free(&list);
        ft_tensor_clear(&x);
        ft_tensor_clear(&y);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transposes_match_the_reference_for_every_candidate),
        cmocka_unit_test(relabel_stores_the_output_in_the_input_bytes),
        cmocka_unit_test(default_transpose_is_a_tiled_row_major_copy),
        cmocka_unit_test(large_transposes_also_offer_streaming_stores),
        cmocka_unit_test(reorder_node_converts_between_hinted_layouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
