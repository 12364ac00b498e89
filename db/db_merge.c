/* db_merge.c - merging one tuning database into another by natural keys, idempotently. */
#include "db_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct merge_ctx {
    ft_db *out, *in;
    ft_db_merge_stats *stats;
    sqlite3_stmt *samples, *counters; /* on in, by measurement id */
} merge_ctx;

/* Looks up one id in db by up to two text keys; *id = 0 when absent. */
static int lookup_id(ft_db *db, const char *sql, const char *k1, const char *k2, int64_t *id, ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db, sql, &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_text(st, 1, k1, -1, SQLITE_TRANSIENT);
    if (k2) sqlite3_bind_text(st, 2, k2, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    *id = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = ft_db_sqlerr(db, err, "looking up a key");
    sqlite3_finalize(st);
    return rc;
}

/* Runs sql on in and calls row for every row. */
static int each_row(merge_ctx *x, const char *sql, int (*row)(merge_ctx *, sqlite3_stmt *, ft_error *), ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(x->in, sql, &st, err);
    if (rc != FT_OK) return rc;
    int step;
    while (rc == FT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) rc = row(x, st, err);
    if (rc == FT_OK && step != SQLITE_DONE) rc = ft_db_sqlerr(x->in, err, "reading the database to merge");
    sqlite3_finalize(st);
    return rc;
}

static int merge_machine(merge_ctx *x, sqlite3_stmt *st, ft_error *err)
{
    ft_db *out = x->out;
    ft_db_merge_stats *stats = x->stats;
    ft_machine m;
    ft_db_read_machine(st, 1, &m);
    int64_t id;
    int added;
    int rc = ft_db_put_machine(out, &m, ft_db_col_text(st, 0), &id, &added, err);
    stats->machines += rc == FT_OK && added;
    return rc;
}

static int merge_build(merge_ctx *x, sqlite3_stmt *st, ft_error *err)
{
    ft_db *out = x->out;
    ft_db_merge_stats *stats = x->stats;
    ft_build b;
    memset(&b, 0, sizeof b);
    snprintf(b.id, sizeof b.id, "%s", ft_db_col_text(st, 0));
    snprintf(b.compiler, sizeof b.compiler, "%s", ft_db_col_text(st, 1));
    snprintf(b.flags, sizeof b.flags, "%s", ft_db_col_text(st, 2));
    snprintf(b.kernel_hash, sizeof b.kernel_hash, "%s", ft_db_col_text(st, 3));
    int64_t id;
    int added;
    int rc = ft_db_put_build(out, &b, ft_db_col_text(st, 4), &id, &added, err);
    stats->builds += rc == FT_OK && added;
    return rc;
}

static int merge_model(merge_ctx *x, sqlite3_stmt *st, ft_error *err)
{
    ft_db *out = x->out;
    ft_db_merge_stats *stats = x->stats;
    int64_t id;
    int added;
    int rc = ft_db_put_model(out, ft_db_col_text(st, 0), ft_db_col_text(st, 1), ft_db_col_text(st, 2),
                             ft_db_col_text(st, 3), &id, &added, err);
    stats->models += rc == FT_OK && added;
    return rc;
}

static int merge_signature(merge_ctx *x, sqlite3_stmt *st, ft_error *err)
{
    ft_db *out = x->out;
    ft_db_merge_stats *stats = x->stats;
    int64_t id;
    int added;
    int rc = ft_db_put_signature(out, ft_db_col_text(st, 0), ft_db_col_text(st, 1), &id, &added, err);
    stats->signatures += rc == FT_OK && added;
    return rc;
}

static int merge_candidate(merge_ctx *x, sqlite3_stmt *st, ft_error *err)
{
    ft_db *out = x->out;
    ft_db_merge_stats *stats = x->stats;
    int64_t sig, id;
    int added;
    int rc = lookup_id(out, "SELECT id FROM signatures WHERE signature = ?1", ft_db_col_text(st, 0), NULL, &sig, err);
    if (rc == FT_OK) rc = ft_db_put_candidate(out, sig, ft_db_col_text(st, 1), ft_db_col_text(st, 2), &id, &added, err);
    stats->candidates += rc == FT_OK && added;
    return rc;
}

static int merge_sweep(merge_ctx *x, sqlite3_stmt *st, ft_error *err)
{
    ft_db *out = x->out;
    ft_db_merge_stats *stats = x->stats;
    int64_t machine, build, model = 0;
    int rc =
        lookup_id(out, "SELECT id FROM machines WHERE machine_key = ?1", ft_db_col_text(st, 2), NULL, &machine, err);
    if (rc == FT_OK)
        rc = lookup_id(out, "SELECT id FROM builds WHERE build_key = ?1", ft_db_col_text(st, 3), NULL, &build, err);
    if (rc == FT_OK && sqlite3_column_type(st, 4) != SQLITE_NULL)
        rc = lookup_id(out, "SELECT id FROM models WHERE sha256 = ?1", ft_db_col_text(st, 4), NULL, &model, err);
    if (rc != FT_OK) return rc;
    sqlite3_stmt *ins;
    rc = ft_db_prepare(out,
                       "INSERT INTO sweeps (uuid, config, machine_id, build_id, model_id, kernel, started, finished, "
                       "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (uuid) DO NOTHING",
                       &ins, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_text(ins, 1, ft_db_col_text(st, 0), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, ft_db_col_text(st, 1), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 3, machine);
    sqlite3_bind_int64(ins, 4, build);
    if (model)
        sqlite3_bind_int64(ins, 5, model);
    else
        sqlite3_bind_null(ins, 5);
    sqlite3_bind_value(ins, 6, sqlite3_column_value(st, 5));
    sqlite3_bind_value(ins, 7, sqlite3_column_value(st, 6));
    sqlite3_bind_value(ins, 8, sqlite3_column_value(st, 7));
    sqlite3_bind_value(ins, 9, sqlite3_column_value(st, 8));
    if (sqlite3_step(ins) != SQLITE_DONE)
        rc = ft_db_sqlerr(out, err, "merging a sweep");
    else
        stats->sweeps += sqlite3_changes(out->h) > 0;
    sqlite3_finalize(ins);
    return rc;
}

/* The measurement columns read from `in`, by position. */
enum {
    M_ID,
    M_SIG,
    M_KEY,
    M_MACHINE,
    M_BUILD,
    M_SWEEP,
    M_STATUS,
    M_DETAIL,
    M_N,
    M_REPS,
    M_MIN,
    M_MEDIAN,
    M_MAD,
    M_MEAN,
    M_TIER,
    M_NOTE,
    M_MUX,
    M_CREATED
};

static double col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int same_real(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* 1 when out already holds exactly this measurement, 0 when it holds another one of the same
 * (candidate, machine, build), -1 when it holds none. */
static int existing_measurement(ft_db *out, int64_t cand, int64_t machine, int64_t build, sqlite3_stmt *m, int *which,
                                ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(out,
                           "SELECT created, status, n_samples, min_s, median_s, mad_s, mean_s FROM measurements "
                           "WHERE candidate_id = ?1 AND machine_id = ?2 AND build_id = ?3",
                           &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_int64(st, 1, cand);
    sqlite3_bind_int64(st, 2, machine);
    sqlite3_bind_int64(st, 3, build);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *which = strcmp(ft_db_col_text(st, 0), ft_db_col_text(m, M_CREATED)) == 0 &&
                 strcmp(ft_db_col_text(st, 1), ft_db_col_text(m, M_STATUS)) == 0 &&
                 sqlite3_column_int(st, 2) == sqlite3_column_int(m, M_N) &&
                 same_real(col_real(st, 3), col_real(m, M_MIN)) && same_real(col_real(st, 4), col_real(m, M_MEDIAN)) &&
                 same_real(col_real(st, 5), col_real(m, M_MAD)) && same_real(col_real(st, 6), col_real(m, M_MEAN));
    } else if (step == SQLITE_DONE) {
        *which = -1;
    } else {
        rc = ft_db_sqlerr(out, err, "looking up a measurement");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Reads a measurement's samples and counters from in and inserts it all into out. */
static int copy_measurement(merge_ctx *x, sqlite3_stmt *m, int64_t cand, int64_t machine, int64_t build, int64_t sweep,
                            ft_error *err)
{
    ft_db *out = x->out;
    int64_t mid = sqlite3_column_int64(m, M_ID);
    int n = 0, cap = sqlite3_column_int(m, M_N), rc = FT_OK, step;
    double *samples = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *samples);
    int nc = 0, ccap = 8;
    ft_db_counter *counters = malloc((size_t)ccap * sizeof *counters);
    if (!samples || !counters) rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", out->path);
    sqlite3_reset(x->samples);
    sqlite3_bind_int64(x->samples, 1, mid);
    while (rc == FT_OK && (step = sqlite3_step(x->samples)) == SQLITE_ROW) {
        if (n == cap) {
            rc = ft_fail(err, FT_ERR_INPUT, "%s: measurement %lld has more samples than its n_samples says",
                         x->in->path, (long long)mid);
            break;
        }
        samples[n++] = sqlite3_column_double(x->samples, 0);
    }
    if (rc == FT_OK && step != SQLITE_DONE) rc = ft_db_sqlerr(x->in, err, "reading samples");
    sqlite3_reset(x->counters);
    sqlite3_bind_int64(x->counters, 1, mid);
    while (rc == FT_OK && (step = sqlite3_step(x->counters)) == SQLITE_ROW) {
        if (nc == ccap) {
            ft_db_counter *nv = realloc(counters, (size_t)(2 * ccap) * sizeof *nv);
            if (!nv) {
                rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", out->path);
                break;
            }
            counters = nv;
            ccap *= 2;
        }
        counters[nc].event = strdup(ft_db_col_text(x->counters, 0));
        counters[nc].value = sqlite3_column_double(x->counters, 1);
        if (!counters[nc].event)
            rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", out->path);
        else
            nc++;
    }
    if (rc == FT_OK && step != SQLITE_DONE) rc = ft_db_sqlerr(x->in, err, "reading counters");
    if (rc == FT_OK && n != cap)
        rc = ft_fail(err, FT_ERR_INPUT, "%s: measurement %lld has %d samples, its n_samples says %d", x->in->path,
                     (long long)mid, n, cap);
    if (rc == FT_OK) {
        ft_db_measurement r = {
            .sweep_id = sweep,
            .candidate_id = cand,
            .machine_id = machine,
            .build_id = build,
            .status = ft_db_col_text(m, M_STATUS),
            .detail = sqlite3_column_type(m, M_DETAIL) == SQLITE_NULL ? NULL : ft_db_col_text(m, M_DETAIL),
            .n_samples = n,
            .samples = samples,
            .min_s = col_real(m, M_MIN),
            .median_s = col_real(m, M_MEDIAN),
            .mad_s = col_real(m, M_MAD),
            .mean_s = col_real(m, M_MEAN),
            .reps = sqlite3_column_int64(m, M_REPS),
            .counter_tier = ft_db_col_text(m, M_TIER),
            .counter_note = sqlite3_column_type(m, M_NOTE) == SQLITE_NULL ? NULL : ft_db_col_text(m, M_NOTE),
            .multiplexed = sqlite3_column_int(m, M_MUX),
            .n_counters = nc,
            .counters = counters,
            .created = ft_db_col_text(m, M_CREATED),
        };
        rc = ft_db_insert_measurement(out, &r, NULL, err);
    }
    for (int i = 0; i < nc; i++) free((char *)counters[i].event);
    free(counters);
    free(samples);
    return rc;
}

static int merge_measurement(merge_ctx *x, sqlite3_stmt *m, ft_error *err)
{
    ft_db *out = x->out;
    ft_db_merge_stats *stats = x->stats;
    int64_t cand = 0, machine = 0, build = 0, sweep = 0;
    int rc = lookup_id(out,
                       "SELECT c.id FROM candidates c JOIN signatures s ON s.id = c.signature_id "
                       "WHERE s.signature = ?1 AND c.key = ?2",
                       ft_db_col_text(m, M_SIG), ft_db_col_text(m, M_KEY), &cand, err);
    if (rc == FT_OK)
        rc = lookup_id(out, "SELECT id FROM machines WHERE machine_key = ?1", ft_db_col_text(m, M_MACHINE), NULL,
                       &machine, err);
    if (rc == FT_OK)
        rc =
            lookup_id(out, "SELECT id FROM builds WHERE build_key = ?1", ft_db_col_text(m, M_BUILD), NULL, &build, err);
    if (rc == FT_OK && sqlite3_column_type(m, M_SWEEP) != SQLITE_NULL)
        rc = lookup_id(out, "SELECT id FROM sweeps WHERE uuid = ?1", ft_db_col_text(m, M_SWEEP), NULL, &sweep, err);
    if (rc != FT_OK) return rc;
    if (!cand || !machine || !build)
        return ft_fail(err, FT_ERR_FAIL, "%s: merging measurement %lld: its candidate, machine or build was not copied",
                       out->path, (long long)sqlite3_column_int64(m, M_ID));
    int which = -1;
    rc = existing_measurement(out, cand, machine, build, m, &which, err);
    if (rc != FT_OK) return rc;
    if (which == 1)
        stats->duplicates++;
    else if (which == 0)
        stats->conflicts++;
    else {
        rc = copy_measurement(x, m, cand, machine, build, sweep, err);
        stats->measurements += rc == FT_OK;
    }
    return rc;
}

static int merge_all(merge_ctx *x, ft_error *err)
{
    int rc = each_row(x, "SELECT first_seen, " FT_DB_MACHINE_COLUMNS " FROM machines ORDER BY id", merge_machine, err);
    if (rc == FT_OK)
        rc = each_row(x, "SELECT build_key, compiler, flags, kernel_hash, first_seen FROM builds ORDER BY id",
                      merge_build, err);
    if (rc == FT_OK)
        rc = each_row(x, "SELECT sha256, path, name, first_seen FROM models ORDER BY id", merge_model, err);
    if (rc == FT_OK) rc = each_row(x, "SELECT op_type, signature FROM signatures ORDER BY id", merge_signature, err);
    if (rc == FT_OK)
        rc =
            each_row(x,
                     "SELECT s.signature, c.key, c.params FROM candidates c JOIN signatures s ON s.id = c.signature_id "
                     "ORDER BY c.id",
                     merge_candidate, err);
    if (rc == FT_OK)
        rc = each_row(x,
                      "SELECT sw.uuid, sw.config, ma.machine_key, b.build_key, mo.sha256, sw.kernel, sw.started, "
                      "sw.finished, sw.status FROM sweeps sw JOIN machines ma ON ma.id = sw.machine_id "
                      "JOIN builds b ON b.id = sw.build_id LEFT JOIN models mo ON mo.id = sw.model_id ORDER BY sw.id",
                      merge_sweep, err);
    if (rc == FT_OK)
        rc = each_row(x,
                      "SELECT m.id, s.signature, c.key, ma.machine_key, b.build_key, sw.uuid, m.status, m.detail, "
                      "m.n_samples, m.reps, m.min_s, m.median_s, m.mad_s, m.mean_s, m.counter_tier, m.counter_note, "
                      "m.multiplexed, m.created FROM measurements m JOIN candidates c ON c.id = m.candidate_id "
                      "JOIN signatures s ON s.id = c.signature_id JOIN machines ma ON ma.id = m.machine_id "
                      "JOIN builds b ON b.id = m.build_id LEFT JOIN sweeps sw ON sw.id = m.sweep_id ORDER BY m.id",
                      merge_measurement, err);
    return rc;
}

int ft_db_merge(ft_db *out, ft_db *in, ft_db_merge_stats *stats, ft_error *err)
{
    memset(stats, 0, sizeof *stats);
    if (out == in) return ft_fail(err, FT_ERR_INPUT, "%s: cannot merge a database handle into itself", out->path);
    if (out->flags & FT_DB_READONLY)
        return ft_fail(err, FT_ERR_INPUT, "%s: opened read-only, cannot merge into it", out->path);
    merge_ctx x = {out, in, stats, NULL, NULL};
    int rc = ft_db_prepare(in, "SELECT seconds FROM samples WHERE measurement_id = ?1 ORDER BY idx", &x.samples, err);
    if (rc == FT_OK)
        rc = ft_db_prepare(in, "SELECT event, value FROM counters WHERE measurement_id = ?1 ORDER BY event",
                           &x.counters, err);
    if (rc != FT_OK) {
        sqlite3_finalize(x.samples);
        return rc;
    }
    /* A read snapshot of in, and all of the merge or nothing in out. */
    rc = ft_db_exec(in, "BEGIN", err);
    if (rc == FT_OK) {
        rc = ft_db_exec(out, "BEGIN IMMEDIATE", err);
        if (rc == FT_OK) {
            rc = merge_all(&x, err);
            if (rc == FT_OK) rc = ft_db_exec(out, "COMMIT", err);
            if (rc != FT_OK) sqlite3_exec(out->h, "ROLLBACK", NULL, NULL, NULL);
        }
        sqlite3_exec(in->h, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_finalize(x.samples);
    sqlite3_finalize(x.counters);
    if (rc != FT_OK) memset(stats, 0, sizeof *stats);
    return rc;
}
