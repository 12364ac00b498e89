/* x32_transpose_avx2.c - 2-D transposes of 4-byte elements in 8x8 AVX register blocks; partial
 * blocks at the edges are copied element by element. */
#include <immintrin.h>

#include "x32_transpose.h"

static inline void block8(const float *s, int64_t lds, float *d, int64_t ldd, int stream)
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

void ft_x32_transpose_avx2(const void *src, int64_t lds, int64_t rows, int64_t cols, void *dst, int64_t ldd, int tile,
                           int stream)
{
    const uint32_t *s = src;
    uint32_t *d = dst;
    /* non-temporal stores need aligned 32-byte rows */
    stream = stream && ((uintptr_t)dst % 32 == 0) && ldd % 8 == 0;
    for (int64_t r0 = 0; r0 < rows; r0 += tile) {
        int64_t r1 = r0 + tile < rows ? r0 + tile : rows;
        for (int64_t c0 = 0; c0 < cols; c0 += tile) {
            int64_t c1 = c0 + tile < cols ? c0 + tile : cols;
            int64_t pr0 = r0, pc0 = c0 + tile; /* the next tile, whose lines are prefetched */
            if (pc0 >= cols) {
                pc0 = 0;
                pr0 = r0 + tile;
            }
            for (int64_t c = c0; c < c1; c += 8)
                for (int64_t r = r0; r < r1; r += 8) {
                    int64_t pr = pr0 + (r - r0), pc = pc0 + (c - c0);
                    if (pr < rows && pc < cols)
                        for (int i = 0; i < 8; i++) {
                            if (pr + i < rows) _mm_prefetch((const char *)(s + (pr + i) * lds + pc), _MM_HINT_T0);
                            /* streamed lines bypass the cache: fetching them would only cost */
                            if (!stream && pc + i < cols)
                                _mm_prefetch((const char *)(d + (pc + i) * ldd + pr), _MM_HINT_T0);
                        }
                    if (r + 8 <= r1 && c + 8 <= c1) {
                        block8((const float *)(const void *)(s + r * lds + c), lds, (float *)(void *)(d + c * ldd + r),
                               ldd, stream);
                        continue;
                    }
                    for (int64_t cc = c; cc < c + 8 && cc < c1; cc++)
                        for (int64_t rr = r; rr < r + 8 && rr < r1; rr++) d[cc * ldd + rr] = s[rr * lds + cc];
                }
        }
    }
    if (stream) _mm_sfence();
}
