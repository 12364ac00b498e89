/* sha256.h - SHA-256 (FIPS 180-4), used to bind plans and measurements to the exact model bytes. */
#ifndef FT_SHA256_H
#define FT_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Streaming form, for data that does not sit in one buffer (a model and its external data files). */
typedef struct ft_sha256_ctx {
    uint32_t h[8];
    uint64_t nbytes;    /* total bytes fed so far */
    uint8_t block[64];  /* pending partial block */
    size_t nblock;
} ft_sha256_ctx;

void ft_sha256_init(ft_sha256_ctx *c);
void ft_sha256_update(ft_sha256_ctx *c, const void *data, size_t n);
void ft_sha256_final(ft_sha256_ctx *c, uint8_t digest[32]);

/* One-shot digest of n bytes. */
void ft_sha256(const void *data, size_t n, uint8_t digest[32]);
/* Lower-case hex of a digest into out (65 bytes with the NUL); returns out. */
char *ft_sha256_hex(const uint8_t digest[32], char out[65]);

#endif
