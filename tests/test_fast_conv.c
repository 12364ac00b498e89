/* test_fast_conv.c - the Conv families (conv.im2col, conv.direct_depthwise, and the NHWC and NCHW16c
 * ones: conv.im2col_nhwc, conv.direct_nchwc): every candidate on random 2-D convolutions (strides,
 * dilations, asymmetric and automatic padding, groups, depthwise, 1x1, bias, constant or not) against
 * the reference kernel, in the layouts it reads and writes; which candidates exist; which family the
 * default plan picks; ResNet-18 end to end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fast/conv_geom.h"
#include "fast/conv_nchwc.h"
#include "fast/fast_util.h"
#include "fast/isa.h"
#include "fast/reorder.h"
#include "fast_check.h"
#include "fast_harness.h"

/* As fh_check_candidate, for candidates in any layout, blocked ones included: the inputs converted
 * into the candidate's layouts and its output read back with ft_reorder; output and scratch poisoned
 * with NaN before each of two runs; the weights poisoned after prepare when the candidate says it
 * released them (it must then never read them again). Returns the worse relative L2 error of the
 * two runs; *released receives the prepare's released bits. */
static double check_laid_out(oh_case *c, const ft_candidate *cand, unsigned *released)
{
    const ft_kernel_family *f = cand->family;
    ft_tensor ins[OH_MAX], outt = *c->out[0];
    ft_tensor *in[OH_MAX], *out[1] = {&outt};
    ft_layout id;
    for (int i = 0; i < c->n_in; i++) {
        in[i] = NULL;
        if (!c->in[i]) continue;
        ins[i] = *c->in[i];
        ins[i].data = fh_alloc_f32(ft_shape_numel(&ins[i].shape), 0.0f);
        ft_layout_identity(&id, ins[i].shape.rank);
        assert_int_equal(ft_reorder(c->in[i]->data, &id, ins[i].data, &cand->in_layout[i], &ins[i].shape, 4), FT_OK);
        in[i] = &ins[i];
    }
    int64_t n_out = ft_shape_numel(&outt.shape);
    outt.data = fh_alloc_f32(n_out, NAN);
    ft_error err = {0};
    ft_kernel_ctx ctx = {&c->node, c->n_in, 1, in, out, cand, NULL, NULL, &err, 0};
    void *state = NULL;
    size_t scratch_bytes = 0;
    if (f->prepare && f->prepare(&ctx, &state, &scratch_bytes) != FT_OK)
        fail_msg("%s: prepare failed: %s", cand->key, err.msg);
    *released = ctx.released;
    for (int i = 0; i < c->n_in; i++)
        if (ctx.released & (1u << i)) {
            assert_true(in[i]->flags & FT_T_CONST);
            float *x = in[i]->data;
            for (int64_t k = 0; k < ft_shape_numel(&in[i]->shape); k++) x[k] = NAN;
        }
    int64_t scratch_floats = (int64_t)((scratch_bytes + sizeof(float) - 1) / sizeof(float));
    float *scratch = scratch_bytes ? fh_alloc_f32(scratch_floats, NAN) : NULL;
    ctx.state = state;
    ctx.scratch = scratch;
    float *got = fh_alloc_f32(n_out, 0.0f);
    double worst = 0.0;
    ft_layout_identity(&id, outt.shape.rank);
    for (int rep = 0; rep < 2; rep++) {
        for (int64_t k = 0; k < n_out; k++) ((float *)outt.data)[k] = NAN;
        for (int64_t k = 0; k < scratch_floats; k++) scratch[k] = NAN;
        if (f->run(&ctx) != FT_OK) fail_msg("%s: run failed: %s", cand->key, err.msg);
        assert_int_equal(ft_reorder(outt.data, &cand->out_layout, got, &id, &outt.shape, 4), FT_OK);
        double e = fh_rel_l2(got, c->out[0]->data, n_out);
        if (e > worst || e != e) worst = e;
    }
    if (f->release && state) f->release(state);
    free(got);
    free(scratch);
    free(outt.data);
    for (int i = 0; i < c->n_in; i++)
        if (in[i]) free(ins[i].data);
    return worst;
}

typedef struct conv_coverage {
    int cases, depthwise, grouped, direct_1x1, weights_b, prepacked;
} conv_coverage;

/* Every candidate of `family` for case c (reference already run) matches the reference; returns
 * how many there were. */
static int check_family(oh_case *c, const char *family, int const_w, conv_coverage *cov)
{
    const ft_kernel_family *f = ft_registry_family(family);
    assert_non_null(f);
    ft_candidate_list l = {0};
    ft_error err = {0};
    assert_int_equal(f->enumerate(&c->node, c->in, c->out, &l, &err), FT_OK);
    for (int i = 0; i < l.n; i++) {
        const ft_candidate *cand = &l.items[i];
        int identity = ft_layout_is_identity(&cand->out_layout);
        for (int j = 0; j < cand->n_in; j++) identity &= ft_layout_is_identity(&cand->in_layout[j]);
        int gemm = strcmp(family, "conv.im2col") == 0;
        assert_true(identity || !gemm);
        int prepack = gemm && cand->params[FT_LP_PREPACK];
        assert_true(!prepack || const_w);
        unsigned released = 0;
        double e = identity ? fh_check_candidate(c, cand, prepack ? 1 : -1) : check_laid_out(c, cand, &released);
        assert_true(!released || const_w);
        if (!(e < 1e-5)) {
            char sx[64], sw[64];
            fail_msg("%s: rel L2 error %g for x %s, w %s", cand->key, e, ft_shape_str(&c->in[0]->shape, sx, sizeof sx),
                     ft_shape_str(&c->in[1]->shape, sw, sizeof sw));
        }
        if (cov && f->prepare) {
            cov->weights_b += strstr(cand->key, "weightsB") != NULL;
            cov->prepacked += prepack;
        }
    }
    int n = l.n;
    ft_candidate_list_free(&l);
    return n;
}

/* What a node's candidate list holds, by the layouts its candidates read and write. */
typedef struct layout_count {
    int all, nhwc, nchwc, nchw_to_nchwc;
} layout_count;

static int is_nhwc(const ft_layout *l)
{
    return l->rank == 4 && !ft_layout_blocked(l) && l->perm[0] == 0 && l->perm[1] == 2 && l->perm[2] == 3 &&
           l->perm[3] == 1;
}

static int is_nchw16c(const ft_layout *l)
{
    return l->rank == 4 && l->block == FT_CONV_BLOCK && l->block_axis == 1 && l->perm[0] == 0 && l->perm[1] == 1 &&
           l->perm[2] == 2 && l->perm[3] == 3;
}

/* Every candidate the registry lists for case c (reference already run) matches the reference in
 * its layouts; the weights stay row-major, and only constant weights are released. */
static layout_count check_all_layouts(oh_case *c)
{
    ft_candidate_list l = {0};
    ft_error err = {0};
    layout_count k = {0};
    assert_int_equal(ft_registry_enumerate(&c->node, c->in, c->out, &l, &err), FT_OK);
    for (int i = 0; i < l.n; i++) {
        const ft_candidate *cand = &l.items[i];
        for (int j = 1; j < cand->n_in; j++) assert_true(ft_layout_is_identity(&cand->in_layout[j]));
        unsigned released = 0;
        double e = check_laid_out(c, cand, &released);
        if (!(e < 1e-5)) {
            char sx[64], sw[64];
            fail_msg("%s: rel L2 error %g for x %s, w %s", cand->key, e, ft_shape_str(&c->in[0]->shape, sx, sizeof sx),
                     ft_shape_str(&c->in[1]->shape, sw, sizeof sw));
        }
        assert_true(released == 0 || released == 2u);
        const ft_layout *li = &cand->in_layout[0], *lo = &cand->out_layout;
        k.all++;
        if (is_nhwc(li) && is_nhwc(lo)) {
            k.nhwc++;
            assert_non_null(strstr(cand->key, "L:0231>0231"));
        }
        if (is_nchw16c(li) && is_nchw16c(lo)) {
            k.nchwc++;
            assert_non_null(strstr(cand->key, "L:0123b1x16>0123b1x16"));
        }
        if (ft_layout_is_identity(li) && is_nchw16c(lo)) {
            k.nchw_to_nchwc++;
            assert_non_null(strstr(cand->key, "L:0123>0123b1x16"));
        }
    }
    ft_candidate_list_free(&l);
    return k;
}

/* A random Conv the reference accepts, run by the reference. Returns 1 when it is depthwise. */
static int random_conv(fh_rng *r, oh_case *c, int *const_w, int *direct)
{
    for (;;) {
        int kind = (int)fh_range(r, 0, 3); /* 0,1: group 1; 2: depthwise; 3: other group counts */
        int64_t group = 1, cg = fh_range(r, 1, 9), mg = fh_range(r, 1, 12);
        if (kind == 2) {
            group = fh_range(r, 1, 8);
            cg = 1;
            mg = fh_range(r, 1, 2);
        } else if (kind == 3) {
            group = fh_range(r, 2, 3);
            cg = fh_range(r, 1, 4);
            mg = fh_range(r, 1, 5);
        }
        int64_t n = fh_range(r, 1, 2), h = fh_range(r, 1, 19), w = fh_range(r, 1, 19);
        int64_t kh = fh_range(r, 1, 5), kw = fh_range(r, 1, 5), st[2] = {fh_range(r, 1, 3), fh_range(r, 1, 3)};
        int64_t dil[2] = {fh_range(r, 1, 2), fh_range(r, 1, 2)};
        int64_t pads[4] = {fh_range(r, 0, 2), fh_range(r, 0, 2), fh_range(r, 0, 2), fh_range(r, 0, 2)};
        *direct = fh_next(r) % 6 == 0;
        if (*direct) {
            kh = kw = st[0] = st[1] = 1;
            memset(pads, 0, sizeof pads);
        }
        static const char *const auto_pads[] = {NULL, NULL, NULL, "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"};
        const char *ap = *direct ? NULL : auto_pads[fh_next(r) % 7];
        oh_init(c, "Conv", 11);
        ft_tensor *x = oh_f32(c, 4, (int64_t[]){n, group * cg, h, w}, NULL);
        ft_tensor *wt = oh_f32(c, 4, (int64_t[]){group * mg, cg, kh, kw}, NULL);
        tu_fill_uniform(x->data, (size_t)ft_shape_numel(&x->shape), fh_next(r), -1.0f, 1.0f);
        tu_fill_uniform(wt->data, (size_t)ft_shape_numel(&wt->shape), fh_next(r), -1.0f, 1.0f);
        *const_w = fh_next(r) % 4 != 0;
        if (*const_w) wt->flags = FT_T_CONST;
        if (fh_next(r) % 2) {
            ft_tensor *b = oh_f32(c, 1, (int64_t[]){group * mg}, NULL);
            tu_fill_uniform(b->data, (size_t)(group * mg), fh_next(r), -1.0f, 1.0f);
        }
        if (fh_next(r) % 2) oh_attr_ints(c, "kernel_shape", 2, (int64_t[]){kh, kw});
        if (st[0] != 1 || st[1] != 1 || fh_next(r) % 2) oh_attr_ints(c, "strides", 2, st);
        if (dil[0] != 1 || dil[1] != 1) oh_attr_ints(c, "dilations", 2, dil);
        if (ap) oh_attr_str(c, "auto_pad", ap);
        if (!ap || strcmp(ap, "NOTSET") == 0) oh_attr_ints(c, "pads", 4, pads);
        if (group != 1 || fh_next(r) % 2) oh_attr_int(c, "group", group);
        oh_outputs(c, 1);
        if (oh_run(c) == FT_OK && ft_shape_numel(&c->out[0]->shape) > 0) return kind == 2;
        oh_free(c); /* the window does not fit the padded input: draw again */
    }
}

static void conv_candidates_match_reference_on_random_convolutions(void **state)
{
    (void)state;
    fh_rng r = {1234};
    conv_coverage cov = {0};
    for (int t = 0; t < 120; t++) {
        oh_case c;
        int const_w, direct;
        int depthwise = random_conv(&r, &c, &const_w, &direct);
        int64_t group = ft_attr_int(&c.node, "group", 1);
        assert_true(check_family(&c, "conv.im2col", const_w, &cov) > 4);
        int n_dw = check_family(&c, "conv.direct_depthwise", const_w, NULL);
        int64_t ch = c.in[0]->shape.dims[1], m = c.in[1]->shape.dims[0];
        assert_int_equal(n_dw, group != ch ? 0 : m != ch ? 1 : ch % 16 ? 2 : 3);
        ft_candidate def;
        ft_error err = {0};
        assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
        assert_string_equal(def.family->name, n_dw ? "conv.direct_depthwise" : "conv.im2col");
        cov.cases++;
        cov.depthwise += depthwise;
        cov.grouped += group > 1 && !depthwise;
        cov.direct_1x1 += direct;
        oh_free(&c);
    }
    assert_true(cov.depthwise > 10 && cov.grouped > 10 && cov.direct_1x1 > 10);
    assert_true(cov.weights_b > 100 && cov.prepacked > 50);
}

/* More channels than one pass of the depthwise kernel's channel loop carries (conv_depthwise.c). */
#define DW_WIDE 64

typedef struct layout_coverage {
    int cases, nchwc, nchw_in, strided, dilated, padded, edges_only, not_const, odd_blocks, nhwc_grouped, nhwc_direct;
    int depthwise_blocked, depthwise_nhwc, depthwise_wide;
} layout_coverage;

/* A random Conv the reference accepts, run by the reference, whose channel counts are multiples of
 * 16 more often than not (so the NCHW16c candidates exist), with every window geometry. */
static void random_blocked_conv(fh_rng *r, oh_case *c, layout_coverage *cov)
{
    for (;;) {
        /* 0-2: C, M multiples of 16; 3: small C; 4: any M; 5: groups; 6: depthwise */
        int kind = (int)fh_range(r, 0, 6);
        int64_t group = 1, cg = 16 * fh_range(r, 1, 2), mg = 16 * fh_range(r, 1, 3);
        if (kind == 3) cg = fh_range(r, 1, 5);
        if (kind == 4) {
            cg = fh_range(r, 1, 20);
            mg = fh_range(r, 1, 20);
        }
        if (kind == 5) {
            group = fh_range(r, 2, 4);
            cg = fh_range(r, 1, 3);
            mg = fh_range(r, 1, 8);
        }
        if (kind == 6) {
            group = fh_next(r) % 2 ? 16 * fh_range(r, 1, 6) : fh_range(r, 1, 150);
            cg = 1;
            mg = fh_next(r) % 4 ? 1 : 2;
        }
        int64_t n = fh_range(r, 1, 2), h = fh_range(r, 1, 15), w = fh_range(r, 1, 33);
        int64_t kh = fh_range(r, 1, 4), kw = fh_range(r, 1, 4), st[2] = {fh_range(r, 1, 3), fh_range(r, 1, 3)};
        int64_t dil[2] = {fh_range(r, 1, 2), fh_range(r, 1, 2)};
        int64_t pads[4] = {fh_range(r, 0, 2), fh_range(r, 0, 2), fh_range(r, 0, 2), fh_range(r, 0, 2)};
        int direct = fh_next(r) % 6 == 0;
        if (direct) {
            kh = kw = st[0] = st[1] = 1;
            memset(pads, 0, sizeof pads);
        }
        static const char *const auto_pads[] = {NULL, NULL, NULL, "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"};
        const char *ap = direct ? NULL : auto_pads[fh_next(r) % 7];
        oh_init(c, "Conv", 11);
        ft_tensor *x = oh_f32(c, 4, (int64_t[]){n, group * cg, h, w}, NULL);
        ft_tensor *wt = oh_f32(c, 4, (int64_t[]){group * mg, cg, kh, kw}, NULL);
        tu_fill_uniform(x->data, (size_t)ft_shape_numel(&x->shape), fh_next(r), -1.0f, 1.0f);
        tu_fill_uniform(wt->data, (size_t)ft_shape_numel(&wt->shape), fh_next(r), -1.0f, 1.0f);
        int const_w = fh_next(r) % 4 != 0;
        if (const_w) wt->flags = FT_T_CONST;
        if (fh_next(r) % 2) {
            ft_tensor *b = oh_f32(c, 1, (int64_t[]){group * mg}, NULL);
            tu_fill_uniform(b->data, (size_t)(group * mg), fh_next(r), -1.0f, 1.0f);
        }
        if (st[0] != 1 || st[1] != 1 || fh_next(r) % 2) oh_attr_ints(c, "strides", 2, st);
        if (dil[0] != 1 || dil[1] != 1) oh_attr_ints(c, "dilations", 2, dil);
        if (ap) oh_attr_str(c, "auto_pad", ap);
        if (!ap || strcmp(ap, "NOTSET") == 0) oh_attr_ints(c, "pads", 4, pads);
        if (group != 1) oh_attr_int(c, "group", group);
        oh_outputs(c, 1);
        if (oh_run(c) != FT_OK || ft_shape_numel(&c->out[0]->shape) == 0) {
            oh_free(c); /* the window does not fit the padded input: draw again */
            continue;
        }
        ft_conv2d_geom g;
        assert_int_equal(ft_conv2d_geom_of(&c->node, c->in, c->out, &g), 0);
        int blocked = group == 1 && g.m % 16 == 0;
        cov->cases++;
        cov->nchwc += blocked && g.c % 16 == 0;
        cov->nchw_in += blocked && g.c % 16 != 0;
        cov->nhwc_grouped += group > 1 && group < g.c;
        cov->depthwise_blocked += group == g.c && g.m == g.c && g.c % 16 == 0;
        cov->depthwise_nhwc += group == g.c && g.m == g.c && g.c % 16 != 0;
        cov->depthwise_wide += group == g.c && g.m == g.c && g.c > DW_WIDE;
        cov->nhwc_direct += direct;
        if (blocked) {
            cov->strided += g.sh > 1 || g.sw > 1;
            cov->dilated += g.dh > 1 || g.dw > 1;
            cov->padded += g.ph > 0 || g.pw > 0;
            cov->edges_only += g.pw > 0 && g.ow <= 2;
            cov->not_const += !const_w;
            cov->odd_blocks += g.m % 32 != 0;
        }
        return;
    }
}

/* Every candidate, in NCHW, NHWC and NCHW16c, against the reference; each convolution gets the
 * NHWC candidates, and the NCHW16c ones exactly when it has one group and a multiple of 16 output
 * channels (reading NCHW16c when its input channels are a multiple of 16 too, NCHW otherwise). */
static void conv_layout_candidates_match_reference_on_random_convolutions(void **state)
{
    (void)state;
    fh_rng r = {777};
    layout_coverage cov = {0};
    for (int t = 0; t < 120; t++) {
        oh_case c;
        random_blocked_conv(&r, &c, &cov);
        ft_conv2d_geom g;
        assert_int_equal(ft_conv2d_geom_of(&c.node, c.in, c.out, &g), 0);
        layout_count k = check_all_layouts(&c);
        int blocked = g.group == 1 && g.m % 16 == 0, depthwise = g.group == g.c && g.m == g.c;
        assert_true(k.nhwc >= 1 && k.nhwc <= 8);
        if (depthwise && g.c > 1) assert_int_equal(k.nhwc, 1); /* the depthwise kernel's, not a GEMM per channel */
        assert_int_equal(k.nchwc > 0, (blocked || depthwise) && g.c % 16 == 0);
        assert_int_equal(k.nchw_to_nchwc > 0, blocked && g.c % 16 != 0);
        assert_true(k.all < 80);
        oh_free(&c);
    }
    assert_true(cov.nchwc > 30 && cov.nchw_in > 5 && cov.strided > 15 && cov.dilated > 15 && cov.padded > 15);
    assert_true(cov.edges_only > 2 && cov.not_const > 5 && cov.odd_blocks > 10);
    assert_true(cov.nhwc_grouped > 5 && cov.nhwc_direct > 5);
    assert_true(cov.depthwise_blocked > 5 && cov.depthwise_nhwc > 5 && cov.depthwise_wide > 5);
}

/* The registry lists the blocked kernels of the widest ISA only (and one tile of the next): here
 * every ISA this CPU runs, every tile of its table, with and without the padded copy, reading
 * NCHW16c and NCHW, on random convolutions. */
static void nchwc_kernels_of_every_isa_and_tile_match_reference(void **state)
{
    (void)state;
    fh_rng r = {4242};
    layout_coverage cov = {0};
    int isas[FT_FAST_N_ISA], n_isa = ft_fast_isas(isas), checked[FT_FAST_N_ISA] = {0}, cases = 0;
    for (int draw = 0; draw < 40 && cases < 12; draw++) {
        oh_case c;
        random_blocked_conv(&r, &c, &cov);
        ft_candidate_list l = {0};
        ft_error err = {0};
        assert_int_equal(ft_registry_enumerate(&c.node, c.in, c.out, &l, &err), FT_OK);
        const ft_candidate *base = NULL;
        for (int i = 0; i < l.n && !base; i++)
            if (l.items[i].family == &ft_family_conv_direct_nchwc) base = &l.items[i];
        for (int a = 0; base && a < n_isa; a++) {
            const ft_conv_nchwc_kernels *k = ft_conv_nchwc_kernels_for(isas[a]);
            if (!k) continue; /* an ISA the portable kernels serve (NEON) */
            for (int t = 0; t < k->n_tiles; t++)
                for (int pad_copy = 0; pad_copy < 2; pad_copy++) {
                    ft_candidate cand = *base;
                    cand.params[FT_NC_ISA] = isas[a];
                    cand.params[FT_NC_OWB] = k->tiles[t].owb;
                    cand.params[FT_NC_OCB] = k->tiles[t].ocb;
                    cand.params[FT_NC_PAD_COPY] = pad_copy;
                    snprintf(cand.key, sizeof cand.key, "%s/ow%doc%d/pad%d", ft_fast_isa_name(isas[a]),
                             k->tiles[t].owb, k->tiles[t].ocb, pad_copy);
                    unsigned released = 0;
                    double e = check_laid_out(&c, &cand, &released);
                    if (!(e < 1e-5)) {
                        char sx[64], sw[64];
                        fail_msg("%s: rel L2 error %g for x %s, w %s", cand.key, e,
                                 ft_shape_str(&c.in[0]->shape, sx, sizeof sx),
                                 ft_shape_str(&c.in[1]->shape, sw, sizeof sw));
                    }
                    checked[a]++;
                }
        }
        cases += base != NULL;
        ft_candidate_list_free(&l);
        oh_free(&c);
    }
    assert_int_equal(cases, 12);
    for (int a = 0; a < n_isa; a++) {
        const ft_conv_nchwc_kernels *k = ft_conv_nchwc_kernels_for(isas[a]);
        assert_true(k ? checked[a] == 12 * 2 * k->n_tiles : isas[a] != FT_FAST_SCALAR);
    }
}

/* The keys the sweep stores for ResNet-18's 56x56 stage: the NHWC GEMM and the NCHW16c direct
 * kernel of the widest ISA, named by their layouts; the default stays the NCHW im2col one. */
static void conv_layout_candidates_have_stable_keys(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 4, (int64_t[]){1, 64, 56, 56}, NULL);
    ft_tensor *w = oh_f32(&c, 4, (int64_t[]){64, 64, 3, 3}, NULL);
    w->flags = FT_T_CONST;
    oh_attr_ints(&c, "pads", 4, (int64_t[]){1, 1, 1, 1});
    oh_outputs(&c, 1);
    assert_int_equal(oh_infer(&c), FT_OK);
    ft_candidate_list l = {0};
    ft_error err = {0};
    assert_int_equal(ft_registry_enumerate(&c.node, c.in, c.out, &l, &err), FT_OK);
    int isas[FT_FAST_N_ISA], a = 0;
    ft_fast_isas(isas);
    while (!ft_conv_nchwc_kernels_for(isas[a])) a++; /* the portable kernels at the latest */
    const ft_conv_nchwc_kernels *k = ft_conv_nchwc_kernels_for(isas[a]);
    char want_nchwc[2][160];
    snprintf(want_nchwc[0], sizeof want_nchwc[0], "conv/nchwc/direct/%s/ow%doc%d/L:0123b1x16>0123b1x16",
             ft_fast_isa_name(isas[a]), k->tiles[0].owb, k->tiles[0].ocb);
    snprintf(want_nchwc[1], sizeof want_nchwc[1], "conv/nchwc/direct/%s/ow%doc%d/padcopy/L:0123b1x16>0123b1x16",
             ft_fast_isa_name(isas[a]), k->tiles[0].owb, k->tiles[0].ocb);
    int found[2] = {0}, nhwc = 0;
    for (int i = 0; i < l.n; i++) {
        for (int j = 0; j < 2; j++) found[j] += strcmp(l.items[i].key, want_nchwc[j]) == 0;
        if (strncmp(l.items[i].key, "conv/nhwc/im2col/", 17) == 0) {
            nhwc++;
            assert_non_null(strstr(l.items[i].key, "/L:0231>0231"));
            assert_string_equal(l.items[i].family->name, "conv.im2col_nhwc");
        }
    }
    assert_int_equal(found[0], 1);
    assert_int_equal(found[1], 1);
    assert_true(nhwc >= 1);
    assert_string_equal(l.items[0].family->name, "conv.im2col");
    assert_true(strncmp(l.items[0].key, "conv/im2col/", 12) == 0);
    ft_candidate_list_free(&l);
    oh_free(&c);
}

/* The shared property harness (fast_check.h) runs every Conv candidate through its own layout
 * conversions: the blocked and NHWC ones included. */
static void conv_layout_candidates_pass_the_shared_harness(void **state)
{
    (void)state;
    static const int64_t shapes[][7] = {
        /* n, c, h, w, m, k, stride */
        {1, 32, 9, 11, 48, 3, 1},
        {2, 3, 12, 10, 16, 5, 2},
        {1, 16, 7, 7, 32, 1, 2},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int64_t *s = shapes[i];
        fc_case c;
        fc_init(&c, "Conv", 11);
        fc_input_f32(&c, 4, (int64_t[]){s[0], s[1], s[2], s[3]}, -1.0f, 1.0f, 11 + i);
        fc_input_f32(&c, 4, (int64_t[]){s[4], s[1], s[5], s[5]}, -1.0f, 1.0f, 23 + i)->flags = FT_T_CONST;
        fc_input_f32(&c, 1, (int64_t[]){s[4]}, -1.0f, 1.0f, 37 + i)->flags = FT_T_CONST;
        fc_attr_ints(&c, "strides", 2, (int64_t[]){s[6], s[6]});
        fc_attr_ints(&c, "pads", 4, (int64_t[]){s[5] / 2, s[5] / 2, s[5] / 2, s[5] / 2});
        fc_outputs(&c, 1);
        ft_candidate_list l;
        fc_enumerate(&c, &l);
        int blocked = 0, nhwc = 0;
        for (int j = 0; j < l.n; j++) {
            blocked += is_nchw16c(&l.items[j].out_layout);
            nhwc += is_nhwc(&l.items[j].out_layout);
        }
        ft_candidate_list_free(&l);
        assert_true(blocked > 0 && nhwc > 0);
        assert_true(fc_check_all(&c, 1e-5) > blocked + nhwc);
        fc_free(&c);
    }
}

/* The shapes of ResNet-18's stages at 224x224, at batch 1: large images with few channels down to
 * 7x7 with 512, the strided 1x1 downsampling, the 7x7 stem. */
static void conv_candidates_match_reference_on_resnet_stage_shapes(void **state)
{
    (void)state;
    static const int64_t shapes[][6] = {
        /* c, h, m, k, stride, pad */
        {3, 56, 16, 7, 2, 3}, {16, 28, 16, 3, 1, 1}, {16, 28, 32, 1, 2, 0},
        {64, 7, 128, 3, 1, 1}, {128, 7, 64, 1, 1, 0},
    };
    fh_rng r = {5};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int64_t *s = shapes[i];
        oh_case c;
        oh_init(&c, "Conv", 11);
        ft_tensor *x = oh_f32(&c, 4, (int64_t[]){1, s[0], s[1], s[1]}, NULL);
        ft_tensor *w = oh_f32(&c, 4, (int64_t[]){s[2], s[0], s[3], s[3]}, NULL);
        ft_tensor *b = oh_f32(&c, 1, (int64_t[]){s[2]}, NULL);
        tu_fill_uniform(x->data, (size_t)ft_shape_numel(&x->shape), fh_next(&r), -1.0f, 1.0f);
        tu_fill_uniform(w->data, (size_t)ft_shape_numel(&w->shape), fh_next(&r), -0.2f, 0.2f);
        tu_fill_uniform(b->data, (size_t)s[2], fh_next(&r), -1.0f, 1.0f);
        w->flags = FT_T_CONST;
        oh_attr_ints(&c, "strides", 2, (int64_t[]){s[4], s[4]});
        oh_attr_ints(&c, "pads", 4, (int64_t[]){s[5], s[5], s[5], s[5]});
        oh_outputs(&c, 1);
        assert_int_equal(oh_run(&c), FT_OK);
        check_family(&c, "conv.im2col", 1, NULL);
        layout_count k = check_all_layouts(&c);
        assert_true(k.nhwc > 0);
        assert_true(s[0] % 16 == 0 ? k.nchwc > 0 && k.nchw_to_nchwc == 0 : k.nchwc == 0 && k.nchw_to_nchwc > 0);
        oh_free(&c);
    }
}

static void convs_other_than_two_dimensional_are_left_to_the_reference(void **state)
{
    (void)state;
    oh_case c;
    oh_init(&c, "Conv", 11);
    oh_f32(&c, 3, (int64_t[]){1, 2, 10}, NULL);
    oh_f32(&c, 3, (int64_t[]){3, 2, 3}, NULL);
    oh_outputs(&c, 1);
    assert_int_equal(oh_infer(&c), FT_OK);
    ft_candidate def;
    ft_error err = {0};
    assert_int_equal(ft_registry_default(&c.node, c.in, c.out, &def, &err), FT_OK);
    assert_string_equal(def.family->name, "reference");
    oh_free(&c);
}

static void resnet18_tiny_matches_pytorch_through_the_default_plan(void **state)
{
    (void)state;
    assert_true(fh_run_model(FT_TEST_DIR "/models/resnet18_tiny", "Conv", "conv.im2col") >= 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_candidates_match_reference_on_random_convolutions),
        cmocka_unit_test(conv_layout_candidates_match_reference_on_random_convolutions),
        cmocka_unit_test(nchwc_kernels_of_every_isa_and_tile_match_reference),
        cmocka_unit_test(conv_layout_candidates_have_stable_keys),
        cmocka_unit_test(conv_layout_candidates_pass_the_shared_harness),
        cmocka_unit_test(conv_candidates_match_reference_on_resnet_stage_shapes),
        cmocka_unit_test(convs_other_than_two_dimensional_are_left_to_the_reference),
        cmocka_unit_test(resnet18_tiny_matches_pytorch_through_the_default_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
