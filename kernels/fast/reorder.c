/* reorder.c - layout conversion: merge axes, then copy rows or run tiled 2-D transposes. */
#include "reorder.h"

#include <string.h>

#include "isa.h"
#include "x32_transpose.h"

/* The conversion in the destination's physical order, size-1 axes dropped and adjacent axes merged
 * where they are adjacent in the source too. The destination is contiguous in this order. */
typedef struct reorder_plan {
    int rank;
    int64_t dims[FT_MAX_RANK];
    int64_t sst[FT_MAX_RANK]; /* source strides, elements */
    int64_t dst[FT_MAX_RANK]; /* destination strides, elements */
    int tdim;                 /* -1: rows copy; else the axis read contiguously (the transpose's cols) */
} reorder_plan;

static int plan_make_plain(reorder_plan *p, const ft_layout *sl, const ft_layout *dl, const ft_shape *s);

/* A blocked layout on either side: both seen as permutations of the shape with the blocked axis
 * split in two (registry.h), where the reorder is an ordinary one. Two different blockings are not
 * served (nothing enumerates them). */
static int plan_make(reorder_plan *p, const ft_layout *sl, const ft_layout *dl, const ft_shape *s)
{
    if (s->rank < 0 || s->rank > FT_MAX_RANK || !ft_layout_fits(sl, s) || !ft_layout_fits(dl, s)) return -1;
    if (!ft_layout_blocked(sl) && !ft_layout_blocked(dl)) return plan_make_plain(p, sl, dl, s);
    const ft_layout *b = ft_layout_blocked(sl) ? sl : dl;
    if (ft_layout_blocked(sl) && ft_layout_blocked(dl) && (sl->block != dl->block || sl->block_axis != dl->block_axis))
        return -1;
    ft_layout sl2, dl2;
    ft_shape s2, t2;
    if (ft_layout_split(sl, s, b->block_axis, b->block, &sl2, &s2) != 0 ||
        ft_layout_split(dl, s, b->block_axis, b->block, &dl2, &t2) != 0)
        return -1;
    return plan_make_plain(p, &sl2, &dl2, &s2);
}

static int plan_make_plain(reorder_plan *p, const ft_layout *sl, const ft_layout *dl, const ft_shape *s)
{
    int64_t ss[FT_MAX_RANK];
    ft_layout_strides(sl, s, ss);
    p->rank = 0;
    for (int q = 0; q < s->rank; q++) {
        int ax = dl->perm[q];
        int64_t d = s->dims[ax];
        if (d == 1) continue;
        if (p->rank > 0 && p->sst[p->rank - 1] == ss[ax] * d) {
            p->dims[p->rank - 1] *= d;
            p->sst[p->rank - 1] = ss[ax];
        } else {
            p->dims[p->rank] = d;
            p->sst[p->rank] = ss[ax];
            p->rank++;
        }
    }
    if (p->rank == 0) {
        p->rank = 1;
        p->dims[0] = 1;
        p->sst[0] = 1;
    }
    int64_t st = 1;
    for (int q = p->rank - 1; q >= 0; q--) {
        p->dst[q] = st;
        st *= p->dims[q];
    }
    p->tdim = -1;
    if (p->sst[p->rank - 1] != 1)
        for (int q = 0; q < p->rank - 1; q++)
            if (p->sst[q] == 1) p->tdim = q;
    return 0;
}

int ft_reorder_describe(const ft_layout *src_layout, const ft_layout *dst_layout, const ft_shape *logical,
                        int64_t *rows, int64_t *cols)
{
    reorder_plan p;
    if (plan_make(&p, src_layout, dst_layout, logical) != 0) return -1;
    if (p.tdim < 0) return 0;
    *rows = p.dims[p.rank - 1];
    *cols = p.dims[p.tdim];
    return 1;
}

/* Portable tiled transposes for each element size. */
#define SCALAR_TRANSPOSE(T)                                                                         \
    static void transpose_##T(const void *src, int64_t lds, int64_t rows, int64_t cols, void *dst,  \
                              int64_t ldd, int tile, int stream)                                    \
    {                                                                                               \
        const T *s = src;                                                                           \
        T *d = dst;                                                                                 \
        for (int64_t r0 = 0; r0 < rows; r0 += tile)                                                 \
            for (int64_t c0 = 0; c0 < cols; c0 += tile) {                                           \
                int64_t r1 = r0 + tile < rows ? r0 + tile : rows, c1 = c0 + tile < cols ? c0 + tile : cols; \
                for (int64_t c = c0; c < c1; c++)                                                   \
                    for (int64_t r = r0; r < r1; r++) d[c * ldd + r] = s[r * lds + c];              \
            }                                                                                       \
    }
SCALAR_TRANSPOSE(uint8_t)
SCALAR_TRANSPOSE(uint16_t)
SCALAR_TRANSPOSE(uint32_t)
SCALAR_TRANSPOSE(uint64_t)

typedef void (*transpose_fn)(const void *src, int64_t lds, int64_t rows, int64_t cols, void *dst, int64_t ldd,
                             int tile, int stream);

static transpose_fn pick_transpose(size_t esz, int isa)
{
#if defined(__x86_64__)
    if (esz == 4 && isa == FT_FAST_AVX512) return ft_x32_transpose_avx512;
    if (esz == 4 && isa == FT_FAST_AVX2) return ft_x32_transpose_avx2;
#endif
    switch (esz) {
    case 1: return transpose_uint8_t;
    case 2: return transpose_uint16_t;
    case 4: return transpose_uint32_t;
    case 8: return transpose_uint64_t;
    default: return NULL;
    }
}

ft_reorder_knobs ft_reorder_default_knobs(void)
{
    ft_reorder_knobs k = {ft_fast_isa_best(), FT_REORDER_DEFAULT_TILE, 0};
    return k;
}

int ft_reorder_tiled(const void *src, const ft_layout *src_layout, void *dst, const ft_layout *dst_layout,
                     const ft_shape *logical, size_t elem_size, const ft_reorder_knobs *knobs)
{
    reorder_plan p;
    int tile = knobs->tile;
    if (plan_make(&p, src_layout, dst_layout, logical) != 0) return FT_ERR_INPUT;
    if (!ft_fast_isa_supported(knobs->isa) || (tile != 8 && tile != 16 && tile != 32 && tile != 64))
        return FT_ERR_UNSUPPORTED;
    if (ft_shape_numel(logical) <= 0 || elem_size == 0) return FT_OK;
    const char *s = src;
    char *d = dst;
    int last = p.rank - 1;
    int64_t idx[FT_MAX_RANK] = {0}, so = 0, dof = 0;
    if (p.tdim < 0) { /* rows copy: the innermost merged axis is contiguous on both sides */
        size_t row = (size_t)p.dims[last] * elem_size;
        int64_t rows = 1;
        for (int q = 0; q < last; q++) rows *= p.dims[q];
        for (int64_t r = 0; r < rows; r++) {
            memcpy(d + (size_t)dof * elem_size, s + (size_t)so * elem_size, row);
            for (int q = last - 1; q >= 0; q--) {
                so += p.sst[q];
                dof += p.dst[q];
                if (++idx[q] < p.dims[q]) break;
                so -= p.sst[q] * p.dims[q];
                dof -= p.dst[q] * p.dims[q];
                idx[q] = 0;
            }
        }
        return FT_OK;
    }
    /* a batch of 2-D transposes: rows along the destination's innermost axis, cols along tdim */
    transpose_fn fn = pick_transpose(elem_size, knobs->isa);
    int64_t rows = p.dims[last], cols = p.dims[p.tdim], lds = p.sst[last], ldd = p.dst[p.tdim], batch = 1;
    for (int q = 0; q < last; q++)
        if (q != p.tdim) batch *= p.dims[q];
    for (int64_t b = 0; b < batch; b++) {
        if (fn) {
            fn(s + (size_t)so * elem_size, lds, rows, cols, d + (size_t)dof * elem_size, ldd, tile, knobs->stream);
        } else {
            for (int64_t c = 0; c < cols; c++)
                for (int64_t r = 0; r < rows; r++)
                    memcpy(d + (size_t)(dof + c * ldd + r) * elem_size, s + (size_t)(so + r * lds + c) * elem_size,
                           elem_size);
        }
        for (int q = last - 1; q >= 0; q--) {
            if (q == p.tdim) continue;
            so += p.sst[q];
            dof += p.dst[q];
            if (++idx[q] < p.dims[q]) break;
            so -= p.sst[q] * p.dims[q];
            dof -= p.dst[q] * p.dims[q];
            idx[q] = 0;
        }
    }
    return FT_OK;
}

int ft_reorder(const void *src, const ft_layout *src_layout, void *dst, const ft_layout *dst_layout,
               const ft_shape *logical, size_t elem_size)
{
    ft_reorder_knobs k = ft_reorder_default_knobs();
    return ft_reorder_tiled(src, src_layout, dst, dst_layout, logical, elem_size, &k);
}
