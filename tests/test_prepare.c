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

/* ---- MatMul epilogue fusion ---- */

enum { FUSE_BIAS = 1, FUSE_RES = 2, FUSE_GELU = 4, FUSE_RELU = 8, FUSE_LEAK_Y = 16, FUSE_LEAK_BIASED = 32,
       FUSE_VAR_W = 64, FUSE_TIED = 128, FUSE_LEAK_WT = 256 };

/* x[2,5,16] -> MatMul(w[16,8]) -> [Add(b[8])] -> [Add(Relu(x2), .)] -> [GELU as PyTorch exports it |
 * Relu] -> y. The residual's Relu is added after the MatMul in node order, so the fused node must
 * take the place of the chain's end. LEAK_Y / LEAK_BIASED: a second reader of the product / of the
 * biased product; VAR_W: the weights are a graph input instead of a constant; TIED: the weights are
 * Transpose(wt) of a constant wt[8,16] (a tied embedding read as the LM head); LEAK_WT: that
 * Transpose's output is also a graph output. */
static ft_graph *linear_graph(unsigned v)
{
    ft_graph *g = ft_graph_create();
    g->opset = 17;
    g->path = strdup("linear.onnx");
    int64_t xd[3] = {2, 5, 16}, rd[3] = {2, 5, 8}, wd[2] = {16, 8}, bd[1] = {8};
    float w[128], b[8], sqrt2 = 1.4142135381698608f, one = 1.0f, half = 0.5f;
    tu_fill_uniform(w, 128, 11, -1, 1);
    tu_fill_uniform(b, 8, 12, -1, 1);
    tu_add_input(g, "x", FT_FLOAT, 3, xd);
    tu_add_input(g, "x2", FT_FLOAT, 3, rd);
    if (v & FUSE_VAR_W) {
        tu_add_input(g, "w", FT_FLOAT, 2, wd);
    } else if (v & FUSE_TIED) {
        float wt[128];
        int64_t wtd[2] = {8, 16};
        for (int n = 0; n < 8; n++)
            for (int k = 0; k < 16; k++) wt[n * 16 + k] = w[k * 8 + n];
        tu_add_const_f32(g, "wt", 2, wtd, wt);
        tu_add_node(g, "Transpose", "tie", 1, (const char *[]){"wt"}, 1, (const char *[]){"w"});
        if (v & FUSE_LEAK_WT) tu_mark_output(g, "w");
    } else {
        tu_add_const_f32(g, "w", 2, wd, w);
    }
    tu_add_const_f32(g, "b", 1, bd, b);
    tu_add_const_f32(g, "sqrt2", 0, NULL, &sqrt2);
    tu_add_const_f32(g, "one", 0, NULL, &one);
    tu_add_const_f32(g, "half", 0, NULL, &half);
    const char *cur = "y0";
    tu_add_node(g, "MatMul", "linear", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"y0"});
    if (v & FUSE_BIAS) {
        tu_add_node(g, "Add", "bias", 2, (const char *[]){"b", cur}, 1, (const char *[]){"y1"});
        cur = "y1";
    }
    if (v & FUSE_RES) {
        tu_add_node(g, "Relu", "res_src", 1, (const char *[]){"x2"}, 1, (const char *[]){"r"});
        tu_add_node(g, "Add", "residual", 2, (const char *[]){cur, "r"}, 1, (const char *[]){"y2"});
        cur = "y2";
    }
    if (v & FUSE_GELU) {
        tu_add_node(g, "Div", "g_div", 2, (const char *[]){cur, "sqrt2"}, 1, (const char *[]){"g1"});
        tu_add_node(g, "Erf", "g_erf", 1, (const char *[]){"g1"}, 1, (const char *[]){"g2"});
        tu_add_node(g, "Add", "g_add", 2, (const char *[]){"g2", "one"}, 1, (const char *[]){"g3"});
        tu_add_node(g, "Mul", "g_mul", 2, (const char *[]){cur, "g3"}, 1, (const char *[]){"g4"});
        tu_add_node(g, "Mul", "g_half", 2, (const char *[]){"g4", "half"}, 1, (const char *[]){"y3"});
        cur = "y3";
    }
    if (v & FUSE_RELU) {
        tu_add_node(g, "Relu", "act", 1, (const char *[]){cur}, 1, (const char *[]){"y4"});
        cur = "y4";
    }
    tu_add_node(g, "Identity", "out", 1, (const char *[]){cur}, 1, (const char *[]){"y"});
    tu_mark_output(g, "y");
    if (v & (FUSE_LEAK_Y | FUSE_LEAK_BIASED)) {
        tu_add_node(g, "Neg", "leak", 1, (const char *[]){v & FUSE_LEAK_Y ? "y0" : "y1"}, 1, (const char *[]){"z"});
        tu_mark_output(g, "z");
    }
    return g;
}

/* Runs a prepared linear_graph on seeded inputs; output 0 into out[80]. */
static void run_linear(const ft_graph *g, unsigned v, float *out)
{
    ft_session *sess = NULL;
    ft_error err = {0};
    if (ft_session_create(g, &sess, &err) != FT_OK) fail_msg("%s", err.msg);
    int64_t xd[3] = {2, 5, 16}, rd[3] = {2, 5, 8}, wd[2] = {16, 8};
    ft_tensor x, x2, w;
    tu_tensor_init(&x, "x", FT_FLOAT, 3, xd);
    tu_tensor_init(&x2, "x2", FT_FLOAT, 3, rd);
    tu_fill_uniform(x.data, 160, 21, -2, 2);
    tu_fill_uniform(x2.data, 80, 22, -2, 2);
    assert_int_equal(ft_session_set_input(sess, 0, &x, &err), FT_OK);
    assert_int_equal(ft_session_set_input(sess, 1, &x2, &err), FT_OK);
    if (v & FUSE_VAR_W) {
        tu_tensor_init(&w, "w", FT_FLOAT, 2, wd);
        tu_fill_uniform(w.data, 128, 11, -1, 1);
        assert_int_equal(ft_session_set_input(sess, 2, &w, &err), FT_OK);
        ft_tensor_clear(&w);
    }
    if (ft_session_run(sess, &err) != FT_OK) fail_msg("%s", err.msg);
    const ft_tensor *o = ft_session_output(sess, 0);
    assert_int_equal(ft_shape_numel(&o->shape), 80);
    memcpy(out, o->data, 80 * sizeof *out);
    ft_tensor_clear(&x);
    ft_tensor_clear(&x2);
    ft_session_destroy(sess);
}

static const ft_node *find_op(const ft_graph *g, const char *op)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, op) == 0) return &g->nodes[i];
    return NULL;
}

static void matmul_epilogues_fuse_into_one_node_with_the_same_result(void **state)
{
    (void)state;
    static const unsigned variants[] = {FUSE_BIAS, FUSE_RES, FUSE_GELU, FUSE_RELU, FUSE_BIAS | FUSE_GELU,
                                        FUSE_BIAS | FUSE_RES, FUSE_BIAS | FUSE_RES | FUSE_GELU, FUSE_RES | FUSE_RELU};
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        unsigned v = variants[k];
        ft_graph *g = linear_graph(v), *r = linear_graph(v);
        ft_error err = {0};
        assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
        assert_int_equal(ft_graph_prepare_ex(r, FT_PREPARE_NO_FUSION, &err), FT_OK);
        assert_int_equal(count_op(g, "FusedMatMul"), 1);
        assert_int_equal(count_op(g, "MatMul") + count_op(g, "Add") + count_op(g, "Erf") + count_op(g, "Mul"), 0);
        assert_int_equal(count_op(g, "Relu"), (v & FUSE_RES) ? 1 : 0); /* the residual's own Relu stays */
        assert_int_equal(count_op(r, "FusedMatMul"), 0);
        const ft_node *f = find_op(g, "FusedMatMul");
        assert_string_equal(f->name, "linear");
        assert_string_equal(f->domain, FT_DOMAIN);
        assert_string_equal(ft_attr_string(f, "activation", "?"),
                            v & FUSE_GELU ? "gelu" : v & FUSE_RELU ? "relu" : "none");
        assert_int_equal(f->in[2] >= 0, (v & FUSE_BIAS) != 0);
        assert_int_equal(f->in[3] >= 0, (v & FUSE_RES) != 0);
        float got[80], want[80];
        run_linear(g, v, got);
        run_linear(r, v, want);
        for (int i = 0; i < 80; i++) assert_float_equal(got[i], want[i], 1e-6 + 1e-5 * fabsf(want[i]));
        ft_graph_destroy(g);
        ft_graph_destroy(r);
    }
}

static void matmul_epilogue_stops_where_an_intermediate_is_read_elsewhere(void **state)
{
    (void)state;
    const unsigned all = FUSE_BIAS | FUSE_RES | FUSE_GELU;
    ft_error err = {0};
    /* the product itself is read elsewhere: nothing fuses */
    ft_graph *g = linear_graph(all | FUSE_LEAK_Y);
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    assert_int_equal(count_op(g, "FusedMatMul"), 0);
    assert_int_equal(count_op(g, "MatMul"), 1);
    ft_graph_destroy(g);
    /* the biased product is read elsewhere: the bias fuses, the rest stays */
    g = linear_graph(all | FUSE_LEAK_BIASED);
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    assert_int_equal(count_op(g, "FusedMatMul"), 1);
    const ft_node *f = find_op(g, "FusedMatMul");
    assert_string_equal(ft_attr_string(f, "activation", "?"), "none");
    assert_true(f->in[2] >= 0 && f->in[3] < 0);
    assert_int_equal(count_op(g, "Erf"), 1);
    ft_graph *r = linear_graph(all | FUSE_LEAK_BIASED);
    assert_int_equal(ft_graph_prepare_ex(r, FT_PREPARE_NO_FUSION, &err), FT_OK);
    float got[80], want[80];
    run_linear(g, all, got);
    run_linear(r, all, want);
    for (int i = 0; i < 80; i++) assert_float_equal(got[i], want[i], 0);
    ft_graph_destroy(g);
    ft_graph_destroy(r);
    /* weights that are not constant: no fusion (the fused kernel packs them once) */
    g = linear_graph(all | FUSE_VAR_W);
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    assert_int_equal(count_op(g, "FusedMatMul"), 0);
    ft_graph_destroy(g);
}

static void transposed_weights_are_read_in_place_not_folded(void **state)
{
    (void)state;
    static const unsigned variants[] = {FUSE_TIED, FUSE_TIED | FUSE_BIAS | FUSE_GELU};
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        unsigned v = variants[k];
        ft_graph *g = linear_graph(v), *r = linear_graph(v), *plain = linear_graph(v & ~FUSE_TIED);
        ft_error err = {0};
        assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
        assert_int_equal(ft_graph_prepare_ex(r, FT_PREPARE_NO_FUSION, &err), FT_OK);
        assert_int_equal(ft_graph_prepare_ex(plain, FT_PREPARE_NO_FUSION, &err), FT_OK);
        /* fused: one FusedMatMul reading wt itself, no Transpose left to run */
        assert_int_equal(count_op(g, "FusedMatMul"), 1);
        assert_int_equal(count_op(g, "Transpose"), 0);
        const ft_node *f = find_op(g, "FusedMatMul");
        assert_int_equal(ft_attr_int(f, "transB", 0), 1);
        assert_string_equal(g->tensors[f->in[1]].name, "wt");
        /* unfused: the Transpose is folded at load time, as before */
        assert_int_equal(count_op(r, "Transpose") + count_op(r, "FusedMatMul"), 0);
        float got[80], want[80], base[80];
        run_linear(g, v, got);
        run_linear(r, v, want);
        run_linear(plain, v, base);
        for (int i = 0; i < 80; i++) {
            assert_float_equal(got[i], want[i], 1e-6 + 1e-5 * fabsf(want[i]));
            assert_float_equal(want[i], base[i], 0);
        }
        ft_graph_destroy(g);
        ft_graph_destroy(r);
        ft_graph_destroy(plain);
    }
    /* a transposed weight that is also a graph output is folded: its bytes must exist */
    ft_graph *g = linear_graph(FUSE_TIED | FUSE_BIAS | FUSE_LEAK_WT);
    ft_error err = {0};
    assert_int_equal(ft_graph_prepare(g, &err), FT_OK);
    assert_int_equal(count_op(g, "Transpose"), 0);
    const ft_node *f = find_op(g, "FusedMatMul");
    assert_non_null(f);
    assert_int_equal(ft_attr_int(f, "transB", 0), 0);
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
        cmocka_unit_test(matmul_epilogues_fuse_into_one_node_with_the_same_result),
        cmocka_unit_test(matmul_epilogue_stops_where_an_intermediate_is_read_elsewhere),
        cmocka_unit_test(transposed_weights_are_read_in_place_not_folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
