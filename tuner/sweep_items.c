/* sweep_items.c - building, ordering, sharding and resuming the sweep's work list. */
#include "sweep_items.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "ops.h"

static int op_selected(const char *ops, const char *op)
{
    if (!ops) return 1;
    size_t n = strlen(op);
    for (const char *p = ops; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, op, n) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static int find_sig(const ft_sweep_items *s, const char *text)
{
    for (int i = 0; i < s->n_signatures; i++)
        if (strcmp(s->sig_text[i], text) == 0) return i;
    return -1;
}

static int add_sig(ft_sweep_items *s, const char *text, const char *op)
{
    char **t = realloc(s->sig_text, (size_t)(s->n_signatures + 1) * sizeof *t);
    if (!t) return -1;
    s->sig_text = t;
    char **o = realloc(s->sig_op, (size_t)(s->n_signatures + 1) * sizeof *o);
    if (!o) return -1;
    s->sig_op = o;
    int64_t *ids = realloc(s->sig_ids, (size_t)(s->n_signatures + 1) * sizeof *ids);
    if (!ids) return -1;
    s->sig_ids = ids;
    s->sig_text[s->n_signatures] = strdup(text);
    s->sig_op[s->n_signatures] = strdup(op);
    s->sig_ids[s->n_signatures] = 0;
    if (!s->sig_text[s->n_signatures] || !s->sig_op[s->n_signatures]) return -1;
    return s->n_signatures++;
}

static int add_items(ft_sweep_items *s, const ft_graph *g, int node, const ft_candidate_list *l, ft_error *err)
{
    char text[1024];
    ft_node_signature(g, node, text, sizeof text);
    int sig = find_sig(s, text);
    if (sig < 0 && (sig = add_sig(s, text, g->nodes[node].op_type)) < 0) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    for (int k = 0; k < l->n; k++) {
        int dup = 0;
        for (int i = 0; i < s->n && !dup; i++) dup = s->items[i].sig == sig && strcmp(s->items[i].cand.key, l->items[k].key) == 0;
        if (dup) continue;
        if (s->n == s->cap) {
            int cap = s->cap ? 2 * s->cap : 64;
            ft_sweep_item *it = realloc(s->items, (size_t)cap * sizeof *it);
            if (!it) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
            s->items = it;
            s->cap = cap;
        }
        ft_sweep_item *it = &s->items[s->n++];
        it->sig = sig;
        it->graph = g;
        it->node = node;
        it->cand = l->items[k];
    }
    return FT_OK;
}

static const ft_sweep_items *sort_ctx;

static int cmp_item(const void *a, const void *b)
{
    const ft_sweep_item *x = a, *y = b;
    int c = strcmp(sort_ctx->sig_text[x->sig], sort_ctx->sig_text[y->sig]);
    return c ? c : strcmp(x->cand.key, y->cand.key);
}

int ft_sweep_items_build(const ft_graph *g, const char *ops, ft_sweep_items *s, ft_error *err)
{
    memset(s, 0, sizeof *s);
    ft_layout_set *hints = calloc((size_t)g->n_tensors + 1, sizeof *hints);
    if (!hints) return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    int rc = ft_layout_hints(g, hints, err);
    for (int i = 0; rc == FT_OK && i < g->n_nodes; i++) {
        const ft_node *n = &g->nodes[i];
        if ((n->op->flags & FT_OP_VIEW) || !op_selected(ops, n->op_type)) continue;
        ft_candidate_list l = {0};
        rc = ft_node_candidates(g, i, hints, &l, err);
        if (rc == FT_OK) rc = add_items(s, g, i, &l, err);
        ft_candidate_list_free(&l);
    }
    if (rc == FT_OK && op_selected(ops, "Reorder")) {
        rc = ft_conversion_graph(g, hints, &s->conv, &s->conv_owner, err);
        for (int i = 0; rc == FT_OK && i < s->conv->n_nodes; i++) {
            ft_candidate_list l = {0};
            rc = ft_conversion_candidates(s->conv, i, &l, err);
            if (rc == FT_OK) rc = add_items(s, s->conv, i, &l, err);
            ft_candidate_list_free(&l);
        }
    }
    free(hints);
    if (rc != FT_OK) return rc;
    sort_ctx = s;
    qsort(s->items, (size_t)s->n, sizeof *s->items, cmp_item);
    return FT_OK;
}

void ft_sweep_items_shard(ft_sweep_items *s, int k, int n)
{
    int w = 0;
    for (int i = 0; i < s->n; i++)
        if (i % n == k - 1) s->items[w++] = s->items[i];
    s->n = w;
}

int ft_sweep_items_drop_measured(ft_sweep_items *s, ft_db *db, int64_t machine_id, int64_t build_id, ft_error *err)
{
    for (int i = 0; i < s->n_signatures; i++) {
        int rc = ft_db_upsert_signature(db, s->sig_op[i], s->sig_text[i], &s->sig_ids[i], err);
        if (rc != FT_OK) return rc;
    }
    char ***keys = calloc((size_t)s->n_signatures + 1, sizeof *keys);
    int *nkeys = calloc((size_t)s->n_signatures + 1, sizeof *nkeys);
    if (!keys || !nkeys) {
        free(keys);
        free(nkeys);
        return ft_fail(err, FT_ERR_NOMEM, "out of memory");
    }
    int rc = FT_OK;
    for (int i = 0; i < s->n_signatures && rc == FT_OK; i++)
        rc = ft_db_measured_keys(db, s->sig_ids[i], machine_id, build_id, &keys[i], &nkeys[i], err);
    if (rc == FT_OK) {
        int w = 0;
        for (int i = 0; i < s->n; i++) {
            int found = 0;
            int sg = s->items[i].sig;
            for (int k = 0; k < nkeys[sg] && !found; k++) found = strcmp(keys[sg][k], s->items[i].cand.key) == 0;
            if (!found) s->items[w++] = s->items[i];
        }
        s->n = w;
    }
    for (int i = 0; i < s->n_signatures; i++) ft_db_free_strings(keys[i], nkeys[i]);
    free(keys);
    free(nkeys);
    return rc;
}

void ft_sweep_candidate_json(const ft_candidate *c, char *buf, size_t n)
{
    size_t o = 0;
    char l[16];
#define PUT(...)                                                        \
    do {                                                                \
        if (o < n) o += (size_t)snprintf(buf + o, n - o, __VA_ARGS__); \
    } while (0)
    PUT("{\"family\":\"%s\",\"params\":[", c->family->name);
    for (int i = 0; i < FT_MAX_PARAMS; i++) PUT("%s%d", i ? "," : "", c->params[i]);
    PUT("],\"in\":[");
    for (int i = 0; i < c->n_in; i++) PUT("%s\"%s\"", i ? "," : "", ft_layout_str(&c->in_layout[i], l, sizeof l));
    PUT("],\"out\":\"%s\"}", ft_layout_str(&c->out_layout, l, sizeof l));
#undef PUT
}

void ft_sweep_items_free(ft_sweep_items *s)
{
    for (int i = 0; i < s->n_signatures; i++) {
        free(s->sig_text[i]);
        free(s->sig_op[i]);
    }
    free(s->sig_text);
    free(s->sig_op);
    free(s->sig_ids);
    free(s->items);
    ft_graph_destroy(s->conv);
    free(s->conv_owner);
    memset(s, 0, sizeof *s);
}
