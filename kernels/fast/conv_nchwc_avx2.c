/* conv_nchwc_avx2.c - the blocked direct Conv's row kernel (conv_nchwc_impl.h) on AVX2 + FMA: a block
 * of 16 output channels is two vectors, so of the 16 registers a tile of owb pixels x ocb blocks
 * takes 2 * owb * ocb accumulators, 2 * ocb weight vectors and one broadcast. */
#include <immintrin.h>
#include <stdint.h>

#include "conv_nchwc.h"

typedef __m256 V;
#define VL 8

static inline V v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, V v) { _mm256_storeu_ps(p, v); }
static inline V v_set1(float f) { return _mm256_set1_ps(f); }
static inline V v_zero(void) { return _mm256_setzero_ps(); }
static inline V v_fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }

#define CN_MAX_OWB 6
#define CN_TILES(X) X(6, 1) X(4, 1) X(3, 1) X(2, 1) X(1, 1) X(3, 2) X(2, 2) X(1, 2)
static const int cn_tails1[] = {6, 4, 3, 2, 1};
static const int cn_tails2[] = {3, 2, 1};
static const ft_conv_nchwc_tile cn_offered[] = {{6, 1}, {4, 1}, {3, 2}};

#define CN_TABLE ft_conv_nchwc_avx2
#include "conv_nchwc_impl.h"
