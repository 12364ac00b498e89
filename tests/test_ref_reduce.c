/* test_ref_reduce.c - reference reductions, Softmax/LogSoftmax, LayerNormalization, BatchNormalization. */
#include <math.h>
#include <stdint.h>

#include "op_case.h"

/* The [3,2,2] example of ONNX's Reduce* documentation. */
static const float X322[12] = {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2};

/* Reduces X322 with the axes attribute (n_axes < 0: none) and keepdims (< 0: default). */
static void check_reduce_attr(const char *op, int n_axes, const int64_t *axes, int keepdims, int rank,
                              const int64_t *dims, const float *want, size_t n, double tol)
{
    op_case c;
    opc_init(&c, op, 13, 1, 1);
    if (n_axes >= 0) opc_attr_ints(&c, "axes", n_axes, axes);
    if (keepdims >= 0) opc_attr_i(&c, "keepdims", keepdims);
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(3, 2, 2), X322);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_shape(&c.out[0], rank, dims);
    opc_assert_f32(&c.out[0], want, n, tol);
    opc_free(&c);
}

static void reduce_mean_sum_max_min_prod_over_chosen_axes(void **state)
{
    (void)state;
    check_reduce_attr("ReduceMean", 1, DIMS(1), 1, 3, DIMS(3, 1, 2), (const float[]){12.5f, 1.5f, 35, 1.5f, 57.5f, 1.5f},
                      6, 1e-6);
    check_reduce_attr("ReduceSum", 1, DIMS(-2), 0, 2, DIMS(3, 2), (const float[]){25, 3, 70, 3, 115, 3}, 6, 0);
    check_reduce_attr("ReduceMax", 2, DIMS(0, 2), 0, 1, DIMS(2), (const float[]){55, 60}, 2, 0);
    check_reduce_attr("ReduceMin", 1, DIMS(2), -1, 3, DIMS(3, 2, 1), (const float[]){1, 2, 1, 2, 1, 2}, 6, 0);
    check_reduce_attr("ReduceProd", 1, DIMS(1), 1, 3, DIMS(3, 1, 2), (const float[]){100, 2, 1200, 2, 3300, 2}, 6, 0);
}

static void reduce_without_axes_reduces_everything(void **state)
{
    (void)state;
    check_reduce_attr("ReduceSum", -1, NULL, 1, 3, DIMS(1, 1, 1), (const float[]){219}, 1, 0);
    check_reduce_attr("ReduceMean", -1, NULL, 0, 0, NULL, (const float[]){18.25f}, 1, 1e-6);
}

static void reduce_norms_and_log_sums(void **state)
{
    (void)state;
    static const char *const ops[5] = {"ReduceSumSquare", "ReduceL2", "ReduceL1", "ReduceLogSum", "ReduceLogSumExp"};
    static const float x[5][2] = {{3, 4}, {3, 4}, {-3, 4}, {1, 1.718281828f}, {1000, 1000}};
    static const float want[5] = {25, 5, 7, 1, 1000.693147f};
    for (int k = 0; k < 5; k++) {
        op_case c;
        opc_init(&c, ops[k], 13, 1, 1);
        opc_attr_i(&c, "keepdims", 0);
        opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), x[k]);
        assert_int_equal(opc_run(&c), FT_OK);
        opc_assert_shape(&c.out[0], 0, NULL);
        opc_assert_f32(&c.out[0], &want[k], 1, 1e-4);
        opc_free(&c);
    }
}

static void reduce_sum_takes_constant_axes_input_from_opset_13(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "ReduceSum", 13, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(3, 2, 2), X322);
    opc_in(&c, 1, FT_INT64, 1, DIMS(1), (const int64_t[]){1})->flags |= FT_T_CONST;
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_shape(&c.out[0], 3, DIMS(3, 1, 2));
    opc_assert_f32(&c.out[0], (const float[]){25, 3, 70, 3, 115, 3}, 6, 0);
    opc_free(&c);

    opc_init(&c, "ReduceSum", 11, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(3, 2, 2), X322);
    opc_in(&c, 1, FT_INT64, 1, DIMS(1), (const int64_t[]){1})->flags |= FT_T_CONST;
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_free(&c);
}

static void reduce_sum_with_empty_axes_is_noop_only_when_asked(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "ReduceSum", 13, 2, 1);
    opc_attr_i(&c, "noop_with_empty_axes", 1);
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(3, 2, 2), X322);
    opc_in(&c, 1, FT_INT64, 1, DIMS(0), NULL)->flags |= FT_T_CONST;
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_shape(&c.out[0], 3, DIMS(3, 2, 2));
    opc_assert_f32(&c.out[0], X322, 12, 0);
    opc_free(&c);

    /* an axes input known to be empty from its shape needs no constant value */
    opc_init(&c, "ReduceSum", 13, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(3, 2, 2), X322);
    opc_in(&c, 1, FT_INT64, 1, DIMS(0), NULL);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_shape(&c.out[0], 3, DIMS(1, 1, 1));
    opc_assert_f32(&c.out[0], (const float[]){219}, 1, 0);
    opc_free(&c);
}

static void reduce_sum_refuses_axes_known_only_at_run_time(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "ReduceSum", 13, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(3, 2, 2), X322);
    opc_in(&c, 1, FT_INT64, 1, DIMS(1), (const int64_t[]){1});
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "axes");
    opc_free(&c);
}

static void reduce_rejects_repeated_and_out_of_range_axes(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "ReduceMean", 13, 1, 1);
    opc_attr_ints(&c, "axes", 2, DIMS(1, -2));
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(3, 2, 2), X322);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_assert_msg(&c, "twice");
    opc_free(&c);

    opc_init(&c, "ReduceMax", 13, 1, 1);
    opc_attr_ints(&c, "axes", 1, DIMS(3));
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(3, 2, 2), X322);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_assert_msg(&c, "out of range");
    opc_free(&c);
}

static void reduce_sum_and_max_work_on_int64(void **state)
{
    (void)state;
    const int64_t x[4] = {3, -7, 9, 2};
    op_case c;
    opc_init(&c, "ReduceMax", 13, 1, 1);
    opc_attr_ints(&c, "axes", 1, DIMS(1));
    opc_attr_i(&c, "keepdims", 0);
    opc_in(&c, 0, FT_INT64, 2, DIMS(2, 2), x);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_i64(&c.out[0], (const int64_t[]){3, 9}, 2);
    opc_free(&c);

    opc_init(&c, "ReduceSum", 11, 1, 1);
    opc_in(&c, 0, FT_INT64, 2, DIMS(2, 2), x);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_i64(&c.out[0], (const int64_t[]){7}, 1);
    opc_free(&c);

    opc_init(&c, "ReduceMean", 13, 1, 1);
    opc_in(&c, 0, FT_INT64, 2, DIMS(2, 2), x);
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "int64");
    opc_free(&c);
}

/* Softmax-family op on a [2,2,2] input; axis < -10 means the attribute is absent. */
static void check_softmax(const char *op, int opset, int axis, const float *x, const float *want)
{
    op_case c;
    opc_init(&c, op, opset, 1, 1);
    if (axis >= -10) opc_attr_i(&c, "axis", axis);
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(2, 2, 2), x);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_shape(&c.out[0], 3, DIMS(2, 2, 2));
    opc_assert_f32(&c.out[0], want, 8, 1e-6);
    opc_free(&c);
}

static const float SM_X[8] = {0, 1, 2, 3, 0, 0, 1000, 1001};

static void softmax_from_opset_13_normalises_one_axis(void **state)
{
    (void)state;
    const float p0 = 0.268941421f, p1 = 0.731058579f;
    check_softmax("Softmax", 13, -100, SM_X, (const float[]){p0, p1, p0, p1, 0.5f, 0.5f, p0, p1});
    check_softmax("Softmax", 13, 0, SM_X, (const float[]){0.5f, p1, 0, 0, 0.5f, p0, 1, 1});
}

static void softmax_before_opset_13_coerces_to_2d(void **state)
{
    (void)state;
    check_softmax("Softmax", 11, -100, SM_X,
                  (const float[]){0.0320586f, 0.0871443f, 0.2368828f, 0.6439142f, 0, 0, 0.268941421f, 0.731058579f});
    /* axis 2 of rank 3 coerces to [4, 2]: the same as the single-axis form */
    const float p0 = 0.268941421f, p1 = 0.731058579f;
    check_softmax("Softmax", 11, 2, SM_X, (const float[]){p0, p1, p0, p1, 0.5f, 0.5f, p0, p1});
}

static void log_softmax_is_stable_for_large_inputs(void **state)
{
    (void)state;
    const float l0 = -1.31326169f, l1 = -0.31326169f, lh = -0.693147181f;
    check_softmax("LogSoftmax", 13, -1, SM_X, (const float[]){l0, l1, l0, l1, lh, lh, l0, l1});
    check_softmax("LogSoftmax", 11, 1, SM_X,
                  (const float[]){-3.44018970f, -2.44018970f, -1.44018970f, -0.44018970f, -1001.31326169f, -1001.31326169f,
                                  l0, l1});
}

static void softmax_rejects_bad_axis_and_type(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Softmax", 13, 1, 1);
    opc_attr_i(&c, "axis", 3);
    opc_in(&c, 0, FT_FLOAT, 3, DIMS(2, 2, 2), SM_X);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_free(&c);

    opc_init(&c, "Softmax", 13, 1, 1);
    opc_in(&c, 0, FT_INT32, 1, DIMS(2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "int32");
    opc_free(&c);
}

static const float LN_X[6] = {1, 2, 3, 2, 4, 6};

static void layer_norm_last_axis_with_scale_bias_and_statistics(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "LayerNormalization", 17, 3, 3);
    opc_attr_f(&c, "epsilon", 0);
    opc_in(&c, 0, FT_FLOAT, 2, DIMS(2, 3), LN_X);
    opc_in(&c, 1, FT_FLOAT, 1, DIMS(3), (const float[]){1, 2, 3});
    opc_in(&c, 2, FT_FLOAT, 1, DIMS(3), (const float[]){0.5f, 0.5f, 0.5f});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){-0.72474487f, 0.5f, 4.17423461f, -0.72474487f, 0.5f, 4.17423461f}, 6,
                   1e-6);
    opc_assert_shape(&c.out[1], 2, DIMS(2, 1));
    opc_assert_f32(&c.out[1], (const float[]){2, 4}, 2, 1e-6);
    opc_assert_shape(&c.out[2], 2, DIMS(2, 1));
    opc_assert_f32(&c.out[2], (const float[]){1.22474487f, 0.61237244f}, 2, 1e-6);
    opc_free(&c);
}

static void layer_norm_axis_0_normalises_everything(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "LayerNormalization", 17, 2, 3);
    opc_attr_i(&c, "axis", 0);
    opc_attr_f(&c, "epsilon", 0);
    c.out[1].name = (char *)""; /* Mean omitted */
    opc_in(&c, 0, FT_FLOAT, 2, DIMS(2, 3), LN_X);
    opc_in(&c, 1, FT_FLOAT, 2, DIMS(2, 3), (const float[]){1, 1, 1, 1, 1, 1});
    assert_int_equal(opc_run(&c), FT_OK);
    assert_null(c.out[1].data);
    opc_assert_f32(&c.out[0],
                   (const float[]){-1.22474487f, -0.61237244f, 0, -0.61237244f, 0.61237244f, 1.83711731f}, 6, 1e-6);
    opc_assert_shape(&c.out[2], 2, DIMS(1, 1));
    opc_assert_f32(&c.out[2], (const float[]){0.61237244f}, 1, 1e-6);
    opc_free(&c);
}

static void layer_norm_scale_broadcasts_only_over_normalised_axes(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "LayerNormalization", 17, 2, 1);
    opc_attr_f(&c, "epsilon", 0);
    opc_in(&c, 0, FT_FLOAT, 2, DIMS(2, 3), LN_X);
    opc_in(&c, 1, FT_FLOAT, 2, DIMS(1, 3), (const float[]){1, 2, 3});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){-1.22474487f, 0, 3.67423461f, -1.22474487f, 0, 3.67423461f}, 6, 1e-6);
    opc_free(&c);

    opc_init(&c, "LayerNormalization", 17, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 2, DIMS(2, 3), LN_X);
    opc_in(&c, 1, FT_FLOAT, 2, DIMS(2, 1), (const float[]){1, 2});
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "in1");
    opc_free(&c);

    opc_init(&c, "LayerNormalization", 17, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 2, DIMS(2, 3), LN_X);
    opc_in(&c, 1, FT_FLOAT, 1, DIMS(4), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_free(&c);
}

static void batch_norm_normalises_each_channel(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "BatchNormalization", 15, 5, 1);
    opc_attr_f(&c, "epsilon", 0);
    opc_in(&c, 0, FT_FLOAT, 4, DIMS(1, 2, 1, 2), (const float[]){1, 3, 10, 20});
    opc_in(&c, 1, FT_FLOAT, 1, DIMS(2), (const float[]){2, 1});
    opc_in(&c, 2, FT_FLOAT, 1, DIMS(2), (const float[]){0, 1});
    opc_in(&c, 3, FT_FLOAT, 1, DIMS(2), (const float[]){2, 15});
    opc_in(&c, 4, FT_FLOAT, 1, DIMS(2), (const float[]){4, 25});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_shape(&c.out[0], 4, DIMS(1, 2, 1, 2));
    opc_assert_f32(&c.out[0], (const float[]){-1, 1, 0, 2}, 4, 1e-6);
    opc_free(&c);
}

static void batch_norm_refuses_training_mode_and_bad_shapes(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "BatchNormalization", 15, 5, 3);
    opc_attr_i(&c, "training_mode", 1);
    for (int k = 0; k < 5; k++) opc_in(&c, k, FT_FLOAT, k ? 1 : 4, k ? DIMS(2) : DIMS(1, 2, 1, 2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "training_mode");
    opc_free(&c);

    opc_init(&c, "BatchNormalization", 15, 5, 1);
    for (int k = 0; k < 5; k++) opc_in(&c, k, FT_FLOAT, k ? 1 : 4, k == 3 ? DIMS(3) : k ? DIMS(2) : DIMS(1, 2, 1, 2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_assert_msg(&c, "in3");
    opc_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reduce_mean_sum_max_min_prod_over_chosen_axes),
        cmocka_unit_test(reduce_without_axes_reduces_everything),
        cmocka_unit_test(reduce_norms_and_log_sums),
        cmocka_unit_test(reduce_sum_takes_constant_axes_input_from_opset_13),
        cmocka_unit_test(reduce_sum_with_empty_axes_is_noop_only_when_asked),
        cmocka_unit_test(reduce_sum_refuses_axes_known_only_at_run_time),
        cmocka_unit_test(reduce_rejects_repeated_and_out_of_range_axes),
        cmocka_unit_test(reduce_sum_and_max_work_on_int64),
        cmocka_unit_test(softmax_from_opset_13_normalises_one_axis),
        cmocka_unit_test(softmax_before_opset_13_coerces_to_2d),
        cmocka_unit_test(log_softmax_is_stable_for_large_inputs),
        cmocka_unit_test(softmax_rejects_bad_axis_and_type),
        cmocka_unit_test(layer_norm_last_axis_with_scale_bias_and_statistics),
        cmocka_unit_test(layer_norm_axis_0_normalises_everything),
        cmocka_unit_test(layer_norm_scale_broadcasts_only_over_normalised_axes),
        cmocka_unit_test(batch_norm_normalises_each_channel),
        cmocka_unit_test(batch_norm_refuses_training_mode_and_bad_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
