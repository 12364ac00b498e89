/* testutil.c - helpers shared by the cmocka tests. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tu_tensor_init(ft_tensor *t, const char *name, ft_dtype dtype, int rank, const int64_t *dims)
{
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->dtype = dtype;
    t->shape.rank = rank;
    for (int i = 0; i < rank; i++) t->shape.dims[i] = dims[i];
    t->producer = -1;
    t->alias_of = -1;
    size_t nb = ft_tensor_nbytes(t);
    t->data = calloc(nb ? nb : 1, 1);
}

void tu_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) * (1.0 / 16777216.0));
    }
}

double tu_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

static int tensor_or_new(ft_graph *g, const char *name)
{
    int t = ft_graph_find_tensor(g, name);
    return t >= 0 ? t : ft_graph_add_tensor(g, name);
}

int tu_add_node(ft_graph *g, const char *op_type, const char *name, int n_in, const char *const *ins, int n_out,
                const char *const *outs)
{
    if (g->n_nodes == g->cap_nodes) {
        g->cap_nodes = g->cap_nodes ? 2 * g->cap_nodes : 16;
        g->nodes = realloc(g->nodes, (size_t)g->cap_nodes * sizeof *g->nodes);
        assert_non_null(g->nodes);
    }
    int ni = g->n_nodes++;
    ft_node *n = &g->nodes[ni];
    memset(n, 0, sizeof *n);
    n->name = strdup(name);
    n->op_type = strdup(op_type);
    n->domain = strdup("");
    n->opset = g->opset ? g->opset : 17;
    n->n_in = n_in;
    n->n_out = n_out;
    n->in = calloc((size_t)n_in + 1, sizeof *n->in);
    n->out = calloc((size_t)n_out + 1, sizeof *n->out);
    for (int i = 0; i < n_in; i++) n->in[i] = ins[i][0] ? tensor_or_new(g, ins[i]) : -1;
    for (int i = 0; i < n_out; i++) {
        int t = tensor_or_new(g, outs[i]);
        g->nodes[ni].out[i] = t;
        g->tensors[t].producer = ni;
    }
    return ni;
}

static ft_attr *new_attr(ft_graph *g, int ni, const char *name)
{
    ft_node *n = &g->nodes[ni];
    n->attrs = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *n->attrs);
    assert_non_null(n->attrs);
    ft_attr *a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    return a;
}

void tu_attr_ints(ft_graph *g, int ni, const char *name, int n, const int64_t *v)
{
    ft_attr *a = new_attr(g, ni, name);
    a->type = FT_ATTR_INTS;
    a->n = n;
    a->ints = malloc((size_t)(n ? n : 1) * sizeof *a->ints);
    memcpy(a->ints, v, (size_t)n * sizeof *v);
}

void tu_attr_int(ft_graph *g, int ni, const char *name, int64_t v)
{
    ft_attr *a = new_attr(g, ni, name);
    a->type = FT_ATTR_INT;
    a->i = v;
}

void tu_attr_float(ft_graph *g, int ni, const char *name, float v)
{
    ft_attr *a = new_attr(g, ni, name);
    a->type = FT_ATTR_FLOAT;
    a->f = v;
}

static void push_index(int **arr, int *n, int v)
{
    *arr = realloc(*arr, (size_t)(*n + 1) * sizeof **arr);
    assert_non_null(*arr);
    (*arr)[(*n)++] = v;
}

int tu_add_input(ft_graph *g, const char *name, ft_dtype dtype, int rank, const int64_t *dims)
{
    int t = ft_graph_add_tensor(g, name);
    ft_tensor *x = &g->tensors[t];
    x->dtype = dtype;
    x->shape.rank = rank;
    for (int i = 0; i < rank; i++) x->shape.dims[i] = dims[i];
    x->flags = FT_T_INPUT;
    push_index(&g->inputs, &g->n_inputs, t);
    return t;
}

static int add_const(ft_graph *g, const char *name, ft_dtype dtype, int rank, const int64_t *dims, const void *vals)
{
    int t = ft_graph_add_tensor(g, name);
    ft_tensor *x = &g->tensors[t];
    x->dtype = dtype;
    x->shape.rank = rank;
    for (int i = 0; i < rank; i++) x->shape.dims[i] = dims[i];
    x->flags = FT_T_CONST;
    size_t nb = ft_tensor_nbytes(x);
    x->data = malloc(nb ? nb : 1);
    memcpy(x->data, vals, nb);
    return t;
}

int tu_add_const_i64(ft_graph *g, const char *name, int rank, const int64_t *dims, const int64_t *vals)
{
    return add_const(g, name, FT_INT64, rank, dims, vals);
}

int tu_add_const_f32(ft_graph *g, const char *name, int rank, const int64_t *dims, const float *vals)
{
    return add_const(g, name, FT_FLOAT, rank, dims, vals);
}

void tu_mark_output(ft_graph *g, const char *name)
{
    int t = ft_graph_find_tensor(g, name);
    assert_true(t >= 0);
    g->tensors[t].flags |= FT_T_OUTPUT;
    push_index(&g->outputs, &g->n_outputs, t);
}
