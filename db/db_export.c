/* db_export.c - the database as CSV (one row per measurement) or as one JSON document. */
#include "db_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every measurement with what names it; the column order is used by both formats. */
#define MEASUREMENT_QUERY                                                                              \
    "SELECT m.id, s.op_type, s.signature, c.key, c.params, ma.machine_key, ma.vendor, ma.model_name, " \
    "b.build_key, b.compiler, sw.uuid, m.status, m.detail, m.n_samples, m.reps, m.min_s, m.median_s, " \
    "m.mad_s, m.mean_s, m.counter_tier, m.counter_note, m.multiplexed, m.created "                     \
    "FROM measurements m JOIN candidates c ON c.id = m.candidate_id "                                  \
    "JOIN signatures s ON s.id = c.signature_id JOIN machines ma ON ma.id = m.machine_id "             \
    "JOIN builds b ON b.id = m.build_id LEFT JOIN sweeps sw ON sw.id = m.sweep_id ORDER BY m.id"

enum {
    Q_ID,
    Q_OP,
    Q_SIG,
    Q_KEY,
    Q_PARAMS,
    Q_MACHINE,
    Q_VENDOR,
    Q_MODEL_NAME,
    Q_BUILD,
    Q_COMPILER,
    Q_SWEEP,
    Q_STATUS,
    Q_DETAIL,
    Q_N,
    Q_REPS,
    Q_MIN,
    Q_MEDIAN,
    Q_MAD,
    Q_MEAN,
    Q_TIER,
    Q_NOTE,
    Q_MUX,
    Q_CREATED
};

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* A REAL or INTEGER column as text that reads back to the same double; "" (CSV) or null (JSON) for NULL. */
static void number(FILE *f, sqlite3_stmt *st, int i, int json)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        if (json) fputs("null", f);
        return;
    }
    if (sqlite3_column_type(st, i) == SQLITE_INTEGER) {
        fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i));
        return;
    }
    double v = sqlite3_column_double(st, i);
    if (!isfinite(v))
        fputs(json ? "null" : "", f);
    else
        fprintf(f, "%.17g", v);
}

static void json_text_or_null(FILE *f, sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        fputs("null", f);
    else
        json_string(f, ft_db_col_text(st, i));
}

typedef struct export_ctx {
    ft_db *db;
    FILE *f;
    sqlite3_stmt *samples, *counters;
    char **events; /* CSV: distinct counter events, one column each */
    int n_events;
} export_ctx;

static int write_samples(export_ctx *x, int64_t mid, int json, ft_error *err)
{
    sqlite3_stmt *st = x->samples;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, mid);
    int step, first = 1;
    if (json) fputc('[', x->f);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!first) fputs(json ? ", " : ";", x->f);
        first = 0;
        number(x->f, st, 0, json);
    }
    if (json) fputc(']', x->f);
    return step == SQLITE_DONE ? FT_OK : ft_db_sqlerr(x->db, err, "reading samples");
}

static int export_csv_row(export_ctx *x, sqlite3_stmt *q, ft_error *err)
{
    FILE *f = x->f;
    static const int text_cols[] = {Q_OP,         Q_SIG,   Q_KEY,      Q_PARAMS, Q_MACHINE, Q_VENDOR,
                                    Q_MODEL_NAME, Q_BUILD, Q_COMPILER, Q_SWEEP,  Q_STATUS,  Q_DETAIL};
    fprintf(f, "%lld", (long long)sqlite3_column_int64(q, Q_ID));
    for (size_t i = 0; i < sizeof text_cols / sizeof text_cols[0]; i++) {
        fputc(',', f);
        csv_field(f, ft_db_col_text(q, text_cols[i]));
    }
    static const int num_cols[] = {Q_N, Q_REPS, Q_MIN, Q_MEDIAN, Q_MAD, Q_MEAN};
    for (size_t i = 0; i < sizeof num_cols / sizeof num_cols[0]; i++) {
        fputc(',', f);
        number(f, q, num_cols[i], 0);
    }
    fputc(',', f);
    csv_field(f, ft_db_col_text(q, Q_TIER));
    fputc(',', f);
    csv_field(f, ft_db_col_text(q, Q_NOTE));
    fprintf(f, ",%d,", sqlite3_column_int(q, Q_MUX));
    csv_field(f, ft_db_col_text(q, Q_CREATED));

    /* Counters come back ordered by event, like the column list. */
    sqlite3_stmt *st = x->counters;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, sqlite3_column_int64(q, Q_ID));
    int step = sqlite3_step(st);
    for (int e = 0; e < x->n_events; e++) {
        fputc(',', f);
        if (step == SQLITE_ROW && strcmp(ft_db_col_text(st, 0), x->events[e]) == 0) {
            number(f, st, 1, 0);
            step = sqlite3_step(st);
        }
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW) return ft_db_sqlerr(x->db, err, "reading counters");
    fputc(',', f);
    int rc = write_samples(x, sqlite3_column_int64(q, Q_ID), 0, err);
    fputc('\n', f);
    return rc;
}

static int load_events(export_ctx *x, ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(x->db, "SELECT DISTINCT event FROM counters ORDER BY event", &st, err);
    if (rc != FT_OK) return rc;
    int cap = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (x->n_events == cap) {
            int nc = cap ? 2 * cap : 8;
            char **nv = realloc(x->events, (size_t)nc * sizeof *nv);
            if (!nv) {
                rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", x->db->path);
                break;
            }
            x->events = nv;
            cap = nc;
        }
        x->events[x->n_events] = strdup(ft_db_col_text(st, 0));
        if (!x->events[x->n_events]) {
            rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", x->db->path);
            break;
        }
        x->n_events++;
    }
    if (rc == FT_OK && step != SQLITE_DONE) rc = ft_db_sqlerr(x->db, err, "listing counter events");
    sqlite3_finalize(st);
    return rc;
}

static int export_csv(export_ctx *x, ft_error *err)
{
    int rc = load_events(x, err);
    if (rc != FT_OK) return rc;
    fputs("measurement_id,op_type,signature,candidate,params,machine,vendor,model_name,build,compiler,sweep,status,"
          "detail,n_samples,reps,min_s,median_s,mad_s,mean_s,counter_tier,counter_note,multiplexed,created",
          x->f);
    for (int e = 0; e < x->n_events; e++) {
        fputc(',', x->f);
        csv_field(x->f, x->events[e]);
    }
    fputs(",samples_s\n", x->f);
    sqlite3_stmt *q;
    rc = ft_db_prepare(x->db, MEASUREMENT_QUERY, &q, err);
    if (rc != FT_OK) return rc;
    int step;
    while (rc == FT_OK && (step = sqlite3_step(q)) == SQLITE_ROW) rc = export_csv_row(x, q, err);
    if (rc == FT_OK && step != SQLITE_DONE) rc = ft_db_sqlerr(x->db, err, "reading measurements");
    sqlite3_finalize(q);
    return rc;
}

/* Writes the rows of sql as a JSON array of objects, keys from the column names. Columns whose
 * name ends in "_json" are embedded as JSON rather than as strings (and lose the suffix). */
static int json_table(export_ctx *x, const char *name, const char *sql, ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(x->db, sql, &st, err);
    if (rc != FT_OK) return rc;
    FILE *f = x->f;
    fprintf(f, "  \"%s\": [", name);
    int step, first = 1, nc = sqlite3_column_count(st);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        fputs(first ? "\n    {" : ",\n    {", f);
        first = 0;
        for (int i = 0; i < nc; i++) {
            const char *col = sqlite3_column_name(st, i);
            size_t len = strlen(col);
            int raw = len > 5 && strcmp(col + len - 5, "_json") == 0;
            fprintf(f, "%s\"%.*s\": ", i ? ", " : "", (int)(raw ? len - 5 : len), col);
            int type = sqlite3_column_type(st, i);
            if (type == SQLITE_NULL)
                fputs("null", f);
            else if (raw)
                fputs(ft_db_col_text(st, i), f);
            else if (type == SQLITE_INTEGER || type == SQLITE_FLOAT)
                number(f, st, i, 1);
            else
                json_string(f, ft_db_col_text(st, i));
        }
        fputc('}', f);
    }
    fputs(first ? "],\n" : "\n  ],\n", f);
    if (step != SQLITE_DONE) rc = ft_db_sqlerr(x->db, err, name);
    sqlite3_finalize(st);
    return rc;
}

static int export_json_measurement(export_ctx *x, sqlite3_stmt *q, ft_error *err)
{
    FILE *f = x->f;
    fputs("{\"op_type\": ", f);
    json_string(f, ft_db_col_text(q, Q_OP));
    fputs(", \"signature\": ", f);
    json_string(f, ft_db_col_text(q, Q_SIG));
    fputs(", \"candidate\": ", f);
    json_string(f, ft_db_col_text(q, Q_KEY));
    fprintf(f, ", \"params\": %s, \"machine\": ", ft_db_col_text(q, Q_PARAMS));
    json_string(f, ft_db_col_text(q, Q_MACHINE));
    fputs(", \"build\": ", f);
    json_string(f, ft_db_col_text(q, Q_BUILD));
    fputs(", \"sweep\": ", f);
    json_text_or_null(f, q, Q_SWEEP);
    fputs(", \"status\": ", f);
    json_string(f, ft_db_col_text(q, Q_STATUS));
    fputs(", \"detail\": ", f);
    json_text_or_null(f, q, Q_DETAIL);
    static const struct {
        int col;
        const char *name;
    } nums[] = {{Q_N, "n_samples"},     {Q_REPS, "reps"}, {Q_MIN, "min_s"},
                {Q_MEDIAN, "median_s"}, {Q_MAD, "mad_s"}, {Q_MEAN, "mean_s"}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        fprintf(f, ", \"%s\": ", nums[i].name);
        number(f, q, nums[i].col, 1);
    }
    fputs(", \"counter_tier\": ", f);
    json_string(f, ft_db_col_text(q, Q_TIER));
    fputs(", \"counter_note\": ", f);
    json_text_or_null(f, q, Q_NOTE);
    fprintf(f, ", \"multiplexed\": %s, \"created\": ", sqlite3_column_int(q, Q_MUX) ? "true" : "false");
    json_string(f, ft_db_col_text(q, Q_CREATED));

    fputs(", \"counters\": {", f);
    sqlite3_stmt *st = x->counters;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, sqlite3_column_int64(q, Q_ID));
    int step, first = 1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!first) fputs(", ", f);
        first = 0;
        json_string(f, ft_db_col_text(st, 0));
        fputs(": ", f);
        number(f, st, 1, 1);
    }
    if (step != SQLITE_DONE) return ft_db_sqlerr(x->db, err, "reading counters");
    fputs("}, \"samples_s\": ", f);
    int rc = write_samples(x, sqlite3_column_int64(q, Q_ID), 1, err);
    fputc('}', f);
    return rc;
}

static int export_json(export_ctx *x, ft_error *err)
{
    FILE *f = x->f;
    fprintf(f, "{\n  \"format\": \"fluidtune-db\",\n  \"schema_version\": %d,\n", FT_DB_SCHEMA_VERSION);
    int rc = json_table(x, "machines",
                        "SELECT machine_key AS id, arch, vendor, model_name, family, model, stepping, isa, n_cpus, "
                        "l1d_bytes, l2_bytes, l3_bytes, cache_source, hypervisor, emulated, kernel, first_seen "
                        "FROM machines ORDER BY rowid",
                        err);
    if (rc == FT_OK)
        rc = json_table(x, "builds",
                        "SELECT build_key AS id, compiler, flags, kernel_hash, first_seen FROM builds ORDER BY rowid",
                        err);
    if (rc == FT_OK) rc = json_table(x, "models", "SELECT sha256, path, name, first_seen FROM models ORDER BY id", err);
    if (rc == FT_OK)
        rc = json_table(x, "sweeps",
                        "SELECT sw.uuid, sw.config AS config_json, ma.machine_key AS machine, b.build_key AS build, "
                        "mo.sha256 AS model, sw.kernel, sw.started, sw.finished, sw.status FROM sweeps sw "
                        "JOIN machines ma ON ma.id = sw.machine_id JOIN builds b ON b.id = sw.build_id "
                        "LEFT JOIN models mo ON mo.id = sw.model_id ORDER BY sw.id",
                        err);
    if (rc != FT_OK) return rc;
    fputs("  \"measurements\": [", f);
    sqlite3_stmt *q;
    rc = ft_db_prepare(x->db, MEASUREMENT_QUERY, &q, err);
    if (rc != FT_OK) return rc;
    int step, first = 1;
    while (rc == FT_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        fputs(first ? "\n    " : ",\n    ", f);
        first = 0;
        rc = export_json_measurement(x, q, err);
    }
    if (rc == FT_OK && step != SQLITE_DONE) rc = ft_db_sqlerr(x->db, err, "reading measurements");
    sqlite3_finalize(q);
    fputs(first ? "]\n}\n" : "\n  ]\n}\n", f);
    return rc;
}

int ft_db_export(ft_db *db, FILE *out, ft_db_format format, ft_error *err)
{
    export_ctx x = {db, out, NULL, NULL, NULL, 0};
    int rc = ft_db_prepare(db, "SELECT seconds FROM samples WHERE measurement_id = ?1 ORDER BY idx", &x.samples, err);
    if (rc == FT_OK)
        rc = ft_db_prepare(db, "SELECT event, value FROM counters WHERE measurement_id = ?1 ORDER BY event",
                           &x.counters, err);
    /* One read transaction, so a sweep writing meanwhile cannot make the export inconsistent. */
    if (rc == FT_OK) rc = ft_db_exec(db, "BEGIN", err);
    if (rc == FT_OK) {
        rc = format == FT_DB_JSON ? export_json(&x, err) : export_csv(&x, err);
        sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_finalize(x.samples);
    sqlite3_finalize(x.counters);
    ft_db_free_strings(x.events, x.n_events);
    if (rc == FT_OK && (fflush(out) != 0 || ferror(out)))
        rc = ft_fail(err, FT_ERR_FAIL, "%s: writing the export failed", db->path);
    return rc;
}
