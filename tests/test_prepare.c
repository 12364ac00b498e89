/* test_prepare.c - preparing a graph: shape-chain folding, views, dead code, clear errors; then running it. */
#include <math.h>
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

/* x[1,3,6,6] -> Conv(w, 3x3, pad 1[, bias]) -> [Identity ->] BatchNormalization -> y; a second Conv
 * shares w when shared_weights. With the Identity in between the BatchNormalization cannot fold
 * (its input is not the Conv's output): that graph is the unfolded reference. */
static ft_graph *conv_bn_graph(int with_bias, int barrier, int shared_weights)
{
    ft_graph *g = ft_graph_create();
    g->opset = 17;
    g->path = strdup("convbn.onnx");
    int64_t xd[4] = {1, 3, 6, 6}, wd[4] = {4, 3, 3, 3}, md[1] = {4};
    tu_add_input(g, "x", FT_FLOAT, 4, xd);
    float w[108], b[4], gamma[4] = {0.5f, -1.25f, 2.0f, 1.0f}, beta[4] = {0.1f, -0.2f, 0.3f, 0.0f};
    float mean[4] = {0.05f, -0.1f, 0.2f, 0.0f}, var[4] = {0.9f, 1.7f, 0.25f, 3.0f};
    tu_fill_uniform(w, 108, 7, -1, 1);
    tu_fill_uniform(b, 4, 8, -1, 1);
    tu_add_const_f32(g, "w", 4, wd, w);
    tu_add_const_f32(g, "b", 1, md, b);
    tu_add_const_f32(g, "gamma", 1, md, gamma);
    tu_add_const_f32(g, "beta", 1, md, beta);
    tu_add_const_f32(g, "mean", 1, md, mean);
    tu_add_const_f32(g, "var", 1, md, var);
    const int64_t pads[4] = {1, 1, 1, 1};
    int c = with_bias ? tu_add_node(g, "Conv", "conv", 3, (const char *[]){"x", "w", "b"}, 1, (const char *[]){"c"})
                      : tu_add_node(g, "Conv", "conv", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"c"});
    tu_attr_ints(g, c, "pads", 4, pads);
    if (barrier) tu_add_node(g, "Identity", "id", 1, (const char *[]){"c"}, 1, (const char *[]){"c2"});
    int bn = tu_add_node(g, "BatchNormalization", "bn", 5,
                         (const char *[]){barrier ? "c2" : "c", "gamma", "beta", "mean", "var"}, 1, (const char *[]){"y"});
    tu_attr_float(g, bn, "epsilon", 1e-3f);
    tu_mark_output(g, "y");
    if (shared_weights) {
        int c2 = tu_add_node(g, "Conv", "conv_shared", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"z"});
        tu_attr_ints(g, c2, "pads", 4, pads);
        tu_mark_output(g, "z");
    }
    return g;
}

static int count_op(const ft_graph *g, const char *op)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += strcmp(g->nodes[i].op_type, op) == 0;
    return n;
}

/* Runs a prepared graph on a fixed x and copies output k out. */
static void run_convbn(const ft_graph *g, int k, float *out, size_t n)
{
    ft_session *sess = NULL;
    ft_error err = {0};
    assert_int_equal(ft_session_create(g, &sess, &err), FT_OK);
    ft_tensor in;
    int64_t dims[4] = {1, 3, 6, 6};
    tu_tensor_init(&in, "x", FT_FLOAT, 4, dims);
    tu_fill_uniform(in.data, 108, 9, -2, 2);
    assert_int_equal(ft_session_set_input(sess, 0, &in, &err), FT_OK);
    assert_int_equal(ft_session_run(sess, &err), FT_OK);
    const ft_tensor *o = ft_session_output(sess, k);
    assert_int_equal(ft_shape_numel(&o->shape), (int64_t)n);
    memcpy(out, o->data, n * sizeof *out);
    ft_tensor_clear(&in);
    ft_session_destroy(sess);
}

static void batchnorm_after_conv_folds_into_it_with_the_same_result(void **state)
{
    (void)state;
    for (int with_bias = 0; with_bias < 2; with_bias++)
        for (int shared = 0; shared < 2; shared++) {
            ft_graph *g = conv_bn_graph(with_bias, 0, shared), *r = conv_bn_graph(with_bias, 1, shared);
            ft_error err = {0};
            assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
            assert_int_equal(ft_graph_prepare(r, &err), FT_OK);
            assert_int_equal(count_op(g, "BatchNormalization"), 0);
            assert_int_equal(count_op(r, "BatchNormalization"), 1);
            float got[144], want[144];
            run_convbn(g, 0, got, 144);
            run_convbn(r, 0, want, 144);
            for (int i = 0; i < 144; i++) assert_float_equal(got[i], want[i], 1e-5 + 1e-5 * fabsf(want[i]));
            if (shared) { /* the other Conv still reads the original weights */
                run_convbn(g, 1, got, 144);
                run_convbn(r, 1, want, 144);
                for (int i = 0; i < 144; i++) assert_float_equal(got[i], want[i], 0);
            }
            ft_graph_destroy(g);
            ft_graph_destroy(r);
        }
}

static void batchnorm_whose_input_is_also_read_elsewhere_stays(void **state)
{
    (void)state;
    ft_graph *g = conv_bn_graph(1, 0, 0);
    tu_add_node(g, "Relu", "other_reader", 1, (const char *[]){"c"}, 1, (const char *[]){"r"});
    tu_mark_output(g, "r");
    ft_error err = {0};
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    assert_int_equal(count_op(g, "BatchNormalization"), 1);
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
        cmocka_unit_test(batchnorm_after_conv_folds_into_it_with_the_same_result),
        cmocka_unit_test(batchnorm_whose_input_is_also_read_elsewhere_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
