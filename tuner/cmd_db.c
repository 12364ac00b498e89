/* cmd_db.c - `fluidtune db machines|export|merge`: look into and combine tuning databases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"

static void db_usage(FILE *f)
{
    fprintf(f,
            "usage: fluidtune db machines DB\n"
            "       fluidtune db export DB [--format csv|json] [-o FILE]\n"
            "       fluidtune db merge OUT IN...\n"
            "\n"
            "machines  lists the machines measured in DB with their fingerprints and measurement counts\n"
            "export    writes every measurement (statistics, samples, counters) as CSV (default) or JSON\n"
            "          to FILE or standard output\n"
            "merge     copies the measurements of each IN into OUT (created if missing); duplicates are\n"
            "          skipped, so merging the same file twice changes nothing; machines and builds stay\n"
            "          apart. The IN files are opened read-only.\n");
}

static int db_machines(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "fluidtune db machines: error: expected one database\n");
        return FT_EXIT_USAGE;
    }
    ft_error err = {0};
    ft_db *db = NULL;
    ft_db_machine_row *rows = NULL;
    int n = 0;
    int rc = ft_db_open(argv[0], FT_DB_READONLY, &db, &err);
    if (rc == FT_OK) rc = ft_db_list_machines(db, &rows, &n, &err);
    for (int i = 0; rc == FT_OK && i < n; i++) {
        const ft_machine *m = &rows[i].machine;
        printf("%.12s  %s %s (family %d model %d), %s, %d cpus, L1d %lld KiB, L2 %lld KiB, L3 %lld KiB%s%s\n", m->id,
               m->vendor, m->model_name, m->family, m->model, m->arch, m->n_cpus, (long long)m->l1d_bytes / 1024,
               (long long)m->l2_bytes / 1024, (long long)m->l3_bytes / 1024, m->hypervisor ? ", virtual machine" : "",
               m->emulated ? ", EMULATED" : "");
        printf("              isa: %s\n              kernel %s, first seen %s, %lld measurements\n", m->isa, m->kernel,
               rows[i].first_seen, (long long)rows[i].n_measurements);
    }
    free(rows);
    ft_db_close(db);
    return rc == FT_OK ? FT_EXIT_OK : ft_cli_report("db machines", &err);
}

static int db_export(int argc, char **argv)
{
    const char *path = NULL, *out = NULL;
    ft_db_format fmt = FT_DB_CSV;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "csv") == 0) fmt = FT_DB_CSV;
            else if (strcmp(argv[i], "json") == 0) fmt = FT_DB_JSON;
            else {
                fprintf(stderr, "fluidtune db export: error: --format is csv or json, not '%s'\n", argv[i]);
                return FT_EXIT_USAGE;
            }
        } else if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc) {
            out = argv[++i];
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            fprintf(stderr, "fluidtune db export: error: unexpected argument '%s'\n", argv[i]);
            return FT_EXIT_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "fluidtune db export: error: expected a database\n");
        return FT_EXIT_USAGE;
    }
    ft_error err = {0};
    ft_db *db = NULL;
    int rc = ft_db_open(path, FT_DB_READONLY, &db, &err);
    FILE *f = stdout;
    char tmp[4200] = "";
    if (rc == FT_OK && out) {
        snprintf(tmp, sizeof tmp, "%s.tmp", out);
        f = fopen(tmp, "w");
        if (!f) rc = ft_fail(&err, FT_ERR_FAIL, "%s: cannot write", out);
    }
    if (rc == FT_OK) rc = ft_db_export(db, f, fmt, &err);
    if (f && f != stdout) {
        if (fclose(f) != 0 && rc == FT_OK) rc = ft_fail(&err, FT_ERR_FAIL, "%s: write error", out);
        if (rc == FT_OK && rename(tmp, out) != 0) rc = ft_fail(&err, FT_ERR_FAIL, "%s: cannot write", out);
        if (rc != FT_OK) remove(tmp);
    }
    ft_db_close(db);
    return rc == FT_OK ? FT_EXIT_OK : ft_cli_report("db export", &err);
}

static int db_merge(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "fluidtune db merge: error: expected OUT and at least one IN\n");
        return FT_EXIT_USAGE;
    }
    ft_error err = {0};
    ft_db *out = NULL;
    int rc = ft_db_open(argv[0], FT_DB_CREATE, &out, &err);
    for (int i = 1; rc == FT_OK && i < argc; i++) {
        ft_db *in = NULL;
        ft_db_merge_stats st;
        memset(&st, 0, sizeof st);
        rc = ft_db_open(argv[i], FT_DB_READONLY, &in, &err);
        if (rc == FT_OK) rc = ft_db_merge(out, in, &st, &err);
        ft_db_close(in);
        if (rc == FT_OK)
            printf("merged %s: %lld measurements added, %lld duplicates skipped, %lld conflicts (kept %s's), "
                   "%lld machines, %lld builds, %lld signatures, %lld candidates added\n",
                   argv[i], (long long)st.measurements, (long long)st.duplicates, (long long)st.conflicts, argv[0],
                   (long long)st.machines, (long long)st.builds, (long long)st.signatures, (long long)st.candidates);
    }
    ft_db_close(out);
    return rc == FT_OK ? FT_EXIT_OK : ft_cli_report("db merge", &err);
}

int ft_cmd_db(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        db_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? FT_EXIT_USAGE : FT_EXIT_OK;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            db_usage(stdout);
            return FT_EXIT_OK;
        }
    if (strcmp(argv[1], "machines") == 0) return db_machines(argc - 2, argv + 2);
    if (strcmp(argv[1], "export") == 0) return db_export(argc - 2, argv + 2);
    if (strcmp(argv[1], "merge") == 0) return db_merge(argc - 2, argv + 2);
    fprintf(stderr, "fluidtune db: error: unknown subcommand '%s'\n", argv[1]);
    db_usage(stderr);
    return FT_EXIT_USAGE;
}
