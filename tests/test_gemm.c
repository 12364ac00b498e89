/* test_gemm.c - the packed f32 GEMM: every microkernel, schedule and transpose against a double
 * reference, with C fenced by NaN guards; schedule validation, workspaces and pre-packed B. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm/gemm.h"

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int64_t rng_range(rng *r, int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* Sizes where tiles and blocks go wrong: 1, primes, around the 8/16/32/48/64 tile widths, max. */
static const int64_t edge_sizes[] = {1, 2, 3, 5, 7, 13, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64,
                                     65, 97, 127, 131, 191, 199, 200};
#define N_EDGE ((int)(sizeof edge_sizes / sizeof edge_sizes[0]))

static int64_t pick_size(rng *r)
{
    return rng_next(r) % 2 ? edge_sizes[rng_range(r, 0, N_EDGE - 1)] : rng_range(r, 1, 200);
}

/* A C buffer of M rows of ldc floats between two guard zones, all NaN except what the case fills. */
#define GUARD 64

typedef struct c_buf {
    float *mem; /* GUARD + M * ldc + GUARD floats */
    float *c;
    int64_t M, N, ldc;
} c_buf;

static void c_buf_init(c_buf *b, int64_t M, int64_t N, int64_t ldc)
{
    size_t n = (size_t)(GUARD + M * ldc + GUARD);
    b->mem = malloc(n * sizeof(float));
    assert_non_null(b->mem);
    for (size_t i = 0; i < n; i++)
        b->mem[i] = NAN;
    b->c = b->mem + GUARD;
    b->M = M;
    b->N = N;
    b->ldc = ldc;
}

/* Everything outside the M x N region must still be NaN. */
static void c_buf_check_guards(const c_buf *b)
{
    for (int64_t i = 0; i < GUARD; i++) {
        assert_true(isnan(b->mem[i]));
        assert_true(isnan(b->c[b->M * b->ldc + i]));
    }
    for (int64_t i = 0; i < b->M; i++)
        for (int64_t j = b->N; j < b->ldc; j++)
            assert_true(isnan(b->c[i * b->ldc + j]));
}

static float elem(const float *X, int trans, int64_t ld, int64_t r, int64_t c)
{
    return trans ? X[c * ld + r] : X[r * ld + c];
}

/* Relative L2 error of the M x N result against alpha * op(A) op(B) + beta * C0 in double; NaN or
 * infinity anywhere in the result fails. */
static double gemm_error(int ta, int tb, int64_t M, int64_t N, int64_t K, float alpha,
                         const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                         const float *C0, const float *C, int64_t ldc)
{
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0.0;
            for (int64_t k = 0; k < K; k++)
                s += (double)elem(A, ta, lda, i, k) * (double)elem(B, tb, ldb, k, j);
            double ref = (double)alpha * s;
            if (beta != 0.0f)
                ref += (double)beta * C0[i * ldc + j];
            double got = C[i * ldc + j];
            if (!isfinite(got))
                return INFINITY;
            num += (got - ref) * (got - ref);
            den += ref * ref;
        }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

typedef struct gemm_case {
    int ta, tb;
    int64_t M, N, K, lda, ldb, ldc;
    float alpha, beta;
} gemm_case;

static gemm_case random_case(rng *r)
{
    static const float alphas[] = {1.0f, -1.0f, 0.5f, 2.25f};
    static const float betas[] = {0.0f, 0.0f, 1.0f, -0.75f};
    gemm_case g;
    g.ta = (int)(rng_next(r) % 2);
    g.tb = (int)(rng_next(r) % 2);
    g.M = pick_size(r);
    g.N = pick_size(r);
    g.K = pick_size(r);
    /* Leading dimensions sometimes padded, so strides are exercised apart from sizes. */
    g.lda = (g.ta ? g.M : g.K) + (rng_next(r) % 3 == 0 ? rng_range(r, 1, 9) : 0);
    g.ldb = (g.tb ? g.K : g.N) + (rng_next(r) % 3 == 0 ? rng_range(r, 1, 9) : 0);
    g.ldc = g.N + (rng_next(r) % 2 ? rng_range(r, 1, 9) : 0);
    g.alpha = alphas[rng_next(r) % 4];
    g.beta = betas[rng_next(r) % 4];
    return g;
}

/* Runs one case under schedule p (NULL = default) through ft_sgemm_ws with an exactly sized,
 * deliberately misaligned workspace, and checks the result and the guards. */
static void check_case(const gemm_case *g, const ft_gemm_params *p, uint64_t seed)
{
    int64_t a_rows = g->ta ? g->K : g->M, b_rows = g->tb ? g->N : g->K;
    float *A = malloc((size_t)(a_rows * g->lda) * sizeof(float));
    float *B = malloc((size_t)(b_rows * g->ldb) * sizeof(float));
    float *C0 = malloc((size_t)(g->M * g->ldc) * sizeof(float));
    assert_non_null(A);
    assert_non_null(B);
    assert_non_null(C0);
    tu_fill_uniform(A, (size_t)(a_rows * g->lda), seed, -1.0f, 1.0f);
    tu_fill_uniform(B, (size_t)(b_rows * g->ldb), seed + 1, -1.0f, 1.0f);
    c_buf cb;
    c_buf_init(&cb, g->M, g->N, g->ldc);
    /* With beta == 0 the region stays NaN: C must be written without being read. */
    if (g->beta != 0.0f) {
        tu_fill_uniform(C0, (size_t)(g->M * g->ldc), seed + 2, -1.0f, 1.0f);
        for (int64_t i = 0; i < g->M; i++)
            memcpy(cb.c + i * g->ldc, C0 + i * g->ldc, (size_t)g->N * sizeof(float));
    }
    size_t ws_bytes = 0;
    ft_error err = {0};
    assert_int_equal(ft_gemm_workspace_size(p, g->ta, g->tb, g->M, g->N, g->K, &ws_bytes, &err), FT_OK);
    char *ws = malloc(ws_bytes + 1);
    assert_non_null(ws);
    int rc = ft_sgemm_ws(p, g->ta, g->tb, g->M, g->N, g->K, g->alpha, A, g->lda, B, g->ldb,
                         g->beta, cb.c, g->ldc, ws + 1, ws_bytes, &err);
    if (rc != FT_OK)
        fail_msg("sgemm failed: %s", err.msg);
    double e = gemm_error(g->ta, g->tb, g->M, g->N, g->K, g->alpha, A, g->lda, B, g->ldb, g->beta,
                          C0, cb.c, g->ldc);
    if (!(e < 1e-5))
        fail_msg("rel L2 error %g: M=%lld N=%lld K=%lld ta=%d tb=%d alpha=%g beta=%g isa=%d "
                 "%dx%d mc=%d kc=%d nc=%d order=%d", e, (long long)g->M, (long long)g->N,
                 (long long)g->K, g->ta, g->tb, g->alpha, g->beta, p ? p->isa : 0, p ? p->mr : 0,
                 p ? p->nr : 0, p ? p->mc : 0, p ? p->kc : 0, p ? p->nc : 0, p ? p->loop_order : 0);
    c_buf_check_guards(&cb);
    free(ws);
    free(cb.mem);
    free(A);
    free(B);
    free(C0);
}

static void every_ukernel_matches_double_reference_on_random_shapes(void **state)
{
    (void)state;
    rng r = {42};
    int n = ft_gemm_ukernel_count();
    assert_true(n >= 3);
    for (int u = 0; u < n; u++) {
        const ft_gemm_ukernel_info *info = ft_gemm_ukernel_at(u);
        for (int t = 0; t < 40; t++) {
            gemm_case g = random_case(&r);
            ft_gemm_params p = {0};
            p.isa = info->isa;
            p.mr = info->mr;
            p.nr = info->nr;
            p.loop_order = t % 2 ? FT_GEMM_LOOP_BLIS : FT_GEMM_LOOP_A_RESIDENT;
            /* Blocks smaller than the problem so every edge of every loop is crossed; zero
             * sometimes, for the defaults. */
            static const int kcs[] = {0, 1, 7, 16, 61, 256};
            p.kc = kcs[rng_next(&r) % 6];
            p.mc = info->mr * (int)rng_range(&r, 0, 5);
            p.nc = info->nr * (int)rng_range(&r, 0, 4);
            p.pack_a = (int)rng_range(&r, FT_GEMM_PACKING_DEFAULT, FT_GEMM_IN_PLACE);
            p.pack_b = (int)rng_range(&r, FT_GEMM_PACKING_DEFAULT, FT_GEMM_IN_PLACE);
            check_case(&g, &p, rng_next(&r));
        }
    }
}

static void default_schedule_matches_reference_on_edge_sizes(void **state)
{
    (void)state;
    rng r = {7};
    for (int i = 0; i < N_EDGE; i += 2) {
        gemm_case g = random_case(&r);
        g.M = edge_sizes[i];
        g.N = edge_sizes[N_EDGE - 1 - i];
        g.K = edge_sizes[(i * 7) % N_EDGE];
        g.lda = g.ta ? g.M : g.K;
        g.ldb = g.tb ? g.K : g.N;
        g.ldc = g.N;
        check_case(&g, NULL, rng_next(&r));
    }
}

static void beta_zero_overwrites_nan_and_alpha_zero_ignores_a_and_b(void **state)
{
    (void)state;
    enum { M = 9, N = 37, K = 11 };
    float A[M * K], B[K * N], C[M * N];
    ft_error err = {0};
    tu_fill_uniform(A, M * K, 1, -1.0f, 1.0f);
    tu_fill_uniform(B, K * N, 2, -1.0f, 1.0f);
    for (int i = 0; i < M * N; i++)
        C[i] = NAN;
    assert_int_equal(ft_sgemm(NULL, 0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, &err), FT_OK);
    for (int i = 0; i < M * N; i++)
        assert_true(isfinite(C[i]));
    /* alpha == 0: A and B are not referenced (NaN there must not leak), C = beta * C. */
    for (int i = 0; i < M * K; i++)
        A[i] = NAN;
    for (int i = 0; i < M * N; i++)
        C[i] = (float)i;
    assert_int_equal(ft_sgemm(NULL, 0, 0, M, N, K, 0.0f, A, K, B, N, 0.5f, C, N, &err), FT_OK);
    for (int i = 0; i < M * N; i++)
        assert_true(C[i] == 0.5f * (float)i);
    /* K == 0: the product is empty, C = beta * C; beta == 0 clears NaN. */
    for (int i = 0; i < M * N; i++)
        C[i] = NAN;
    assert_int_equal(ft_sgemm(NULL, 0, 0, M, N, 0, 1.0f, A, 1, B, N, 0.0f, C, N, &err), FT_OK);
    for (int i = 0; i < M * N; i++)
        assert_true(C[i] == 0.0f);
}

static void pre_packed_b_matches_reference_for_any_m_and_loop_order(void **state)
{
    (void)state;
    rng r = {99};
    int n = ft_gemm_ukernel_count();
    for (int u = 0; u < n; u++) {
        const ft_gemm_ukernel_info *info = ft_gemm_ukernel_at(u);
        for (int t = 0; t < 4; t++) {
            int tb = t % 2;
            int64_t N = pick_size(&r), K = pick_size(&r), ldb = (tb ? K : N) + t;
            ft_gemm_params p = {0};
            p.isa = info->isa;
            p.mr = info->mr;
            p.nr = info->nr;
            p.kc = (int)rng_range(&r, 1, 80);
            p.nc = info->nr * (int)rng_range(&r, 1, 3);
            p.loop_order = t < 2 ? FT_GEMM_LOOP_BLIS : FT_GEMM_LOOP_A_RESIDENT;
            p.pack_a = t % 2 ? FT_GEMM_PACK : FT_GEMM_IN_PLACE;
            float *B = malloc((size_t)((tb ? N : K) * ldb) * sizeof(float));
            assert_non_null(B);
            tu_fill_uniform(B, (size_t)((tb ? N : K) * ldb), rng_next(&r), -1.0f, 1.0f);
            ft_error err = {0};
            ft_gemm_packed_b *pb = ft_gemm_pack_b(&p, tb, 64, N, K, B, ldb, &err);
            if (!pb)
                fail_msg("pack_b failed: %s", err.msg);
            const ft_gemm_params *q = ft_gemm_packed_b_params(pb);
            assert_int_equal(q->kc, p.kc);
            assert_int_equal(q->nr, info->nr);
            for (int m = 0; m < 2; m++) {
                int ta = (int)(rng_next(&r) % 2);
                int64_t M = m ? pick_size(&r) : 1, lda = ta ? M : K, ldc = N + 3;
                float *A = malloc((size_t)((ta ? K : M) * lda) * sizeof(float));
                assert_non_null(A);
                tu_fill_uniform(A, (size_t)((ta ? K : M) * lda), rng_next(&r), -1.0f, 1.0f);
                c_buf cb;
                c_buf_init(&cb, M, N, ldc);
                for (int64_t i = 0; i < M; i++)
                    for (int64_t j = 0; j < N; j++)
                        cb.c[i * ldc + j] = 0.25f;
                float *C0 = malloc((size_t)(M * ldc) * sizeof(float));
                assert_non_null(C0);
                memcpy(C0, cb.c, (size_t)(M * ldc) * sizeof(float));
                size_t ws_bytes = ft_gemm_packed_workspace_size(pb, ta, M);
                void *ws = malloc(ws_bytes + 1);
                assert_non_null(ws);
                assert_int_equal(ft_sgemm_packed(pb, ta, M, 1.5f, A, lda, -2.0f, cb.c, ldc, ws,
                                                 ws_bytes, &err), FT_OK);
                double e = gemm_error(ta, tb, M, N, K, 1.5f, A, lda, B, ldb, -2.0f, C0, cb.c, ldc);
                if (!(e < 1e-5))
                    fail_msg("packed rel L2 error %g: %s M=%lld N=%lld K=%lld kc=%d", e,
                             info->name, (long long)M, (long long)N, (long long)K, p.kc);
                c_buf_check_guards(&cb);
                /* Without a workspace it allocates and gives the same answer. */
                memcpy(cb.c, C0, (size_t)(M * ldc) * sizeof(float));
                assert_int_equal(ft_sgemm_packed(pb, ta, M, 1.5f, A, lda, -2.0f, cb.c, ldc, NULL,
                                                 0, &err), FT_OK);
                assert_true(gemm_error(ta, tb, M, N, K, 1.5f, A, lda, B, ldb, -2.0f, C0, cb.c, ldc) < 1e-5);
                free(ws);
                free(C0);
                free(cb.mem);
                free(A);
            }
            ft_gemm_packed_b_destroy(pb);
            free(B);
        }
    }
}

static void enumeration_lists_each_runnable_ukernel_once(void **state)
{
    (void)state;
    int n = ft_gemm_ukernel_count();
    assert_null(ft_gemm_ukernel_at(n));
    assert_null(ft_gemm_ukernel_at(-1));
    int seen_scalar = 0;
    for (int i = 0; i < n; i++) {
        const ft_gemm_ukernel_info *a = ft_gemm_ukernel_at(i);
        assert_non_null(a);
        assert_true(ft_gemm_isa_supported(a->isa));
        char tile[32];
        snprintf(tile, sizeof tile, "_%dx%d_", a->mr, a->nr);
        assert_non_null(strstr(a->name, tile));
        assert_non_null(strstr(a->name, ft_gemm_isa_name(a->isa)));
        assert_true(a->mr * a->nr <= 1024);
        seen_scalar |= a->isa == FT_GEMM_ISA_SCALAR;
        for (int j = 0; j < i; j++)
            assert_string_not_equal(a->name, ft_gemm_ukernel_at(j)->name);
    }
    assert_true(seen_scalar);
}

static void isa_the_cpu_lacks_is_refused_and_others_resolve(void **state)
{
    (void)state;
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[4];
    for (int isa = FT_GEMM_ISA_SCALAR; isa <= FT_GEMM_ISA_NEON; isa++) {
        ft_gemm_params p = {0};
        p.isa = isa;
        ft_error err = {0};
        int rc = ft_sgemm(&p, 0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2, &err);
        if (ft_gemm_isa_supported(isa)) {
            assert_int_equal(rc, FT_OK);
            assert_true(C[0] == 1.0f && C[1] == 2.0f && C[2] == 3.0f && C[3] == 4.0f);
        } else {
            assert_int_equal(rc, FT_ERR_UNSUPPORTED);
            assert_non_null(strstr(err.msg, ft_gemm_isa_name(isa)));
        }
    }
#if !defined(__x86_64__)
    assert_false(ft_gemm_isa_supported(FT_GEMM_ISA_AVX2));
    assert_false(ft_gemm_isa_supported(FT_GEMM_ISA_AVX512));
#endif
}

static void inconsistent_schedules_and_arguments_are_refused(void **state)
{
    (void)state;
    float A[64] = {0}, B[64] = {0}, C[64] = {0};
    ft_error err = {0};
    ft_gemm_params p = {0};
    p.isa = 9;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    p.isa = FT_GEMM_ISA_SCALAR;
    p.mr = 5;
    p.nr = 7;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "5x7"));
    p.mr = 4;
    p.nr = 0;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    p.nr = 8;
    p.mc = 6;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    p.mc = 0;
    p.nc = 12;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    p.nc = 0;
    p.kc = -1;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    p.kc = 0;
    p.loop_order = 3;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    p.loop_order = 0;
    p.pack_b = 3;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    p.pack_b = 0;
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_OK);
    /* Leading dimensions shorter than a stored row, transposed or not. */
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 5, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "ldA"));
    assert_int_equal(ft_sgemm(&p, 1, 0, 4, 4, 2, 1, A, 3, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    assert_int_equal(ft_sgemm(&p, 0, 1, 4, 5, 4, 1, A, 4, B, 3, 0, C, 5, &err), FT_ERR_INPUT);
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 5, 4, 1, A, 4, B, 5, 0, C, 4, &err), FT_ERR_INPUT);
    assert_int_equal(ft_sgemm(&p, 2, 0, 4, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    assert_int_equal(ft_sgemm(&p, 0, 0, -1, 4, 4, 1, A, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    assert_int_equal(ft_sgemm(&p, 0, 0, 4, 4, 4, 1, NULL, 4, B, 4, 0, C, 4, &err), FT_ERR_INPUT);
    /* An empty problem touches nothing, NULL pointers included. */
    assert_int_equal(ft_sgemm(&p, 0, 0, 0, 4, 4, 1, NULL, 4, B, 4, 0, NULL, 4, &err), FT_OK);
}

static void short_workspace_is_refused_and_exact_one_suffices(void **state)
{
    (void)state;
    enum { M = 20, N = 40, K = 30 };
    float A[M * K], B[K * N], C[M * N];
    tu_fill_uniform(A, M * K, 5, -1.0f, 1.0f);
    tu_fill_uniform(B, K * N, 6, -1.0f, 1.0f);
    ft_error err = {0};
    for (int order = FT_GEMM_LOOP_BLIS; order <= FT_GEMM_LOOP_A_RESIDENT; order++) {
        ft_gemm_params p = {0};
        p.loop_order = order;
        p.pack_a = p.pack_b = order == FT_GEMM_LOOP_BLIS ? FT_GEMM_PACK : FT_GEMM_IN_PLACE;
        size_t need = 0;
        assert_int_equal(ft_gemm_workspace_size(&p, 0, 0, M, N, K, &need, &err), FT_OK);
        assert_true(need > 0);
        char *ws = malloc(need);
        assert_non_null(ws);
        assert_int_equal(ft_sgemm_ws(&p, 0, 0, M, N, K, 1, A, K, B, N, 0, C, N, ws, need - 1, &err),
                         FT_ERR_INPUT);
        assert_int_equal(ft_sgemm_ws(&p, 0, 0, M, N, K, 1, A, K, B, N, 0, C, N, ws, need, &err),
                         FT_OK);
        assert_true(gemm_error(0, 0, M, N, K, 1, A, K, B, N, 0, C, C, N) < 1e-5);
        free(ws);
    }
}

static void default_params_are_complete_and_resolve_to_themselves(void **state)
{
    (void)state;
    static const int64_t shapes[][3] = {{128, 768, 768}, {128, 3072, 768}, {128, 128, 64},
                                        {1024, 1024, 1024}, {1, 1, 1}, {0, 5, 0}, {3000, 7, 9}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        ft_gemm_params d = ft_gemm_default_params(shapes[s][0], shapes[s][1], shapes[s][2]);
        assert_true(d.mc > 0 && d.kc > 0 && d.nc > 0 && d.mr > 0 && d.nr > 0);
        assert_true(d.isa != FT_GEMM_ISA_AUTO && d.loop_order != FT_GEMM_LOOP_DEFAULT);
        assert_true(d.pack_a != FT_GEMM_PACKING_DEFAULT && d.pack_b != FT_GEMM_PACKING_DEFAULT);
        assert_true(ft_gemm_isa_supported(d.isa));
        ft_gemm_params again;
        ft_error err = {0};
        assert_int_equal(ft_gemm_params_resolve(&d, shapes[s][0], shapes[s][1], shapes[s][2],
                                                &again, &err), FT_OK);
        assert_memory_equal(&d, &again, sizeof d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_ukernel_matches_double_reference_on_random_shapes),
        cmocka_unit_test(default_schedule_matches_reference_on_edge_sizes),
        cmocka_unit_test(beta_zero_overwrites_nan_and_alpha_zero_ignores_a_and_b),
        cmocka_unit_test(pre_packed_b_matches_reference_for_any_m_and_loop_order),
        cmocka_unit_test(enumeration_lists_each_runnable_ukernel_once),
        cmocka_unit_test(isa_the_cpu_lacks_is_refused_and_others_resolve),
        cmocka_unit_test(inconsistent_schedules_and_arguments_are_refused),
        cmocka_unit_test(short_workspace_is_refused_and_exact_one_suffices),
        cmocka_unit_test(default_params_are_complete_and_resolve_to_themselves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
