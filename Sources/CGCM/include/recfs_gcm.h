// recfs_gcm: AES-256-GCM (96-bit nonces, 16-byte tags) on CPUs with AVX2, VAES and
// VPCLMULQDQ (AMD Zen 3 and later, Intel Ice Lake and later): sixteen blocks per step on
// 256-bit registers, the counter-mode AES and the GHASH of each step side by side. Debian's
// OpenSSL 3.0 predates such a path (it runs AES-NI on 128-bit registers). Where the CPU lacks
// the instructions, recfs_gcm_available() is 0 and callers use OpenSSL.
#ifndef RECFS_GCM_H
#define RECFS_GCM_H
#include <stddef.h>
#include <stdint.h>

typedef struct recfs_gcm recfs_gcm;

/// 1 when this CPU (and the kernel's saved state) supports the fast path.
int recfs_gcm_available(void);

/// A key's schedule and GHASH powers; NULL if the CPU lacks the instructions or memory is short.
recfs_gcm *recfs_gcm_new(const uint8_t key[32]);
void recfs_gcm_free(recfs_gcm *gcm);

/// Encrypts `length` bytes of `input` into `output` (which may be `input`), writing the tag.
void recfs_gcm_seal(const recfs_gcm *gcm, const uint8_t nonce[12], const uint8_t *aad, size_t aad_length,
                    const uint8_t *input, size_t length, uint8_t *output, uint8_t tag[16]);

/// Decrypts and authenticates: 1 when the tag matches; 0 otherwise, and then `output` is zeroed.
int recfs_gcm_open(const recfs_gcm *gcm, const uint8_t nonce[12], const uint8_t *aad, size_t aad_length,
                   const uint8_t *input, size_t length, uint8_t *output, const uint8_t tag[16]);

#endif
