/* bench_gemm.c - fluidtune's sgemm, default and tuned per shape, against single-threaded OpenBLAS.
 *
 * For each shape a small search (the tuner's advantage) times every enumerated microkernel of the
 * widest ISA x loop order x packing of A and B with default blocks, then a few kc x mc around the
 * best four, then re-times the best six with more samples. OpenBLAS cblas_sgemm, fluidtune's
 * default schedule, the tuned one and the tuned one with B pre-packed are then measured
 * interleaved sample by sample in this one process; medians are printed. Every fluidtune result
 * is first checked against OpenBLAS's. Usage: bench_gemm [-q]  (-q: short samples, a smoke run).
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gemm/gemm.h"

typedef struct shape {
    const char *name;
    int batch;
    int64_t M, N, K;
} shape;

/* BERT-base at sequence length 128: QKV/output projections, FFN up/down, attention scores and
 * context per head (12 heads, batched), and a square reference. */
static const shape shapes[] = {
    {"128x768x768 (proj)", 1, 128, 768, 768},
    {"128x2304x768 (qkv)", 1, 128, 2304, 768},
    {"128x3072x768 (ffn1)", 1, 128, 3072, 768},
    {"128x768x3072 (ffn2)", 1, 128, 768, 3072},
    {"12x128x128x64 (q.kT)", 12, 128, 128, 64},
    {"12x128x64x128 (p.v)", 12, 128, 64, 128},
    {"1024x1024x1024", 1, 1024, 1024, 1024},
};
#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

typedef struct problem {
    const shape *s;
    float *A, *B, *C;
    void *ws;
    size_t ws_bytes;
    ft_gemm_packed_b *pb;
} problem;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

enum { RUN_OPENBLAS, RUN_FT, RUN_FT_PACKED };

/* One whole operation (all batch entries). The workspace is sized once for the largest schedule
 * so the timed path never allocates. */
static void run_once(problem *pr, int kind, const ft_gemm_params *p)
{
    const shape *s = pr->s;
    for (int b = 0; b < s->batch; b++) {
        const float *A = pr->A + (size_t)b * (size_t)(s->M * s->K);
        const float *B = pr->B + (size_t)b * (size_t)(s->K * s->N);
        float *C = pr->C + (size_t)b * (size_t)(s->M * s->N);
        ft_error err;
        int rc = FT_OK;
        if (kind == RUN_OPENBLAS)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->M, (int)s->N, (int)s->K,
                        1.0f, A, (int)s->K, B, (int)s->N, 0.0f, C, (int)s->N);
        else if (kind == RUN_FT)
            rc = ft_sgemm_ws(p, 0, 0, s->M, s->N, s->K, 1.0f, A, s->K, B, s->N, 0.0f, C, s->N,
                             pr->ws, pr->ws_bytes, &err);
        else
            rc = ft_sgemm_packed(pr->pb, 0, s->M, 1.0f, A, s->K, 0.0f, C, s->N, pr->ws,
                                 pr->ws_bytes, &err);
        if (rc != FT_OK) {
            fprintf(stderr, "bench_gemm: %s\n", err.msg);
            exit(1);
        }
    }
}

/* GFLOP/s of one sample: enough repetitions to last about min_seconds. */
static double sample(problem *pr, int kind, const ft_gemm_params *p, double min_seconds)
{
    const shape *s = pr->s;
    double flops = 2.0 * (double)s->batch * (double)s->M * (double)s->N * (double)s->K;
    int reps = 0;
    double t0 = now(), t;
    do {
        run_once(pr, kind, p);
        reps++;
        t = now() - t0;
    } while (t < min_seconds);
    return flops * reps / t * 1e-9;
}

#define MAX_CANDIDATES 512

typedef struct candidate {
    ft_gemm_params p;
    double gflops;
} candidate;

static int cmp_candidate(const void *a, const void *b)
{
    double x = ((const candidate *)a)->gflops, y = ((const candidate *)b)->gflops;
    return (x < y) - (x > y);
}

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

static void add_candidate(candidate *c, int *n, ft_gemm_params p)
{
    for (int i = 0; i < *n; i++)
        if (memcmp(&c[i].p, &p, sizeof p) == 0)
            return;
    if (*n < MAX_CANDIDATES)
        c[(*n)++].p = p;
}

/* Stage 1: every tile of the widest ISA x loop order x packing of A and B, default blocks. */
static int enumerate_structures(const shape *s, candidate *c)
{
    int n = 0, best_isa = ft_gemm_default_params(1, 1, 1).isa;
    for (int u = 0; u < ft_gemm_ukernel_count(); u++) {
        const ft_gemm_ukernel_info *uk = ft_gemm_ukernel_at(u);
        if (uk->isa != best_isa)
            continue;
        for (int order = FT_GEMM_LOOP_BLIS; order <= FT_GEMM_LOOP_A_RESIDENT; order++)
            for (int pa = FT_GEMM_PACK; pa <= FT_GEMM_IN_PLACE; pa++)
                for (int pb = FT_GEMM_PACK; pb <= FT_GEMM_IN_PLACE; pb++) {
                    ft_gemm_params p = {0};
                    p.isa = uk->isa;
                    p.mr = uk->mr;
                    p.nr = uk->nr;
                    p.loop_order = order;
                    p.pack_a = pa;
                    p.pack_b = pb;
                    ft_gemm_params q;
                    if (ft_gemm_params_resolve(&p, s->M, s->N, s->K, &q, NULL) == FT_OK)
                        add_candidate(c, &n, q);
                }
    }
    return n;
}

/* Stage 2: around one structure, a few depths kc and row blocks mc, clipped to the problem. */
static void enumerate_blocks(const shape *s, ft_gemm_params base, candidate *c, int *n)
{
    static const int kcs[] = {128, 256, 384, 512};
    static const int rows_a_resident[] = {64, 128, 256};
    static const int rows_blis[] = {96, 192, 384};
    for (int ki = 0; ki <= 4; ki++) {
        int64_t kc = ki < 4 ? kcs[ki] : s->K;
        if (kc > s->K)
            continue;
        for (int mi = 0; mi < 3; mi++) {
            int64_t rows = base.loop_order == FT_GEMM_LOOP_BLIS ? rows_blis[mi] : rows_a_resident[mi];
            ft_gemm_params p = base;
            p.kc = (int)kc;
            p.mc = (int)round_up(rows < s->M ? rows : s->M, p.mr);
            add_candidate(c, n, p);
        }
    }
}

static size_t workspace_for(const shape *s, const ft_gemm_params *p)
{
    size_t bytes = 0;
    ft_error err;
    if (ft_gemm_workspace_size(p, 0, 0, s->M, s->N, s->K, &bytes, &err) != FT_OK) {
        fprintf(stderr, "bench_gemm: %s\n", err.msg);
        exit(1);
    }
    return bytes;
}

/* Times candidates [from, n) with 3 short samples each and sorts all n, fastest first. */
static void time_candidates(problem *pr, candidate *c, int from, int n, double t_sample)
{
    for (int i = from; i < n; i++) {
        size_t need = workspace_for(pr->s, &c[i].p);
        if (need > pr->ws_bytes) {
            free(pr->ws);
            pr->ws = malloc(need);
            pr->ws_bytes = need;
            if (!pr->ws)
                exit(1);
        }
        double v[3];
        for (int r = 0; r < 3; r++)
            v[r] = sample(pr, RUN_FT, &c[i].p, t_sample);
        c[i].gflops = median(v, 3);
    }
    qsort(c, (size_t)n, sizeof c[0], cmp_candidate);
}

/* Structures first, then blocks around the best four, then the best six again, interleaved with
 * more samples. Grows pr->ws to the largest workspace tried. */
static ft_gemm_params search(problem *pr, int quick, int *n_tried)
{
    static candidate c[MAX_CANDIDATES];
    double t_sample = quick ? 0.001 : 0.002;
    int n = enumerate_structures(pr->s, c);
    time_candidates(pr, c, 0, n, t_sample);
    int first = n;
    for (int i = 0; i < 4 && i < first; i++)
        enumerate_blocks(pr->s, c[i].p, c, &n);
    time_candidates(pr, c, first, n, t_sample);
    *n_tried = n;
    int top = n < 6 ? n : 6;
    enum { R = 7 };
    double v[6][R];
    for (int r = 0; r < R; r++)
        for (int i = 0; i < top; i++)
            v[i][r] = sample(pr, RUN_FT, &c[i].p, 2 * t_sample);
    int best = 0;
    for (int i = 0; i < top; i++) {
        c[i].gflops = median(v[i], R);
        if (c[i].gflops > c[best].gflops)
            best = i;
    }
    return c[best].p;
}

static const char *order_name(int o)
{
    return o == FT_GEMM_LOOP_BLIS ? "blis" : o == FT_GEMM_LOOP_A_RESIDENT ? "a-resident" : "default";
}

static const char *packing_name(int p)
{
    return p == FT_GEMM_PACK ? "pack" : p == FT_GEMM_IN_PLACE ? "in-place" : "default";
}

static void fill(float *x, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
}

/* Max |ft - openblas| / max |openblas|: a schedule that is fast but wrong must not be reported. */
static double check_against_openblas(problem *pr, const ft_gemm_params *p, int kind)
{
    const shape *s = pr->s;
    size_t n = (size_t)s->batch * (size_t)(s->M * s->N);
    float *ref = malloc(n * sizeof(float));
    if (!ref)
        exit(1);
    run_once(pr, RUN_OPENBLAS, NULL);
    memcpy(ref, pr->C, n * sizeof(float));
    run_once(pr, kind, p);
    double diff = 0.0, mag = 0.0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)pr->C[i] - ref[i]));
        mag = fmax(mag, fabs((double)ref[i]));
        if (isnan(pr->C[i]))
            diff = INFINITY;
    }
    free(ref);
    return diff / (mag > 0.0 ? mag : 1.0);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "-q") == 0;
    int samples = quick ? 5 : 15;
    double t_sample = quick ? 0.005 : 0.02;
    openblas_set_num_threads(1);
    printf("OpenBLAS: %s (core %s), 1 thread\n", openblas_get_config(), openblas_get_corename());
    printf("fluidtune: default isa %s, %d microkernels on this CPU; medians of %d interleaved samples\n\n",
           ft_gemm_isa_name(ft_gemm_default_params(1, 1, 1).isa), ft_gemm_ukernel_count(), samples);
    printf("%-22s %9s %9s %9s %9s %7s  %s\n", "shape", "openblas", "ft-dflt", "ft-tuned",
           "ft-packB", "ratio", "tuned schedule");
    double log_sum = 0.0;
    for (int si = 0; si < N_SHAPES; si++) {
        const shape *s = &shapes[si];
        problem pr = {s, NULL, NULL, NULL, NULL, 0, NULL};
        size_t na = (size_t)s->batch * (size_t)(s->M * s->K);
        size_t nb = (size_t)s->batch * (size_t)(s->K * s->N);
        size_t nc = (size_t)s->batch * (size_t)(s->M * s->N);
        pr.A = malloc(na * sizeof(float));
        pr.B = malloc(nb * sizeof(float));
        pr.C = malloc(nc * sizeof(float));
        if (!pr.A || !pr.B || !pr.C)
            return 1;
        fill(pr.A, na, 1u + (unsigned)si);
        fill(pr.B, nb, 100u + (unsigned)si);
        memset(pr.C, 0, nc * sizeof(float));

        /* The search grows the workspace to the largest candidate, so the timed path never
         * allocates. */
        ft_gemm_params dflt = ft_gemm_default_params(s->M, s->N, s->K);
        pr.ws_bytes = workspace_for(s, &dflt);
        pr.ws = malloc(pr.ws_bytes);
        if (!pr.ws)
            return 1;
        for (int w = 0; w < 3; w++)
            run_once(&pr, RUN_OPENBLAS, NULL);
        int n_tried = 0;
        ft_gemm_params tuned = search(&pr, quick, &n_tried);
        double err_tuned = check_against_openblas(&pr, &tuned, RUN_FT);
        double err_dflt = check_against_openblas(&pr, &dflt, RUN_FT);
        double err_packed = 0.0;
        if (s->batch == 1) {
            ft_error e;
            pr.pb = ft_gemm_pack_b(&tuned, 0, s->M, s->N, s->K, pr.B, s->N, &e);
            if (!pr.pb) {
                fprintf(stderr, "bench_gemm: %s\n", e.msg);
                return 1;
            }
            err_packed = check_against_openblas(&pr, &tuned, RUN_FT_PACKED);
        }
        if (!(err_tuned < 1e-5 && err_dflt < 1e-5 && err_packed < 1e-5)) {
            fprintf(stderr, "bench_gemm: %s: fluidtune differs from OpenBLAS (rel %.3g/%.3g/%.3g)\n",
                    s->name, err_tuned, err_dflt, err_packed);
            return 1;
        }

        enum { MAX_SAMPLES = 32 };
        double ob[MAX_SAMPLES], fd[MAX_SAMPLES], ft[MAX_SAMPLES], fp[MAX_SAMPLES];
        for (int r = 0; r < samples; r++) {
            /* Alternate who goes first so neither always runs on a cache the other warmed. */
            if (r % 2) {
                ft[r] = sample(&pr, RUN_FT, &tuned, t_sample);
                ob[r] = sample(&pr, RUN_OPENBLAS, NULL, t_sample);
            } else {
                ob[r] = sample(&pr, RUN_OPENBLAS, NULL, t_sample);
                ft[r] = sample(&pr, RUN_FT, &tuned, t_sample);
            }
            fd[r] = sample(&pr, RUN_FT, &dflt, t_sample);
            fp[r] = pr.pb ? sample(&pr, RUN_FT_PACKED, &tuned, t_sample) : 0.0;
        }
        double m_ob = median(ob, samples), m_fd = median(fd, samples);
        double m_ft = median(ft, samples), m_fp = median(fp, samples);
        double ratio = m_ft / m_ob;
        log_sum += log(ratio);
        char packed[16] = "-";
        if (pr.pb)
            snprintf(packed, sizeof packed, "%.1f", m_fp);
        printf("%-22s %9.1f %9.1f %9.1f %9s %6.2fx  %s %dx%d mc=%d kc=%d nc=%d %s A:%s B:%s (%d tried)\n",
               s->name, m_ob, m_fd, m_ft, packed, ratio, ft_gemm_isa_name(tuned.isa), tuned.mr,
               tuned.nr, tuned.mc, tuned.kc, tuned.nc, order_name(tuned.loop_order),
               packing_name(tuned.pack_a), packing_name(tuned.pack_b), n_tried);
        fflush(stdout);
        ft_gemm_packed_b_destroy(pr.pb);
        free(pr.ws);
        free(pr.A);
        free(pr.B);
        free(pr.C);
    }
    printf("\n(GFLOP/s; ratio = ft-tuned / openblas; ft-packB = tuned with B pre-packed, as for weights)\n");
    printf("gemm geomean vs openblas: %.2fx\n", exp(log_sum / N_SHAPES));
    return 0;
}
