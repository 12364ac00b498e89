/* x32_transpose_avx512.c - 2-D transposes of 4-byte elements: cache tiles of 16x16 (tile >= 16) or
 * 8x8 (tile 8) register blocks (x32_transpose_block.h, masked at the edges), or, at strides that
 * alias in L1, panels of 16x16 blocks staged through an L1 buffer (x32_transpose_panel.h). */
#include <immintrin.h>

#include "x32_transpose.h"
#include "x32_transpose_block.h"
#include "x32_transpose_panel.h"

/* One m x m block (m = 16 or 8) of which nr rows and nc cols are valid. */
static inline void block(int m, const float *s, int64_t lds, float *d, int64_t ldd, int nr, int nc, int stream)
{
    if (m == 16) {
        if (nr == 16 && nc == 16) x32_block16(s, lds, d, ldd, stream);
        else x32_block16_edge(s, lds, d, ldd, nr, nc);
    } else {
        if (nr == 8 && nc == 8) x32_block8(s, lds, d, ldd, stream);
        else x32_block8_edge(s, lds, d, ldd, nr, nc);
    }
}

static inline void panel_block(const float *s, int64_t lds, float *d, int64_t ldd, int nr, int nc)
{
    block(16, s, lds, d, ldd, nr, nc, 0);
}

static inline void panel_run(const float *b, float *d, int n, int stream)
{
    int j = 0;
    if (stream)
        for (; j + 16 <= n; j += 16) _mm512_stream_ps(d + j, _mm512_load_ps(b + j));
    else
        for (; j + 16 <= n; j += 16) _mm512_storeu_ps(d + j, _mm512_load_ps(b + j));
    if (j < n) {
        __mmask16 m = (__mmask16)((1u << (n - j)) - 1u);
        _mm512_mask_storeu_ps(d + j, m, _mm512_maskz_load_ps(m, b + j));
    }
}

/* Cache tiles; while one tile is transposed the lines of the next one, source and destination, are
 * prefetched: large transposes are otherwise bound by the latency of their strided misses. Not
 * inlined into the dispatcher: beside the panel path gcc compiles it a few percent slower. */
__attribute__((noinline)) static void transpose_tiles(const float *s, int64_t lds, int64_t rows, int64_t cols, float *d, int64_t ldd, int tile,
                            int stream)
{
    const int m = tile >= 16 ? 16 : 8;
    /* non-temporal stores need whole lines at aligned addresses */
    stream = stream && ((uintptr_t)d % 64 == 0) && ldd % 16 == 0;
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

void ft_x32_transpose_avx512(const void *src, int64_t lds, int64_t rows, int64_t cols, void *dst, int64_t ldd,
                             int tile, int stream)
{
    if (x32_use_panels(lds, rows, cols, ldd))
        x32_transpose_panels(src, lds, rows, cols, dst, ldd, tile < 16 ? 16 : tile,
                             stream && (uintptr_t)dst % 64 == 0 && ldd % 16 == 0, 16, panel_block, panel_run);
    else
        transpose_tiles(src, lds, rows, cols, dst, ldd, tile, stream);
}
