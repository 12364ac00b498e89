/* x32_transpose.h - 2-D transposes of 4-byte elements, cache-tiled and register-blocked per ISA:
 * dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols (strides in elements). Bits are
 * copied, never interpreted.
 *
 * tile is the cache block edge (8, 16, 32 or 64). While one tile is transposed the lines of the
 * next one, source and destination, are prefetched: large transposes are otherwise bound by the
 * latency of their strided misses. stream != 0 writes whole aligned lines with non-temporal stores
 * (no read for ownership; the result leaves the caches, so it only pays off for tensors well
 * beyond L2). */
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
