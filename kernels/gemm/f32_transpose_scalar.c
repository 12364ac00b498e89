/* f32_transpose_scalar.c - portable out-of-place f32 transpose in cache-friendly 8x8 blocks. */
#include "gemm_ukernel.h"

void ft_f32_transpose_scalar(const float *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                             int64_t ldd)
{
    for (int64_t i0 = 0; i0 < rows; i0 += 8) {
        int64_t i1 = i0 + 8 < rows ? i0 + 8 : rows;
        for (int64_t j0 = 0; j0 < cols; j0 += 8) {
            int64_t j1 = j0 + 8 < cols ? j0 + 8 : cols;
            for (int64_t j = j0; j < j1; j++)
                for (int64_t i = i0; i < i1; i++)
                    dst[j * ldd + i] = src[i * lds + j];
        }
    }
}
