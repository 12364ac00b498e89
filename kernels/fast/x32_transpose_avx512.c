/* x32_transpose_avx512.c - 2-D transposes of 4-byte elements in 16x16 (tile >= 16) or 8x8 (tile 8)
 * register blocks; masked loads and stores cover the edges, so no scalar loop is needed. */
#include <immintrin.h>

#include "x32_transpose.h"

/* 32-bit pairs, 64-bit pairs, then 128-bit lanes twice. */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
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
}

static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
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
}

/* One m x m block (m = 16 or 8) of which nr rows and nc cols are valid. */
static inline void block(int m, const float *s, int64_t lds, float *d, int64_t ldd, int nr, int nc, int stream)
{
    if (m == 16) {
        __m512 r[16];
        if (nr == 16 && nc == 16) {
            for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(s + i * lds);
            transpose16(r);
            if (stream)
                for (int i = 0; i < 16; i++) _mm512_stream_ps(d + i * ldd, r[i]);
            else
                for (int i = 0; i < 16; i++) _mm512_storeu_ps(d + i * ldd, r[i]);
            return;
        }
        __mmask16 cm = (__mmask16)((1u << nc) - 1u), rm = (__mmask16)((1u << nr) - 1u);
        for (int i = 0; i < 16; i++) r[i] = i < nr ? _mm512_maskz_loadu_ps(cm, s + i * lds) : _mm512_setzero_ps();
        transpose16(r);
        for (int i = 0; i < nc; i++) _mm512_mask_storeu_ps(d + i * ldd, rm, r[i]);
        return;
    }
    __m256 r[8];
    if (nr == 8 && nc == 8) {
        for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * lds);
        transpose8(r);
        if (stream)
            for (int i = 0; i < 8; i++) _mm256_stream_ps(d + i * ldd, r[i]);
        else
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(d + i * ldd, r[i]);
        return;
    }
    __mmask8 cm = (__mmask8)((1u << nc) - 1u), rm = (__mmask8)((1u << nr) - 1u);
    for (int i = 0; i < 8; i++) r[i] = i < nr ? _mm256_maskz_loadu_ps(cm, s + i * lds) : _mm256_setzero_ps();
    transpose8(r);
    for (int i = 0; i < nc; i++) _mm256_mask_storeu_ps(d + i * ldd, rm, r[i]);
}

void ft_x32_transpose_avx512(const void *src, int64_t lds, int64_t rows, int64_t cols, void *dst, int64_t ldd,
                             int tile, int stream)
{
    const float *s = src;
    float *d = dst;
    const int m = tile >= 16 ? 16 : 8;
    /* non-temporal stores need whole lines at aligned addresses */
    stream = stream && ((uintptr_t)dst % 64 == 0) && ldd % 16 == 0;
    for (int64_t r0 = 0; r0 < rows; r0 += tile) {
        int64_t r1 = r0 + tile < rows ? r0 + tile : rows;
        for (int64_t c0 = 0; c0 < cols; c0 += tile) {
            int64_t c1 = c0 + tile < cols ? c0 + tile : cols;
            int64_t pr0 = r0, pc0 = c0 + tile; /* the next tile, whose lines are prefetched */
            if (pc0 >= cols) {
                pc0 = 0;
                pr0 = r0 + tile;
            }
            for (int64_t c = c0; c < c1; c += m)
                for (int64_t r = r0; r < r1; r += m) {
                    int nr = (int)(r1 - r < m ? r1 - r : m), nc = (int)(c1 - c < m ? c1 - c : m);
                    int64_t pr = pr0 + (r - r0), pc = pc0 + (c - c0);
                    if (pr < rows && pc < cols)
                        for (int i = 0; i < m; i++) {
                            if (pr + i < rows) _mm_prefetch((const char *)(s + (pr + i) * lds + pc), _MM_HINT_T0);
                            /* streamed lines bypass the cache: fetching them would only cost */
                            if (!stream && pc + i < cols)
                                _mm_prefetch((const char *)(d + (pc + i) * ldd + pr), _MM_HINT_T0);
                        }
                    block(m, s + r * lds + c, lds, d + c * ldd + r, ldd, nr, nc, stream && r % 16 == 0);
                }
        }
    }
    if (stream) _mm_sfence();
}
