/* f32_transpose_avx2.c - out-of-place f32 transpose for the GEMM packing: 8x8 register blocks of
 * x32_transpose_block.h; the edges go through the portable transpose. */
#include "gemm_ukernel.h"

#include "fast/x32_transpose_block.h"

void ft_f32_transpose_avx2(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                           int64_t ldd)
{
    int64_t i = 0;
    for (; i + 8 <= rows; i += 8) {
        int64_t j = 0;
        for (; j + 8 <= cols; j += 8)
            x32_block8(src + i * lds + j, lds, dst + j * ldd + i, ldd, 0);
        if (j < cols)
            ft_f32_transpose_scalar(src + i * lds + j, lds, 8, cols - j, dst + j * ldd + i, ldd);
    }
    if (i < rows)
        ft_f32_transpose_scalar(src + i * lds, lds, rows - i, cols, dst + i, ldd);
}
