/* counters.c - perf_event groups for the hw/sw/none counter tiers, hardware events encoded via libpfm4. */
#include "counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(FT_HAVE_LIBPFM)
#include <perfmon/pfmlib_perf_event.h>
#include <pthread.h>
#endif

#define HW_CACHE(cache, op, result)                                                         \
    ((uint64_t)PERF_COUNT_HW_CACHE_##cache | ((uint64_t)PERF_COUNT_HW_CACHE_OP_##op << 8) | \
     ((uint64_t)PERF_COUNT_HW_CACHE_RESULT_##result << 16))

typedef struct event_spec {
    const char *name; /* stored in the database */
    const char *pfm;  /* libpfm4 event string */
    uint32_t type;    /* generic encoding, used without libpfm4 */
    uint64_t config;
} event_spec;

/* The leader comes first: when it cannot be opened the whole tier is unavailable. */
static const event_spec hw_events[] = {
    {"cycles", "PERF_COUNT_HW_CPU_CYCLES", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", "PERF_COUNT_HW_INSTRUCTIONS", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"L1-dcache-load-misses", "PERF_COUNT_HW_CACHE_L1D:READ:MISS", PERF_TYPE_HW_CACHE, HW_CACHE(L1D, READ, MISS)},
    {"LLC-load-misses", "PERF_COUNT_HW_CACHE_LL:READ:MISS", PERF_TYPE_HW_CACHE, HW_CACHE(LL, READ, MISS)},
    {"dTLB-load-misses", "PERF_COUNT_HW_CACHE_DTLB:READ:MISS", PERF_TYPE_HW_CACHE, HW_CACHE(DTLB, READ, MISS)},
};

static const event_spec sw_events[] = {
    {"task-clock", NULL, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"page-faults", NULL, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"context-switches", NULL, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
};

struct ft_counters {
    ft_counter_tier tier;
    int n; /* open events; fd[0] is the group leader */
    int fd[FT_COUNTERS_MAX];
    const char *name[FT_COUNTERS_MAX];
    double total[FT_COUNTERS_MAX];
    int multiplexed;
    char note[512];
};

const char *ft_counter_tier_name(ft_counter_tier t)
{
    switch (t) {
    case FT_TIER_HW: return "hw";
    case FT_TIER_SW: return "sw";
    default: return "none";
    }
}

int ft_counter_tier_parse(const char *s, ft_counter_tier *t, ft_error *err)
{
    if (s && strcmp(s, "hw") == 0)
        *t = FT_TIER_HW;
    else if (s && strcmp(s, "sw") == 0)
        *t = FT_TIER_SW;
    else if (s && strcmp(s, "none") == 0)
        *t = FT_TIER_NONE;
    else
        return ft_fail(err, FT_ERR_INPUT, "counter tier '%s': expected hw, sw or none", s ? s : "(null)");
    return FT_OK;
}

#if defined(FT_HAVE_LIBPFM)
static int pfm_ready; /* 1 initialised, -1 failed */
static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;

static void pfm_init_once(void)
{
    pfm_ready = pfm_initialize() == PFM_SUCCESS ? 1 : -1;
}

const char *ft_counters_backend(void)
{
    static char text[64];
    int v = pfm_get_version();
    snprintf(text, sizeof text, "libpfm4 %d.%d", PFM_MAJ_VERSION(v), PFM_MIN_VERSION(v));
    return text;
}

/* Fills attr from libpfm4; on failure keeps the generic encoding and says so in note. */
static void encode_hw(const event_spec *e, struct perf_event_attr *attr, char *note, size_t n)
{
    pthread_once(&pfm_once, pfm_init_once);
    if (pfm_ready != 1) {
        snprintf(note + strlen(note), n - strlen(note), "%slibpfm4 failed to initialise, generic encodings used",
                 note[0] ? "; " : "");
        return;
    }
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof arg);
    arg.attr = &a;
    arg.size = sizeof arg;
    int rc = pfm_get_os_event_encoding(e->pfm, PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
    if (rc != PFM_SUCCESS) {
        snprintf(note + strlen(note), n - strlen(note), "%slibpfm4 cannot encode %s (%s), generic encoding used",
                 note[0] ? "; " : "", e->pfm, pfm_strerror(rc));
        return;
    }
    attr->type = a.type;
    attr->config = a.config;
    attr->config1 = a.config1;
    attr->config2 = a.config2;
}
#else
const char *ft_counters_backend(void)
{
    return "kernel generic encodings (built without libpfm4)";
}

static void encode_hw(const event_spec *e, struct perf_event_attr *attr, char *note, size_t n)
{
    (void)e, (void)attr;
    static const char why[] = "hw: generic kernel encodings (built without libpfm4)";
    if (!strstr(note, why)) snprintf(note + strlen(note), n - strlen(note), "%s%s", note[0] ? "; " : "", why);
}
#endif

static int perf_open(struct perf_event_attr *attr, int group_fd)
{
    return (int)syscall(SYS_perf_event_open, attr, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

static void close_all(ft_counters *c)
{
    for (int i = c->n - 1; i >= 0; i--) close(c->fd[i]);
    c->n = 0;
}

static void append_note(ft_counters *c, const char *fmt, const char *a, const char *b)
{
    size_t used = strlen(c->note);
    if (used + 2 >= sizeof c->note) return;
    if (used) {
        memcpy(c->note + used, "; ", 3);
        used += 2;
    }
    snprintf(c->note + used, sizeof c->note - used, fmt, a, b);
}

static const char *open_errno_text(int e, int hw_leader)
{
    switch (e) {
    case ENOENT:
    case EOPNOTSUPP:
    case ENODEV:
        return hw_leader ? "not supported here (no hardware PMU visible)" : "event not supported by this CPU or kernel";
    case EACCES:
    case EPERM: return "permission denied (see /proc/sys/kernel/perf_event_paranoid)";
    case ENOSYS: return "perf_event_open is not available";
    default: return strerror(e);
    }
}

/* Opens the events of one tier as a group. Members that fail are dropped with a note; a failing
 * leader leaves nothing open. Returns the number of open events. */
static int open_group(ft_counters *c, const event_spec *ev, int n_ev, int hardware)
{
    c->n = 0;
    for (int i = 0; i < n_ev; i++) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = ev[i].type;
        attr.config = ev[i].config;
        if (hardware) encode_hw(&ev[i], &attr, c->note, sizeof c->note);
        attr.disabled = i == 0; /* members follow the leader */
        attr.exclude_hv = 1;
        attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        /* Software events such as context-switches fire in the kernel, so count kernel time where
         * allowed; hardware events measure the candidate's own code. */
        attr.exclude_kernel = hardware;
        int fd = perf_open(&attr, i == 0 ? -1 : c->fd[0]);
        if (fd < 0 && !hardware && (errno == EACCES || errno == EPERM)) {
            attr.exclude_kernel = 1;
            fd = perf_open(&attr, i == 0 ? -1 : c->fd[0]);
        }
        if (fd < 0) {
            const char *why = open_errno_text(errno, hardware && i == 0);
            char what[64];
            snprintf(what, sizeof what, "%s: perf_event_open(%s)", hardware ? "hw" : "sw", ev[i].name);
            append_note(c, "%s: %s", what, why);
            if (i == 0) return 0;
            continue;
        }
        c->fd[c->n] = fd;
        c->name[c->n] = ev[i].name;
        c->n++;
    }
    return c->n;
}

typedef struct group_read {
    uint64_t nr, time_enabled, time_running;
    uint64_t value[FT_COUNTERS_MAX];
} group_read;

static int read_group(const ft_counters *c, group_read *g)
{
    ssize_t want = (ssize_t)(3 + c->n) * (ssize_t)sizeof(uint64_t);
    ssize_t got = read(c->fd[0], g, sizeof *g);
    return got >= want && g->nr == (uint64_t)c->n;
}

/* A group larger than the PMU's counters opens fine and then never runs; find out now. */
static int group_runs(ft_counters *c)
{
    ioctl(c->fd[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
    ioctl(c->fd[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 50000);
    ioctl(c->fd[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
    group_read g;
    return read_group(c, &g) && g.time_running > 0;
}

int ft_counters_open(ft_counter_tier max_tier, ft_counters **out, ft_error *err)
{
    *out = NULL;
    const char *env = getenv("FT_COUNTER_TIER");
    if (env && env[0]) {
        ft_counter_tier forced = FT_TIER_NONE;
        if (ft_counter_tier_parse(env, &forced, err) != FT_OK)
            return ft_fail(err, FT_ERR_INPUT, "FT_COUNTER_TIER='%s': expected hw, sw or none", env);
        if (forced < max_tier) max_tier = forced;
    }
    ft_counters *c = calloc(1, sizeof *c);
    if (!c) return ft_fail(err, FT_ERR_NOMEM, "counters: out of memory");
    if (max_tier < FT_TIER_HW) append_note(c, "%s%s", "hw: not requested", env && env[0] ? " (FT_COUNTER_TIER)" : "");
    if (max_tier >= FT_TIER_HW && open_group(c, hw_events, (int)(sizeof hw_events / sizeof hw_events[0]), 1) > 0) {
        if (group_runs(c)) {
            c->tier = FT_TIER_HW;
            *out = c;
            return FT_OK;
        }
        close_all(c);
        append_note(c, "%s%s", "hw: the event group never got a counter", "");
    }
    if (max_tier >= FT_TIER_SW && open_group(c, sw_events, (int)(sizeof sw_events / sizeof sw_events[0]), 0) > 0) {
        c->tier = FT_TIER_SW;
        *out = c;
        return FT_OK;
    }
    close_all(c);
    if (max_tier < FT_TIER_SW) append_note(c, "%s%s", "sw: not requested", env && env[0] ? " (FT_COUNTER_TIER)" : "");
    c->tier = FT_TIER_NONE;
    *out = c;
    return FT_OK;
}

void ft_counters_close(ft_counters *c)
{
    if (!c) return;
    close_all(c);
    free(c);
}

ft_counter_tier ft_counters_tier(const ft_counters *c)
{
    return c->tier;
}

const char *ft_counters_note(const ft_counters *c)
{
    return c->note;
}

void ft_counters_start(ft_counters *c)
{
    if (c->n == 0) return;
    ioctl(c->fd[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
    ioctl(c->fd[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

void ft_counters_stop(ft_counters *c)
{
    if (c->n == 0) return;
    ioctl(c->fd[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
    group_read g;
    if (!read_group(c, &g) || g.time_running == 0) {
        /* The interval was never scheduled: nothing to scale, and the totals are now estimates. */
        c->multiplexed = 1;
        return;
    }
    double scale = 1.0;
    if (g.time_running < g.time_enabled) {
        c->multiplexed = 1;
        scale = (double)g.time_enabled / (double)g.time_running;
    }
    for (int i = 0; i < c->n; i++) c->total[i] += (double)g.value[i] * scale;
}

int ft_counters_read(const ft_counters *c, double calls, ft_counter_value *out, int *multiplexed)
{
    *multiplexed = c->multiplexed;
    if (calls <= 0) calls = 1;
    for (int i = 0; i < c->n; i++) {
        snprintf(out[i].name, sizeof out[i].name, "%s", c->name[i]);
        out[i].value = c->total[i] / calls;
    }
    return c->n;
}
