/* reorder.h - converting a tensor's bytes from one layout to another (layouts: registry.h).
 *
 * This is the conversion kernel the layout solver pays for between nodes, the body of Transpose,
 * and what the sweep uses to feed candidates their inputs and to read their outputs back.
 * After dropping size-1 axes and merging axes that stay adjacent in both layouts, a reorder is
 * either a copy of contiguous rows or a batch of 2-D transposes (the source's innermost axis
 * against the destination's), done in cache tiles of register-blocked transposes, or at strides
 * that alias in L1 in panels staged through an L1 buffer (fast/x32_transpose.h).
 */
#ifndef FT_REORDER_H
#define FT_REORDER_H

#include <stddef.h>

#include "registry.h"

/* Writes into dst (stored in dst_layout) the tensor of logical shape `logical` that src stores in
 * src_layout, with the default knobs for this CPU. elem_size is 1, 2, 4 or 8 (other sizes go
 * element by element). src and dst must not overlap. Either layout may be blocked (both with the
 * same blocking when both are). Returns FT_OK, or FT_ERR_INPUT when a layout does not fit the
 * shape (ft_layout_fits) or the two are blocked differently. */
int ft_reorder(const void *src, const ft_layout *src_layout, void *dst, const ft_layout *dst_layout,
               const ft_shape *logical, size_t elem_size);

/* The knobs of a reorder. */
typedef struct ft_reorder_knobs {
    int isa;    /* ft_fast_isa (isa.h); vector code serves 4-byte elements, other sizes run portable tiles */
    int tile;   /* 8, 16, 32 or 64: the cache block of the 2-D transposes (the panel width, 16 at least,
                 * where the vector kernels go in panels) */
    int stream; /* 1: non-temporal stores in the vector transposes (tensors well beyond L2 only) */
} ft_reorder_knobs;

/* The default knobs for this CPU: the widest ISA, FT_REORDER_DEFAULT_TILE, no streaming. */
ft_reorder_knobs ft_reorder_default_knobs(void);

/* ft_reorder with explicit knobs. FT_ERR_UNSUPPORTED when the CPU lacks the ISA or the tile is not
 * one of those above. */
int ft_reorder_tiled(const void *src, const ft_layout *src_layout, void *dst, const ft_layout *dst_layout,
                     const ft_shape *logical, size_t elem_size, const ft_reorder_knobs *knobs);

/* What the reorder amounts to: 0 when it copies contiguous rows (tiles do not matter), else 1 and
 * the size of its 2-D transposes (rows of the source read strided, cols read contiguous); -1 for
 * bad layouts. */
int ft_reorder_describe(const ft_layout *src_layout, const ft_layout *dst_layout, const ft_shape *logical,
                        int64_t *rows, int64_t *cols);

#define FT_REORDER_DEFAULT_TILE 64
/* Streaming stores are worth trying from this many bytes on (twice a typical per-core L2). */
#define FT_REORDER_STREAM_MIN_BYTES ((size_t)2 << 20)

#endif
