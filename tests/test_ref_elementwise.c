/* test_ref_elementwise.c - reference elementwise kernels: broadcasting, dtypes, opset differences. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "op_case.h"

/* Runs a two-input op on float32 tensors and checks the float32 result. */
static void check_binary_f32(const char *op, int ra, const int64_t *da, const float *a, int rb, const int64_t *db,
                             const float *b, int ro, const int64_t *dout, const float *want, size_t n)
{
    op_case c;
    opc_init(&c, op, 14, 2, 1);
    opc_in(&c, 0, FT_FLOAT, ra, da, a);
    opc_in(&c, 1, FT_FLOAT, rb, db, b);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_shape(&c.out[0], ro, dout);
    opc_assert_f32(&c.out[0], want, n, 1e-6);
    opc_free(&c);
}

static void check_binary_i64(const char *op, size_t n, const int64_t *a, const int64_t *b, const int64_t *want)
{
    op_case c;
    opc_init(&c, op, 14, 2, 1);
    opc_in(&c, 0, FT_INT64, 1, DIMS((int64_t)n), a);
    opc_in(&c, 1, FT_INT64, 1, DIMS((int64_t)n), b);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_i64(&c.out[0], want, n);
    opc_free(&c);
}

/* Runs a one-input float32 op (with optional float attributes) and checks the result. */
static void check_unary_f32(const char *op, const char *attr1, float v1, const char *attr2, float v2, size_t n,
                            const float *x, const float *want)
{
    op_case c;
    opc_init(&c, op, 13, 1, 1);
    if (attr1) opc_attr_f(&c, attr1, v1);
    if (attr2) opc_attr_f(&c, attr2, v2);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS((int64_t)n), x);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], want, n, 1e-6);
    opc_free(&c);
}

static void add_broadcasts_rows_and_columns(void **state)
{
    (void)state;
    check_binary_f32("Add", 2, DIMS(2, 1), (const float[]){1, 2}, 2, DIMS(1, 3), (const float[]){10, 20, 30}, 2,
                     DIMS(2, 3), (const float[]){11, 21, 31, 12, 22, 32}, 6);
    check_binary_f32("Add", 2, DIMS(2, 3), (const float[]){1, 2, 3, 4, 5, 6}, 1, DIMS(3), (const float[]){10, 20, 30},
                     2, DIMS(2, 3), (const float[]){11, 22, 33, 14, 25, 36}, 6);
    check_binary_f32("Add", 0, NULL, (const float[]){1}, 0, NULL, (const float[]){2}, 0, NULL, (const float[]){3}, 1);
}

static void broadcast_matches_naive_indexing_over_many_axes(void **state)
{
    (void)state;
    float a[2 * 1 * 4], b[3 * 1], want[2 * 3 * 4];
    tu_fill_uniform(a, 8, 1, -2, 2);
    tu_fill_uniform(b, 3, 2, -2, 2);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) want[(i * 3 + j) * 4 + k] = a[i * 4 + k] - b[j];
    check_binary_f32("Sub", 3, DIMS(2, 1, 4), a, 2, DIMS(3, 1), b, 3, DIMS(2, 3, 4), want, 24);

    float x[2 * 3 * 4], y[3], want2[24];
    tu_fill_uniform(x, 24, 3, -2, 2);
    tu_fill_uniform(y, 3, 4, 0.5f, 2);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) want2[(i * 3 + j) * 4 + k] = x[(i * 3 + j) * 4 + k] / y[j];
    check_binary_f32("Div", 3, DIMS(2, 3, 4), x, 3, DIMS(1, 3, 1), y, 3, DIMS(2, 3, 4), want2, 24);
}

static void float_arithmetic_matches_hand_values(void **state)
{
    (void)state;
    check_binary_f32("Sub", 1, DIMS(2), (const float[]){5, 1}, 1, DIMS(2), (const float[]){2, 4}, 1, DIMS(2),
                     (const float[]){3, -3}, 2);
    check_binary_f32("Mul", 1, DIMS(2), (const float[]){1.5f, -2}, 1, DIMS(2), (const float[]){2, 3}, 1, DIMS(2),
                     (const float[]){3, -6}, 2);
    check_binary_f32("Div", 1, DIMS(2), (const float[]){1, -3}, 1, DIMS(2), (const float[]){4, 2}, 1, DIMS(2),
                     (const float[]){0.25f, -1.5f}, 2);
}

static void int64_arithmetic_wraps_and_divides_toward_zero(void **state)
{
    (void)state;
    check_binary_i64("Div", 5, (const int64_t[]){-7, 7, -7, 7, INT64_MIN}, (const int64_t[]){2, -2, -2, 2, -1},
                     (const int64_t[]){-3, -3, 3, 3, INT64_MIN});
    check_binary_i64("Add", 2, (const int64_t[]){INT64_MAX, -5}, (const int64_t[]){1, 3},
                     (const int64_t[]){INT64_MIN, -2});
    check_binary_i64("Sub", 1, (const int64_t[]){INT64_MIN}, (const int64_t[]){1}, (const int64_t[]){INT64_MAX});
    check_binary_i64("Mul", 2, (const int64_t[]){(int64_t)1 << 62, -3}, (const int64_t[]){4, 7},
                     (const int64_t[]){0, -21});

    op_case c;
    opc_init(&c, "Mul", 14, 2, 1);
    opc_in(&c, 0, FT_INT32, 1, DIMS(2), (const int32_t[]){65536, -4});
    opc_in(&c, 1, FT_INT32, 1, DIMS(2), (const int32_t[]){65536, 5});
    assert_int_equal(opc_run(&c), FT_OK);
    assert_int_equal(c.out[0].dtype, FT_INT32);
    assert_int_equal(((int32_t *)c.out[0].data)[0], 0);
    assert_int_equal(((int32_t *)c.out[0].data)[1], -20);
    opc_free(&c);
}

static void integer_division_by_zero_is_an_input_error(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Div", 14, 2, 1);
    opc_in(&c, 0, FT_INT32, 1, DIMS(2), (const int32_t[]){1, 2});
    opc_in(&c, 1, FT_INT32, 1, DIMS(2), (const int32_t[]){1, 0});
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_assert_msg(&c, "division by zero");
    opc_free(&c);
}

static void uint8_arithmetic_wraps(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Add", 14, 2, 1);
    opc_in(&c, 0, FT_UINT8, 1, DIMS(2), (const uint8_t[]){250, 1});
    opc_in(&c, 1, FT_UINT8, 1, DIMS(2), (const uint8_t[]){10, 2});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_u8(&c.out[0], FT_UINT8, (const uint8_t[]){4, 3}, 2);
    opc_free(&c);

    opc_init(&c, "Sub", 14, 2, 1);
    opc_in(&c, 0, FT_UINT8, 1, DIMS(2), (const uint8_t[]){3, 9});
    opc_in(&c, 1, FT_UINT8, 0, NULL, (const uint8_t[]){5});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_u8(&c.out[0], FT_UINT8, (const uint8_t[]){254, 4}, 2);
    opc_free(&c);
}

static void pow_takes_exponents_of_other_types(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Pow", 15, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(3), (const float[]){2, 4, 9});
    opc_in(&c, 1, FT_INT64, 1, DIMS(3), (const int64_t[]){3, -1, 0});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){8, 0.25f, 1}, 3, 0);
    opc_free(&c);

    check_binary_f32("Pow", 1, DIMS(2), (const float[]){4, 9}, 0, NULL, (const float[]){0.5f}, 1, DIMS(2),
                     (const float[]){2, 3}, 2);

    opc_init(&c, "Pow", 15, 2, 1);
    opc_in(&c, 0, FT_INT64, 1, DIMS(3), (const int64_t[]){2, 3, -2});
    opc_in(&c, 1, FT_FLOAT, 1, DIMS(3), (const float[]){5, 2, 3});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_i64(&c.out[0], (const int64_t[]){32, 9, -8}, 3);
    opc_free(&c);

    check_binary_i64("Pow", 3, (const int64_t[]){2, -3, 5}, (const int64_t[]){10, 3, 0},
                     (const int64_t[]){1024, -27, 1});

    opc_init(&c, "Pow", 15, 2, 1);
    opc_in(&c, 0, FT_INT32, 1, DIMS(1), (const int32_t[]){2});
    opc_in(&c, 1, FT_INT32, 1, DIMS(1), (const int32_t[]){31});
    assert_int_equal(opc_run(&c), FT_OK);
    assert_int_equal(((int32_t *)c.out[0].data)[0], INT32_MIN);
    opc_free(&c);
}

static void max_min_sum_are_variadic_and_broadcast(void **state)
{
    (void)state;
    static const char *const ops[3] = {"Max", "Min", "Sum"};
    static const float want[3][6] = {{4, 5, 4, 6, 6, 6}, {0, 0, 0, 1, 4, 3}, {5, 9, 7, 11, 15, 13}};
    for (int k = 0; k < 3; k++) {
        op_case c;
        opc_init(&c, ops[k], 13, 3, 1);
        opc_in(&c, 0, FT_FLOAT, 1, DIMS(3), (const float[]){1, 5, 3});
        opc_in(&c, 1, FT_FLOAT, 1, DIMS(1), (const float[]){4});
        opc_in(&c, 2, FT_FLOAT, 2, DIMS(2, 1), (const float[]){0, 6});
        assert_int_equal(opc_run(&c), FT_OK);
        opc_assert_shape(&c.out[0], 2, DIMS(2, 3));
        opc_assert_f32(&c.out[0], want[k], 6, 0);
        opc_free(&c);
    }

    op_case c;
    opc_init(&c, "Max", 13, 1, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), (const float[]){1, -2});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){1, -2}, 2, 0);
    opc_free(&c);

    check_binary_f32("Max", 1, DIMS(2), (const float[]){NAN, 1}, 1, DIMS(2), (const float[]){1, NAN}, 1, DIMS(2),
                     (const float[]){NAN, NAN}, 2);
    check_binary_f32("Min", 1, DIMS(2), (const float[]){NAN, 1}, 1, DIMS(2), (const float[]){1, NAN}, 1, DIMS(2),
                     (const float[]){NAN, NAN}, 2);
    check_binary_i64("Max", 2, (const int64_t[]){-5, 7}, (const int64_t[]){3, 2}, (const int64_t[]){3, 7});
    check_binary_i64("Min", 2, (const int64_t[]){-5, 7}, (const int64_t[]){3, 2}, (const int64_t[]){-5, 2});
}

static void comparisons_output_bool(void **state)
{
    (void)state;
    static const char *const ops[4] = {"Less", "Greater", "LessOrEqual", "GreaterOrEqual"};
    static const uint8_t want[4][3] = {{1, 0, 0}, {0, 0, 1}, {1, 1, 0}, {0, 1, 1}};
    for (int k = 0; k < 4; k++) {
        op_case c;
        opc_init(&c, ops[k], 16, 2, 1);
        opc_in(&c, 0, FT_FLOAT, 1, DIMS(3), (const float[]){1, 2, 3});
        opc_in(&c, 1, FT_FLOAT, 0, NULL, (const float[]){2});
        assert_int_equal(opc_run(&c), FT_OK);
        opc_assert_u8(&c.out[0], FT_BOOL, want[k], 3);
        opc_free(&c);
    }
    op_case c;
    opc_init(&c, "Equal", 13, 2, 1);
    opc_in(&c, 0, FT_INT64, 1, DIMS(3), (const int64_t[]){1, 2, 3});
    opc_in(&c, 1, FT_INT64, 1, DIMS(3), (const int64_t[]){3, 2, 1});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_u8(&c.out[0], FT_BOOL, (const uint8_t[]){0, 1, 0}, 3);
    opc_free(&c);

    opc_init(&c, "Equal", 13, 2, 1);
    opc_in(&c, 0, FT_BOOL, 1, DIMS(3), (const uint8_t[]){0, 1, 1});
    opc_in(&c, 1, FT_BOOL, 1, DIMS(3), (const uint8_t[]){0, 0, 1});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_u8(&c.out[0], FT_BOOL, (const uint8_t[]){1, 0, 1}, 3);
    opc_free(&c);
}

static void unary_float_functions_match_hand_values(void **state)
{
    (void)state;
    const float x[3] = {0.25f, 1, 4}, s[3] = {-1.5f, 0, 0.5f};
    check_unary_f32("Sqrt", NULL, 0, NULL, 0, 3, x, (const float[]){0.5f, 1, 2});
    check_unary_f32("Reciprocal", NULL, 0, NULL, 0, 3, x, (const float[]){4, 1, 0.25f});
    check_unary_f32("Log", NULL, 0, NULL, 0, 3, x, (const float[]){-1.38629436f, 0, 1.38629436f});
    check_unary_f32("Exp", NULL, 0, NULL, 0, 3, x, (const float[]){1.28402542f, 2.71828183f, 54.5981500f});
    check_unary_f32("Neg", NULL, 0, NULL, 0, 3, s, (const float[]){1.5f, 0, -0.5f});
    check_unary_f32("Abs", NULL, 0, NULL, 0, 3, s, (const float[]){1.5f, 0, 0.5f});
    check_unary_f32("Relu", NULL, 0, NULL, 0, 3, s, (const float[]){0, 0, 0.5f});
    check_unary_f32("Tanh", NULL, 0, NULL, 0, 3, s, (const float[]){-0.905148254f, 0, 0.462117157f});
    check_unary_f32("Erf", NULL, 0, NULL, 0, 3, s, (const float[]){-0.966105146f, 0, 0.520499878f});
    check_unary_f32("Sigmoid", NULL, 0, NULL, 0, 3, s, (const float[]){0.182425524f, 0.5f, 0.622459331f});
    check_unary_f32("Sigmoid", NULL, 0, NULL, 0, 2, (const float[]){-1000, 1000}, (const float[]){0, 1});
}

static void leaky_relu_and_hard_sigmoid_read_alpha_and_beta(void **state)
{
    (void)state;
    check_unary_f32("LeakyRelu", NULL, 0, NULL, 0, 2, (const float[]){-2, 3}, (const float[]){-0.02f, 3});
    check_unary_f32("LeakyRelu", "alpha", 0.5f, NULL, 0, 2, (const float[]){-2, 3}, (const float[]){-1, 3});
    check_unary_f32("HardSigmoid", NULL, 0, NULL, 0, 4, (const float[]){-3, 0, 1, 3},
                    (const float[]){0, 0.5f, 0.7f, 1});
    check_unary_f32("HardSigmoid", "alpha", 0.5f, "beta", 0.6f, 3, (const float[]){-2, 0, 0.5f},
                    (const float[]){0, 0.6f, 0.85f});
}

static void neg_abs_relu_work_on_int64(void **state)
{
    (void)state;
    static const char *const ops[3] = {"Neg", "Abs", "Relu"};
    static const int64_t want[3][3] = {{-5, 3, INT64_MIN}, {5, 3, INT64_MIN}, {5, 0, 0}};
    for (int k = 0; k < 3; k++) {
        op_case c;
        opc_init(&c, ops[k], 14, 1, 1);
        opc_in(&c, 0, FT_INT64, 1, DIMS(3), (const int64_t[]){5, -3, INT64_MIN});
        assert_int_equal(opc_run(&c), FT_OK);
        opc_assert_i64(&c.out[0], want[k], 3);
        opc_free(&c);
    }
}

static void unsupported_dtypes_name_the_node_and_type(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Sqrt", 13, 1, 1);
    opc_in(&c, 0, FT_INT64, 1, DIMS(2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "int64");
    opc_free(&c);

    opc_init(&c, "Add", 14, 2, 1);
    opc_in(&c, 0, FT_BOOL, 1, DIMS(2), NULL);
    opc_in(&c, 1, FT_BOOL, 1, DIMS(2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "bool");
    opc_free(&c);

    opc_init(&c, "Not", 1, 1, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "float32");
    opc_free(&c);
}

static void mismatched_or_unbroadcastable_inputs_are_input_errors(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Add", 14, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), NULL);
    opc_in(&c, 1, FT_INT64, 1, DIMS(2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_assert_msg(&c, "int64");
    opc_free(&c);

    opc_init(&c, "Mul", 14, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(3), NULL);
    opc_in(&c, 1, FT_FLOAT, 1, DIMS(4), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_assert_msg(&c, "broadcast");
    opc_free(&c);
}

static void clip_bounds_are_attributes_before_opset_11(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Clip", 6, 1, 1);
    opc_attr_f(&c, "min", -1);
    opc_attr_f(&c, "max", 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(3), (const float[]){-2, 0.5f, 3});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){-1, 0.5f, 1}, 3, 0);
    opc_free(&c);

    opc_init(&c, "Clip", 6, 1, 1);
    opc_attr_f(&c, "max", 0);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), (const float[]){-2, 3});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){-2, 0}, 2, 0);
    opc_free(&c);
}

static void clip_bounds_are_optional_inputs_from_opset_11(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Clip", 13, 3, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(4), (const float[]){-1, 1, 5, NAN});
    opc_in(&c, 1, FT_FLOAT, 0, NULL, (const float[]){0});
    opc_in(&c, 2, FT_FLOAT, 0, NULL, (const float[]){2});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){0, 1, 2, NAN}, 4, 0);
    opc_free(&c);

    opc_init(&c, "Clip", 13, 3, 1); /* min omitted */
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), (const float[]){-1, 5});
    opc_in(&c, 2, FT_FLOAT, 0, NULL, (const float[]){2});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){-1, 2}, 2, 0);
    opc_free(&c);

    opc_init(&c, "Clip", 13, 3, 1); /* a lower bound above the upper one gives the upper one */
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), (const float[]){0, 10});
    opc_in(&c, 1, FT_FLOAT, 0, NULL, (const float[]){5});
    opc_in(&c, 2, FT_FLOAT, 0, NULL, (const float[]){2});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){2, 2}, 2, 0);
    opc_free(&c);

    opc_init(&c, "Clip", 13, 2, 1);
    opc_in(&c, 0, FT_INT64, 1, DIMS(2), (const int64_t[]){-3, 3});
    opc_in(&c, 1, FT_INT64, 0, NULL, (const int64_t[]){0});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_i64(&c.out[0], (const int64_t[]){0, 3}, 2);
    opc_free(&c);

    opc_init(&c, "Clip", 13, 3, 1);
    opc_in(&c, 0, FT_INT8, 1, DIMS(3), (const int8_t[]){-128, 0, 127});
    opc_in(&c, 2, FT_INT8, 0, NULL, (const int8_t[]){1});
    assert_int_equal(opc_run(&c), FT_OK);
    assert_int_equal(((int8_t *)c.out[0].data)[0], -128);
    assert_int_equal(((int8_t *)c.out[0].data)[1], 0);
    assert_int_equal(((int8_t *)c.out[0].data)[2], 1);
    opc_free(&c);

    opc_init(&c, "Clip", 13, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), NULL);
    opc_in(&c, 1, FT_DOUBLE, 0, NULL, NULL);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_free(&c);
}

/* Casts n values of type from to type to into c, which the caller checks and frees. */
static void run_cast(op_case *c, ft_dtype from, int64_t to, int64_t n, const void *vals)
{
    opc_init(c, "Cast", 13, 1, 1);
    opc_attr_i(c, "to", to);
    opc_in(c, 0, from, 1, DIMS(n), vals);
    assert_int_equal(opc_run(c), FT_OK);
    assert_int_equal(c->out[0].dtype, to);
}

static void cast_float_to_int_truncates_and_saturates(void **state)
{
    (void)state;
    const float f[5] = {2.7f, -2.7f, 1e10f, -1e10f, NAN};
    op_case c;
    run_cast(&c, FT_FLOAT, FT_INT32, 5, f);
    static const int32_t want32[5] = {2, -2, INT32_MAX, INT32_MIN, 0};
    for (int i = 0; i < 5; i++) assert_int_equal(((int32_t *)c.out[0].data)[i], want32[i]);
    opc_free(&c);

    run_cast(&c, FT_FLOAT, FT_UINT8, 5, f);
    opc_assert_u8(&c.out[0], FT_UINT8, (const uint8_t[]){2, 0, 255, 0, 0}, 5);
    opc_free(&c);

    run_cast(&c, FT_FLOAT, FT_INT64, 5, f);
    opc_assert_i64(&c.out[0], (const int64_t[]){2, -2, 10000000000, -10000000000, 0}, 5);
    opc_free(&c);
}

static void cast_between_integers_wraps(void **state)
{
    (void)state;
    op_case c;
    run_cast(&c, FT_INT64, FT_INT8, 3, (const int64_t[]){300, -1, -129});
    assert_int_equal(((int8_t *)c.out[0].data)[0], 44);
    assert_int_equal(((int8_t *)c.out[0].data)[1], -1);
    assert_int_equal(((int8_t *)c.out[0].data)[2], 127);
    opc_free(&c);

    run_cast(&c, FT_INT64, FT_UINT16, 2, (const int64_t[]){300, -1});
    assert_int_equal(((uint16_t *)c.out[0].data)[0], 300);
    assert_int_equal(((uint16_t *)c.out[0].data)[1], 65535);
    opc_free(&c);

    run_cast(&c, FT_UINT64, FT_FLOAT, 1, (const uint64_t[]){UINT64_MAX});
    opc_assert_f32(&c.out[0], (const float[]){18446744073709551616.0f}, 1, 0);
    opc_free(&c);

    run_cast(&c, FT_INT32, FT_DOUBLE, 2, (const int32_t[]){-7, 123456789});
    assert_true(((double *)c.out[0].data)[0] == -7.0);
    assert_true(((double *)c.out[0].data)[1] == 123456789.0);
    opc_free(&c);
}

static void cast_to_and_from_bool(void **state)
{
    (void)state;
    op_case c;
    run_cast(&c, FT_FLOAT, FT_BOOL, 4, (const float[]){0, -0.5f, NAN, -0.0f});
    opc_assert_u8(&c.out[0], FT_BOOL, (const uint8_t[]){0, 1, 1, 0}, 4);
    opc_free(&c);

    run_cast(&c, FT_INT64, FT_BOOL, 2, (const int64_t[]){0, (int64_t)1 << 40});
    opc_assert_u8(&c.out[0], FT_BOOL, (const uint8_t[]){0, 1}, 2);
    opc_free(&c);

    run_cast(&c, FT_BOOL, FT_FLOAT, 2, (const uint8_t[]){0, 1});
    opc_assert_f32(&c.out[0], (const float[]){0, 1}, 2, 0);
    opc_free(&c);
}

static void cast_to_float16_rounds_to_nearest_even(void **state)
{
    (void)state;
    const float f[10] = {1.0f, 65504.0f, 65520.0f, 1e-8f, 0x1p-24f, 1.0f + 0x1p-11f, 1.0f + 0x3p-11f, -2.0f,
                         0x3p-25f, INFINITY};
    static const uint16_t want[10] = {0x3c00, 0x7bff, 0x7c00, 0x0000, 0x0001, 0x3c00, 0x3c02, 0xc000, 0x0002, 0x7c00};
    op_case c;
    run_cast(&c, FT_FLOAT, FT_FLOAT16, 10, f);
    for (int i = 0; i < 10; i++) assert_int_equal(((uint16_t *)c.out[0].data)[i], want[i]);
    opc_free(&c);

    run_cast(&c, FT_FLOAT, FT_FLOAT16, 1, (const float[]){NAN});
    uint16_t h = ((uint16_t *)c.out[0].data)[0];
    assert_int_equal(h & 0x7c00, 0x7c00);
    assert_int_not_equal(h & 0x3ff, 0);
    opc_free(&c);

    run_cast(&c, FT_DOUBLE, FT_FLOAT16, 1, (const double[]){0.1});
    assert_int_equal(((uint16_t *)c.out[0].data)[0], 0x2e66);
    opc_free(&c);

    run_cast(&c, FT_FLOAT16, FT_FLOAT, 4, (const uint16_t[]){0x3555, 0x0001, 0xfc00, 0x7bff});
    opc_assert_f32(&c.out[0], (const float[]){0.333251953125f, 0x1p-24f, -INFINITY, 65504.0f}, 4, 0);
    opc_free(&c);
}

static void cast_refuses_string_and_bfloat16(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Cast", 13, 1, 1);
    opc_attr_i(&c, "to", 16);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "bfloat16");
    opc_free(&c);

    opc_init(&c, "Cast", 13, 1, 1);
    opc_attr_i(&c, "to", FT_STRING);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_UNSUPPORTED);
    opc_assert_msg(&c, "string");
    opc_free(&c);

    opc_init(&c, "Cast", 13, 1, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_assert_msg(&c, "'to'");
    opc_free(&c);
}

static void cast_like_takes_the_type_of_its_second_input(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "CastLike", 15, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(2), (const float[]){1.9f, -1.9f});
    opc_in(&c, 1, FT_INT64, 1, DIMS(1), NULL);
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_i64(&c.out[0], (const int64_t[]){1, -1}, 2);
    opc_free(&c);
}

static void where_selects_with_three_way_broadcast(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Where", 16, 3, 1);
    opc_in(&c, 0, FT_BOOL, 2, DIMS(2, 1), (const uint8_t[]){1, 0});
    opc_in(&c, 1, FT_INT64, 2, DIMS(1, 2), (const int64_t[]){1, 2});
    opc_in(&c, 2, FT_INT64, 0, NULL, (const int64_t[]){9});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_shape(&c.out[0], 2, DIMS(2, 2));
    opc_assert_i64(&c.out[0], (const int64_t[]){1, 2, 9, 9}, 4);
    opc_free(&c);

    opc_init(&c, "Where", 16, 3, 1);
    opc_in(&c, 0, FT_BOOL, 1, DIMS(3), (const uint8_t[]){0, 1, 0});
    opc_in(&c, 1, FT_FLOAT, 1, DIMS(3), (const float[]){1, 2, 3});
    opc_in(&c, 2, FT_FLOAT, 1, DIMS(3), (const float[]){-1, -2, -3});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_f32(&c.out[0], (const float[]){-1, 2, -3}, 3, 0);
    opc_free(&c);

    opc_init(&c, "Where", 16, 3, 1);
    opc_in(&c, 0, FT_FLOAT, 1, DIMS(3), NULL);
    opc_in(&c, 1, FT_FLOAT, 1, DIMS(3), NULL);
    opc_in(&c, 2, FT_FLOAT, 1, DIMS(3), NULL);
    assert_int_equal(opc_run(&c), FT_ERR_INPUT);
    opc_free(&c);
}

static void not_inverts_bools(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Not", 1, 1, 1);
    opc_in(&c, 0, FT_BOOL, 1, DIMS(3), (const uint8_t[]){0, 1, 1});
    assert_int_equal(opc_run(&c), FT_OK);
    opc_assert_u8(&c.out[0], FT_BOOL, (const uint8_t[]){1, 0, 0}, 3);
    opc_free(&c);
}

static void float16_is_computed_in_float32_and_rounded_once(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Add", 14, 2, 1);
    /* 1 + 2^-11 is a tie that rounds to even (1.0); 1 + 3*2^-12 rounds up to 1 + 2^-10 */
    opc_in(&c, 0, FT_FLOAT16, 1, DIMS(2), (const uint16_t[]){0x3c00, 0x3c00});
    opc_in(&c, 1, FT_FLOAT16, 1, DIMS(2), (const uint16_t[]){0x1000, 0x1200});
    assert_int_equal(opc_run(&c), FT_OK);
    assert_int_equal(c.out[0].dtype, FT_FLOAT16);
    assert_int_equal(((uint16_t *)c.out[0].data)[0], 0x3c00);
    assert_int_equal(((uint16_t *)c.out[0].data)[1], 0x3c01);
    opc_free(&c);

    opc_init(&c, "Max", 13, 2, 1);
    opc_in(&c, 0, FT_FLOAT16, 1, DIMS(2), (const uint16_t[]){0x3c00, 0xc000});
    opc_in(&c, 1, FT_FLOAT16, 1, DIMS(2), (const uint16_t[]){0x4000, 0x3800});
    assert_int_equal(opc_run(&c), FT_OK);
    assert_int_equal(((uint16_t *)c.out[0].data)[0], 0x4000);
    assert_int_equal(((uint16_t *)c.out[0].data)[1], 0x3800);
    opc_free(&c);

    opc_init(&c, "Sqrt", 13, 1, 1);
    opc_in(&c, 0, FT_FLOAT16, 1, DIMS(1), (const uint16_t[]){0x4400}); /* 4.0 */
    assert_int_equal(opc_run(&c), FT_OK);
    assert_int_equal(((uint16_t *)c.out[0].data)[0], 0x4000);
    opc_free(&c);
}

static void only_same_type_elementwise_ops_may_run_in_place(void **state)
{
    (void)state;
    static const char *const yes[] = {"Add", "Div", "Pow", "Max", "Relu", "Erf", "Clip", "Not", "LeakyRelu"};
    static const char *const no[] = {"Equal", "Less", "Cast", "CastLike", "Where"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(ft_op_find("", yes[i])->flags & FT_OP_ELEMENTWISE);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(ft_op_find("", no[i])->flags & FT_OP_ELEMENTWISE);
}

static void add_runs_in_place_on_its_first_input(void **state)
{
    (void)state;
    op_case c;
    opc_init(&c, "Add", 14, 2, 1);
    opc_in(&c, 0, FT_FLOAT, 2, DIMS(2, 2), (const float[]){1, 2, 3, 4});
    opc_in(&c, 1, FT_FLOAT, 1, DIMS(2), (const float[]){10, 20});
    const ft_op_def *op = ft_op_find("", "Add");
    ft_op_ctx ctx = {&c.node, 2, 1, c.inp, c.outp, &c.err};
    assert_int_equal(op->infer(&ctx), FT_OK);
    c.out[0].data = c.in[0].data;
    assert_int_equal(op->run(&ctx), FT_OK);
    c.out[0].data = NULL;
    const float want[4] = {11, 22, 13, 24};
    assert_true(tu_max_abs_diff(c.in[0].data, want, 4) == 0.0);
    opc_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_broadcasts_rows_and_columns),
        cmocka_unit_test(broadcast_matches_naive_indexing_over_many_axes),
        cmocka_unit_test(float_arithmetic_matches_hand_values),
        cmocka_unit_test(int64_arithmetic_wraps_and_divides_toward_zero),
        cmocka_unit_test(integer_division_by_zero_is_an_input_error),
        cmocka_unit_test(uint8_arithmetic_wraps),
        cmocka_unit_test(pow_takes_exponents_of_other_types),
        cmocka_unit_test(max_min_sum_are_variadic_and_broadcast),
        cmocka_unit_test(comparisons_output_bool),
        cmocka_unit_test(unary_float_functions_match_hand_values),
        cmocka_unit_test(leaky_relu_and_hard_sigmoid_read_alpha_and_beta),
        cmocka_unit_test(neg_abs_relu_work_on_int64),
        cmocka_unit_test(unsupported_dtypes_name_the_node_and_type),
        cmocka_unit_test(mismatched_or_unbroadcastable_inputs_are_input_errors),
        cmocka_unit_test(clip_bounds_are_attributes_before_opset_11),
        cmocka_unit_test(clip_bounds_are_optional_inputs_from_opset_11),
        cmocka_unit_test(cast_float_to_int_truncates_and_saturates),
        cmocka_unit_test(cast_between_integers_wraps),
        cmocka_unit_test(cast_to_and_from_bool),
        cmocka_unit_test(cast_to_float16_rounds_to_nearest_even),
        cmocka_unit_test(cast_refuses_string_and_bfloat16),
        cmocka_unit_test(cast_like_takes_the_type_of_its_second_input),
        cmocka_unit_test(where_selects_with_three_way_broadcast),
        cmocka_unit_test(not_inverts_bools),
        cmocka_unit_test(float16_is_computed_in_float32_and_rounded_once),
        cmocka_unit_test(only_same_type_elementwise_ops_may_run_in_place),
        cmocka_unit_test(add_runs_in_place_on_its_first_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
