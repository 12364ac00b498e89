/* f32_ew_impl.h - the float32 elementwise, softmax, layer-norm and reduction kernels written once
 * over a small vector vocabulary, included by f32_ew_avx2.c and f32_ew_avx512.c after they define it.
 *
 * The includer defines: V (float vector), VM (lane mask), VD (double vector of VL/2 lanes), VL,
 * EW_TABLE (the name of the exported table) and these static inline functions:
 *   v_load v_store v_tailmask v_load_n v_load_n_fill v_store_n v_set1 v_zero v_add v_sub v_mul
 *   v_div v_fmadd(a,b,c)=a*b+c v_fnmadd(a,b,c)=c-a*b v_max v_min (x86 semantics: the second
 *   operand when either is NaN) v_sqrt v_abs v_neg v_copysign v_round v_ldexp(p,n)=p*2^n
 *   v_lt v_ge v_eq v_isnan v_select(m,a,b)=m?a:b v_maskz vm_or vm_any vm_none vm_all
 *   v_cond_load v_cond_load_n (bool bytes to a mask) v_hmax
 *   vd_zero vd_lo vd_hi (halves of a float vector as doubles) vd_add vd_sub vd_fmadd vd_set1
 *   vd_loadu vd_storeu vd_hsum
 * Kernels are templates over constant unroll and stride arguments: always_inline lets the compiler
 * specialise each switch case into its own loop.
 */
#ifndef EW_TABLE
#error "define the vector vocabulary and EW_TABLE before including f32_ew_impl.h"
#endif

#include <math.h>

#include "f32_ew.h"

#define EW_INLINE static inline __attribute__((always_inline))
#define EW_MAXU 4

/* ---- vector math ------------------------------------------------------------------------------ */

/* Cephes expf: n = round(x / ln2), r = x - n ln2 in two parts, a degree-7 polynomial on
 * |r| <= ln2 / 2, then p * 2^n. Inputs are clamped to where the result is 0 or inf anyway. */
EW_INLINE V v_exp(V x)
{
    x = v_min(v_set1(89.0f), x); /* x86 min/max return the second operand on NaN: NaN passes */
    x = v_max(v_set1(-104.0f), x);
    V n = v_round(v_mul(x, v_set1(1.44269504088896341f)));
    V r = v_fnmadd(n, v_set1(0.693359375f), x);
    r = v_fnmadd(n, v_set1(-2.12194440e-4f), r);
    V p = v_set1(1.9875691500e-4f);
    p = v_fmadd(p, r, v_set1(1.3981999507e-3f));
    p = v_fmadd(p, r, v_set1(8.3334519073e-3f));
    p = v_fmadd(p, r, v_set1(4.1665795894e-2f));
    p = v_fmadd(p, r, v_set1(1.6666665459e-1f));
    p = v_fmadd(p, r, v_set1(5.0000001201e-1f));
    p = v_fmadd(p, v_mul(r, r), r);
    p = v_add(p, v_set1(1.0f));
    return v_ldexp(p, n);
}

/* 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, so that neither overflows nor cancels. */
EW_INLINE V v_sigmoid(V x)
{
    V e = v_exp(v_neg(v_abs(x)));
    V num = v_select(v_ge(x, v_zero()), v_set1(1.0f), e);
    return v_div(num, v_add(v_set1(1.0f), e));
}

/* Cephes tanhf: an odd polynomial below 0.625 where 1 - 2 / (e^2|x| + 1) would cancel. */
EW_INLINE V v_tanh(V x)
{
    V a = v_abs(x), z = v_mul(x, x);
    V p = v_set1(-5.70498872745e-3f);
    p = v_fmadd(p, z, v_set1(2.06390887954e-2f));
    p = v_fmadd(p, z, v_set1(-5.37397155531e-2f));
    p = v_fmadd(p, z, v_set1(1.33314422036e-1f));
    p = v_fmadd(p, z, v_set1(-3.33332819422e-1f));
    V small = v_fmadd(v_mul(p, z), x, x);
    V e = v_exp(v_add(a, a));
    V big = v_sub(v_set1(1.0f), v_div(v_set1(2.0f), v_add(e, v_set1(1.0f))));
    return v_copysign(v_select(v_lt(a, v_set1(0.625f)), small, big), x); /* also keeps -0 */
}

/* erf: x P(x^2) below 0.875; above, 1 - e^-x^2 Q(1/|x| - c) where Q fits erfc(x) e^x^2 (minimax
 * fits of absolute error below 2e-8 on erfc). |x| >= 4 is +-1 in float. */
EW_INLINE V v_erf(V x)
{
    V a = v_min(v_set1(4.0f), v_abs(x)), z = v_mul(x, x);
    V p = v_set1(-6.222444353625178e-4f);
    p = v_fmadd(p, z, v_set1(5.035876762121916e-3f));
    p = v_fmadd(p, z, v_set1(-2.6793958619236946e-2f));
    p = v_fmadd(p, z, v_set1(1.1282524466514587e-1f));
    p = v_fmadd(p, z, v_set1(-3.761255741119385e-1f));
    p = v_fmadd(p, z, v_set1(1.1283791065216064f));
    V small = v_mul(x, p);
    V t = v_sub(v_div(v_set1(1.0f), a), v_set1(0.6964285969734192f));
    V q = v_set1(-1.3155392371118069e-2f);
    q = v_fmadd(q, t, v_set1(2.9686298221349716e-2f));
    q = v_fmadd(q, t, v_set1(-3.161346912384033e-2f));
    q = v_fmadd(q, t, v_set1(9.738181717693806e-3f));
    q = v_fmadd(q, t, v_set1(4.832438379526138e-2f));
    q = v_fmadd(q, t, v_set1(-1.624610722064972e-1f));
    q = v_fmadd(q, t, v_set1(3.583544194698334e-1f));
    q = v_fmadd(q, t, v_set1(3.3239588141441345e-1f));
    V big = v_fnmadd(v_exp(v_neg(v_mul(a, a))), q, v_set1(1.0f));
    return v_select(v_lt(a, v_set1(0.875f)), small, v_copysign(big, x));
}

EW_INLINE V unary_apply(const int op, V x)
{
    switch (op) {
    case FT_EW_RELU: return v_max(v_zero(), x); /* NaN and -0 pass, as x < 0 ? 0 : x does */
    case FT_EW_SIGMOID: return v_sigmoid(x);
    case FT_EW_TANH: return v_tanh(x);
    case FT_EW_ERF: return v_erf(x);
    case FT_EW_EXP: return v_exp(x);
    case FT_EW_SQRT: return v_sqrt(x);
    case FT_EW_NEG: return v_neg(x);
    case FT_EW_ABS: return v_abs(x);
    case FT_EW_RECIPROCAL: return v_div(v_set1(1.0f), x);
    case FT_EW_SQUARE: return v_mul(x, x);
    case FT_EW_CUBE: return v_mul(v_mul(x, x), x);
    case FT_EW_GELU:
        return v_mul(v_mul(x, v_add(v_erf(v_div(x, v_set1(FT_EW_GELU_SQRT2))), v_set1(1.0f))), v_set1(0.5f));
    default: /* FT_EW_POW_HALF */
        return v_select(v_eq(x, v_set1(-INFINITY)), v_set1(INFINITY), v_abs(v_sqrt(x)));
    }
}

/* ---- unary ------------------------------------------------------------------------------------- */

EW_INLINE void unary_loop(const int op, const int U, const float *x, float *y, int64_t n)
{
    int64_t i = 0;
    for (; i + U * VL <= n; i += U * VL) {
        V r[EW_MAXU];
        for (int k = 0; k < U; k++) r[k] = unary_apply(op, v_load(x + i + k * VL));
        for (int k = 0; k < U; k++) v_store(y + i + k * VL, r[k]);
    }
    for (; i + VL <= n; i += VL) v_store(y + i, unary_apply(op, v_load(x + i)));
    if (i < n) {
        VM m = v_tailmask(n - i);
        v_store_n(y + i, unary_apply(op, v_load_n(x + i, m)), m);
    }
}

#define EW_BY_UNROLL(call)                                                                          \
    do {                                                                                            \
        if (unroll <= 1) call(1);                                                                   \
        else if (unroll == 2) call(2);                                                              \
        else call(4);                                                                               \
    } while (0)

static void unary_kernel(int op, int unroll, const float *x, float *y, int64_t n)
{
#define UN_U(U) unary_loop(OP, U, x, y, n)
#define UN_CASE(o)                                                                                  \
    case o: {                                                                                       \
        enum { OP = o };                                                                            \
        EW_BY_UNROLL(UN_U);                                                                         \
        break;                                                                                      \
    }
    switch (op) {
        UN_CASE(FT_EW_RELU)
        UN_CASE(FT_EW_SIGMOID)
        UN_CASE(FT_EW_TANH)
        UN_CASE(FT_EW_ERF)
        UN_CASE(FT_EW_EXP)
        UN_CASE(FT_EW_SQRT)
        UN_CASE(FT_EW_NEG)
        UN_CASE(FT_EW_ABS)
        UN_CASE(FT_EW_RECIPROCAL)
        UN_CASE(FT_EW_SQUARE)
        UN_CASE(FT_EW_CUBE)
        UN_CASE(FT_EW_POW_HALF)
        UN_CASE(FT_EW_GELU)
    default: break;
    }
#undef UN_CASE
#undef UN_U
}

/* ---- binary ------------------------------------------------------------------------------------ */

EW_INLINE V binary_apply(const int op, V a, V b)
{
    switch (op) {
    case FT_EW_ADD: return v_add(a, b);
    case FT_EW_SUB: return v_sub(a, b);
    case FT_EW_MUL: return v_mul(a, b);
    default: return v_div(a, b);
    }
}

/* sa, sb: 1 for a contiguous operand, 0 for one value broadcast along the row. */
EW_INLINE void binary_loop(const int op, const int U, const int sa, const int sb, const float *a, const float *b,
                           float *y, int64_t n)
{
    V ba = sa ? v_zero() : v_set1(a[0]), bb = sb ? v_zero() : v_set1(b[0]);
    int64_t i = 0;
    for (; i + U * VL <= n; i += U * VL) {
        V r[EW_MAXU];
        for (int k = 0; k < U; k++)
            r[k] = binary_apply(op, sa ? v_load(a + i + k * VL) : ba, sb ? v_load(b + i + k * VL) : bb);
        for (int k = 0; k < U; k++) v_store(y + i + k * VL, r[k]);
    }
    for (; i + VL <= n; i += VL) v_store(y + i, binary_apply(op, sa ? v_load(a + i) : ba, sb ? v_load(b + i) : bb));
    if (i < n) {
        VM m = v_tailmask(n - i);
        v_store_n(y + i, binary_apply(op, sa ? v_load_n(a + i, m) : ba, sb ? v_load_n(b + i, m) : bb), m);
    }
}

static void binary_kernel(int op, int unroll, const float *a, int64_t sa, const float *b, int64_t sb, float *y,
                          int64_t n)
{
    if (n <= 0) return;
#define BIN_U(U) binary_loop(OP, U, SA, SB, a, b, y, n)
#define BIN_MODE(sa_, sb_)                                                                          \
    do {                                                                                            \
        enum { SA = sa_, SB = sb_ };                                                                \
        EW_BY_UNROLL(BIN_U);                                                                        \
    } while (0)
#define BIN_CASE(o)                                                                                 \
    case o: {                                                                                       \
        enum { OP = o };                                                                            \
        if (sa && sb) BIN_MODE(1, 1);                                                               \
        else if (sa) BIN_MODE(1, 0);                                                                \
        else if (sb) BIN_MODE(0, 1);                                                                \
        else BIN_MODE(0, 0);                                                                        \
        break;                                                                                      \
    }
    switch (op) {
        BIN_CASE(FT_EW_ADD)
        BIN_CASE(FT_EW_SUB)
        BIN_CASE(FT_EW_MUL)
        BIN_CASE(FT_EW_DIV)
    default: break;
    }
#undef BIN_CASE
#undef BIN_MODE
#undef BIN_U
}

/* ---- where ------------------------------------------------------------------------------------- */

EW_INLINE void where_loop(const int U, const int sc, const int sx, const int sy, const uint8_t *c, const float *x,
                          const float *y, float *o, int64_t n)
{
    VM bc = sc ? vm_none() : c[0] ? vm_all() : vm_none();
    V bx = sx ? v_zero() : v_set1(x[0]), by = sy ? v_zero() : v_set1(y[0]);
    int64_t i = 0;
    for (; i + U * VL <= n; i += U * VL) {
        V r[EW_MAXU];
        for (int k = 0; k < U; k++)
            r[k] = v_select(sc ? v_cond_load(c + i + k * VL) : bc, sx ? v_load(x + i + k * VL) : bx,
                            sy ? v_load(y + i + k * VL) : by);
        for (int k = 0; k < U; k++) v_store(o + i + k * VL, r[k]);
    }
    for (; i + VL <= n; i += VL)
        v_store(o + i, v_select(sc ? v_cond_load(c + i) : bc, sx ? v_load(x + i) : bx, sy ? v_load(y + i) : by));
    if (i < n) {
        VM m = v_tailmask(n - i);
        V r = v_select(sc ? v_cond_load_n(c + i, n - i) : bc, sx ? v_load_n(x + i, m) : bx, sy ? v_load_n(y + i, m) : by);
        v_store_n(o + i, r, m);
    }
}

static void where_kernel(int unroll, const uint8_t *c, int64_t sc, const float *x, int64_t sx, const float *y,
                         int64_t sy, float *o, int64_t n)
{
    if (n <= 0) return;
#define WH_U(U) where_loop(U, SC, SX, SY, c, x, y, o, n)
#define WH_MODE(sc_, sx_, sy_)                                                                      \
    case sc_ * 4 + sx_ * 2 + sy_: {                                                                 \
        enum { SC = sc_, SX = sx_, SY = sy_ };                                                      \
        EW_BY_UNROLL(WH_U);                                                                         \
        break;                                                                                      \
    }
    switch ((sc != 0) * 4 + (sx != 0) * 2 + (sy != 0)) {
        WH_MODE(0, 0, 0)
        WH_MODE(0, 0, 1)
        WH_MODE(0, 1, 0)
        WH_MODE(0, 1, 1)
        WH_MODE(1, 0, 0)
        WH_MODE(1, 0, 1)
        WH_MODE(1, 1, 0)
        WH_MODE(1, 1, 1)
    default: break;
    }
#undef WH_MODE
#undef WH_U
}

/* ---- double accumulation ------------------------------------------------------------------------ */

EW_INLINE void vd_acc(VD *lo, VD *hi, V v)
{
    *lo = vd_add(*lo, vd_lo(v));
    *hi = vd_add(*hi, vd_hi(v));
}

/* Sum of squared deviations from a per-lane mean (mlo, mhi), in double. */
EW_INLINE void vd_acc_sqdev(VD *lo, VD *hi, V v, VD mlo, VD mhi)
{
    VD dl = vd_sub(vd_lo(v), mlo), dh = vd_sub(vd_hi(v), mhi);
    *lo = vd_fmadd(dl, dl, *lo);
    *hi = vd_fmadd(dh, dh, *hi);
}

/* The last vector of a column chunk may be partial (masked); the others are whole. */
#define COL_LOAD(p, u) (masked && (u) == U - 1 ? v_load_n((p) + (u) * VL, m) : v_load((p) + (u) * VL))
#define COL_STORE(p, u, v)                                                                          \
    do {                                                                                            \
        if (masked && (u) == U - 1) v_store_n((p) + (u) * VL, (v), m);                              \
        else v_store((p) + (u) * VL, (v));                                                          \
    } while (0)

/* Runs chunk(U, masked, mask, j) over columns [0, inner) in chunks of U whole vectors, then the
 * remaining whole vectors one at a time, then a masked last vector. */
#define EW_COLUMNS(chunk)                                                                           \
    do {                                                                                            \
        int64_t j = 0;                                                                              \
        if (unroll >= 4)                                                                            \
            for (; j + 4 * VL <= inner; j += 4 * VL) chunk(4, 0, vm_all(), j);                      \
        if (unroll >= 2)                                                                            \
            for (; j + 2 * VL <= inner; j += 2 * VL) chunk(2, 0, vm_all(), j);                      \
        for (; j + VL <= inner; j += VL) chunk(1, 0, vm_all(), j);                                  \
        if (j < inner) chunk(1, 1, v_tailmask(inner - j), j);                                       \
    } while (0)

/* ---- softmax ----------------------------------------------------------------------------------- */

EW_INLINE void softmax_row(const int U, int log_out, const float *x, float *y, int64_t n)
{
    V mx[EW_MAXU];
    for (int k = 0; k < U; k++) mx[k] = v_set1(-INFINITY);
    int64_t i = 0;
    for (; i + U * VL <= n; i += U * VL)
        for (int k = 0; k < U; k++) mx[k] = v_max(mx[k], v_load(x + i + k * VL));
    for (; i + VL <= n; i += VL) mx[0] = v_max(mx[0], v_load(x + i));
    if (i < n) mx[0] = v_max(mx[0], v_load_n_fill(x + i, v_tailmask(n - i), v_set1(-INFINITY)));
    for (int k = 1; k < U; k++) mx[0] = v_max(mx[0], mx[k]);
    V vm = v_set1(v_hmax(mx[0]));

    VD lo[EW_MAXU], hi[EW_MAXU];
    for (int k = 0; k < U; k++) lo[k] = hi[k] = vd_zero();
    for (i = 0; i + U * VL <= n; i += U * VL)
        for (int k = 0; k < U; k++) {
            V e = v_exp(v_sub(v_load(x + i + k * VL), vm));
            if (!log_out) v_store(y + i + k * VL, e);
            vd_acc(&lo[k], &hi[k], e);
        }
    for (; i + VL <= n; i += VL) {
        V e = v_exp(v_sub(v_load(x + i), vm));
        if (!log_out) v_store(y + i, e);
        vd_acc(&lo[0], &hi[0], e);
    }
    if (i < n) {
        VM m = v_tailmask(n - i);
        V e = v_maskz(m, v_exp(v_sub(v_load_n(x + i, m), vm)));
        if (!log_out) v_store_n(y + i, e, m);
        vd_acc(&lo[0], &hi[0], e);
    }
    for (int k = 1; k < U; k++) {
        lo[0] = vd_add(lo[0], lo[k]);
        hi[0] = vd_add(hi[0], hi[k]);
    }
    double sum = vd_hsum(vd_add(lo[0], hi[0]));

    /* Softmax scales the stored exponentials; LogSoftmax is (x - max) - log(sum). */
    V s = v_set1(log_out ? (float)log(sum) : (float)(1.0 / sum));
    for (i = 0; i + U * VL <= n; i += U * VL)
        for (int k = 0; k < U; k++) {
            const int64_t o = i + k * VL;
            v_store(y + o, log_out ? v_sub(v_sub(v_load(x + o), vm), s) : v_mul(v_load(y + o), s));
        }
    for (; i + VL <= n; i += VL) v_store(y + i, log_out ? v_sub(v_sub(v_load(x + i), vm), s) : v_mul(v_load(y + i), s));
    if (i < n) {
        VM m = v_tailmask(n - i);
        v_store_n(y + i, log_out ? v_sub(v_sub(v_load_n(x + i, m), vm), s) : v_mul(v_load_n(y + i, m), s), m);
    }
}

/* Softmax along n of U vectors of columns at once: per-lane max, sums and scale live in registers. */
EW_INLINE void softmax_cols(const int U, const int masked, VM m, int log_out, const float *x, float *y, int64_t n,
                            int64_t inner)
{
    V mx[EW_MAXU];
    for (int u = 0; u < U; u++) mx[u] = v_set1(-INFINITY);
    for (int64_t k = 0; k < n; k++)
        for (int u = 0; u < U; u++) mx[u] = v_max(mx[u], COL_LOAD(x + k * inner, u));
    VD lo[EW_MAXU], hi[EW_MAXU];
    for (int u = 0; u < U; u++) lo[u] = hi[u] = vd_zero();
    for (int64_t k = 0; k < n; k++)
        for (int u = 0; u < U; u++) {
            V e = v_exp(v_sub(COL_LOAD(x + k * inner, u), mx[u]));
            if (!log_out) COL_STORE(y + k * inner, u, e);
            vd_acc(&lo[u], &hi[u], e);
        }
    double sums[EW_MAXU * VL];
    float f[EW_MAXU * VL];
    for (int u = 0; u < U; u++) {
        vd_storeu(sums + u * VL, lo[u]);
        vd_storeu(sums + u * VL + VL / 2, hi[u]);
    }
    for (int l = 0; l < U * VL; l++) f[l] = log_out ? (float)log(sums[l]) : (float)(1.0 / sums[l]);
    V s[EW_MAXU];
    for (int u = 0; u < U; u++) s[u] = v_load(f + u * VL);
    for (int64_t k = 0; k < n; k++)
        for (int u = 0; u < U; u++) {
            V r = log_out ? v_sub(v_sub(COL_LOAD(x + k * inner, u), mx[u]), s[u]) : v_mul(COL_LOAD(y + k * inner, u), s[u]);
            COL_STORE(y + k * inner, u, r);
        }
}

static void softmax_kernel(int unroll, int log_out, const float *x, float *y, int64_t n, int64_t inner)
{
    if (n <= 0 || inner <= 0) return;
    if (inner == 1) {
#define SM_ROW(U) softmax_row(U, log_out, x, y, n)
        EW_BY_UNROLL(SM_ROW);
#undef SM_ROW
        return;
    }
#define SM_COLS(U, masked, m, j) softmax_cols(U, masked, m, log_out, x + (j), y + (j), n, inner)
    EW_COLUMNS(SM_COLS);
#undef SM_COLS
}

/* ---- layer normalisation ------------------------------------------------------------------------- */

/* Mean and variance in double (two passes, as the reference); the output in float subtracts the
 * mean as a float pair so that a mean far from zero costs no precision. */
EW_INLINE void layernorm_row(const int U, const float *x, float *y, int64_t n, const float *sc, const float *bi,
                             float eps, float *mean_out, float *inv_out)
{
    VD lo[EW_MAXU], hi[EW_MAXU];
    for (int k = 0; k < U; k++) lo[k] = hi[k] = vd_zero();
    int64_t i = 0, whole = n / VL * VL;
    for (; i + U * VL <= n; i += U * VL)
        for (int k = 0; k < U; k++) vd_acc(&lo[k], &hi[k], v_load(x + i + k * VL));
    for (; i + VL <= n; i += VL) vd_acc(&lo[0], &hi[0], v_load(x + i));
    for (int k = 1; k < U; k++) {
        lo[0] = vd_add(lo[0], lo[k]);
        hi[0] = vd_add(hi[0], hi[k]);
    }
    double sum = vd_hsum(vd_add(lo[0], hi[0]));
    for (; i < n; i++) sum += x[i];
    double mean = sum / (double)n;

    VD md = vd_set1(mean);
    for (int k = 0; k < U; k++) lo[k] = hi[k] = vd_zero();
    for (i = 0; i + U * VL <= n; i += U * VL)
        for (int k = 0; k < U; k++) vd_acc_sqdev(&lo[k], &hi[k], v_load(x + i + k * VL), md, md);
    for (; i + VL <= n; i += VL) vd_acc_sqdev(&lo[0], &hi[0], v_load(x + i), md, md);
    for (int k = 1; k < U; k++) {
        lo[0] = vd_add(lo[0], lo[k]);
        hi[0] = vd_add(hi[0], hi[k]);
    }
    double sq = vd_hsum(vd_add(lo[0], hi[0]));
    for (i = whole; i < n; i++) sq += ((double)x[i] - mean) * ((double)x[i] - mean);
    double inv = 1.0 / sqrt(sq / (double)n + (double)eps);
    if (mean_out) *mean_out = (float)mean;
    if (inv_out) *inv_out = (float)inv;

    float mh = (float)mean, ml = (float)(mean - (double)mh);
    V vmh = v_set1(mh), vml = v_set1(ml), vinv = v_set1((float)inv);
#define LN_OUT(xv, scv, biv) (bi ? v_fmadd(v_mul(v_sub(v_sub(xv, vmh), vml), vinv), scv, biv) \
                                 : v_mul(v_mul(v_sub(v_sub(xv, vmh), vml), vinv), scv))
    for (i = 0; i + U * VL <= n; i += U * VL)
        for (int k = 0; k < U; k++) {
            const int64_t o = i + k * VL;
            v_store(y + o, LN_OUT(v_load(x + o), v_load(sc + o), bi ? v_load(bi + o) : v_zero()));
        }
    for (; i + VL <= n; i += VL) v_store(y + i, LN_OUT(v_load(x + i), v_load(sc + i), bi ? v_load(bi + i) : v_zero()));
    if (i < n) {
        VM m = v_tailmask(n - i);
        v_store_n(y + i, LN_OUT(v_load_n(x + i, m), v_load_n(sc + i, m), bi ? v_load_n(bi + i, m) : v_zero()), m);
    }
}

EW_INLINE void layernorm_cols(const int U, const int masked, VM m, const float *x, float *y, int64_t n,
                              int64_t inner, const float *sc, const float *bi, float eps, float *mean_out,
                              float *inv_out)
{
    VD lo[EW_MAXU], hi[EW_MAXU];
    for (int u = 0; u < U; u++) lo[u] = hi[u] = vd_zero();
    for (int64_t k = 0; k < n; k++)
        for (int u = 0; u < U; u++) vd_acc(&lo[u], &hi[u], COL_LOAD(x + k * inner, u));
    double mean[EW_MAXU * VL], inv[EW_MAXU * VL];
    for (int u = 0; u < U; u++) {
        vd_storeu(mean + u * VL, lo[u]);
        vd_storeu(mean + u * VL + VL / 2, hi[u]);
    }
    for (int l = 0; l < U * VL; l++) mean[l] /= (double)n;
    VD mlo[EW_MAXU], mhi[EW_MAXU];
    for (int u = 0; u < U; u++) {
        mlo[u] = vd_loadu(mean + u * VL);
        mhi[u] = vd_loadu(mean + u * VL + VL / 2);
        lo[u] = hi[u] = vd_zero();
    }
    for (int64_t k = 0; k < n; k++)
        for (int u = 0; u < U; u++) vd_acc_sqdev(&lo[u], &hi[u], COL_LOAD(x + k * inner, u), mlo[u], mhi[u]);
    for (int u = 0; u < U; u++) {
        vd_storeu(inv + u * VL, lo[u]);
        vd_storeu(inv + u * VL + VL / 2, hi[u]);
    }
    float fh[EW_MAXU * VL], fl[EW_MAXU * VL], fi[EW_MAXU * VL];
    int lanes = masked ? (U - 1) * VL + (int)(inner % VL) : U * VL;
    for (int l = 0; l < U * VL; l++) {
        inv[l] = 1.0 / sqrt(inv[l] / (double)n + (double)eps);
        fh[l] = (float)mean[l];
        fl[l] = (float)(mean[l] - (double)fh[l]);
        fi[l] = (float)inv[l];
        if (l < lanes && mean_out) mean_out[l] = fh[l];
        if (l < lanes && inv_out) inv_out[l] = fi[l];
    }
    V vmh[EW_MAXU], vml[EW_MAXU], vinv[EW_MAXU];
    for (int u = 0; u < U; u++) {
        vmh[u] = v_load(fh + u * VL);
        vml[u] = v_load(fl + u * VL);
        vinv[u] = v_load(fi + u * VL);
    }
    for (int64_t k = 0; k < n; k++) {
        V s = v_set1(sc[k]), b = v_set1(bi ? bi[k] : 0.0f);
        for (int u = 0; u < U; u++) {
            V t = v_mul(v_sub(v_sub(COL_LOAD(x + k * inner, u), vmh[u]), vml[u]), vinv[u]);
            COL_STORE(y + k * inner, u, bi ? v_fmadd(t, s, b) : v_mul(t, s));
        }
    }
}

static void layernorm_kernel(int unroll, const float *x, float *y, int64_t n, int64_t inner, const float *sc,
                             const float *bi, float eps, float *mean_out, float *inv_out)
{
    if (n <= 0 || inner <= 0) return;
    if (inner == 1) {
#define LN_ROW(U) layernorm_row(U, x, y, n, sc, bi, eps, mean_out, inv_out)
        EW_BY_UNROLL(LN_ROW);
#undef LN_ROW
        return;
    }
#define LN_COLS(U, masked, m, j)                                                                    \
    layernorm_cols(U, masked, m, x + (j), y + (j), n, inner, sc, bi, eps, mean_out ? mean_out + (j) : NULL, \
                   inv_out ? inv_out + (j) : NULL)
    EW_COLUMNS(LN_COLS);
#undef LN_COLS
}
#undef LN_OUT

/* ---- reductions --------------------------------------------------------------------------------- */

EW_INLINE float reduce_row(const int U, int op, const float *x, int64_t n)
{
    int64_t i = 0;
    if (op == FT_EW_REDUCE_MAX) {
        V mx[EW_MAXU];
        VM nan = vm_none();
        for (int k = 0; k < U; k++) mx[k] = v_set1(-INFINITY);
        for (; i + U * VL <= n; i += U * VL)
            for (int k = 0; k < U; k++) {
                V v = v_load(x + i + k * VL);
                mx[k] = v_max(mx[k], v);
                nan = vm_or(nan, v_isnan(v));
            }
        for (; i + VL <= n; i += VL) {
            V v = v_load(x + i);
            mx[0] = v_max(mx[0], v);
            nan = vm_or(nan, v_isnan(v));
        }
        if (i < n) {
            V v = v_load_n_fill(x + i, v_tailmask(n - i), v_set1(-INFINITY));
            mx[0] = v_max(mx[0], v);
            nan = vm_or(nan, v_isnan(v));
        }
        for (int k = 1; k < U; k++) mx[0] = v_max(mx[0], mx[k]);
        return vm_any(nan) ? NAN : v_hmax(mx[0]);
    }
    VD lo[EW_MAXU], hi[EW_MAXU];
    for (int k = 0; k < U; k++) lo[k] = hi[k] = vd_zero();
    for (; i + U * VL <= n; i += U * VL)
        for (int k = 0; k < U; k++) vd_acc(&lo[k], &hi[k], v_load(x + i + k * VL));
    for (; i + VL <= n; i += VL) vd_acc(&lo[0], &hi[0], v_load(x + i));
    if (i < n) vd_acc(&lo[0], &hi[0], v_load_n(x + i, v_tailmask(n - i)));
    for (int k = 1; k < U; k++) {
        lo[0] = vd_add(lo[0], lo[k]);
        hi[0] = vd_add(hi[0], hi[k]);
    }
    double sum = vd_hsum(vd_add(lo[0], hi[0]));
    return op == FT_EW_REDUCE_MEAN ? (float)(sum / (double)n) : (float)sum;
}

EW_INLINE void reduce_cols(const int U, const int masked, VM m, int op, const float *x, float *y, int64_t n,
                           int64_t inner)
{
    if (op == FT_EW_REDUCE_MAX) {
        V mx[EW_MAXU];
        VM nan[EW_MAXU];
        for (int u = 0; u < U; u++) {
            mx[u] = v_set1(-INFINITY);
            nan[u] = vm_none();
        }
        for (int64_t k = 0; k < n; k++)
            for (int u = 0; u < U; u++) {
                V v = COL_LOAD(x + k * inner, u);
                mx[u] = v_max(mx[u], v);
                nan[u] = vm_or(nan[u], v_isnan(v));
            }
        for (int u = 0; u < U; u++) COL_STORE(y, u, v_select(nan[u], v_set1(NAN), mx[u]));
        return;
    }
    VD lo[EW_MAXU], hi[EW_MAXU];
    for (int u = 0; u < U; u++) lo[u] = hi[u] = vd_zero();
    for (int64_t k = 0; k < n; k++)
        for (int u = 0; u < U; u++) vd_acc(&lo[u], &hi[u], COL_LOAD(x + k * inner, u));
    double sums[EW_MAXU * VL];
    float f[EW_MAXU * VL];
    for (int u = 0; u < U; u++) {
        vd_storeu(sums + u * VL, lo[u]);
        vd_storeu(sums + u * VL + VL / 2, hi[u]);
    }
    for (int l = 0; l < U * VL; l++) f[l] = op == FT_EW_REDUCE_MEAN ? (float)(sums[l] / (double)n) : (float)sums[l];
    for (int u = 0; u < U; u++) COL_STORE(y, u, v_load(f + u * VL));
}

static void reduce_kernel(int unroll, int op, const float *x, float *y, int64_t n, int64_t inner)
{
    if (inner <= 0) return;
    if (n <= 0) {
        for (int64_t j = 0; j < inner; j++)
            y[j] = op == FT_EW_REDUCE_MAX ? -INFINITY : op == FT_EW_REDUCE_MEAN ? NAN : 0.0f;
        return;
    }
    if (inner == 1) {
#define RD_ROW(U) y[0] = reduce_row(U, op, x, n)
        EW_BY_UNROLL(RD_ROW);
#undef RD_ROW
        return;
    }
#define RD_COLS(U, masked, m, j) reduce_cols(U, masked, m, op, x + (j), y + (j), n, inner)
    EW_COLUMNS(RD_COLS);
#undef RD_COLS
}

#undef COL_LOAD
#undef COL_STORE
#undef EW_COLUMNS
#undef EW_BY_UNROLL

const ft_f32_ew_kernels EW_TABLE = {unary_kernel, binary_kernel, where_kernel, softmax_kernel, layernorm_kernel,
                                    reduce_kernel};
