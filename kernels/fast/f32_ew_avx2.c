/* f32_ew_avx2.c - the float32 elementwise kernels (f32_ew_impl.h) on AVX2 + FMA vectors of 8. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

typedef __m256 V;
typedef __m256 VM; /* all-ones lanes */
typedef __m256d VD;
#define VL 8

static inline V v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, V v) { _mm256_storeu_ps(p, v); }
static inline VM v_tailmask(int64_t n)
{
    static const int32_t lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(const void *)(lanes + 8 - n)));
}
static inline V v_load_n(const float *p, VM m) { return _mm256_maskload_ps(p, _mm256_castps_si256(m)); }
static inline V v_load_n_fill(const float *p, VM m, V fill) { return _mm256_blendv_ps(fill, v_load_n(p, m), m); }
static inline void v_store_n(float *p, V v, VM m) { _mm256_maskstore_ps(p, _mm256_castps_si256(m), v); }
static inline V v_set1(float f) { return _mm256_set1_ps(f); }
static inline V v_zero(void) { return _mm256_setzero_ps(); }
static inline V v_add(V a, V b) { return _mm256_add_ps(a, b); }
static inline V v_sub(V a, V b) { return _mm256_sub_ps(a, b); }
static inline V v_mul(V a, V b) { return _mm256_mul_ps(a, b); }
static inline V v_div(V a, V b) { return _mm256_div_ps(a, b); }
static inline V v_fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static inline V v_fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
static inline V v_max(V a, V b) { return _mm256_max_ps(a, b); }
static inline V v_min(V a, V b) { return _mm256_min_ps(a, b); }
static inline V v_sqrt(V a) { return _mm256_sqrt_ps(a); }
static inline V v_abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline V v_neg(V a) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), a); }
static inline V v_copysign(V mag, V sign)
{
    V s = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
}
static inline V v_round(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
/* p * 2^n for integral n in [-150, 129] (v_exp clamps to that): two factors, each a normal float,
 * so that a subnormal result is rounded once. */
static inline V v_ldexp(V p, V n)
{
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256i bias = _mm256_set1_epi32(127);
    V f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    V f2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, f1), f2);
}
static inline VM v_lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline VM v_ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static inline VM v_eq(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static inline VM v_isnan(V a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
static inline V v_select(VM m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
static inline V v_maskz(VM m, V v) { return _mm256_and_ps(m, v); }
static inline VM vm_or(VM a, VM b) { return _mm256_or_ps(a, b); }
static inline int vm_any(VM m) { return _mm256_movemask_ps(m) != 0; }
static inline VM vm_none(void) { return _mm256_setzero_ps(); }
static inline VM vm_all(void) { return _mm256_castsi256_ps(_mm256_set1_epi32(-1)); }
static inline VM v_cond_load(const uint8_t *c)
{
    __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)c));
    __m256i zero = _mm256_cmpeq_epi32(w, _mm256_setzero_si256());
    return _mm256_castsi256_ps(_mm256_xor_si256(zero, _mm256_set1_epi32(-1)));
}
static inline VM v_cond_load_n(const uint8_t *c, int64_t n)
{
    uint8_t tmp[8] = {0};
    memcpy(tmp, c, (size_t)n);
    return v_cond_load(tmp);
}
static inline float v_hmax(V a)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}
static inline VD vd_zero(void) { return _mm256_setzero_pd(); }
static inline VD vd_lo(V a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
static inline VD vd_hi(V a) { return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)); }
static inline VD vd_add(VD a, VD b) { return _mm256_add_pd(a, b); }
static inline VD vd_sub(VD a, VD b) { return _mm256_sub_pd(a, b); }
static inline VD vd_fmadd(VD a, VD b, VD c) { return _mm256_fmadd_pd(a, b, c); }
static inline VD vd_set1(double d) { return _mm256_set1_pd(d); }
static inline VD vd_loadu(const double *p) { return _mm256_loadu_pd(p); }
static inline void vd_storeu(double *p, VD v) { _mm256_storeu_pd(p, v); }
static inline double vd_hsum(VD a)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

#define EW_TABLE ft_f32_ew_avx2
#include "f32_ew_impl.h"
