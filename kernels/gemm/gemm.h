/* gemm.h - packed, cache-blocked single-threaded f32 GEMM with run-time chosen microkernels.
 *
 * C = alpha * op(A) * op(B) + beta * C on row-major matrices, op(X) = X or X^T. The schedule
 * (register tile, cache blocks, loop order, ISA) is a parameter so the tuner can enumerate and
 * measure candidates; ft_gemm_default_params gives a good one without tuning. All matrices are
 * row-major; C must not overlap A or B. beta == 0 means C is written without being read (NaN in
 * C does not propagate), alpha == 0 means A and B are not read.
 */
#ifndef FT_GEMM_H
#define FT_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "ft_common.h"

typedef enum ft_gemm_isa {
    FT_GEMM_ISA_AUTO = 0,   /* the widest ISA this CPU runs */
    FT_GEMM_ISA_SCALAR = 1, /* portable C, any CPU */
    FT_GEMM_ISA_AVX2 = 2,   /* x86-64 AVX2 + FMA */
    FT_GEMM_ISA_AVX512 = 3, /* x86-64 AVX-512F + FMA */
    FT_GEMM_ISA_NEON = 4    /* AArch64 Advanced SIMD (NEON), with its fused multiply-add */
} ft_gemm_isa;

typedef enum ft_gemm_loop_order {
    FT_GEMM_LOOP_DEFAULT = 0, /* chosen from the problem's shape */
    /* BLIS: for each kc x nc block of B (packed once, lives in L2/L3), for each mc x kc block of A
     * (packed, lives in L2), sweep nr-wide then mr-high tiles. Best when M is large. */
    FT_GEMM_LOOP_BLIS = 1,
    /* For each mc x kc block of A (packed, lives in L2), pack one kc x nr panel of B at a time into
     * an L1-sized buffer and sweep the whole A block against it. No large B buffer, so best when
     * A fits in one or two blocks (transformer activations: M = sequence length). */
    FT_GEMM_LOOP_A_RESIDENT = 2
} ft_gemm_loop_order;

typedef enum ft_gemm_packing {
    FT_GEMM_PACKING_DEFAULT = 0,
    FT_GEMM_PACK = 1,    /* copy each block into contiguous panels before the microkernels run */
    /* Microkernels read the operand where it lies when it is not transposed (saves the copy; the
     * strides it brings can cost cache conflicts on large operands). Partial edge panels and
     * transposed operands are still copied. */
    FT_GEMM_IN_PLACE = 2
} ft_gemm_packing;

/* A schedule. Zero in any field means "the default for this problem" (see ft_gemm_default_params).
 * mc must be a multiple of mr and nc of nr; (isa, mr, nr) must name an enumerated microkernel. */
typedef struct ft_gemm_params {
    int mc, kc, nc; /* cache blocks: rows of A, depth, columns of B */
    int mr, nr;     /* register tile of the microkernel */
    int isa;        /* ft_gemm_isa */
    int loop_order; /* ft_gemm_loop_order */
    int pack_a, pack_b; /* ft_gemm_packing */
} ft_gemm_params;

typedef struct ft_gemm_ukernel_info {
    const char *name; /* XNNPACK style: "f32_gemm_8x32_avx512" */
    int isa;          /* ft_gemm_isa */
    int mr, nr;
} ft_gemm_ukernel_info;

/* 1 if this build contains kernels for isa and the CPU (and OS) can run them. */
int ft_gemm_isa_supported(int isa);
/* "auto", "scalar", "avx2", "avx512", "neon", or "?" for an unknown value. */
const char *ft_gemm_isa_name(int isa);

/* The microkernels this build contains that this CPU can run, widest ISA first. A tuner lists
 * candidates with: for (i = 0; i < ft_gemm_ukernel_count(); i++) ft_gemm_ukernel_at(i). */
int ft_gemm_ukernel_count(void);
/* NULL when i is out of range. */
const ft_gemm_ukernel_info *ft_gemm_ukernel_at(int i);

/* A complete schedule (every field non-zero, isa concrete) that is good on this CPU for M x N x K. */
ft_gemm_params ft_gemm_default_params(int64_t M, int64_t N, int64_t K);

/* Fills zero fields of *p (NULL = all zero) for M x N x K into *out and checks the result:
 * FT_ERR_INPUT for an inconsistent schedule, FT_ERR_UNSUPPORTED for an ISA this CPU lacks. */
int ft_gemm_params_resolve(const ft_gemm_params *p, int64_t M, int64_t N, int64_t K,
                           ft_gemm_params *out, ft_error *err);

/* Work on finished blocks of C, done by the driver while they are still in cache: the fused
 * epilogues of a MatMul (bias, residual, activation). apply is called once for every block of C as
 * soon as its last depth block is in (so every element exactly once, after alpha * op(A) op(B) +
 * beta * C is complete), with the block's rows [row, row + m) and columns [col, col + n) of C at c,
 * row stride ldc. Embed it as the first member of a struct of your own to carry its data. */
typedef struct ft_gemm_epilogue {
    void (*apply)(const struct ft_gemm_epilogue *ep, float *c, int64_t ldc, int64_t row, int64_t col,
                  int64_t m, int64_t n);
} ft_gemm_epilogue;

/* Bytes of scratch ft_sgemm_ws needs for this schedule and problem (packing buffers, with
 * alignment slack). Fails like ft_gemm_params_resolve. */
int ft_gemm_workspace_size(const ft_gemm_params *p, int transA, int transB, int64_t M, int64_t N,
                           int64_t K, size_t *bytes, ft_error *err);

/* C = alpha * op(A) * op(B) + beta * C. op(A) is M x K: A is M x K (lda >= K) when transA == 0,
 * K x M (lda >= M) otherwise; likewise op(B) is K x N. p may be NULL (default schedule).
 * Allocates its packing buffers; use ft_sgemm_ws on a hot path. */
int ft_sgemm(const ft_gemm_params *p, int transA, int transB, int64_t M, int64_t N, int64_t K,
             float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
             float *C, int64_t ldc, ft_error *err);

/* As ft_sgemm, with caller-provided scratch of ws_bytes (any alignment). A NULL workspace makes
 * it allocate; a non-NULL one smaller than ft_gemm_workspace_size reports is FT_ERR_INPUT. */
int ft_sgemm_ws(const ft_gemm_params *p, int transA, int transB, int64_t M, int64_t N, int64_t K,
                float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                float *C, int64_t ldc, void *ws, size_t ws_bytes, ft_error *err);
/* As ft_sgemm_ws, then ep (may be NULL) over every block of C. */
int ft_sgemm_ws_ep(const ft_gemm_params *p, int transA, int transB, int64_t M, int64_t N, int64_t K,
                   float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc, void *ws, size_t ws_bytes, const ft_gemm_epilogue *ep,
                   ft_error *err);

/* op(B) packed once into the microkernel's panel layout, for a constant B (weights). The schedule
 * is fixed at packing time: the tile, kc and ISA of p resolved for (M_hint, N, K); M_hint is the
 * expected number of rows of A (it picks the default blocks, any M works later). */
typedef struct ft_gemm_packed_b ft_gemm_packed_b;

/* NULL on failure with err filled. B is not referenced after the call. */
ft_gemm_packed_b *ft_gemm_pack_b(const ft_gemm_params *p, int transB, int64_t M_hint, int64_t N,
                                 int64_t K, const float *B, int64_t ldb, ft_error *err);
void ft_gemm_packed_b_destroy(ft_gemm_packed_b *pb);
/* The resolved schedule the panel layout was built for. */
const ft_gemm_params *ft_gemm_packed_b_params(const ft_gemm_packed_b *pb);
/* Bytes of scratch ft_sgemm_packed needs for M rows of op(A). */
size_t ft_gemm_packed_workspace_size(const ft_gemm_packed_b *pb, int transA, int64_t M);

/* C = alpha * op(A) * B + beta * C with B pre-packed (N and K come from pb). ws may be NULL
 * (allocates) or at least ft_gemm_packed_workspace_size bytes. */
int ft_sgemm_packed(const ft_gemm_packed_b *pb, int transA, int64_t M, float alpha, const float *A,
                    int64_t lda, float beta, float *C, int64_t ldc, void *ws, size_t ws_bytes,
                    ft_error *err);
/* As ft_sgemm_packed, then ep (may be NULL) over every block of C. */
int ft_sgemm_packed_ep(const ft_gemm_packed_b *pb, int transA, int64_t M, float alpha, const float *A,
                       int64_t lda, float beta, float *C, int64_t ldc, void *ws, size_t ws_bytes,
                       const ft_gemm_epilogue *ep, ft_error *err);

#endif
