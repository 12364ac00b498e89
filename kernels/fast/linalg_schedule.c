/* linalg_schedule.c - the GEMM schedules a MatMul, Gemm or Conv candidate may carry, and their keys. */
#include <stdio.h>
#include <string.h>

#include "linalg_internal.h"

void ft_linalg_schedule_store(const ft_linalg_schedule *s, int32_t *params)
{
    params[FT_LP_ISA] = s->q.isa;
    params[FT_LP_MR] = s->q.mr;
    params[FT_LP_NR] = s->q.nr;
    params[FT_LP_MC] = s->q.mc;
    params[FT_LP_KC] = s->q.kc;
    params[FT_LP_NC] = s->q.nc;
    params[FT_LP_LOOP] = s->q.loop_order;
    params[FT_LP_PACK_A] = s->q.pack_a;
    params[FT_LP_PACK_B] = s->q.pack_b;
    params[FT_LP_PREPACK] = s->prepack;
}

void ft_linalg_schedule_load(const int32_t *params, ft_linalg_schedule *s)
{
    memset(s, 0, sizeof *s);
    s->q.isa = params[FT_LP_ISA];
    s->q.mr = params[FT_LP_MR];
    s->q.nr = params[FT_LP_NR];
    s->q.mc = params[FT_LP_MC];
    s->q.kc = params[FT_LP_KC];
    s->q.nc = params[FT_LP_NC];
    s->q.loop_order = params[FT_LP_LOOP];
    s->q.pack_a = params[FT_LP_PACK_A];
    s->q.pack_b = params[FT_LP_PACK_B];
    s->prepack = params[FT_LP_PREPACK];
}

void ft_linalg_schedule_str(const ft_linalg_schedule *s, char *buf, size_t n)
{
    const ft_gemm_params *q = &s->q;
    int blis = q->loop_order == FT_GEMM_LOOP_BLIS;
    char nc[24] = "";
    if (blis) snprintf(nc, sizeof nc, "nc%d", q->nc);
    snprintf(buf, n, "%s/%dx%d/mc%dkc%d%s/%s/A%s/B%s", ft_gemm_isa_name(q->isa), q->mr, q->nr, q->mc, q->kc, nc,
             blis ? "blis" : "aresident", q->pack_a == FT_GEMM_IN_PLACE ? "inplace" : "pack",
             s->prepack ? "prepack" : q->pack_b == FT_GEMM_IN_PLACE ? "inplace" : "pack");
}

int ft_linalg_workspace(const ft_linalg_schedule *s, const ft_linalg_problem *p, const ft_gemm_packed_b *pb,
                        size_t *bytes, ft_error *err)
{
    if (pb) {
        *bytes = ft_gemm_packed_workspace_size(pb, p->trans_a, p->M);
        return FT_OK;
    }
    return ft_gemm_workspace_size(&s->q, p->trans_a, p->trans_b, p->M, p->N, p->K, bytes, err);
}

static int64_t round_up(int64_t x, int64_t m)
{
    return (x + m - 1) / m * m;
}

/* Resolves the zero fields of s for p and puts knobs that cannot change what runs in one canonical
 * form, so that equal behaviour gives equal keys: transposed operands and pre-packed B are always
 * copied, and a depth block beyond K is K. Returns 0, or -1 when the schedule does not resolve. */
static int canonical(ft_linalg_schedule *s, const ft_linalg_problem *p)
{
    ft_gemm_params q;
    if (ft_gemm_params_resolve(&s->q, p->M, p->N, p->K, &q, NULL) != FT_OK) return -1;
    if (p->trans_a) q.pack_a = FT_GEMM_PACK;
    if (s->prepack || p->trans_b) q.pack_b = FT_GEMM_PACK;
    if (p->K > 0 && q.kc > p->K) q.kc = (int)p->K;
    s->q = q;
    return 0;
}

typedef struct sched_list {
    int n;
    ft_linalg_schedule *items;
    const ft_linalg_problem *p;
} sched_list;

/* Appends s (resolved) unless it fails to resolve, the list is full, or an equal one is there. */
static void add(sched_list *l, ft_linalg_schedule s)
{
    if (l->n == FT_LINALG_MAX_SCHEDULES || canonical(&s, l->p) != 0) return;
    for (int i = 0; i < l->n; i++)
        if (memcmp(&l->items[i], &s, sizeof s) == 0) return;
    l->items[l->n++] = s;
}

/* A tile is worth trying unless it is taller (wider) than the problem while a shorter (narrower)
 * tile of the same ISA exists, or pads the work by more than half again over the ISA's best. */
static int tile_fits(const ft_gemm_ukernel_info *u, const ft_linalg_problem *p)
{
    int min_mr = u->mr, min_nr = u->nr;
    double least = 0.0;
    int64_t M = p->M > 0 ? p->M : 1, N = p->N > 0 ? p->N : 1;
    for (int i = 0; ft_gemm_ukernel_at(i); i++) {
        const ft_gemm_ukernel_info *v = ft_gemm_ukernel_at(i);
        if (v->isa != u->isa) continue;
        if (v->mr < min_mr) min_mr = v->mr;
        if (v->nr < min_nr) min_nr = v->nr;
        double area = (double)round_up(M, v->mr) * (double)round_up(N, v->nr);
        if (least == 0.0 || area < least) least = area;
    }
    if (u->mr > M && u->mr > min_mr) return 0;
    if (u->nr > N && u->nr > min_nr) return 0;
    return (double)round_up(M, u->mr) * (double)round_up(N, u->nr) <= 1.5 * least;
}

/* Blocks re-derived for a changed tile or loop order. */
static ft_linalg_schedule reblocked(ft_linalg_schedule s)
{
    s.q.mc = 0;
    s.q.nc = 0;
    return s;
}

int ft_linalg_schedules(const ft_linalg_problem *p, int short_list, ft_linalg_schedule *out)
{
    sched_list l = {0, out, p};
    ft_linalg_schedule d;
    memset(&d, 0, sizeof d);
    d.q = ft_gemm_default_params(p->M, p->N, p->K);
    d.prepack = p->can_prepack;
    add(&l, d);
    if (l.n == 0) return 0;
    d = out[0];
    const int other_loop = d.q.loop_order == FT_GEMM_LOOP_BLIS ? FT_GEMM_LOOP_A_RESIDENT : FT_GEMM_LOOP_BLIS;

    /* the other loop order, and B copied or read in place, each at the default tile */
    ft_linalg_schedule s = reblocked(d);
    s.q.loop_order = other_loop;
    add(&l, s);
    s = d;
    if (d.prepack) s.prepack = 0;
    else s.q.pack_b = d.q.pack_b == FT_GEMM_PACK ? FT_GEMM_IN_PLACE : FT_GEMM_PACK;
    add(&l, s);

    /* every tile of the default ISA that fits, and the first tile of the next narrower ISA */
    int other_isa_tried = 0;
    for (int i = 0; ft_gemm_ukernel_at(i); i++) {
        const ft_gemm_ukernel_info *u = ft_gemm_ukernel_at(i);
        if (u->isa != d.q.isa) {
            if (other_isa_tried || short_list) continue;
            other_isa_tried = 1;
        } else if (!tile_fits(u, p) || (u->mr == d.q.mr && u->nr == d.q.nr)) {
            continue;
        }
        s = reblocked(d);
        s.q.isa = u->isa;
        s.q.mr = u->mr;
        s.q.nr = u->nr;
        add(&l, s);
        if (short_list && l.n >= 4) break;
    }
    if (short_list) return l.n;

    /* depth blocks; a block of all of K when K is small enough to keep a panel in L1/L2 */
    static const int kcs[] = {256, 384, 512, 768};
    for (size_t i = 0; i < sizeof kcs / sizeof kcs[0]; i++)
        if (kcs[i] < p->K || (kcs[i] == 768 && p->K <= 768)) {
            s = d;
            s.q.kc = kcs[i] < p->K ? kcs[i] : (int)p->K;
            add(&l, s);
        }

    /* both loop orders with B packed, read in place and pre-packed */
    static const int loops[] = {FT_GEMM_LOOP_BLIS, FT_GEMM_LOOP_A_RESIDENT};
    static const int packs[] = {FT_GEMM_PACK, FT_GEMM_IN_PLACE};
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            s = reblocked(d);
            s.q.loop_order = loops[i];
            s.q.pack_b = packs[j];
            s.prepack = 0;
            add(&l, s);
        }
        if (p->can_prepack) {
            s = reblocked(d);
            s.q.loop_order = loops[i];
            s.prepack = 1;
            add(&l, s);
        }
    }

    /* A copied or read in place */
    s = d;
    s.q.pack_a = d.q.pack_a == FT_GEMM_PACK ? FT_GEMM_IN_PLACE : FT_GEMM_PACK;
    add(&l, s);

    /* row blocks: only where A spans several of them */
    if (p->M > 2 * (int64_t)d.q.mc) {
        s = d;
        s.q.mc = (int)round_up(d.q.mc / 2 > d.q.mr ? d.q.mc / 2 : d.q.mr, d.q.mr);
        add(&l, s);
        s.q.mc = d.q.mc * 2;
        add(&l, s);
    }
    /* column blocks of BLIS order: only where B spans several of them */
    if (d.q.loop_order == FT_GEMM_LOOP_BLIS && p->N > (int64_t)d.q.nc / 2) {
        s = d;
        s.q.nc = (int)round_up(d.q.nc / 4 > d.q.nr ? d.q.nc / 4 : d.q.nr, d.q.nr);
        add(&l, s);
    }
    return l.n;
}

int ft_linalg_push_schedules(const ft_linalg_problem *p, const ft_kernel_family *f, const ft_node *n,
                             ft_tensor *const *in, ft_tensor *const *out, const char *prefix, const char *suffix,
                             ft_candidate_list *list, ft_error *err)
{
    ft_linalg_schedule sched[FT_LINALG_MAX_SCHEDULES];
    int ns = ft_linalg_schedules(p, 0, sched);
    for (int s = 0; s < ns; s++) {
        ft_candidate c;
        char sk[96];
        ft_candidate_init(&c, f, n, in, out);
        ft_linalg_schedule_store(&sched[s], c.params);
        ft_linalg_schedule_str(&sched[s], sk, sizeof sk);
        snprintf(c.key, sizeof c.key, "%s/%s%s%s", prefix, sk, suffix ? "/" : "", suffix ? suffix : "");
        if (ft_candidate_list_push(list, &c) != 0)
            return ft_fail(err, FT_ERR_NOMEM, "node '%s': out of memory listing candidates", n->name);
    }
    return FT_OK;
}
