/* x32_transpose_avx2.c - 2-D transposes of 4-byte elements: cache tiles of 8x8 AVX register blocks
 * (x32_transpose_block.h; partial blocks at the edges go element by element) or, at strides that
 * alias in L1, panels of them staged through an L1 buffer (x32_transpose_panel.h). */
#include <immintrin.h>

#include "x32_transpose.h"
#include "x32_transpose_block.h"
#include "x32_transpose_panel.h"

static inline void panel_block(const float *s, int64_t lds, float *d, int64_t ldd, int nr, int nc)
{
    if (nr == 8 && nc == 8) x32_block8(s, lds, d, ldd, 0);
    else x32_block8_edge(s, lds, d, ldd, nr, nc);
}

static inline void panel_run(const float *b, float *d, int n, int stream)
{
    int j = 0;
    if (stream)
        for (; j + 8 <= n; j += 8) _mm256_stream_ps(d + j, _mm256_load_ps(b + j));
    else
        for (; j + 8 <= n; j += 8) _mm256_storeu_ps(d + j, _mm256_load_ps(b + j));
    for (; j < n; j++) d[j] = b[j];
}

/* Cache tiles; while one tile is transposed the lines of the next one, source and destination, are
 * prefetched. */
static void transpose_tiles(const float *s, int64_t lds, int64_t rows, int64_t cols, float *d, int64_t ldd, int tile,
                            int stream)
{
    /* non-temporal stores need aligned 32-byte rows */
    stream = stream && ((uintptr_t)d % 32 == 0) && ldd % 8 == 0;
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
                        x32_block8(s + r * lds + c, lds, d + c * ldd + r, ldd, stream);
                        continue;
                    }
                    for (int64_t cc = c; cc < c + 8 && cc < c1; cc++)
                        for (int64_t rr = r; rr < r + 8 && rr < r1; rr++) d[cc * ldd + rr] = s[rr * lds + cc];
                }
        }
    }
    if (stream) _mm_sfence();
}

void ft_x32_transpose_avx2(const void *src, int64_t lds, int64_t rows, int64_t cols, void *dst, int64_t ldd, int tile,
                           int stream)
{
    if (x32_use_panels(lds, rows, cols, ldd))
        x32_transpose_panels(src, lds, rows, cols, dst, ldd, tile < 16 ? 16 : tile,
                             stream && (uintptr_t)dst % 32 == 0 && ldd % 8 == 0, 8, panel_block, panel_run);
    else
        transpose_tiles(src, lds, rows, cols, dst, ldd, tile, stream);
}
