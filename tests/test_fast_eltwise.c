/* test_fast_eltwise.c - the tuned elementwise, softmax, layer-norm and reduction families: every
 * candidate against the reference kernel on random shapes, layouts and data, plus the accuracy of
 * the vector math and the shape of the candidate lists. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fast/f32_ew.h"
#include "fast/fast_util.h"
#include "fast/isa.h"
#include "fast_check.h"

#define TOL_EXACT 0.0
#define TOL_MATH 2e-6
#define TOL_REDUCE 1e-5

/* A random shape of this rank with at most max_numel elements. */
static void random_shape(uint64_t *s, int rank, int64_t max_numel, int64_t *dims)
{
    for (;;) {
        int64_t n = 1;
        for (int i = 0; i < rank; i++) n *= dims[i] = fc_dim(s);
        if (n <= max_numel) return;
    }
}

static int count_keys_with(const ft_candidate_list *l, const char *part)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) n += strstr(l->items[i].key, part) != NULL;
    return n;
}

/* ---- vector math ------------------------------------------------------------------------------- */

static double libm_ref(int op, double x)
{
    switch (op) {
    case FT_EW_EXP: return exp(x);
    case FT_EW_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case FT_EW_TANH: return tanh(x);
    default: return erf(x);
    }
}

static void vector_math_stays_within_a_few_ulp_of_libm(void **state)
{
    (void)state;
    static const int ops[] = {FT_EW_EXP, FT_EW_SIGMOID, FT_EW_TANH, FT_EW_ERF};
    const size_t n = 1u << 19;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    int isas[FT_FAST_N_ISA], n_isa = ft_fast_isas(isas);
    for (int k = 0; k < n_isa; k++) {
        const ft_f32_ew_kernels *kern = ft_f32_ew_for_isa(isas[k]);
        assert_non_null(kern);
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            double lo = ops[o] == FT_EW_EXP ? -103.0 : -40.0, hi = ops[o] == FT_EW_EXP ? 88.0 : 40.0;
            /* even elements span the range evenly, odd ones are tiny magnitudes of both signs */
            for (size_t i = 0; i < n; i++)
                x[i] = i & 1 ? (float)((i & 2 ? -1 : 1) * pow(10.0, -30.0 + 31.0 * (double)i / (double)n))
                             : (float)(lo + (hi - lo) * (double)i / (double)n);
            kern->unary(ops[o], 2, x, y, (int64_t)n);
            double worst = 0;
            size_t at = 0;
            for (size_t i = 0; i < n; i++) {
                double r = libm_ref(ops[o], x[i]);
                if (fabs(r) < FLT_MIN) continue; /* subnormal results carry fewer digits */
                double e = fabs((double)y[i] - r) / fabs(r);
                if (e > worst) {
                    worst = e;
                    at = i;
                }
            }
            if (worst > 4e-7)
                fail_msg("%s op %d: relative error %.3g at x = %.9g", ft_fast_isa_name(isas[k]), ops[o], worst,
                         (double)x[at]);
        }
        /* special values: NaN propagates, limits are exact */
        const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 100.0f, -100.0f};
        float out[7];
        kern->unary(FT_EW_EXP, 1, sp, out, 7);
        assert_true(isnan(out[0]) && out[1] == INFINITY && out[2] == 0.0f && out[3] == 1.0f && out[5] == INFINITY);
        kern->unary(FT_EW_SIGMOID, 1, sp, out, 7);
        assert_true(isnan(out[0]) && out[1] == 1.0f && out[2] == 0.0f && out[3] == 0.5f && out[5] == 1.0f);
        assert_true(out[6] > 0.0f && out[6] < 1e-40f);
        kern->unary(FT_EW_TANH, 1, sp, out, 7);
        assert_true(isnan(out[0]) && out[1] == 1.0f && out[2] == -1.0f && out[3] == 0.0f && signbit(out[4]));
        kern->unary(FT_EW_ERF, 1, sp, out, 7);
        assert_true(isnan(out[0]) && out[1] == 1.0f && out[2] == -1.0f && out[6] == -1.0f && signbit(out[4]));
    }
    free(x);
    free(y);
}

/* ---- unary ------------------------------------------------------------------------------------- */

typedef struct unary_case {
    const char *op;
    float lo, hi;
    double tol;
} unary_case;

static void unary_ops_match_the_reference_in_every_layout(void **state)
{
    (void)state;
    static const unary_case cases[] = {
        {"Relu", -3, 3, TOL_EXACT},     {"Neg", -3, 3, TOL_EXACT},        {"Abs", -3, 3, TOL_EXACT},
        {"Sqrt", 0, 10, TOL_EXACT},     {"Reciprocal", 0.25f, 4, TOL_EXACT}, {"Exp", -20, 20, TOL_MATH},
        {"Sigmoid", -20, 20, TOL_MATH}, {"Tanh", -5, 5, TOL_MATH},        {"Erf", -4, 4, TOL_MATH},
    };
    uint64_t s = 42;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (int trial = 0; trial < 10; trial++) {
            fc_case c;
            int64_t dims[4];
            int rank = 1 + fc_randint(&s, 4);
            random_shape(&s, rank, 6000, dims);
            fc_init(&c, cases[k].op, 17);
            fc_input_f32(&c, rank, dims, cases[k].lo, cases[k].hi, fc_rand(&s));
            fc_outputs(&c, 1);
            fc_random_hints(&s, rank, &c.in_hints[0]);
            fc_random_hints(&s, rank, &c.out_hints);
            assert_true(fc_check_all(&c, cases[k].tol) > 0);
            fc_free(&c);
        }
}

static void nan_and_infinities_propagate_like_the_reference(void **state)
{
    (void)state;
    static const char *const ops[] = {"Relu", "Exp", "Sigmoid", "Tanh", "Erf", "Sqrt", "Abs", "Neg"};
    const float vals[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.5f, -2.5f, 90.0f, -90.0f, NAN, 3.0f,
                          -0.5f, 7.0f, -7.0f, 0.25f, -1e-20f, 1e-20f, 40.0f, -40.0f};
    int64_t n = (int64_t)(sizeof vals / sizeof vals[0]);
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        fc_case c;
        fc_init(&c, ops[k], 17);
        fc_input_const_f32(&c, 1, &n, vals)->flags = 0;
        fc_outputs(&c, 1);
        assert_true(fc_check_all(&c, TOL_MATH) > 0);
        fc_free(&c);
    }
    /* ReduceMax and Softmax rows holding NaN */
    for (int op = 0; op < 2; op++) {
        fc_case c;
        int64_t dims[2] = {1, n};
        fc_init(&c, op ? "Softmax" : "ReduceMax", 13);
        fc_input_const_f32(&c, 2, dims, vals)->flags = 0;
        fc_outputs(&c, 1);
        if (!op) fc_attr_ints(&c, "axes", 1, (const int64_t[]){1});
        assert_true(fc_check_all(&c, TOL_REDUCE) > 0);
        fc_free(&c);
    }
}

/* ---- binary ------------------------------------------------------------------------------------ */

/* A shape that broadcasts to out: trailing axes of out, some set to 1 (rank >= min_rank). */
static void broadcast_shape(uint64_t *s, int rank, const int64_t *out, int min_rank, int *r, int64_t *dims)
{
    *r = min_rank + fc_randint(s, rank - min_rank + 1);
    for (int i = 0; i < *r; i++) dims[i] = fc_randint(s, 3) == 0 ? 1 : out[rank - *r + i];
}

static void binary_ops_broadcast_like_the_reference(void **state)
{
    (void)state;
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div"};
    uint64_t s = 7;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
        for (int trial = 0; trial < 24; trial++) {
            fc_case c;
            int64_t out[4], da[4], db[4];
            int rank = 1 + fc_randint(&s, 4), ra = rank, rb;
            random_shape(&s, rank, 5000, out);
            for (int i = 0; i < rank; i++) da[i] = trial % 3 == 0 || fc_randint(&s, 4) ? out[i] : 1;
            broadcast_shape(&s, rank, out, trial % 4 == 1 ? 0 : 1, &rb, db);
            fc_init(&c, ops[k], 14);
            int swap = trial & 1;
            fc_input_f32(&c, swap ? rb : ra, swap ? db : da, 0.5f, 3.0f, fc_rand(&s));
            fc_input_f32(&c, swap ? ra : rb, swap ? da : db, -3.0f, -0.5f, fc_rand(&s));
            fc_outputs(&c, 1);
            fc_random_hints(&s, c.in[0]->shape.rank, &c.in_hints[0]);
            fc_random_hints(&s, c.in[1]->shape.rank, &c.in_hints[1]);
            fc_random_hints(&s, rank, &c.out_hints);
            assert_true(fc_check_all(&c, TOL_EXACT) > 0);
            fc_free(&c);
        }
}

static void broadcast_input_takes_the_output_order_when_it_has_that_hint(void **state)
{
    (void)state;
    /* out [4,6,8] stored as 021: a [4,1,8] input is the same bytes row-major; a [6,8] input needs
     * the order 10 to be read contiguously, which it gets when it has that hint */
    ft_layout l = {.rank = 3, .perm = {0, 2, 1}}, t = {.rank = 2, .perm = {1, 0}};
    for (int with_hint = 0; with_hint < 2; with_hint++) {
        fc_case c;
        fc_init(&c, "Add", 14);
        fc_input_f32(&c, 3, (const int64_t[]){4, 6, 8}, -1, 1, 1);
        fc_input_f32(&c, with_hint ? 2 : 3, with_hint ? (const int64_t[]){6, 8} : (const int64_t[]){4, 1, 8}, -1, 1, 2);
        fc_outputs(&c, 1);
        c.out_hints.n = c.in_hints[0].n = 1;
        c.out_hints.l[0] = c.in_hints[0].l[0] = l;
        if (with_hint) {
            c.in_hints[1].n = 1;
            c.in_hints[1].l[0] = t;
        }
        ft_candidate_list list;
        fc_enumerate(&c, &list);
        int seen = 0;
        for (int i = 0; i < list.n; i++) {
            if (!strstr(list.items[i].key, "L:021")) continue;
            seen++;
            assert_true(ft_layout_equal(&list.items[i].in_layout[0], &l));
            if (with_hint) assert_true(ft_layout_equal(&list.items[i].in_layout[1], &t));
            else assert_true(ft_layout_is_identity(&list.items[i].in_layout[1]));
        }
        assert_true(seen > 0);
        ft_candidate_list_free(&list);
        assert_true(fc_check_all(&c, TOL_EXACT) > 0);
        fc_free(&c);
    }
}

/* ---- Pow and Where ----------------------------------------------------------------------------- */

static void pow_takes_vector_paths_for_constant_exponents(void **state)
{
    (void)state;
    static const float exps[] = {2.0f, 3.0f, 0.5f, 1.7f};
    uint64_t s = 99;
    for (size_t k = 0; k < sizeof exps / sizeof exps[0]; k++) {
        fc_case c;
        int64_t dims[3];
        random_shape(&s, 3, 3000, dims);
        fc_init(&c, "Pow", 15);
        fc_input_f32(&c, 3, dims, 0.0f, 4.0f, fc_rand(&s));
        fc_input_const_f32(&c, 0, NULL, &exps[k]);
        fc_outputs(&c, 1);
        fc_random_hints(&s, 3, &c.in_hints[0]);
        ft_candidate_list list;
        fc_enumerate(&c, &list);
        int vector = count_keys_with(&list, "/avx") + count_keys_with(&list, "/scalar");
        /* 1.7 is the general power: scalar only (pow in double, exactly as the reference) */
        if (k == 3) assert_int_equal(count_keys_with(&list, "/avx"), 0);
        assert_true(vector > 0);
        ft_candidate_list_free(&list);
        assert_true(fc_check_all(&c, k == 1 || k == 3 ? TOL_MATH : TOL_EXACT) > 0);
        fc_free(&c);
    }
    /* a run-time exponent tensor broadcast against the base */
    fc_case c;
    fc_init(&c, "Pow", 15);
    fc_input_f32(&c, 2, (const int64_t[]){5, 7}, 0.1f, 3.0f, 3);
    fc_input_f32(&c, 1, (const int64_t[]){7}, -2.0f, 2.0f, 4);
    fc_outputs(&c, 1);
    assert_true(fc_check_all(&c, TOL_MATH) > 0);
    fc_free(&c);
    /* pow(-0, .5) = +0 and pow(-inf, .5) = +inf unlike sqrt */
    const float base[] = {-0.0f, -INFINITY, INFINITY, 0.0f, -1.0f, 4.0f, NAN, 2.0f, 9.0f};
    const float half = 0.5f;
    int64_t nb = 9;
    fc_init(&c, "Pow", 15);
    fc_input_const_f32(&c, 1, &nb, base)->flags = 0;
    fc_input_const_f32(&c, 0, NULL, &half);
    fc_outputs(&c, 1);
    assert_true(fc_check_all(&c, TOL_EXACT) > 0);
    fc_free(&c);
}

static void where_selects_like_the_reference(void **state)
{
    (void)state;
    uint64_t s = 5;
    for (int trial = 0; trial < 30; trial++) {
        fc_case c;
        int64_t out[4], dc[4], dx[4], dy[4];
        int rank = 1 + fc_randint(&s, 4), rc, rx, ry;
        random_shape(&s, rank, 4000, out);
        broadcast_shape(&s, rank, out, trial < 5 ? rank : 0, &rc, dc);
        broadcast_shape(&s, rank, out, 0, &rx, dx);
        broadcast_shape(&s, rank, out, trial % 2 ? rank : 0, &ry, dy);
        fc_init(&c, "Where", 16);
        fc_input_bool(&c, rc, dc, fc_rand(&s));
        fc_input_f32(&c, rx, dx, -1, 1, fc_rand(&s));
        fc_input_f32(&c, ry, dy, 5, 6, fc_rand(&s));
        fc_outputs(&c, 1);
        for (int i = 0; i < 3; i++) fc_random_hints(&s, c.in[i]->shape.rank, &c.in_hints[i]);
        fc_random_hints(&s, rank, &c.out_hints);
        assert_true(fc_check_all(&c, TOL_EXACT) > 0);
        fc_free(&c);
    }
}

/* ---- Softmax, LayerNormalization, reductions ------------------------------------------------------ */

static void softmax_matches_on_every_axis_and_opset(void **state)
{
    (void)state;
    uint64_t s = 11;
    for (int trial = 0; trial < 40; trial++) {
        fc_case c;
        int64_t dims[4];
        int rank = 1 + fc_randint(&s, 4);
        random_shape(&s, rank, 5000, dims);
        fc_init(&c, trial % 4 == 3 ? "LogSoftmax" : "Softmax", trial % 3 == 0 ? 11 : 13);
        fc_input_f32(&c, rank, dims, -8, 8, fc_rand(&s));
        fc_outputs(&c, 1);
        if (trial % 2 || rank == 1) fc_attr_int(&c, "axis", fc_randint(&s, rank) - (trial % 4 == 1 ? rank : 0));
        fc_random_hints(&s, rank, &c.in_hints[0]);
        fc_random_hints(&s, rank, &c.out_hints);
        assert_true(fc_check_all(&c, TOL_REDUCE) > 0);
        fc_free(&c);
    }
}

static void layernorm_matches_with_and_without_bias_and_statistics(void **state)
{
    (void)state;
    uint64_t s = 13;
    for (int trial = 0; trial < 40; trial++) {
        fc_case c;
        int64_t dims[4], pd[4];
        int rank = 1 + fc_randint(&s, 4), axis = fc_randint(&s, rank);
        random_shape(&s, rank, 5000, dims);
        /* scale over the normalised axes, sometimes with broadcast 1s or fewer leading axes */
        int pr = rank - axis - (trial % 3 == 2 && rank - axis > 1);
        for (int i = 0; i < pr; i++) pd[i] = trial % 4 == 1 && fc_randint(&s, 2) ? 1 : dims[rank - pr + i];
        fc_init(&c, "LayerNormalization", 17);
        /* an offset mean checks that centring keeps its precision */
        fc_input_f32(&c, rank, dims, trial % 5 == 4 ? 100.0f : -2.0f, trial % 5 == 4 ? 101.0f : 2.0f, fc_rand(&s));
        fc_input_f32(&c, pr, pd, 0.5f, 1.5f, fc_rand(&s));
        if (trial % 2) fc_input_f32(&c, pr, pd, -1, 1, fc_rand(&s));
        fc_outputs(&c, trial % 3 == 0 ? 3 : 1);
        fc_attr_int(&c, "axis", axis - (trial % 2 ? rank : 0));
        if (trial % 4 == 2) fc_attr_float(&c, "epsilon", 1e-3f);
        fc_random_hints(&s, rank, &c.in_hints[0]);
        fc_random_hints(&s, rank, &c.out_hints);
        if (axis > 0 && c.in_hints[0].n < 6) { /* axis 0 innermost: the block is read across columns */
            ft_layout *l = &c.in_hints[0].l[c.in_hints[0].n++];
            l->rank = rank;
            for (int i = 0; i < rank; i++) l->perm[i] = (uint8_t)((i + 1) % rank);
        }
        assert_true(fc_check_all(&c, TOL_REDUCE) > 0);
        fc_free(&c);
    }
}

static void reductions_match_over_contiguous_axis_blocks(void **state)
{
    (void)state;
    static const char *const ops[] = {"ReduceSum", "ReduceMean", "ReduceMax"};
    uint64_t s = 17;
    for (size_t k = 0; k < 3; k++)
        for (int trial = 0; trial < 24; trial++) {
            fc_case c;
            int64_t dims[4], axes[4];
            int rank = 1 + fc_randint(&s, 4), n_axes = 0;
            random_shape(&s, rank, 5000, dims);
            /* last axis, a run of trailing axes, a middle block or random axes */
            int first = trial % 4 == 0 ? rank - 1 : fc_randint(&s, rank);
            int last = trial % 4 == 2 ? first + fc_randint(&s, rank - first) : rank - 1;
            for (int a = first; a <= last; a++) axes[n_axes++] = a - (trial & 1 ? rank : 0);
            if (trial % 8 == 7) n_axes = 0; /* every axis */
            int opset = trial % 3 == 0 ? (k == 0 ? 13 : 18) : 11;
            fc_init(&c, ops[k], opset);
            fc_input_f32(&c, rank, dims, -4, 4, fc_rand(&s));
            if (opset >= 13) fc_input_const_i64(&c, n_axes, axes);
            else if (n_axes) fc_attr_ints(&c, "axes", n_axes, axes);
            fc_outputs(&c, 1);
            fc_attr_int(&c, "keepdims", trial % 2);
            fc_random_hints(&s, rank, &c.in_hints[0]);
            assert_true(fc_check_all(&c, TOL_REDUCE) > 0);
            fc_free(&c);
        }
}

/* ---- candidate lists ------------------------------------------------------------------------------- */

static void layouts_that_split_the_reduced_axes_are_not_enumerated(void **state)
{
    (void)state;
    fc_case c;
    fc_init(&c, "ReduceMean", 11);
    fc_input_f32(&c, 3, (const int64_t[]){4, 5, 6}, -1, 1, 3);
    fc_attr_ints(&c, "axes", 2, (const int64_t[]){0, 2});
    fc_outputs(&c, 1);
    c.in_hints[0].n = 2;
    c.in_hints[0].l[0] = (ft_layout){.rank = 3, .perm = {0, 2, 1}}; /* 0 and 2 adjacent: served */
    c.in_hints[0].l[1] = (ft_layout){.rank = 3, .perm = {2, 1, 0}}; /* 1 still splits them */
    ft_candidate_list list;
    fc_enumerate(&c, &list);
    assert_int_equal(count_keys_with(&list, "L:012"), 0);
    assert_int_equal(count_keys_with(&list, "L:210"), 0);
    assert_true(count_keys_with(&list, "L:021") > 0);
    ft_candidate_list_free(&list);
    assert_true(fc_check_all(&c, TOL_REDUCE) > 0);
    fc_free(&c);
}

static void hints_that_only_move_size_one_axes_are_pruned(void **state)
{
    (void)state;
    fc_case c;
    fc_init(&c, "Relu", 14);
    fc_input_f32(&c, 4, (const int64_t[]){1, 5, 1, 7}, -1, 1, 3);
    fc_outputs(&c, 1);
    c.in_hints[0].n = 2;
    c.in_hints[0].l[0] = (ft_layout){.rank = 4, .perm = {2, 1, 0, 3}}; /* the same bytes as row-major */
    c.in_hints[0].l[1] = (ft_layout){.rank = 4, .perm = {0, 3, 2, 1}}; /* a real transposition */
    ft_candidate_list list;
    fc_enumerate(&c, &list);
    assert_int_equal(count_keys_with(&list, "L:2103"), 0);
    assert_true(count_keys_with(&list, "L:0321") > 0);
    for (int i = 0; i < list.n; i++) {
        for (int j = 0; j < i; j++) assert_string_not_equal(list.items[i].key, list.items[j].key);
    }
    ft_candidate_list_free(&list);
    fc_free(&c);
}

static void default_candidate_is_the_first_row_major_tuned_one(void **state)
{
    (void)state;
    fc_case c;
    ft_error err = {0};
    ft_candidate def;
    fc_init(&c, "Add", 14);
    fc_input_f32(&c, 2, (const int64_t[]){3, 40}, -1, 1, 1);
    fc_input_f32(&c, 1, (const int64_t[]){40}, -1, 1, 2);
    fc_outputs(&c, 1);
    c.out_hints.n = 1;
    c.out_hints.l[0] = (ft_layout){.rank = 2, .perm = {1, 0}};
    ft_candidate_list list;
    fc_enumerate(&c, &list);
    assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
    assert_string_equal(def.family->name, "eltwise.add");
    assert_true(ft_layout_is_identity(&def.out_layout) && ft_layout_is_identity(&def.in_layout[0]));
    assert_int_equal(def.params[0], ft_fast_isa_best());
    assert_string_equal(list.items[0].key, def.key);
    ft_candidate_list_free(&list);
    fc_free(&c);
    /* float64 is left to the reference kernel */
    fc_init(&c, "Exp", 14);
    fc_input(&c, FT_DOUBLE, 1, (const int64_t[]){4});
    fc_outputs(&c, 1);
    fc_enumerate(&c, &list);
    assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
    assert_string_equal(def.family->name, "reference");
    assert_int_equal(list.n, 1);
    ft_candidate_list_free(&list);
    fc_free(&c);
}

static void every_family_is_found_by_name(void **state)
{
    (void)state;
    static const char *const names[] = {
        "eltwise.relu", "eltwise.sigmoid", "eltwise.tanh", "eltwise.erf", "eltwise.exp", "eltwise.sqrt",
        "eltwise.neg", "eltwise.abs", "eltwise.reciprocal", "eltwise.add", "eltwise.sub", "eltwise.mul",
        "eltwise.div", "eltwise.pow", "eltwise.where", "softmax.fast", "logsoftmax.fast", "layernorm.fast",
        "reducesum.fast", "reducemean.fast", "reducemax.fast"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const ft_kernel_family *f = ft_registry_family(names[i]);
        if (!f) fail_msg("family %s is not registered", names[i]);
        assert_string_equal(f->name, names[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vector_math_stays_within_a_few_ulp_of_libm),
        cmocka_unit_test(unary_ops_match_the_reference_in_every_layout),
        cmocka_unit_test(nan_and_infinities_propagate_like_the_reference),
        cmocka_unit_test(binary_ops_broadcast_like_the_reference),
        cmocka_unit_test(broadcast_input_takes_the_output_order_when_it_has_that_hint),
        cmocka_unit_test(pow_takes_vector_paths_for_constant_exponents),
        cmocka_unit_test(where_selects_like_the_reference),
        cmocka_unit_test(softmax_matches_on_every_axis_and_opset),
        cmocka_unit_test(layernorm_matches_with_and_without_bias_and_statistics),
        cmocka_unit_test(reductions_match_over_contiguous_axis_blocks),
        cmocka_unit_test(layouts_that_split_the_reduced_axes_are_not_enumerated),
        cmocka_unit_test(hints_that_only_move_size_one_axes_are_pruned),
        cmocka_unit_test(default_candidate_is_the_first_row_major_tuned_one),
        cmocka_unit_test(every_family_is_found_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
