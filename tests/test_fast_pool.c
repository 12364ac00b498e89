/* test_fast_pool.c - the tuned pooling families (kernels/fast/pool.c): every candidate against the
 * reference kernel on random shapes, windows and layouts, bit for bit (NaN, infinities, signed zeros
 * and all-padding windows included), the candidates listed per hint, what is refused, and the layout
 * hints that flow through pools (search/candidates.c). */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "candidates.h"
#include "fast/isa.h"
#include "fast_check.h"
#include "prepare.h"

#define TOL_EXACT 0.0

static const ft_layout nhwc = {.rank = 4, .perm = {0, 2, 3, 1}};
static const ft_layout nchw16c = {.rank = 4, .perm = {0, 1, 2, 3}, .block_axis = 1, .block = FT_CONV_BLOCK};

static int count_keys_with(const ft_candidate_list *l, const char *part)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) n += strstr(l->items[i].key, part) != NULL;
    return n;
}

/* Channel counts: multiples of 16 often, so NCHW16c fits; others for the NHWC tails. */
static int64_t random_channels(uint64_t *s)
{
    static const int64_t cs[] = {16, 32, 48, 64, 1, 3, 17, 80, 16, 32};
    return cs[fc_randint(s, (int)(sizeof cs / sizeof cs[0]))];
}

/* Replaces some elements by NaN, +-inf and signed zeros: a max skips NaN and keeps the first of
 * equal values; whole NaN windows give -inf. */
static void sprinkle_specials(uint64_t *s, ft_tensor *t)
{
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f};
    float *x = t->data;
    int64_t n = ft_shape_numel(&t->shape);
    if (fc_randint(s, 3) == 0) return;
    for (int64_t i = 0; i < n; i++)
        if (fc_randint(s, 12) == 0) x[i] = sp[fc_randint(s, 5)];
}

/* Both hint sets hold NHWC and NCHW16c (the latter only when it fits), sometimes plus a random
 * layout the families must ignore or serve. */
static void pool_hints(uint64_t *s, fc_case *c, int64_t channels)
{
    ft_layout_set *sets[2] = {&c->in_hints[0], &c->out_hints};
    for (int k = 0; k < 2; k++) {
        ft_layout_set *h = sets[k];
        h->n = 0;
        if (k == 1 && fc_randint(s, 2)) continue;
        h->l[h->n++] = nhwc;
        if (channels % FT_CONV_BLOCK == 0) h->l[h->n++] = nchw16c;
        if (fc_randint(s, 4) == 0) fc_random_layout(s, 4, &h->l[h->n++]);
    }
}

/* Output size of one spatial dim as the reference computes it; 0 when the window does not fit. */
static int64_t pool_out(int64_t in, int64_t k, int64_t st, int64_t dil, int64_t pb, int64_t pe, int ceil_mode)
{
    int64_t eff = dil * (k - 1) + 1, span = in + pb + pe - eff;
    if (span < 0) return 0;
    int64_t o = (ceil_mode ? (span + st - 1) / st : span / st) + 1;
    if (ceil_mode && (o - 1) * st >= in + pb) o--;
    return o;
}

/* A random MaxPool (avg = 0) or AveragePool over a random input: kernel 1..4, strides 1..3,
 * dilations 1..2, pads up to the kernel (so some windows lie wholly in the padding), ceil_mode,
 * auto_pad and count_include_pad, everything checked against the reference. */
static void check_random_window_pool(uint64_t *s, int avg)
{
    static const char *const auto_pads[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    int64_t dims[4], k[2], st[2], dil[2], pads[4];
    int ceil_mode, auto_pad;
    for (;;) {
        dims[0] = 1 + fc_randint(s, 2);
        dims[1] = random_channels(s);
        dims[2] = 1 + fc_randint(s, 19);
        dims[3] = 1 + fc_randint(s, 19);
        for (int i = 0; i < 2; i++) {
            k[i] = 1 + fc_randint(s, 4);
            st[i] = 1 + fc_randint(s, 3);
            dil[i] = fc_randint(s, 4) == 0 ? 2 : 1;
            pads[i] = fc_randint(s, (int)k[i] + 1);
            pads[2 + i] = fc_randint(s, (int)k[i] + 1);
        }
        ceil_mode = fc_randint(s, 3) == 0;
        auto_pad = fc_randint(s, 6) == 0 ? 1 + fc_randint(s, 3) : 0;
        if (auto_pad && auto_pad < 3) break;
        int64_t p0 = auto_pad ? 0 : pads[0], p1 = auto_pad ? 0 : pads[1], p2 = auto_pad ? 0 : pads[2],
                p3 = auto_pad ? 0 : pads[3];
        if (pool_out(dims[2], k[0], st[0], dil[0], p0, p2, ceil_mode) > 0 &&
            pool_out(dims[3], k[1], st[1], dil[1], p1, p3, ceil_mode) > 0 &&
            dims[0] * dims[1] * dims[2] * dims[3] <= 40000)
            break;
    }
    fc_case c;
    int with_dil = dil[0] != 1 || dil[1] != 1;
    fc_init(&c, avg ? "AveragePool" : "MaxPool", avg && with_dil ? 19 : 12);
    sprinkle_specials(s, fc_input_f32(&c, 4, dims, -4.0f, 4.0f, fc_rand(s)));
    fc_outputs(&c, 1);
    fc_attr_ints(&c, "kernel_shape", 2, k);
    fc_attr_ints(&c, "strides", 2, st);
    if (with_dil) fc_attr_ints(&c, "dilations", 2, dil);
    if (auto_pad) fc_attr(&c, "auto_pad", FT_ATTR_STRING)->s = (char *)auto_pads[auto_pad - 1];
    else fc_attr_ints(&c, "pads", 4, pads);
    fc_attr_int(&c, "ceil_mode", ceil_mode);
    if (avg) fc_attr_int(&c, "count_include_pad", fc_randint(s, 2));
    pool_hints(s, &c, dims[1]);
    assert_true(fc_check_all(&c, TOL_EXACT) > 0);
    fc_free(&c);
}

static void max_pool_candidates_match_the_reference_in_every_layout(void **state)
{
    (void)state;
    uint64_t s = 11;
    for (int trial = 0; trial < 250; trial++) check_random_window_pool(&s, 0);
}

static void average_pool_candidates_match_the_reference_in_every_layout(void **state)
{
    (void)state;
    uint64_t s = 23;
    for (int trial = 0; trial < 250; trial++) check_random_window_pool(&s, 1);
}

static void global_pool_candidates_match_the_reference_in_every_layout(void **state)
{
    (void)state;
    static const char *const ops[] = {"GlobalAveragePool", "GlobalMaxPool"};
    uint64_t s = 37;
    for (size_t o = 0; o < 2; o++)
        for (int trial = 0; trial < 60; trial++) {
            int64_t dims[4] = {1 + fc_randint(&s, 3), random_channels(&s), fc_dim(&s), fc_dim(&s)};
            if (dims[2] * dims[3] > 600) dims[2] = 1 + fc_randint(&s, 9);
            fc_case c;
            fc_init(&c, ops[o], 1);
            sprinkle_specials(&s, fc_input_f32(&c, 4, dims, -4.0f, 4.0f, fc_rand(&s)));
            fc_outputs(&c, 1);
            pool_hints(&s, &c, dims[1]);
            assert_true(fc_check_all(&c, TOL_EXACT) > 0);
            fc_free(&c);
        }
}

/* fc_agree takes +0 for -0; this compares the bits of every candidate's output with the reference's
 * on an input of nothing but signed zeros (and one NaN window), where a max that does not keep the
 * first of equal values, or starts anywhere but -inf, shows. */
static void max_pools_keep_the_first_of_equal_zeros_bit_for_bit(void **state)
{
    (void)state;
    static const char *const ops[] = {"MaxPool", "GlobalMaxPool"};
    uint64_t s = 5;
    for (size_t o = 0; o < 2; o++) {
        int64_t dims[4] = {1, 32, 6, 7};
        fc_case c;
        fc_init(&c, ops[o], 12);
        ft_tensor *x = fc_input_f32(&c, 4, dims, 0.0f, 1.0f, 1);
        float *xv = x->data;
        for (int64_t i = 0; i < ft_shape_numel(&x->shape); i++) xv[i] = fc_randint(&s, 2) ? 0.0f : -0.0f;
        for (int i = 0; i < 4; i++) xv[i] = NAN; /* with pads, window (0, 0) of channel 0 is all NaN */
        xv[7] = xv[8] = xv[9] = NAN;
        fc_outputs(&c, 1);
        if (o == 0) {
            fc_attr_ints(&c, "kernel_shape", 2, (const int64_t[]){2, 3});
            fc_attr_ints(&c, "pads", 4, (const int64_t[]){1, 1, 0, 0});
        }
        c.in_hints[0].n = 2;
        c.in_hints[0].l[0] = nhwc;
        c.in_hints[0].l[1] = nchw16c;
        ft_candidate_list list;
        fc_enumerate(&c, &list);
        ft_error err = {0};
        ft_op_ctx octx = {&c.node, c.n_in, c.n_out, c.in, c.out, &err};
        size_t nb = ft_tensor_nbytes(c.out[0]);
        c.out[0]->data = calloc(nb, 1);
        assert_int_equal(c.node.op->run(&octx), FT_OK);
        const float *ref = c.out[0]->data;
        if (o == 0) assert_true(isinf(ref[0]) && ref[0] < 0);
        int tuned = 0;
        for (int k = 0; k < list.n; k++) {
            const ft_candidate *cand = &list.items[k];
            if (cand->family == &ft_family_reference) continue;
            ft_tensor tin = *c.in[0], tout = *c.out[0];
            ft_tensor *pin = &tin, *pout = &tout;
            ft_layout id;
            ft_layout_identity(&id, 4);
            tin.data = malloc(ft_tensor_nbytes(c.in[0]));
            tout.data = malloc(nb);
            float *back = malloc(nb);
            assert_int_equal(ft_reorder(c.in[0]->data, &id, tin.data, &cand->in_layout[0], &c.in[0]->shape, 4), FT_OK);
            ft_kernel_ctx kctx = {.node = &c.node, .n_in = 1, .n_out = 1, .in = &pin, .out = &pout, .cand = cand, .err = &err};
            assert_int_equal(cand->family->run(&kctx), FT_OK);
            assert_int_equal(ft_reorder(tout.data, &cand->out_layout, back, &id, &c.out[0]->shape, 4), FT_OK);
            if (memcmp(back, ref, nb) != 0) fail_msg("%s: output bits differ from the reference's", cand->key);
            free(back);
            free(tin.data);
            free(tout.data);
            tuned++;
        }
        assert_true(tuned >= 3 && tuned % 3 == 0);
        ft_candidate_list_free(&list);
        fc_free(&c);
    }
}

/* The ResNet-18 MaxPool: NCHW first (the default), NHWC and NCHW16c only when hinted. */
static void nhwc_and_blocked_candidates_are_listed_when_hinted(void **state)
{
    (void)state;
    static const char *const ops[] = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"};
    for (size_t o = 0; o < 4; o++)
        for (int hinted = 0; hinted < 3; hinted++) {
            int64_t dims[4] = {1, 64, 28, 28};
            fc_case c;
            fc_init(&c, ops[o], 17);
            fc_input_f32(&c, 4, dims, -1.0f, 1.0f, 3);
            fc_outputs(&c, 1);
            if (o < 2) {
                fc_attr_ints(&c, "kernel_shape", 2, (const int64_t[]){3, 3});
                fc_attr_ints(&c, "strides", 2, (const int64_t[]){2, 2});
                fc_attr_ints(&c, "pads", 4, (const int64_t[]){1, 1, 1, 1});
            }
            /* hinted 1: on the input; 2: on the output only */
            ft_layout_set *h = hinted == 1 ? &c.in_hints[0] : &c.out_hints;
            if (hinted) {
                h->n = 2;
                h->l[0] = nhwc;
                h->l[1] = nchw16c;
            }
            ft_candidate_list list;
            fc_enumerate(&c, &list);
            assert_true(list.n >= 1);
            assert_string_not_equal(list.items[0].family->name, "reference");
            assert_true(ft_layout_is_identity(&list.items[0].out_layout));
            /* as many candidates (one per ISA) in each layout offered */
            int per_layout = count_keys_with(&list, "/L:0123") - count_keys_with(&list, "/L:0123b1x16");
            assert_true(per_layout >= 1);
            assert_int_equal(count_keys_with(&list, "/L:0231"), hinted ? per_layout : 0);
            assert_int_equal(count_keys_with(&list, "/L:0123b1x16"), hinted ? per_layout : 0);
            assert_int_equal(list.n, hinted ? 3 * per_layout : per_layout);
            for (int i = 0; i < list.n; i++)
                assert_true(ft_layout_equal(&list.items[i].in_layout[0], &list.items[i].out_layout));
            ft_candidate_list_free(&list);
            fc_free(&c);
        }
}

static void default_maxpool_candidate_is_the_tuned_nchw_kernel(void **state)
{
    (void)state;
    int64_t dims[4] = {1, 64, 112, 112};
    fc_case c;
    fc_init(&c, "MaxPool", 17);
    fc_input_f32(&c, 4, dims, -1.0f, 1.0f, 3);
    fc_outputs(&c, 1);
    fc_attr_ints(&c, "kernel_shape", 2, (const int64_t[]){3, 3});
    fc_attr_ints(&c, "strides", 2, (const int64_t[]){2, 2});
    fc_attr_ints(&c, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    ft_candidate_list list;
    fc_enumerate(&c, &list);
    ft_candidate def;
    ft_error err = {0};
    assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
    assert_string_equal(def.family->name, "pool.max");
    assert_string_equal(def.key, ft_fast_isa_supported(FT_FAST_AVX2) ? "maxpool/avx2/L:0123" : "maxpool/scalar/L:0123");
    assert_int_equal(c.out[0]->shape.dims[2], 56);
    ft_candidate_list_free(&list);
    fc_free(&c);
}

/* Indices output, 1-D and 3-D pools, integer types and a window longer than the padded input get
 * no tuned candidate: the reference serves or reports them. */
static void unusual_pools_get_no_tuned_candidate(void **state)
{
    (void)state;
    const ft_kernel_family *fam = ft_registry_family("pool.max");
    assert_non_null(fam);
    ft_error err = {0};
    /* MaxPool with Indices: the reference refuses to infer it, so shapes are set by hand */
    {
        int64_t dims[4] = {1, 16, 8, 8};
        fc_case c;
        fc_init(&c, "MaxPool", 12);
        fc_input_f32(&c, 4, dims, -1.0f, 1.0f, 3);
        fc_outputs(&c, 2);
        fc_attr_ints(&c, "kernel_shape", 2, (const int64_t[]){2, 2});
        fc_attr_ints(&c, "strides", 2, (const int64_t[]){2, 2});
        c.node.n_in = 1;
        c.node.n_out = 2;
        c.out[0]->dtype = FT_FLOAT;
        c.out[0]->shape = (ft_shape){.rank = 4, .dims = {1, 16, 4, 4}};
        c.out[1]->dtype = FT_INT64;
        c.out[1]->shape = c.out[0]->shape;
        ft_candidate_list list = {0};
        assert_int_equal(fam->enumerate(&c.node, c.in, c.out, &list, &err), FT_OK);
        assert_int_equal(list.n, 0);
        /* the same node without Indices is served */
        c.node.n_out = 1;
        assert_int_equal(fam->enumerate(&c.node, c.in, c.out, &list, &err), FT_OK);
        assert_true(list.n >= 1);
        /* an output shape that disagrees with the attributes */
        list.n = 0;
        c.out[0]->shape.dims[3] = 5;
        assert_int_equal(fam->enumerate(&c.node, c.in, c.out, &list, &err), FT_OK);
        assert_int_equal(list.n, 0);
        ft_candidate_list_free(&list);
        fc_free(&c);
    }
    /* 1-D and 3-D pools and uint8 input: only the reference */
    static const int ranks[] = {3, 5};
    for (int r = 0; r < 3; r++) {
        int64_t dims[5] = {1, 16, 6, 6, 6};
        fc_case c;
        fc_init(&c, "MaxPool", 12);
        if (r < 2) fc_input_f32(&c, ranks[r], dims, -1.0f, 1.0f, 3);
        else fc_input(&c, FT_UINT8, 4, dims);
        fc_outputs(&c, 1);
        int ns = r < 2 ? ranks[r] - 2 : 2;
        fc_attr_ints(&c, "kernel_shape", ns, (const int64_t[]){2, 2, 2});
        ft_candidate_list list;
        fc_enumerate(&c, &list);
        assert_int_equal(list.n, 1);
        assert_ptr_equal(list.items[0].family, &ft_family_reference);
        ft_candidate_list_free(&list);
        fc_free(&c);
    }
}

/* A graph through which hints reach some tensors only by crossing a pool (8x8 -> 4x4 -> 2x2). */
static ft_graph *pool_graph(const char *pool)
{
    ft_graph *g = ft_graph_create();
    g->opset = 17;
    g->path = strdup("pool_hints.onnx");
    int64_t xd[4] = {1, 32, 8, 8}, wd[4] = {32, 32, 3, 3};
    tu_add_input(g, "x", FT_FLOAT, 4, xd);
    float *w = calloc(32 * 32 * 9, sizeof *w);
    tu_add_const_f32(g, "w", 4, wd, w);
    free(w);
    /* x -> pool -> a -> Conv -> c -> pool -> p -> Relu -> y */
    int p1 = tu_add_node(g, pool, "pool_in", 1, (const char *[]){"x"}, 1, (const char *[]){"a"});
    int cv = tu_add_node(g, "Conv", "conv", 2, (const char *[]){"a", "w"}, 1, (const char *[]){"c"});
    tu_attr_ints(g, cv, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    int p2 = tu_add_node(g, pool, "pool_out", 1, (const char *[]){"c"}, 1, (const char *[]){"p"});
    const int pools[2] = {p1, p2};
    for (int i = 0; i < 2 && strcmp(pool, "MaxPool") == 0; i++) {
        tu_attr_ints(g, pools[i], "kernel_shape", 2, (const int64_t[]){2, 2});
        tu_attr_ints(g, pools[i], "strides", 2, (const int64_t[]){2, 2});
    }
    tu_add_node(g, "Relu", "relu", 1, (const char *[]){"p"}, 1, (const char *[]){"y"});
    tu_mark_output(g, "y");
    return g;
}

static void layout_hints_flow_through_pools_both_ways(void **state)
{
    (void)state;
    ft_graph *g = pool_graph("MaxPool");
    ft_error err = {0};
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    ft_layout_set *hints = calloc((size_t)g->n_tensors, sizeof *hints);
    assert_int_equal(ft_layout_hints(g, hints, &err), FT_OK);
    /* x only backwards through the first pool, p and y only forwards through the second */
    const char *names[] = {"x", "a", "c", "p", "y"};
    for (int k = 0; k < 5; k++) {
        const ft_layout_set *h = &hints[ft_graph_find_tensor(g, names[k])];
        int has_b = 0, has_nhwc = 0;
        for (int i = 0; i < h->n; i++) {
            has_b |= ft_layout_equal(&h->l[i], &nchw16c);
            has_nhwc |= ft_layout_equal(&h->l[i], &nhwc);
        }
        if (!has_b || !has_nhwc) fail_msg("tensor %s lacks the NHWC or NCHW16c hint", names[k]);
    }
    free(hints);
    ft_graph_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(max_pool_candidates_match_the_reference_in_every_layout),
        cmocka_unit_test(average_pool_candidates_match_the_reference_in_every_layout),
        cmocka_unit_test(global_pool_candidates_match_the_reference_in_every_layout),
        cmocka_unit_test(max_pools_keep_the_first_of_equal_zeros_bit_for_bit),
        cmocka_unit_test(nhwc_and_blocked_candidates_are_listed_when_hinted),
        cmocka_unit_test(default_maxpool_candidate_is_the_tuned_nchw_kernel),
        cmocka_unit_test(unusual_pools_get_no_tuned_candidate),
        cmocka_unit_test(layout_hints_flow_through_pools_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
