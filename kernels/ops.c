/* ops.c - the operator table and the shape helpers that many ops share. */
#include "ops.h"

#include <string.h>

static const ft_op_def *const ft_op_tables[] = {ft_ops_elementwise, ft_ops_reduce, ft_ops_linalg,
                                                ft_ops_conv, ft_ops_shape};

const ft_op_def *ft_op_find(const char *domain, const char *op_type)
{
    if (domain && strcmp(domain, FT_DOMAIN) == 0) {
        for (const ft_op_def *op = ft_ops_fluidtune; op->name; op++)
            if (strcmp(op->name, op_type) == 0) return op;
        return NULL;
    }
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0) return NULL;
    for (size_t t = 0; t < sizeof ft_op_tables / sizeof ft_op_tables[0]; t++)
        for (const ft_op_def *op = ft_op_tables[t]; op->name; op++)
            if (strcmp(op->name, op_type) == 0) return op;
    return NULL;
}

void ft_op_foreach(void (*fn)(const ft_op_def *op, void *user), void *user)
{
    for (size_t t = 0; t < sizeof ft_op_tables / sizeof ft_op_tables[0]; t++)
        for (const ft_op_def *op = ft_op_tables[t]; op->name; op++) fn(op, user);
}

int ft_broadcast_shape(const ft_shape *a, const ft_shape *b, ft_shape *out)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    ft_shape o;
    o.rank = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1) o.dims[i] = da;
        else if (da == 1) o.dims[i] = db;
        else return FT_ERR_INPUT;
    }
    *out = o;
    return FT_OK;
}

int ft_normalize_axis(int64_t axis, int rank, int allow_end, int *out)
{
    int64_t lim = rank + (allow_end ? 1 : 0);
    if (axis < 0) axis += lim;
    if (axis < 0 || axis >= lim) return -1;
    *out = (int)axis;
    return 0;
}

int64_t ft_tensor_get_i64(const ft_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case FT_INT64: return ((const int64_t *)t->data)[i];
    case FT_INT32: return ((const int32_t *)t->data)[i];
    case FT_UINT64: return (int64_t)((const uint64_t *)t->data)[i];
    case FT_UINT32: return ((const uint32_t *)t->data)[i];
    case FT_INT16: return ((const int16_t *)t->data)[i];
    case FT_UINT16: return ((const uint16_t *)t->data)[i];
    case FT_INT8: return ((const int8_t *)t->data)[i];
    case FT_UINT8: case FT_BOOL: return ((const uint8_t *)t->data)[i];
    case FT_FLOAT: return (int64_t)((const float *)t->data)[i];
    case FT_DOUBLE: return (int64_t)((const double *)t->data)[i];
    default: return 0;
    }
}

double ft_tensor_get_f64(const ft_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case FT_FLOAT: return ((const float *)t->data)[i];
    case FT_DOUBLE: return ((const double *)t->data)[i];
    default: return (double)ft_tensor_get_i64(t, i);
    }
}
