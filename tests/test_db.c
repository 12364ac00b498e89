/* test_db.c - the tuning database: versioning, refusals, resume, best view, export, merge, crash safety. */
#include "testutil.h"
#include "db.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ft_test_db_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (!d) return 0;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
    return 0;
}

/* A fresh path in the test directory; any old file and its WAL companions are removed. */
static const char *db_path(const char *name)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    char side[300];
    unlink(p);
    snprintf(side, sizeof side, "%s-wal", p);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", p);
    unlink(side);
    return p;
}

static ft_db *open_new(const char *name)
{
    ft_db *db = NULL;
    ft_error err = {0};
    int rc = ft_db_open(db_path(name), FT_DB_CREATE, &db, &err);
    if (rc != FT_OK) fail_msg("%s", err.msg);
    return db;
}

static void fake_machine(ft_machine *m, const char *vendor)
{
    memset(m, 0, sizeof *m);
    strcpy(m->arch, "x86_64");
    snprintf(m->vendor, sizeof m->vendor, "%s", vendor);
    snprintf(m->model_name, sizeof m->model_name, "%s test CPU", vendor);
    m->family = 6;
    m->model = 85;
    m->stepping = 4;
    strcpy(m->isa, "sse4.2 avx avx2 fma");
    m->n_cpus = 8;
    m->l1d_bytes = 32768;
    m->l2_bytes = 1 << 20;
    m->l3_bytes = 16 << 20;
    strcpy(m->cache_source, "sysfs");
    strcpy(m->kernel, "Linux 6.1.0");
    ft_machine_update_id(m);
}

static void fake_build(ft_build *b, const char *kernel_hash)
{
    memset(b, 0, sizeof *b);
    strcpy(b->compiler, "gcc 12.2.0");
    strcpy(b->flags, "Release -O3");
    snprintf(b->kernel_hash, sizeof b->kernel_hash, "%s", kernel_hash);
    ft_build_update_id(b);
}

/* The ids a test needs to record measurements. */
typedef struct fixture {
    ft_db *db;
    int64_t machine, build, signature, cand[4];
} fixture;

static const char *const cand_keys[4] = {"matmul/avx2/mr6nr16/mc96kc256nc4096/packB", "matmul/avx2/mr4nr24/packB",
                                         "matmul/ref", "matmul/avx512/mr6nr32/mc96kc256nc4096/packB"};

static void setup_fixture(fixture *f, ft_db *db, const char *vendor)
{
    ft_error err = {0};
    ft_machine m;
    ft_build b;
    fake_machine(&m, vendor);
    fake_build(&b, "k1");
    f->db = db;
    assert_int_equal(ft_db_upsert_machine(db, &m, &f->machine, &err), FT_OK);
    assert_int_equal(ft_db_upsert_build(db, &b, &f->build, &err), FT_OK);
    assert_int_equal(
        ft_db_upsert_signature(db, "MatMul", "MatMul(float32[64,64],float32[64,64]) {}", &f->signature, &err), FT_OK);
    for (int i = 0; i < 4; i++) {
        char params[64];
        snprintf(params, sizeof params, "{\"variant\": %d}", i);
        assert_int_equal(ft_db_upsert_candidate(db, f->signature, cand_keys[i], params, &f->cand[i], &err), FT_OK);
    }
}

/* Records an OK (or other status) measurement with three samples around median_ms. */
static int64_t record(fixture *f, int cand, const char *status, double median_ms, ft_error *err, int *rc_out)
{
    double s[3] = {median_ms * 1.1e-3, median_ms * 1e-3, median_ms * 0.95e-3};
    ft_db_counter ctr[2] = {{"task-clock", median_ms * 1e6}, {"page-faults", 0.5}};
    int ok = strcmp(status, "OK") == 0;
    ft_db_measurement m = {
        .candidate_id = f->cand[cand],
        .machine_id = f->machine,
        .build_id = f->build,
        .status = status,
        .detail = ok ? NULL : "SIGSEGV",
        .n_samples = ok ? 3 : 0,
        .samples = s,
        .min_s = ok ? s[2] : NAN,
        .median_s = ok ? s[1] : NAN,
        .mad_s = ok ? median_ms * 0.05e-3 : NAN,
        .mean_s = ok ? (s[0] + s[1] + s[2]) / 3 : NAN,
        .reps = 10,
        .counter_tier = "sw",
        .counter_note = "hw: perf_event_open(cycles): not supported here",
        .n_counters = ok ? 2 : 0,
        .counters = ctr,
    };
    int64_t id = 0;
    *rc_out = ft_db_record_measurement(f->db, &m, &id, err);
    return id;
}

static void record_ok(fixture *f, int cand, const char *status, double median_ms)
{
    ft_error err = {0};
    int rc;
    record(f, cand, status, median_ms, &err, &rc);
    if (rc != FT_OK) fail_msg("%s", err.msg);
}

static int64_t query_int(ft_db *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ft_db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void query_text(ft_db *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(ft_db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out, n, "%s", t ? (const char *)t : "");
    sqlite3_finalize(st);
}

/* Runs SQL on a file with plain SQLite, the way another program would. */
static void raw_sql(const char *path, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fail_msg("%s", msg);
    sqlite3_close(h);
}

static void create_then_reopen_keeps_rows_and_settings(void **state)
{
    (void)state;
    ft_error err = {0};
    ft_db *db = open_new("reopen.db");
    char path[256];
    snprintf(path, sizeof path, "%s", ft_db_path(db));
    fixture f;
    setup_fixture(&f, db, "GenuineIntel");
    assert_int_equal(query_int(db, "PRAGMA application_id"), FT_DB_APPLICATION_ID);
    assert_int_equal(query_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), FT_DB_SCHEMA_VERSION);
    assert_int_equal(query_int(db, "PRAGMA user_version"), FT_DB_SCHEMA_VERSION);
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    char mode[16];
    query_text(db, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'view'"), 2);
    ft_db_close(db);

    assert_int_equal(ft_db_open(path, 0, &db, &err), FT_OK);
    fixture again;
    setup_fixture(&again, db, "GenuineIntel");
    assert_int_equal(again.machine, f.machine);
    assert_int_equal(again.build, f.build);
    assert_int_equal(again.signature, f.signature);
    assert_int_equal(again.cand[3], f.cand[3]);
    assert_int_equal(query_int(db, "SELECT count(*) FROM candidates"), 4);
    assert_int_equal(ft_db_integrity_check(db, &err), FT_OK);
    ft_db_close(db);
}

static void missing_file_is_an_error_without_create(void **state)
{
    (void)state;
    ft_db *db = NULL;
    ft_error err = {0};
    const char *p = db_path("missing.db");
    assert_int_equal(ft_db_open(p, 0, &db, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, p));
    assert_int_equal(ft_db_open(p, FT_DB_READONLY, &db, &err), FT_ERR_INPUT);
    assert_null(db);
    assert_int_equal(access(p, F_OK), -1);
}

/* Schema version 1 as released: the tables without the views. Frozen here, so editing the first
 * migration instead of adding one makes this test fail. */
static const char schema_v1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE machines (id INTEGER PRIMARY KEY, machine_key TEXT NOT NULL UNIQUE, arch TEXT NOT NULL,"
    " vendor TEXT NOT NULL, model_name TEXT NOT NULL, family INTEGER NOT NULL, model INTEGER NOT NULL,"
    " stepping INTEGER NOT NULL, isa TEXT NOT NULL, n_cpus INTEGER NOT NULL, l1d_bytes INTEGER NOT NULL,"
    " l2_bytes INTEGER NOT NULL, l3_bytes INTEGER NOT NULL, cache_source TEXT NOT NULL,"
    " hypervisor INTEGER NOT NULL CHECK (hypervisor IN (0, 1)), emulated INTEGER NOT NULL CHECK (emulated IN (0, 1)),"
    " kernel TEXT NOT NULL, first_seen TEXT NOT NULL);"
    "CREATE TABLE builds (id INTEGER PRIMARY KEY, build_key TEXT NOT NULL UNIQUE, compiler TEXT NOT NULL,"
    " flags TEXT NOT NULL, kernel_hash TEXT NOT NULL, first_seen TEXT NOT NULL);"
    "CREATE TABLE models (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, path TEXT NOT NULL, name TEXT NOT NULL,"
    " first_seen TEXT NOT NULL);"
    "CREATE TABLE signatures (id INTEGER PRIMARY KEY, op_type TEXT NOT NULL, signature TEXT NOT NULL UNIQUE);"
    "CREATE TABLE candidates (id INTEGER PRIMARY KEY, signature_id INTEGER NOT NULL REFERENCES signatures(id),"
    " key TEXT NOT NULL, params TEXT NOT NULL CHECK (json_valid(params)), UNIQUE (signature_id, key));"
    "CREATE TABLE sweeps (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, config TEXT NOT NULL CHECK "
    "(json_valid(config)),"
    " machine_id INTEGER NOT NULL REFERENCES machines(id), build_id INTEGER NOT NULL REFERENCES builds(id),"
    " model_id INTEGER REFERENCES models(id), kernel TEXT, started TEXT NOT NULL, finished TEXT,"
    " status TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted', 'failed')));"
    "CREATE TABLE measurements (id INTEGER PRIMARY KEY, sweep_id INTEGER REFERENCES sweeps(id),"
    " candidate_id INTEGER NOT NULL REFERENCES candidates(id), machine_id INTEGER NOT NULL REFERENCES machines(id),"
    " build_id INTEGER NOT NULL REFERENCES builds(id),"
    " status TEXT NOT NULL CHECK (status IN ('OK', 'WRONG', 'CRASH', 'TIMEOUT', 'SKIPPED')), detail TEXT,"
    " n_samples INTEGER NOT NULL CHECK (n_samples >= 0), reps INTEGER NOT NULL CHECK (reps >= 0), min_s REAL,"
    " median_s REAL, mad_s REAL, mean_s REAL, counter_tier TEXT NOT NULL CHECK (counter_tier IN ('hw', 'sw', 'none')),"
    " counter_note TEXT, multiplexed INTEGER NOT NULL CHECK (multiplexed IN (0, 1)), created TEXT NOT NULL,"
    " UNIQUE (candidate_id, machine_id, build_id));"
    "CREATE INDEX measurements_by_sweep ON measurements (sweep_id);"
    "CREATE INDEX measurements_by_machine_build ON measurements (machine_id, build_id);"
    "CREATE TABLE samples (measurement_id INTEGER NOT NULL REFERENCES measurements(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL, seconds REAL NOT NULL, PRIMARY KEY (measurement_id, idx)) WITHOUT ROWID;"
    "CREATE TABLE counters (measurement_id INTEGER NOT NULL REFERENCES measurements(id) ON DELETE CASCADE,"
    " event TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (measurement_id, event)) WITHOUT ROWID;"
    "INSERT INTO meta VALUES ('schema_version', '1'), ('application_id', '0x4654756e');"
    "PRAGMA application_id = 1179940206; PRAGMA user_version = 1;"
    "INSERT INTO machines VALUES (1, 'aaaa', 'x86_64', 'GenuineIntel', 'old CPU', 6, 85, 4, 'avx2', 4, 32768, 1048576,"
    " 0, 'sysfs', 0, 0, 'Linux 5.10', '2023-01-01T00:00:00.000Z');"
    "INSERT INTO builds VALUES (1, 'bbbb', 'gcc 10', '-O2', 'k0', '2023-01-01T00:00:00.000Z');"
    "INSERT INTO signatures VALUES (1, 'Relu', 'Relu(float32[8])');"
    "INSERT INTO candidates VALUES (1, 1, 'relu/ref', '{}'), (2, 1, 'relu/avx2', '{\"unroll\": 4}');"
    "INSERT INTO measurements VALUES (1, NULL, 1, 1, 1, 'OK', NULL, 2, 100, 2e-6, 2.5e-6, 1e-7, 2.5e-6, 'none', NULL,"
    " 0, '2023-01-01T00:00:01.000Z'), (2, NULL, 2, 1, 1, 'OK', NULL, 2, 100, 1e-6, 1.5e-6, 1e-7, 1.5e-6, 'none',"
    " NULL, 0, '2023-01-01T00:00:02.000Z');"
    "INSERT INTO samples VALUES (1, 0, 2e-6), (1, 1, 3e-6), (2, 0, 1e-6), (2, 1, 2e-6);";

static void older_schema_is_migrated_and_keeps_its_data(void **state)
{
    (void)state;
    const char *p = db_path("v1.db");
    raw_sql(p, schema_v1);
    ft_db *db = NULL;
    ft_error err = {0};
    /* Read-only cannot migrate, and says so. */
    assert_int_equal(ft_db_open(p, FT_DB_READONLY, &db, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "schema version 1 is older"));
    assert_int_equal(ft_db_open(p, 0, &db, &err), FT_OK);
    assert_int_equal(query_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), FT_DB_SCHEMA_VERSION);
    assert_int_equal(query_int(db, "PRAGMA user_version"), FT_DB_SCHEMA_VERSION);
    assert_int_equal(query_int(db, "SELECT count(*) FROM measurements"), 2);
    ft_db_best best;
    int found;
    assert_int_equal(ft_db_best_candidate(db, 1, 1, 1, &best, &found, &err), FT_OK);
    assert_true(found);
    assert_string_equal(best.key, "relu/avx2");
    assert_string_equal(best.params, "{\"unroll\": 4}");
    ft_db_best_clear(&best);
    assert_int_equal(query_int(db, "SELECT candidate_id FROM best_candidates"), 2);
    assert_int_equal(ft_db_integrity_check(db, &err), FT_OK);
    ft_db_close(db);
    /* Opening again finds nothing to migrate. */
    assert_int_equal(ft_db_open(p, FT_DB_READONLY, &db, &err), FT_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM samples"), 4);
    ft_db_close(db);
}

static void sqlite_file_of_another_program_is_refused(void **state)
{
    (void)state;
    ft_db *db = NULL;
    ft_error err = {0};
    const char *p = db_path("other.db");
    raw_sql(p, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('hi');");
    assert_int_equal(ft_db_open(p, FT_DB_CREATE, &db, &err), FT_ERR_INPUT);
    assert_null(db);
    assert_non_null(strstr(err.msg, p));
    assert_non_null(strstr(err.msg, "another program"));
    raw_sql(p, "PRAGMA application_id = 305419896;"); /* 0x12345678 */
    assert_int_equal(ft_db_open(p, FT_DB_CREATE, &db, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "0x12345678"));
    assert_non_null(strstr(err.msg, "0x4654756e"));
    /* Nothing was added to the other program's file. */
    raw_sql(p, "PRAGMA application_id = 0;");
    sqlite3 *h;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void newer_schema_version_is_refused_naming_both_versions(void **state)
{
    (void)state;
    ft_db *db = open_new("newer.db");
    char p[256];
    snprintf(p, sizeof p, "%s", ft_db_path(db));
    ft_db_close(db);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE meta SET value = '%d' WHERE key = 'schema_version';", FT_DB_SCHEMA_VERSION + 7);
    raw_sql(p, sql);
    ft_error err = {0};
    assert_int_equal(ft_db_open(p, 0, &db, &err), FT_ERR_INPUT);
    assert_null(db);
    char want[96];
    snprintf(want, sizeof want, "schema version %d is newer than version %d", FT_DB_SCHEMA_VERSION + 7,
             FT_DB_SCHEMA_VERSION);
    assert_non_null(strstr(err.msg, want));
    assert_non_null(strstr(err.msg, p));
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void non_sqlite_and_corrupt_files_are_refused(void **state)
{
    (void)state;
    ft_db *db = NULL;
    ft_error err = {0};
    const char *p = db_path("text.db");
    write_file(p, "measurement,median\n1,2\n", 23);
    assert_int_equal(ft_db_open(p, FT_DB_CREATE, &db, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "not an SQLite file"));
    assert_non_null(strstr(err.msg, p));

    /* A real database whose first page (the schema) is overwritten with garbage. */
    db = open_new("corrupt.db");
    char cp[256];
    snprintf(cp, sizeof cp, "%s", ft_db_path(db));
    fixture f;
    setup_fixture(&f, db, "AuthenticAMD");
    ft_db_close(db); /* checkpoints the WAL into the file */
    FILE *fp = fopen(cp, "r+b");
    assert_non_null(fp);
    unsigned char junk[1024];
    memset(junk, 0xa5, sizeof junk);
    assert_int_equal(fseek(fp, 100, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, fp), sizeof junk);
    fclose(fp);
    db = NULL;
    assert_int_equal(ft_db_open(cp, 0, &db, &err), FT_ERR_INPUT);
    assert_null(db);
    assert_non_null(strstr(err.msg, "corrupt"));
    assert_non_null(strstr(err.msg, cp));
}

static void recorded_candidates_are_skipped_on_resume(void **state)
{
    (void)state;
    fixture f;
    setup_fixture(&f, open_new("resume.db"), "GenuineIntel");
    ft_error err = {0};
    record_ok(&f, 0, "OK", 2.0);
    record_ok(&f, 2, "CRASH", 0);
    int found;
    assert_int_equal(ft_db_has_measurement(f.db, f.cand[0], f.machine, f.build, &found, &err), FT_OK);
    assert_true(found);
    assert_int_equal(ft_db_has_measurement(f.db, f.cand[1], f.machine, f.build, &found, &err), FT_OK);
    assert_false(found);
    assert_int_equal(ft_db_has_measurement(f.db, f.cand[0], f.machine, f.build + 1, &found, &err), FT_OK);
    assert_false(found);
    char **keys;
    int n;
    assert_int_equal(ft_db_measured_keys(f.db, f.signature, f.machine, f.build, &keys, &n, &err), FT_OK);
    assert_int_equal(n, 2); /* a crash is an answer too: a resumed sweep does not crash again */
    assert_string_equal(keys[0], cand_keys[0]);
    assert_string_equal(keys[1], cand_keys[2]);
    ft_db_free_strings(keys, n);

    int rc;
    record(&f, 0, "OK", 3.0, &err, &rc);
    assert_int_equal(rc, FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "already has a measurement"));
    assert_int_equal(query_int(f.db, "SELECT count(*) FROM measurements"), 2);
    assert_int_equal(query_int(f.db, "SELECT count(*) FROM samples"), 3);
    ft_db_close(f.db);
}

static void measurement_is_stored_with_samples_counters_and_nulls(void **state)
{
    (void)state;
    fixture f;
    setup_fixture(&f, open_new("store.db"), "GenuineIntel");
    record_ok(&f, 1, "OK", 2.0);
    record_ok(&f, 3, "TIMEOUT", 0);
    assert_int_equal(query_int(f.db, "SELECT count(*) FROM samples"), 3);
    assert_int_equal(query_int(f.db, "SELECT count(*) FROM counters"), 2);
    assert_int_equal(query_int(f.db, "SELECT count(*) FROM measurements WHERE median_s IS NULL AND status = 'TIMEOUT'"),
                     1);
    assert_int_equal(query_int(f.db, "SELECT round(value) FROM counters WHERE event = 'task-clock'"), 2000000);
    assert_int_equal(query_int(f.db, "SELECT count(*) FROM samples WHERE seconds = 0.002"), 1);
    char text[128];
    query_text(f.db, "SELECT detail FROM measurements WHERE status = 'TIMEOUT'", text, sizeof text);
    assert_string_equal(text, "SIGSEGV");
    query_text(f.db, "SELECT counters FROM measurement_summary WHERE status = 'OK'", text, sizeof text);
    assert_string_equal(text, "page-faults=0.5 task-clock=2e+06");
    ft_db_close(f.db);
}

static void invalid_measurement_is_refused_and_leaves_nothing(void **state)
{
    (void)state;
    fixture f;
    setup_fixture(&f, open_new("invalid.db"), "GenuineIntel");
    ft_error err = {0};
    int rc;
    record(&f, 0, "FINE", 1.0, &err, &rc);
    assert_int_equal(rc, FT_ERR_INPUT);
    double bad[2] = {1e-3, NAN};
    ft_db_measurement m = {.candidate_id = f.cand[1],
                           .machine_id = f.machine,
                           .build_id = f.build,
                           .status = "OK",
                           .n_samples = 2,
                           .samples = bad,
                           .min_s = 1e-3,
                           .median_s = 1e-3,
                           .mad_s = 0,
                           .mean_s = 1e-3,
                           .reps = 1,
                           .counter_tier = "pmu"};
    assert_int_equal(ft_db_record_measurement(f.db, &m, NULL, &err), FT_ERR_INPUT);
    m.counter_tier = "hw";
    /* The sample NaN is found after the measurement row went in: the transaction must undo it. */
    assert_int_equal(ft_db_record_measurement(f.db, &m, NULL, &err), FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "sample 1"));
    m.candidate_id = 999;
    m.samples = (double[]){1e-3, 2e-3};
    assert_int_equal(ft_db_record_measurement(f.db, &m, NULL, &err), FT_ERR_INPUT); /* no such candidate */
    assert_int_equal(query_int(f.db, "SELECT count(*) FROM measurements"), 0);
    assert_int_equal(query_int(f.db, "SELECT count(*) FROM samples"), 0);
    ft_db_close(f.db);
}

static void candidate_key_with_other_params_is_refused(void **state)
{
    (void)state;
    fixture f;
    setup_fixture(&f, open_new("params.db"), "GenuineIntel");
    ft_error err = {0};
    int64_t id;
    assert_int_equal(ft_db_upsert_candidate(f.db, f.signature, cand_keys[0], "{\"variant\": 0}", &id, &err), FT_OK);
    assert_int_equal(id, f.cand[0]);
    assert_int_equal(ft_db_upsert_candidate(f.db, f.signature, cand_keys[0], "{\"variant\": 9}", &id, &err),
                     FT_ERR_INPUT);
    assert_non_null(strstr(err.msg, cand_keys[0]));
    assert_int_equal(ft_db_upsert_candidate(f.db, f.signature, "matmul/new", "not json", &id, &err), FT_ERR_INPUT);
    ft_db_close(f.db);
}

static void best_candidate_is_lowest_ok_median_per_machine(void **state)
{
    (void)state;
    ft_db *db = open_new("best.db");
    fixture a, b;
    setup_fixture(&a, db, "GenuineIntel");
    setup_fixture(&b, db, "AuthenticAMD");
    assert_int_equal(a.cand[0], b.cand[0]);
    assert_int_not_equal(a.machine, b.machine);
    record_ok(&a, 0, "OK", 3.0);
    record_ok(&a, 1, "OK", 2.0);
    record_ok(&a, 2, "WRONG", 0); /* no time, and never best */
    record_ok(&b, 0, "OK", 1.0);
    record_ok(&b, 3, "OK", 5.0);
    ft_error err = {0};
    ft_db_best best;
    int found;
    assert_int_equal(ft_db_best_candidate(db, a.signature, a.machine, a.build, &best, &found, &err), FT_OK);
    assert_true(found);
    assert_string_equal(best.key, cand_keys[1]);
    assert_true(fabs(best.median_s - 2e-3) < 1e-12);
    ft_db_best_clear(&best);
    assert_int_equal(ft_db_best_candidate(db, b.signature, b.machine, b.build, &best, &found, &err), FT_OK);
    assert_string_equal(best.key, cand_keys[0]);
    ft_db_best_clear(&best);
    assert_int_equal(ft_db_best_candidate(db, a.signature, a.machine, a.build + 5, &best, &found, &err), FT_OK);
    assert_false(found);
    /* The view agrees: one row per machine. */
    assert_int_equal(query_int(db, "SELECT count(*) FROM best_candidates"), 2);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT candidate_id FROM best_candidates WHERE machine_id = %lld", (long long)a.machine);
    assert_int_equal(query_int(db, sql), a.cand[1]);
    /* A tie goes to the lowest key, not to the first measured, in the view and in the query. */
    record_ok(&b, 1, "OK", 1.0);
    assert_int_equal(ft_db_best_candidate(db, b.signature, b.machine, b.build, &best, &found, &err), FT_OK);
    assert_string_equal(best.key, cand_keys[1]); /* ".../mr4nr24/..." < ".../mr6nr16/..." */
    snprintf(sql, sizeof sql, "SELECT candidate_id FROM best_candidates WHERE machine_id = %lld", (long long)b.machine);
    assert_int_equal(query_int(db, sql), best.candidate_id);
    ft_db_best_clear(&best);
    ft_db_close(db);
}

static void sweep_is_begun_and_finished(void **state)
{
    (void)state;
    fixture f;
    setup_fixture(&f, open_new("sweep.db"), "GenuineIntel");
    ft_error err = {0};
    int64_t model, sweep;
    assert_int_equal(ft_db_upsert_model(f.db, "ab12", "models/bert.onnx", "bert", &model, &err), FT_OK);
    ft_db_sweep s = {"{\"samples\": 10, \"cold\": false}", f.machine, f.build, model, "Linux 6.1.0"};
    assert_int_equal(ft_db_begin_sweep(f.db, &s, &sweep, &err), FT_OK);
    char text[64];
    query_text(f.db, "SELECT status FROM sweeps", text, sizeof text);
    assert_string_equal(text, "running");
    query_text(f.db, "SELECT uuid FROM sweeps", text, sizeof text);
    assert_int_equal(strlen(text), 36);
    assert_int_equal(ft_db_finish_sweep(f.db, sweep, "finished-ish", &err), FT_ERR_INPUT);
    assert_int_equal(ft_db_finish_sweep(f.db, sweep + 1, "done", &err), FT_ERR_INPUT);
    assert_int_equal(ft_db_finish_sweep(f.db, sweep, "done", &err), FT_OK);
    query_text(f.db, "SELECT status || (finished IS NOT NULL) FROM sweeps", text, sizeof text);
    assert_string_equal(text, "done1");
    s.config_json = "{oops";
    assert_int_equal(ft_db_begin_sweep(f.db, &s, &sweep, &err), FT_ERR_INPUT);
    ft_db_close(f.db);
}

/* Everything export writes, as a string. */
static char *export_text(ft_db *db, ft_db_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ft_error err = {0};
    int rc = ft_db_export(db, f, fmt, &err);
    fclose(f);
    if (rc != FT_OK) fail_msg("%s", err.msg);
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void csv_export_has_a_row_per_measurement_with_counters_and_samples(void **state)
{
    (void)state;
    ft_db *db = open_new("csv.db");
    fixture f;
    setup_fixture(&f, db, "GenuineIntel");
    record_ok(&f, 0, "OK", 2.0);
    record_ok(&f, 2, "CRASH", 0);
    char *csv = export_text(db, FT_DB_CSV);
    assert_int_equal(count_lines(csv), 3);
    assert_true(strncmp(csv, "measurement_id,op_type,signature,candidate,params,machine,", 58) == 0);
    char *eol = strchr(csv, '\n');
    assert_non_null(strstr(csv, ",page-faults,task-clock,samples_s\n"));
    assert_true(strstr(csv, ",page-faults,task-clock,samples_s\n") < eol);
    /* The signature holds commas, so it is quoted; params hold quotes, so they are doubled. */
    assert_non_null(strstr(csv, ",\"MatMul(float32[64,64],float32[64,64]) {}\","));
    assert_non_null(strstr(csv, ",\"{\"\"variant\"\": 0}\","));
    /* Times print with 17 digits so they read back to the same doubles. */
    assert_non_null(strstr(csv, ",OK,,3,10,0.0019,0.002,0.0001,0.0020333333333333336,sw,"));
    assert_non_null(strstr(csv, ",0.5,2000000,0.0022000000000000001;0.002;0.0019\n"));
    assert_non_null(strstr(csv, ",CRASH,SIGSEGV,0,10,,,,,sw,"));
    assert_non_null(strstr(csv, "Z,,,\n")); /* the crash has no counters and no samples */
    free(csv);
    ft_db_close(db);
}

/* Evaluates a JSON path on doc with SQLite's JSON functions. */
static void json_at(const char *doc, const char *path, char *out, size_t n)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT json_valid(?1), json_extract(?1, ?2)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    const unsigned char *t = sqlite3_column_text(st, 1);
    snprintf(out, n, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void json_export_is_valid_and_holds_everything(void **state)
{
    (void)state;
    ft_db *db = open_new("json.db");
    fixture f;
    setup_fixture(&f, db, "GenuineIntel");
    ft_error err = {0};
    int64_t sweep;
    ft_db_sweep s = {"{\"samples\": 3}", f.machine, f.build, 0, NULL};
    assert_int_equal(ft_db_begin_sweep(db, &s, &sweep, &err), FT_OK);
    record_ok(&f, 0, "OK", 2.0);
    record_ok(&f, 2, "CRASH", 0);
    char *json = export_text(db, FT_DB_JSON);
    char v[256];
    json_at(json, "$.schema_version", v, sizeof v);
    assert_int_equal(atoi(v), FT_DB_SCHEMA_VERSION);
    json_at(json, "$.machines[0].vendor", v, sizeof v);
    assert_string_equal(v, "GenuineIntel");
    json_at(json, "$.builds[0].kernel_hash", v, sizeof v);
    assert_string_equal(v, "k1");
    json_at(json, "$.sweeps[0].config.samples", v, sizeof v);
    assert_string_equal(v, "3");
    json_at(json, "$.measurements[0].params.variant", v, sizeof v);
    assert_string_equal(v, "0");
    json_at(json, "$.measurements[0].samples_s[1]", v, sizeof v);
    assert_string_equal(v, "0.002");
    json_at(json, "$.measurements[0].counters.\"task-clock\"", v, sizeof v);
    assert_string_equal(v, "2000000");
    json_at(json, "$.measurements[1].status", v, sizeof v);
    assert_string_equal(v, "CRASH");
    json_at(json, "$.measurements[1].median_s", v, sizeof v);
    assert_string_equal(v, "(null)");
    json_at(json, "$.measurements[1].samples_s", v, sizeof v);
    assert_string_equal(v, "[]");
    free(json);
    ft_db_close(db);
}

static int64_t total_rows(ft_db *db)
{
    return query_int(db, "SELECT (SELECT count(*) FROM machines) + (SELECT count(*) FROM builds) + "
                         "(SELECT count(*) FROM models) + (SELECT count(*) FROM signatures) + "
                         "(SELECT count(*) FROM candidates) + (SELECT count(*) FROM sweeps) + "
                         "(SELECT count(*) FROM measurements) + (SELECT count(*) FROM samples) + "
                         "(SELECT count(*) FROM counters)");
}

static void merge(ft_db *out, const char *in_path, ft_db_merge_stats *st)
{
    ft_db *in = NULL;
    ft_error err = {0};
    if (ft_db_open(in_path, FT_DB_READONLY, &in, &err) != FT_OK) fail_msg("%s", err.msg);
    int rc = ft_db_merge(out, in, st, &err);
    ft_db_close(in);
    if (rc != FT_OK) fail_msg("%s", err.msg);
}

static void merge_twice_changes_nothing_and_keeps_machines_apart(void **state)
{
    (void)state;
    ft_error err = {0};
    char pa[256], pb[256];
    fixture a, b;
    setup_fixture(&a, open_new("intel.db"), "GenuineIntel");
    snprintf(pa, sizeof pa, "%s", ft_db_path(a.db));
    int64_t sweep, model;
    assert_int_equal(ft_db_upsert_model(a.db, "cafe", "bert.onnx", "bert", &model, &err), FT_OK);
    ft_db_sweep s = {"{}", a.machine, a.build, model, "Linux"};
    assert_int_equal(ft_db_begin_sweep(a.db, &s, &sweep, &err), FT_OK);
    record_ok(&a, 0, "OK", 3.0);
    record_ok(&a, 1, "OK", 2.0);
    ft_db_close(a.db);
    setup_fixture(&b, open_new("amd.db"), "AuthenticAMD");
    snprintf(pb, sizeof pb, "%s", ft_db_path(b.db));
    record_ok(&b, 0, "OK", 1.0);
    record_ok(&b, 1, "OK", 4.0);
    record_ok(&b, 2, "TIMEOUT", 0);
    ft_db_close(b.db);

    ft_db *out = open_new("merged.db");
    ft_db_merge_stats st;
    merge(out, pa, &st);
    assert_int_equal(st.machines, 1);
    assert_int_equal(st.measurements, 2);
    assert_int_equal(st.sweeps, 1);
    assert_int_equal(st.models, 1);
    merge(out, pb, &st);
    assert_int_equal(st.machines, 1);
    assert_int_equal(st.builds, 0); /* same build on both machines */
    assert_int_equal(st.candidates, 0);
    assert_int_equal(st.measurements, 3);
    int64_t rows = total_rows(out);
    char *before = export_text(out, FT_DB_JSON);

    merge(out, pb, &st);
    merge(out, pa, &st);
    assert_int_equal(st.measurements + st.machines + st.builds + st.candidates + st.sweeps, 0);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.conflicts, 0);
    assert_int_equal(total_rows(out), rows);
    char *after = export_text(out, FT_DB_JSON);
    assert_string_equal(before, after);
    free(before);
    free(after);

    ft_db_machine_row *machines;
    int n;
    assert_int_equal(ft_db_list_machines(out, &machines, &n, &err), FT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(machines[0].machine.vendor, "GenuineIntel");
    assert_int_equal(machines[0].n_measurements, 2);
    assert_string_equal(machines[1].machine.vendor, "AuthenticAMD");
    assert_int_equal(machines[1].n_measurements, 3);
    ft_machine intel;
    fake_machine(&intel, "GenuineIntel");
    assert_string_equal(machines[0].machine.id, intel.id);
    assert_string_equal(machines[0].machine.isa, intel.isa);
    free(machines);
    assert_int_equal(query_int(out, "SELECT count(*) FROM best_candidates"), 2);
    assert_int_equal(ft_db_integrity_check(out, &err), FT_OK);
    ft_db_close(out);
}

static void merge_keeps_times_samples_and_counters_and_reports_conflicts(void **state)
{
    (void)state;
    ft_error err = {0};
    fixture a, c;
    setup_fixture(&a, open_new("src.db"), "GenuineIntel");
    char pa[256], pc[256];
    snprintf(pa, sizeof pa, "%s", ft_db_path(a.db));
    record_ok(&a, 0, "OK", 3.0);
    char created[64];
    query_text(a.db, "SELECT created FROM measurements", created, sizeof created);
    ft_db_close(a.db);
    /* Same machine, build and candidate measured again elsewhere: a conflict, not a duplicate. */
    setup_fixture(&c, open_new("again.db"), "GenuineIntel");
    snprintf(pc, sizeof pc, "%s", ft_db_path(c.db));
    record_ok(&c, 0, "OK", 9.0);
    ft_db_close(c.db);

    ft_db *out = open_new("merged2.db");
    ft_db_merge_stats st;
    merge(out, pa, &st);
    char text[64];
    query_text(out, "SELECT created FROM measurements", text, sizeof text);
    assert_string_equal(text, created);
    assert_int_equal(query_int(out, "SELECT count(*) FROM samples"), 3);
    assert_int_equal(query_int(out, "SELECT count(*) FROM counters"), 2);
    assert_int_equal(query_int(out, "SELECT round(median_s * 1e6) FROM measurements"), 3000);
    merge(out, pc, &st);
    assert_int_equal(st.conflicts, 1);
    assert_int_equal(st.measurements, 0);
    assert_int_equal(query_int(out, "SELECT round(median_s * 1e6) FROM measurements"), 3000);

    /* Merging a file into itself (two handles) finds only duplicates. */
    ft_db *self = NULL;
    assert_int_equal(ft_db_open(pa, 0, &self, &err), FT_OK);
    merge(self, pa, &st);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.measurements, 0);
    assert_int_equal(ft_db_merge(self, self, &st, &err), FT_ERR_INPUT);
    ft_db_close(self);
    ft_db_close(out);
}

/* The child of the crash test: records measurements until killed, reporting each commit. */
static void record_forever(const char *path, int report_fd)
{
    ft_db *db = NULL;
    ft_error err = {0};
    if (ft_db_open(path, FT_DB_CREATE, &db, &err) != FT_OK) _exit(2);
    fixture f;
    ft_machine m;
    ft_build b;
    fake_machine(&m, "GenuineIntel");
    fake_build(&b, "k1");
    f.db = db;
    if (ft_db_upsert_machine(db, &m, &f.machine, &err) || ft_db_upsert_build(db, &b, &f.build, &err) ||
        ft_db_upsert_signature(db, "Add", "Add(float32[4])", &f.signature, &err))
        _exit(3);
    for (int i = 0;; i++) {
        char key[32];
        snprintf(key, sizeof key, "add/v%d", i);
        int64_t cand;
        if (ft_db_upsert_candidate(db, f.signature, key, "{}", &cand, &err)) _exit(4);
        double samples[20];
        for (int k = 0; k < 20; k++) samples[k] = (i + 1) * 1e-6 + k * 1e-9;
        ft_db_counter ctr[3] = {{"task-clock", i}, {"page-faults", 1}, {"context-switches", 0}};
        ft_db_measurement r = {.candidate_id = cand,
                               .machine_id = f.machine,
                               .build_id = f.build,
                               .status = "OK",
                               .n_samples = 20,
                               .samples = samples,
                               .min_s = samples[0],
                               .median_s = samples[10],
                               .mad_s = 5e-9,
                               .mean_s = samples[10],
                               .reps = 1,
                               .counter_tier = "sw",
                               .n_counters = 3,
                               .counters = ctr};
        if (ft_db_record_measurement(db, &r, NULL, &err)) _exit(5);
        if (write(report_fd, &i, sizeof i) != (ssize_t)sizeof i) _exit(6);
    }
}

static void killed_writer_loses_at_most_the_measurement_in_flight(void **state)
{
    (void)state;
    const char *p = db_path("killed.db");
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        record_forever(p, fds[1]);
        _exit(1);
    }
    close(fds[1]);
    int last = -1, i;
    while (last < 40 && read(fds[0], &i, sizeof i) == (ssize_t)sizeof i) last = i;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    /* The child may have gone on committing before the kill landed: take its last report. */
    while (read(fds[0], &i, sizeof i) == (ssize_t)sizeof i) last = i;
    close(fds[0]);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_true(last >= 40);

    ft_db *db = NULL;
    ft_error err = {0};
    assert_int_equal(ft_db_open(p, 0, &db, &err), FT_OK);
    assert_int_equal(ft_db_integrity_check(db, &err), FT_OK);
    int64_t n = query_int(db, "SELECT count(*) FROM measurements");
    /* Every reported commit is there; at most one more committed before its report was written. */
    assert_true(n >= last + 1 && n <= last + 2);
    /* Each measurement that is there is whole. */
    assert_int_equal(query_int(db, "SELECT count(*) FROM measurements m WHERE "
                                   "(SELECT count(*) FROM samples s WHERE s.measurement_id = m.id) != 20 OR "
                                   "(SELECT count(*) FROM counters c WHERE c.measurement_id = m.id) != 3"),
                     0);
    assert_int_equal(query_int(db,
                               "SELECT count(*) FROM measurements m JOIN candidates c ON c.id = m.candidate_id "
                               "WHERE abs(m.median_s - (CAST(substr(c.key, 6) AS INTEGER) + 1) * 1e-6 - 1e-8) > 1e-15"),
                     0);
    ft_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_then_reopen_keeps_rows_and_settings),
        cmocka_unit_test(missing_file_is_an_error_without_create),
        cmocka_unit_test(older_schema_is_migrated_and_keeps_its_data),
        cmocka_unit_test(sqlite_file_of_another_program_is_refused),
        cmocka_unit_test(newer_schema_version_is_refused_naming_both_versions),
        cmocka_unit_test(non_sqlite_and_corrupt_files_are_refused),
        cmocka_unit_test(recorded_candidates_are_skipped_on_resume),
        cmocka_unit_test(measurement_is_stored_with_samples_counters_and_nulls),
        cmocka_unit_test(invalid_measurement_is_refused_and_leaves_nothing),
        cmocka_unit_test(candidate_key_with_other_params_is_refused),
        cmocka_unit_test(best_candidate_is_lowest_ok_median_per_machine),
        cmocka_unit_test(sweep_is_begun_and_finished),
        cmocka_unit_test(csv_export_has_a_row_per_measurement_with_counters_and_samples),
        cmocka_unit_test(json_export_is_valid_and_holds_everything),
        cmocka_unit_test(merge_twice_changes_nothing_and_keeps_machines_apart),
        cmocka_unit_test(merge_keeps_times_samples_and_counters_and_reports_conflicts),
        cmocka_unit_test(killed_writer_loses_at_most_the_measurement_in_flight),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
