/* test_ref_conv.c - reference Conv and pools: padding, strides, dilations, groups, auto_pad,
 * ceil_mode, count_include_pad, and the refusals. */
#include <math.h>

#include "op_harness.h"

static void conv_2d_with_padding_matches_hand_result(void **state)
{
    (void)state;
    float x[25], w[9];
    for (int i = 0; i < 25; i++) x[i] = (float)i;
    for (int i = 0; i < 9; i++) w[i] = 1;
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 4, (int64_t[]){1, 1, 5, 5}, x);
    oh_f32(&c, 4, (int64_t[]){1, 1, 3, 3}, w);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    oh_attr_ints(&c, "kernel_shape", 2, (int64_t[]){3, 3});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 4, (int64_t[]){1, 1, 5, 5});
    const float want[] = {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
                          93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
    oh_assert_f32(c.out[0], want, 25, 0);
    oh_free(&c);
}

static void conv_strided_asymmetric_pads_and_bias(void **state)
{
    (void)state;
    /* 1-D: x = 1..5, w = [1,1,1], pads (1,0), stride 2, bias 10 -> windows [-1..1], [1..3] */
    const float x[] = {1, 2, 3, 4, 5}, w[] = {1, 1, 1}, b[] = {10};
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 3, (int64_t[]){1, 1, 5}, x);
    oh_f32(&c, 3, (int64_t[]){1, 1, 3}, w);
    oh_f32(&c, 1, (int64_t[]){1}, b);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "pads", 2, (int64_t[]){1, 0});
    oh_attr_ints(&c, "strides", 1, (int64_t[]){2});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 3, (int64_t[]){1, 1, 2});
    oh_assert_f32(c.out[0], (float[]){13, 19}, 2, 0);
    oh_free(&c);
}

static void conv_dilation_spreads_taps(void **state)
{
    (void)state;
    const float x[] = {1, 2, 3, 4, 5, 6}, w[] = {1, 10};
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 3, (int64_t[]){1, 1, 6}, x);
    oh_f32(&c, 3, (int64_t[]){1, 1, 2}, w);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "dilations", 1, (int64_t[]){3});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){41, 52, 63}, 3, 0);
    oh_free(&c);
}

static void conv_same_upper_and_lower_put_the_odd_pad_apart(void **state)
{
    (void)state;
    const float x[] = {1, 2, 3, 4}, w[] = {1, 10};
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    const float want[3][4] = {{21, 32, 43, 4}, {10, 21, 32, 43}, {21, 32, 43, 0}};
    for (int m = 0; m < 3; m++) {
        oh_case c;
        oh_init(&c, "Conv", 11);
        oh_f32(&c, 3, (int64_t[]){1, 1, 4}, x);
        oh_f32(&c, 3, (int64_t[]){1, 1, 2}, w);
        oh_outputs(&c, 1);
        oh_attr_str(&c, "auto_pad", modes[m]);
        assert_int_equal(oh_run(&c), FT_OK);
        oh_assert_shape(c.out[0], 3, (int64_t[]){1, 1, m == 2 ? 3 : 4});
        oh_assert_f32(c.out[0], want[m], m == 2 ? 3 : 4, 0);
        oh_free(&c);
    }
}

static void conv_depthwise_groups_keep_channels_apart(void **state)
{
    (void)state;
    /* 2 channels, group 2, one 1x1 filter per channel: scales each channel on its own. */
    const float x[] = {1, 2, 3, 4, 5, 6, 7, 8}, w[] = {2, -1};
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 4, (int64_t[]){1, 2, 2, 2}, x);
    oh_f32(&c, 4, (int64_t[]){2, 1, 1, 1}, w);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "group", 2);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){2, 4, 6, 8, -5, -6, -7, -8}, 8, 0);
    oh_free(&c);
}

/* The textbook formula with a bounds test per tap, to check the kernel's clipped tap ranges. */
static float naive_conv_at(const float *x, const float *w, const int64_t *xd, const int64_t *wd, int64_t group,
                           const int64_t *st, const int64_t *dil, const int64_t *pb, int64_t n, int64_t oc, int64_t oh,
                           int64_t ow)
{
    int64_t cg = wd[1], mg = wd[0] / group;
    double acc = 0;
    for (int64_t ic = 0; ic < cg; ic++)
        for (int64_t kh = 0; kh < wd[2]; kh++)
            for (int64_t kw = 0; kw < wd[3]; kw++) {
                int64_t ih = oh * st[0] - pb[0] + kh * dil[0], iw = ow * st[1] - pb[1] + kw * dil[1];
                if (ih < 0 || ih >= xd[2] || iw < 0 || iw >= xd[3]) continue;
                int64_t c = (oc / mg) * cg + ic;
                acc += (double)x[((n * xd[1] + c) * xd[2] + ih) * xd[3] + iw] * w[((oc * cg + ic) * wd[2] + kh) * wd[3] + kw];
            }
    return (float)acc;
}

static void conv_matches_naive_formula_on_mixed_cases(void **state)
{
    (void)state;
    struct {
        int64_t n, c, h, w, m, kh, kw, group, sh, sw, dh, dw, p[4];
    } cases[] = {
        {1, 4, 7, 6, 6, 3, 2, 2, 2, 1, 1, 2, {1, 0, 2, 1}},
        {2, 3, 5, 5, 3, 3, 3, 3, 1, 2, 2, 1, {2, 2, 0, 1}},
        {1, 2, 8, 3, 4, 2, 3, 1, 3, 1, 1, 1, {0, 1, 1, 1}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t xd[4] = {cases[k].n, cases[k].c, cases[k].h, cases[k].w};
        int64_t wd[4] = {cases[k].m, cases[k].c / cases[k].group, cases[k].kh, cases[k].kw};
        int64_t st[2] = {cases[k].sh, cases[k].sw}, dil[2] = {cases[k].dh, cases[k].dw};
        oh_case c;
        oh_init(&c, "Conv", 11);
        ft_tensor *x = oh_f32(&c, 4, xd, NULL), *w = oh_f32(&c, 4, wd, NULL);
        tu_fill_uniform(x->data, (size_t)ft_shape_numel(&x->shape), 10 + k, -1, 1);
        tu_fill_uniform(w->data, (size_t)ft_shape_numel(&w->shape), 20 + k, -1, 1);
        oh_outputs(&c, 1);
        oh_attr_int(&c, "group", cases[k].group);
        oh_attr_ints(&c, "strides", 2, st);
        oh_attr_ints(&c, "dilations", 2, dil);
        oh_attr_ints(&c, "pads", 4, cases[k].p);
        assert_int_equal(oh_run(&c), FT_OK);
        const ft_shape *ys = &c.out[0]->shape;
        for (int64_t i = 0; i < 2; i++) {
            int64_t eff = dil[i] * (wd[2 + i] - 1) + 1;
            assert_int_equal(ys->dims[2 + i], (xd[2 + i] + cases[k].p[i] + cases[k].p[2 + i] - eff) / st[i] + 1);
        }
        const float *y = c.out[0]->data;
        for (int64_t n = 0; n < ys->dims[0]; n++)
            for (int64_t m = 0; m < ys->dims[1]; m++)
                for (int64_t oh = 0; oh < ys->dims[2]; oh++)
                    for (int64_t ow = 0; ow < ys->dims[3]; ow++) {
                        float want = naive_conv_at(x->data, w->data, xd, wd, cases[k].group, st, dil, cases[k].p, n,
                                                   m, oh, ow);
                        float got = y[((n * ys->dims[1] + m) * ys->dims[2] + oh) * ys->dims[3] + ow];
                        assert_true(fabsf(got - want) < 1e-5f);
                    }
        oh_free(&c);
    }
}

static void conv_3d_sums_a_cube(void **state)
{
    (void)state;
    float x[27], w[8];
    for (int i = 0; i < 27; i++) x[i] = 1;
    for (int i = 0; i < 8; i++) w[i] = 1;
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 5, (int64_t[]){1, 1, 3, 3, 3}, x);
    oh_f32(&c, 5, (int64_t[]){1, 1, 2, 2, 2}, w);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "strides", 3, (int64_t[]){1, 1, 1});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 5, (int64_t[]){1, 1, 2, 2, 2});
    oh_assert_f32(c.out[0], (float[]){8, 8, 8, 8, 8, 8, 8, 8}, 8, 0);
    oh_free(&c);
}

static void conv_refuses_channels_that_do_not_fit_the_groups(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 4, (int64_t[]){1, 3, 4, 4}, NULL);
    oh_f32(&c, 4, (int64_t[]){2, 2, 1, 1}, NULL);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "group", 2);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);

    oh_init(&c, "Conv", 11); /* kernel_shape disagrees with the weights */
    oh_f32(&c, 4, (int64_t[]){1, 1, 4, 4}, NULL);
    oh_f32(&c, 4, (int64_t[]){1, 1, 3, 3}, NULL);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "kernel_shape", 2, (int64_t[]){2, 2});
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void maxpool_ceil_mode_adds_the_partial_window(void **state)
{
    (void)state;
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    for (int ceil_mode = 0; ceil_mode < 2; ceil_mode++) {
        oh_case c;
        oh_init(&c, "MaxPool", 12);
        oh_f32(&c, 4, (int64_t[]){1, 1, 4, 4}, x);
        oh_outputs(&c, 1);
        oh_attr_ints(&c, "kernel_shape", 2, (int64_t[]){3, 3});
        oh_attr_ints(&c, "strides", 2, (int64_t[]){2, 2});
        oh_attr_int(&c, "ceil_mode", ceil_mode);
        assert_int_equal(oh_run(&c), FT_OK);
        if (ceil_mode) {
            oh_assert_shape(c.out[0], 4, (int64_t[]){1, 1, 2, 2});
            oh_assert_f32(c.out[0], (float[]){11, 12, 15, 16}, 4, 0);
        } else {
            oh_assert_shape(c.out[0], 4, (int64_t[]){1, 1, 1, 1});
            oh_assert_f32(c.out[0], (float[]){11}, 1, 0);
        }
        oh_free(&c);
    }
}

static void ceil_mode_drops_a_window_that_starts_in_the_end_padding(void **state)
{
    (void)state;
    /* in 4, kernel 2, stride 2, pads (0,1): a third window would start at 4, inside the padding. */
    const float x[] = {1, 5, 2, 7};
    oh_case c;
    oh_init(&c, "MaxPool", 12);
    oh_f32(&c, 3, (int64_t[]){1, 1, 4}, x);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "kernel_shape", 1, (int64_t[]){2});
    oh_attr_ints(&c, "strides", 1, (int64_t[]){2});
    oh_attr_ints(&c, "pads", 2, (int64_t[]){0, 1});
    oh_attr_int(&c, "ceil_mode", 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 3, (int64_t[]){1, 1, 2});
    oh_assert_f32(c.out[0], (float[]){5, 7}, 2, 0);
    oh_free(&c);
}

static void maxpool_dilations_and_padding_ignore_pad_values(void **state)
{
    (void)state;
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    oh_case c;
    oh_init(&c, "MaxPool", 12);
    oh_f32(&c, 4, (int64_t[]){1, 1, 4, 4}, x);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "kernel_shape", 2, (int64_t[]){2, 2});
    oh_attr_ints(&c, "dilations", 2, (int64_t[]){2, 2});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){11, 12, 15, 16}, 4, 0);
    oh_free(&c);

    const float neg[] = {-5, -3, -4};
    oh_init(&c, "MaxPool", 12);
    oh_f32(&c, 3, (int64_t[]){1, 1, 3}, neg);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "kernel_shape", 1, (int64_t[]){2});
    oh_attr_ints(&c, "pads", 2, (int64_t[]){1, 1});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){-5, -3, -3, -4}, 4, 0);
    oh_free(&c);
}

static void maxpool_handles_uint8(void **state)
{
    (void)state;
    const uint8_t x[] = {3, 250, 7, 1, 0, 9};
    oh_case c;
    oh_init(&c, "MaxPool", 12);
    oh_input(&c, FT_UINT8, 3, (int64_t[]){1, 1, 6}, x, 0);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "kernel_shape", 1, (int64_t[]){2});
    oh_attr_ints(&c, "strides", 1, (int64_t[]){2});
    assert_int_equal(oh_run(&c), FT_OK);
    assert_int_equal(c.out[0]->dtype, FT_UINT8);
    const uint8_t *y = c.out[0]->data;
    assert_int_equal(y[0], 250);
    assert_int_equal(y[1], 7);
    assert_int_equal(y[2], 9);
    oh_free(&c);
}

static void maxpool_refuses_the_indices_output(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "MaxPool", 12);
    oh_f32(&c, 4, (int64_t[]){1, 1, 4, 4}, NULL);
    oh_outputs(&c, 2);
    oh_attr_ints(&c, "kernel_shape", 2, (int64_t[]){2, 2});
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_UNSUPPORTED);
    oh_free(&c);
}

static void avgpool_count_include_pad_changes_the_divisor(void **state)
{
    (void)state;
    const float x[] = {1, 2, 3};
    const float want[2][3] = {{1.5f, 2, 2.5f}, {1, 2, 5.0f / 3}};
    for (int inc = 0; inc < 2; inc++) {
        oh_case c;
        oh_init(&c, "AveragePool", 11);
        oh_f32(&c, 3, (int64_t[]){1, 1, 3}, x);
        oh_outputs(&c, 1);
        oh_attr_ints(&c, "kernel_shape", 1, (int64_t[]){3});
        oh_attr_ints(&c, "pads", 2, (int64_t[]){1, 1});
        oh_attr_int(&c, "count_include_pad", inc);
        assert_int_equal(oh_run(&c), FT_OK);
        oh_assert_f32(c.out[0], want[inc], 3, 1e-6);
        oh_free(&c);
    }
}

static void avgpool_same_upper_and_lower(void **state)
{
    (void)state;
    const float x[] = {1, 2, 3, 4};
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER"};
    const float want[2][4] = {{1.5f, 2.5f, 3.5f, 4}, {1, 1.5f, 2.5f, 3.5f}};
    for (int m = 0; m < 2; m++) {
        oh_case c;
        oh_init(&c, "AveragePool", 11);
        oh_f32(&c, 3, (int64_t[]){1, 1, 4}, x);
        oh_outputs(&c, 1);
        oh_attr_ints(&c, "kernel_shape", 1, (int64_t[]){2});
        oh_attr_str(&c, "auto_pad", modes[m]);
        assert_int_equal(oh_run(&c), FT_OK);
        oh_assert_f32(c.out[0], want[m], 4, 1e-6);
        oh_free(&c);
    }
}

static void avgpool_ceil_mode_divides_by_the_taps_inside(void **state)
{
    (void)state;
    /* in 5, kernel 2, stride 2, ceil: the last window holds only x[4]. */
    const float x[] = {1, 3, 5, 7, 9};
    oh_case c;
    oh_init(&c, "AveragePool", 11);
    oh_f32(&c, 3, (int64_t[]){1, 1, 5}, x);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "kernel_shape", 1, (int64_t[]){2});
    oh_attr_ints(&c, "strides", 1, (int64_t[]){2});
    oh_attr_int(&c, "ceil_mode", 1);
    oh_attr_int(&c, "count_include_pad", 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){2, 6, 9}, 3, 1e-6);
    oh_free(&c);
}

static void global_average_pool_averages_each_plane(void **state)
{
    (void)state;
    const float x[] = {1, 2, 3, 4, 10, 20, 30, 40};
    oh_case c;
    oh_init(&c, "GlobalAveragePool", 11);
    oh_f32(&c, 4, (int64_t[]){1, 2, 2, 2}, x);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 4, (int64_t[]){1, 2, 1, 1});
    oh_assert_f32(c.out[0], (float[]){2.5f, 25}, 2, 1e-6);
    oh_free(&c);

    oh_init(&c, "GlobalMaxPool", 11);
    oh_f32(&c, 3, (int64_t[]){1, 2, 4}, x);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){4, 40}, 2, 0);
    oh_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_2d_with_padding_matches_hand_result),
        cmocka_unit_test(conv_strided_asymmetric_pads_and_bias),
        cmocka_unit_test(conv_dilation_spreads_taps),
        cmocka_unit_test(conv_same_upper_and_lower_put_the_odd_pad_apart),
        cmocka_unit_test(conv_depthwise_groups_keep_channels_apart),
        cmocka_unit_test(conv_matches_naive_formula_on_mixed_cases),
        cmocka_unit_test(conv_3d_sums_a_cube),
        cmocka_unit_test(conv_refuses_channels_that_do_not_fit_the_groups),
        cmocka_unit_test(maxpool_ceil_mode_adds_the_partial_window),
        cmocka_unit_test(ceil_mode_drops_a_window_that_starts_in_the_end_padding),
        cmocka_unit_test(maxpool_dilations_and_padding_ignore_pad_values),
        cmocka_unit_test(maxpool_handles_uint8),
        cmocka_unit_test(maxpool_refuses_the_indices_output),
        cmocka_unit_test(avgpool_count_include_pad_changes_the_divisor),
        cmocka_unit_test(avgpool_same_upper_and_lower),
        cmocka_unit_test(avgpool_ceil_mode_divides_by_the_taps_inside),
        cmocka_unit_test(global_average_pool_averages_each_plane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
