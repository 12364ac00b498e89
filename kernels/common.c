/* common.c - errors, element types and shape arithmetic shared by every module. */
#include "ft_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ft_fail(ft_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

size_t ft_dtype_size(ft_dtype t)
{
    switch (t) {
    case FT_FLOAT: case FT_INT32: case FT_UINT32: return 4;
    case FT_UINT8: case FT_INT8: case FT_BOOL: return 1;
    case FT_UINT16: case FT_INT16: case FT_FLOAT16: return 2;
    case FT_INT64: case FT_DOUBLE: case FT_UINT64: return 8;
    default: return 0;
    }
}

const char *ft_dtype_name(ft_dtype t)
{
    switch (t) {
    case FT_FLOAT: return "float32";
    case FT_UINT8: return "uint8";
    case FT_INT8: return "int8";
    case FT_UINT16: return "uint16";
    case FT_INT16: return "int16";
    case FT_INT32: return "int32";
    case FT_INT64: return "int64";
    case FT_STRING: return "string";
    case FT_BOOL: return "bool";
    case FT_FLOAT16: return "float16";
    case FT_DOUBLE: return "float64";
    case FT_UINT32: return "uint32";
    case FT_UINT64: return "uint64";
    default: return "undefined";
    }
}

int64_t ft_shape_numel(const ft_shape *s)
{
    int64_t n = 1;
    if (s->rank < 0 || s->rank > FT_MAX_RANK) return -1;
    for (int i = 0; i < s->rank; i++) {
        int64_t d = s->dims[i];
        if (d < 0) return -1;
        if (d == 0) n = 0;
        else if (n > FT_MAX_NUMEL / d) return -1;
        else n *= d;
    }
    /* a zero dim makes the product 0 even if another dim is huge: check the rest stays sane */
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i] > FT_MAX_NUMEL) return -1;
    return n;
}

int ft_shape_equal(const ft_shape *a, const ft_shape *b)
{
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

char *ft_shape_str(const ft_shape *s, char *buf, size_t n)
{
    size_t o = 0;
    if (n == 0) return buf;
    buf[0] = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (int i = 0; i < s->rank && o < n; i++) {
        if (s->dims[i] < 0) o += (size_t)snprintf(buf + o, n - o, "%s?", i ? "," : "");
        else o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? "," : "", (long long)s->dims[i]);
    }
    if (o < n) snprintf(buf + o, n - o, "]");
    return buf;
}

void ft_shape_strides(const ft_shape *s, int64_t *strides)
{
    int64_t st = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        strides[i] = st;
        st *= s->dims[i] > 0 ? s->dims[i] : 1;
    }
}

size_t ft_tensor_nbytes(const ft_tensor *t)
{
    int64_t n = ft_shape_numel(&t->shape);
    if (n < 0) return 0;
    return (size_t)n * ft_dtype_size(t->dtype);
}
