/* test_layout.c - layouts as the registry defines them: permutations and channel-blocked ones (NCHW16c),
 * their offsets, split views, text, equivalence, conversions between them, elementwise kernels and
 * layout hints around Convs. */
#include "candidates.h"
#include "fast_check.h"
#include "prepare.h"

/* The offset of (n, c, h, w) in NCHW<b>c, written out. */
static int64_t nchwc_offset(const ft_shape *s, int b, int64_t n, int64_t c, int64_t h, int64_t w)
{
    int64_t cb = s->dims[1] / b;
    return (((n * cb + c / b) * s->dims[2] + h) * s->dims[3] + w) * b + c % b;
}

static ft_layout nchw16c(void)
{
    ft_layout l;
    ft_layout_identity(&l, 4);
    l.block_axis = 1;
    l.block = FT_CONV_BLOCK;
    return l;
}

static void blocked_offset_is_the_nchwc_formula(void **state)
{
    (void)state;
    ft_shape s = {4, {2, 48, 3, 5}};
    ft_layout l = nchw16c();
    assert_true(ft_layout_fits(&l, &s));
    int64_t seen = 0;
    for (int64_t n = 0; n < 2; n++)
        for (int64_t c = 0; c < 48; c++)
            for (int64_t h = 0; h < 3; h++)
                for (int64_t w = 0; w < 5; w++) {
                    int64_t idx[4] = {n, c, h, w};
                    assert_int_equal(ft_layout_offset(&l, &s, idx), nchwc_offset(&s, 16, n, c, h, w));
                    seen++;
                }
    assert_int_equal(seen, ft_shape_numel(&s));
    /* unblocked layouts: the strides' offset */
    ft_layout nhwc = {.rank = 4, .perm = {0, 2, 3, 1}};
    int64_t idx[4] = {1, 7, 2, 4};
    assert_int_equal(ft_layout_offset(&nhwc, &s, idx), ((1 * 3 + 2) * 5 + 4) * 48 + 7);
}

static void blocks_that_do_not_divide_the_axis_do_not_fit(void **state)
{
    (void)state;
    ft_layout l = nchw16c();
    ft_shape odd = {4, {1, 24, 4, 4}}, ok = {4, {1, 32, 4, 4}}, rank3 = {3, {32, 4, 4}};
    assert_false(ft_layout_fits(&l, &odd));
    assert_true(ft_layout_fits(&l, &ok));
    assert_false(ft_layout_fits(&l, &rank3));
    ft_layout l2;
    ft_shape s2;
    assert_int_equal(ft_layout_split(&l, &odd, 0, 0, &l2, &s2), -1);
}

static void split_view_puts_the_block_innermost(void **state)
{
    (void)state;
    ft_shape s = {4, {2, 32, 3, 5}}, s2;
    ft_layout b = nchw16c(), l2, nhwc = {.rank = 4, .perm = {0, 2, 3, 1}};
    assert_int_equal(ft_layout_split(&b, &s, 0, 0, &l2, &s2), 0);
    assert_int_equal(s2.rank, 5);
    const int64_t want_dims[5] = {2, 2, 16, 3, 5};
    const uint8_t want_perm[5] = {0, 1, 3, 4, 2};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s2.dims[i], want_dims[i]);
        assert_int_equal(l2.perm[i], want_perm[i]);
    }
    assert_false(ft_layout_blocked(&l2));
    /* an unblocked layout split at the same place keeps the two halves together */
    assert_int_equal(ft_layout_split(&nhwc, &s, 1, 16, &l2, &s2), 0);
    const uint8_t nhwc_perm[5] = {0, 3, 4, 1, 2};
    for (int i = 0; i < 5; i++) assert_int_equal(l2.perm[i], nhwc_perm[i]);
}

static void blocked_layouts_print_equal_and_compare(void **state)
{
    (void)state;
    char buf[16];
    ft_layout b = nchw16c(), id, nhwc = {.rank = 4, .perm = {0, 2, 3, 1}};
    ft_layout_identity(&id, 4);
    assert_string_equal(ft_layout_str(&b, buf, sizeof buf), "0123b1x16");
    assert_false(ft_layout_equal(&b, &id));
    assert_false(ft_layout_is_identity(&b));
    ft_shape wide = {4, {1, 32, 7, 7}}, one_block = {4, {1, 16, 7, 7}};
    assert_false(ft_layout_equivalent(&b, &id, &wide));
    assert_false(ft_layout_equivalent(&b, &nhwc, &wide));
    /* a single block of all 16 channels is NHWC's bytes */
    assert_true(ft_layout_equivalent(&b, &nhwc, &one_block));
    assert_true(ft_layout_equivalent(&nhwc, &b, &one_block));
    ft_layout b8 = b;
    b8.block = 8;
    assert_false(ft_layout_equal(&b, &b8));
    assert_false(ft_layout_equivalent(&b, &b8, &wide));
}

static void reorders_between_nchw_nhwc_and_blocked_are_exact(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 4, 8};
    ft_shape s = {4, {2, 32, 5, 3}};
    int64_t n = ft_shape_numel(&s);
    ft_layout id, b = nchw16c(), nhwc = {.rank = 4, .perm = {0, 2, 3, 1}};
    ft_layout_identity(&id, 4);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t es = sizes[k];
        unsigned char *src = malloc((size_t)n * es), *blk = malloc((size_t)n * es), *mid = malloc((size_t)n * es),
                      *back = malloc((size_t)n * es);
        assert_non_null(src && blk && mid && back);
        for (int64_t i = 0; i < n * (int64_t)es; i++) src[i] = (unsigned char)(i * 131 + 7);
        assert_int_equal(ft_reorder(src, &id, blk, &b, &s, es), FT_OK);
        int64_t idx[4];
        for (idx[0] = 0; idx[0] < 2; idx[0]++)
            for (idx[1] = 0; idx[1] < 32; idx[1]++)
                for (idx[2] = 0; idx[2] < 5; idx[2]++)
                    for (idx[3] = 0; idx[3] < 3; idx[3]++) {
                        int64_t from = ((idx[0] * 32 + idx[1]) * 5 + idx[2]) * 3 + idx[3];
                        int64_t to = nchwc_offset(&s, 16, idx[0], idx[1], idx[2], idx[3]);
                        assert_memory_equal(blk + to * (int64_t)es, src + from * (int64_t)es, es);
                    }
        /* blocked -> NHWC -> blocked -> NCHW comes back bit for bit */
        assert_int_equal(ft_reorder(blk, &b, mid, &nhwc, &s, es), FT_OK);
        assert_int_equal(ft_reorder(mid, &nhwc, blk, &b, &s, es), FT_OK);
        assert_int_equal(ft_reorder(blk, &b, back, &id, &s, es), FT_OK);
        assert_memory_equal(back, src, (size_t)n * es);
        free(src);
        free(blk);
        free(mid);
        free(back);
    }
}

static void reorders_refuse_blocks_that_do_not_fit_or_differ(void **state)
{
    (void)state;
    float x[2 * 24 * 2 * 2] = {0}, y[2 * 24 * 2 * 2];
    ft_shape s = {4, {2, 24, 2, 2}};
    ft_layout id, b = nchw16c(), b8 = nchw16c();
    ft_layout_identity(&id, 4);
    b8.block = 8;
    assert_int_equal(ft_reorder(x, &id, y, &b, &s, 4), FT_ERR_INPUT);  /* 16 does not divide 24 */
    assert_int_equal(ft_reorder(x, &id, y, &b8, &s, 4), FT_OK);         /* 8 does */
    ft_layout b8h = b8;
    b8h.block_axis = 0;
    b8h.block = 2;
    assert_int_equal(ft_reorder(x, &b8, y, &b8h, &s, 4), FT_ERR_INPUT); /* two different blockings */
}

static int count_blocked(const ft_candidate_list *l)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) n += ft_layout_blocked(&l->items[i].out_layout);
    return n;
}

/* Add of x[1,32,4,4] and b (rank, dims) with an NCHW16c output hint: how many blocked candidates
 * it offers, all of them checked against the reference. */
static int blocked_add_candidates(int rank, const int64_t *dims)
{
    fc_case c;
    fc_init(&c, "Add", 14);
    fc_input_f32(&c, 4, (const int64_t[]){1, 32, 4, 4}, -2, 2, 5);
    fc_input_f32(&c, rank, dims, -2, 2, 6);
    fc_outputs(&c, 1);
    c.out_hints.n = 1;
    c.out_hints.l[0] = nchw16c();
    ft_candidate_list list;
    fc_enumerate(&c, &list);
    int n = count_blocked(&list);
    ft_candidate_list_free(&list);
    assert_true(fc_check_all(&c, 1e-6) > 0);
    fc_free(&c);
    return n;
}

static void elementwise_kernels_run_in_blocked_layouts(void **state)
{
    (void)state;
    static const char *const ops[] = {"Relu", "Add", "Mul"};
    for (int k = 0; k < 3; k++) {
        fc_case c;
        int binary = k > 0;
        fc_init(&c, ops[k], 14);
        fc_input_f32(&c, 4, (const int64_t[]){2, 48, 5, 3}, -2, 2, 11 + (uint64_t)k);
        if (binary) fc_input_f32(&c, 4, (const int64_t[]){2, 48, 5, 3}, -2, 2, 21 + (uint64_t)k);
        fc_outputs(&c, 1);
        c.in_hints[0].n = 1;
        c.in_hints[0].l[0] = nchw16c();
        ft_candidate_list list;
        fc_enumerate(&c, &list);
        assert_true(count_blocked(&list) > 0);
        ft_candidate_list_free(&list);
        assert_true(fc_check_all(&c, 1e-6) > 0);
        fc_free(&c);
    }
    /* a scalar second operand keeps blocked layouts; a per-channel one cannot share the blocking */
    assert_true(blocked_add_candidates(1, (const int64_t[]){1}) > 0);
    assert_int_equal(blocked_add_candidates(3, (const int64_t[]){32, 1, 1}), 0);
}

/* x -> Conv -> Relu -> y: the Conv's input and output and the Relu's output are offered NHWC and
 * NCHW16c; the weights are not. (With 16 channels NCHW16c would be NHWC's bytes and not offered twice.) */
static void convs_and_what_follows_them_get_nhwc_and_blocked_hints(void **state)
{
    (void)state;
    ft_graph *g = ft_graph_create();
    g->opset = 17;
    g->path = strdup("hints.onnx");
    int64_t xd[4] = {1, 32, 8, 8}, wd[4] = {32, 32, 3, 3};
    tu_add_input(g, "x", FT_FLOAT, 4, xd);
    float *w = calloc(32 * 32 * 9, sizeof *w);
    tu_add_const_f32(g, "w", 4, wd, w);
    free(w);
    int cv = tu_add_node(g, "Conv", "conv", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"c"});
    tu_attr_ints(g, cv, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    tu_add_node(g, "Relu", "relu", 1, (const char *[]){"c"}, 1, (const char *[]){"y"});
    tu_mark_output(g, "y");
    ft_error err = {0};
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    ft_layout_set *hints = calloc((size_t)g->n_tensors, sizeof *hints);
    assert_int_equal(ft_layout_hints(g, hints, &err), FT_OK);
    ft_layout b = nchw16c(), nhwc = {.rank = 4, .perm = {0, 2, 3, 1}};
    const char *names[3] = {"x", "c", "y"};
    for (int k = 0; k < 3; k++) {
        const ft_layout_set *h = &hints[ft_graph_find_tensor(g, names[k])];
        int has_b = 0, has_nhwc = 0;
        for (int i = 0; i < h->n; i++) {
            has_b |= ft_layout_equal(&h->l[i], &b);
            has_nhwc |= ft_layout_equal(&h->l[i], &nhwc);
        }
        assert_true(has_b);
        assert_true(has_nhwc);
    }
    assert_int_equal(hints[ft_graph_find_tensor(g, "w")].n, 0);
    free(hints);
    ft_graph_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocked_offset_is_the_nchwc_formula),
        cmocka_unit_test(blocks_that_do_not_divide_the_axis_do_not_fit),
        cmocka_unit_test(split_view_puts_the_block_innermost),
        cmocka_unit_test(blocked_layouts_print_equal_and_compare),
        cmocka_unit_test(reorders_between_nchw_nhwc_and_blocked_are_exact),
        cmocka_unit_test(reorders_refuse_blocks_that_do_not_fit_or_differ),
        cmocka_unit_test(elementwise_kernels_run_in_blocked_layouts),
        cmocka_unit_test(convs_and_what_follows_them_get_nhwc_and_blocked_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
