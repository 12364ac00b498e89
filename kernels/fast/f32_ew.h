/* f32_ew.h - float32 row kernels of the elementwise, softmax, normalisation and reduction families,
 * one table per instruction set (f32_ew_scalar.c, f32_ew_avx2.c, f32_ew_avx512.c).
 *
 * Every kernel computes what the reference kernel computes (kernels/ref) to float32 rounding:
 * + - * / sqrt neg abs reciprocal relu and where are exact; exp, sigmoid, tanh and erf stay within
 * a few ulp of libm; sums accumulate in double as the reference's do. NaN propagates as in the
 * reference. unroll is 1, 2 or 4: how many vectors one loop iteration carries (ignored by scalar).
 */
#ifndef FT_F32_EW_H
#define FT_F32_EW_H

#include <stdint.h>

typedef enum ft_ew_unary_op {
    FT_EW_RELU,
    FT_EW_SIGMOID,
    FT_EW_TANH,
    FT_EW_ERF,
    FT_EW_EXP,
    FT_EW_SQRT,
    FT_EW_NEG,
    FT_EW_ABS,
    FT_EW_RECIPROCAL,
    FT_EW_SQUARE,   /* Pow(x, 2) */
    FT_EW_CUBE,     /* Pow(x, 3) */
    FT_EW_POW_HALF, /* Pow(x, 0.5): sqrt, but pow(-0, .5) = +0 and pow(-inf, .5) = +inf */
    /* GELU as PyTorch exports it, in its order of float operations: (x * (erf(x / sqrt2) + 1)) * 0.5,
     * sqrt2 = FT_EW_GELU_SQRT2 (fused MatMul epilogues). */
    FT_EW_GELU,
    FT_EW_N_UNARY
} ft_ew_unary_op;

/* sqrt(2) rounded to float, the divisor of the GELU exported by PyTorch. */
#define FT_EW_GELU_SQRT2 1.41421353816986083984375f

typedef enum ft_ew_binary_op { FT_EW_ADD, FT_EW_SUB, FT_EW_MUL, FT_EW_DIV, FT_EW_N_BINARY } ft_ew_binary_op;

typedef enum ft_ew_reduce_op { FT_EW_REDUCE_SUM, FT_EW_REDUCE_MEAN, FT_EW_REDUCE_MAX } ft_ew_reduce_op;

typedef struct ft_f32_ew_kernels {
    /* y[i] = op(x[i]) for i < n. */
    void (*unary)(int op, int unroll, const float *x, float *y, int64_t n);
    /* y[i] = a[i * sa] op b[i * sb]; sa and sb are 0 (broadcast) or 1. */
    void (*binary)(int op, int unroll, const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n);
    /* o[i] = c[i * sc] ? x[i * sx] : y[i * sy]; strides 0 or 1. */
    void (*where)(int unroll, const uint8_t *c, int64_t sc, const float *x, int64_t sx, const float *y, int64_t sy,
                  float *o, int64_t n);
    /* Softmax (log = 0) or LogSoftmax (log = 1) of a block [n][inner] along n: element (k, j) at
     * x[k * inner + j]. inner = 1 is a contiguous row. */
    void (*softmax)(int unroll, int log, const float *x, float *y, int64_t n, int64_t inner);
    /* LayerNormalization of a block [n][inner] along n with per-k scale[k] and bias[k] (bias may be
     * NULL). mean and inv_std (may be NULL) receive inner values each. */
    void (*layernorm)(int unroll, const float *x, float *y, int64_t n, int64_t inner, const float *scale,
                      const float *bias, float eps, float *mean, float *inv_std);
    /* y[j] = reduce over k < n of x[k * inner + j], for j < inner. */
    void (*reduce)(int unroll, int op, const float *x, float *y, int64_t n, int64_t inner);
} ft_f32_ew_kernels;

extern const ft_f32_ew_kernels ft_f32_ew_scalar;
#if defined(__x86_64__)
extern const ft_f32_ew_kernels ft_f32_ew_avx2;
extern const ft_f32_ew_kernels ft_f32_ew_avx512;
#endif
#if defined(__aarch64__)
extern const ft_f32_ew_kernels ft_f32_ew_neon;
#endif

/* The table for an ft_fast_isa (isa.h), or NULL when this build or CPU lacks it. */
const ft_f32_ew_kernels *ft_f32_ew_for_isa(int isa);

#endif
