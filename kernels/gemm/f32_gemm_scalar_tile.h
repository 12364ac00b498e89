/* f32_gemm_scalar_tile.h - one portable C microkernel of FT_TILE_MR rows x FT_TILE_NR columns.
 *
 * Included once per tile by f32_gemm_scalar.c with FT_TILE_MR and FT_TILE_NR defined as integer
 * literals; it defines static f32_gemm_<MR>x<NR>_scalar (see gemm_ukernel.h). Constant bounds let
 * the compiler unroll and vectorise the column loop for whatever baseline the build targets.
 */
#define FT_TILE_FN_(mr, nr) f32_gemm_##mr##x##nr##_scalar
#define FT_TILE_FN(mr, nr) FT_TILE_FN_(mr, nr)

static void FT_TILE_FN(FT_TILE_MR, FT_TILE_NR)(int64_t kc, const float *a, int64_t lda,
                                               const float *b, int64_t ldb, float *c,
                                               int64_t ldc, float alpha, float beta)
{
    float acc[FT_TILE_MR][FT_TILE_NR] = {{0.0f}};
    for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < FT_TILE_MR; i++) {
            float ai = a[i * lda + k];
            for (int j = 0; j < FT_TILE_NR; j++)
                acc[i][j] += ai * b[j];
        }
        b += ldb;
    }
    for (int i = 0; i < FT_TILE_MR; i++) {
        float *row = c + i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < FT_TILE_NR; j++)
                row[j] = alpha * acc[i][j];
        else
            for (int j = 0; j < FT_TILE_NR; j++)
                row[j] = alpha * acc[i][j] + beta * row[j];
    }
}

#undef FT_TILE_FN_
#undef FT_TILE_FN
#undef FT_TILE_MR
#undef FT_TILE_NR
