/* conv_nchwc_scalar.c - the blocked direct Conv's row kernel (conv_nchwc_impl.h) in portable C (any
 * CPU; the compiler may vectorise the 16 lanes of a block), and the table lookup. */
#include <stdint.h>

#include "conv_nchwc.h"
#include "isa.h"

typedef float V;
#define VL 1

static inline V v_load(const float *p) { return *p; }
static inline void v_store(float *p, V v) { *p = v; }
static inline V v_set1(float f) { return f; }
static inline V v_zero(void) { return 0.0f; }
static inline V v_fmadd(V a, V b, V c) { return a * b + c; }

#define CN_MAX_OWB 4
#define CN_TILES(X) X(4, 1) X(2, 1) X(1, 1) X(2, 2) X(1, 2)
static const int cn_tails1[] = {4, 2, 1};
static const int cn_tails2[] = {2, 1};
static const ft_conv_nchwc_tile cn_offered[] = {{4, 1}, {2, 2}};

#define CN_TABLE ft_conv_nchwc_scalar
#include "conv_nchwc_impl.h"

const ft_conv_nchwc_kernels *ft_conv_nchwc_kernels_for(int isa)
{
    switch (isa) {
    case FT_FAST_SCALAR: return &ft_conv_nchwc_scalar;
#if defined(__x86_64__)
    case FT_FAST_AVX2: return &ft_conv_nchwc_avx2;
    case FT_FAST_AVX512: return &ft_conv_nchwc_avx512;
#endif
    default: return NULL;
    }
}
