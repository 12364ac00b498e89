/* f32_gemm_scalar.c - the portable C f32 GEMM microkernels and their table (any CPU). */
#include <stddef.h>

#include "gemm_ukernel.h"

#define FT_TILE_MR 4
#define FT_TILE_NR 8
#include "f32_gemm_scalar_tile.h"
#define FT_TILE_MR 4
#define FT_TILE_NR 4
#include "f32_gemm_scalar_tile.h"
#define FT_TILE_MR 8
#define FT_TILE_NR 8
#include "f32_gemm_scalar_tile.h"

#define FT_TILE_ENTRY(mr, nr) {{"f32_gemm_" #mr "x" #nr "_scalar", FT_GEMM_ISA_SCALAR, mr, nr}, f32_gemm_##mr##x##nr##_scalar}

const ft_gemm_ukernel ft_f32_gemm_ukernels_scalar[] = {
    FT_TILE_ENTRY(4, 8),
    FT_TILE_ENTRY(4, 4),
    FT_TILE_ENTRY(8, 8),
    {{NULL, 0, 0, 0}, NULL},
};
