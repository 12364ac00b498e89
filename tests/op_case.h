/* op_case.h - runs one operator from the op table on hand-made tensors: infer, allocate, run. */
#ifndef FT_OP_CASE_H
#define FT_OP_CASE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "testutil.h"

#define OPC_MAX_IN 6
#define OPC_MAX_OUT 3
#define OPC_MAX_ATTR 4

/* Dims as an array literal: DIMS(2, 3). */
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

typedef struct op_case {
    ft_node node;
    ft_attr attrs[OPC_MAX_ATTR];
    int64_t ints[OPC_MAX_ATTR][FT_MAX_RANK];
    ft_tensor in[OPC_MAX_IN], out[OPC_MAX_OUT];
    ft_tensor *inp[OPC_MAX_IN], *outp[OPC_MAX_OUT];
    ft_error err;
} op_case;

static inline void opc_init(op_case *c, const char *op_type, int opset, int n_in, int n_out)
{
    memset(c, 0, sizeof *c);
    c->node.name = (char *)"node_under_test";
    c->node.op_type = (char *)op_type;
    c->node.domain = (char *)"";
    c->node.opset = opset;
    c->node.n_in = n_in;
    c->node.n_out = n_out;
    c->node.attrs = c->attrs;
    for (int i = 0; i < n_out; i++) {
        c->out[i].name = (char *)(i == 0 ? "out0" : i == 1 ? "out1" : "out2");
        c->outp[i] = &c->out[i];
    }
}

/* Input i with the given type, shape and values (vals may be NULL for zeros). */
static inline ft_tensor *opc_in(op_case *c, int i, ft_dtype t, int rank, const int64_t *dims, const void *vals)
{
    static const char *const names[OPC_MAX_IN] = {"in0", "in1", "in2", "in3", "in4", "in5"};
    tu_tensor_init(&c->in[i], names[i], t, rank, dims);
    if (vals) memcpy(c->in[i].data, vals, ft_tensor_nbytes(&c->in[i]));
    c->inp[i] = &c->in[i];
    return &c->in[i];
}

static inline void opc_attr_f(op_case *c, const char *name, float v)
{
    ft_attr *a = &c->attrs[c->node.n_attrs++];
    a->name = (char *)name;
    a->type = FT_ATTR_FLOAT;
    a->f = v;
}

static inline void opc_attr_i(op_case *c, const char *name, int64_t v)
{
    ft_attr *a = &c->attrs[c->node.n_attrs++];
    a->name = (char *)name;
    a->type = FT_ATTR_INT;
    a->i = v;
}

static inline void opc_attr_ints(op_case *c, const char *name, int n, const int64_t *v)
{
    int k = c->node.n_attrs++;
    ft_attr *a = &c->attrs[k];
    a->name = (char *)name;
    a->type = FT_ATTR_INTS;
    a->n = n;
    memcpy(c->ints[k], v, (size_t)n * sizeof v[0]);
    a->ints = c->ints[k];
}

/* Infers, allocates the present outputs and runs; returns the first failing status. An output whose
 * name is cleared (out[i].name = "") stands for an omitted optional output. */
static inline int opc_run(op_case *c)
{
    const ft_op_def *op = ft_op_find("", c->node.op_type);
    assert_non_null(op);
    ft_op_ctx ctx = {&c->node, c->node.n_in, c->node.n_out, c->inp, c->outp, &c->err};
    int rc = op->infer(&ctx);
    if (rc != FT_OK) return rc;
    for (int i = 0; i < c->node.n_out; i++) {
        if (!c->out[i].name[0]) continue;
        size_t nb = ft_tensor_nbytes(&c->out[i]);
        /* garbage, so that a kernel which skips an element cannot pass by reading zeros */
        c->out[i].data = malloc(nb ? nb : 1);
        assert_non_null(c->out[i].data);
        memset(c->out[i].data, 0xA5, nb ? nb : 1);
    }
    return op->run(&ctx);
}

static inline void opc_free(op_case *c)
{
    for (int i = 0; i < OPC_MAX_IN; i++) {
        free(c->in[i].name);
        free(c->in[i].data);
    }
    for (int i = 0; i < OPC_MAX_OUT; i++) free(c->out[i].data);
}

static inline void opc_assert_shape(const ft_tensor *t, int rank, const int64_t *dims)
{
    assert_int_equal(t->shape.rank, rank);
    for (int i = 0; i < rank; i++) assert_int_equal(t->shape.dims[i], dims[i]);
}

static inline void opc_assert_f32(const ft_tensor *t, const float *want, size_t n, double tol)
{
    assert_int_equal(t->dtype, FT_FLOAT);
    assert_int_equal(ft_shape_numel(&t->shape), (int64_t)n);
    const float *got = t->data;
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i])) {
            if (!isnan(got[i])) fail_msg("element %zu: got %.9g, want NaN", i, (double)got[i]);
        } else if (got[i] != want[i] && !(fabs((double)got[i] - (double)want[i]) <= tol)) {
            fail_msg("element %zu: got %.9g, want %.9g", i, (double)got[i], (double)want[i]);
        }
    }
}

static inline void opc_assert_i64(const ft_tensor *t, const int64_t *want, size_t n)
{
    assert_int_equal(t->dtype, FT_INT64);
    assert_int_equal(ft_shape_numel(&t->shape), (int64_t)n);
    for (size_t i = 0; i < n; i++) assert_int_equal(((const int64_t *)t->data)[i], want[i]);
}

static inline void opc_assert_u8(const ft_tensor *t, ft_dtype dtype, const uint8_t *want, size_t n)
{
    assert_int_equal(t->dtype, dtype);
    assert_int_equal(ft_shape_numel(&t->shape), (int64_t)n);
    for (size_t i = 0; i < n; i++) assert_int_equal(((const uint8_t *)t->data)[i], want[i]);
}

/* The message names the node and contains what. */
static inline void opc_assert_msg(const op_case *c, const char *what)
{
    if (!strstr(c->err.msg, "node_under_test") || !strstr(c->err.msg, what))
        fail_msg("message '%s' does not name the node and '%s'", c->err.msg, what);
}

#endif
