/* f32_gemm_avx2.c - the AVX2+FMA f32 GEMM microkernels and their table (built with -mavx2 -mfma). */
#include <immintrin.h>
#include <stddef.h>

#include "gemm_ukernel.h"

#define FT_TILE_MR 6
#define FT_TILE_NR 16
#include "f32_gemm_avx2_tile.h"
#define FT_TILE_MR 4
#define FT_TILE_NR 24
#include "f32_gemm_avx2_tile.h"
#define FT_TILE_MR 8
#define FT_TILE_NR 8
#include "f32_gemm_avx2_tile.h"
#define FT_TILE_MR 3
#define FT_TILE_NR 32
#include "f32_gemm_avx2_tile.h"

#define FT_TILE_ENTRY(mr, nr) {{"f32_gemm_" #mr "x" #nr "_avx2", FT_GEMM_ISA_AVX2, mr, nr}, f32_gemm_##mr##x##nr##_avx2}

const ft_gemm_ukernel ft_f32_gemm_ukernels_avx2[] = {
    FT_TILE_ENTRY(6, 16),
    FT_TILE_ENTRY(4, 24),
    FT_TILE_ENTRY(8, 8),
    FT_TILE_ENTRY(3, 32),
    {{NULL, 0, 0, 0}, NULL},
};
