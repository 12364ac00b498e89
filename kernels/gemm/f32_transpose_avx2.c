/* f32_transpose_avx2.c - out-of-place f32 transpose in 8x8 register blocks (AVX). */
#include <immintrin.h>

#include "gemm_ukernel.h"

/* 32-bit pairs, 64-bit pairs, then the two 128-bit halves. */
static void transpose_8x8(const float *s, int64_t lds, float *d, int64_t ldd)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(s + i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++)
        _mm256_storeu_ps(d + i * ldd, t[i]);
}

void ft_f32_transpose_avx2(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                           int64_t ldd)
{
    int64_t i = 0;
    for (; i + 8 <= rows; i += 8) {
        int64_t j = 0;
        for (; j + 8 <= cols; j += 8)
            transpose_8x8(src + i * lds + j, lds, dst + j * ldd + i, ldd);
        if (j < cols)
            ft_f32_transpose_scalar(src + i * lds + j, lds, 8, cols - j, dst + j * ldd + i, ldd);
    }
    if (i < rows)
        ft_f32_transpose_scalar(src + i * lds, lds, rows - i, cols, dst + i, ldd);
}
