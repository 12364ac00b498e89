/* f32_gemm_neon_tile.h - one AArch64 NEON microkernel of FT_TILE_MR rows x FT_TILE_NR columns.
 *
 * Included once per tile by f32_gemm_neon.c with FT_TILE_MR and FT_TILE_NR (a multiple of 4)
 * defined as integer literals; it defines static f32_gemm_<MR>x<NR>_neon (see gemm_ukernel.h).
 * AArch64 has 32 vector registers. When the accumulators, one 4-deep slice of A per row and one
 * row of B all fit in them, A is loaded 4 k at a time and each FMA takes its A value from a lane
 * (vfmaq_laneq_f32), as XNNPACK's "ld128" kernels do; larger tiles would spill that way, so they
 * broadcast one A value per row and k (ld1r) instead: 8x12 then holds 24 accumulators + 3 B + 1 A.
 */
#define FT_TILE_NV (FT_TILE_NR / 4)
#define FT_TILE_FN_(mr, nr) f32_gemm_##mr##x##nr##_neon
#define FT_TILE_FN(mr, nr) FT_TILE_FN_(mr, nr)

static void FT_TILE_FN(FT_TILE_MR, FT_TILE_NR)(int64_t kc, const float *a, int64_t lda,
                                               const float *b, int64_t ldb, float *c,
                                               int64_t ldc, float alpha, float beta)
{
    float32x4_t acc[FT_TILE_MR][FT_TILE_NV];
    for (int i = 0; i < FT_TILE_MR; i++)
        for (int v = 0; v < FT_TILE_NV; v++)
            acc[i][v] = vdupq_n_f32(0.0f);
    int64_t k = 0;
#if FT_TILE_MR * FT_TILE_NV + FT_TILE_MR + FT_TILE_NV <= 32
    for (; k + 4 <= kc; k += 4) {
        float32x4_t av[FT_TILE_MR];
        for (int i = 0; i < FT_TILE_MR; i++)
            av[i] = vld1q_f32(a + i * lda + k);
        /* vfmaq_laneq_f32 needs a constant lane: one copy of the step per lane. */
#define FT_TILE_STEP(lane)                                                                         \
    do {                                                                                           \
        float32x4_t bv[FT_TILE_NV];                                                                \
        for (int v = 0; v < FT_TILE_NV; v++)                                                       \
            bv[v] = vld1q_f32(b + 4 * v);                                                          \
        for (int i = 0; i < FT_TILE_MR; i++)                                                       \
            for (int v = 0; v < FT_TILE_NV; v++)                                                   \
                acc[i][v] = vfmaq_laneq_f32(acc[i][v], bv[v], av[i], lane);                        \
        b += ldb;                                                                                  \
    } while (0)
        FT_TILE_STEP(0);
        FT_TILE_STEP(1);
        FT_TILE_STEP(2);
        FT_TILE_STEP(3);
#undef FT_TILE_STEP
    }
#endif
    for (; k < kc; k++) {
        float32x4_t bv[FT_TILE_NV];
        for (int v = 0; v < FT_TILE_NV; v++)
            bv[v] = vld1q_f32(b + 4 * v);
        for (int i = 0; i < FT_TILE_MR; i++) {
            float32x4_t ai = vld1q_dup_f32(a + i * lda + k);
            for (int v = 0; v < FT_TILE_NV; v++)
                acc[i][v] = vfmaq_f32(acc[i][v], bv[v], ai);
        }
        b += ldb;
    }
    if (beta == 0.0f) {
        for (int i = 0; i < FT_TILE_MR; i++)
            for (int v = 0; v < FT_TILE_NV; v++)
                vst1q_f32(c + i * ldc + 4 * v, vmulq_n_f32(acc[i][v], alpha));
    } else {
        float32x4_t vb = vdupq_n_f32(beta);
        for (int i = 0; i < FT_TILE_MR; i++)
            for (int v = 0; v < FT_TILE_NV; v++) {
                float *p = c + i * ldc + 4 * v;
                vst1q_f32(p, vfmaq_n_f32(vmulq_f32(vb, vld1q_f32(p)), acc[i][v], alpha));
            }
    }
}

#undef FT_TILE_NV
#undef FT_TILE_FN_
#undef FT_TILE_FN
#undef FT_TILE_MR
#undef FT_TILE_NR
