/* f32_ew_neon.c - the float32 elementwise kernels (f32_ew_impl.h) on AArch64 NEON vectors of 4. */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

typedef float32x4_t V;
typedef uint32x4_t VM; /* all-ones lanes */
typedef float64x2_t VD;
#define VL 4

/* Masks only ever come from v_tailmask (a prefix of lanes) or vm_all, so a masked access is a
 * count; going through a small buffer keeps it from touching memory past the row. */
static inline int v_mask_lanes(VM m) { return (int)vaddvq_u32(vshrq_n_u32(m, 31)); }
static inline V v_load(const float *p) { return vld1q_f32(p); }
static inline void v_store(float *p, V v) { vst1q_f32(p, v); }
static inline VM v_tailmask(int64_t n)
{
    static const uint32_t lane[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(lane), vdupq_n_u32((uint32_t)n));
}
static inline V v_load_n(const float *p, VM m)
{
    float t[VL] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, p, (size_t)v_mask_lanes(m) * sizeof(float));
    return vld1q_f32(t);
}
static inline V v_load_n_fill(const float *p, VM m, V fill) { return vbslq_f32(m, v_load_n(p, m), fill); }
static inline void v_store_n(float *p, V v, VM m)
{
    float t[VL];
    vst1q_f32(t, v);
    memcpy(p, t, (size_t)v_mask_lanes(m) * sizeof(float));
}
static inline V v_set1(float f) { return vdupq_n_f32(f); }
static inline V v_zero(void) { return vdupq_n_f32(0.0f); }
static inline V v_add(V a, V b) { return vaddq_f32(a, b); }
static inline V v_sub(V a, V b) { return vsubq_f32(a, b); }
static inline V v_mul(V a, V b) { return vmulq_f32(a, b); }
static inline V v_div(V a, V b) { return vdivq_f32(a, b); }
static inline V v_fmadd(V a, V b, V c) { return vfmaq_f32(c, a, b); }
static inline V v_fnmadd(V a, V b, V c) { return vfmsq_f32(c, a, b); }
/* fmax/fmin return NaN for a NaN in either operand and order -0 below +0; the kernels are written
 * for x86's "a > b ? a : b", which returns b on NaN and on equal zeros (so Relu keeps -0). */
static inline V v_max(V a, V b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
static inline V v_min(V a, V b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
static inline V v_sqrt(V a) { return vsqrtq_f32(a); }
static inline V v_abs(V a) { return vabsq_f32(a); }
static inline V v_neg(V a) { return vnegq_f32(a); }
static inline V v_copysign(V mag, V sign) { return vbslq_f32(vdupq_n_u32(0x80000000u), sign, mag); }
static inline V v_round(V a) { return vrndnq_f32(a); }
/* p * 2^n for integral n in [-150, 129] (v_exp clamps to that): two factors, each a normal float,
 * so that a subnormal result is rounded once. */
static inline V v_ldexp(V p, V n)
{
    int32x4_t ni = vcvtnq_s32_f32(n);
    int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
    int32x4_t bias = vdupq_n_s32(127);
    V f1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
    V f2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
    return vmulq_f32(vmulq_f32(p, f1), f2);
}
static inline VM v_lt(V a, V b) { return vcltq_f32(a, b); }
static inline VM v_ge(V a, V b) { return vcgeq_f32(a, b); }
static inline VM v_eq(V a, V b) { return vceqq_f32(a, b); }
static inline VM v_isnan(V a) { return vmvnq_u32(vceqq_f32(a, a)); }
static inline V v_select(VM m, V a, V b) { return vbslq_f32(m, a, b); }
static inline V v_maskz(VM m, V v) { return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(v))); }
static inline VM vm_or(VM a, VM b) { return vorrq_u32(a, b); }
static inline int vm_any(VM m) { return vmaxvq_u32(m) != 0; }
static inline VM vm_none(void) { return vdupq_n_u32(0); }
static inline VM vm_all(void) { return vdupq_n_u32(0xffffffffu); }
static inline VM v_cond_load(const uint8_t *c)
{
    uint32_t w;
    memcpy(&w, c, sizeof w);
    uint32x4_t b = vmovl_u16(vget_low_u16(vmovl_u8(vcreate_u8(w))));
    return vtstq_u32(b, b);
}
static inline VM v_cond_load_n(const uint8_t *c, int64_t n)
{
    uint8_t tmp[VL] = {0, 0, 0, 0};
    memcpy(tmp, c, (size_t)n);
    return v_cond_load(tmp);
}
/* Pairwise in the same order as the AVX2 kernel's reduction, with the same NaN rule as v_max. */
static inline float v_hmax(V a)
{
    V m = v_max(a, vextq_f32(a, a, 2));
    m = v_max(m, vextq_f32(m, m, 1));
    return vgetq_lane_f32(m, 0);
}
static inline VD vd_zero(void) { return vdupq_n_f64(0.0); }
static inline VD vd_lo(V a) { return vcvt_f64_f32(vget_low_f32(a)); }
static inline VD vd_hi(V a) { return vcvt_high_f64_f32(a); }
static inline VD vd_add(VD a, VD b) { return vaddq_f64(a, b); }
static inline VD vd_sub(VD a, VD b) { return vsubq_f64(a, b); }
static inline VD vd_fmadd(VD a, VD b, VD c) { return vfmaq_f64(c, a, b); }
static inline VD vd_set1(double d) { return vdupq_n_f64(d); }
static inline VD vd_loadu(const double *p) { return vld1q_f64(p); }
static inline void vd_storeu(double *p, VD v) { vst1q_f64(p, v); }
static inline double vd_hsum(VD a) { return vaddvq_f64(a); }

#define EW_TABLE ft_f32_ew_neon
#include "f32_ew_impl.h"
