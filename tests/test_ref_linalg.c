/* test_ref_linalg.c - reference MatMul and Gemm: numpy promotion and batch broadcasting, transposes,
 * alpha/beta, the bias broadcast and opset rules. */
#include "op_harness.h"

static void matmul_2d_matches_hand_product(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "MatMul", 13);
    const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {7, 8, 9, 10, 11, 12};
    oh_f32(&c, 2, (int64_t[]){2, 3}, a);
    oh_f32(&c, 2, (int64_t[]){3, 2}, b);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){2, 2});
    oh_assert_f32(c.out[0], (float[]){58, 64, 139, 154}, 4, 0);
    oh_free(&c);
}

static void matmul_promotes_1d_operands_and_drops_the_added_dim(void **state)
{
    (void)state;
    const float v[] = {1, 2, 3}, m[] = {1, 2, 3, 4, 5, 6};
    oh_case c;
    oh_init(&c, "MatMul", 13); /* [3] x [3,2] -> [2] */
    oh_f32(&c, 1, (int64_t[]){3}, v);
    oh_f32(&c, 2, (int64_t[]){3, 2}, m);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 1, (int64_t[]){2});
    oh_assert_f32(c.out[0], (float[]){22, 28}, 2, 0);
    oh_free(&c);

    oh_init(&c, "MatMul", 13); /* [2,3] x [3] -> [2] */
    oh_f32(&c, 2, (int64_t[]){2, 3}, m);
    oh_f32(&c, 1, (int64_t[]){3}, v);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 1, (int64_t[]){2});
    oh_assert_f32(c.out[0], (float[]){14, 32}, 2, 0);
    oh_free(&c);

    oh_init(&c, "MatMul", 13); /* [3] x [3] -> scalar */
    oh_f32(&c, 1, (int64_t[]){3}, v);
    oh_f32(&c, 1, (int64_t[]){3}, v);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    assert_int_equal(c.out[0]->shape.rank, 0);
    oh_assert_f32(c.out[0], (float[]){14}, 1, 0);
    oh_free(&c);

    oh_init(&c, "MatMul", 13); /* [2,1,3] x [3] -> [2,1] */
    oh_f32(&c, 3, (int64_t[]){2, 1, 3}, m);
    oh_f32(&c, 1, (int64_t[]){3}, v);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){2, 1});
    oh_assert_f32(c.out[0], (float[]){14, 32}, 2, 0);
    oh_free(&c);
}

static void matmul_broadcasts_batch_dims(void **state)
{
    (void)state;
    /* A [2,1,2,3] against B [3,3,2]: batches broadcast to [2,3]. */
    float a[12], b[18];
    tu_fill_uniform(a, 12, 1, -1, 1);
    tu_fill_uniform(b, 18, 2, -1, 1);
    oh_case c;
    oh_init(&c, "MatMul", 13);
    oh_f32(&c, 4, (int64_t[]){2, 1, 2, 3}, a);
    oh_f32(&c, 3, (int64_t[]){3, 3, 2}, b);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 4, (int64_t[]){2, 3, 2, 2});
    float want[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int m = 0; m < 2; m++)
                for (int n = 0; n < 2; n++) {
                    double s = 0;
                    for (int k = 0; k < 3; k++) s += (double)a[i * 6 + m * 3 + k] * b[j * 6 + k * 2 + n];
                    want[((i * 3 + j) * 2 + m) * 2 + n] = (float)s;
                }
    oh_assert_f32(c.out[0], want, 24, 1e-5);
    oh_free(&c);
}

static void matmul_multiplies_int64(void **state)
{
    (void)state;
    const int64_t a[] = {1, -2, 3, 4}, b[] = {5, 6, 7, 8};
    oh_case c;
    oh_init(&c, "MatMul", 13);
    oh_input(&c, FT_INT64, 2, (int64_t[]){2, 2}, a, 0);
    oh_input(&c, FT_INT64, 2, (int64_t[]){2, 2}, b, 0);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    assert_int_equal(c.out[0]->dtype, FT_INT64);
    oh_assert_i64(c.out[0], (int64_t[]){-9, -10, 43, 50}, 4);
    oh_free(&c);
}

static void matmul_refuses_mismatched_inner_dims(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "MatMul", 13);
    oh_f32(&c, 2, (int64_t[]){2, 3}, NULL);
    oh_f32(&c, 2, (int64_t[]){2, 3}, NULL);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);

    oh_init(&c, "MatMul", 13); /* batch dims 2 and 3 do not broadcast */
    oh_f32(&c, 3, (int64_t[]){2, 2, 2}, NULL);
    oh_f32(&c, 3, (int64_t[]){3, 2, 2}, NULL);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void gemm_transposes_scales_and_broadcasts_bias(void **state)
{
    (void)state;
    /* op(A) = [[1,2],[3,4],[5,6]] given as A^T [2,3]; op(B) = [[1,0,2],[0,1,3]] given as B^T [3,2]. */
    const float at[] = {1, 3, 5, 2, 4, 6}, bt[] = {1, 0, 0, 1, 2, 3}, cvec[] = {10, 20, 30};
    oh_case c;
    oh_init(&c, "Gemm", 13);
    oh_f32(&c, 2, (int64_t[]){2, 3}, at);
    oh_f32(&c, 2, (int64_t[]){3, 2}, bt);
    oh_f32(&c, 1, (int64_t[]){3}, cvec);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "transA", 1);
    oh_attr_int(&c, "transB", 1);
    oh_attr_float(&c, "alpha", 2.0f);
    oh_attr_float(&c, "beta", 0.5f);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){3, 3});
    /* op(A) op(B) = [[1,2,8],[3,4,18],[5,6,28]]; times 2 plus half of [10,20,30] per row */
    oh_assert_f32(c.out[0], (float[]){7, 14, 31, 11, 18, 51, 15, 22, 71}, 9, 1e-6);
    oh_free(&c);
}

static void gemm_broadcasts_column_and_scalar_bias(void **state)
{
    (void)state;
    const float a[] = {1, 2, 3, 4}, b[] = {1, 0, 0, 1}, col[] = {100, 200}, s[] = {7};
    oh_case c;
    oh_init(&c, "Gemm", 11);
    oh_f32(&c, 2, (int64_t[]){2, 2}, a);
    oh_f32(&c, 2, (int64_t[]){2, 2}, b);
    oh_f32(&c, 2, (int64_t[]){2, 1}, col);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){101, 102, 203, 204}, 4, 0);
    oh_free(&c);

    oh_init(&c, "Gemm", 11);
    oh_f32(&c, 2, (int64_t[]){2, 2}, a);
    oh_f32(&c, 2, (int64_t[]){2, 2}, b);
    oh_f32(&c, 0, NULL, s);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_f32(c.out[0], (float[]){8, 9, 10, 11}, 4, 0);
    oh_free(&c);
}

static void gemm_bias_is_optional_only_from_opset_11(void **state)
{
    (void)state;
    const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {1, 2, 3};
    oh_case c;
    oh_init(&c, "Gemm", 11);
    oh_f32(&c, 2, (int64_t[]){2, 3}, a);
    oh_f32(&c, 2, (int64_t[]){1, 3}, b);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "transB", 1);
    assert_int_equal(oh_run(&c), FT_OK);
    oh_assert_shape(c.out[0], 2, (int64_t[]){2, 1});
    oh_assert_f32(c.out[0], (float[]){14, 32}, 2, 0);
    oh_free(&c);

    oh_init(&c, "Gemm", 9);
    oh_f32(&c, 2, (int64_t[]){2, 3}, a);
    oh_f32(&c, 2, (int64_t[]){1, 3}, b);
    oh_outputs(&c, 1);
    oh_attr_int(&c, "transB", 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

static void gemm_refuses_bias_that_does_not_broadcast(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Gemm", 13);
    oh_f32(&c, 2, (int64_t[]){2, 3}, NULL);
    oh_f32(&c, 2, (int64_t[]){3, 4}, NULL);
    oh_f32(&c, 1, (int64_t[]){2}, NULL);
    oh_outputs(&c, 1);
    oh_assert_fails(&c, oh_infer(&c), FT_ERR_INPUT);
    oh_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matmul_2d_matches_hand_product),
        cmocka_unit_test(matmul_promotes_1d_operands_and_drops_the_added_dim),
        cmocka_unit_test(matmul_broadcasts_batch_dims),
        cmocka_unit_test(matmul_multiplies_int64),
        cmocka_unit_test(matmul_refuses_mismatched_inner_dims),
        cmocka_unit_test(gemm_transposes_scales_and_broadcasts_bias),
        cmocka_unit_test(gemm_broadcasts_column_and_scalar_bias),
        cmocka_unit_test(gemm_bias_is_optional_only_from_opset_11),
        cmocka_unit_test(gemm_refuses_bias_that_does_not_broadcast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
