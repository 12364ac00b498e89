/* test_ref_shape_ops.c - reference data movement, shape producers and views: opset differences,
 * negative axes and indices, Slice clamping and negative steps, constant-input rules, refusals. */
#include "op_harness.h"

static const int64_t d23[] = {2, 3};
static const float x23[] = {1, 2, 3, 4, 5, 6};

static void reshape_copies_zero_dims_and_infers_minus_one(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Reshape", 13);
    oh_f32(&c, 3, (int64_t[]){2, 3, 4}, NULL);
    oh_i64c(&c, 3, (int64_t[]){0, -1, 2});
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 3, (int64_t[]){2, 6, 2});
    oh_free(&c);

    oh_init(&c, "Reshape", 14); /* allowzero keeps a literal 0 */
    oh_f32(&c, 2, (int64_t[]){0, 3}, NULL);
    oh_i64c(&c, 2, (int64_t[]){3, 0});
    oh_outputs(&c, 1);
    oh_attr_int(&c, "allowzero", 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){3, 0});
    oh_free(&c);

    oh_init(&c, "Reshape", 4); /* shape was an attribute before opset 5 */
    oh_f32(&c, 2, d23, x23);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "shape", 1, (int64_t[]){-1});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 1, (int64_t[]){6});
    oh_assert_f32(c.out[0], x23, 6, 0);
    oh_free(&c);
}

static void reshape_refuses_bad_and_non_constant_shapes(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Reshape", 13);
    oh_f32(&c, 2, d23, NULL);
    oh_i64c(&c, 1, (int64_t[]){4});
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);

    oh_init(&c, "Reshape", 13);
    oh_f32(&c, 2, d23, NULL);
    oh_i64c(&c, 2, (int64_t[]){-1, -1});
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);

    oh_init(&c, "Reshape", 13);
    oh_f32(&c, 2, d23, NULL);
    oh_input(&c, FT_INT64, 1, (int64_t[]){1}, (int64_t[]){6}, 0);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_UNSUPPORTED);
    assert_non_null(strstr(c.err.msg, "shape input 'in1' is not constant"));
    oh_free(&c);
}

static void flatten_accepts_negative_and_end_axes(void **state)
{
    (void)state;
    const int64_t axes[] = {-1, 0, 3};
    const int64_t want[][2] = {{6, 4}, {1, 24}, {24, 1}};
    for (int i = 0; i < 3; i++) {
        oh_case c;
        oh_init(&c, "Flatten", 13);
        oh_f32(&c, 3, (int64_t[]){2, 3, 4}, NULL);
        oh_outputs(&c, 1);
        oh_attr_int(&c, "axis", axes[i]);
        assert_int_equal(oh_run(&c), FT_OK);
        oh_assert_shape(c.out[0], 2, want[i]);
        oh_free(&c);
    }
}

static void squeeze_takes_axes_from_attribute_then_input(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Squeeze", 11);
    oh_f32(&c, 4, (int64_t[]){1, 3, 1, 2}, NULL);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "axes", 1, (int64_t[]){-2});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 3, (int64_t[]){1, 3, 2});
    oh_free(&c);

    oh_init(&c, "Squeeze", 13);
    oh_f32(&c, 4, (int64_t[]){1, 3, 1, 2}, NULL);
    oh_i64c(&c, 1, (int64_t[]){0});
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 3, (int64_t[]){3, 1, 2});
    oh_free(&c);

    oh_init(&c, "Squeeze", 13); /* no axes: every 1 goes */
    oh_f32(&c, 4, (int64_t[]){1, 3, 1, 2}, NULL);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){3, 2});
    oh_free(&c);

    oh_init(&c, "Squeeze", 13); /* axis 1 is not 1 */
    oh_f32(&c, 4, (int64_t[]){1, 3, 1, 2}, NULL);
    oh_i64c(&c, 1, (int64_t[]){1});
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void unsqueeze_places_unsorted_and_negative_axes_in_the_output(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Unsqueeze", 13);
    oh_f32(&c, 2, (int64_t[]){3, 4}, NULL);
    oh_i64c(&c, 2, (int64_t[]){-1, 0});
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 4, (int64_t[]){1, 3, 4, 1});
    oh_free(&c);

    oh_init(&c, "Unsqueeze", 11);
    oh_f32(&c, 2, (int64_t[]){3, 4}, NULL);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "axes", 2, (int64_t[]){3, 1});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 4, (int64_t[]){3, 1, 4, 1});
    oh_free(&c);

    oh_init(&c, "Unsqueeze", 13); /* repeated axis */
    oh_f32(&c, 2, (int64_t[]){3, 4}, NULL);
    oh_i64c(&c, 2, (int64_t[]){1, -3});
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void dropout_is_a_view_unless_mask_or_training_is_asked(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Dropout", 13);
    oh_f32(&c, 2, d23, x23);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], x23, 6, 0);
    oh_free(&c);

    oh_init(&c, "Dropout", 13);
    oh_f32(&c, 2, d23, x23);
    oh_outputs(&c, 2);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_UNSUPPORTED);
    oh_free(&c);

    oh_init(&c, "Dropout", 13);
    oh_f32(&c, 2, d23, x23);
    oh_omit_input(&c);
    oh_input(&c, FT_BOOL, 0, NULL, (uint8_t[]){1}, FT_T_CONST);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_UNSUPPORTED);
    oh_free(&c);

    oh_init(&c, "Dropout", 13); /* a training_mode known only at run time is refused too */
    oh_f32(&c, 2, d23, x23);
    oh_omit_input(&c);
    oh_input(&c, FT_BOOL, 0, NULL, (uint8_t[]){0}, 0);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_UNSUPPORTED);
    oh_free(&c);

    oh_init(&c, "Dropout", 13); /* constant false: inference */
    oh_f32(&c, 2, d23, x23);
    oh_input(&c, FT_FLOAT, 0, NULL, (float[]){0.5f}, 0);
    oh_input(&c, FT_BOOL, 0, NULL, (uint8_t[]){0}, FT_T_CONST);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], x23, 6, 0);
    oh_free(&c);

    oh_init(&c, "Dropout", 6); /* before opset 7 the default is_test=0 means training */
    oh_f32(&c, 2, d23, x23);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_UNSUPPORTED);
    oh_free(&c);

    oh_init(&c, "Identity", 13);
    oh_input(&c, FT_INT32, 1, (int64_t[]){2}, (int32_t[]){7, 8}, 0);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    assert_int_equal(c.out[0]->dtype, FT_INT32);
    oh_assert_i64(c.out[0], (int64_t[]){7, 8}, 2);
    oh_free(&c);
}

static void shape_slices_with_start_and_end_from_opset_15(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Shape", 15);
    ft_tensor *x = oh_f32(&c, 4, (int64_t[]){2, 3, 4, 5}, NULL);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "start", -3);
    oh_attr_int(&c, "end", -1);
    free(x->data); /* Shape must never look at the data */
    x->data = NULL;
    assert_int_equal(oh_run(&c), FT_OK);
    assert_int_equal(c.out[0]->dtype, FT_INT64);
    oh_assert_i64(c.out[0], (int64_t[]){3, 4}, 2);
    oh_free(&c);

    oh_init(&c, "Shape", 15); /* clamped: start past the end gives an empty shape */
    oh_f32(&c, 2, d23, NULL);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "start", 10);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 1, (int64_t[]){0});
    oh_free(&c);

    oh_init(&c, "Shape", 13);
    oh_f32(&c, 2, d23, NULL);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_i64(c.out[0], d23, 2);
    oh_free(&c);
}

static void constantofshape_fills_value_and_refuses_absurd_shapes(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "ConstantOfShape", 9);
    oh_i64c(&c, 2, (int64_t[]){2, 2});
    oh_outputs(&c, 1);
    oh_attr_scalar_tensor(&c, "value", FT_INT32, (int32_t[]){7});
    assert_int_equal(oh_run(&c), FT_OK);
    assert_int_equal(c.out[0]->dtype, FT_INT32);
    oh_assert_i64(c.out[0], (int64_t[]){7, 7, 7, 7}, 4);
    oh_free(&c);

    oh_init(&c, "ConstantOfShape", 9); /* default float 0; empty shape is a scalar */
    oh_i64c(&c, 0, NULL);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    assert_int_equal(c.out[0]->shape.rank, 0);
    oh_assert_f32(c.out[0], (float[]){0}, 1, 0);
    oh_free(&c);

    const int64_t bad[][3] = {{1 << 20, 1 << 20, 1 << 20}, {2, -1, 3}};
    for (int i = 0; i < 2; i++) {
        oh_init(&c, "ConstantOfShape", 9);
        oh_i64c(&c, 3, bad[i]);
        oh_outputs(&c, 1);
        oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
        oh_free(&c);
    }
}

static void range_counts_with_ceil_for_float_and_int(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Range", 11);
    for (int i = 0; i < 3; i++) oh_input(&c, FT_FLOAT, 0, NULL, (float[]){1, 5, 1.5f} + i, FT_T_CONST);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){1, 2.5f, 4}, 3, 0);
    oh_free(&c);

    oh_init(&c, "Range", 11);
    for (int i = 0; i < 3; i++) oh_input(&c, FT_INT32, 0, NULL, (int32_t[]){10, 6, -3} + i, FT_T_CONST);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    assert_int_equal(c.out[0]->dtype, FT_INT32);
    oh_assert_i64(c.out[0], (int64_t[]){10, 7}, 2);
    oh_free(&c);

    oh_init(&c, "Range", 11); /* limit behind start: empty */
    for (int i = 0; i < 3; i++) oh_input(&c, FT_INT64, 0, NULL, (int64_t[]){5, 1, 2} + i, FT_T_CONST);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 1, (int64_t[]){0});
    oh_free(&c);

    oh_init(&c, "Range", 11);
    for (int i = 0; i < 3; i++) oh_input(&c, FT_INT64, 0, NULL, (int64_t[]){0, INT64_MAX, 1} + i, FT_T_CONST);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);

    oh_init(&c, "Range", 11);
    for (int i = 0; i < 3; i++) oh_input(&c, FT_INT64, 0, NULL, (int64_t[]){0, 4, 1} + i, i == 1 ? 0 : FT_T_CONST);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_UNSUPPORTED);
    oh_free(&c);
}

static void transpose_defaults_to_reversed_axes_and_moves_bytes(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Transpose", 13);
    oh_f32(&c, 2, d23, x23);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){3, 2});
    oh_assert_f32(c.out[0], (float[]){1, 4, 2, 5, 3, 6}, 6, 0);
    oh_free(&c);

    uint8_t b[24];
    for (int i = 0; i < 24; i++) b[i] = (uint8_t)i;
    oh_init(&c, "Transpose", 13);
    oh_input(&c, FT_UINT8, 3, (int64_t[]){2, 3, 4}, b, 0);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "perm", 3, (int64_t[]){1, 2, 0});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 3, (int64_t[]){3, 4, 2});
    const uint8_t *y = c.out[0]->data;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 2; k++) assert_int_equal(y[(i * 4 + j) * 2 + k], b[(k * 3 + i) * 4 + j]);
    oh_free(&c);

    oh_init(&c, "Transpose", 13);
    oh_f32(&c, 2, d23, x23);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "perm", 2, (int64_t[]){1, 1});
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void gather_takes_negative_int32_indices_along_an_axis(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Gather", 13);
    oh_f32(&c, 2, d23, x23);
    oh_input(&c, FT_INT32, 2, (int64_t[]){2, 2}, (int32_t[]){-1, 0, 1, 1}, 0);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "axis", -1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 3, (int64_t[]){2, 2, 2});
    oh_assert_f32(c.out[0], (float[]){3, 1, 2, 2, 6, 4, 5, 5}, 8, 0);
    oh_free(&c);

    oh_init(&c, "Gather", 13); /* scalar index drops the axis; int64 data */
    oh_input(&c, FT_INT64, 2, d23, (int64_t[]){1, 2, 3, 4, 5, 6}, 0);
    oh_input(&c, FT_INT64, 0, NULL, (int64_t[]){1}, 0);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 1, (int64_t[]){3});
    oh_assert_i64(c.out[0], (int64_t[]){4, 5, 6}, 3);
    oh_free(&c);

    oh_init(&c, "Gather", 13); /* out of range at run time */
    oh_f32(&c, 2, d23, x23);
    oh_input(&c, FT_INT64, 1, (int64_t[]){1}, (int64_t[]){-3}, 0);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_run(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void concat_joins_along_a_negative_axis(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Concat", 13);
    oh_input(&c, FT_INT32, 2, (int64_t[]){2, 1}, (int32_t[]){1, 2}, 0);
    oh_input(&c, FT_INT32, 2, (int64_t[]){2, 2}, (int32_t[]){3, 4, 5, 6}, 0);
    oh_input(&c, FT_INT32, 2, (int64_t[]){2, 0}, NULL, 0);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "axis", -1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){2, 3});
    oh_assert_i64(c.out[0], (int64_t[]){1, 3, 4, 2, 5, 6}, 6);
    oh_free(&c);

    oh_init(&c, "Concat", 13);
    oh_f32(&c, 2, (int64_t[]){2, 1}, NULL);
    oh_f32(&c, 2, (int64_t[]){3, 1}, NULL);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "axis", 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void split_sizes_come_from_attribute_input_or_num_outputs(void **state)
{
    (void)state;
    const float v[] = {1, 2, 3, 4, 5};
    oh_case c;
    oh_init(&c, "Split", 11);
    oh_f32(&c, 1, (int64_t[]){5}, v);
    oh_outputs(&c, 2);
    oh_attr_ints(&c, "split", 2, (int64_t[]){2, 3});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){1, 2}, 2, 0);
    oh_assert_f32(c.out[1], (float[]){3, 4, 5}, 3, 0);
    oh_free(&c);

    oh_init(&c, "Split", 13);
    oh_f32(&c, 2, d23, x23);
    oh_i64c(&c, 3, (int64_t[]){0, 1, 2});
    oh_outputs(&c, 3);
    oh_attr_int(&c, "axis", -1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){2, 0});
    oh_assert_f32(c.out[1], (float[]){1, 4}, 2, 0);
    oh_assert_f32(c.out[2], (float[]){2, 3, 5, 6}, 4, 0);
    oh_free(&c);

    oh_init(&c, "Split", 18); /* num_outputs: the last part is smaller */
    oh_f32(&c, 1, (int64_t[]){5}, v);
    oh_outputs(&c, 2);
    oh_attr_int(&c, "num_outputs", 2);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){1, 2, 3}, 3, 0);
    oh_assert_f32(c.out[1], (float[]){4, 5}, 2, 0);
    oh_free(&c);

    oh_init(&c, "Split", 13); /* even split that does not divide */
    oh_f32(&c, 1, (int64_t[]){5}, v);
    oh_outputs(&c, 2);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void slice_clamps_like_numpy_including_negative_steps(void **state)
{
    (void)state;
    float v[10];
    for (int i = 0; i < 10; i++) v[i] = (float)i;
    struct {
        int64_t start, end, step;
        int n;
        float want[10];
    } cases[] = {
        {-1, INT64_MIN, -1, 10, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
        {INT64_MAX, 2, -3, 3, {9, 6, 3}},
        {2, INT64_MAX, 3, 3, {2, 5, 8}},
        {-20, 3, 1, 3, {0, 1, 2}},
        {5, 5, 1, 0, {0}},
        {8, -100, -4, 3, {8, 4, 0}},
        {1, 0, 1, 0, {0}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        oh_case c;
        oh_init(&c, "Slice", 13);
        oh_f32(&c, 1, (int64_t[]){10}, v);
        oh_i64c(&c, 1, &cases[k].start);
        oh_i64c(&c, 1, &cases[k].end);
        oh_i64c(&c, 1, (int64_t[]){0});
        oh_i64c(&c, 1, &cases[k].step);
        oh_outputs(&c, 1);
        assert_int_equal(oh_run(&c), FT_OK);
        oh_assert_shape(c.out[0], 1, (int64_t[]){cases[k].n});
        oh_assert_f32(c.out[0], cases[k].want, (size_t)cases[k].n, 0);
        oh_free(&c);
    }
}

static void slice_2d_with_negative_axes_and_old_attributes(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Slice", 13); /* columns reversed from the end, rows untouched */
    oh_f32(&c, 2, d23, x23);
    oh_i64c(&c, 1, (int64_t[]){-1});
    oh_i64c(&c, 1, (int64_t[]){0});
    oh_i64c(&c, 1, (int64_t[]){-1});
    oh_i64c(&c, 1, (int64_t[]){-1});
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){2, 2});
    oh_assert_f32(c.out[0], (float[]){3, 2, 6, 5}, 4, 0);
    oh_free(&c);

    oh_init(&c, "Slice", 9);
    oh_f32(&c, 2, d23, x23);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "starts", 2, (int64_t[]){1, 1});
    oh_attr_ints(&c, "ends", 2, (int64_t[]){2, 1000});
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){1, 2});
    oh_assert_f32(c.out[0], (float[]){5, 6}, 2, 0);
    oh_free(&c);

    oh_init(&c, "Slice", 13); /* zero step */
    oh_f32(&c, 2, d23, x23);
    oh_i64c(&c, 1, (int64_t[]){0});
    oh_i64c(&c, 1, (int64_t[]){2});
    oh_i64c(&c, 1, (int64_t[]){1});
    oh_i64c(&c, 1, (int64_t[]){0});
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void expand_broadcasts_both_ways(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Expand", 13);
    oh_input(&c, FT_INT64, 2, (int64_t[]){3, 1}, (int64_t[]){1, 2, 3}, 0);
    oh_i64c(&c, 3, (int64_t[]){2, 1, 2});
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 3, (int64_t[]){2, 3, 2});
    oh_assert_i64(c.out[0], (int64_t[]){1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}, 12);
    oh_free(&c);

    oh_init(&c, "Expand", 13);
    oh_f32(&c, 2, d23, x23);
    oh_i64c(&c, 2, (int64_t[]){2, 2});
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);

    oh_init(&c, "Expand", 13);
    oh_f32(&c, 1, (int64_t[]){1}, NULL);
    oh_i64c(&c, 3, (int64_t[]){1 << 20, 1 << 20, 1 << 20});
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void pad_fills_crops_and_follows_opset_forms(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Pad", 13); /* rows +1 before, columns -1 before +1 after, value 9 */
    oh_f32(&c, 2, d23, x23);
    oh_i64c(&c, 4, (int64_t[]){1, -1, 0, 1});
    oh_f32(&c, 0, NULL, (float[]){9});
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){3, 3});
    oh_assert_f32(c.out[0], (float[]){9, 9, 9, 2, 3, 9, 5, 6, 9}, 9, 0);
    oh_free(&c);

    oh_init(&c, "Pad", 2); /* pads and value as attributes */
    oh_input(&c, FT_INT32, 1, (int64_t[]){2}, (int32_t[]){1, 2}, 0);
    oh_outputs(&c, 1);
    oh_attr_ints(&c, "pads", 2, (int64_t[]){2, 1});
    oh_attr_float(&c, "value", -1.0f);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_i64(c.out[0], (int64_t[]){-1, -1, 1, 2, -1}, 5);
    oh_free(&c);

    oh_init(&c, "Pad", 18); /* axes input picks the padded axis */
    oh_f32(&c, 2, d23, x23);
    oh_i64c(&c, 2, (int64_t[]){0, 1});
    oh_omit_input(&c);
    oh_i64c(&c, 1, (int64_t[]){-1});
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){1, 2, 3, 0, 4, 5, 6, 0}, 8, 0);
    oh_free(&c);

    oh_init(&c, "Pad", 13);
    oh_f32(&c, 2, d23, x23);
    oh_i64c(&c, 4, (int64_t[]){0, 0, 0, 0});
    oh_outputs(&c, 1);
    oh_attr_str(&c, "mode", "reflect");
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_UNSUPPORTED);
    oh_free(&c);

    oh_init(&c, "Pad", 13); /* crops past nothing */
    oh_f32(&c, 2, d23, x23);
    oh_i64c(&c, 4, (int64_t[]){0, -2, 0, -2});
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reshape_copies_zero_dims_and_infers_minus_one),
        cmocka_unit_test(reshape_refuses_bad_and_non_constant_shapes),
        cmocka_unit_test(flatten_accepts_negative_and_end_axes),
        cmocka_unit_test(squeeze_takes_axes_from_attribute_then_input),
        cmocka_unit_test(unsqueeze_places_unsorted_and_negative_axes_in_the_output),
        cmocka_unit_test(dropout_is_a_view_unless_mask_or_training_is_asked),
        cmocka_unit_test(shape_slices_with_start_and_end_from_opset_15),
        cmocka_unit_test(constantofshape_fills_value_and_refuses_absurd_shapes),
        cmocka_unit_test(range_counts_with_ceil_for_float_and_int),
        cmocka_unit_test(transpose_defaults_to_reversed_axes_and_moves_bytes),
        cmocka_unit_test(gather_takes_negative_int32_indices_along_an_axis),
        cmocka_unit_test(concat_joins_along_a_negative_axis),
        cmocka_unit_test(split_sizes_come_from_attribute_input_or_num_outputs),
        cmocka_unit_test(slice_clamps_like_numpy_including_negative_steps),
        cmocka_unit_test(slice_2d_with_negative_axes_and_old_attributes),
        cmocka_unit_test(expand_broadcasts_both_ways),
        cmocka_unit_test(pad_fills_crops_and_follows_opset_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
