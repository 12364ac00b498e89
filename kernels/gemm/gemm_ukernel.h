/* gemm_ukernel.h - the contract between the GEMM driver (gemm.c) and the per-ISA tile files.
 *
 * A microkernel computes one full mr x nr tile: C = alpha * a * b + beta * C, where a is mr rows
 * of kc contiguous floats, row i at a + i * lda, and b is kc rows of nr contiguous floats, row k at
 * b + k * ldb; no alignment is required. That one form serves both packed operands (lda = kc,
 * ldb = nr) and row-major matrices read in place. C is row-major with row stride ldc. kc >= 1.
 * beta == 0 writes C without reading it. Partial tiles and packing are the driver's business.
 */
#ifndef FT_GEMM_UKERNEL_H
#define FT_GEMM_UKERNEL_H

#include <stdint.h>

#include "gemm.h"

/* Upper bound of mr * nr over every tile: the driver's stack buffer for partial tiles. */
#define FT_GEMM_MAX_TILE 1024

typedef void (*ft_f32_gemm_ukernel_fn)(int64_t kc, const float *a, int64_t lda, const float *b,
                                       int64_t ldb, float *c, int64_t ldc, float alpha, float beta);

typedef struct ft_gemm_ukernel {
    ft_gemm_ukernel_info info; /* first, so a pointer to it is a pointer to the entry */
    ft_f32_gemm_ukernel_fn fn;
} ft_gemm_ukernel;

/* dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols: packs transposed operands. */
typedef void (*ft_f32_transpose_fn)(const float *src, int64_t lds, int64_t rows, int64_t cols,
                                    float *dst, int64_t ldd);

void ft_f32_transpose_scalar(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                             int64_t ldd);
#if defined(__x86_64__)
void ft_f32_transpose_avx2(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                           int64_t ldd);
void ft_f32_transpose_avx512(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                             int64_t ldd);
#endif
#if defined(__aarch64__)
void ft_f32_transpose_neon(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                           int64_t ldd);
#endif

/* Each ISA file exports one table, terminated by an entry with fn == NULL, in order of preference
 * (fastest on large problems first): the default schedule takes the first tile that pads the
 * problem little (see default_tile in gemm.c). */
extern const ft_gemm_ukernel ft_f32_gemm_ukernels_scalar[];
#if defined(__x86_64__)
extern const ft_gemm_ukernel ft_f32_gemm_ukernels_avx2[];
extern const ft_gemm_ukernel ft_f32_gemm_ukernels_avx512[];
#endif
#if defined(__aarch64__)
extern const ft_gemm_ukernel ft_f32_gemm_ukernels_neon[];
#endif

#endif
