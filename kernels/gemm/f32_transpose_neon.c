/* f32_transpose_neon.c - out-of-place f32 transpose in 4x4 register blocks (AArch64 NEON). */
#include <arm_neon.h>

#include "gemm_ukernel.h"

/* 32-bit pairs with trn1/trn2, then 64-bit pairs of those. */
static void transpose_4x4(const float *s, int64_t lds, float *d, int64_t ldd)
{
    float32x4_t r0 = vld1q_f32(s), r1 = vld1q_f32(s + lds);
    float32x4_t r2 = vld1q_f32(s + 2 * lds), r3 = vld1q_f32(s + 3 * lds);
    float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1));
    float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));
    float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3));
    float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
    vst1q_f32(d, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
    vst1q_f32(d + ldd, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
    vst1q_f32(d + 2 * ldd, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
    vst1q_f32(d + 3 * ldd, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
}

void ft_f32_transpose_neon(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                           int64_t ldd)
{
    int64_t i = 0;
    for (; i + 4 <= rows; i += 4) {
        int64_t j = 0;
        for (; j + 4 <= cols; j += 4)
            transpose_4x4(src + i * lds + j, lds, dst + j * ldd + i, ldd);
        if (j < cols)
            ft_f32_transpose_scalar(src + i * lds + j, lds, 4, cols - j, dst + j * ldd + i, ldd);
    }
    if (i < rows)
        ft_f32_transpose_scalar(src + i * lds, lds, rows - i, cols, dst + i, ldd);
}
