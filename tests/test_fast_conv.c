/* test_fast_conv.c - the conv.im2col and conv.direct_depthwise families: every candidate on random
 * 2-D convolutions (strides, dilations, asymmetric and automatic padding, groups, depthwise, 1x1,
 * bias) against the reference kernel; which family the default plan picks; ResNet-18 end to end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fast_harness.h"

typedef struct conv_coverage {
    int cases, depthwise, grouped, direct_1x1, weights_b, prepacked;
} conv_coverage;

/* Every candidate of `family` for case c (reference already run) matches the reference; returns
 * how many there were. */
static int check_family(oh_case *c, const char *family, int const_w, conv_coverage *cov)
{
    const ft_kernel_family *f = ft_registry_family(family);
    assert_non_null(f);
    ft_candidate_list l = {0};
    ft_error err = {0};
    assert_int_equal(f->enumerate(&c->node, c->in, c->out, &l, &err), FT_OK);
    for (int i = 0; i < l.n; i++) {
        const ft_candidate *cand = &l.items[i];
        for (int j = 0; j < cand->n_in; j++) assert_true(ft_layout_is_identity(&cand->in_layout[j]));
        int prepack = f->prepare && cand->params[FT_LP_PREPACK];
        assert_true(!prepack || const_w);
        double e = fh_check_candidate(c, cand, prepack ? 1 : -1);
        if (!(e < 1e-5)) {
            char sx[64], sw[64];
            fail_msg("%s: rel L2 error %g for x %s, w %s", cand->key, e, ft_shape_str(&c->in[0]->shape, sx, sizeof sx),
                     ft_shape_str(&c->in[1]->shape, sw, sizeof sw));
        }
        if (cov && f->prepare) {
            cov->weights_b += strstr(cand->key, "weightsB") != NULL;
            cov->prepacked += prepack;
        }
    }
    int n = l.n;
    ft_candidate_list_free(&l);
    return n;
}

/* A random Conv the reference accepts, run by the reference. Returns 1 when it is depthwise. */
static int random_conv(fh_rng *r, oh_case *c, int *const_w, int *direct)
{
    for (;;) {
        int kind = (int)fh_range(r, 0, 3); /* 0,1: group 1; 2: depthwise; 3: other group counts */
        int64_t group = 1, cg = fh_range(r, 1, 9), mg = fh_range(r, 1, 12);
        if (kind == 2) {
            group = fh_range(r, 1, 8);
            cg = 1;
            mg = fh_range(r, 1, 2);
        } else if (kind == 3) {
            group = fh_range(r, 2, 3);
            cg = fh_range(r, 1, 4);
            mg = fh_range(r, 1, 5);
        }
        int64_t n = fh_range(r, 1, 2), h = fh_range(r, 1, 19), w = fh_range(r, 1, 19);
        int64_t kh = fh_range(r, 1, 5), kw = fh_range(r, 1, 5), st[2] = {fh_range(r, 1, 3), fh_range(r, 1, 3)};
        int64_t dil[2] = {fh_range(r, 1, 2), fh_range(r, 1, 2)};
        int64_t pads[4] = {fh_range(r, 0, 2), fh_range(r, 0, 2), fh_range(r, 0, 2), fh_range(r, 0, 2)};
        *direct = fh_next(r) % 6 == 0;
        if (*direct) {
            kh = kw = st[0] = st[1] = 1;
            memset(pads, 0, sizeof pads);
        }
        static const char *const auto_pads[] = {NULL, NULL, NULL, "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"};
        const char *ap = *direct ? NULL : auto_pads[fh_next(r) % 7];
        oh_init(c, "Conv", 11);
        ft_tensor *x = oh_f32(c, 4, (int64_t[]){n, group * cg, h, w}, NULL);
        ft_tensor *wt = oh_f32(c, 4, (int64_t[]){group * mg, cg, kh, kw}, NULL);
        tu_fill_uniform(x->data, (size_t)ft_shape_numel(&x->shape), fh_next(r), -1.0f, 1.0f);
        tu_fill_uniform(wt->data, (size_t)ft_shape_numel(&wt->shape), fh_next(r), -1.0f, 1.0f);
        *const_w = fh_next(r) % 4 != 0;
        if (*const_w) wt->flags = FT_T_CONST;
        if (fh_next(r) % 2) {
            ft_tensor *b = oh_f32(c, 1, (int64_t[]){group * mg}, NULL);
            tu_fill_uniform(b->data, (size_t)(group * mg), fh_next(r), -1.0f, 1.0f);
        }
        if (fh_next(r) % 2) oh_attr_ints(c, "kernel_shape", 2, (int64_t[]){kh, kw});
        if (st[0] != 1 || st[1] != 1 || fh_next(r) % 2) oh_attr_ints(c, "strides", 2, st);
        if (dil[0] != 1 || dil[1] != 1) oh_attr_ints(c, "dilations", 2, dil);
        if (ap) oh_attr_str(c, "auto_pad", ap);
        if (!ap || strcmp(ap, "NOTSET") == 0) oh_attr_ints(c, "pads", 4, pads);
        if (group != 1 || fh_next(r) % 2) oh_attr_int(c, "group", group);
        oh_outputs(c, 1);
        if (oh_run(c) == FT_OK && ft_shape_numel(&c->out[0]->shape) > 0) return kind == 2;
        oh_free(c); /* the window does not fit the padded input: draw again */
    }
}

static void conv_candidates_match_reference_on_random_convolutions(void **state)
{
    (void)state;
    fh_rng r = {1234};
    conv_coverage cov = {0};
    for (int t = 0; t < 120; t++) {
        oh_case c;
        int const_w, direct;
        int depthwise = random_conv(&r, &c, &const_w, &direct);
        int64_t group = ft_attr_int(&c.node, "group", 1);
        assert_true(check_family(&c, "conv.im2col", const_w, &cov) > 4);
        int n_dw = check_family(&c, "conv.direct_depthwise", const_w, NULL);
        assert_int_equal(n_dw, group == c.in[0]->shape.dims[1] ? 1 : 0);
        ft_candidate def;
        ft_error err = {0};
        assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
        assert_string_equal(def.family->name, n_dw ? "conv.direct_depthwise" : "conv.im2col");
        cov.cases++;
        cov.depthwise += depthwise;
        cov.grouped += group > 1 && !depthwise;
        cov.direct_1x1 += direct;
        oh_free(&c);
    }
    assert_true(cov.depthwise > 10 && cov.grouped > 10 && cov.direct_1x1 > 10);
    assert_true(cov.weights_b > 100 && cov.prepacked > 50);
}

/* The shapes of ResNet-18's stages at 224x224, at batch 1: large images with few channels down to
 * 7x7 with 512, the strided 1x1 downsampling, the 7x7 stem. */
static void conv_candidates_match_reference_on_resnet_stage_shapes(void **state)
{
    (void)state;
    static const int64_t shapes[][6] = {
        /* c, h, m, k, stride, pad */
        {3, 56, 16, 7, 2, 3}, {16, 28, 16, 3, 1, 1}, {16, 28, 32, 1, 2, 0},
        {64, 7, 128, 3, 1, 1}, {128, 7, 64, 1, 1, 0},
    };
    fh_rng r = {5};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int64_t *s = shapes[i];
        oh_case c;
        oh_init(&c, "Conv", 11);
        ft_tensor *x = oh_f32(&c, 4, (int64_t[]){1, s[0], s[1], s[1]}, NULL);
        ft_tensor *w = oh_f32(&c, 4, (int64_t[]){s[2], s[0], s[3], s[3]}, NULL);
        ft_tensor *b = oh_f32(&c, 1, (int64_t[]){s[2]}, NULL);
        tu_fill_uniform(x->data, (size_t)ft_shape_numel(&x->shape), fh_next(&r), -1.0f, 1.0f);
        tu_fill_uniform(w->data, (size_t)ft_shape_numel(&w->shape), fh_next(&r), -0.2f, 0.2f);
        tu_fill_uniform(b->data, (size_t)s[2], fh_next(&r), -1.0f, 1.0f);
        w->flags = FT_T_CONST;
        oh_attr_ints(&c, "strides", 2, (int64_t[]){s[4], s[4]});
        oh_attr_ints(&c, "pads", 4, (int64_t[]){s[5], s[5], s[5], s[5]});
        oh_outputs(&c, 1);
        assert_int_equal(oh_run(&c), FT_OK);
        check_family(&c, "conv.im2col", 1, NULL);
        oh_free(&c);
    }
}

static void convs_other_than_two_dimensional_are_left_to_the_reference(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 3, (int64_t[]){1, 2, 10}, NULL);
    oh_f32(&c, 3, (int64_t[]){3, 2, 3}, NULL);
    oh_outputs(&c, 1);
    assert_int_equal(oh_infer(&c), FT_OK);
    ft_candidate def;
    ft_error err = {0};
    assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
    assert_string_equal(def.family->name, "reference");
    oh_free(&c);
}

static void resnet18_tiny_matches_pytorch_through_the_default_plan(void **state)
{
    (void)state;
    assert_true(fh_run_model(FT_TEST_DIR "/models/resnet18_tiny", "Conv", "conv.im2col") >= 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_candidates_match_reference_on_random_convolutions),
        cmocka_unit_test(conv_candidates_match_reference_on_resnet_stage_shapes),
        cmocka_unit_test(convs_other_than_two_dimensional_are_left_to_the_reference),
        cmocka_unit_test(resnet18_tiny_matches_pytorch_through_the_default_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
