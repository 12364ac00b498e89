/* f32_ew_scalar.c - the float32 elementwise kernels in portable C (any CPU), and the table lookup. */
#include <math.h>
#include <stddef.h>

#include "f32_ew.h"
#include "isa.h"

static float unary_one(int op, float x)
{
    switch (op) {
    case FT_EW_RELU: return x < 0.0f ? 0.0f : x;
    case FT_EW_SIGMOID: {
        float e = expf(-fabsf(x));
        return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
    }
    case FT_EW_TANH: return tanhf(x);
    case FT_EW_ERF: return erff(x);
    case FT_EW_EXP: return expf(x);
    case FT_EW_SQRT: return sqrtf(x);
    case FT_EW_NEG: return -x;
    case FT_EW_ABS: return fabsf(x);
    case FT_EW_RECIPROCAL: return 1.0f / x;
    case FT_EW_SQUARE: return x * x;
    case FT_EW_CUBE: return x * x * x;
    case FT_EW_GELU: return (x * (erff(x / FT_EW_GELU_SQRT2) + 1.0f)) * 0.5f;
    default: return x == -INFINITY ? INFINITY : fabsf(sqrtf(x));
    }
}

/* The switch sits outside the loops so that each simple op compiles to its own (auto-vectorised) loop. */
static void unary_kernel(int op, int unroll, const float *x, float *y, int64_t n)
{
    switch (op) {
    case FT_EW_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
        break;
    case FT_EW_NEG:
        for (int64_t i = 0; i < n; i++) y[i] = -x[i];
        break;
    case FT_EW_ABS:
        for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
        break;
    case FT_EW_SQRT:
        for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
        break;
    case FT_EW_RECIPROCAL:
        for (int64_t i = 0; i < n; i++) y[i] = 1.0f / x[i];
        break;
    case FT_EW_SQUARE:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i];
        break;
    default:
        for (int64_t i = 0; i < n; i++) y[i] = unary_one(op, x[i]);
        break;
    }
}

static void binary_kernel(int op, int unroll, const float *a, int64_t sa, const float *b, int64_t sb, float *y,
                          int64_t n)
{
    switch (op) {
    case FT_EW_ADD:
        for (int64_t i = 0; i < n; i++) y[i] = a[i * sa] + b[i * sb];
        break;
    case FT_EW_SUB:
        for (int64_t i = 0; i < n; i++) y[i] = a[i * sa] - b[i * sb];
        break;
    case FT_EW_MUL:
        for (int64_t i = 0; i < n; i++) y[i] = a[i * sa] * b[i * sb];
        break;
    default:
        for (int64_t i = 0; i < n; i++) y[i] = a[i * sa] / b[i * sb];
        break;
    }
}

static void where_kernel(int unroll, const uint8_t *c, int64_t sc, const float *x, int64_t sx, const float *y,
                         int64_t sy, float *o, int64_t n)
{
    for (int64_t i = 0; i < n; i++) o[i] = c[i * sc] ? x[i * sx] : y[i * sy];
}

static void softmax_kernel(int unroll, int log_out, const float *x, float *y, int64_t n, int64_t inner)
{
    for (int64_t j = 0; j < inner; j++) {
        float mx = -INFINITY;
        for (int64_t k = 0; k < n; k++)
            if (x[k * inner + j] > mx) mx = x[k * inner + j];
        double sum = 0.0;
        for (int64_t k = 0; k < n; k++) {
            float e = expf(x[k * inner + j] - mx);
            if (!log_out) y[k * inner + j] = e;
            sum += e;
        }
        float s = log_out ? (float)log(sum) : (float)(1.0 / sum);
        for (int64_t k = 0; k < n; k++)
            y[k * inner + j] = log_out ? (x[k * inner + j] - mx) - s : y[k * inner + j] * s;
    }
}

static void layernorm_kernel(int unroll, const float *x, float *y, int64_t n, int64_t inner, const float *sc,
                             const float *bi, float eps, float *mean_out, float *inv_out)
{
    for (int64_t j = 0; j < inner; j++) {
        double sum = 0.0, sq = 0.0;
        for (int64_t k = 0; k < n; k++) sum += x[k * inner + j];
        double mean = sum / (double)n;
        for (int64_t k = 0; k < n; k++) {
            double d = (double)x[k * inner + j] - mean;
            sq += d * d;
        }
        double inv = 1.0 / sqrt(sq / (double)n + (double)eps);
        if (mean_out) mean_out[j] = (float)mean;
        if (inv_out) inv_out[j] = (float)inv;
        float mh = (float)mean, ml = (float)(mean - (double)mh), fi = (float)inv;
        for (int64_t k = 0; k < n; k++) {
            float t = ((x[k * inner + j] - mh) - ml) * fi;
            y[k * inner + j] = bi ? fmaf(t, sc[k], bi[k]) : t * sc[k];
        }
    }
}

static void reduce_kernel(int unroll, int op, const float *x, float *y, int64_t n, int64_t inner)
{
    for (int64_t j = 0; j < inner; j++) {
        if (op == FT_EW_REDUCE_MAX) {
            float mx = -INFINITY;
            for (int64_t k = 0; k < n; k++) {
                float v = x[k * inner + j];
                if (v > mx || isnan(v)) mx = v;
            }
            y[j] = mx;
            continue;
        }
        double sum = 0.0;
        for (int64_t k = 0; k < n; k++) sum += x[k * inner + j];
        y[j] = op == FT_EW_REDUCE_MEAN ? (float)(sum / (double)n) : (float)sum;
    }
}

const ft_f32_ew_kernels ft_f32_ew_scalar = {unary_kernel, binary_kernel, where_kernel, softmax_kernel,
                                            layernorm_kernel, reduce_kernel};

const ft_f32_ew_kernels *ft_f32_ew_for_isa(int isa)
{
    if (!ft_fast_isa_supported(isa)) return NULL;
    switch (isa) {
    case FT_FAST_SCALAR: return &ft_f32_ew_scalar;
#if defined(__x86_64__)
    case FT_FAST_AVX2: return &ft_f32_ew_avx2;
    case FT_FAST_AVX512: return &ft_f32_ew_avx512;
#endif
#if defined(__aarch64__)
    case FT_FAST_NEON: return &ft_f32_ew_neon;
#endif
    default: return NULL;
    }
}
