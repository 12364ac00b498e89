/* fingerprint.h - what machine and which kernel build a measurement was taken on, as stable ids.
 *
 * Measurements are only comparable on the same hardware with the same kernel code, so every
 * measurement, database row and plan is keyed by a machine id and a build id: hex SHA-256 digests
 * of the fields that decide performance. Fields that change without changing the hardware (the OS
 * kernel release, the clock frequency shown by cpuinfo) are recorded but kept out of the id, so an
 * OS update does not orphan a finished sweep.
 *
 * Depends only on libc and kernels/ (ft_common.h, sha256.h), so the plan loader can use it too.
 */
#ifndef FT_FINGERPRINT_H
#define FT_FINGERPRINT_H

#include <stdint.h>

#include "ft_common.h"

#define FT_ID_HEX 65 /* 64 hex digits and the NUL */

typedef struct ft_machine {
    /* Stable fields: they make up the machine id. */
    char arch[32];        /* uname machine: x86_64, aarch64 */
    char vendor[64];      /* GenuineIntel, AuthenticAMD; on ARM "ARM implementer 0x41" */
    char model_name[128]; /* cpuinfo "model name"; on ARM "part 0xd0c" */
    int family;           /* x86 cpu family, ARM architecture; -1 unknown */
    int model;            /* x86 model, ARM part number; -1 unknown */
    int stepping;         /* x86 stepping, ARM revision; -1 unknown */
    char isa[256];        /* space-separated features from a fixed list, in list order */
    int n_cpus;           /* online logical CPUs */
    int64_t l1d_bytes;    /* per-core L1 data cache, 0 = unknown */
    int64_t l2_bytes;     /* 0 = unknown */
    int64_t l3_bytes;     /* 0 = unknown or absent */
    int hypervisor;       /* 1 when running in a virtual machine */
    int emulated;         /* 1 when the CPU is emulated (qemu-user): timings say little about it */
    /* Recorded, not part of the id. */
    char cache_source[16]; /* where the cache sizes came from: "sysfs", "sysconf" or "none" */
    char kernel[128];      /* uname sysname and release */
    char id[FT_ID_HEX];    /* hex SHA-256 of the stable fields */
} ft_machine;

typedef struct ft_build {
    char compiler[128];          /* "gcc 12.2.0", "Debian Clang 14.0.6" */
    char flags[512];             /* build type and C flags the kernels were compiled with */
    char kernel_hash[FT_ID_HEX]; /* caller-supplied digest of the kernel code */
    char id[FT_ID_HEX];          /* hex SHA-256 of compiler, flags and kernel hash */
} ft_build;

/* Fingerprints the machine this process runs on from /proc/cpuinfo, sysfs, sysconf and uname.
 * Missing sources leave fields unknown rather than failing. FT_EMULATED=0|1 in the environment
 * overrides emulation detection (qemu-user that shows a plausible /proc/cpuinfo cannot be seen). */
int ft_machine_fingerprint(ft_machine *m, ft_error *err);

/* Fills the CPU fields (vendor, model name, family/model/stepping, ISA, emulated) from the text of
 * a /proc/cpuinfo and the uname machine string; the part of ft_machine_fingerprint that does not
 * touch the running system. Leaves the other fields alone. */
void ft_machine_parse_cpuinfo(ft_machine *m, const char *cpuinfo, const char *uname_machine);

/* Recomputes m->id from the stable fields; call after changing any of them. */
void ft_machine_update_id(ft_machine *m);

/* Fingerprints this build: the compiler that compiled fluidtune, the flags CMake passed
 * (FT_BUILD_FLAGS) and kernel_hash, a caller-computed digest of the kernel code (any text up to
 * 64 characters; FT_ERR_INPUT when longer or empty). */
int ft_build_fingerprint(ft_build *b, const char *kernel_hash, ft_error *err);

/* Recomputes b->id from compiler, flags and kernel_hash. */
void ft_build_update_id(ft_build *b);

#endif
