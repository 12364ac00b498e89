/* conv_nchwc_avx512.c - the blocked direct Conv's row kernel (conv_nchwc_impl.h) on AVX-512: one
 * vector is one block of 16 output channels, so a tile of owb pixels x ocb blocks holds owb * ocb
 * accumulators of the 32 registers (the broadcasts come from memory as embedded operands). */
#include <immintrin.h>
#include <stdint.h>

#include "conv_nchwc.h"

typedef __m512 V;
#define VL 16

static inline V v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, V v) { _mm512_storeu_ps(p, v); }
static inline V v_set1(float f) { return _mm512_set1_ps(f); }
static inline V v_zero(void) { return _mm512_setzero_ps(); }
static inline V v_fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }

#define CN_MAX_OWB 28
#define CN_TILES(X)                                                                                                   \
    X(28, 1) X(14, 1) X(8, 1) X(7, 1) X(4, 1) X(2, 1) X(1, 1) X(14, 2) X(8, 2) X(7, 2) X(4, 2) X(2, 2) X(1, 2)
static const int cn_tails1[] = {28, 14, 8, 7, 4, 2, 1};
static const int cn_tails2[] = {14, 8, 7, 4, 2, 1};
static const ft_conv_nchwc_tile cn_offered[] = {{14, 2}, {7, 2}, {4, 2}, {28, 1}, {14, 1}, {8, 1}};

#define CN_TABLE ft_conv_nchwc_avx512
#include "conv_nchwc_impl.h"
