/* conv_nchwc.h - the row kernels of the blocked direct Conv (conv_nchwc.c), one table per instruction
 * set (conv_nchwc_scalar.c, conv_nchwc_avx2.c, conv_nchwc_avx512.c).
 *
 * Output channels come in blocks of FT_CONV_BLOCK (16). A register tile is `owb` output pixels of one
 * row times `ocb` (1 or 2) output blocks, accumulated over every input channel and every tap that
 * falls inside the input, then stored once: the output is never read. Weights are packed as
 * [M/16][n_icb][kh][kw][icn][16]: for each output block, the 16 output channels of one (input
 * channel, tap) are one contiguous run, so one input float broadcast against it feeds 16 outputs.
 * The input is either NCHW16c (icn = 16 channels per block, 16 floats per pixel) or NCHW (one block of
 * all C channels, 1 float per pixel), told apart by the strides below.
 */
#ifndef FT_CONV_NCHWC_H
#define FT_CONV_NCHWC_H

#include <stdint.h>

/* Indices into ft_candidate.params of a conv.direct_nchwc candidate. */
enum {
    FT_NC_ISA = 0,   /* ft_fast_isa */
    FT_NC_OWB,       /* the register tile: output pixels ... */
    FT_NC_OCB,       /* ... times output blocks (1 or 2) */
    FT_NC_NCHW_IN,   /* 1: the input is NCHW, 0: NCHW16c */
    FT_NC_PAD_COPY   /* 1: the image is copied into a zero-bordered one first */
};

/* One output row of one or two output blocks. Strides are in floats. */
typedef struct ft_conv_nchwc_row {
    const float *x;    /* the image at channel block 0, channel 0, in the first valid tap row, column 0 */
    const float *w;    /* the first output block's packed weights at channel block 0, first valid tap row */
    const float *bias; /* 16 floats per output block of the row, or NULL for zero */
    float *y;          /* the first output block at this row, column 0 */
    int64_t n_icb, icn;                 /* input channel blocks and channels per block */
    int64_t n_kh, kw;                   /* tap rows inside the input, tap columns */
    int64_t iw, ow, sw, dw, pw;         /* input and output width, stride, dilation, padding before */
    int64_t x_icb, x_ic, x_kh, x_col;   /* input: channel block, channel, tap row, column */
    int64_t w_icb, w_kh, w_ocb;         /* packed weights: channel block, tap row, output block */
    int64_t y_ocb;                      /* output: output block */
} ft_conv_nchwc_row;

typedef struct ft_conv_nchwc_tile {
    int owb, ocb;
} ft_conv_nchwc_tile;

typedef struct ft_conv_nchwc_kernels {
    /* Computes row r for ocb output blocks with main tiles of owb pixels (smaller tiles take the
     * rest, single pixels the columns whose taps leave the input). (owb, ocb) is one of `tiles` or
     * has ocb 1 and the owb of one of them. */
    void (*row)(const ft_conv_nchwc_row *r, int owb, int ocb);
    const ft_conv_nchwc_tile *tiles; /* the register tiles worth measuring, the default first */
    int n_tiles;
} ft_conv_nchwc_kernels;

extern const ft_conv_nchwc_kernels ft_conv_nchwc_scalar;
#if defined(__x86_64__)
extern const ft_conv_nchwc_kernels ft_conv_nchwc_avx2;
extern const ft_conv_nchwc_kernels ft_conv_nchwc_avx512;
#endif

/* The table of an ft_fast_isa, or NULL when this build has none for it. */
const ft_conv_nchwc_kernels *ft_conv_nchwc_kernels_for(int isa);

#endif
