/* db.h - the tuning database: every sweep's machines, builds, candidates and measurements in SQLite.
 *
 * One file per user-chosen path (tune.db). It is a plain SQLite database that `sqlite3 tune.db`
 * can browse: tables machines, builds, models, signatures, candidates, sweeps, measurements,
 * samples, counters and meta, and views best_candidates and measurement_summary. It is marked
 * with PRAGMA application_id FT_DB_APPLICATION_ID and carries its schema version in meta; opening
 * migrates older files step by step and refuses newer ones, other programs' SQLite files and
 * non-SQLite files with a message naming the file.
 *
 * Durability: WAL journal, synchronous=FULL, and each measurement (with its samples and counters)
 * is one transaction committed before ft_db_record_measurement returns, so killing a sweep loses
 * at most the measurement in flight. Several processes may write one file; SQLite serialises them.
 *
 * Measurements are keyed by (candidate, machine, build): there is at most one per triple, which is
 * what lets a rerun resume and what keeps machines and builds apart.
 */
#ifndef FT_DB_H
#define FT_DB_H

#include <stdint.h>
#include <stdio.h>

#include "fingerprint.h"
#include "ft_common.h"

#define FT_DB_APPLICATION_ID 0x4654756e /* "FTun" in the SQLite header: a fluidtune database */
#define FT_DB_SCHEMA_VERSION 2

typedef struct ft_db ft_db;

enum {
    FT_DB_CREATE = 1u << 0,  /* create the file if missing (otherwise a missing file is an error) */
    FT_DB_READONLY = 1u << 1 /* open read-only: never migrates, so an older schema is refused */
};

/* Opens (and with FT_DB_CREATE creates) the database at path and migrates it to
 * FT_DB_SCHEMA_VERSION. FT_ERR_INPUT for a file that is not SQLite, is corrupt, belongs to another
 * program, or has a newer schema; FT_ERR_FAIL for I/O errors. */
int ft_db_open(const char *path, unsigned flags, ft_db **out, ft_error *err);
void ft_db_close(ft_db *db);
const char *ft_db_path(const ft_db *db);
/* The underlying connection, for read queries the API does not cover (the solver's, reports'). */
struct sqlite3 *ft_db_handle(ft_db *db);
/* PRAGMA integrity_check; FT_ERR_INPUT with SQLite's first complaint when it is not "ok". */
int ft_db_integrity_check(ft_db *db, ft_error *err);

/* Upserts return the row id of the existing or new row, looked up by natural key: machine id,
 * build id, model sha256, signature text, (signature, candidate key). */
int ft_db_upsert_machine(ft_db *db, const ft_machine *m, int64_t *id, ft_error *err);
int ft_db_upsert_build(ft_db *db, const ft_build *b, int64_t *id, ft_error *err);
/* sha256 is the model file's hex digest; path and name are informational (first seen wins). */
int ft_db_upsert_model(ft_db *db, const char *sha256, const char *path, const char *name, int64_t *id, ft_error *err);
/* signature is canonical text naming op, dtypes, shapes and attributes; op_type is its op. */
int ft_db_upsert_signature(ft_db *db, const char *op_type, const char *signature, int64_t *id, ft_error *err);
/* key like "matmul/avx512/mr6nr32/mc96kc256nc4096/packB", params a JSON object. A key already
 * stored for the signature with different params is FT_ERR_INPUT: one key must mean one kernel. */
int ft_db_upsert_candidate(ft_db *db, int64_t signature_id, const char *key, const char *params_json, int64_t *id,
                           ft_error *err);

typedef struct ft_db_sweep {
    const char *config_json; /* the sweep's options as a JSON object */
    int64_t machine_id, build_id;
    int64_t model_id;   /* 0 when the sweep is not about one model */
    const char *kernel; /* OS kernel at sweep time (ft_machine.kernel); may be NULL */
} ft_db_sweep;

/* Inserts a sweep with status "running" and a fresh uuid; ft_db_finish_sweep sets its status
 * ("done", "interrupted" or "failed") and finish time. */
int ft_db_begin_sweep(ft_db *db, const ft_db_sweep *s, int64_t *sweep_id, ft_error *err);
int ft_db_finish_sweep(ft_db *db, int64_t sweep_id, const char *status, ft_error *err);

typedef struct ft_db_counter {
    const char *event;
    double value;
} ft_db_counter;

typedef struct ft_db_measurement {
    int64_t sweep_id; /* 0 = not part of a sweep */
    int64_t candidate_id, machine_id, build_id;
    const char *status; /* "OK", "WRONG", "CRASH", "TIMEOUT", "SKIPPED" (ft_outcome_name) */
    const char *detail; /* NULL or e.g. "SIGSEGV" */
    int n_samples;
    const double *samples;                 /* seconds per call */
    double min_s, median_s, mad_s, mean_s; /* NaN stored as NULL */
    int64_t reps;                          /* calls per sample */
    const char *counter_tier;              /* "hw", "sw", "none" */
    const char *counter_note;              /* NULL or why the tier is what it is */
    int multiplexed;
    int n_counters;
    const ft_db_counter *counters;
    const char *created; /* NULL = now; an ISO 8601 UTC time to keep (merge does) */
} ft_db_measurement;

/* Stores a measurement with its samples and counters in one committed transaction. FT_ERR_INPUT
 * when (candidate, machine, build) already has one, or for an unknown status or tier. */
int ft_db_record_measurement(ft_db *db, const ft_db_measurement *m, int64_t *id, ft_error *err);
/* *found = 1 when (candidate, machine, build) has a measurement. */
int ft_db_has_measurement(ft_db *db, int64_t candidate_id, int64_t machine_id, int64_t build_id, int *found,
                          ft_error *err);

/* The keys of signature_id's candidates already measured on machine+build (any status), so a
 * resumed sweep skips them. *keys is a malloc'd array of malloc'd strings; free with
 * ft_db_free_strings. */
int ft_db_measured_keys(ft_db *db, int64_t signature_id, int64_t machine_id, int64_t build_id, char ***keys, int *n,
                        ft_error *err);
void ft_db_free_strings(char **v, int n);

typedef struct ft_db_best {
    int64_t candidate_id, measurement_id;
    char *key;    /* malloc'd */
    char *params; /* malloc'd JSON */
    double median_s, mad_s, min_s;
} ft_db_best;

/* The OK candidate of signature_id with the lowest median on machine+build (ties: lowest key), the
 * rule of the best_candidates view. *found = 0 when none is OK. Free with ft_db_best_clear. */
int ft_db_best_candidate(ft_db *db, int64_t signature_id, int64_t machine_id, int64_t build_id, ft_db_best *best,
                         int *found, ft_error *err);
void ft_db_best_clear(ft_db_best *best);

typedef struct ft_db_machine_row {
    int64_t id;
    ft_machine machine;
    char first_seen[32];
    int64_t n_measurements;
} ft_db_machine_row;

/* Every machine, oldest first; *rows is malloc'd (free()). */
int ft_db_list_machines(ft_db *db, ft_db_machine_row **rows, int *n, ft_error *err);

typedef enum ft_db_format { FT_DB_CSV, FT_DB_JSON } ft_db_format;

/* Writes every measurement. CSV: one row per measurement with its signature, candidate, machine,
 * build, statistics, a column per counter event and the samples joined by ';'. JSON: one object
 * with machines, builds, models, sweeps and measurements (each with samples and counters). */
int ft_db_export(ft_db *db, FILE *out, ft_db_format format, ft_error *err);

typedef struct ft_db_merge_stats {
    int64_t machines, builds, models, signatures, candidates, sweeps; /* rows added */
    int64_t measurements; /* added */
    int64_t duplicates;   /* already present: same candidate, machine, build, time and values */
    int64_t conflicts;    /* another measurement of the same triple was already in out: out's is kept */
} ft_db_merge_stats;

/* Copies everything in `in` into `out` by natural keys, in one transaction on out. Measurements
 * already in out are skipped, so merging the same file twice changes nothing; machines and builds
 * stay apart because they are part of each measurement's key. */
int ft_db_merge(ft_db *out, ft_db *in, ft_db_merge_stats *stats, ft_error *err);

/* Current UTC time as ISO 8601 with milliseconds, "2024-05-01T12:00:00.123Z", into buf (>= 32). */
char *ft_db_now(char *buf, size_t n);

#endif
