/* x32_transpose_block.h - register-blocked transposes of 4-byte elements (16x16 in AVX-512
 * registers, 8x8 in AVX ones), shared by the reorder kernels (x32_transpose_*.c) and the GEMM
 * packing (gemm/f32_transpose_*.c). Included only by files compiled for the ISA: each part is
 * there when the compiler targets it. d[j * ldd + i] = s[i * lds + j]; bits are copied, never
 * interpreted (floats only name the registers). */
#ifndef FT_X32_TRANSPOSE_BLOCK_H
#define FT_X32_TRANSPOSE_BLOCK_H

#include <immintrin.h>
#include <stdint.h>

#if defined(__AVX__)
/* One whole 8x8 block: 32-bit pairs, 64-bit pairs, then the two 128-bit halves. stream:
 * non-temporal stores (d and ldd keep every row 32-byte aligned). One function from load to store:
 * gcc keeps register arrays handed between inlined functions on the stack. */
static inline void x32_block8(const float *s, int64_t lds, float *d, int64_t ldd, int stream)
{
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
    if (stream)
        for (int i = 0; i < 8; i++) _mm256_stream_ps(d + i * ldd, r[i]);
    else
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(d + i * ldd, r[i]);
}

/* An 8x8 block of which nr rows and nc cols are valid, element by element (edges are a small part
 * of any transpose worth vectorizing). */
static inline void x32_block8_edge(const float *s, int64_t lds, float *d, int64_t ldd, int nr, int nc)
{
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nr; i++) d[j * ldd + i] = s[i * lds + j];
}
#endif

#if defined(__AVX512F__)
/* One whole 16x16 block: 32-bit pairs, 64-bit pairs, then 128-bit lanes twice. stream:
 * non-temporal stores (d and ldd keep every row 64-byte aligned). */
static inline void x32_block16(const float *s, int64_t lds, float *d, int64_t ldd, int stream)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(s + i * lds);
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
    if (stream)
        for (int i = 0; i < 16; i++) _mm512_stream_ps(d + i * ldd, r[i]);
    else
        for (int i = 0; i < 16; i++) _mm512_storeu_ps(d + i * ldd, r[i]);
}

/* A 16x16 block of which nr rows and nc cols are valid: masked loads into a zeroed block, the whole
 * block's transpose, masked stores; the other elements of s and d are neither read nor written. */
static inline void x32_block16_edge(const float *s, int64_t lds, float *d, int64_t ldd, int nr, int nc)
{
    _Alignas(64) float in[16 * 16], out[16 * 16];
    __mmask16 cm = (__mmask16)((1u << nc) - 1u), rm = (__mmask16)((1u << nr) - 1u);
    for (int i = 0; i < 16; i++)
        _mm512_store_ps(in + i * 16, i < nr ? _mm512_maskz_loadu_ps(cm, s + i * lds) : _mm512_setzero_ps());
    x32_block16(in, 16, out, 16, 0);
    for (int i = 0; i < nc; i++) _mm512_mask_storeu_ps(d + i * ldd, rm, _mm512_load_ps(out + i * 16));
}
#endif

#endif
