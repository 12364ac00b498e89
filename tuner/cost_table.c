/* cost_table.c - measurements of one machine and build, sorted for lookup by signature and key. */
#include "cost_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const ft_cost_entry *)a)->sig_key, ((const ft_cost_entry *)b)->sig_key);
}

int ft_cost_table_load(ft_db *db, const char *machine, const char *build_key, ft_cost_table *t, char *machine_key,
                       char *desc, size_t desc_n, ft_error *err)
{
    memset(t, 0, sizeof *t);
    sqlite3 *h = ft_db_handle(db);
    sqlite3_stmt *st = NULL;
    int64_t machine_id = -1, build_id = -1;
    int matches = 0;
    char like[FT_ID_HEX + 2];
    snprintf(like, sizeof like, "%s%%", machine);
    if (sqlite3_prepare_v2(h, "SELECT id, machine_key, vendor, model_name FROM machines WHERE machine_key LIKE ?", -1, &st,
                           NULL) != SQLITE_OK)
        return ft_fail(err, FT_ERR_FAIL, "%s: %s", ft_db_path(db), sqlite3_errmsg(h));
    sqlite3_bind_text(st, 1, like, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        matches++;
        machine_id = sqlite3_column_int64(st, 0);
        snprintf(machine_key, FT_ID_HEX, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(desc, desc_n, "%s %s", (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    if (matches == 0)
        return ft_fail(err, FT_ERR_INPUT, "%s holds no measurements of machine %.12s: run `fluidtune sweep` on it first "
                                          "(or pick one of `fluidtune db machines` with --machine)",
                       ft_db_path(db), machine);
    if (matches > 1)
        return ft_fail(err, FT_ERR_INPUT, "--machine %s matches %d machines in %s: give more of the id", machine, matches,
                       ft_db_path(db));
    if (sqlite3_prepare_v2(h, "SELECT id FROM builds WHERE build_key = ?", -1, &st, NULL) != SQLITE_OK)
        return ft_fail(err, FT_ERR_FAIL, "%s: %s", ft_db_path(db), sqlite3_errmsg(h));
    sqlite3_bind_text(st, 1, build_key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) build_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (build_id < 0)
        return ft_fail(err, FT_ERR_INPUT, "%s holds no measurements made by this build of fluidtune's kernels "
                                          "(build %.12s): sweep again with this build",
                       ft_db_path(db), build_key);
    if (sqlite3_prepare_v2(h,
                           "SELECT s.signature, c.key, m.min_s FROM measurements m "
                           "JOIN candidates c ON c.id = m.candidate_id JOIN signatures s ON s.id = c.signature_id "
                           "WHERE m.machine_id = ? AND m.build_id = ? AND m.status = 'OK' AND m.min_s IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return ft_fail(err, FT_ERR_FAIL, "%s: %s", ft_db_path(db), sqlite3_errmsg(h));
    sqlite3_bind_int64(st, 1, machine_id);
    sqlite3_bind_int64(st, 2, build_id);
    int cap = 0, rc = FT_OK;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *sig = (const char *)sqlite3_column_text(st, 0), *key = (const char *)sqlite3_column_text(st, 1);
        if (t->n == cap) {
            cap = cap ? 2 * cap : 256;
            ft_cost_entry *e = realloc(t->e, (size_t)cap * sizeof *e);
            if (!e) {
                rc = ft_fail(err, FT_ERR_NOMEM, "out of memory");
                break;
            }
            t->e = e;
        }
        size_t len = strlen(sig) + strlen(key) + 2;
        char *sk = malloc(len);
        if (!sk) {
            rc = ft_fail(err, FT_ERR_NOMEM, "out of memory");
            break;
        }
        snprintf(sk, len, "%s\x1f%s", sig, key);
        t->e[t->n].sig_key = sk;
        t->e[t->n].seconds = sqlite3_column_double(st, 2);
        t->n++;
    }
    sqlite3_finalize(st);
    if (rc != FT_OK) {
        ft_cost_table_free(t);
        return rc;
    }
    if (t->n == 0)
        return ft_fail(err, FT_ERR_INPUT, "%s holds no successful measurement for machine %.12s and this build",
                       ft_db_path(db), machine_key);
    qsort(t->e, (size_t)t->n, sizeof *t->e, cmp_entry);
    return FT_OK;
}

double ft_cost_table_lookup(void *table, const char *signature, const char *key)
{
    const ft_cost_table *t = table;
    size_t len = strlen(signature) + strlen(key) + 2;
    char stack[2048];
    char *sk = len <= sizeof stack ? stack : malloc(len);
    if (!sk) return NAN;
    snprintf(sk, len, "%s\x1f%s", signature, key);
    ft_cost_entry probe = {sk, 0};
    const ft_cost_entry *hit = bsearch(&probe, t->e, (size_t)t->n, sizeof *t->e, cmp_entry);
    if (sk != stack) free(sk);
    return hit ? hit->seconds : NAN;
}

void ft_cost_table_free(ft_cost_table *t)
{
    for (int i = 0; i < t->n; i++) free(t->e[i].sig_key);
    free(t->e);
    memset(t, 0, sizeof *t);
}
