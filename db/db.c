/* db.c - opening, validating and migrating the tuning database; upserts, measurements and queries. */
#include "db_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

char *ft_db_now(char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%.19s.%03dZ", day, (int)(ts.tv_nsec / 1000000) % 1000);
    return buf;
}

int ft_db_sqlerr(ft_db *db, ft_error *err, const char *what)
{
    int code = sqlite3_errcode(db->h) & 0xff;
    const char *msg = sqlite3_errmsg(db->h);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
        return ft_fail(err, FT_ERR_INPUT, "%s: %s: the file is corrupt or not a database (%s)", db->path, what, msg);
    if (code == SQLITE_CONSTRAINT) return ft_fail(err, FT_ERR_INPUT, "%s: %s: %s", db->path, what, msg);
    if (code == SQLITE_READONLY)
        return ft_fail(err, FT_ERR_FAIL, "%s: %s: the file cannot be written (read-only file, folder or file system: %s)",
                       db->path, what, msg);
    return ft_fail(err, FT_ERR_FAIL, "%s: %s: %s", db->path, what, msg);
}

int ft_db_exec(ft_db *db, const char *sql, ft_error *err)
{
    if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK) return ft_db_sqlerr(db, err, sql);
    return FT_OK;
}

int ft_db_prepare(ft_db *db, const char *sql, sqlite3_stmt **st, ft_error *err)
{
    if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return ft_db_sqlerr(db, err, "preparing a query");
    }
    return FT_OK;
}

const char *ft_db_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int ft_db_bind_real(sqlite3_stmt *st, int i, double v)
{
    return isfinite(v) ? sqlite3_bind_double(st, i, v) : sqlite3_bind_null(st, i);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Runs a one-row integer query; *found = 0 when it returns no row. */
static int query_int(ft_db *db, const char *sql, int64_t *out, int *found, ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db, sql, &st, err);
    if (rc != FT_OK) return rc;
    int step = sqlite3_step(st);
    *found = step == SQLITE_ROW;
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        rc = ft_db_sqlerr(db, err, sql);
    sqlite3_finalize(st);
    return rc;
}

/* SQLite opens anything and only complains at the first read; look at the header ourselves so a
 * stray file gets a message that says what it is. */
static int check_header(const char *path, int *exists, ft_error *err)
{
    struct stat sb;
    *exists = stat(path, &sb) == 0;
    if (!*exists) return FT_OK;
    if (!S_ISREG(sb.st_mode)) return ft_fail(err, FT_ERR_INPUT, "%s: not a regular file", path);
    if (sb.st_size == 0) return FT_OK; /* an empty file is a new database to SQLite too */
    FILE *f = fopen(path, "rb");
    if (!f) return ft_fail(err, FT_ERR_FAIL, "%s: cannot open: %s", path, strerror(errno));
    char head[16];
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got < sizeof head || memcmp(head, "SQLite format 3", 16) != 0)
        return ft_fail(err, FT_ERR_INPUT, "%s: not a fluidtune database: not an SQLite file at all", path);
    return FT_OK;
}

static int read_schema_version(ft_db *db, int *version, ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db, "SELECT value FROM meta WHERE key = 'schema_version'", &st, err);
    if (rc != FT_OK)
        return ft_fail(err, FT_ERR_INPUT, "%s: has fluidtune's application_id but no readable meta table: %s", db->path,
                       sqlite3_errmsg(db->h));
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *v = ft_db_col_text(st, 0);
        char *end;
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 1)
            rc = ft_fail(err, FT_ERR_INPUT, "%s: meta schema_version '%s' is not a version", db->path, v);
        else
            *version = (int)n;
    } else if (step == SQLITE_DONE) {
        rc = ft_fail(err, FT_ERR_INPUT, "%s: has fluidtune's application_id but no schema_version in meta", db->path);
    } else {
        rc = ft_db_sqlerr(db, err, "reading the schema version");
    }
    sqlite3_finalize(st);
    return rc;
}

static int set_schema_version(ft_db *db, int version, ft_error *err)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO meta (key, value) VALUES ('schema_version', '%d') "
             "ON CONFLICT (key) DO UPDATE SET value = excluded.value;"
             "PRAGMA user_version = %d;",
             version, version);
    return ft_db_exec(db, sql, err);
}

/* Applies migrations from..FT_DB_SCHEMA_VERSION in one transaction, rechecking the version inside
 * it because another process may have migrated the file since we looked. */
static int migrate(ft_db *db, int from, ft_error *err)
{
    int rc = ft_db_exec(db, "BEGIN IMMEDIATE", err);
    if (rc != FT_OK) return rc;
    int version = from;
    int64_t n_tables = 0;
    int found;
    rc = query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'meta'", &n_tables, &found, err);
    if (rc == FT_OK && n_tables > 0) rc = read_schema_version(db, &version, err);
    if (rc == FT_OK && version == 0) {
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d;", (int)FT_DB_APPLICATION_ID);
        rc = ft_db_exec(db, sql, err);
    }
    for (; rc == FT_OK && version < FT_DB_SCHEMA_VERSION; version++) {
        if (sqlite3_exec(db->h, ft_db_migrations[version], NULL, NULL, NULL) != SQLITE_OK) {
            char what[96];
            snprintf(what, sizeof what, "migrating schema version %d to %d", version, version + 1);
            rc = ft_db_sqlerr(db, err, what);
            break;
        }
        rc = set_schema_version(db, version + 1, err);
    }
    if (rc == FT_OK && from == 0) {
        char now[32];
        sqlite3_stmt *st;
        rc = ft_db_prepare(db, "INSERT OR IGNORE INTO meta (key, value) VALUES ('application_id', ?1), ('created', ?2)",
                           &st, err);
        if (rc == FT_OK) {
            char app[16];
            snprintf(app, sizeof app, "0x%08x", (unsigned)FT_DB_APPLICATION_ID);
            sqlite3_bind_text(st, 1, app, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, ft_db_now(now, sizeof now), -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) != SQLITE_DONE) rc = ft_db_sqlerr(db, err, "writing meta");
            sqlite3_finalize(st);
        }
    }
    if (rc == FT_OK) return ft_db_exec(db, "COMMIT", err);
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* A damaged page shows only when a query happens to read it, so without this a sweep would go on
 * writing into a corrupt file and a solve would silently miss the measurements on it. quick_check
 * reads every page once (milliseconds for a tuning database) and refuses the damage up front. */
static int quick_check(ft_db *db, ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db, "PRAGMA quick_check(3)", &st, err);
    if (rc != FT_OK) return rc;
    char what[512] = "";
    int ok = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *row = ft_db_col_text(st, 0);
        if (strcmp(row, "ok") == 0) {
            ok = 1;
            continue;
        }
        if (strncmp(row, "*** in database", 15) == 0) row = strchr(row, '\n') ? strchr(row, '\n') + 1 : "";
        size_t n = strlen(what);
        if (*row) snprintf(what + n, sizeof what - n, "%s%s", n ? "; " : "", row);
    }
    if (step != SQLITE_DONE) rc = ft_db_sqlerr(db, err, "checking the file");
    else if (!ok || what[0])
        rc = ft_fail(err, FT_ERR_INPUT,
                     "%s: the file is corrupt (%s): nothing was written to it; restore a copy, or save what is "
                     "left with sqlite3's .recover",
                     db->path, what[0] ? what : "quick_check failed");
    sqlite3_finalize(st);
    return rc;
}

static int open_checked(ft_db *db, int exists, ft_error *err)
{
    int ro = (db->flags & FT_DB_READONLY) != 0;
    sqlite3_busy_timeout(db->h, 10000);
    sqlite3_extended_result_codes(db->h, 1);
    int64_t app = 0, n_objects = 0;
    int found;
    /* Reading the header and the schema is where a corrupt or foreign file first shows itself. */
    int rc = query_int(db, "PRAGMA application_id", &app, &found, err);
    if (rc == FT_OK) rc = query_int(db, "SELECT count(*) FROM sqlite_master", &n_objects, &found, err);
    if (rc != FT_OK) return rc;
    uint32_t app_id = (uint32_t)app;
    int version = 0;
    if (app_id == FT_DB_APPLICATION_ID) {
        rc = read_schema_version(db, &version, err);
        if (rc != FT_OK) return rc;
    } else if (app_id != 0) {
        return ft_fail(err, FT_ERR_INPUT,
                       "%s: not a fluidtune database: its SQLite application_id is 0x%08x, fluidtune's is 0x%08x",
                       db->path, app_id, (unsigned)FT_DB_APPLICATION_ID);
    } else if (n_objects > 0) {
        return ft_fail(err, FT_ERR_INPUT,
                       "%s: not a fluidtune database: an SQLite file of another program (application_id 0, "
                       "fluidtune's is 0x%08x, and it already has %lld tables or indexes)",
                       db->path, (unsigned)FT_DB_APPLICATION_ID, (long long)n_objects);
    } else if (ro) {
        return ft_fail(err, FT_ERR_INPUT, "%s: %s", db->path,
                       exists ? "an empty database, not a fluidtune database yet" : "no such file");
    }
    if (version > FT_DB_SCHEMA_VERSION)
        return ft_fail(err, FT_ERR_INPUT,
                       "%s: schema version %d is newer than version %d, the newest this fluidtune knows: "
                       "use a newer fluidtune",
                       db->path, version, FT_DB_SCHEMA_VERSION);
    if (version < FT_DB_SCHEMA_VERSION && ro)
        return ft_fail(err, FT_ERR_INPUT,
                       "%s: schema version %d is older than this fluidtune's %d; opening it read-only cannot "
                       "migrate it (open it once for writing)",
                       db->path, version, FT_DB_SCHEMA_VERSION);
    rc = quick_check(db, err);
    if (rc == FT_OK) rc = ft_db_exec(db, "PRAGMA foreign_keys = ON", err);
    if (rc != FT_OK || ro) return rc;
    /* SQLite quietly opens a file it may not write read-only; say so before the first write does. */
    if (sqlite3_db_readonly(db->h, "main") == 1)
        return ft_fail(err, FT_ERR_FAIL, "%s: the file cannot be written (read-only file, folder or file system)",
                       db->path);
    /* WAL lets readers (reports, a second shard) work while a sweep writes; synchronous=FULL makes
     * each committed measurement survive a power cut as well as a kill. */
    rc = ft_db_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", err);
    if (rc == FT_OK && version < FT_DB_SCHEMA_VERSION) rc = migrate(db, version, err);
    return rc;
}

int ft_db_open(const char *path, unsigned flags, ft_db **out, ft_error *err)
{
    *out = NULL;
    if (!path || !path[0]) return ft_fail(err, FT_ERR_INPUT, "database path is empty");
    int exists;
    int rc = check_header(path, &exists, err);
    if (rc != FT_OK) return rc;
    if (!exists && !(flags & FT_DB_CREATE)) return ft_fail(err, FT_ERR_INPUT, "%s: no such file", path);
    if (!exists && (flags & FT_DB_READONLY)) return ft_fail(err, FT_ERR_INPUT, "%s: no such file", path);
    ft_db *db = calloc(1, sizeof *db);
    if (!db) return ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", path);
    db->path = strdup(path);
    db->flags = flags;
    if (!db->path) {
        free(db);
        return ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", path);
    }
    int oflags = (flags & FT_DB_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &db->h, oflags, NULL) != SQLITE_OK) {
        rc = ft_fail(err, FT_ERR_FAIL, "%s: cannot open: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
        ft_db_close(db);
        return rc;
    }
    rc = open_checked(db, exists, err);
    if (rc != FT_OK) {
        ft_db_close(db);
        return rc;
    }
    *out = db;
    return FT_OK;
}

void ft_db_close(ft_db *db)
{
    if (!db) return;
    sqlite3_close_v2(db->h);
    free(db->path);
    free(db);
}

const char *ft_db_path(const ft_db *db)
{
    return db->path;
}

struct sqlite3 *ft_db_handle(ft_db *db)
{
    return db->h;
}

int ft_db_integrity_check(ft_db *db, ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db, "PRAGMA integrity_check", &st, err);
    if (rc != FT_OK) return rc;
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW)
        rc = ft_db_sqlerr(db, err, "integrity check");
    else if (strcmp(ft_db_col_text(st, 0), "ok") != 0)
        rc = ft_fail(err, FT_ERR_INPUT, "%s: integrity check failed: %s", db->path, ft_db_col_text(st, 0));
    sqlite3_finalize(st);
    if (rc != FT_OK) return rc;
    int64_t dangling = 0;
    int found;
    rc = query_int(db, "SELECT count(*) FROM pragma_foreign_key_check", &dangling, &found, err);
    if (rc == FT_OK && dangling > 0)
        rc = ft_fail(err, FT_ERR_INPUT, "%s: integrity check failed: %lld rows refer to missing rows", db->path,
                     (long long)dangling);
    return rc;
}

/* Inserts (or ignores) a row by natural key, then looks its id up: the shape of every upsert. */
static int put_row(ft_db *db, sqlite3_stmt *ins, const char *lookup_sql,
                   void (*bind_lookup)(sqlite3_stmt *, const void *), const void *arg, const char *what, int64_t *id,
                   int *added, ft_error *err)
{
    int rc = FT_OK;
    if (sqlite3_step(ins) != SQLITE_DONE) rc = ft_db_sqlerr(db, err, what);
    int changed = sqlite3_changes(db->h);
    sqlite3_finalize(ins);
    if (rc != FT_OK) return rc;
    if (added) *added = changed > 0;
    sqlite3_stmt *st;
    rc = ft_db_prepare(db, lookup_sql, &st, err);
    if (rc != FT_OK) return rc;
    bind_lookup(st, arg);
    if (sqlite3_step(st) == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else
        rc = ft_db_sqlerr(db, err, what);
    sqlite3_finalize(st);
    return rc;
}

static void bind_key1(sqlite3_stmt *st, const void *key)
{
    sqlite3_bind_text(st, 1, (const char *)key, -1, SQLITE_TRANSIENT);
}

int ft_db_put_machine(ft_db *db, const ft_machine *m, const char *first_seen, int64_t *id, int *added, ft_error *err)
{
    if (!m->id[0]) return ft_fail(err, FT_ERR_INPUT, "%s: machine has no id (ft_machine_update_id)", db->path);
    char now[32];
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "INSERT INTO machines (" FT_DB_MACHINE_COLUMNS ", first_seen) VALUES "
                           "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
                           "ON CONFLICT (machine_key) DO NOTHING",
                           &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, m->arch, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, m->vendor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, m->model_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, m->family);
    sqlite3_bind_int(st, 6, m->model);
    sqlite3_bind_int(st, 7, m->stepping);
    sqlite3_bind_text(st, 8, m->isa, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 9, m->n_cpus);
    sqlite3_bind_int64(st, 10, m->l1d_bytes);
    sqlite3_bind_int64(st, 11, m->l2_bytes);
    sqlite3_bind_int64(st, 12, m->l3_bytes);
    sqlite3_bind_text(st, 13, m->cache_source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 14, m->hypervisor != 0);
    sqlite3_bind_int(st, 15, m->emulated != 0);
    sqlite3_bind_text(st, 16, m->kernel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 17, first_seen ? first_seen : ft_db_now(now, sizeof now), -1, SQLITE_TRANSIENT);
    return put_row(db, st, "SELECT id FROM machines WHERE machine_key = ?1", bind_key1, m->id, "storing a machine", id,
                   added, err);
}

int ft_db_put_build(ft_db *db, const ft_build *b, const char *first_seen, int64_t *id, int *added, ft_error *err)
{
    if (!b->id[0]) return ft_fail(err, FT_ERR_INPUT, "%s: build has no id (ft_build_update_id)", db->path);
    char now[32];
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "INSERT INTO builds (build_key, compiler, flags, kernel_hash, first_seen) "
                           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (build_key) DO NOTHING",
                           &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_text(st, 1, b->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b->compiler, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, b->flags, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, b->kernel_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, first_seen ? first_seen : ft_db_now(now, sizeof now), -1, SQLITE_TRANSIENT);
    return put_row(db, st, "SELECT id FROM builds WHERE build_key = ?1", bind_key1, b->id, "storing a build", id, added,
                   err);
}

int ft_db_put_model(ft_db *db, const char *sha256, const char *path, const char *name, const char *first_seen,
                    int64_t *id, int *added, ft_error *err)
{
    if (!sha256 || !sha256[0]) return ft_fail(err, FT_ERR_INPUT, "%s: a model needs its sha256", db->path);
    char now[32];
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "INSERT INTO models (sha256, path, name, first_seen) VALUES (?1, ?2, ?3, ?4) "
                           "ON CONFLICT (sha256) DO NOTHING",
                           &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, path ? path : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, first_seen ? first_seen : ft_db_now(now, sizeof now), -1, SQLITE_TRANSIENT);
    return put_row(db, st, "SELECT id FROM models WHERE sha256 = ?1", bind_key1, sha256, "storing a model", id, added,
                   err);
}

int ft_db_put_signature(ft_db *db, const char *op_type, const char *signature, int64_t *id, int *added, ft_error *err)
{
    if (!op_type || !op_type[0] || !signature || !signature[0])
        return ft_fail(err, FT_ERR_INPUT, "%s: a signature needs an op type and its text", db->path);
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "INSERT INTO signatures (op_type, signature) VALUES (?1, ?2) "
                           "ON CONFLICT (signature) DO NOTHING",
                           &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_text(st, 1, op_type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, signature, -1, SQLITE_TRANSIENT);
    return put_row(db, st, "SELECT id FROM signatures WHERE signature = ?1", bind_key1, signature,
                   "storing a signature", id, added, err);
}

int ft_db_put_candidate(ft_db *db, int64_t signature_id, const char *key, const char *params_json, int64_t *id,
                        int *added, ft_error *err)
{
    if (!key || !key[0]) return ft_fail(err, FT_ERR_INPUT, "%s: a candidate needs a key", db->path);
    if (!params_json) params_json = "{}";
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db, "SELECT id, params FROM candidates WHERE signature_id = ?1 AND key = ?2", &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_int64(st, 1, signature_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (strcmp(ft_db_col_text(st, 1), params_json) != 0)
            rc = ft_fail(err, FT_ERR_INPUT,
                         "%s: candidate %s of signature %lld is stored with params %s, not %s: an older fluidtune "
                         "build filled this database and its kernels meant other knobs by that key; sweep into "
                         "a new database (solve only uses measurements of the build that runs the plan anyway)",
                         db->path, key, (long long)signature_id, ft_db_col_text(st, 1), params_json);
        *id = sqlite3_column_int64(st, 0);
        if (added) *added = 0;
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) return ft_db_sqlerr(db, err, "looking up a candidate");
    rc = ft_db_prepare(db, "INSERT INTO candidates (signature_id, key, params) VALUES (?1, ?2, ?3)", &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_int64(st, 1, signature_id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, params_json, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        char what[320];
        snprintf(what, sizeof what, "storing candidate %s (params must be JSON, the signature must exist)", key);
        rc = ft_db_sqlerr(db, err, what);
    }
    sqlite3_finalize(st);
    if (rc != FT_OK) return rc;
    *id = sqlite3_last_insert_rowid(db->h);
    if (added) *added = 1;
    return FT_OK;
}

int ft_db_upsert_machine(ft_db *db, const ft_machine *m, int64_t *id, ft_error *err)
{
    return ft_db_put_machine(db, m, NULL, id, NULL, err);
}

int ft_db_upsert_build(ft_db *db, const ft_build *b, int64_t *id, ft_error *err)
{
    return ft_db_put_build(db, b, NULL, id, NULL, err);
}

int ft_db_upsert_model(ft_db *db, const char *sha256, const char *path, const char *name, int64_t *id, ft_error *err)
{
    return ft_db_put_model(db, sha256, path, name, NULL, id, NULL, err);
}

int ft_db_upsert_signature(ft_db *db, const char *op_type, const char *signature, int64_t *id, ft_error *err)
{
    return ft_db_put_signature(db, op_type, signature, id, NULL, err);
}

int ft_db_upsert_candidate(ft_db *db, int64_t signature_id, const char *key, const char *params_json, int64_t *id,
                           ft_error *err)
{
    return ft_db_put_candidate(db, signature_id, key, params_json, id, NULL, err);
}

/* A random (version 4) UUID: sweeps from different files must never share one. */
static int make_uuid(char out[37])
{
    uint8_t b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

int ft_db_begin_sweep(ft_db *db, const ft_db_sweep *s, int64_t *sweep_id, ft_error *err)
{
    char uuid[37], now[32];
    if (make_uuid(uuid) != 0)
        return ft_fail(err, FT_ERR_FAIL, "%s: no randomness for a sweep id: %s", db->path, strerror(errno));
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "INSERT INTO sweeps (uuid, config, machine_id, build_id, model_id, kernel, started, status) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running')",
                           &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, s->config_json ? s->config_json : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, s->machine_id);
    sqlite3_bind_int64(st, 4, s->build_id);
    if (s->model_id > 0)
        sqlite3_bind_int64(st, 5, s->model_id);
    else
        sqlite3_bind_null(st, 5);
    bind_text_or_null(st, 6, s->kernel);
    sqlite3_bind_text(st, 7, ft_db_now(now, sizeof now), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) rc = ft_db_sqlerr(db, err, "starting a sweep (config must be JSON)");
    sqlite3_finalize(st);
    if (rc == FT_OK) *sweep_id = sqlite3_last_insert_rowid(db->h);
    return rc;
}

int ft_db_finish_sweep(ft_db *db, int64_t sweep_id, const char *status, ft_error *err)
{
    char now[32];
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db, "UPDATE sweeps SET status = ?1, finished = ?2 WHERE id = ?3", &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_text(st, 1, status ? status : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, ft_db_now(now, sizeof now), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, sweep_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = ft_db_sqlerr(db, err, "finishing a sweep (status: done, interrupted or failed)");
    else if (sqlite3_changes(db->h) == 0)
        rc = ft_fail(err, FT_ERR_INPUT, "%s: no sweep %lld", db->path, (long long)sweep_id);
    sqlite3_finalize(st);
    return rc;
}

int ft_db_insert_measurement(ft_db *db, const ft_db_measurement *m, int64_t *id, ft_error *err)
{
    if (m->n_samples < 0 || (m->n_samples > 0 && !m->samples) || m->n_counters < 0 ||
        (m->n_counters > 0 && !m->counters))
        return ft_fail(err, FT_ERR_INPUT, "%s: measurement of candidate %lld: sample or counter array missing",
                       db->path, (long long)m->candidate_id);
    char now[32];
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "INSERT INTO measurements (sweep_id, candidate_id, machine_id, build_id, status, detail, "
                           "n_samples, reps, min_s, median_s, mad_s, mean_s, counter_tier, counter_note, multiplexed, "
                           "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                           &st, err);
    if (rc != FT_OK) return rc;
    if (m->sweep_id > 0)
        sqlite3_bind_int64(st, 1, m->sweep_id);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, m->candidate_id);
    sqlite3_bind_int64(st, 3, m->machine_id);
    sqlite3_bind_int64(st, 4, m->build_id);
    sqlite3_bind_text(st, 5, m->status ? m->status : "", -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 6, m->detail && m->detail[0] ? m->detail : NULL);
    sqlite3_bind_int(st, 7, m->n_samples);
    sqlite3_bind_int64(st, 8, m->reps);
    ft_db_bind_real(st, 9, m->min_s);
    ft_db_bind_real(st, 10, m->median_s);
    ft_db_bind_real(st, 11, m->mad_s);
    ft_db_bind_real(st, 12, m->mean_s);
    sqlite3_bind_text(st, 13, m->counter_tier ? m->counter_tier : "none", -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 14, m->counter_note && m->counter_note[0] ? m->counter_note : NULL);
    sqlite3_bind_int(st, 15, m->multiplexed != 0);
    sqlite3_bind_text(st, 16, m->created ? m->created : ft_db_now(now, sizeof now), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        int unique = sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_UNIQUE;
        if (unique)
            rc = ft_fail(err, FT_ERR_INPUT, "%s: candidate %lld already has a measurement on machine %lld, build %lld",
                         db->path, (long long)m->candidate_id, (long long)m->machine_id, (long long)m->build_id);
        else
            rc = ft_db_sqlerr(db, err,
                              "storing a measurement (status OK/WRONG/CRASH/TIMEOUT/SKIPPED, tier hw/sw/none, "
                              "existing candidate, machine, build and sweep)");
    }
    sqlite3_finalize(st);
    if (rc != FT_OK) return rc;
    int64_t mid = sqlite3_last_insert_rowid(db->h);

    rc = ft_db_prepare(db, "INSERT INTO samples (measurement_id, idx, seconds) VALUES (?1, ?2, ?3)", &st, err);
    for (int i = 0; rc == FT_OK && i < m->n_samples; i++) {
        sqlite3_bind_int64(st, 1, mid);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_double(st, 3, m->samples[i]);
        if (!isfinite(m->samples[i]))
            rc = ft_fail(err, FT_ERR_INPUT, "%s: sample %d is not a finite time", db->path, i);
        else if (sqlite3_step(st) != SQLITE_DONE)
            rc = ft_db_sqlerr(db, err, "storing a sample");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc != FT_OK) return rc;
    rc = ft_db_prepare(db, "INSERT INTO counters (measurement_id, event, value) VALUES (?1, ?2, ?3)", &st, err);
    for (int i = 0; rc == FT_OK && i < m->n_counters; i++) {
        sqlite3_bind_int64(st, 1, mid);
        sqlite3_bind_text(st, 2, m->counters[i].event ? m->counters[i].event : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 3, isfinite(m->counters[i].value) ? m->counters[i].value : 0.0);
        if (sqlite3_step(st) != SQLITE_DONE) rc = ft_db_sqlerr(db, err, "storing a counter (event names are unique)");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == FT_OK && id) *id = mid;
    return rc;
}

int ft_db_record_measurement(ft_db *db, const ft_db_measurement *m, int64_t *id, ft_error *err)
{
    int rc = ft_db_exec(db, "BEGIN IMMEDIATE", err);
    if (rc != FT_OK) return rc;
    rc = ft_db_insert_measurement(db, m, id, err);
    if (rc == FT_OK) rc = ft_db_exec(db, "COMMIT", err);
    if (rc != FT_OK) sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int ft_db_has_measurement(ft_db *db, int64_t candidate_id, int64_t machine_id, int64_t build_id, int *found,
                          ft_error *err)
{
    sqlite3_stmt *st;
    int rc = ft_db_prepare(
        db, "SELECT 1 FROM measurements WHERE candidate_id = ?1 AND machine_id = ?2 AND build_id = ?3", &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_int64(st, 1, candidate_id);
    sqlite3_bind_int64(st, 2, machine_id);
    sqlite3_bind_int64(st, 3, build_id);
    int step = sqlite3_step(st);
    *found = step == SQLITE_ROW;
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = ft_db_sqlerr(db, err, "looking up a measurement");
    sqlite3_finalize(st);
    return rc;
}

void ft_db_free_strings(char **v, int n)
{
    if (!v) return;
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

int ft_db_measured_keys(ft_db *db, int64_t signature_id, int64_t machine_id, int64_t build_id, char ***keys, int *n,
                        ft_error *err)
{
    *keys = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "SELECT c.key FROM candidates c JOIN measurements m ON m.candidate_id = c.id "
                           "WHERE c.signature_id = ?1 AND m.machine_id = ?2 AND m.build_id = ?3 ORDER BY c.key",
                           &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_int64(st, 1, signature_id);
    sqlite3_bind_int64(st, 2, machine_id);
    sqlite3_bind_int64(st, 3, build_id);
    char **v = NULL;
    int count = 0, cap = 0, step;
    while (rc == FT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            int nc = cap ? 2 * cap : 16;
            char **nv = realloc(v, (size_t)nc * sizeof *nv);
            if (!nv) {
                rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", db->path);
                break;
            }
            v = nv;
            cap = nc;
        }
        v[count] = strdup(ft_db_col_text(st, 0));
        if (!v[count])
            rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", db->path);
        else
            count++;
    }
    if (rc == FT_OK && step != SQLITE_DONE) rc = ft_db_sqlerr(db, err, "listing measured candidates");
    sqlite3_finalize(st);
    if (rc != FT_OK) {
        ft_db_free_strings(v, count);
        return rc;
    }
    *keys = v;
    *n = count;
    return FT_OK;
}

void ft_db_best_clear(ft_db_best *best)
{
    free(best->key);
    free(best->params);
    memset(best, 0, sizeof *best);
}

int ft_db_best_candidate(ft_db *db, int64_t signature_id, int64_t machine_id, int64_t build_id, ft_db_best *best,
                         int *found, ft_error *err)
{
    memset(best, 0, sizeof *best);
    *found = 0;
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "SELECT c.id, m.id, c.key, c.params, m.median_s, m.mad_s, m.min_s "
                           "FROM candidates c JOIN measurements m ON m.candidate_id = c.id "
                           "WHERE c.signature_id = ?1 AND m.machine_id = ?2 AND m.build_id = ?3 "
                           "AND m.status = 'OK' AND m.median_s IS NOT NULL ORDER BY m.median_s, c.key LIMIT 1",
                           &st, err);
    if (rc != FT_OK) return rc;
    sqlite3_bind_int64(st, 1, signature_id);
    sqlite3_bind_int64(st, 2, machine_id);
    sqlite3_bind_int64(st, 3, build_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        best->candidate_id = sqlite3_column_int64(st, 0);
        best->measurement_id = sqlite3_column_int64(st, 1);
        best->key = strdup(ft_db_col_text(st, 2));
        best->params = strdup(ft_db_col_text(st, 3));
        best->median_s = sqlite3_column_double(st, 4);
        best->mad_s = sqlite3_column_double(st, 5);
        best->min_s = sqlite3_column_double(st, 6);
        if (!best->key || !best->params) {
            ft_db_best_clear(best);
            rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", db->path);
        } else {
            *found = 1;
        }
    } else if (step != SQLITE_DONE) {
        rc = ft_db_sqlerr(db, err, "looking up the best candidate");
    }
    sqlite3_finalize(st);
    return rc;
}

void ft_db_read_machine(sqlite3_stmt *st, int first, ft_machine *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->id, sizeof m->id, "%s", ft_db_col_text(st, first + 0));
    snprintf(m->arch, sizeof m->arch, "%s", ft_db_col_text(st, first + 1));
    snprintf(m->vendor, sizeof m->vendor, "%s", ft_db_col_text(st, first + 2));
    snprintf(m->model_name, sizeof m->model_name, "%s", ft_db_col_text(st, first + 3));
    m->family = sqlite3_column_int(st, first + 4);
    m->model = sqlite3_column_int(st, first + 5);
    m->stepping = sqlite3_column_int(st, first + 6);
    snprintf(m->isa, sizeof m->isa, "%s", ft_db_col_text(st, first + 7));
    m->n_cpus = sqlite3_column_int(st, first + 8);
    m->l1d_bytes = sqlite3_column_int64(st, first + 9);
    m->l2_bytes = sqlite3_column_int64(st, first + 10);
    m->l3_bytes = sqlite3_column_int64(st, first + 11);
    snprintf(m->cache_source, sizeof m->cache_source, "%s", ft_db_col_text(st, first + 12));
    m->hypervisor = sqlite3_column_int(st, first + 13);
    m->emulated = sqlite3_column_int(st, first + 14);
    snprintf(m->kernel, sizeof m->kernel, "%s", ft_db_col_text(st, first + 15));
}

int ft_db_list_machines(ft_db *db, ft_db_machine_row **rows, int *n, ft_error *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = ft_db_prepare(db,
                           "SELECT id, first_seen, (SELECT count(*) FROM measurements m WHERE m.machine_id = "
                           "ma.id), " FT_DB_MACHINE_COLUMNS " FROM machines ma ORDER BY first_seen, id",
                           &st, err);
    if (rc != FT_OK) return rc;
    ft_db_machine_row *v = NULL;
    int count = 0, cap = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            int nc = cap ? 2 * cap : 8;
            ft_db_machine_row *nv = realloc(v, (size_t)nc * sizeof *nv);
            if (!nv) {
                rc = ft_fail(err, FT_ERR_NOMEM, "%s: out of memory", db->path);
                break;
            }
            v = nv;
            cap = nc;
        }
        ft_db_machine_row *r = &v[count++];
        r->id = sqlite3_column_int64(st, 0);
        snprintf(r->first_seen, sizeof r->first_seen, "%s", ft_db_col_text(st, 1));
        r->n_measurements = sqlite3_column_int64(st, 2);
        ft_db_read_machine(st, 3, &r->machine);
    }
    if (rc == FT_OK && step != SQLITE_DONE) rc = ft_db_sqlerr(db, err, "listing machines");
    sqlite3_finalize(st);
    if (rc != FT_OK) {
        free(v);
        return rc;
    }
    *rows = v;
    *n = count;
    return FT_OK;
}
