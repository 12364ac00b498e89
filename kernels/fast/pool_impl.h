/* pool_impl.h - the MaxPool kernel written once in plain C, compiled per ISA by the files that include
 * it after defining FT_POOL_MAX_FN (the name of the exported kernel, declared in pool.h): pool.c
 * (portable) and pool_avx2.c. Also the window helpers pool.c shares.
 *
 * A max starts at -inf and takes a tap only when it is greater (`v > acc ? v : acc`, which the
 * compiler turns into a vector max instruction), so NaN taps are skipped, an all-padding or all-NaN
 * window gives -inf and the first of equal values (+0 or -0) wins, exactly as the reference.
 */
#ifndef FT_POOL_MAX_FN
#error "define FT_POOL_MAX_FN before including pool_impl.h"
#endif

#include <math.h>

#include "conv_geom.h"
#include "pool.h"
#include "registry.h"

/* Tap columns whose output ranges max_rows caches per call (wider windows recompute them). */
#define POOL_KW_MAX 16
/* Channels one pass of the NHWC loops carries. */
#define POOL_CHUNK 64

/* Taps t in [*lo, *hi) of a window starting at base keep base + t * dil inside [0, n) (the
 * reference's tap_range, with no division for a window inside the input). */
static inline void tap_range(int64_t base, int64_t dil, int64_t k, int64_t n, int64_t *lo, int64_t *hi)
{
    if (base >= 0 && base + (k - 1) * dil < n) {
        *lo = 0;
        *hi = k;
        return;
    }
    int64_t l = base >= 0 ? 0 : (-base + dil - 1) / dil;
    int64_t h = base >= n ? 0 : (n - base + dil - 1) / dil;
    if (h > k) h = k;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

static inline float max_first(float acc, float v)
{
    return v > acc ? v : acc;
}

/* The output columns [lo, hi) whose tap column j lies inside the input: the same for every row, and
 * two divisions each, so computed once per plane for up to POOL_KW_MAX tap columns. */
typedef struct col_ranges {
    int cached;
    int64_t lo[POOL_KW_MAX], hi[POOL_KW_MAX];
} col_ranges;

static void col_ranges_make(const ft_pool_geom *g, col_ranges *r)
{
    r->cached = g->kw <= POOL_KW_MAX;
    for (int64_t j = 0; r->cached && j < g->kw; j++)
        ft_conv_valid_range(j * g->dw - g->pw, g->sw, g->w, g->ow, &r->lo[j], &r->hi[j]);
}

static inline void col_range(const ft_pool_geom *g, const col_ranges *r, int64_t j, int64_t *lo, int64_t *hi)
{
    if (r->cached) {
        *lo = r->lo[j];
        *hi = r->hi[j];
    } else {
        ft_conv_valid_range(j * g->dw - g->pw, g->sw, g->w, g->ow, lo, hi);
    }
}

/* MaxPool of `nc` channels whose pixels lie `ps` floats apart (NCHW: 1 and 1; NHWC: C and C, or a
 * chunk of them; NCHW16c: 16 and 16), x and y at the first channel. Each output row starts at -inf
 * and takes, tap by tap, the max with the input row the tap reads, so every output sees its taps in
 * the reference's order; the row stays in L1 across the taps. The innermost loops run along
 * contiguous channels (or, for one channel, along the row), which the compiler vectorises; nc, ps
 * and the stride are constants in the hot calls. */
static inline void max_rows(const ft_pool_geom *g, const col_ranges *cr, const float *restrict x, float *restrict y,
                            const int64_t nc, const int64_t ps, const int64_t sw)
{
    for (int64_t oy = 0; oy < g->oh; oy++) {
        float *restrict row = y + oy * g->ow * ps;
        for (int64_t ox = 0; ox < g->ow; ox++)
            for (int64_t c = 0; c < nc; c++) row[ox * ps + c] = -INFINITY;
        const int64_t y0 = oy * g->sh - g->ph;
        int64_t ilo, ihi;
        tap_range(y0, g->dh, g->kh, g->h, &ilo, &ihi);
        for (int64_t i = ilo; i < ihi; i++) {
            const float *xr = x + (y0 + i * g->dh) * g->w * ps;
            for (int64_t j = 0; j < g->kw; j++) {
                const int64_t off = j * g->dw - g->pw;
                int64_t lo, hi;
                col_range(g, cr, j, &lo, &hi);
                for (int64_t ox = lo; ox < hi; ox++) {
                    const float *xp = xr + (ox * sw + off) * ps;
                    for (int64_t c = 0; c < nc; c++) row[ox * ps + c] = max_first(row[ox * ps + c], xp[c]);
                }
            }
        }
    }
}

void FT_POOL_MAX_FN(const ft_pool_geom *g, int layout, const float *x, float *y)
{
    const int64_t in_plane = g->h * g->w, out_plane = g->oh * g->ow;
    col_ranges cr;
    col_ranges_make(g, &cr);
    if (layout == FT_POOL_NCHW) {
        for (int64_t p = 0; p < g->n * g->c; p++) {
            const float *xp = x + p * in_plane;
            float *yp = y + p * out_plane;
            if (g->sw == 1) max_rows(g, &cr, xp, yp, 1, 1, 1);
            else if (g->sw == 2) max_rows(g, &cr, xp, yp, 1, 1, 2);
            else max_rows(g, &cr, xp, yp, 1, 1, g->sw);
        }
    } else if (layout == FT_POOL_NCHW16C) {
        for (int64_t b = 0; b < g->n * (g->c / FT_CONV_BLOCK); b++)
            max_rows(g, &cr, x + b * in_plane * FT_CONV_BLOCK, y + b * out_plane * FT_CONV_BLOCK, FT_CONV_BLOCK,
                     FT_CONV_BLOCK, g->sw);
    } else {
        for (int64_t n = 0; n < g->n; n++) {
            const float *xn = x + n * in_plane * g->c;
            float *yn = y + n * out_plane * g->c;
            int64_t c0 = 0;
            for (; c0 + POOL_CHUNK <= g->c; c0 += POOL_CHUNK)
                max_rows(g, &cr, xn + c0, yn + c0, POOL_CHUNK, g->c, g->sw);
            if (c0 < g->c) max_rows(g, &cr, xn + c0, yn + c0, g->c - c0, g->c, g->sw);
        }
    }
}
