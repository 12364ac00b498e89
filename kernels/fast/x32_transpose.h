/* x32_transpose.h - 2-D transposes of 4-byte elements, cache-tiled and register-blocked per ISA:
 * dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols (strides in elements). Bits are
 * copied, never interpreted.
 *
 * tile is the cache block edge (8, 16, 32 or 64). While one tile is transposed the lines of the
 * next one, source and destination, are prefetched: large transposes are otherwise bound by the
 * latency of their strided misses. At strides that alias in L1 (multiples of 1 KiB: every row of a
 * 16-row block in the same few sets) tiles run at a third of memcpy; there the transpose goes in
 * panels of 128 source rows by tile (at least 16) columns through an L1 buffer instead, writing
 * the destination in 512-byte runs (x32_transpose_panel.h). stream != 0 writes whole aligned lines
 * with non-temporal stores (no read for ownership; the result leaves the caches, so it only pays
 * off for tensors well beyond L2) and, in panels, prefetches the next panel's source into L2. */
#ifndef FT_X32_TRANSPOSE_H
#define FT_X32_TRANSPOSE_H

#include <stdint.h>

#if defined(__x86_64__)
void ft_x32_transpose_avx512(const void *src, int64_t lds, int64_t rows, int64_t cols, void *dst, int64_t ldd,
                             int tile, int stream);
void ft_x32_transpose_avx2(const void *src, int64_t lds, int64_t rows, int64_t cols, void *dst, int64_t ldd,
                           int tile, int stream);
#endif

#endif
