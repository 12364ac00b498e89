/* measure.c - the measurement harness: pinning, warm-up, calibration, samples, cache flush, fork isolation. */
#include "measure.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_MIN_BYTES ((size_t)8 << 20)
#define FLUSH_MAX_BYTES ((size_t)128 << 20)
#define MAX_REPS ((int64_t)1 << 40)

const char *ft_outcome_name(ft_outcome o)
{
    switch (o) {
    case FT_OUTCOME_OK: return "OK";
    case FT_OUTCOME_WRONG: return "WRONG";
    case FT_OUTCOME_CRASH: return "CRASH";
    case FT_OUTCOME_TIMEOUT: return "TIMEOUT";
    case FT_OUTCOME_SKIPPED: return "SKIPPED";
    }
    return "?";
}

void ft_measure_config_default(ft_measure_config *c)
{
    memset(c, 0, sizeof *c);
    c->warmup_s = 0.010;
    c->min_time_s = 0.001;
    c->samples = 10;
    c->cold = 0;
    c->flush_bytes = 0;
    c->cpu = FT_MEASURE_CPU_CURRENT;
    c->max_tier = FT_TIER_HW;
    c->timeout_s = 10.0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_sorted(const double *v, int n)
{
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void ft_measure_stats_compute(const double *x, int n, ft_measure_stats *s)
{
    if (n <= 0) {
        s->min = s->median = s->mad = s->mean = NAN;
        return;
    }
    double v[FT_MEASURE_MAX_SAMPLES];
    if (n > FT_MEASURE_MAX_SAMPLES) n = FT_MEASURE_MAX_SAMPLES;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        v[i] = x[i];
        sum += x[i];
    }
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    s->min = v[0];
    s->median = median_sorted(v, n);
    s->mean = sum / n;
    for (int i = 0; i < n; i++) v[i] = fabs(x[i] - s->median);
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    s->mad = median_sorted(v, n);
}

static size_t default_flush_bytes(void)
{
    long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (llc <= 0) llc = sysconf(_SC_LEVEL2_CACHE_SIZE);
    size_t b = llc > 0 ? 2 * (size_t)llc : FLUSH_MIN_BYTES;
    if (b < FLUSH_MIN_BYTES) b = FLUSH_MIN_BYTES;
    if (b > FLUSH_MAX_BYTES) b = FLUSH_MAX_BYTES;
    return b;
}

/* Writing every line evicts the candidate's data, dirty lines included, from every cache level. */
static void flush_caches(volatile unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i += 64) buf[i] = (unsigned char)(buf[i] + 1);
}

typedef struct pin_state {
    int pinned;
    cpu_set_t saved;
} pin_state;

static int pin_cpu(int want, pin_state *p, int *cpu_out, ft_error *err)
{
    p->pinned = 0;
    *cpu_out = -1;
    if (want == FT_MEASURE_NO_PIN) return FT_OK;
    if (sched_getaffinity(0, sizeof p->saved, &p->saved) != 0)
        return ft_fail(err, FT_ERR_FAIL, "measure: sched_getaffinity: %s", strerror(errno));
    int cpu = want;
    if (want == FT_MEASURE_CPU_CURRENT) {
        cpu = sched_getcpu();
        if (cpu < 0) return FT_OK; /* no way to tell where we are: measure unpinned */
    }
    if (cpu < 0 || cpu >= CPU_SETSIZE) return ft_fail(err, FT_ERR_INPUT, "measure: CPU %d out of range", cpu);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) {
        if (want == FT_MEASURE_CPU_CURRENT) return FT_OK;
        return ft_fail(err, FT_ERR_INPUT, "measure: cannot pin to CPU %d: %s", cpu, strerror(errno));
    }
    p->pinned = 1;
    *cpu_out = cpu;
    return FT_OK;
}

static void unpin(pin_state *p)
{
    if (p->pinned) sched_setaffinity(0, sizeof p->saved, &p->saved);
}

static int check_config(const ft_measure_config *c, ft_error *err)
{
    if (c->samples < 1 || c->samples > FT_MEASURE_MAX_SAMPLES)
        return ft_fail(err, FT_ERR_INPUT, "measure: samples must be 1..%d, got %d", FT_MEASURE_MAX_SAMPLES, c->samples);
    if (!(c->min_time_s >= 0 && c->min_time_s <= 60))
        return ft_fail(err, FT_ERR_INPUT, "measure: min time must be 0..60 s, got %g", c->min_time_s);
    if (!(c->warmup_s >= 0 && c->warmup_s <= 60))
        return ft_fail(err, FT_ERR_INPUT, "measure: warm-up must be 0..60 s, got %g", c->warmup_s);
    return FT_OK;
}

static void set_crash(ft_measure_result *r, int rc)
{
    r->status = FT_OUTCOME_CRASH;
    snprintf(r->detail, sizeof r->detail, "run returned %d", rc);
}

/* Times reps calls; returns the elapsed seconds, or -1 with r set to CRASH when a call failed. */
static double time_reps(const ft_measure_job *job, int64_t reps, ft_measure_result *r)
{
    double t0 = now_s();
    for (int64_t i = 0; i < reps; i++) {
        int rc = job->run(job->ctx);
        if (rc != 0) {
            set_crash(r, rc);
            return -1;
        }
    }
    return now_s() - t0;
}

/* Grows the repeat count until one sample of warm calls lasts min_time. Each step keeps the faster
 * of two timings, so one preemption does not end calibration with too few repeats. */
static int64_t calibrate(const ft_measure_config *c, const ft_measure_job *job, ft_measure_result *r)
{
    int64_t reps = 1;
    for (;;) {
        double t = time_reps(job, reps, r);
        if (t < 0) return -1;
        if (t >= c->min_time_s) {
            double again = time_reps(job, reps, r);
            if (again < 0) return -1;
            if (again < t) t = again;
        }
        if (t >= c->min_time_s || reps >= MAX_REPS) return reps;
        /* Aim 20% past min_time so one slow call does not shrink a sample below it. */
        double factor = t > 0 ? 1.2 * c->min_time_s / t : 1000.0;
        int64_t next = factor > 1e6 ? reps * 1000000 : (int64_t)ceil((double)reps * factor);
        if (next < 2 * reps) next = 2 * reps;
        reps = next > MAX_REPS ? MAX_REPS : next;
    }
}

static int take_samples(const ft_measure_config *c, const ft_measure_job *job, ft_counters *ctr,
                        unsigned char *flush_buf, size_t flush_n, ft_measure_result *r)
{
    for (int s = 0; s < c->samples; s++) {
        if (flush_buf) {
            flush_caches(flush_buf, flush_n);
            r->n_flushes++;
        }
        ft_counters_start(ctr);
        double t = time_reps(job, r->reps, r);
        ft_counters_stop(ctr);
        if (t < 0) return -1;
        r->samples[r->n_samples++] = t / (double)r->reps;
    }
    return 0;
}

int ft_measure_run(const ft_measure_config *c, const ft_measure_job *job, ft_measure_result *r, ft_error *err)
{
    memset(r, 0, sizeof *r);
    r->cpu = -1;
    ft_measure_stats_compute(NULL, 0, &r->stats);
    int rc = check_config(c, err);
    if (rc != FT_OK) return rc;
    if (!job || !job->run) return ft_fail(err, FT_ERR_INPUT, "measure: job has no run function");

    if (job->verify) {
        char msg[sizeof r->detail] = "";
        if (job->verify(job->ctx, msg, sizeof msg) != 0) {
            r->status = FT_OUTCOME_WRONG;
            snprintf(r->detail, sizeof r->detail, "%s", msg[0] ? msg : "verification failed");
            return FT_OK;
        }
    }

    size_t flush_n = 0;
    unsigned char *flush_buf = NULL;
    if (c->cold) {
        flush_n = c->flush_bytes ? c->flush_bytes : default_flush_bytes();
        flush_buf = calloc(flush_n, 1);
        if (!flush_buf)
            return ft_fail(err, FT_ERR_NOMEM, "measure: cannot allocate %zu bytes to flush caches", flush_n);
    }
    ft_counters *ctr = NULL;
    rc = ft_counters_open(c->max_tier, &ctr, err);
    if (rc != FT_OK) {
        free(flush_buf);
        return rc;
    }
    pin_state pin;
    rc = pin_cpu(c->cpu, &pin, &r->cpu, err);
    if (rc != FT_OK) {
        ft_counters_close(ctr);
        free(flush_buf);
        return rc;
    }

    int failed = 0;
    double t0 = now_s();
    do {
        int rr = job->run(job->ctx);
        if (rr != 0) {
            set_crash(r, rr);
            failed = 1;
        }
    } while (!failed && now_s() - t0 < c->warmup_s);
    if (!failed) {
        r->reps = c->cold ? 1 : calibrate(c, job, r);
        failed = r->reps < 0 || take_samples(c, job, ctr, flush_buf, flush_n, r) != 0;
    }
    unpin(&pin);

    r->tier = ft_counters_tier(ctr);
    snprintf(r->tier_note, sizeof r->tier_note, "%s", ft_counters_note(ctr));
    if (!failed) {
        r->status = FT_OUTCOME_OK;
        r->n_counters = ft_counters_read(ctr, (double)r->n_samples * (double)r->reps, r->counters, &r->multiplexed);
        ft_measure_stats_compute(r->samples, r->n_samples, &r->stats);
    } else if (r->reps < 0) {
        r->reps = 0;
    }
    ft_counters_close(ctr);
    free(flush_buf);
    return FT_OK;
}

/* What the worker sends back through the pipe. */
typedef struct worker_msg {
    int status; /* ft_status of ft_measure_run in the worker */
    ft_error err;
    ft_measure_result result;
} worker_msg;

static const char *signal_name(int sig, char *buf, size_t n)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {{SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGILL, "SIGILL"},
                 {SIGABRT, "SIGABRT"}, {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {SIGTRAP, "SIGTRAP"},
                 {SIGSYS, "SIGSYS"},   {SIGPIPE, "SIGPIPE"}, {SIGXCPU, "SIGXCPU"}, {SIGINT, "SIGINT"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig) return names[i].name;
    snprintf(buf, n, "signal %d", sig);
    return buf;
}

static void run_worker(int fd, const ft_measure_config *c, const ft_measure_job *job)
{
    /* A candidate's fault must kill the worker with its signal: sanitizers and the caller may have
     * installed handlers that would turn it into an exit code or a hang. */
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, SIGPIPE};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) sigaction(fatal[i], &sa, NULL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    /* Dumping the core of every crashing candidate would cost seconds and disk. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);

    worker_msg *msg = calloc(1, sizeof *msg);
    if (!msg) _exit(125);
    msg->status = ft_measure_run(c, job, &msg->result, &msg->err);
    const char *p = (const char *)msg;
    size_t left = sizeof *msg;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(126);
        p += w;
        left -= (size_t)w;
    }
    /* _exit: the worker must not run the caller's atexit handlers or flush its copied stdio buffers. */
    _exit(0);
}

/* Waits for pid until deadline (<= 0: forever); kills it then. Returns 1 if it had to be killed. */
static int reap(pid_t pid, double deadline, int *wstatus)
{
    for (;;) {
        pid_t w = waitpid(pid, wstatus, deadline > 0 ? WNOHANG : 0);
        if (w == pid) return 0;
        if (w < 0 && errno != EINTR) {
            *wstatus = 0;
            return 0;
        }
        if (deadline > 0 && now_s() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR) {}
            return 1;
        }
        if (w == 0) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
}

int ft_measure_isolated(const ft_measure_config *c, const ft_measure_job *job, ft_measure_result *r, ft_error *err)
{
    memset(r, 0, sizeof *r);
    r->cpu = -1;
    ft_measure_stats_compute(NULL, 0, &r->stats);
    int rc = check_config(c, err);
    if (rc != FT_OK) return rc;
    if (!job || !job->run) return ft_fail(err, FT_ERR_INPUT, "measure: job has no run function");
    worker_msg *msg = calloc(1, sizeof *msg);
    if (!msg) return ft_fail(err, FT_ERR_NOMEM, "measure: out of memory");
    int fds[2];
    if (pipe(fds) != 0) {
        free(msg);
        return ft_fail(err, FT_ERR_FAIL, "measure: pipe: %s", strerror(errno));
    }
    double start = now_s();
    double deadline = c->timeout_s > 0 ? start + c->timeout_s : 0;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        free(msg);
        return ft_fail(err, FT_ERR_FAIL, "measure: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        run_worker(fds[1], c, job);
    }
    close(fds[1]);

    size_t got = 0;
    int timed_out = 0;
    while (got < sizeof *msg) {
        int wait_ms = -1;
        if (deadline > 0) {
            double left = deadline - now_s();
            if (left <= 0) {
                timed_out = 1;
                break;
            }
            wait_ms = (int)ceil(left * 1000);
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int pr = poll(&pfd, 1, wait_ms);
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) break;
        if (pr == 0) continue;
        ssize_t n = read(fds[0], (char *)msg + got, sizeof *msg - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* EOF: the worker died or finished */
        got += (size_t)n;
    }
    close(fds[0]);
    int wstatus = 0;
    if (timed_out) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {}
    } else {
        timed_out = reap(pid, deadline, &wstatus);
    }

    if (timed_out) {
        r->status = FT_OUTCOME_TIMEOUT;
        snprintf(r->detail, sizeof r->detail, "killed after %.3g s", c->timeout_s);
    } else if (WIFSIGNALED(wstatus)) {
        char buf[32];
        r->status = FT_OUTCOME_CRASH;
        snprintf(r->detail, sizeof r->detail, "%s", signal_name(WTERMSIG(wstatus), buf, sizeof buf));
    } else if (got < sizeof *msg || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        r->status = FT_OUTCOME_CRASH;
        snprintf(r->detail, sizeof r->detail, "exit status %d", WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    } else if (msg->status != FT_OK) {
        rc = ft_fail(err, msg->status, "%s", msg->err.msg);
    } else {
        *r = msg->result;
    }
    free(msg);
    return rc;
}
