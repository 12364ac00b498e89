/* conv_nchwc_impl.h - the row kernel of the blocked direct Conv (conv_nchwc.h) written once over a
 * small vector vocabulary, included by conv_nchwc_scalar.c, conv_nchwc_avx2.c and
 * conv_nchwc_avx512.c after they define it.
 *
 * The includer defines: V (a vector of VL floats, VL dividing 16), v_load v_store v_set1 v_zero
 * v_fmadd(a,b,c)=a*b+c, CN_MAX_OWB (the widest tile), CN_TILES(X) (X(owb, ocb) for every register
 * tile compiled, main tiles and the smaller ones that finish a row), the arrays cn_tails1 and
 * cn_tails2 (the owb compiled for ocb 1 and 2, descending, ending with 1), cn_offered (the tiles
 * worth measuring) and CN_TABLE (the name of the exported table).
 *
 * A tile is a template over constant owb, ocb, pixel stride, channels per block and channel
 * stride: always_inline specialises each switch case so the accumulators live in registers and
 * the pixel offsets of the broadcasts are constants. Stride-1 and stride-2 convolutions of
 * NCHW16c input get fully constant tiles; everything else (NCHW input, wider strides, the single
 * pixels at the edges) runs the same tiles with run-time strides.
 */
#ifndef CN_TABLE
#error "define the vector vocabulary and CN_TABLE before including conv_nchwc_impl.h"
#endif

#include "conv_geom.h"
#include "conv_nchwc.h"

#define CN_INLINE static inline __attribute__((always_inline))
#define CN_NV (16 / VL) /* vectors per block of 16 output channels */

/* One tile: owb output pixels (input columns xow floats apart) of ocb output blocks, over n_kw tap
 * columns starting at x and w. */
CN_INLINE void cn_tile(const int owb, const int ocb, const int64_t xow, const int64_t icn, const int64_t x_ic,
                       const ft_conv_nchwc_row *r, const float *x, const float *w, float *y, int64_t n_kw)
{
    V acc[CN_MAX_OWB][2][CN_NV];
#pragma GCC unroll 32
    for (int p = 0; p < owb; p++)
#pragma GCC unroll 2
        for (int o = 0; o < ocb; o++)
#pragma GCC unroll 16
            for (int v = 0; v < CN_NV; v++) acc[p][o][v] = r->bias ? v_load(r->bias + o * 16 + v * VL) : v_zero();
    const int64_t x_kw = r->dw * r->x_col, w_kw = icn * 16;
    for (int64_t cb = 0; cb < r->n_icb; cb++)
        for (int64_t i = 0; i < r->n_kh; i++) {
            const float *xi = x + cb * r->x_icb + i * r->x_kh, *wi = w + cb * r->w_icb + i * r->w_kh;
            for (int64_t j = 0; j < n_kw; j++) {
                const float *xj = xi + j * x_kw, *wj = wi + j * w_kw;
                for (int64_t ic = 0; ic < icn; ic++) {
                    const float *xc = xj + ic * x_ic, *wc = wj + ic * 16;
                    V wv[2][CN_NV];
#pragma GCC unroll 2
                    for (int o = 0; o < ocb; o++)
#pragma GCC unroll 16
                        for (int v = 0; v < CN_NV; v++) wv[o][v] = v_load(wc + o * r->w_ocb + v * VL);
#pragma GCC unroll 32
                    for (int p = 0; p < owb; p++) {
                        const V b = v_set1(xc[p * xow]);
#pragma GCC unroll 2
                        for (int o = 0; o < ocb; o++)
#pragma GCC unroll 16
                            for (int v = 0; v < CN_NV; v++) acc[p][o][v] = v_fmadd(b, wv[o][v], acc[p][o][v]);
                    }
                }
            }
        }
#pragma GCC unroll 32
    for (int p = 0; p < owb; p++)
#pragma GCC unroll 2
        for (int o = 0; o < ocb; o++)
#pragma GCC unroll 16
            for (int v = 0; v < CN_NV; v++) v_store(y + o * r->y_ocb + p * 16 + v * VL, acc[p][o][v]);
}

CN_INLINE void cn_dispatch(int owb, int ocb, const int64_t xow, const int64_t icn, const int64_t x_ic,
                           const ft_conv_nchwc_row *r, const float *x, const float *w, float *y, int64_t n_kw)
{
    switch (owb * 4 + ocb) {
#define CN_CASE(O, B)                                                                                                 \
    case O * 4 + B: cn_tile(O, B, xow, icn, x_ic, r, x, w, y, n_kw); return;
        CN_TILES(CN_CASE)
#undef CN_CASE
    default: return;
    }
}

static void cn_tiles_s1(int owb, int ocb, const ft_conv_nchwc_row *r, const float *x, const float *w, float *y)
{
    cn_dispatch(owb, ocb, 16, 16, 1, r, x, w, y, r->kw);
}

static void cn_tiles_s2(int owb, int ocb, const ft_conv_nchwc_row *r, const float *x, const float *w, float *y)
{
    cn_dispatch(owb, ocb, 32, 16, 1, r, x, w, y, r->kw);
}

static void cn_tiles_any(int owb, int ocb, const ft_conv_nchwc_row *r, const float *x, const float *w, float *y,
                         int64_t n_kw)
{
    cn_dispatch(owb, ocb, r->sw * r->x_col, r->icn, r->x_ic, r, x, w, y, n_kw);
}

/* Output column ox when some of its taps fall into the padding: only the taps inside the input. */
static void cn_edge(const ft_conv_nchwc_row *r, int ocb, int64_t ox)
{
    int64_t x0 = ox * r->sw - r->pw;
    int64_t jlo = x0 >= 0 ? 0 : (-x0 + r->dw - 1) / r->dw;
    int64_t jhi = x0 < r->iw ? (r->iw - 1 - x0) / r->dw + 1 : 0;
    if (jhi > r->kw) jhi = r->kw;
    if (jhi < jlo) jhi = jlo;
    const float *x = jhi > jlo ? r->x + (x0 + jlo * r->dw) * r->x_col : r->x;
    cn_tiles_any(1, ocb, r, x, r->w + jlo * r->icn * 16, r->y + ox * 16, jhi - jlo);
}

static void cn_row(const ft_conv_nchwc_row *r, int owb, int ocb)
{
    /* columns [lo, hi) have every tap inside the input */
    int64_t lo = 0, hi = 0, span = r->iw - (r->kw - 1) * r->dw;
    if (span > 0) ft_conv_valid_range(-r->pw, r->sw, span, r->ow, &lo, &hi);
    const int fast = r->x_col == 16 && r->icn == 16 && r->x_ic == 1 && (r->sw == 1 || r->sw == 2);
    const int *tails = ocb == 2 ? cn_tails2 : cn_tails1;
    int64_t ox;
    for (ox = 0; ox < lo; ox++) cn_edge(r, ocb, ox);
    for (int t = -1; ox < hi; t++) {
        int n = t < 0 ? owb : tails[t];
        for (; ox + n <= hi; ox += n) {
            const float *x = r->x + (ox * r->sw - r->pw) * r->x_col;
            float *y = r->y + ox * 16;
            if (!fast) cn_tiles_any(n, ocb, r, x, r->w, y, r->kw);
            else if (r->sw == 1) cn_tiles_s1(n, ocb, r, x, r->w, y);
            else cn_tiles_s2(n, ocb, r, x, r->w, y);
        }
    }
    for (; ox < r->ow; ox++) cn_edge(r, ocb, ox);
}

const ft_conv_nchwc_kernels CN_TABLE = {cn_row, cn_offered, (int)(sizeof cn_offered / sizeof cn_offered[0])};
