/* gemm.c - the f32 GEMM driver: schedule resolution, packing, cache blocking, microkernel dispatch. */
#include "gemm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_ukernel.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

/* Widest ISA first, so the first runnable table is the default. */
static const ft_gemm_ukernel *const isa_tables[] = {
#if defined(__x86_64__)
    ft_f32_gemm_ukernels_avx512,
    ft_f32_gemm_ukernels_avx2,
#endif
#if defined(__aarch64__)
    ft_f32_gemm_ukernels_neon,
#endif
    ft_f32_gemm_ukernels_scalar,
};
#define N_ISA_TABLES ((int)(sizeof isa_tables / sizeof isa_tables[0]))

struct ft_gemm_packed_b {
    ft_gemm_params params;
    const ft_gemm_ukernel *uk;
    int64_t n, k;
    int64_t n_pad; /* n rounded up to nr: the row length of every kc block of panels */
    float *data;   /* K * n_pad floats, 64-byte aligned inside mem */
    void *mem;
};

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

int ft_gemm_isa_supported(int isa)
{
    switch (isa) {
    case FT_GEMM_ISA_SCALAR:
        return 1;
#if defined(__x86_64__)
    /* libgcc and compiler-rt only report a feature when XCR0 says the OS saves its registers. */
    case FT_GEMM_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FT_GEMM_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    /* Advanced SIMD is part of the Linux AArch64 ABI; the kernel still reports it in HWCAP. */
    case FT_GEMM_ISA_NEON:
#if defined(__linux__)
        return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#else
        return 1;
#endif
#endif
    default:
        return 0;
    }
}

const char *ft_gemm_isa_name(int isa)
{
    switch (isa) {
    case FT_GEMM_ISA_AUTO: return "auto";
    case FT_GEMM_ISA_SCALAR: return "scalar";
    case FT_GEMM_ISA_AVX2: return "avx2";
    case FT_GEMM_ISA_AVX512: return "avx512";
    case FT_GEMM_ISA_NEON: return "neon";
    default: return "?";
    }
}

static const ft_gemm_ukernel *isa_table(int isa)
{
    for (int t = 0; t < N_ISA_TABLES; t++)
        if (isa_tables[t][0].info.isa == isa)
            return isa_tables[t];
    return NULL;
}

int ft_gemm_ukernel_count(void)
{
    int n = 0;
    for (int t = 0; t < N_ISA_TABLES; t++)
        if (ft_gemm_isa_supported(isa_tables[t][0].info.isa))
            for (const ft_gemm_ukernel *u = isa_tables[t]; u->fn; u++)
                n++;
    return n;
}

const ft_gemm_ukernel_info *ft_gemm_ukernel_at(int i)
{
    if (i < 0)
        return NULL;
    for (int t = 0; t < N_ISA_TABLES; t++) {
        if (!ft_gemm_isa_supported(isa_tables[t][0].info.isa))
            continue;
        for (const ft_gemm_ukernel *u = isa_tables[t]; u->fn; u++)
            if (i-- == 0)
                return &u->info;
    }
    return NULL;
}

/* The ISA's tile for M x N: the least padded work round_up(M, mr) * round_up(N, nr), where tiles
 * within 3% of the least count as equal and the table order (fastest tile first) decides. */
static const ft_gemm_ukernel *default_tile(const ft_gemm_ukernel *table, int64_t M, int64_t N)
{
    double least = 0.0;
    for (const ft_gemm_ukernel *u = table; u->fn; u++) {
        double area = (double)round_up(M, u->info.mr) * (double)round_up(N, u->info.nr);
        if (u == table || area < least)
            least = area;
    }
    for (const ft_gemm_ukernel *u = table; u->fn; u++)
        if ((double)round_up(M, u->info.mr) * (double)round_up(N, u->info.nr) <= 1.03 * least)
            return u;
    return table;
}

/* Cache blocks for this CPU class (Zen 4/5, recent Intel: 32-48 KiB L1D, 1-2 MiB L2), from sweeps
 * of BERT-base's shapes on a Zen 5. Small M keeps all of A resident and read in place, and streams
 * B one panel at a time; B is read in place too unless its rows are long and the panel is 64 wide
 * (the 4 cache lines per row then collide in L1). Large M uses BLIS blocking and packs B, since
 * every block of B is reused M / mc times. */
static void default_blocks(ft_gemm_params *q, int64_t M, int64_t N, int64_t K)
{
    int mr = q->mr, nr = q->nr;
    M = M > 0 ? M : 1;
    N = N > 0 ? N : 1;
    K = K > 0 ? K : 1;
    if (q->loop_order == FT_GEMM_LOOP_DEFAULT)
        q->loop_order = M <= 256 ? FT_GEMM_LOOP_A_RESIDENT : FT_GEMM_LOOP_BLIS;
    if (q->kc == 0)
        q->kc = (int)(K <= 512 ? K : 384);
    if (q->mc == 0)
        q->mc = (int)round_up(min64(q->loop_order == FT_GEMM_LOOP_A_RESIDENT ? 256 : 192, M), mr);
    if (q->nc == 0)
        q->nc = (int)round_up(min64(4096, N), nr);
    if (q->pack_a == FT_GEMM_PACKING_DEFAULT)
        q->pack_a = FT_GEMM_IN_PLACE;
    if (q->pack_b == FT_GEMM_PACKING_DEFAULT)
        q->pack_b = q->loop_order == FT_GEMM_LOOP_A_RESIDENT && (nr < 64 || N <= 256)
                        ? FT_GEMM_IN_PLACE
                        : FT_GEMM_PACK;
}

int ft_gemm_params_resolve(const ft_gemm_params *p, int64_t M, int64_t N, int64_t K,
                           ft_gemm_params *out, ft_error *err)
{
    ft_gemm_params q;
    if (p)
        q = *p;
    else
        memset(&q, 0, sizeof q);
    if (M < 0 || N < 0 || K < 0)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: negative size M=%lld N=%lld K=%lld",
                       (long long)M, (long long)N, (long long)K);
    if (q.isa == FT_GEMM_ISA_AUTO) {
        for (int t = 0; t < N_ISA_TABLES && q.isa == FT_GEMM_ISA_AUTO; t++)
            if (ft_gemm_isa_supported(isa_tables[t][0].info.isa))
                q.isa = isa_tables[t][0].info.isa;
    } else if (q.isa < FT_GEMM_ISA_SCALAR || q.isa > FT_GEMM_ISA_NEON) {
        return ft_fail(err, FT_ERR_INPUT, "sgemm: unknown isa %d", q.isa);
    }
    if (!ft_gemm_isa_supported(q.isa))
        return ft_fail(err, FT_ERR_UNSUPPORTED, "sgemm: isa %s is not supported by this CPU or build",
                       ft_gemm_isa_name(q.isa));
    const ft_gemm_ukernel *table = isa_table(q.isa);
    if ((q.mr == 0) != (q.nr == 0))
        return ft_fail(err, FT_ERR_INPUT, "sgemm: mr=%d and nr=%d must both be set or both be 0",
                       q.mr, q.nr);
    if (q.mr == 0) {
        const ft_gemm_ukernel *t = default_tile(table, M > 0 ? M : 1, N > 0 ? N : 1);
        q.mr = t->info.mr;
        q.nr = t->info.nr;
    }
    const ft_gemm_ukernel *uk = table;
    while (uk->fn && !(uk->info.mr == q.mr && uk->info.nr == q.nr))
        uk++;
    if (!uk->fn)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: no %dx%d f32 gemm microkernel for isa %s", q.mr,
                       q.nr, ft_gemm_isa_name(q.isa));
    if (q.loop_order < FT_GEMM_LOOP_DEFAULT || q.loop_order > FT_GEMM_LOOP_A_RESIDENT)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: unknown loop order %d", q.loop_order);
    if (q.pack_a < FT_GEMM_PACKING_DEFAULT || q.pack_a > FT_GEMM_IN_PLACE ||
        q.pack_b < FT_GEMM_PACKING_DEFAULT || q.pack_b > FT_GEMM_IN_PLACE)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: unknown packing pack_a=%d pack_b=%d", q.pack_a,
                       q.pack_b);
    if (q.mc < 0 || q.kc < 0 || q.nc < 0)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: negative cache block mc=%d kc=%d nc=%d", q.mc,
                       q.kc, q.nc);
    default_blocks(&q, M, N, K);
    if (q.mc % q.mr != 0 || q.nc % q.nr != 0)
        return ft_fail(err, FT_ERR_INPUT,
                       "sgemm: mc=%d must be a multiple of mr=%d and nc=%d a multiple of nr=%d",
                       q.mc, q.mr, q.nc, q.nr);
    *out = q;
    return FT_OK;
}

ft_gemm_params ft_gemm_default_params(int64_t M, int64_t N, int64_t K)
{
    ft_gemm_params q;
    /* Cannot fail for valid sizes: the scalar ISA is always there and blocks derive from its tile. */
    if (ft_gemm_params_resolve(NULL, M < 0 ? 0 : M, N < 0 ? 0 : N, K < 0 ? 0 : K, &q, NULL) != FT_OK)
        memset(&q, 0, sizeof q);
    return q;
}

static const ft_gemm_ukernel *find_ukernel(const ft_gemm_params *q)
{
    const ft_gemm_ukernel *uk = isa_table(q->isa);
    while (!(uk->info.mr == q->mr && uk->info.nr == q->nr))
        uk++;
    return uk;
}

/* Whether op(X) is copied into panels: always when transposed, since microkernels read rows. */
static int packs(int packing, int trans) { return trans || packing != FT_GEMM_IN_PLACE; }

/* The scratch regions, in floats, each a whole number of cache lines: the packed A block (or, when
 * A is read in place, one zero-padded edge panel), then B's buffer (a packed kc x nc block for
 * BLIS order, otherwise one kc x nr panel; nothing when B comes pre-packed). */
typedef struct ws_layout {
    int64_t a_floats, b_floats;
} ws_layout;

static ws_layout layout_of(const ft_gemm_params *q, int transA, int transB, int64_t M, int64_t N,
                           int64_t K, int b_prepacked)
{
    ws_layout w = {0, 0};
    if (M == 0 || N == 0 || K == 0)
        return w;
    int64_t kb = min64(q->kc, K);
    int64_t rows = packs(q->pack_a, transA) ? min64(q->mc, round_up(M, q->mr)) : q->mr;
    w.a_floats = round_up(rows * kb, 16);
    if (!b_prepacked) {
        int64_t cols = q->nr;
        if (q->loop_order == FT_GEMM_LOOP_BLIS && packs(q->pack_b, transB))
            cols = min64(q->nc, round_up(N, q->nr));
        w.b_floats = round_up(kb * cols, 16);
    }
    return w;
}

static size_t layout_bytes(ws_layout w)
{
    return w.a_floats + w.b_floats == 0 ? 0 : (size_t)(w.a_floats + w.b_floats) * sizeof(float) + 64;
}

int ft_gemm_workspace_size(const ft_gemm_params *p, int transA, int transB, int64_t M, int64_t N,
                           int64_t K, size_t *bytes, ft_error *err)
{
    ft_gemm_params q;
    int rc = ft_gemm_params_resolve(p, M, N, K, &q, err);
    if (rc != FT_OK)
        return rc;
    *bytes = layout_bytes(layout_of(&q, transA, transB, M, N, K, 0));
    return FT_OK;
}

/* The problem as the blocked loops see it. b_packed, when set, holds all of op(B) in panels:
 * the kc block starting at depth pc begins at b_packed + pc * n_pad, its panel at column j at
 * + j * kb. */
typedef struct gemm_call {
    const ft_gemm_params *q;
    const ft_gemm_ukernel *uk;
    ft_f32_transpose_fn transpose; /* of the microkernel's ISA */
    int trans_a, trans_b, pack_a, pack_b; /* pack_x: whether op(X) is copied (see packs) */
    int64_t M, N, K;
    float alpha, beta;
    const float *A, *B, *b_packed;
    int64_t lda, ldb, n_pad;
    float *C;
    int64_t ldc;
    float *abuf, *bbuf;
    const ft_gemm_epilogue *ep; /* NULL: none */
} gemm_call;

static ft_f32_transpose_fn transpose_for(int isa)
{
#if defined(__x86_64__)
    if (isa == FT_GEMM_ISA_AVX512)
        return ft_f32_transpose_avx512;
    if (isa == FT_GEMM_ISA_AVX2)
        return ft_f32_transpose_avx2;
#endif
#if defined(__aarch64__)
    if (isa == FT_GEMM_ISA_NEON)
        return ft_f32_transpose_neon;
#endif
    (void)isa;
    return ft_f32_transpose_scalar;
}

/* rows x kb of op(A) at (i0, p0), row-major with stride kb, then zero rows up to a multiple of mr
 * (they only feed tile rows that are never written back, but stay deterministic). */
static void pack_a_rows(const gemm_call *g, int64_t i0, int64_t p0, int64_t rows, int64_t kb,
                        float *dst)
{
    if (!g->trans_a)
        for (int64_t i = 0; i < rows; i++)
            memcpy(dst + i * kb, g->A + (i0 + i) * g->lda + p0, (size_t)kb * sizeof(float));
    else
        g->transpose(g->A + p0 * g->lda + i0, g->lda, kb, rows, dst, kb);
    int64_t padded = round_up(rows, g->q->mr);
    memset(dst + rows * kb, 0, (size_t)((padded - rows) * kb) * sizeof(float));
}

/* Copies kb rows of n floats (n <= nr) into rows of nr, zero-filling columns n..nr-1. A constant
 * width lets the compiler turn each row into a few vector moves instead of a memcpy call. */
#define COPY_ROWS(width)                                                                        \
    for (int64_t k = 0; k < kb; k++, src += ld, dst += (width))                                 \
        for (int j = 0; j < (width); j++)                                                       \
            dst[j] = src[j]

static void copy_rows(const float *src, int64_t ld, int64_t kb, int n, int nr, float *dst)
{
    if (n == nr) {
        switch (nr) {
        case 16: COPY_ROWS(16); return;
        case 32: COPY_ROWS(32); return;
        case 48: COPY_ROWS(48); return;
        case 64: COPY_ROWS(64); return;
        default: break;
        }
    }
    for (int64_t k = 0; k < kb; k++, src += ld, dst += nr) {
        for (int j = 0; j < n; j++)
            dst[j] = src[j];
        for (int j = n; j < nr; j++)
            dst[j] = 0.0f;
    }
}

/* kb x n slice of op(B) at (p0, j0) into one panel of kb rows of nr floats, columns past n zero. */
static void pack_b_panel(ft_f32_transpose_fn transpose, int transB, const float *B, int64_t ldb,
                         int64_t p0, int64_t j0, int64_t kb, int n, int nr, float *dst)
{
    if (!transB) {
        copy_rows(B + p0 * ldb + j0, ldb, kb, n, nr, dst);
        return;
    }
    transpose(B + j0 * ldb + p0, ldb, n, kb, dst, nr);
    if (n < nr)
        for (int64_t k = 0; k < kb; k++)
            memset(dst + k * nr + n, 0, (size_t)(nr - n) * sizeof(float));
}

/* kb x nb block of op(B) as consecutive panels: the panel at column jr starts at dst + jr * kb. */
static void pack_b_block(ft_f32_transpose_fn transpose, int transB, const float *B, int64_t ldb,
                         int64_t p0, int64_t j0, int64_t kb, int64_t nb, int nr, float *dst)
{
    for (int64_t jr = 0; jr < nb; jr += nr)
        pack_b_panel(transpose, transB, B, ldb, p0, j0 + jr, kb, (int)min64(nr, nb - jr), nr,
                     dst + jr * kb);
}

/* One m x n tile of C; partial tiles go through a full tile on the stack so microkernels only ever
 * see whole tiles. */
static void run_tile(const ft_gemm_ukernel *uk, int64_t kb, const float *a, int64_t lda,
                     const float *b, int64_t ldb, float *c, int64_t ldc, int64_t m, int64_t n,
                     float alpha, float beta)
{
    int mr = uk->info.mr, nr = uk->info.nr;
    if (m == mr && n == nr) {
        uk->fn(kb, a, lda, b, ldb, c, ldc, alpha, beta);
        return;
    }
    _Alignas(64) float tmp[FT_GEMM_MAX_TILE];
    uk->fn(kb, a, lda, b, ldb, tmp, nr, alpha, 0.0f);
    for (int64_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        const float *t = tmp + i * nr;
        if (beta == 0.0f)
            for (int64_t j = 0; j < n; j++)
                row[j] = t[j];
        else
            for (int64_t j = 0; j < n; j++)
                row[j] = t[j] + beta * row[j];
    }
}

/* Where the microkernels read the current mb x kb block of op(A): rows at a + i * ld; the last,
 * partial panel (if any) at edge instead, zero-padded. */
typedef struct a_block {
    const float *a, *edge;
    int64_t ld, edge_row; /* first row served from edge */
} a_block;

static a_block load_a_block(const gemm_call *g, int64_t ic, int64_t mb, int64_t pc, int64_t kb)
{
    int mr = g->q->mr;
    a_block ab = {g->abuf, NULL, kb, mb};
    if (g->pack_a) {
        pack_a_rows(g, ic, pc, mb, kb, g->abuf);
        return ab;
    }
    ab.a = g->A + ic * g->lda + pc;
    ab.ld = g->lda;
    ab.edge_row = mb / mr * mr;
    if (ab.edge_row < mb) {
        pack_a_rows(g, ic + ab.edge_row, pc, mb - ab.edge_row, kb, g->abuf);
        ab.edge = g->abuf;
    }
    return ab;
}

/* All tiles of the mb x nb block of C at (ic, jc) at depth pc: nr-wide columns outside, mr-high
 * rows inside, so one B panel stays in L1 while the A block streams from L2. bblk is the block's
 * packed panels, or NULL to read op(B) in place (edge panels are copied into bbuf). After the last
 * depth block, the epilogue runs on each mb x nr column strip while it is still in L1. */
static void sweep_block(const gemm_call *g, const a_block *ab, int64_t ic, int64_t mb, int64_t jc,
                        int64_t nb, int64_t pc, int64_t kb, const float *bblk, float beta)
{
    int mr = g->q->mr, nr = g->q->nr;
    for (int64_t jr = 0; jr < nb; jr += nr) {
        int n = (int)min64(nr, nb - jr);
        const float *b;
        int64_t ldb = nr;
        if (bblk) {
            b = bblk + jr * kb;
        } else if (n == nr) {
            b = g->B + pc * g->ldb + jc + jr;
            ldb = g->ldb;
        } else {
            pack_b_panel(g->transpose, 0, g->B, g->ldb, pc, jc + jr, kb, n, nr, g->bbuf);
            b = g->bbuf;
        }
        float *c = g->C + ic * g->ldc + jc + jr;
        for (int64_t ir = 0; ir < mb; ir += mr) {
            const float *a = ir < ab->edge_row ? ab->a + ir * ab->ld : ab->edge;
            int64_t lda = ir < ab->edge_row ? ab->ld : kb;
            run_tile(g->uk, kb, a, lda, b, ldb, c + ir * g->ldc, g->ldc, min64(mr, mb - ir), n,
                     g->alpha, beta);
        }
        if (g->ep && pc + kb == g->K)
            g->ep->apply(g->ep, c, g->ldc, ic, jc + jr, mb, n);
    }
}

static void gemm_blis(const gemm_call *g)
{
    const ft_gemm_params *q = g->q;
    for (int64_t jc = 0; jc < g->N; jc += q->nc) {
        int64_t nb = min64(q->nc, g->N - jc);
        for (int64_t pc = 0; pc < g->K; pc += q->kc) {
            int64_t kb = min64(q->kc, g->K - pc);
            float beta = pc == 0 ? g->beta : 1.0f;
            const float *bblk = NULL;
            if (g->b_packed) {
                bblk = g->b_packed + pc * g->n_pad + jc * kb;
            } else if (g->pack_b) {
                pack_b_block(g->transpose, g->trans_b, g->B, g->ldb, pc, jc, kb, nb, q->nr, g->bbuf);
                bblk = g->bbuf;
            }
            for (int64_t ic = 0; ic < g->M; ic += q->mc) {
                int64_t mb = min64(q->mc, g->M - ic);
                a_block ab = load_a_block(g, ic, mb, pc, kb);
                sweep_block(g, &ab, ic, mb, jc, nb, pc, kb, bblk, beta);
            }
        }
    }
}

static void gemm_a_resident(const gemm_call *g)
{
    const ft_gemm_params *q = g->q;
    for (int64_t ic = 0; ic < g->M; ic += q->mc) {
        int64_t mb = min64(q->mc, g->M - ic);
        for (int64_t pc = 0; pc < g->K; pc += q->kc) {
            int64_t kb = min64(q->kc, g->K - pc);
            float beta = pc == 0 ? g->beta : 1.0f;
            a_block ab = load_a_block(g, ic, mb, pc, kb);
            for (int64_t jr = 0; jr < g->N; jr += q->nr) {
                int64_t n = min64(q->nr, g->N - jr);
                const float *panel = NULL;
                if (g->b_packed) {
                    panel = g->b_packed + pc * g->n_pad + jr * kb;
                } else if (g->pack_b) {
                    pack_b_panel(g->transpose, g->trans_b, g->B, g->ldb, pc, jr, kb, (int)n, q->nr,
                                 g->bbuf);
                    panel = g->bbuf;
                }
                sweep_block(g, &ab, ic, mb, jr, n, pc, kb, panel, beta);
            }
        }
    }
}

/* C = beta * C, the whole answer when alpha == 0 or K == 0. */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++) {
        float *row = C + i * ldc;
        if (beta == 0.0f)
            memset(row, 0, (size_t)N * sizeof(float));
        else if (beta != 1.0f)
            for (int64_t j = 0; j < N; j++)
                row[j] *= beta;
    }
}

static int check_matrix(const char *name, const void *ptr, int trans, int64_t rows, int64_t cols,
                        int64_t ld, ft_error *err)
{
    /* Stored as rows x cols, or cols x rows when transposed. */
    int64_t stored_cols = trans ? rows : cols;
    if (trans != 0 && trans != 1)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: trans%s=%d must be 0 or 1", name, trans);
    if (ld < (stored_cols > 1 ? stored_cols : 1))
        return ft_fail(err, FT_ERR_INPUT, "sgemm: ld%s=%lld is less than the %lld columns of %s",
                       name, (long long)ld, (long long)stored_cols, name);
    if (!ptr && rows > 0 && cols > 0)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: %s is NULL", name);
    return FT_OK;
}

/* Aligns a caller's workspace, or allocates one when none is given (*owned is then set). */
static int take_workspace(void *ws, size_t ws_bytes, size_t need, void **owned, float **base,
                          ft_error *err)
{
    *owned = NULL;
    *base = NULL;
    if (need == 0)
        return FT_OK;
    if (!ws) {
        ws = malloc(need);
        if (!ws)
            return ft_fail(err, FT_ERR_NOMEM, "sgemm: cannot allocate %zu bytes of workspace", need);
        *owned = ws;
    } else if (ws_bytes < need) {
        return ft_fail(err, FT_ERR_INPUT, "sgemm: workspace of %zu bytes is smaller than the %zu needed",
                       ws_bytes, need);
    }
    *base = (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63);
    return FT_OK;
}

static void run_call(gemm_call *g, float *base, ws_layout w)
{
    g->abuf = base;
    g->bbuf = base ? base + w.a_floats : NULL;
    if (g->q->loop_order == FT_GEMM_LOOP_BLIS)
        gemm_blis(g);
    else
        gemm_a_resident(g);
}

int ft_sgemm_ws(const ft_gemm_params *p, int transA, int transB, int64_t M, int64_t N, int64_t K,
                float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                float *C, int64_t ldc, void *ws, size_t ws_bytes, ft_error *err)
{
    return ft_sgemm_ws_ep(p, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ws, ws_bytes,
                          NULL, err);
}

int ft_sgemm_ws_ep(const ft_gemm_params *p, int transA, int transB, int64_t M, int64_t N, int64_t K,
                   float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                   float *C, int64_t ldc, void *ws, size_t ws_bytes, const ft_gemm_epilogue *ep,
                   ft_error *err)
{
    ft_gemm_params q;
    int rc = ft_gemm_params_resolve(p, M, N, K, &q, err);
    if (rc == FT_OK)
        rc = check_matrix("A", A, transA, M, K, lda, err);
    if (rc == FT_OK)
        rc = check_matrix("B", B, transB, K, N, ldb, err);
    if (rc == FT_OK)
        rc = check_matrix("C", C, 0, M, N, ldc, err);
    if (rc != FT_OK)
        return rc;
    if (M == 0 || N == 0)
        return FT_OK;
    if (K == 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        if (ep)
            ep->apply(ep, C, ldc, 0, 0, M, N);
        return FT_OK;
    }
    ws_layout w = layout_of(&q, transA, transB, M, N, K, 0);
    void *owned;
    float *base;
    rc = take_workspace(ws, ws_bytes, layout_bytes(w), &owned, &base, err);
    if (rc != FT_OK)
        return rc;
    gemm_call g = {&q, find_ukernel(&q), transpose_for(q.isa), transA, transB, packs(q.pack_a, transA),
                   packs(q.pack_b, transB), M, N, K, alpha, beta, A, B, NULL, lda, ldb, 0, C, ldc,
                   NULL, NULL, ep};
    run_call(&g, base, w);
    free(owned);
    return FT_OK;
}

int ft_sgemm(const ft_gemm_params *p, int transA, int transB, int64_t M, int64_t N, int64_t K,
             float alpha, const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
             float *C, int64_t ldc, ft_error *err)
{
    return ft_sgemm_ws(p, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL, 0,
                       err);
}

ft_gemm_packed_b *ft_gemm_pack_b(const ft_gemm_params *p, int transB, int64_t M_hint, int64_t N,
                                 int64_t K, const float *B, int64_t ldb, ft_error *err)
{
    ft_gemm_params q;
    if (ft_gemm_params_resolve(p, M_hint < 0 ? 0 : M_hint, N, K, &q, err) != FT_OK ||
        check_matrix("B", B, transB, K, N, ldb, err) != FT_OK)
        return NULL;
    ft_gemm_packed_b *pb = calloc(1, sizeof *pb);
    if (!pb) {
        ft_fail(err, FT_ERR_NOMEM, "sgemm: cannot allocate a packed B");
        return NULL;
    }
    q.pack_b = FT_GEMM_PACK;
    pb->params = q;
    pb->uk = find_ukernel(&q);
    pb->n = N;
    pb->k = K;
    pb->n_pad = round_up(N, q.nr);
    size_t floats = (size_t)(pb->n_pad * K);
    if (floats > 0) {
        pb->mem = malloc(floats * sizeof(float) + 64);
        if (!pb->mem) {
            free(pb);
            ft_fail(err, FT_ERR_NOMEM, "sgemm: cannot allocate %zu bytes for packed B %lldx%lld",
                    floats * sizeof(float), (long long)K, (long long)N);
            return NULL;
        }
        pb->data = (float *)(((uintptr_t)pb->mem + 63) & ~(uintptr_t)63);
        for (int64_t pc = 0; pc < K; pc += q.kc) {
            int64_t kb = min64(q.kc, K - pc);
            pack_b_block(transpose_for(q.isa), transB, B, ldb, pc, 0, kb, N, q.nr,
                         pb->data + pc * pb->n_pad);
        }
    }
    return pb;
}

void ft_gemm_packed_b_destroy(ft_gemm_packed_b *pb)
{
    if (!pb)
        return;
    free(pb->mem);
    free(pb);
}

const ft_gemm_params *ft_gemm_packed_b_params(const ft_gemm_packed_b *pb) { return &pb->params; }

size_t ft_gemm_packed_workspace_size(const ft_gemm_packed_b *pb, int transA, int64_t M)
{
    return layout_bytes(layout_of(&pb->params, transA, 0, M < 0 ? 0 : M, pb->n, pb->k, 1));
}

int ft_sgemm_packed(const ft_gemm_packed_b *pb, int transA, int64_t M, float alpha, const float *A,
                    int64_t lda, float beta, float *C, int64_t ldc, void *ws, size_t ws_bytes,
                    ft_error *err)
{
    return ft_sgemm_packed_ep(pb, transA, M, alpha, A, lda, beta, C, ldc, ws, ws_bytes, NULL, err);
}

int ft_sgemm_packed_ep(const ft_gemm_packed_b *pb, int transA, int64_t M, float alpha, const float *A,
                       int64_t lda, float beta, float *C, int64_t ldc, void *ws, size_t ws_bytes,
                       const ft_gemm_epilogue *ep, ft_error *err)
{
    if (!pb)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: packed B is NULL");
    if (M < 0)
        return ft_fail(err, FT_ERR_INPUT, "sgemm: negative size M=%lld", (long long)M);
    int rc = check_matrix("A", A, transA, M, pb->k, lda, err);
    if (rc == FT_OK)
        rc = check_matrix("C", C, 0, M, pb->n, ldc, err);
    if (rc != FT_OK)
        return rc;
    if (M == 0 || pb->n == 0)
        return FT_OK;
    if (pb->k == 0 || alpha == 0.0f) {
        scale_c(M, pb->n, beta, C, ldc);
        if (ep)
            ep->apply(ep, C, ldc, 0, 0, M, pb->n);
        return FT_OK;
    }
    /* The blocks were resolved for M_hint; mc only has to stay a multiple of mr, which it is. */
    const ft_gemm_params *q = &pb->params;
    void *owned;
    float *base;
    ws_layout w = layout_of(q, transA, 0, M, pb->n, pb->k, 1);
    rc = take_workspace(ws, ws_bytes, layout_bytes(w), &owned, &base, err);
    if (rc != FT_OK)
        return rc;
    gemm_call g = {q, pb->uk, transpose_for(q->isa), transA, 0, packs(q->pack_a, transA), 1, M, pb->n, pb->k, alpha,
                   beta, A, NULL, pb->data, lda, 0, pb->n_pad, C, ldc, NULL, NULL, ep};
    run_call(&g, base, w);
    free(owned);
    return FT_OK;
}
