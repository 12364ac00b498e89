/* f32_transpose_avx512.c - out-of-place f32 transpose for the GEMM packing: 16x16 register blocks
 * of x32_transpose_block.h, masked at the edges. */
#include "gemm_ukernel.h"

#include "fast/x32_transpose_block.h"

void ft_f32_transpose_avx512(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                             int64_t ldd)
{
    int64_t i = 0;
    for (; i + 16 <= rows; i += 16) {
        int64_t j = 0;
        for (; j + 16 <= cols; j += 16)
            x32_block16(src + i * lds + j, lds, dst + j * ldd + i, ldd, 0);
        if (j < cols)
            x32_block16_edge(src + i * lds + j, lds, dst + j * ldd + i, ldd, 16, (int)(cols - j));
    }
    for (int64_t j = 0; i < rows && j < cols; j += 16)
        x32_block16_edge(src + i * lds + j, lds, dst + j * ldd + i, ldd, (int)(rows - i),
                         cols - j < 16 ? (int)(cols - j) : 16);
}
