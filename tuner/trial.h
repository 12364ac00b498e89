/* trial.h - one candidate of one node set up to be verified and timed: seeded inputs laid out as the
 * candidate reads them, the reference output to compare with, and the calls the harness makes. */
#ifndef FT_TRIAL_H
#define FT_TRIAL_H

#include "registry.h"

typedef struct ft_trial ft_trial;

/* The reference side of a node: seeded row-major inputs (constants keep their real values) and the
 * reference kernel's outputs for them. Shared by every candidate of the node's signature. */
typedef struct ft_trial_ref ft_trial_ref;
int ft_trial_ref_create(const ft_graph *g, int node, uint64_t seed, ft_trial_ref **out, ft_error *err);
void ft_trial_ref_destroy(ft_trial_ref *r);

/* Lays the inputs out for cand and prepares its kernel (pre-packing, scratch). Call inside the
 * measuring worker: a kernel that crashes while preparing is then isolated too. */
int ft_trial_create(const ft_trial_ref *r, const ft_candidate *cand, ft_trial **out, ft_error *err);
void ft_trial_destroy(ft_trial *t);
/* One call of the candidate. */
int ft_trial_run(ft_trial *t, ft_error *err);
/* Runs once on outputs poisoned with NaN and compares with the reference (relative L2 <= 1e-5 per
 * output, NaN where the reference has none fails, integers exact). 0 when right, else msg says why. */
int ft_trial_verify(ft_trial *t, char *msg, size_t n);

#endif
