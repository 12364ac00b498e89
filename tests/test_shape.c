/* test_shape.c - shape arithmetic: element counts refuse overflow, broadcasting follows numpy. */
#include "testutil.h"
#include "ops.h"

static void numel_counts_and_refuses_overflow(void **state)
{
    (void)state;
    ft_shape s = {3, {2, 3, 4}};
    assert_int_equal(ft_shape_numel(&s), 24);
    ft_shape scalar = {0, {0}};
    assert_int_equal(ft_shape_numel(&scalar), 1);
    ft_shape huge = {3, {1 << 20, 1 << 20, 1 << 20}};
    assert_int_equal(ft_shape_numel(&huge), -1);
    ft_shape neg = {2, {4, -1}};
    assert_int_equal(ft_shape_numel(&neg), -1);
    ft_shape zero_and_huge = {2, {0, (int64_t)1 << 62}};
    assert_int_equal(ft_shape_numel(&zero_and_huge), -1);
}

static void broadcast_follows_numpy(void **state)
{
    (void)state;
    ft_shape a = {3, {8, 1, 6}}, b = {2, {7, 1}}, o;
    assert_int_equal(ft_broadcast_shape(&a, &b, &o), FT_OK);
    assert_int_equal(o.rank, 3);
    assert_int_equal(o.dims[0], 8);
    assert_int_equal(o.dims[1], 7);
    assert_int_equal(o.dims[2], 6);
    ft_shape c = {1, {3}}, d = {1, {4}};
    assert_int_equal(ft_broadcast_shape(&c, &d, &o), FT_ERR_INPUT);
}

static void axes_normalise_with_and_without_end(void **state)
{
    (void)state;
    int ax;
    assert_int_equal(ft_normalize_axis(-1, 3, 0, &ax), 0);
    assert_int_equal(ax, 2);
    assert_int_equal(ft_normalize_axis(3, 3, 0, &ax), -1);
    assert_int_equal(ft_normalize_axis(3, 3, 1, &ax), 0);
    assert_int_equal(ft_normalize_axis(-4, 3, 1, &ax), 0);
    assert_int_equal(ax, 0);
    assert_int_equal(ft_normalize_axis(-4, 3, 0, &ax), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numel_counts_and_refuses_overflow),
        cmocka_unit_test(broadcast_follows_numpy),
        cmocka_unit_test(axes_normalise_with_and_without_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
