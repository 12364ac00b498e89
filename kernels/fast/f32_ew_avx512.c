/* f32_ew_avx512.c - the float32 elementwise kernels (f32_ew_impl.h) on AVX-512 vectors of 16. */
#include <immintrin.h>
#include <stdint.h>

typedef __m512 V;
typedef __mmask16 VM;
typedef __m512d VD;
#define VL 16

static inline V v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, V v) { _mm512_storeu_ps(p, v); }
static inline VM v_tailmask(int64_t n) { return (VM)((1u << n) - 1u); }
static inline V v_load_n(const float *p, VM m) { return _mm512_maskz_loadu_ps(m, p); }
static inline V v_load_n_fill(const float *p, VM m, V fill) { return _mm512_mask_loadu_ps(fill, m, p); }
static inline void v_store_n(float *p, V v, VM m) { _mm512_mask_storeu_ps(p, m, v); }
static inline V v_set1(float f) { return _mm512_set1_ps(f); }
static inline V v_zero(void) { return _mm512_setzero_ps(); }
static inline V v_add(V a, V b) { return _mm512_add_ps(a, b); }
static inline V v_sub(V a, V b) { return _mm512_sub_ps(a, b); }
static inline V v_mul(V a, V b) { return _mm512_mul_ps(a, b); }
static inline V v_div(V a, V b) { return _mm512_div_ps(a, b); }
static inline V v_fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static inline V v_fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
static inline V v_max(V a, V b) { return _mm512_max_ps(a, b); }
static inline V v_min(V a, V b) { return _mm512_min_ps(a, b); }
static inline V v_sqrt(V a) { return _mm512_sqrt_ps(a); }
static inline V v_abs(V a) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a); }
static inline V v_neg(V a) { return _mm512_xor_ps(_mm512_set1_ps(-0.0f), a); }
static inline V v_copysign(V mag, V sign)
{
    V s = _mm512_set1_ps(-0.0f);
    return _mm512_or_ps(_mm512_andnot_ps(s, mag), _mm512_and_ps(s, sign));
}
static inline V v_round(V a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* scalef rounds once, also into the subnormal range, and saturates to 0 and inf. */
static inline V v_ldexp(V p, V n) { return _mm512_scalef_ps(p, n); }
static inline VM v_lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline VM v_ge(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
static inline VM v_eq(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline VM v_isnan(V a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
static inline V v_select(VM m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }
static inline V v_maskz(VM m, V v) { return _mm512_maskz_mov_ps(m, v); }
static inline VM vm_or(VM a, VM b) { return (VM)(a | b); }
static inline int vm_any(VM m) { return m != 0; }
static inline VM vm_none(void) { return 0; }
static inline VM vm_all(void) { return 0xffff; }
static inline VM v_cond_load(const uint8_t *c)
{
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)c);
    return _mm_test_epi8_mask(b, b);
}
static inline VM v_cond_load_n(const uint8_t *c, int64_t n)
{
    __m128i b = _mm_maskz_loadu_epi8(v_tailmask(n), c);
    return _mm_test_epi8_mask(b, b);
}
static inline float v_hmax(V a) { return _mm512_reduce_max_ps(a); }
static inline VD vd_zero(void) { return _mm512_setzero_pd(); }
static inline VD vd_lo(V a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
static inline VD vd_hi(V a) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)); }
static inline VD vd_add(VD a, VD b) { return _mm512_add_pd(a, b); }
static inline VD vd_sub(VD a, VD b) { return _mm512_sub_pd(a, b); }
static inline VD vd_fmadd(VD a, VD b, VD c) { return _mm512_fmadd_pd(a, b, c); }
static inline VD vd_set1(double d) { return _mm512_set1_pd(d); }
static inline VD vd_loadu(const double *p) { return _mm512_loadu_pd(p); }
static inline void vd_storeu(double *p, VD v) { _mm512_storeu_pd(p, v); }
static inline double vd_hsum(VD a) { return _mm512_reduce_add_pd(a); }

#define EW_TABLE ft_f32_ew_avx512
#include "f32_ew_impl.h"
