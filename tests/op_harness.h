/* op_harness.h - one-node harness for the reference-kernel tests: infer then run via ft_op_find.
 * It builds a node with its tensors and attributes and calls the op as ft_graph_prepare and the
 * executor would: outputs are allocated to the inferred sizes, views copy input 0. */
#ifndef FT_OP_HARNESS_H
#define FT_OP_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "testutil.h"

#define OH_MAX 8

typedef struct oh_case {
    ft_node node;
    ft_attr attrs[OH_MAX];
    int64_t attr_ints[OH_MAX][16];
    ft_tensor attr_tensor;
    ft_tensor ins[OH_MAX], outs[OH_MAX];
    ft_tensor *in[OH_MAX], *out[OH_MAX];
    int n_in, n_out;
    ft_error err;
} oh_case;

static inline void oh_init(oh_case *c, const char *op_type, int opset)
{
    memset(c, 0, sizeof *c);
    c->node.name = (char *)"node0";
    c->node.op_type = (char *)op_type;
    c->node.domain = (char *)"";
    c->node.opset = opset;
    c->node.attrs = c->attrs;
}

/* Adds input i with a copy of vals (may be NULL: zeros); flags are FT_T_CONST or 0. */
static inline ft_tensor *oh_input(oh_case *c, ft_dtype dt, int rank, const int64_t *dims, const void *vals,
                                  unsigned flags)
{
    char name[16];
    snprintf(name, sizeof name, "in%d", c->n_in);
    ft_tensor *t = &c->ins[c->n_in];
    tu_tensor_init(t, name, dt, rank, dims);
    if (vals) memcpy(t->data, vals, ft_tensor_nbytes(t));
    t->flags = flags;
    c->in[c->n_in++] = t;
    return t;
}

static inline ft_tensor *oh_f32(oh_case *c, int rank, const int64_t *dims, const float *vals)
{
    return oh_input(c, FT_FLOAT, rank, dims, vals, 0);
}

/* A constant int64 1-D input of n values (a shape, axes, pads...). */
static inline ft_tensor *oh_i64c(oh_case *c, int n, const int64_t *vals)
{
    int64_t d = n;
    return oh_input(c, FT_INT64, 1, &d, vals, FT_T_CONST);
}

static inline void oh_omit_input(oh_case *c)
{
    c->in[c->n_in++] = NULL;
}

static inline void oh_outputs(oh_case *c, int n)
{
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "out%d", c->n_out);
        ft_tensor *t = &c->outs[c->n_out];
        memset(t, 0, sizeof *t);
        t->name = strdup(name);
        t->shape.rank = -1;
        c->out[c->n_out++] = t;
    }
}

static inline ft_attr *oh_attr(oh_case *c, const char *name, ft_attr_type type)
{
    ft_attr *a = &c->attrs[c->node.n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = (char *)name;
    a->type = type;
    return a;
}

static inline void oh_attr_int(oh_case *c, const char *name, int64_t v)
{
    oh_attr(c, name, FT_ATTR_INT)->i = v;
}

static inline void oh_attr_float(oh_case *c, const char *name, float v)
{
    oh_attr(c, name, FT_ATTR_FLOAT)->f = v;
}

static inline void oh_attr_str(oh_case *c, const char *name, const char *v)
{
    oh_attr(c, name, FT_ATTR_STRING)->s = (char *)v;
}

static inline void oh_attr_ints(oh_case *c, const char *name, int n, const int64_t *v)
{
    int k = c->node.n_attrs;
    ft_attr *a = oh_attr(c, name, FT_ATTR_INTS);
    memcpy(c->attr_ints[k], v, (size_t)n * sizeof *v);
    a->ints = c->attr_ints[k];
    a->n = n;
}

/* A one-element tensor attribute (ConstantOfShape's value). */
static inline void oh_attr_scalar_tensor(oh_case *c, const char *name, ft_dtype dt, const void *val)
{
    int64_t one = 1;
    tu_tensor_init(&c->attr_tensor, "value", dt, 1, &one);
    memcpy(c->attr_tensor.data, val, ft_dtype_size(dt));
    oh_attr(c, name, FT_ATTR_TENSOR)->t = &c->attr_tensor;
}

static inline ft_op_ctx oh_ctx(oh_case *c)
{
    c->node.n_in = c->n_in;
    c->node.n_out = c->n_out;
    ft_op_ctx ctx = {&c->node, c->n_in, c->n_out, c->in, c->out, &c->err};
    return ctx;
}

static inline int oh_infer(oh_case *c)
{
    const ft_op_def *op = ft_op_find(c->node.domain, c->node.op_type);
    assert_non_null(op);
    ft_op_ctx ctx = oh_ctx(c);
    return op->infer(&ctx);
}

/* infer, then outputs allocated to the inferred sizes, then run (views copy input 0 instead). */
static inline int oh_run(oh_case *c)
{
    const ft_op_def *op = ft_op_find(c->node.domain, c->node.op_type);
    assert_non_null(op);
    ft_op_ctx ctx = oh_ctx(c);
    int rc = op->infer(&ctx);
    if (rc != FT_OK) return rc;
    for (int i = 0; i < c->n_out; i++) {
        ft_tensor *t = c->out[i];
        assert_true(ft_dtype_size(t->dtype) > 0);
        assert_true(t->shape.rank >= 0 && t->shape.rank <= FT_MAX_RANK);
        size_t nb = ft_tensor_nbytes(t);
        free(t->data);
        t->data = malloc(nb ? nb : 1);
        memset(t->data, 0xA5, nb ? nb : 1);
    }
    if (op->flags & FT_OP_VIEW) {
        assert_null(op->run);
        memcpy(c->out[0]->data, c->in[0]->data, ft_tensor_nbytes(c->out[0]));
        return FT_OK;
    }
    return op->run(&ctx);
}

static inline void oh_free(oh_case *c)
{
    for (int i = 0; i < c->n_in; i++)
        if (c->in[i]) ft_tensor_clear(c->in[i]);
    for (int i = 0; i < c->n_out; i++) ft_tensor_clear(c->out[i]);
    if (c->attr_tensor.name) ft_tensor_clear(&c->attr_tensor);
}

static inline void oh_assert_shape(const ft_tensor *t, int rank, const int64_t *dims)
{
    assert_int_equal(t->shape.rank, rank);
    for (int i = 0; i < rank; i++) assert_int_equal(t->shape.dims[i], dims[i]);
}

static inline void oh_assert_f32(const ft_tensor *t, const float *want, size_t n, double tol)
{
    assert_int_equal(t->dtype, FT_FLOAT);
    assert_int_equal(ft_shape_numel(&t->shape), (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        double d = (double)((const float *)t->data)[i] - (double)want[i];
        if (d > tol || d < -tol || d != d)
            fail_msg("element %zu: got %g, want %g", i, (double)((const float *)t->data)[i], (double)want[i]);
    }
}

static inline void oh_assert_i64(const ft_tensor *t, const int64_t *want, size_t n)
{
    assert_int_equal(ft_shape_numel(&t->shape), (int64_t)n);
    for (size_t i = 0; i < n; i++) assert_int_equal(ft_tensor_get_i64(t, (int64_t)i), want[i]);
}

/* Checks the status and that the message names the node. */
static inline void oh_assert_fails(oh_case *c, int rc, int want)
{
    assert_int_equal(rc, want);
    assert_non_null(strstr(c->err.msg, "node0"));
}

#endif
