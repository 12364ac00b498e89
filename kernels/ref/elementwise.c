/* elementwise.c - reference elementwise kernels: broadcast arithmetic and comparisons, unary math and
 * activations, Clip, Cast, Where and Not. */
#include "op_util.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- element types ---------------------------------------------------------------------------
 * X(suffix, dtype, C type, wrap type, lowest, highest, ...). Integer + - * are done in the wrap type
 * (unsigned, at least int-wide) so that overflow wraps as numpy does instead of being undefined. */
#define FLOAT_TYPES(X, ...)                                                                         \
    X(f32, FT_FLOAT, float, float, -INFINITY, INFINITY, __VA_ARGS__)                               \
    X(f64, FT_DOUBLE, double, double, -INFINITY, INFINITY, __VA_ARGS__)
#define SINT_TYPES(X, ...)                                                                          \
    X(i8, FT_INT8, int8_t, uint32_t, INT8_MIN, INT8_MAX, __VA_ARGS__)                               \
    X(i16, FT_INT16, int16_t, uint32_t, INT16_MIN, INT16_MAX, __VA_ARGS__)                          \
    X(i32, FT_INT32, int32_t, uint32_t, INT32_MIN, INT32_MAX, __VA_ARGS__)                          \
    X(i64, FT_INT64, int64_t, uint64_t, INT64_MIN, INT64_MAX, __VA_ARGS__)
#define UINT_TYPES(X, ...)                                                                          \
    X(u8, FT_UINT8, uint8_t, uint32_t, 0, UINT8_MAX, __VA_ARGS__)                                   \
    X(u16, FT_UINT16, uint16_t, uint32_t, 0, UINT16_MAX, __VA_ARGS__)                               \
    X(u32, FT_UINT32, uint32_t, uint32_t, 0, UINT32_MAX, __VA_ARGS__)                               \
    X(u64, FT_UINT64, uint64_t, uint64_t, 0, UINT64_MAX, __VA_ARGS__)
#define INT_TYPES(X, ...) SINT_TYPES(X, __VA_ARGS__) UINT_TYPES(X, __VA_ARGS__)
#define NUMERIC_TYPES(X, ...) FLOAT_TYPES(X, __VA_ARGS__) INT_TYPES(X, __VA_ARGS__)

static int is_float_type(ft_dtype t)
{
    return t == FT_FLOAT || t == FT_DOUBLE || t == FT_FLOAT16;
}

static int is_int_type(ft_dtype t)
{
    switch (t) {
    case FT_INT8: case FT_INT16: case FT_INT32: case FT_INT64:
    case FT_UINT8: case FT_UINT16: case FT_UINT32: case FT_UINT64: return 1;
    default: return 0;
    }
}

/* ---- float16 ------------------------------------------------------------------------------- */

static double half_to_double(uint16_t h)
{
    int sign = h >> 15, e = (h >> 10) & 0x1f;
    unsigned m = h & 0x3ffu;
    double v;
    if (e == 0) v = ldexp((double)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp((double)(m | 0x400u), e - 25);
    return sign ? -v : v;
}

/* Rounds to nearest even straight from double: going through float first would round twice. */
static uint16_t half_from_double(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    uint16_t sign = (uint16_t)((b >> 48) & 0x8000u);
    int e = (int)((b >> 52) & 0x7ff);
    uint64_t m = b & 0xfffffffffffffull;
    if (e == 0x7ff) return (uint16_t)(sign | 0x7c00u | (m ? 0x200u : 0u));
    int he = e - 1023 + 15;
    if (he >= 31) return (uint16_t)(sign | 0x7c00u);
    if (he <= 0) {
        if (he < -10) return sign; /* below half the smallest subnormal: rounds to zero */
        uint64_t full = m | (1ull << 52);
        int shift = 43 - he;
        uint64_t hm = full >> shift, rem = full & ((1ull << shift) - 1), half = 1ull << (shift - 1);
        if (rem > half || (rem == half && (hm & 1))) hm++;
        return (uint16_t)(sign | hm);
    }
    uint64_t rem = m & ((1ull << 42) - 1), half = 1ull << 41;
    uint32_t h = (uint32_t)sign | ((uint32_t)he << 10) | (uint32_t)(m >> 42);
    /* a carry out of the mantissa correctly bumps the exponent, up to infinity */
    if (rem > half || (rem == half && (h & 1))) h++;
    return (uint16_t)h;
}

/* Runs fn on float32 copies of ctx's float16 tensors. For these ops computing in float32 and rounding
 * once to float16 gives what float16 arithmetic gives (float32 has more than twice the precision). */
static int run_f16_as_f32(ft_op_ctx *ctx, int (*fn)(ft_op_ctx *))
{
    int n = ctx->n_in + ctx->n_out, rc = FT_OK;
    ft_tensor *shadow = calloc((size_t)n, sizeof *shadow);
    ft_tensor **ptr = calloc((size_t)n, sizeof *ptr);
    if (!shadow || !ptr) rc = FT_ERR_NOMEM;
    for (int i = 0; rc == FT_OK && i < n; i++) {
        ft_tensor *t = i < ctx->n_in ? ctx->in[i] : ctx->out[i - ctx->n_in];
        ptr[i] = t;
        if (!t || t->dtype != FT_FLOAT16) continue;
        int64_t cnt = ft_shape_numel(&t->shape);
        shadow[i] = *t;
        shadow[i].dtype = FT_FLOAT;
        shadow[i].data = malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof(float));
        if (!shadow[i].data) {
            rc = FT_ERR_NOMEM;
            break;
        }
        ptr[i] = &shadow[i];
        if (i < ctx->n_in)
            for (int64_t k = 0; k < cnt; k++)
                ((float *)shadow[i].data)[k] = (float)half_to_double(((const uint16_t *)t->data)[k]);
    }
    if (rc == FT_OK) {
        ft_op_ctx sub = *ctx;
        sub.in = ptr;
        sub.out = ptr + ctx->n_in;
        rc = fn(&sub);
    } else {
        ft_op_fail(ctx, rc, "out of memory for float16 staging buffers");
    }
    for (int i = ctx->n_in; rc == FT_OK && i < n; i++) {
        if (ptr[i] != &shadow[i]) continue;
        int64_t cnt = ft_shape_numel(&shadow[i].shape);
        for (int64_t k = 0; k < cnt; k++)
            ((uint16_t *)ctx->out[i - ctx->n_in]->data)[k] = half_from_double(((const float *)shadow[i].data)[k]);
    }
    for (int i = 0; shadow && ptr && i < n; i++)
        if (ptr[i] == &shadow[i]) free(shadow[i].data);
    free(shadow);
    free(ptr);
    return rc;
}

static int has_f16(const ft_op_ctx *ctx)
{
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i] && ctx->in[i]->dtype == FT_FLOAT16) return 1;
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i] && ctx->out[i]->dtype == FT_FLOAT16) return 1;
    return 0;
}

/* ---- any element as a number, for the ops where per-element type dispatch is simplest -------- */

typedef struct scalar {
    enum { S_INT, S_UINT, S_FLOAT } kind;
    int64_t i;
    uint64_t u;
    double f;
} scalar;

static scalar load_scalar(const void *p, ft_dtype t, int64_t k)
{
    scalar v = {S_INT, 0, 0, 0.0};
    switch (t) {
    case FT_FLOAT: v.kind = S_FLOAT; v.f = ((const float *)p)[k]; break;
    case FT_DOUBLE: v.kind = S_FLOAT; v.f = ((const double *)p)[k]; break;
    case FT_FLOAT16: v.kind = S_FLOAT; v.f = half_to_double(((const uint16_t *)p)[k]); break;
    case FT_INT8: v.i = ((const int8_t *)p)[k]; break;
    case FT_INT16: v.i = ((const int16_t *)p)[k]; break;
    case FT_INT32: v.i = ((const int32_t *)p)[k]; break;
    case FT_INT64: v.i = ((const int64_t *)p)[k]; break;
    case FT_UINT8: case FT_BOOL: v.kind = S_UINT; v.u = ((const uint8_t *)p)[k]; break;
    case FT_UINT16: v.kind = S_UINT; v.u = ((const uint16_t *)p)[k]; break;
    case FT_UINT32: v.kind = S_UINT; v.u = ((const uint32_t *)p)[k]; break;
    case FT_UINT64: v.kind = S_UINT; v.u = ((const uint64_t *)p)[k]; break;
    default: break;
    }
    return v;
}

static double scalar_f64(scalar v)
{
    return v.kind == S_FLOAT ? v.f : v.kind == S_INT ? (double)v.i : (double)v.u;
}

/* ONNX leaves float-to-integer conversion of out-of-range values undefined; C makes it undefined
 * behaviour. The reference truncates toward zero, saturates at the type's range and maps NaN to 0. */
static int64_t sat_signed(double d, int64_t lo, int64_t hi)
{
    if (isnan(d)) return 0;
    if (d <= (double)lo) return lo;
    if (d >= (double)hi) return hi;
    return (int64_t)d;
}

static uint64_t sat_unsigned(double d, uint64_t hi)
{
    if (isnan(d) || d <= 0.0) return 0;
    if (d >= (double)hi) return hi;
    return (uint64_t)d;
}

/* Integer to integer conversions wrap modulo 2^bits, as numpy's astype does. */
static void store_scalar(void *p, ft_dtype t, int64_t k, scalar v)
{
    uint64_t bits = v.kind == S_INT ? (uint64_t)v.i : v.u;
    int fl = v.kind == S_FLOAT;
    double f = v.f;
    switch (t) {
    case FT_FLOAT:
        ((float *)p)[k] = fl ? (float)f : v.kind == S_INT ? (float)v.i : (float)v.u;
        break;
    case FT_DOUBLE:
        ((double *)p)[k] = fl ? f : v.kind == S_INT ? (double)v.i : (double)v.u;
        break;
    case FT_FLOAT16: ((uint16_t *)p)[k] = half_from_double(scalar_f64(v)); break;
    case FT_BOOL: ((uint8_t *)p)[k] = fl ? f != 0.0 : bits != 0; break;
    case FT_INT8: ((int8_t *)p)[k] = fl ? (int8_t)sat_signed(f, INT8_MIN, INT8_MAX) : (int8_t)bits; break;
    case FT_INT16: ((int16_t *)p)[k] = fl ? (int16_t)sat_signed(f, INT16_MIN, INT16_MAX) : (int16_t)bits; break;
    case FT_INT32: ((int32_t *)p)[k] = fl ? (int32_t)sat_signed(f, INT32_MIN, INT32_MAX) : (int32_t)bits; break;
    case FT_INT64: ((int64_t *)p)[k] = fl ? sat_signed(f, INT64_MIN, INT64_MAX) : (int64_t)bits; break;
    case FT_UINT8: ((uint8_t *)p)[k] = fl ? (uint8_t)sat_unsigned(f, UINT8_MAX) : (uint8_t)bits; break;
    case FT_UINT16: ((uint16_t *)p)[k] = fl ? (uint16_t)sat_unsigned(f, UINT16_MAX) : (uint16_t)bits; break;
    case FT_UINT32: ((uint32_t *)p)[k] = fl ? (uint32_t)sat_unsigned(f, UINT32_MAX) : (uint32_t)bits; break;
    case FT_UINT64: ((uint64_t *)p)[k] = fl ? sat_unsigned(f, UINT64_MAX) : bits; break;
    default: break;
    }
}

/* ---- broadcasting ---------------------------------------------------------------------------- */

#define MAX_BCAST_IN 3

/* Computes one output row of n elements; input j's element i is at in[j] + i * step[j] (elements). */
typedef void (*row_fn)(const void *const *in, const int64_t *step, void *out, int64_t n, const void *arg);

/* Walks the output row by row along its last axis, keeping each input's offset in step with
 * precomputed broadcast strides (0 along the axes where that input has size 1). */
static void broadcast_apply(int n_in, const ft_tensor *const *in, ft_tensor *out, row_fn fn, const void *arg)
{
    int r = out->shape.rank > 0 ? out->shape.rank : 1;
    int64_t dims[FT_MAX_RANK], st[MAX_BCAST_IN][FT_MAX_RANK], off[MAX_BCAST_IN] = {0}, idx[FT_MAX_RANK] = {0};
    int64_t step[MAX_BCAST_IN];
    const void *p[MAX_BCAST_IN];
    size_t esz[MAX_BCAST_IN], osz = ft_dtype_size(out->dtype);
    int64_t numel = 1;
    for (int d = 0; d < r; d++) {
        dims[d] = out->shape.rank > 0 ? out->shape.dims[d] : 1;
        numel *= dims[d];
    }
    if (numel == 0) return;
    for (int k = 0; k < n_in; k++) {
        int64_t s[FT_MAX_RANK];
        const ft_shape *is = &in[k]->shape;
        ft_shape_strides(is, s);
        for (int d = 0; d < r; d++) {
            int id = d - (r - is->rank);
            st[k][d] = id < 0 || is->dims[id] == 1 ? 0 : s[id];
        }
        step[k] = st[k][r - 1];
        esz[k] = ft_dtype_size(in[k]->dtype);
    }
    int64_t inner = dims[r - 1], rows = numel / inner;
    for (int64_t row = 0; row < rows; row++) {
        for (int k = 0; k < n_in; k++) p[k] = (const char *)in[k]->data + (size_t)off[k] * esz[k];
        fn(p, step, (char *)out->data + (size_t)(row * inner) * osz, inner, arg);
        for (int d = r - 2; d >= 0; d--) {
            for (int k = 0; k < n_in; k++) off[k] += st[k][d];
            if (++idx[d] < dims[d]) break;
            for (int k = 0; k < n_in; k++) off[k] -= st[k][d] * dims[d];
            idx[d] = 0;
        }
    }
}

/* Checks that all inputs share one element type and broadcast together; sets *dtype and *shape. */
static int broadcast_check(const ft_op_ctx *ctx, int first, ft_dtype *dtype, ft_shape *shape)
{
    char sa[96], sb[96];
    int rc = ft_op_require_inputs(ctx, ctx->n_in);
    if (rc != FT_OK) return rc;
    *dtype = ctx->in[first]->dtype;
    *shape = ctx->in[first]->shape;
    for (int k = first + 1; k < ctx->n_in; k++) {
        const ft_tensor *t = ctx->in[k];
        if (t->dtype != *dtype)
            return ft_op_fail(ctx, FT_ERR_INPUT, "inputs '%s' and '%s' are %s and %s", ctx->in[first]->name,
                              t->name, ft_dtype_name(*dtype), ft_dtype_name(t->dtype));
        if (ft_broadcast_shape(shape, &t->shape, shape) != FT_OK)
            return ft_op_fail(ctx, FT_ERR_INPUT, "shape %s of input '%s' does not broadcast with %s",
                              ft_shape_str(&t->shape, sa, sizeof sa), t->name, ft_shape_str(shape, sb, sizeof sb));
    }
    return FT_OK;
}

static int unsupported_dtype(const ft_op_ctx *ctx, ft_dtype t)
{
    return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "element type %s is not supported", ft_dtype_name(t));
}

/* ---- binary and variadic broadcast ops -------------------------------------------------------- */

#define ARITH_ROW(sfx, DT, T, W, LO, HI, OP, EXPR)                                                   \
    static void OP##_##sfx(const void *const *in, const int64_t *step, void *out, int64_t n,        \
                           const void *arg)                                                         \
    {                                                                                               \
        const T *a = in[0], *b = in[1];                                                             \
        T *o = out;                                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                           \
            T x = a[i * step[0]], y = b[i * step[1]];                                               \
            o[i] = (T)(EXPR(W));                                                                    \
        }                                                                                           \
    }

#define COMPARE_ROW(sfx, DT, T, W, LO, HI, OP, EXPR)                                                 \
    static void OP##_##sfx(const void *const *in, const int64_t *step, void *out, int64_t n,        \
                           const void *arg)                                                         \
    {                                                                                               \
        const T *a = in[0], *b = in[1];                                                             \
        uint8_t *o = out;                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                           \
            T x = a[i * step[0]], y = b[i * step[1]];                                               \
            o[i] = (uint8_t)(EXPR(W));                                                              \
        }                                                                                           \
    }

#define ROW_CASE(sfx, DT, T, W, LO, HI, OP) case DT: return OP##_##sfx;

/* Element expressions of x and y; W is the type integer arithmetic wraps in. */
#define E_ADD(W) (W)x + (W)y
#define E_SUB(W) (W)x - (W)y
#define E_MUL(W) (W)x * (W)y
#define E_DIV(W) x / y
#define E_SDIV(W) y == -1 ? (W)0 - (W)x : (W)(x / y)
#define E_FMAX(W) x > y || isnan(x) ? x : y
#define E_MAX(W) x > y ? x : y
#define E_FMIN(W) x < y || isnan(x) ? x : y
#define E_MIN(W) x < y ? x : y
#define E_EQ(W) x == y
#define E_LT(W) x < y
#define E_GT(W) x > y
#define E_LE(W) x <= y
#define E_GE(W) x >= y
#define E_NEG(W) (W)0 - (W)x
#define E_ABS(W) x < 0 ? (W)0 - (W)x : (W)x
#define E_ID(W) x
#define E_RELU(W) x < 0 ? 0 : x

NUMERIC_TYPES(ARITH_ROW, add, E_ADD)
NUMERIC_TYPES(ARITH_ROW, sub, E_SUB)
NUMERIC_TYPES(ARITH_ROW, mul, E_MUL)
/* Integer division truncates toward zero (numpy's true division followed by astype, as ONNX's
 * reference does); divisors are checked for zero beforehand, and MIN / -1 wraps. */
FLOAT_TYPES(ARITH_ROW, div, E_DIV)
SINT_TYPES(ARITH_ROW, div, E_SDIV)
UINT_TYPES(ARITH_ROW, div, E_DIV)
/* NaN propagates, as numpy's maximum and minimum do. */
FLOAT_TYPES(ARITH_ROW, max, E_FMAX)
INT_TYPES(ARITH_ROW, max, E_MAX)
FLOAT_TYPES(ARITH_ROW, min, E_FMIN)
INT_TYPES(ARITH_ROW, min, E_MIN)
NUMERIC_TYPES(COMPARE_ROW, equal, E_EQ)
NUMERIC_TYPES(COMPARE_ROW, less, E_LT)
NUMERIC_TYPES(COMPARE_ROW, greater, E_GT)
NUMERIC_TYPES(COMPARE_ROW, less_equal, E_LE)
NUMERIC_TYPES(COMPARE_ROW, greater_equal, E_GE)

/* The row kernel of a broadcast op for one element type, NULL when the type is not supported.
 * float16 is computed in float32 (run_f16_as_f32), so it maps to the float32 kernel. */
#define DEFINE_ROW_PICKER(OP, EXTRA)                                                                \
    static row_fn OP##_row(ft_dtype t)                                                              \
    {                                                                                               \
        switch (t) {                                                                                \
            NUMERIC_TYPES(ROW_CASE, OP)                                                             \
            EXTRA                                                                                   \
        case FT_FLOAT16: return OP##_f32;                                                           \
        default: return NULL;                                                                       \
        }                                                                                           \
    }

DEFINE_ROW_PICKER(add, )
DEFINE_ROW_PICKER(sub, )
DEFINE_ROW_PICKER(mul, )
DEFINE_ROW_PICKER(div, )
DEFINE_ROW_PICKER(max, )
DEFINE_ROW_PICKER(min, )
DEFINE_ROW_PICKER(equal, case FT_BOOL: return equal_u8;)
DEFINE_ROW_PICKER(less, )
DEFINE_ROW_PICKER(greater, )
DEFINE_ROW_PICKER(less_equal, )
DEFINE_ROW_PICKER(greater_equal, )

static int broadcast_infer(ft_op_ctx *ctx, row_fn (*pick)(ft_dtype), int out_bool)
{
    ft_dtype t;
    ft_shape s;
    int rc = broadcast_check(ctx, 0, &t, &s);
    if (rc != FT_OK) return rc;
    if (!pick(t)) return unsupported_dtype(ctx, t);
    ctx->out[0]->dtype = out_bool ? FT_BOOL : t;
    ctx->out[0]->shape = s;
    return FT_OK;
}

#define COPY_ROW(BITS)                                                                              \
    static void copy_##BITS(const void *const *in, const int64_t *step, void *out, int64_t n,       \
                            const void *arg)                                                        \
    {                                                                                               \
        const uint##BITS##_t *a = in[0];                                                            \
        uint##BITS##_t *o = out;                                                                    \
        for (int64_t i = 0; i < n; i++) o[i] = a[i * step[0]];                                      \
    }
COPY_ROW(8)
COPY_ROW(16)
COPY_ROW(32)
COPY_ROW(64)

static row_fn copy_row(size_t elem_size)
{
    switch (elem_size) {
    case 1: return copy_8;
    case 2: return copy_16;
    case 4: return copy_32;
    case 8: return copy_64;
    default: return NULL;
    }
}

/* Two inputs: out = fn(a, b). More (Max, Min, Sum): out = in0 broadcast, then out = fn(out, in_k). */
static int broadcast_run(ft_op_ctx *ctx, row_fn fn)
{
    ft_tensor *out = ctx->out[0];
    if (ctx->n_in == 2) {
        const ft_tensor *ab[2] = {ctx->in[0], ctx->in[1]};
        broadcast_apply(2, ab, out, fn, NULL);
        return FT_OK;
    }
    const ft_tensor *first[1] = {ctx->in[0]};
    broadcast_apply(1, first, out, copy_row(ft_dtype_size(out->dtype)), NULL);
    for (int k = 1; k < ctx->n_in; k++) {
        const ft_tensor *ab[2] = {out, ctx->in[k]};
        broadcast_apply(2, ab, out, fn, NULL);
    }
    return FT_OK;
}

#define DEFINE_BROADCAST_OP(OP, OUT_BOOL)                                                           \
    static int OP##_infer(ft_op_ctx *ctx)                                                           \
    {                                                                                               \
        return broadcast_infer(ctx, OP##_row, OUT_BOOL);                                            \
    }                                                                                               \
    static int OP##_run(ft_op_ctx *ctx)                                                             \
    {                                                                                               \
        if (has_f16(ctx)) return run_f16_as_f32(ctx, OP##_run);                                     \
        return broadcast_run(ctx, OP##_row(ctx->in[0]->dtype));                                     \
    }

DEFINE_BROADCAST_OP(add, 0)
DEFINE_BROADCAST_OP(sub, 0)
DEFINE_BROADCAST_OP(mul, 0)
DEFINE_BROADCAST_OP(max, 0)
DEFINE_BROADCAST_OP(min, 0)
DEFINE_BROADCAST_OP(equal, 1)
DEFINE_BROADCAST_OP(less, 1)
DEFINE_BROADCAST_OP(greater, 1)
DEFINE_BROADCAST_OP(less_equal, 1)
DEFINE_BROADCAST_OP(greater_equal, 1)

static int div_infer(ft_op_ctx *ctx)
{
    return broadcast_infer(ctx, div_row, 0);
}

static int div_run(ft_op_ctx *ctx)
{
    if (has_f16(ctx)) return run_f16_as_f32(ctx, div_run);
    const ft_tensor *b = ctx->in[1];
    if (is_int_type(b->dtype)) {
        int64_t n = ft_shape_numel(&b->shape);
        for (int64_t i = 0; i < n; i++)
            if (ft_tensor_get_i64(b, i) == 0)
                return ft_op_fail(ctx, FT_ERR_INPUT, "integer division by zero (element %lld of '%s')",
                                  (long long)i, b->name);
    }
    return broadcast_run(ctx, div_row(ctx->in[0]->dtype));
}

/* ---- Pow: the exponent may have another type than the base ----------------------------------- */

typedef struct pow_types {
    ft_dtype base, exp;
} pow_types;

/* base^e for e >= 0 by squaring, wrapping modulo 2^64 like numpy's integer power. */
static uint64_t int_pow(uint64_t base, uint64_t e)
{
    uint64_t r = 1;
    while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
    }
    return r;
}

static void pow_rowfn(const void *const *in, const int64_t *step, void *out, int64_t n, const void *arg)
{
    const pow_types *t = arg;
    for (int64_t i = 0; i < n; i++) {
        scalar x = load_scalar(in[0], t->base, i * step[0]), y = load_scalar(in[1], t->exp, i * step[1]);
        scalar r = {S_FLOAT, 0, 0, 0.0};
        if (x.kind == S_INT && y.kind != S_FLOAT && (y.kind == S_UINT || y.i >= 0)) {
            r.kind = S_INT;
            r.i = (int64_t)int_pow((uint64_t)x.i, y.kind == S_UINT ? y.u : (uint64_t)y.i);
        } else {
            r.f = pow(scalar_f64(x), scalar_f64(y));
        }
        store_scalar(out, t->base, i, r);
    }
}

static int pow_infer(ft_op_ctx *ctx)
{
    char sa[96], sb[96];
    int rc = ft_op_require_inputs(ctx, 2);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0], *y = ctx->in[1];
    if (!is_float_type(x->dtype) && x->dtype != FT_INT32 && x->dtype != FT_INT64)
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "base element type %s is not supported", ft_dtype_name(x->dtype));
    if (!is_float_type(y->dtype) && !is_int_type(y->dtype))
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "exponent element type %s is not supported",
                          ft_dtype_name(y->dtype));
    if (ft_broadcast_shape(&x->shape, &y->shape, &ctx->out[0]->shape) != FT_OK)
        return ft_op_fail(ctx, FT_ERR_INPUT, "shapes %s and %s do not broadcast",
                          ft_shape_str(&x->shape, sa, sizeof sa), ft_shape_str(&y->shape, sb, sizeof sb));
    ctx->out[0]->dtype = x->dtype;
    return FT_OK;
}

static int pow_run(ft_op_ctx *ctx)
{
    if (has_f16(ctx)) return run_f16_as_f32(ctx, pow_run);
    const ft_tensor *ab[2] = {ctx->in[0], ctx->in[1]};
    pow_types t = {ctx->in[0]->dtype, ctx->in[1]->dtype};
    broadcast_apply(2, ab, ctx->out[0], pow_rowfn, &t);
    return FT_OK;
}

/* ---- Where ------------------------------------------------------------------------------------- */

#define WHERE_ROW(BITS)                                                                             \
    static void where_##BITS(const void *const *in, const int64_t *step, void *out, int64_t n,      \
                             const void *arg)                                                       \
    {                                                                                               \
        const uint8_t *c = in[0];                                                                   \
        const uint##BITS##_t *x = in[1], *y = in[2];                                                \
        uint##BITS##_t *o = out;                                                                    \
        for (int64_t i = 0; i < n; i++) o[i] = c[i * step[0]] ? x[i * step[1]] : y[i * step[2]];    \
    }
WHERE_ROW(8)
WHERE_ROW(16)
WHERE_ROW(32)
WHERE_ROW(64)

static int where_infer(ft_op_ctx *ctx)
{
    char sa[96], sb[96];
    ft_dtype t;
    ft_shape s;
    int rc = broadcast_check(ctx, 1, &t, &s);
    if (rc != FT_OK) return rc;
    const ft_tensor *c = ctx->in[0];
    if (c->dtype != FT_BOOL)
        return ft_op_fail(ctx, FT_ERR_INPUT, "condition '%s' is %s, not bool", c->name, ft_dtype_name(c->dtype));
    if (ft_dtype_size(t) == 0) return unsupported_dtype(ctx, t);
    if (ft_broadcast_shape(&c->shape, &s, &s) != FT_OK)
        return ft_op_fail(ctx, FT_ERR_INPUT, "condition shape %s does not broadcast with %s",
                          ft_shape_str(&c->shape, sa, sizeof sa), ft_shape_str(&s, sb, sizeof sb));
    ctx->out[0]->dtype = t;
    ctx->out[0]->shape = s;
    return FT_OK;
}

static int where_run(ft_op_ctx *ctx)
{
    static const row_fn by_size[9] = {NULL, where_8, where_16, NULL, where_32, NULL, NULL, NULL, where_64};
    const ft_tensor *in[3] = {ctx->in[0], ctx->in[1], ctx->in[2]};
    broadcast_apply(3, in, ctx->out[0], by_size[ft_dtype_size(ctx->out[0]->dtype)], NULL);
    return FT_OK;
}

/* ---- unary ops -------------------------------------------------------------------------------- */

typedef struct unary_params {
    double alpha, beta;
} unary_params;

/* A float function evaluated in double and rounded once to the element type. */
typedef double (*float_fn)(double x, const unary_params *p);

static double f_sqrt(double x, const unary_params *p) { return sqrt(x); }
static double f_exp(double x, const unary_params *p) { return exp(x); }
static double f_log(double x, const unary_params *p) { return log(x); }
static double f_erf(double x, const unary_params *p) { return erf(x); }
static double f_tanh(double x, const unary_params *p) { return tanh(x); }
static double f_neg(double x, const unary_params *p) { return -x; }
static double f_abs(double x, const unary_params *p) { return fabs(x); }
static double f_reciprocal(double x, const unary_params *p) { return 1.0 / x; }
static double f_relu(double x, const unary_params *p) { return x < 0.0 ? 0.0 : x; }
static double f_sigmoid(double x, const unary_params *p) { return 1.0 / (1.0 + exp(-x)); }
static double f_leaky_relu(double x, const unary_params *p) { return x >= 0.0 ? x : p->alpha * x; }

static double f_hard_sigmoid(double x, const unary_params *p)
{
    double v = p->alpha * x + p->beta;
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

#define INT_UNARY_ROW(sfx, DT, T, W, LO, HI, OP, EXPR)                                               \
    static void OP##_##sfx(const void *const *in, const int64_t *step, void *out, int64_t n,        \
                           const void *arg)                                                         \
    {                                                                                               \
        const T *a = in[0];                                                                         \
        T *o = out;                                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                           \
            T x = a[i];                                                                             \
            o[i] = (T)(EXPR(W));                                                                    \
        }                                                                                           \
    }
SINT_TYPES(INT_UNARY_ROW, ineg, E_NEG)
SINT_TYPES(INT_UNARY_ROW, iabs, E_ABS)
UINT_TYPES(INT_UNARY_ROW, iabs, E_ID)
SINT_TYPES(INT_UNARY_ROW, irelu, E_RELU)

static row_fn int_unary_row(const char *op, ft_dtype t)
{
    if (strcmp(op, "Neg") == 0) switch (t) { SINT_TYPES(ROW_CASE, ineg) default: return NULL; }
    if (strcmp(op, "Abs") == 0) switch (t) { INT_TYPES(ROW_CASE, iabs) default: return NULL; }
    if (strcmp(op, "Relu") == 0) switch (t) { SINT_TYPES(ROW_CASE, irelu) default: return NULL; }
    return NULL;
}

static int unary_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    ft_dtype t = ctx->in[0]->dtype;
    if (!is_float_type(t) && !int_unary_row(ctx->node->op_type, t)) return unsupported_dtype(ctx, t);
    ctx->out[0]->dtype = t;
    ctx->out[0]->shape = ctx->in[0]->shape;
    return FT_OK;
}

static int unary_run(ft_op_ctx *ctx, float_fn f, const unary_params *p)
{
    const ft_tensor *x = ctx->in[0];
    int64_t n = ft_shape_numel(&x->shape);
    switch (x->dtype) {
    case FT_FLOAT: {
        const float *a = x->data;
        float *o = ctx->out[0]->data;
        for (int64_t i = 0; i < n; i++) o[i] = (float)f(a[i], p);
        return FT_OK;
    }
    case FT_DOUBLE: {
        const double *a = x->data;
        double *o = ctx->out[0]->data;
        for (int64_t i = 0; i < n; i++) o[i] = f(a[i], p);
        return FT_OK;
    }
    case FT_FLOAT16: {
        const uint16_t *a = x->data;
        uint16_t *o = ctx->out[0]->data;
        for (int64_t i = 0; i < n; i++) o[i] = half_from_double(f(half_to_double(a[i]), p));
        return FT_OK;
    }
    default: {
        row_fn fn = int_unary_row(ctx->node->op_type, x->dtype);
        const void *in[1] = {x->data};
        int64_t step[1] = {1};
        fn(in, step, ctx->out[0]->data, n, NULL);
        return FT_OK;
    }
    }
}

#define DEFINE_UNARY_OP(OP)                                                                         \
    static int OP##_run(ft_op_ctx *ctx)                                                             \
    {                                                                                               \
        unary_params p = {0.0, 0.0};                                                                \
        return unary_run(ctx, f_##OP, &p);                                                          \
    }
DEFINE_UNARY_OP(sqrt)
DEFINE_UNARY_OP(exp)
DEFINE_UNARY_OP(log)
DEFINE_UNARY_OP(erf)
DEFINE_UNARY_OP(tanh)
DEFINE_UNARY_OP(neg)
DEFINE_UNARY_OP(abs)
DEFINE_UNARY_OP(reciprocal)
DEFINE_UNARY_OP(relu)
DEFINE_UNARY_OP(sigmoid)

static int leaky_relu_run(ft_op_ctx *ctx)
{
    unary_params p = {ft_attr_float(ctx->node, "alpha", 0.01f), 0.0};
    return unary_run(ctx, f_leaky_relu, &p);
}

static int hard_sigmoid_run(ft_op_ctx *ctx)
{
    unary_params p = {ft_attr_float(ctx->node, "alpha", 0.2f), ft_attr_float(ctx->node, "beta", 0.5f)};
    return unary_run(ctx, f_hard_sigmoid, &p);
}

static int not_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    if (ctx->in[0]->dtype != FT_BOOL) return unsupported_dtype(ctx, ctx->in[0]->dtype);
    ctx->out[0]->dtype = FT_BOOL;
    ctx->out[0]->shape = ctx->in[0]->shape;
    return FT_OK;
}

static int not_run(ft_op_ctx *ctx)
{
    int64_t n = ft_shape_numel(&ctx->in[0]->shape);
    const uint8_t *a = ctx->in[0]->data;
    uint8_t *o = ctx->out[0]->data;
    for (int64_t i = 0; i < n; i++) o[i] = !a[i];
    return FT_OK;
}

/* ---- Clip: bounds are attributes before opset 11, optional scalar inputs from 11 -------------- */

static int clip_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    const ft_tensor *x = ctx->in[0];
    if (ctx->node->opset < 11 ? !is_float_type(x->dtype) : !is_float_type(x->dtype) && !is_int_type(x->dtype))
        return unsupported_dtype(ctx, x->dtype);
    for (int k = 1; k < 3; k++) {
        const ft_tensor *b = ft_op_in(ctx, k);
        if (!b) continue;
        if (b->dtype != x->dtype)
            return ft_op_fail(ctx, FT_ERR_INPUT, "bound '%s' is %s but the input is %s", b->name,
                              ft_dtype_name(b->dtype), ft_dtype_name(x->dtype));
        if (ft_shape_numel(&b->shape) != 1)
            return ft_op_fail(ctx, FT_ERR_INPUT, "bound '%s' is not a scalar", b->name);
    }
    ctx->out[0]->dtype = x->dtype;
    ctx->out[0]->shape = x->shape;
    return FT_OK;
}

/* numpy.clip order: max with the lower bound first, so a lower bound above the upper one yields the
 * upper bound, and NaN passes through. */
#define CLIP_CASE(sfx, DT, T, W, LO, HI, ...)                                                       \
    case DT: {                                                                                      \
        T lo = LO, hi = HI;                                                                         \
        if (ctx->node->opset < 11) {                                                                \
            if (ft_node_attr(ctx->node, "min")) lo = (T)ft_attr_float(ctx->node, "min", 0.0f);      \
            if (ft_node_attr(ctx->node, "max")) hi = (T)ft_attr_float(ctx->node, "max", 0.0f);      \
        } else {                                                                                    \
            if (mn) lo = *(const T *)mn->data;                                                      \
            if (mx) hi = *(const T *)mx->data;                                                      \
        }                                                                                           \
        const T *a = x->data;                                                                       \
        T *o = ctx->out[0]->data;                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                           \
            T v = a[i] < lo ? lo : a[i];                                                            \
            o[i] = v > hi ? hi : v;                                                                 \
        }                                                                                           \
        return FT_OK;                                                                               \
    }

static int clip_run(ft_op_ctx *ctx)
{
    if (has_f16(ctx)) return run_f16_as_f32(ctx, clip_run);
    const ft_tensor *x = ctx->in[0], *mn = ft_op_in(ctx, 1), *mx = ft_op_in(ctx, 2);
    int64_t n = ft_shape_numel(&x->shape);
    switch (x->dtype) {
        NUMERIC_TYPES(CLIP_CASE, )
    default: return unsupported_dtype(ctx, x->dtype);
    }
}

/* ---- Cast, CastLike --------------------------------------------------------------------------- */

static int castable(ft_dtype t)
{
    return is_float_type(t) || is_int_type(t) || t == FT_BOOL;
}

static int cast_set_output(ft_op_ctx *ctx, int64_t to)
{
    int rc = ft_op_require_inputs(ctx, 1);
    if (rc != FT_OK) return rc;
    ft_dtype from = ctx->in[0]->dtype;
    if (!castable(from)) return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "casting from %s is not supported", ft_dtype_name(from));
    if (to < 0 || to > FT_UINT64 || !castable((ft_dtype)to))
        return ft_op_fail(ctx, FT_ERR_UNSUPPORTED, "casting to %s (type %lld) is not supported",
                          to == 16 ? "bfloat16" : to >= 0 && to <= FT_UINT64 ? ft_dtype_name((ft_dtype)to) : "this type",
                          (long long)to);
    ctx->out[0]->dtype = (ft_dtype)to;
    ctx->out[0]->shape = ctx->in[0]->shape;
    return FT_OK;
}

static int cast_infer(ft_op_ctx *ctx)
{
    if (!ft_node_attr(ctx->node, "to")) return ft_op_fail(ctx, FT_ERR_INPUT, "attribute 'to' is missing");
    return cast_set_output(ctx, ft_attr_int(ctx->node, "to", 0));
}

static int cast_like_infer(ft_op_ctx *ctx)
{
    int rc = ft_op_require_inputs(ctx, 2);
    if (rc != FT_OK) return rc;
    return cast_set_output(ctx, ctx->in[1]->dtype);
}

static int cast_run(ft_op_ctx *ctx)
{
    const ft_tensor *x = ctx->in[0];
    ft_tensor *y = ctx->out[0];
    int64_t n = ft_shape_numel(&x->shape);
    for (int64_t i = 0; i < n; i++) store_scalar(y->data, y->dtype, i, load_scalar(x->data, x->dtype, i));
    return FT_OK;
}

/* ---- the table ---------------------------------------------------------------------------------- */

#define EW FT_OP_ELEMENTWISE

const ft_op_def ft_ops_elementwise[] = {
    {"Add", 2, 2, 1, 1, EW, add_infer, add_run},
    {"Sub", 2, 2, 1, 1, EW, sub_infer, sub_run},
    {"Mul", 2, 2, 1, 1, EW, mul_infer, mul_run},
    {"Div", 2, 2, 1, 1, EW, div_infer, div_run},
    {"Pow", 2, 2, 1, 1, EW, pow_infer, pow_run},
    {"Max", 1, INT_MAX, 1, 1, EW, max_infer, max_run},
    {"Min", 1, INT_MAX, 1, 1, EW, min_infer, min_run},
    {"Sum", 1, INT_MAX, 1, 1, EW, add_infer, add_run},
    {"Equal", 2, 2, 1, 1, 0, equal_infer, equal_run},
    {"Less", 2, 2, 1, 1, 0, less_infer, less_run},
    {"Greater", 2, 2, 1, 1, 0, greater_infer, greater_run},
    {"LessOrEqual", 2, 2, 1, 1, 0, less_equal_infer, less_equal_run},
    {"GreaterOrEqual", 2, 2, 1, 1, 0, greater_equal_infer, greater_equal_run},
    {"Where", 3, 3, 1, 1, 0, where_infer, where_run},
    {"Sqrt", 1, 1, 1, 1, EW, unary_infer, sqrt_run},
    {"Exp", 1, 1, 1, 1, EW, unary_infer, exp_run},
    {"Log", 1, 1, 1, 1, EW, unary_infer, log_run},
    {"Erf", 1, 1, 1, 1, EW, unary_infer, erf_run},
    {"Tanh", 1, 1, 1, 1, EW, unary_infer, tanh_run},
    {"Neg", 1, 1, 1, 1, EW, unary_infer, neg_run},
    {"Abs", 1, 1, 1, 1, EW, unary_infer, abs_run},
    {"Reciprocal", 1, 1, 1, 1, EW, unary_infer, reciprocal_run},
    {"Relu", 1, 1, 1, 1, EW, unary_infer, relu_run},
    {"Sigmoid", 1, 1, 1, 1, EW, unary_infer, sigmoid_run},
    {"LeakyRelu", 1, 1, 1, 1, EW, unary_infer, leaky_relu_run},
    {"HardSigmoid", 1, 1, 1, 1, EW, unary_infer, hard_sigmoid_run},
    {"Not", 1, 1, 1, 1, EW, not_infer, not_run},
    {"Clip", 1, 3, 1, 1, EW, clip_infer, clip_run},
    {"Cast", 1, 1, 1, 1, 0, cast_infer, cast_run},
    {"CastLike", 2, 2, 1, 1, 0, cast_like_infer, cast_run},
    {0},
};
