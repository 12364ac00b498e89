/* f32_transpose_avx512.c - out-of-place f32 transpose in 16x16 register blocks (AVX-512F). */
#include <immintrin.h>

#include "gemm_ukernel.h"

/* The usual three shuffle stages: 32-bit pairs, 64-bit pairs, then 128-bit lanes twice. */
static void transpose_16x16(const float *s, int64_t lds, float *d, int64_t ldd)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++)
        r[i] = _mm512_loadu_ps(s + i * lds);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
    for (int i = 0; i < 16; i++)
        _mm512_storeu_ps(d + i * ldd, r[i]);
}

void ft_f32_transpose_avx512(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                             int64_t ldd)
{
    int64_t i = 0;
    for (; i + 16 <= rows; i += 16) {
        int64_t j = 0;
        for (; j + 16 <= cols; j += 16)
            transpose_16x16(src + i * lds + j, lds, dst + j * ldd + i, ldd);
        if (j < cols)
            ft_f32_transpose_scalar(src + i * lds + j, lds, 16, cols - j, dst + j * ldd + i, ldd);
    }
    if (i < rows)
        ft_f32_transpose_scalar(src + i * lds, lds, rows - i, cols, dst + i, ldd);
}
