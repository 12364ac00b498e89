/* test_prepare.c - preparing a graph: shape-chain folding, views, dead code, clear errors; then running it. */
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "ops.h"
#include "prepare.h"
#include "testutil.h"

/* x[?,4] -> Shape -> Gather(0) -> Unsqueeze -> Concat([2,2]) -> Reshape(x) -> Relu -> z,
 * the pattern PyTorch's exporter emits for x.view(x.size(0), 2, 2). */
static ft_graph *shape_chain_graph(void)
{
    ft_graph *g = ft_graph_create();
    g->opset = 17;
    g->path = strdup("chain.onnx");
    int64_t dyn[2] = {-1, 4};
    int xi = tu_add_input(g, "x", FT_FLOAT, 2, dyn);
    g->tensors[xi].dim_param[0] = strdup("batch");
    int64_t zero = 0, one = 1, two2[2] = {2, 2}, d1 = 1, d2 = 2;
    tu_add_const_i64(g, "idx0", 0, NULL, &zero);
    tu_add_const_i64(g, "axes0", 1, &d1, &zero);
    tu_add_const_i64(g, "tail", 1, &d2, two2);
    (void)one;
    tu_add_node(g, "Shape", "shape", 1, (const char *[]){"x"}, 1, (const char *[]){"s"});
    tu_add_node(g, "Gather", "gather", 2, (const char *[]){"s", "idx0"}, 1, (const char *[]){"d0"});
    tu_add_node(g, "Unsqueeze", "unsq", 2, (const char *[]){"d0", "axes0"}, 1, (const char *[]){"u"});
    int cat = tu_add_node(g, "Concat", "concat", 2, (const char *[]){"u", "tail"}, 1, (const char *[]){"newshape"});
    tu_attr_int(g, cat, "axis", 0);
    tu_add_node(g, "Reshape", "reshape", 2, (const char *[]){"x", "newshape"}, 1, (const char *[]){"y"});
    tu_add_node(g, "Relu", "relu", 1, (const char *[]){"y"}, 1, (const char *[]){"z"});
    tu_add_node(g, "Neg", "unused", 1, (const char *[]){"z"}, 1, (const char *[]){"dead"});
    tu_mark_output(g, "z");
    return g;
}

static void dynamic_input_without_shape_is_an_error_naming_it(void **state)
{
    (void)state;
    ft_graph *g = shape_chain_graph();
    ft_error err = {0};
    assert_int_equal(ft_graph_prepare(g, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "'x'"));
    assert_non_null(strstr(err.msg, "batch"));
    assert_non_null(strstr(err.msg, "--shape"));
    ft_graph_destroy(g);
}

static void shape_for_a_missing_input_lists_the_real_ones(void **state)
{
    (void)state;
    ft_graph *g = shape_chain_graph();
    ft_error err = {0};
    ft_shape s = {2, {3, 4}};
    assert_int_equal(ft_graph_set_input_shape(g, "nope", &s, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "'nope'"));
    assert_non_null(strstr(err.msg, "'x'"));
    ft_shape bad = {2, {3, 5}};
    assert_int_equal(ft_graph_set_input_shape(g, "x", &bad, &err), FT_ERR_INPUT);
    ft_graph_destroy(g);
}

static void shape_chain_folds_leaving_view_and_compute(void **state)
{
    (void)state;
    ft_graph *g = shape_chain_graph();
    ft_error err = {0};
    ft_shape s = {2, {2, 4}};
    assert_int_equal(ft_graph_set_input_shape(g, "x", &s, &err), FT_OK);
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    assert_int_equal(g->n_nodes, 2);
    assert_string_equal(g->nodes[0].op_type, "Reshape");
    assert_string_equal(g->nodes[1].op_type, "Relu");
    const ft_tensor *y = &g->tensors[ft_graph_find_tensor(g, "y")];
    assert_true(y->flags & FT_T_VIEW);
    assert_int_equal(y->alias_of, ft_graph_find_tensor(g, "x"));
    const ft_tensor *z = &g->tensors[ft_graph_find_tensor(g, "z")];
    assert_int_equal(z->shape.rank, 3);
    assert_int_equal(z->shape.dims[0], 2);
    assert_int_equal(z->shape.dims[1], 2);
    assert_int_equal(z->shape.dims[2], 2);

    ft_session *sess = NULL;
    assert_int_equal(ft_session_create(g, &sess, &err), FT_OK);
    ft_tensor in;
    int64_t dims[2] = {2, 4};
    tu_tensor_init(&in, "x", FT_FLOAT, 2, dims);
    float vals[8] = {-1, 2, -3, 4, 5, -6, 7, -8};
    memcpy(in.data, vals, sizeof vals);
    assert_int_equal(ft_session_set_input(sess, 0, &in, &err), FT_OK);
    assert_int_equal(ft_session_run(sess, &err), FT_OK);
    const ft_tensor *out = ft_session_output(sess, 0);
    const float *o = out->data;
    for (int i = 0; i < 8; i++) assert_float_equal(o[i], vals[i] > 0 ? vals[i] : 0, 0);
    /* a wrong input shape is refused, not run */
    ft_tensor wrong;
    int64_t wdims[2] = {4, 2};
    tu_tensor_init(&wrong, "x", FT_FLOAT, 2, wdims);
    assert_int_equal(ft_session_set_input(sess, 0, &wrong, &err), FT_ERR_INPUT);
    ft_tensor_clear(&wrong);
    ft_tensor_clear(&in);
    ft_session_destroy(sess);
    ft_graph_destroy(g);
}

static void unsupported_ops_are_all_listed_once(void **state)
{
    (void)state;
    ft_graph *g = ft_graph_create();
    g->path = strdup("m.onnx");
    int64_t d = 4;
    tu_add_input(g, "x", FT_FLOAT, 1, &d);
    tu_add_node(g, "FooOp", "foo1", 1, (const char *[]){"x"}, 1, (const char *[]){"a"});
    tu_add_node(g, "FooOp", "foo2", 1, (const char *[]){"a"}, 1, (const char *[]){"b"});
    tu_add_node(g, "BarOp", "bar1", 1, (const char *[]){"b"}, 1, (const char *[]){"c"});
    tu_add_node(g, "Relu", "relu", 1, (const char *[]){"c"}, 1, (const char *[]){"y"});
    tu_mark_output(g, "y");
    ft_error err = {0};
    assert_int_equal(ft_graph_prepare(g, &err), FT_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "FooOp (node 'foo1')"));
    assert_non_null(strstr(err.msg, "BarOp (node 'bar1')"));
    assert_null(strstr(err.msg, "foo2"));
    assert_null(strstr(err.msg, "Relu"));
    ft_graph_destroy(g);
}

static void constant_subgraphs_fold_entirely(void **state)
{
    (void)state;
    ft_graph *g = ft_graph_create();
    g->path = strdup("c.onnx");
    int64_t d = 3;
    float a[3] = {1, -2, 3}, b[3] = {10, 20, 30};
    tu_add_const_f32(g, "a", 1, &d, a);
    tu_add_const_f32(g, "b", 1, &d, b);
    tu_add_input(g, "x", FT_FLOAT, 1, &d);
    tu_add_node(g, "Relu", "r", 1, (const char *[]){"a"}, 1, (const char *[]){"ra"});
    tu_add_node(g, "Add", "s", 2, (const char *[]){"ra", "b"}, 1, (const char *[]){"c"});
    tu_add_node(g, "Mul", "m", 2, (const char *[]){"x", "c"}, 1, (const char *[]){"y"});
    tu_mark_output(g, "y");
    ft_error err = {0};
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    assert_int_equal(g->n_nodes, 1);
    const ft_tensor *c = &g->tensors[ft_graph_find_tensor(g, "c")];
    assert_true(c->flags & FT_T_CONST);
    const float *cv = c->data;
    assert_float_equal(cv[0], 11, 0);
    assert_float_equal(cv[1], 20, 0);
    assert_float_equal(cv[2], 33, 0);
    /* the intermediate constant is no longer needed and has been freed */
    assert_null(g->tensors[ft_graph_find_tensor(g, "ra")].data);
    ft_graph_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dynamic_input_without_shape_is_an_error_naming_it),
        cmocka_unit_test(shape_for_a_missing_input_lists_the_real_ones),
        cmocka_unit_test(shape_chain_folds_leaving_view_and_compute),
        cmocka_unit_test(unsupported_ops_are_all_listed_once),
        cmocka_unit_test(constant_subgraphs_fold_entirely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
