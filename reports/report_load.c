/* report_load.c - reading tuning databases into the report's model, and the statistics derived from it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "report_internal.h"

/* A measurement as read, before duplicates across files are resolved. */
typedef struct pending {
    int run, cand;
    int64_t db_id;
    ft_report_meas m;
} pending;

typedef struct loader {
    ft_report *r;
    pending *p;
    int n_p, cap_p;
    ft_report_map run_map, uuid_map;
    char **run_keys; /* "machine_key/build_key", owned, one per run */
    char **uuids;    /* sweeps seen, owned */
    int n_uuids;
} loader;

static int nomem(ft_error *err)
{
    return ft_fail(err, FT_ERR_NOMEM, "report: out of memory");
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

static double col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int status_index(const char *s)
{
    for (int i = 0; i < RP_N_STATUS; i++)
        if (strcmp(s, ft_report_status_names[i]) == 0) return i;
    return RP_SKIPPED;
}

static int tier_index(const char *s)
{
    for (int i = 0; i < RP_N_TIER; i++)
        if (strcmp(s, ft_report_tier_names[i]) == 0) return i;
    return RP_TIER_NONE;
}

static int layout_is_identity(const char *l)
{
    if (strcmp(l, "-") == 0) return 1;
    for (int i = 0; l[i]; i++)
        if (l[i] != '0' + i) return 0;
    return 1;
}

/* Family and layouts from the candidate's params JSON, as the sweep writes it
 * ({"family":...,"in":["0123",...],"out":"0213"}), read back through SQLite's JSON functions. */
static void describe_candidate(ft_report_cand *c, const char *family, const char *in_json, const char *out)
{
    snprintf(c->family, sizeof c->family, "%s", family[0] ? family : "?");
    c->row_major = 1;
    size_t o = 0;
    o += (size_t)snprintf(c->layouts, sizeof c->layouts, "in ");
    int n = 0;
    for (const char *p = in_json; *p; p++) {
        if (*p != '"') continue;
        const char *e = strchr(p + 1, '"');
        if (!e) break;
        char l[32];
        size_t len = (size_t)(e - p - 1) < sizeof l - 1 ? (size_t)(e - p - 1) : sizeof l - 1;
        memcpy(l, p + 1, len);
        l[len] = 0;
        if (!layout_is_identity(l)) c->row_major = 0;
        if (o < sizeof c->layouts) o += (size_t)snprintf(c->layouts + o, sizeof c->layouts - o, "%s%s", n++ ? "," : "", l);
        p = e;
    }
    if (n == 0 && o < sizeof c->layouts) o += (size_t)snprintf(c->layouts + o, sizeof c->layouts - o, "-");
    if (out[0] && !layout_is_identity(out)) c->row_major = 0;
    if (o < sizeof c->layouts) snprintf(c->layouts + o, sizeof c->layouts - o, " out %s", out[0] ? out : "-");
}

static int find_or_add_sig(ft_report *r, const char *text, const char *op, int *idx, ft_error *err)
{
    int i = ft_report_map_get(&r->sig_map, text);
    if (i >= 0) {
        *idx = i;
        return FT_OK;
    }
    if (r->n_sigs == r->cap_sigs) {
        int cap = r->cap_sigs ? 2 * r->cap_sigs : 64;
        ft_report_sig *s = realloc(r->sigs, (size_t)cap * sizeof *s);
        if (!s) return nomem(err);
        r->sigs = s;
        r->cap_sigs = cap;
    }
    ft_report_sig *s = &r->sigs[r->n_sigs];
    memset(s, 0, sizeof *s);
    s->text = strdup(text);
    s->op = strdup(op);
    if (!s->text || !s->op || ft_report_map_put(&r->sig_map, s->text, r->n_sigs) != 0) {
        free(s->text);
        free(s->op);
        return nomem(err);
    }
    *idx = r->n_sigs++;
    return FT_OK;
}

static int find_or_add_cand(ft_report *r, int sig, const char *key, const char *params, const char *family,
                            const char *in_json, const char *out, int *idx, ft_error *err)
{
    size_t len = strlen(r->sigs[sig].text) + strlen(key) + 2;
    char *sk = malloc(len);
    if (!sk) return nomem(err);
    snprintf(sk, len, "%s\x1f%s", r->sigs[sig].text, key);
    int i = ft_report_map_get(&r->cand_map, sk);
    if (i >= 0) {
        free(sk);
        *idx = i;
        return FT_OK;
    }
    if (r->n_cands == r->cap_cands) {
        int cap = r->cap_cands ? 2 * r->cap_cands : 256;
        ft_report_cand *c = realloc(r->cands, (size_t)cap * sizeof *c);
        if (!c) {
            free(sk);
            return nomem(err);
        }
        r->cands = c;
        r->cap_cands = cap;
    }
    ft_report_cand *c = &r->cands[r->n_cands];
    memset(c, 0, sizeof *c);
    c->sig = sig;
    c->sig_key = sk;
    c->key = strdup(key);
    c->params = strdup(params);
    if (!c->key || !c->params || ft_report_map_put(&r->cand_map, sk, r->n_cands) != 0) {
        free(c->key);
        free(c->params);
        free(sk);
        return nomem(err);
    }
    describe_candidate(c, family, in_json, out);
    *idx = r->n_cands++;
    return FT_OK;
}

typedef struct db_machine {
    ft_machine m;
    char first_seen[32];
} db_machine;

typedef struct db_build {
    char key[FT_ID_HEX], compiler[128], flags[512];
} db_build;

static int find_or_add_run(loader *L, const char *machine_key, const char *build_key, int db, const db_machine *ms,
                           int n_ms, const db_build *bs, int n_bs, int *idx, ft_error *err)
{
    ft_report *r = L->r;
    char key[2 * FT_ID_HEX + 2];
    snprintf(key, sizeof key, "%s/%s", machine_key, build_key);
    int i = ft_report_map_get(&L->run_map, key);
    if (i >= 0) {
        *idx = i;
        return FT_OK;
    }
    ft_report_run *runs = realloc(r->runs, (size_t)(r->n_runs + 1) * sizeof *runs);
    if (!runs) return nomem(err);
    r->runs = runs;
    char **keys = realloc(L->run_keys, (size_t)(r->n_runs + 1) * sizeof *keys);
    if (!keys) return nomem(err);
    L->run_keys = keys;
    if (!(keys[r->n_runs] = strdup(key))) return nomem(err);
    ft_report_run *u = &runs[r->n_runs];
    memset(u, 0, sizeof *u);
    snprintf(u->label, sizeof u->label, "M%d", r->n_runs + 1);
    u->db = db;
    for (int k = 0; k < n_ms; k++)
        if (strcmp(ms[k].m.id, machine_key) == 0) {
            u->machine = ms[k].m;
            snprintf(u->first_seen, sizeof u->first_seen, "%s", ms[k].first_seen);
        }
    for (int k = 0; k < n_bs; k++)
        if (strcmp(bs[k].key, build_key) == 0) {
            snprintf(u->compiler, sizeof u->compiler, "%s", bs[k].compiler);
            snprintf(u->flags, sizeof u->flags, "%s", bs[k].flags);
        }
    snprintf(u->build_key, sizeof u->build_key, "%s", build_key);
    if (ft_report_map_put(&L->run_map, keys[r->n_runs], r->n_runs) != 0) {
        free(keys[r->n_runs]);
        return nomem(err);
    }
    *idx = r->n_runs++;
    return FT_OK;
}

static int cmp_pending_id(const void *a, const void *b)
{
    int64_t x = ((const pending *)a)->db_id, y = ((const pending *)b)->db_id;
    return x < y ? -1 : x > y;
}

static void add_model_name(ft_report_run *u, const char *path)
{
    if (!path[0]) return;
    /* the last two components ("bert_tiny/model.onnx") name a model well enough */
    const char *name = path, *last = strrchr(path, '/');
    if (last)
        for (const char *p = last; p > path; p--)
            if (p[-1] == '/') {
                name = p;
                break;
            }
    if (strstr(u->models, name)) return;
    size_t o = strlen(u->models);
    snprintf(u->models + o, sizeof u->models - o, "%s%s", o ? ", " : "", name);
}

static int load_sweeps(loader *L, sqlite3 *h, const char *path, ft_error *err)
{
    ft_report *r = L->r;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h,
                           "SELECT s.uuid, ma.machine_key, b.build_key, s.status,"
                           " (julianday(s.finished) - julianday(s.started)) * 86400.0, coalesce(mo.path, '')"
                           " FROM sweeps s JOIN machines ma ON ma.id = s.machine_id JOIN builds b ON b.id = s.build_id"
                           " LEFT JOIN models mo ON mo.id = s.model_id ORDER BY s.id",
                           -1, &st, NULL) != SQLITE_OK)
        return ft_fail(err, FT_ERR_INPUT, "%s: reading sweeps: %s", path, sqlite3_errmsg(h));
    int rc = FT_OK, step;
    while (rc == FT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *uuid = col_text(st, 0);
        if (ft_report_map_get(&L->uuid_map, uuid) >= 0) continue;
        char **u = realloc(L->uuids, (size_t)(L->n_uuids + 1) * sizeof *u);
        if (!u) {
            rc = nomem(err);
            break;
        }
        L->uuids = u;
        if (!(u[L->n_uuids] = strdup(uuid)) || ft_report_map_put(&L->uuid_map, u[L->n_uuids], L->n_uuids) != 0) {
            free(u[L->n_uuids]);
            rc = nomem(err);
            break;
        }
        L->n_uuids++;
        char key[2 * FT_ID_HEX + 2];
        snprintf(key, sizeof key, "%s/%s", col_text(st, 1), col_text(st, 2));
        int run = ft_report_map_get(&L->run_map, key);
        if (run < 0) continue; /* a sweep that recorded nothing */
        ft_report_run *ru = &r->runs[run];
        ru->n_sweeps++;
        const char *status = col_text(st, 3);
        double wall = col_real(st, 4);
        if (strcmp(status, "done") == 0) ru->n_sweeps_done++;
        if (strcmp(status, "running") == 0 || !isfinite(wall)) ru->n_sweeps_unfinished++;
        else ru->sweep_wall_s += wall;
        add_model_name(ru, col_text(st, 5));
    }
    sqlite3_finalize(st);
    return rc;
}

static void set_counter(ft_report_counters *c, const char *event, double v)
{
    if (strcmp(event, "cycles") == 0) c->cycles = v;
    else if (strcmp(event, "instructions") == 0) c->instructions = v;
    else if (strcmp(event, "L1-dcache-load-misses") == 0) c->l1d_misses = v;
    else if (strcmp(event, "LLC-load-misses") == 0) c->llc_misses = v;
    else if (strcmp(event, "dTLB-load-misses") == 0) c->dtlb_misses = v;
    else if (strcmp(event, "task-clock") == 0) c->task_clock_ns = v;
    else if (strcmp(event, "page-faults") == 0) c->page_faults = v;
}

static int note_event(ft_report *r, const char *event, ft_error *err)
{
    for (int i = 0; i < r->n_events; i++)
        if (strcmp(r->events[i], event) == 0) return FT_OK;
    char **e = realloc(r->events, (size_t)(r->n_events + 1) * sizeof *e);
    if (!e) return nomem(err);
    r->events = e;
    if (!(e[r->n_events] = strdup(event))) return nomem(err);
    r->n_events++;
    return FT_OK;
}

static int load_db(loader *L, int db, ft_error *err)
{
    ft_report *r = L->r;
    const char *path = r->db_paths[db];
    ft_db *d = NULL;
    int rc = ft_db_open(path, FT_DB_READONLY, &d, err);
    if (rc != FT_OK) return rc;
    sqlite3 *h = ft_db_handle(d);
    sqlite3_stmt *st = NULL;
    ft_db_machine_row *rows = NULL;
    db_machine *ms = NULL;
    db_build *bs = NULL;
    int n_rows = 0, n_bs = 0, first_pending = L->n_p;
    rc = ft_db_list_machines(d, &rows, &n_rows, err);
    if (rc != FT_OK) goto done;
    ms = calloc((size_t)n_rows + 1, sizeof *ms);
    if (!ms) {
        rc = nomem(err);
        goto done;
    }
    for (int i = 0; i < n_rows; i++) {
        ms[i].m = rows[i].machine;
        snprintf(ms[i].first_seen, sizeof ms[i].first_seen, "%s", rows[i].first_seen);
    }
    if (sqlite3_prepare_v2(h, "SELECT build_key, compiler, flags FROM builds", -1, &st, NULL) != SQLITE_OK) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: reading builds: %s", path, sqlite3_errmsg(h));
        goto done;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        db_build *b = realloc(bs, (size_t)(n_bs + 1) * sizeof *b);
        if (!b) {
            rc = nomem(err);
            break;
        }
        bs = b;
        snprintf(bs[n_bs].key, sizeof bs[n_bs].key, "%s", col_text(st, 0));
        snprintf(bs[n_bs].compiler, sizeof bs[n_bs].compiler, "%s", col_text(st, 1));
        snprintf(bs[n_bs].flags, sizeof bs[n_bs].flags, "%s", col_text(st, 2));
        n_bs++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != FT_OK) goto done;

    if (sqlite3_prepare_v2(h,
                           "SELECT m.id, ma.machine_key, b.build_key, s.signature, s.op_type, c.key, c.params,"
                           " coalesce(json_extract(c.params, '$.family'), ''),"
                           " coalesce(json_extract(c.params, '$.in'), '[]'),"
                           " coalesce(json_extract(c.params, '$.out'), ''),"
                           " m.status, m.median_s, m.min_s, m.mad_s, m.mean_s, m.n_samples, m.reps, m.counter_tier,"
                           " m.multiplexed"
                           " FROM measurements m JOIN candidates c ON c.id = m.candidate_id"
                           " JOIN signatures s ON s.id = c.signature_id JOIN machines ma ON ma.id = m.machine_id"
                           " JOIN builds b ON b.id = m.build_id ORDER BY m.id",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: reading measurements: %s", path, sqlite3_errmsg(h));
        goto done;
    }
    int step;
    while (rc == FT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int run = -1, sig = -1, cand = -1;
        rc = find_or_add_run(L, col_text(st, 1), col_text(st, 2), db, ms, n_rows, bs, n_bs, &run, err);
        if (rc == FT_OK) rc = find_or_add_sig(r, col_text(st, 3), col_text(st, 4), &sig, err);
        if (rc == FT_OK)
            rc = find_or_add_cand(r, sig, col_text(st, 5), col_text(st, 6), col_text(st, 7), col_text(st, 8),
                                  col_text(st, 9), &cand, err);
        if (rc != FT_OK) break;
        if (L->n_p == L->cap_p) {
            int cap = L->cap_p ? 2 * L->cap_p : 512;
            pending *p = realloc(L->p, (size_t)cap * sizeof *p);
            if (!p) {
                rc = nomem(err);
                break;
            }
            L->p = p;
            L->cap_p = cap;
        }
        pending *p = &L->p[L->n_p++];
        memset(p, 0, sizeof *p);
        p->run = run;
        p->cand = cand;
        p->db_id = sqlite3_column_int64(st, 0);
        ft_report_meas *m = &p->m;
        m->present = 1;
        m->status = status_index(col_text(st, 10));
        m->median_s = col_real(st, 11);
        m->min_s = col_real(st, 12);
        m->mad_s = col_real(st, 13);
        m->mean_s = col_real(st, 14);
        m->n_samples = sqlite3_column_int(st, 15);
        m->reps = sqlite3_column_int64(st, 16);
        m->tier = tier_index(col_text(st, 17));
        m->multiplexed = sqlite3_column_int(st, 18);
        m->ctr = (ft_report_counters){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    }
    if (rc == FT_OK && step != SQLITE_DONE)
        rc = ft_fail(err, FT_ERR_INPUT, "%s: reading measurements: %s", path, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    st = NULL;
    if (rc != FT_OK) goto done;
    if (L->n_p == first_pending) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s holds no measurements: run `fluidtune sweep` with --db %s first", path, path);
        goto done;
    }

    /* counters, attached by the measurement's row id (this file's pending rows are in id order) */
    if (sqlite3_prepare_v2(h, "SELECT measurement_id, event, value FROM counters", -1, &st, NULL) != SQLITE_OK) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: reading counters: %s", path, sqlite3_errmsg(h));
        goto done;
    }
    pending *base = L->p + first_pending;
    size_t n_here = (size_t)(L->n_p - first_pending);
    while (rc == FT_OK && sqlite3_step(st) == SQLITE_ROW) {
        pending probe;
        probe.db_id = sqlite3_column_int64(st, 0);
        pending *hit = bsearch(&probe, base, n_here, sizeof *base, cmp_pending_id);
        if (!hit) continue;
        const char *event = col_text(st, 1);
        set_counter(&hit->m.ctr, event, sqlite3_column_double(st, 2));
        rc = note_event(r, event, err);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == FT_OK) rc = load_sweeps(L, h, path, err);
done:
    if (st) sqlite3_finalize(st);
    free(rows);
    free(ms);
    free(bs);
    ft_db_close(d);
    return rc;
}

static const ft_report *order_ctx;

static int cmp_sig_order(const void *a, const void *b)
{
    const ft_report_sig *x = &order_ctx->sigs[*(const int *)a], *y = &order_ctx->sigs[*(const int *)b];
    /* conversions last: they serve the other ops */
    int rx = strcmp(x->op, "Reorder") == 0, ry = strcmp(y->op, "Reorder") == 0;
    if (rx != ry) return rx - ry;
    int c = strcmp(x->op, y->op);
    return c ? c : strcmp(x->text, y->text);
}

static int cmp_cand_key(const void *a, const void *b)
{
    return strcmp(order_ctx->cands[*(const int *)a].key, order_ctx->cands[*(const int *)b].key);
}

static int finish(loader *L, ft_error *err)
{
    ft_report *r = L->r;
    r->meas = calloc((size_t)r->n_runs * (size_t)r->n_cands + 1, sizeof *r->meas);
    r->stats = calloc((size_t)r->n_sigs * (size_t)r->n_runs + 1, sizeof *r->stats);
    r->sig_order = malloc(sizeof(int) * (size_t)(r->n_sigs + 1));
    if (!r->meas || !r->stats || !r->sig_order) return nomem(err);
    for (int i = 0; i < L->n_p; i++) {
        const pending *p = &L->p[i];
        ft_report_meas *m = ft_report_meas_at(r, p->run, p->cand);
        if (m->present) {
            r->runs[p->run].n_duplicates++;
            continue;
        }
        *m = p->m;
    }
    for (int u = 0; u < r->n_runs; u++) {
        ft_report_run *ru = &r->runs[u];
        for (int c = 0; c < r->n_cands; c++) {
            const ft_report_meas *m = ft_report_meas_at(r, u, c);
            if (!m->present) continue;
            ru->n_status[m->status]++;
            ru->n_tier[m->tier]++;
            ru->n_multiplexed += m->multiplexed;
            if (isfinite(m->mean_s)) ru->measured_s += (double)m->n_samples * (double)m->reps * m->mean_s;
        }
    }
    for (int s = 0; s < r->n_sigs; s++) {
        r->sig_order[s] = s;
        r->sigs[s].cands = malloc(sizeof(int) * (size_t)(r->n_cands + 1));
        if (!r->sigs[s].cands) return nomem(err);
    }
    for (int c = 0; c < r->n_cands; c++) {
        ft_report_sig *s = &r->sigs[r->cands[c].sig];
        s->cands[s->n_cands++] = c;
    }
    order_ctx = r;
    qsort(r->sig_order, (size_t)r->n_sigs, sizeof *r->sig_order, cmp_sig_order);
    for (int s = 0; s < r->n_sigs; s++) {
        qsort(r->sigs[s].cands, (size_t)r->sigs[s].n_cands, sizeof(int), cmp_cand_key);
        snprintf(r->sigs[r->sig_order[s]].label, sizeof r->sigs[0].label, "S%d", s + 1);
    }
    ft_report_compute_stats(r);
    return FT_OK;
}

int ft_report_create(const char *const *db_paths, int n_dbs, ft_report **out, ft_error *err)
{
    *out = NULL;
    if (n_dbs < 1) return ft_fail(err, FT_ERR_INPUT, "report: no database given");
    ft_report *r = calloc(1, sizeof *r);
    if (!r) return nomem(err);
    r->db_paths = calloc((size_t)n_dbs, sizeof *r->db_paths);
    if (!r->db_paths) {
        free(r);
        return nomem(err);
    }
    r->n_dbs = n_dbs;
    int rc = FT_OK;
    for (int i = 0; i < n_dbs && rc == FT_OK; i++)
        if (!(r->db_paths[i] = strdup(db_paths[i]))) rc = nomem(err);
    loader L;
    memset(&L, 0, sizeof L);
    L.r = r;
    for (int i = 0; i < n_dbs && rc == FT_OK; i++) rc = load_db(&L, i, err);
    if (rc == FT_OK) rc = finish(&L, err);
    free(L.p);
    for (int i = 0; i < r->n_runs && L.run_keys; i++) free(L.run_keys[i]);
    free(L.run_keys);
    for (int i = 0; i < L.n_uuids; i++) free(L.uuids[i]);
    free(L.uuids);
    ft_report_map_free(&L.run_map);
    ft_report_map_free(&L.uuid_map);
    if (rc != FT_OK) {
        ft_report_destroy(r);
        return rc;
    }
    *out = r;
    return FT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void ft_report_compute_stats(ft_report *r)
{
    double *v = malloc(sizeof(double) * (size_t)(r->n_cands + 1));
    for (int s = 0; s < r->n_sigs; s++) {
        const ft_report_sig *sg = &r->sigs[s];
        for (int u = 0; u < r->n_runs; u++) {
            ft_report_stat *st = ft_report_stat_at(r, s, u);
            *st = (ft_report_stat){0, 0, -1, -1, RP_BASE_NONE, NAN, NAN, NAN, NAN};
            int n = 0;
            for (int k = 0; k < sg->n_cands; k++) {
                int c = sg->cands[k];
                const ft_report_meas *m = ft_report_meas_at(r, u, c);
                if (!m->present) continue;
                st->n_meas++;
                if (m->status != RP_OK || !isfinite(m->median_s)) continue;
                st->n_ok++;
                if (v) v[n++] = m->median_s;
                /* candidates are in key order, so strict < breaks ties by key as best_candidates does */
                if (st->best < 0 || m->median_s < st->best_s) {
                    st->best = c;
                    st->best_s = m->median_s;
                }
                if (!(m->median_s <= st->worst_s)) st->worst_s = m->median_s;
                if (sg->default_key && strcmp(r->cands[c].key, sg->default_key) == 0) {
                    st->base = c;
                    st->base_kind = RP_BASE_DEFAULT;
                    st->base_s = m->median_s;
                }
            }
            if (n > 0 && v) {
                qsort(v, (size_t)n, sizeof *v, cmp_double);
                st->median_s = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
                if (st->base_kind == RP_BASE_NONE) {
                    st->base_kind = RP_BASE_MEDIAN;
                    st->base_s = st->median_s;
                }
            }
        }
    }
    free(v);
}

double ft_report_cost(const ft_report *r, int run, const char *signature, const char *key)
{
    size_t ls = strlen(signature), lk = strlen(key);
    char stack[2048];
    char *sk = ls + lk + 2 <= sizeof stack ? stack : malloc(ls + lk + 2);
    if (!sk) return NAN;
    memcpy(sk, signature, ls);
    sk[ls] = '\x1f';
    memcpy(sk + ls + 1, key, lk + 1);
    int c = ft_report_map_get(&r->cand_map, sk);
    if (sk != stack) free(sk);
    if (c < 0) return NAN;
    const ft_report_meas *m = ft_report_meas_at(r, run, c);
    return m->present && m->status == RP_OK ? m->median_s : NAN;
}

void ft_report_cross(const ft_report *r, int a, int b, double *a_on_b_s, double *b_own_s, double *ratio, int *missing,
                     int *n_common)
{
    double num = 0, den = 0;
    int miss = 0, common = 0;
    for (int s = 0; s < r->n_sigs; s++) {
        double w = r->has_model ? (double)r->sigs[s].model_nodes : 1.0;
        if (w <= 0) continue;
        const ft_report_stat *sa = ft_report_stat_at(r, s, a), *sb = ft_report_stat_at(r, s, b);
        if (sa->best < 0 || sb->best < 0) continue;
        common++;
        const ft_report_meas *m = ft_report_meas_at(r, b, sa->best);
        if (!m->present || m->status != RP_OK || !isfinite(m->median_s)) {
            miss++;
            continue;
        }
        num += w * m->median_s;
        den += w * sb->best_s;
    }
    *a_on_b_s = num;
    *b_own_s = den;
    *ratio = den > 0 ? num / den : NAN;
    *missing = miss;
    *n_common = common;
}

void ft_report_model_run_clear(ft_report_model_run *m)
{
    free(m->tuned_by_op);
    free(m->default_by_op);
    free(m->rects);
    for (int i = 0; i < m->n_plan; i++) {
        free(m->plan_sig ? m->plan_sig[i] : NULL);
        free(m->plan_key ? m->plan_key[i] : NULL);
    }
    free(m->plan_sig);
    free(m->plan_key);
    free(m->cross_s);
    free(m->cross_missing);
    memset(m, 0, sizeof *m);
}

void ft_report_destroy(ft_report *r)
{
    if (!r) return;
    for (int i = 0; i < r->n_dbs; i++) free(r->db_paths[i]);
    free(r->db_paths);
    for (int s = 0; s < r->n_sigs; s++) {
        free(r->sigs[s].text);
        free(r->sigs[s].op);
        free(r->sigs[s].default_key);
        free(r->sigs[s].cands);
    }
    free(r->sigs);
    free(r->sig_order);
    for (int c = 0; c < r->n_cands; c++) {
        free(r->cands[c].key);
        free(r->cands[c].params);
        free(r->cands[c].sig_key);
    }
    free(r->cands);
    ft_report_map_free(&r->sig_map);
    ft_report_map_free(&r->cand_map);
    free(r->meas);
    free(r->stats);
    for (int i = 0; i < r->n_events; i++) free(r->events[i]);
    free(r->events);
    for (int u = 0; r->mruns && u < r->n_runs; u++) ft_report_model_run_clear(&r->mruns[u]);
    free(r->mruns);
    for (int i = 0; i < r->n_model_ops; i++) free(r->model_ops[i]);
    free(r->model_ops);
    free(r->runs);
    free(r);
}
