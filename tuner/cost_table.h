/* cost_table.h - one machine's and build's OK measurements, loaded from the database once and looked
 * up by (signature text, candidate key) while the planner solves. */
#ifndef FT_COST_TABLE_H
#define FT_COST_TABLE_H

#include "db.h"

typedef struct ft_cost_entry {
    char *sig_key; /* signature, '\x1f', candidate key */
    double seconds;
} ft_cost_entry;

typedef struct ft_cost_table {
    int n;
    ft_cost_entry *e;
} ft_cost_table;

/* machine is a machine key or a unique prefix of one; build_key the build's id. Fails with a clear
 * message when the database holds no measurement of that machine and build. Fills the full machine
 * key and a description ("AuthenticAMD AMD EPYC ..."). */
int ft_cost_table_load(ft_db *db, const char *machine, const char *build_key, ft_cost_table *t, char *machine_key,
                       char *desc, size_t desc_n, ft_error *err);
/* An ft_cost_fn: the fastest sample's seconds per call, or NAN when not measured OK. The minimum,
 * not the median, because interference from other work on the board only ever adds time: the
 * minimum ranks kernels by what they cost, the median by how busy the machine was. */
double ft_cost_table_lookup(void *table, const char *signature, const char *key);
void ft_cost_table_free(ft_cost_table *t);

#endif
