/* db_internal.h - what the db/ sources share and the public header does not promise. */
#ifndef FT_DB_INTERNAL_H
#define FT_DB_INTERNAL_H

#include <sqlite3.h>

#include "db.h"

struct ft_db {
    sqlite3 *h;
    char *path;
    unsigned flags;
};

/* Migration i (0-based) takes a database from schema version i to i+1. Append only: a released
 * step is never edited, since files in the field were made by it. */
extern const char *const ft_db_migrations[];
extern const int ft_db_n_migrations;

/* Fills err from the connection's last error, naming the file and what was being done. Corrupt
 * files are FT_ERR_INPUT, constraint violations FT_ERR_INPUT, everything else FT_ERR_FAIL. */
int ft_db_sqlerr(ft_db *db, ft_error *err, const char *what);
int ft_db_exec(ft_db *db, const char *sql, ft_error *err);
int ft_db_prepare(ft_db *db, const char *sql, sqlite3_stmt **st, ft_error *err);

/* Text column or "" for NULL. */
const char *ft_db_col_text(sqlite3_stmt *st, int i);
/* Binds a double, or NULL when it is not finite. */
int ft_db_bind_real(sqlite3_stmt *st, int i, double v);

/* Upserts that keep a given first_seen (NULL = now) and report whether a row was added. */
int ft_db_put_machine(ft_db *db, const ft_machine *m, const char *first_seen, int64_t *id, int *added, ft_error *err);
int ft_db_put_build(ft_db *db, const ft_build *b, const char *first_seen, int64_t *id, int *added, ft_error *err);
int ft_db_put_model(ft_db *db, const char *sha256, const char *path, const char *name, const char *first_seen,
                    int64_t *id, int *added, ft_error *err);
int ft_db_put_signature(ft_db *db, const char *op_type, const char *signature, int64_t *id, int *added, ft_error *err);
int ft_db_put_candidate(ft_db *db, int64_t signature_id, const char *key, const char *params_json, int64_t *id,
                        int *added, ft_error *err);
/* Inserts a measurement, its samples and counters inside the caller's transaction. */
int ft_db_insert_measurement(ft_db *db, const ft_db_measurement *m, int64_t *id, ft_error *err);
/* Reads machine columns starting at column `first` of a row laid out as FT_DB_MACHINE_COLUMNS. */
void ft_db_read_machine(sqlite3_stmt *st, int first, ft_machine *m);

#define FT_DB_MACHINE_COLUMNS                                                                                  \
    "machine_key, arch, vendor, model_name, family, model, stepping, isa, n_cpus, l1d_bytes, l2_bytes, "       \
    "l3_bytes, cache_source, hypervisor, emulated, kernel"

#endif
