/* f32_gemm_avx512_tile.h - one AVX-512 microkernel of FT_TILE_MR rows x FT_TILE_NR columns.
 *
 * Included once per tile by f32_gemm_avx512.c with FT_TILE_MR and FT_TILE_NR (a multiple of 16)
 * defined as integer literals; it defines static f32_gemm_<MR>x<NR>_avx512 (see gemm_ukernel.h).
 * The accumulators are fixed-size arrays indexed by compile-time constants so the compiler keeps
 * them in zmm registers: 14x32 uses 28 accumulators + 2 B vectors + 1 broadcast of the 32.
 */
#define FT_TILE_NV (FT_TILE_NR / 16)
#define FT_TILE_FN_(mr, nr) f32_gemm_##mr##x##nr##_avx512
#define FT_TILE_FN(mr, nr) FT_TILE_FN_(mr, nr)

static void FT_TILE_FN(FT_TILE_MR, FT_TILE_NR)(int64_t kc, const float *a, int64_t lda,
                                               const float *b, int64_t ldb, float *c,
                                               int64_t ldc, float alpha, float beta)
{
    __m512 acc[FT_TILE_MR][FT_TILE_NV];
    for (int i = 0; i < FT_TILE_MR; i++)
        for (int v = 0; v < FT_TILE_NV; v++)
            acc[i][v] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; k++) {
        __m512 bv[FT_TILE_NV];
        for (int v = 0; v < FT_TILE_NV; v++)
            bv[v] = _mm512_loadu_ps(b + 16 * v);
        for (int i = 0; i < FT_TILE_MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i * lda + k]);
            for (int v = 0; v < FT_TILE_NV; v++)
                acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        b += ldb;
    }
    __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.0f) {
        for (int i = 0; i < FT_TILE_MR; i++)
            for (int v = 0; v < FT_TILE_NV; v++)
                _mm512_storeu_ps(c + i * ldc + 16 * v, _mm512_mul_ps(va, acc[i][v]));
    } else {
        __m512 vb = _mm512_set1_ps(beta);
        for (int i = 0; i < FT_TILE_MR; i++)
            for (int v = 0; v < FT_TILE_NV; v++) {
                float *p = c + i * ldc + 16 * v;
                _mm512_storeu_ps(p, _mm512_fmadd_ps(va, acc[i][v], _mm512_mul_ps(vb, _mm512_loadu_ps(p))));
            }
    }
}

#undef FT_TILE_NV
#undef FT_TILE_FN_
#undef FT_TILE_FN
#undef FT_TILE_MR
#undef FT_TILE_NR
