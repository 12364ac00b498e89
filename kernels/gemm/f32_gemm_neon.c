/* f32_gemm_neon.c - the AArch64 NEON f32 GEMM microkernels and their table (aarch64 builds only). */
#include <arm_neon.h>
#include <stddef.h>

#include "gemm_ukernel.h"

#define FT_TILE_MR 8
#define FT_TILE_NR 12
#include "f32_gemm_neon_tile.h"
#define FT_TILE_MR 4
#define FT_TILE_NR 16
#include "f32_gemm_neon_tile.h"
#define FT_TILE_MR 6
#define FT_TILE_NR 12
#include "f32_gemm_neon_tile.h"
#define FT_TILE_MR 8
#define FT_TILE_NR 8
#include "f32_gemm_neon_tile.h"
#define FT_TILE_MR 4
#define FT_TILE_NR 8
#include "f32_gemm_neon_tile.h"

#define FT_TILE_ENTRY(mr, nr) {{"f32_gemm_" #mr "x" #nr "_neon", FT_GEMM_ISA_NEON, mr, nr}, f32_gemm_##mr##x##nr##_neon}

const ft_gemm_ukernel ft_f32_gemm_ukernels_neon[] = {
    FT_TILE_ENTRY(8, 12),
    FT_TILE_ENTRY(4, 16),
    FT_TILE_ENTRY(6, 12),
    FT_TILE_ENTRY(8, 8),
    FT_TILE_ENTRY(4, 8),
    {{NULL, 0, 0, 0}, NULL},
};
