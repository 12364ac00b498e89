/* f32_gemm_avx512.c - the AVX-512 f32 GEMM microkernels and their table (built with -mavx512f). */
#include <immintrin.h>
#include <stddef.h>

#include "gemm_ukernel.h"

#define FT_TILE_MR 8
#define FT_TILE_NR 48
#include "f32_gemm_avx512_tile.h"
#define FT_TILE_MR 8
#define FT_TILE_NR 32
#include "f32_gemm_avx512_tile.h"
#define FT_TILE_MR 4
#define FT_TILE_NR 64
#include "f32_gemm_avx512_tile.h"
#define FT_TILE_MR 6
#define FT_TILE_NR 32
#include "f32_gemm_avx512_tile.h"
#define FT_TILE_MR 12
#define FT_TILE_NR 32
#include "f32_gemm_avx512_tile.h"
#define FT_TILE_MR 14
#define FT_TILE_NR 32
#include "f32_gemm_avx512_tile.h"
#define FT_TILE_MR 16
#define FT_TILE_NR 16
#include "f32_gemm_avx512_tile.h"

#define FT_TILE_ENTRY(mr, nr) {{"f32_gemm_" #mr "x" #nr "_avx512", FT_GEMM_ISA_AVX512, mr, nr}, f32_gemm_##mr##x##nr##_avx512}

const ft_gemm_ukernel ft_f32_gemm_ukernels_avx512[] = {
    FT_TILE_ENTRY(8, 48),
    FT_TILE_ENTRY(8, 32),
    FT_TILE_ENTRY(4, 64),
    FT_TILE_ENTRY(6, 32),
    FT_TILE_ENTRY(12, 32),
    FT_TILE_ENTRY(14, 32),
    FT_TILE_ENTRY(16, 16),
    {{NULL, 0, 0, 0}, NULL},
};
