/* x32_transpose_panel.h - the panel path of the 2-D transposes of 4-byte elements, shared by the
 * AVX-512 and AVX2 kernels (x32_transpose_*.c), which pass their register blocks and row copy.
 *
 * At strides that alias in L1 (16 consecutive rows in at most 4 of its 64 sets, as at every
 * multiple of 1 KiB) a register block loads 16 lines, or stores 16 lines, that evict one another,
 * and cache tiles run at a third of memcpy. A panel of X32_PANEL_ROWS source rows by `width`
 * columns is transposed instead into an L1 buffer whose rows are padded out of step, walking the
 * source row after row (consecutive blocks load lines of different sets); the buffer's rows are
 * then copied out as whole destination runs of 512 bytes, which spread the stores over eight sets
 * (runs of 256 bytes measured no better than the tiles). Panels follow one another along the
 * source's rows.
 * With streaming stores the next panel's source lines are prefetched into L2 meanwhile: streaming
 * is for tensors beyond the caches, whose lines are otherwise fetched by the blocks' own loads. */
#ifndef FT_X32_TRANSPOSE_PANEL_H
#define FT_X32_TRANSPOSE_PANEL_H

#include <immintrin.h>
#include <stdint.h>

#define X32_PANEL_ROWS 128
#define X32_PANEL_LD (X32_PANEL_ROWS + 16) /* buffer row stride: nine lines, so rows are out of step */
#define X32_PANEL_MAX_COLS 64

/* d[j * ldd + i] = s[i * lds + j] for i < nr, j < nc (at most the register block's edge). */
typedef void (*x32_block_fn)(const float *s, int64_t lds, float *d, int64_t ldd, int nr, int nc);
/* n elements from the 64-byte aligned buffer row b to d; stream: d is aligned as the ISA's
 * non-temporal stores need. */
typedef void (*x32_run_fn)(const float *b, float *d, int n, int stream);

/* Whether 16 consecutive rows ld elements apart fall into at most 4 of the 64 sets of a 4 KiB L1
 * way (every x86 L1D since Sandy Bridge and Zen). */
static inline int x32_ld_aliases(int64_t ld)
{
    uint64_t seen = 0;
    int sets = 0;
    for (int64_t k = 0; k < 16; k++) {
        uint64_t bit = 1ull << (((uint64_t)(k * ld) * 4u >> 6) & 63u);
        sets += (seen & bit) == 0;
        if (sets > 4) return 0; /* most strides tell after five rows: small transposes call this often */
        seen |= bit;
    }
    return 1;
}

/* Whether the panel path serves this transpose: an aliasing stride on either side, and rows enough
 * for the destination runs to pay for the buffer. */
static inline int x32_use_panels(int64_t lds, int64_t rows, int64_t cols, int64_t ldd)
{
    return rows >= 64 && cols >= 16 && (x32_ld_aliases(lds) || x32_ld_aliases(ldd));
}

/* One panel of nr x nc (at most X32_PANEL_ROWS x X32_PANEL_MAX_COLS) in register blocks of m,
 * then its runs; next (or NULL) is the following panel, nnr x nnc, whose lines are prefetched
 * while the runs are written. Inlined with constant sizes for whole panels. */
static inline void x32_panel(const float *s, int64_t lds, float *d, int64_t ldd, int nr, int nc, float *buf, int m,
                             x32_block_fn blk, x32_run_fn run, int stream, const float *next, int nnr, int nnc)
{
    for (int r = 0; r < nr; r += m)
        for (int c = 0; c < nc; c += m)
            blk(s + r * lds + c, lds, buf + c * X32_PANEL_LD + r, X32_PANEL_LD, nr - r < m ? nr - r : m,
                nc - c < m ? nc - c : m);
    int per = (nnr + nc - 1) / nc; /* next panel's rows per run written */
    for (int i = 0; i < nc; i++) {
        run(buf + i * X32_PANEL_LD, d + i * ldd, nr, stream);
        if (next)
            for (int k = i * per; k < (i + 1) * per && k < nnr; k++)
                for (int c = 0; c < nnc; c += 16) _mm_prefetch((const char *)(next + k * lds + c), _MM_HINT_T1);
    }
}

/* The whole transpose in panels of X32_PANEL_ROWS x width (16 <= width <= X32_PANEL_MAX_COLS).
 * stream only where the caller checked the destination's alignment. */
static inline void x32_transpose_panels(const float *s, int64_t lds, int64_t rows, int64_t cols, float *d,
                                        int64_t ldd, int width, int stream, int m, x32_block_fn blk, x32_run_fn run)
{
    _Alignas(64) float buf[X32_PANEL_MAX_COLS * X32_PANEL_LD];
    for (int64_t r0 = 0; r0 < rows; r0 += X32_PANEL_ROWS) {
        int nr = rows - r0 < X32_PANEL_ROWS ? (int)(rows - r0) : X32_PANEL_ROWS;
        for (int64_t c0 = 0; c0 < cols; c0 += width) {
            int nc = cols - c0 < width ? (int)(cols - c0) : width;
            int64_t pr = r0, pc = c0 + width;
            if (pc >= cols) {
                pc = 0;
                pr += X32_PANEL_ROWS;
            }
            const float *next = stream && pr < rows ? s + pr * lds + pc : NULL;
            int nnr = rows - pr < X32_PANEL_ROWS ? (int)(rows - pr) : X32_PANEL_ROWS;
            int nnc = cols - pc < width ? (int)(cols - pc) : width;
            const float *sp = s + r0 * lds + c0;
            float *dp = d + c0 * ldd + r0;
            if (nr == X32_PANEL_ROWS && nc == 64)
                x32_panel(sp, lds, dp, ldd, X32_PANEL_ROWS, 64, buf, m, blk, run, stream, next, nnr, nnc);
            else if (nr == X32_PANEL_ROWS && nc == 32)
                x32_panel(sp, lds, dp, ldd, X32_PANEL_ROWS, 32, buf, m, blk, run, stream, next, nnr, nnc);
            else
                x32_panel(sp, lds, dp, ldd, nr, nc, buf, m, blk, run, stream, next, nnr, nnc);
        }
    }
    if (stream) _mm_sfence();
}

#endif
