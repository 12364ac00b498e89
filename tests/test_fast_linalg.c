/* test_fast_linalg.c - the matmul.gemm and gemm.gemm families: every candidate on random shapes,
 * broadcasts and layouts against the reference kernels; the attention layouts; the default
 * candidate; the candidate budget of BERT's signatures; whole models through the default plan. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fast_harness.h"

/* 1, primes, and sizes around the 8/16/32/48/64-wide register tiles. */
static const int64_t edge_sizes[] = {1,  2,  3,  5,  7,  8,  13, 16,  17,  31,  32,
                                     33, 47, 48, 49, 64, 65, 97, 127, 131, 149, 150};
#define N_EDGE ((int)(sizeof edge_sizes / sizeof edge_sizes[0]))

static int64_t pick_size(fh_rng *r)
{
    return fh_next(r) % 2 ? edge_sizes[fh_range(r, 0, N_EDGE - 1)] : fh_range(r, 1, 150);
}

typedef struct coverage {
    int cases, candidates, transposed_a, transposed_b, transposed_c, prepacked;
} coverage;

static void set_hints(ft_candidate_list *l, const ft_layout_set *hints)
{
    for (int i = 0; i < 2; i++) l->in_hints[i] = hints[i];
    l->out_hints = hints[2];
}

/* Every candidate of family `family` for case c (reference already run) matches the reference. */
static void check_all_candidates(oh_case *c, const char *family, const ft_layout_set *hints, int const_input,
                                 coverage *cov)
{
    const ft_kernel_family *f = ft_registry_family(family);
    assert_non_null(f);
    ft_candidate_list l = {0};
    if (hints) set_hints(&l, hints);
    ft_error err = {0};
    assert_int_equal(f->enumerate(&c->node, c->in, c->out, &l, &err), FT_OK);
    if (l.n == 0) fail_msg("%s enumerated nothing", family);
    for (int j = 0; j < l.items[0].n_in; j++) assert_true(ft_layout_is_identity(&l.items[0].in_layout[j]));
    assert_true(ft_layout_is_identity(&l.items[0].out_layout));
    for (int i = 0; i < l.n; i++) {
        const ft_candidate *cand = &l.items[i];
        assert_ptr_equal(cand->family, f);
        int packed = cand->params[FT_LP_PREPACK] ? const_input : -1;
        assert_true(!cand->params[FT_LP_PREPACK] || const_input >= 0);
        double e = fh_check_candidate(c, cand, packed);
        if (!(e < 1e-5)) {
            char sa[64], sb[64];
            fail_msg("%s: rel L2 error %g for %s x %s", cand->key, e, ft_shape_str(&c->in[0]->shape, sa, sizeof sa),
                     ft_shape_str(&c->in[1]->shape, sb, sizeof sb));
        }
        if (cov) {
            cov->candidates++;
            cov->prepacked += cand->params[FT_LP_PREPACK] != 0;
            cov->transposed_a += !ft_layout_is_identity(&cand->in_layout[0]);
            cov->transposed_b += !ft_layout_is_identity(&cand->in_layout[1]);
            cov->transposed_c += !ft_layout_is_identity(&cand->out_layout);
        }
    }
    if (cov) cov->cases++;
    ft_candidate_list_free(&l);
}

/* A MatMul case: ranks 1..4, batch dims broadcast at random, work kept small. */
static void matmul_case(fh_rng *r, oh_case *c, int *const_input)
{
    int ra = (int)fh_range(r, 1, 4), rb = (int)fh_range(r, 1, 4);
    int nb = ra - 2 > rb - 2 ? ra - 2 : rb - 2;
    int64_t batch[2] = {1, 1}, work = 1;
    for (int i = 0; i < nb; i++) work *= batch[i] = fh_range(r, 1, 3);
    int64_t M = pick_size(r), N = pick_size(r), K = pick_size(r);
    while (work * M * N * K > 1500000) {
        if (M >= N && M >= K) M = M / 2 + 1;
        else if (N >= K) N = N / 2 + 1;
        else K = K / 2 + 1;
    }
    int64_t ad[FT_MAX_RANK], bd[FT_MAX_RANK];
    for (int i = 0; i < ra - 2; i++) ad[i] = fh_next(r) % 3 ? batch[nb - (ra - 2) + i] : 1;
    for (int i = 0; i < rb - 2; i++) bd[i] = fh_next(r) % 3 ? batch[nb - (rb - 2) + i] : 1;
    if (ra == 1) ad[0] = K;
    else {
        ad[ra - 2] = M;
        ad[ra - 1] = K;
    }
    if (rb == 1) bd[0] = K;
    else {
        bd[rb - 2] = K;
        bd[rb - 1] = N;
    }
    oh_init(c, "MatMul", 13);
    ft_tensor *a = oh_f32(c, ra, ad, NULL), *b = oh_f32(c, rb, bd, NULL);
    tu_fill_uniform(a->data, (size_t)ft_shape_numel(&a->shape), fh_next(r), -1.0f, 1.0f);
    tu_fill_uniform(b->data, (size_t)ft_shape_numel(&b->shape), fh_next(r), -1.0f, 1.0f);
    /* weights are usually B; a constant A exercises pre-packing in the swapped (C^T) form */
    uint64_t k = fh_next(r) % 4;
    *const_input = k < 2 ? 1 : k == 2 ? 0 : -1;
    if (*const_input >= 0) c->in[*const_input]->flags = FT_T_CONST;
    oh_outputs(c, 1);
    assert_int_equal(oh_run(c), FT_OK);
}

/* Hints per operand: the last two axes swapped (column-major matrices), and random permutations. */
static void random_hints(fh_rng *r, oh_case *c, ft_layout_set *hints)
{
    const ft_tensor *t[3] = {c->in[0], c->in[1], c->out[0]};
    for (int i = 0; i < 3; i++) {
        int rank = t[i]->shape.rank;
        hints[i].n = 0;
        if (rank < 2) continue;
        ft_layout *l = &hints[i].l[hints[i].n++];
        ft_layout_identity(l, rank);
        l->perm[rank - 2] = (uint8_t)(rank - 1);
        l->perm[rank - 1] = (uint8_t)(rank - 2);
        for (int k = 0; k < 2; k++) fh_random_perm(r, rank, &hints[i].l[hints[i].n++]);
    }
}

static void matmul_candidates_match_reference_on_random_shapes_and_layouts(void **state)
{
    (void)state;
    fh_rng r = {2024};
    coverage cov = {0};
    for (int t = 0; t < 70; t++) {
        oh_case c;
        int const_input;
        matmul_case(&r, &c, &const_input);
        ft_layout_set hints[3];
        random_hints(&r, &c, hints);
        check_all_candidates(&c, "matmul.gemm", hints, const_input, &cov);
        oh_free(&c);
    }
    /* the random cases reached every path: layouts of each operand, C^T, pre-packed B */
    assert_true(cov.transposed_a > 20 && cov.transposed_b > 20 && cov.transposed_c > 20);
    assert_true(cov.prepacked > 20);
    assert_true(cov.candidates > 10 * cov.cases);
}

static void matmul_serves_one_dimensional_and_empty_operands(void **state)
{
    (void)state;
    static const struct {
        int rank[2];
        int64_t dims[2][4];
    } cases[] = {
        {{1, 1}, {{37}, {37}}},                /* dot product: [37] x [37] -> [] */
        {{1, 4}, {{50}, {3, 4, 50, 9}}},       /* a vector times a batch of matrices */
        {{4, 1}, {{3, 2, 5, 64}, {64}}},       /* a batch of matrices times a vector */
        {{2, 3}, {{1, 33}, {2, 33, 1}}},       /* single rows and columns */
        {{2, 2}, {{3, 0}, {0, 4}}},            /* K = 0: zeros, without reading A or B */
        {{3, 2}, {{2, 0, 5}, {5, 4}}},         /* M = 0: nothing to write */
    };
    fh_rng r = {7};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oh_case c;
        oh_init(&c, "MatMul", 13);
        for (int k = 0; k < 2; k++) {
            ft_tensor *t = oh_f32(&c, cases[i].rank[k], cases[i].dims[k], NULL);
            tu_fill_uniform(t->data, (size_t)ft_shape_numel(&t->shape), fh_next(&r), -1.0f, 1.0f);
        }
        c.in[1]->flags = FT_T_CONST;
        oh_outputs(&c, 1);
        assert_int_equal(oh_run(&c), FT_OK);
        check_all_candidates(&c, "matmul.gemm", NULL, 1, NULL);
        oh_free(&c);
    }
}

static int has_layouts(const ft_candidate_list *l, const ft_layout *a, const ft_layout *b, const ft_layout *c)
{
    for (int i = 0; i < l->n; i++)
        if (ft_layout_equal(&l->items[i].in_layout[0], a) && ft_layout_equal(&l->items[i].in_layout[1], b) &&
            ft_layout_equal(&l->items[i].out_layout, c))
            return 1;
    return 0;
}

/* BERT's attention reads Q and K^T out of [1,S,H,D] projections through Transposes and writes the
 * context back through one: with the layouts that make those Transposes relabellings, both
 * MatMuls must still have candidates, and they must compute the right thing. */
static void attention_transposes_are_read_and_written_in_place(void **state)
{
    (void)state;
    const int64_t S = 19, H = 3, D = 8;
    const int64_t q_perm[4] = {0, 2, 1, 3}, k_perm[4] = {0, 2, 3, 1};
    ft_layout id, lq, lk, lctx;
    ft_layout_identity(&id, 4);
    ft_layout_after_transpose(&id, q_perm, &lq); /* Q = Transpose(q, 0213) stored as q */
    ft_layout_after_transpose(&id, k_perm, &lk); /* K^T = Transpose(k, 0231) stored as k */
    ft_layout_identity(&lctx, 4);
    for (int i = 0; i < 4; i++) lctx.perm[i] = (uint8_t)q_perm[i];
    lctx.rank = 4; /* ctx whose Transpose(ctx, 0213) is row-major: stored as [1,S,H,D] */
    fh_rng r = {99};

    /* scores = Q K^T */
    oh_case c;
    oh_init(&c, "MatMul", 13);
    ft_tensor *q = oh_f32(&c, 4, (int64_t[]){1, H, S, D}, NULL), *k = oh_f32(&c, 4, (int64_t[]){1, H, D, S}, NULL);
    tu_fill_uniform(q->data, (size_t)(H * S * D), fh_next(&r), -1.0f, 1.0f);
    tu_fill_uniform(k->data, (size_t)(H * S * D), fh_next(&r), -1.0f, 1.0f);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    ft_layout_set hints[3] = {{1, {lq}}, {1, {lk}}, {0, {{.rank = 0}}}};
    ft_candidate_list l = {0};
    set_hints(&l, hints);
    ft_error err = {0};
    assert_int_equal(ft_registry_family("matmul.gemm")->enumerate(&c.node, c.in, c.out, &l, &err), FT_OK);
    assert_true(has_layouts(&l, &lq, &lk, &id));
    ft_candidate_list_free(&l);
    check_all_candidates(&c, "matmul.gemm", hints, -1, NULL);
    oh_free(&c);

    /* ctx = P V, V = Transpose(v, 0213), ctx written as [1,S,H,D] */
    oh_init(&c, "MatMul", 13);
    ft_tensor *p = oh_f32(&c, 4, (int64_t[]){1, H, S, S}, NULL), *v = oh_f32(&c, 4, (int64_t[]){1, H, S, D}, NULL);
    tu_fill_uniform(p->data, (size_t)(H * S * S), fh_next(&r), 0.0f, 1.0f);
    tu_fill_uniform(v->data, (size_t)(H * S * D), fh_next(&r), -1.0f, 1.0f);
    oh_outputs(&c, 1);
    assert_int_equal(oh_run(&c), FT_OK);
    ft_layout_set hints2[3] = {{0, {{.rank = 0}}}, {1, {lq}}, {1, {lctx}}};
    memset(&l, 0, sizeof l);
    set_hints(&l, hints2);
    assert_int_equal(ft_registry_family("matmul.gemm")->enumerate(&c.node, c.in, c.out, &l, &err), FT_OK);
    assert_true(has_layouts(&l, &id, &lq, &lctx));
    ft_candidate_list_free(&l);
    check_all_candidates(&c, "matmul.gemm", hints2, -1, NULL);
    oh_free(&c);
}

/* A matrix part with neither axis contiguous cannot be read by the GEMM: such hints are dropped
 * rather than served wrongly, while the servable hints still appear. */
static void layouts_without_a_contiguous_matrix_axis_are_not_enumerated(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "MatMul", 13);
    oh_f32(&c, 3, (int64_t[]){4, 5, 6}, NULL);
    oh_f32(&c, 3, (int64_t[]){4, 6, 7}, NULL);
    oh_outputs(&c, 1);
    assert_int_equal(oh_infer(&c), FT_OK);
    ft_layout bad = {.rank = 3, .perm = {2, 1, 0}}, good = {.rank = 3, .perm = {0, 2, 1}};
    ft_candidate_list l = {0};
    l.in_hints[0].n = 2;
    l.in_hints[0].l[0] = bad;
    l.in_hints[0].l[1] = good;
    ft_error err = {0};
    assert_int_equal(ft_registry_family("matmul.gemm")->enumerate(&c.node, c.in, c.out, &l, &err), FT_OK);
    int n_good = 0;
    for (int i = 0; i < l.n; i++) {
        assert_false(ft_layout_equal(&l.items[i].in_layout[0], &bad));
        n_good += ft_layout_equal(&l.items[i].in_layout[0], &good);
    }
    assert_true(n_good > 0);
    ft_candidate_list_free(&l);
    oh_free(&c);
}

static void default_candidate_is_row_major_with_the_default_schedule(void **state)
{
    (void)state;
    for (int constant = 0; constant < 2; constant++) {
        oh_case c;
        oh_init(&c, "MatMul", 13);
        oh_f32(&c, 3, (int64_t[]){1, 128, 768}, NULL);
        oh_f32(&c, 2, (int64_t[]){768, 3072}, NULL);
        if (constant) c.in[1]->flags = FT_T_CONST;
        oh_outputs(&c, 1);
        assert_int_equal(oh_infer(&c), FT_OK);
        ft_candidate def;
        ft_error err = {0};
        assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
        assert_string_equal(def.family->name, "matmul.gemm");
        ft_gemm_params q = ft_gemm_default_params(128, 3072, 768);
        assert_int_equal(def.params[FT_LP_ISA], q.isa);
        assert_int_equal(def.params[FT_LP_MR], q.mr);
        assert_int_equal(def.params[FT_LP_NR], q.nr);
        assert_int_equal(def.params[FT_LP_MC], q.mc);
        assert_int_equal(def.params[FT_LP_KC], q.kc);
        assert_int_equal(def.params[FT_LP_LOOP], q.loop_order);
        assert_int_equal(def.params[FT_LP_PREPACK], constant);
        oh_free(&c);
    }
}

static int count_candidates(const char *op, int ra, const int64_t *a, int rb, const int64_t *b, int const_b,
                            const ft_layout_set *hints)
{
    oh_case c;
    oh_init(&c, op, 13);
    oh_f32(&c, ra, a, NULL);
    oh_f32(&c, rb, b, NULL);
    if (const_b) c.in[1]->flags = FT_T_CONST;
    oh_outputs(&c, 1);
    assert_int_equal(oh_infer(&c), FT_OK);
    ft_candidate_list l = {0};
    if (hints) set_hints(&l, hints);
    ft_error err = {0};
    assert_int_equal(ft_registry_enumerate(&c.node, c.in, c.out, &l, &err), FT_OK);
    for (int i = 1; i < l.n; i++) assert_non_null(strstr(l.items[i].key, "A:"));
    int n = l.n;
    ft_candidate_list_free(&l);
    oh_free(&c);
    return n;
}

/* A sweep measures every candidate of every signature: BERT-base's six MatMul signatures must offer
 * a real choice of schedules yet stay small enough to measure in minutes. */
static void bert_signatures_have_a_sweepable_number_of_candidates(void **state)
{
    (void)state;
    int n = count_candidates("MatMul", 3, (int64_t[]){1, 128, 768}, 2, (int64_t[]){768, 768}, 1, NULL);
    assert_in_range(n, 10, 41);
    n = count_candidates("MatMul", 3, (int64_t[]){1, 128, 3072}, 2, (int64_t[]){3072, 768}, 1, NULL);
    assert_in_range(n, 10, 41);
    ft_layout id, lq, lk;
    ft_layout_identity(&id, 4);
    ft_layout_after_transpose(&id, (int64_t[]){0, 2, 1, 3}, &lq);
    ft_layout_after_transpose(&id, (int64_t[]){0, 2, 3, 1}, &lk);
    ft_layout_set scores[3] = {{1, {lq}}, {1, {lk}}, {0, {{.rank = 0}}}};
    n = count_candidates("MatMul", 4, (int64_t[]){1, 12, 128, 64}, 4, (int64_t[]){1, 12, 64, 128}, 0, scores);
    assert_in_range(n, 10, 50);
    ft_layout lctx = {.rank = 4, .perm = {0, 2, 1, 3}};
    ft_layout_set context[3] = {{0, {{.rank = 0}}}, {1, {lq}}, {1, {lctx}}};
    n = count_candidates("MatMul", 4, (int64_t[]){1, 12, 128, 128}, 4, (int64_t[]){1, 12, 128, 64}, 0, context);
    assert_in_range(n, 10, 50);
}

/* ---- Gemm ---- */

static void gemm_candidates_match_reference_for_every_attribute_and_bias(void **state)
{
    (void)state;
    fh_rng r = {31337};
    static const float alphas[] = {1.0f, 0.5f, -2.0f}, betas[] = {1.0f, 0.25f, 0.0f, -1.5f};
    for (int t = 0; t < 40; t++) {
        int64_t M = pick_size(&r), N = pick_size(&r), K = pick_size(&r);
        while (M * N * K > 1500000) K = K / 2 + 1;
        int ta = (int)(fh_next(&r) % 2), tb = (int)(fh_next(&r) % 2), bias = (int)(t % 8);
        oh_case c;
        oh_init(&c, "Gemm", 13);
        ft_tensor *a = oh_f32(&c, 2, ta ? (int64_t[]){K, M} : (int64_t[]){M, K}, NULL);
        ft_tensor *b = oh_f32(&c, 2, tb ? (int64_t[]){N, K} : (int64_t[]){K, N}, NULL);
        tu_fill_uniform(a->data, (size_t)(M * K), fh_next(&r), -1.0f, 1.0f);
        tu_fill_uniform(b->data, (size_t)(N * K), fh_next(&r), -1.0f, 1.0f);
        int const_b = (int)(fh_next(&r) % 3 != 0);
        if (const_b) b->flags = FT_T_CONST;
        /* no C, scalar, [1], [N], [M,N], [1,N], [M,1], [1,1] */
        static const int c_rank[] = {-1, 0, 1, 1, 2, 2, 2, 2};
        int64_t cd[2] = {1, 1};
        if (bias == 3) cd[0] = N;
        if (bias == 4) cd[0] = M, cd[1] = N;
        if (bias == 5) cd[1] = N;
        if (bias == 6) cd[0] = M;
        if (c_rank[bias] >= 0) {
            ft_tensor *ct = oh_f32(&c, c_rank[bias], cd, NULL);
            tu_fill_uniform(ct->data, (size_t)ft_shape_numel(&ct->shape), fh_next(&r), -1.0f, 1.0f);
        }
        if (ta || fh_next(&r) % 2) oh_attr_int(&c, "transA", ta);
        if (tb || fh_next(&r) % 2) oh_attr_int(&c, "transB", tb);
        if (t % 3) oh_attr_float(&c, "alpha", alphas[fh_next(&r) % 3]);
        if (t % 2) oh_attr_float(&c, "beta", betas[fh_next(&r) % 4]);
        oh_outputs(&c, 1);
        assert_int_equal(oh_run(&c), FT_OK);
        check_all_candidates(&c, "gemm.gemm", NULL, const_b ? 1 : -1, NULL);
        ft_candidate def;
        ft_error err = {0};
        assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
        assert_string_equal(def.family->name, "gemm.gemm");
        oh_free(&c);
    }
}

static void non_float_matmul_is_left_to_the_reference(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "MatMul", 13);
    oh_input(&c, FT_INT64, 2, (int64_t[]){2, 3}, NULL, 0);
    oh_input(&c, FT_INT64, 2, (int64_t[]){3, 2}, NULL, 0);
    oh_outputs(&c, 1);
    assert_int_equal(oh_infer(&c), FT_OK);
    ft_candidate def;
    ft_error err = {0};
    assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
    assert_string_equal(def.family->name, "reference");
    oh_free(&c);
}

/* ---- matmul.fused ---- */

/* A FusedMatMul case: A of rank 1..3, constant B [K,N], bias ([N] or [1,N]) and residual each present
 * or not, activation none / relu / gelu; values spread so that GELU and Relu see both signs. */
static void fused_case(fh_rng *r, oh_case *c, int *has_bias, int *has_res, const char **act, int *trans_b)
{
    static const char *const acts[] = {"none", "relu", "gelu"};
    int ra = (int)fh_range(r, 1, 3);
    int64_t M = pick_size(r), N = pick_size(r), K = pick_size(r), B0 = ra == 3 ? fh_range(r, 1, 3) : 1;
    while (B0 * M * N * K > 1500000) {
        if (M >= N && M >= K) M = M / 2 + 1;
        else if (N >= K) N = N / 2 + 1;
        else K = K / 2 + 1;
    }
    *trans_b = (int)(fh_next(r) % 2);
    int64_t ad[3], bd[2] = {*trans_b ? N : K, *trans_b ? K : N}, yd[3];
    if (ra == 1) ad[0] = K;
    if (ra == 2) ad[0] = M, ad[1] = K;
    if (ra == 3) ad[0] = B0, ad[1] = M, ad[2] = K;
    int ry = ra; /* the product drops A's K and gains B's N */
    for (int i = 0; i < ra - 1; i++) yd[i] = ad[i];
    yd[ry - 1] = N;
    *has_bias = (int)(fh_next(r) % 2);
    *has_res = (int)(fh_next(r) % 2);
    *act = acts[fh_next(r) % 3];
    oh_init(c, "FusedMatMul", 1);
    c->node.domain = (char *)FT_DOMAIN;
    ft_tensor *a = oh_f32(c, ra, ad, NULL), *b = oh_input(c, FT_FLOAT, 2, bd, NULL, FT_T_CONST);
    tu_fill_uniform(a->data, (size_t)ft_shape_numel(&a->shape), fh_next(r), -1.0f, 1.0f);
    tu_fill_uniform(b->data, (size_t)ft_shape_numel(&b->shape), fh_next(r), -1.0f, 1.0f);
    if (*has_bias) {
        int64_t bias_d[2] = {1, N};
        int rb = fh_next(r) % 2 && ry >= 2 ? 2 : 1;
        ft_tensor *bias = oh_input(c, FT_FLOAT, rb, rb == 2 ? bias_d : bias_d + 1, NULL, FT_T_CONST);
        tu_fill_uniform(bias->data, (size_t)N, fh_next(r), -2.0f, 2.0f);
    } else {
        oh_omit_input(c);
    }
    if (*has_res) {
        ft_tensor *res = oh_f32(c, ry, yd, NULL);
        tu_fill_uniform(res->data, (size_t)ft_shape_numel(&res->shape), fh_next(r), -2.0f, 2.0f);
    } else {
        oh_omit_input(c);
    }
    oh_attr_str(c, "activation", *act);
    oh_attr_int(c, "transB", *trans_b);
    oh_outputs(c, 1);
    assert_int_equal(oh_run(c), FT_OK);
}

static void fused_matmul_candidates_match_reference_for_every_epilogue(void **state)
{
    (void)state;
    fh_rng r = {77};
    int seen[2][2][3] = {{{0}}}, transposed = 0;
    coverage cov = {0};
    for (int t = 0; t < 60; t++) {
        oh_case c;
        int has_bias, has_res, trans_b;
        const char *act;
        fused_case(&r, &c, &has_bias, &has_res, &act, &trans_b);
        transposed += trans_b;
        seen[has_bias][has_res][act[0] == 'n' ? 0 : act[0] == 'r' ? 1 : 2]++;
        check_all_candidates(&c, "matmul.fused", NULL, 1, &cov);
        oh_free(&c);
    }
    for (int b = 0; b < 2; b++)
        for (int res = 0; res < 2; res++)
            for (int a = 0; a < 3; a++) assert_true(seen[b][res][a] > 0);
    assert_true(transposed > 15 && transposed < 45);
    assert_true(cov.prepacked > 20 && cov.candidates > 5 * cov.cases);
}

static void fused_matmul_reference_is_the_unfused_chain(void **state)
{
    (void)state;
    /* y = gelu(x w + b + res) by the FusedMatMul reference against MatMul, Add, Add and the five ops of
     * PyTorch's GELU run one by one: bit for bit, since each step rounds the same way. */
    int64_t xd[2] = {3, 5}, wd[2] = {5, 4}, bd[1] = {4}, yd[2] = {3, 4};
    float x[15], w[20], b[4], res[12];
    tu_fill_uniform(x, 15, 1, -2, 2);
    tu_fill_uniform(w, 20, 2, -2, 2);
    tu_fill_uniform(b, 4, 3, -2, 2);
    tu_fill_uniform(res, 12, 4, -2, 2);
    oh_case f;
    oh_init(&f, "FusedMatMul", 1);
    f.node.domain = (char *)FT_DOMAIN;
    oh_f32(&f, 2, xd, x);
    oh_input(&f, FT_FLOAT, 2, wd, w, FT_T_CONST);
    oh_input(&f, FT_FLOAT, 1, bd, b, FT_T_CONST);
    oh_f32(&f, 2, yd, res);
    oh_attr_str(&f, "activation", "gelu");
    oh_outputs(&f, 1);
    assert_int_equal(oh_run(&f), FT_OK);
    oh_case m;
    oh_init(&m, "MatMul", 13);
    oh_f32(&m, 2, xd, x);
    oh_f32(&m, 2, wd, w);
    oh_outputs(&m, 1);
    assert_int_equal(oh_run(&m), FT_OK);
    const float *y = f.out[0]->data, *p = m.out[0]->data;
    for (int i = 0; i < 12; i++) {
        float v = p[i] + b[i % 4];
        v = v + res[i];
        float e = erff(v / 1.4142135381698608f);
        float want = (v * (e + 1.0f)) * 0.5f;
        assert_true(y[i] == want);
    }
    oh_free(&f);
    oh_free(&m);
    /* an activation it does not know is refused by name */
    oh_init(&f, "FusedMatMul", 1);
    f.node.domain = (char *)FT_DOMAIN;
    oh_f32(&f, 2, xd, x);
    oh_f32(&f, 2, wd, w);
    oh_attr_str(&f, "activation", "swish");
    oh_outputs(&f, 1);
    assert_int_equal(oh_infer(&f), FT_ERR_UNSUPPORTED);
    assert_non_null(strstr(f.err.msg, "swish"));
    oh_free(&f);
}

/* ---- whole models ---- */

static void bert_tiny_matches_pytorch_through_the_default_plan(void **state)
{
    (void)state;
    /* 2 layers: the 4 attention products stay MatMuls; Q, K, V, output, FFN in and FFN out fuse */
    assert_int_equal(fh_run_model(FT_TEST_DIR "/models/bert_tiny", "MatMul", "matmul.gemm"), 4);
    assert_int_equal(fh_run_model(FT_TEST_DIR "/models/bert_tiny", "FusedMatMul", "matmul.fused"), 12);
    assert_true(fh_run_model(FT_TEST_DIR "/models/gpt2_tiny", "MatMul", "matmul.gemm") >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matmul_candidates_match_reference_on_random_shapes_and_layouts),
        cmocka_unit_test(matmul_serves_one_dimensional_and_empty_operands),
        cmocka_unit_test(attention_transposes_are_read_and_written_in_place),
        cmocka_unit_test(layouts_without_a_contiguous_matrix_axis_are_not_enumerated),
        cmocka_unit_test(default_candidate_is_row_major_with_the_default_schedule),
        cmocka_unit_test(bert_signatures_have_a_sweepable_number_of_candidates),
        cmocka_unit_test(gemm_candidates_match_reference_for_every_attribute_and_bias),
        cmocka_unit_test(non_float_matmul_is_left_to_the_reference),
        cmocka_unit_test(fused_matmul_candidates_match_reference_for_every_epilogue),
        cmocka_unit_test(fused_matmul_reference_is_the_unfused_chain),
        cmocka_unit_test(bert_tiny_matches_pytorch_through_the_default_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
