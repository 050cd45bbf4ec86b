// AES-256-GCM with VAES and VPCLMULQDQ on 256-bit registers (NIST SP 800-38D).
//
// GHASH works on blocks byte-reversed into 128-bit integers: the coefficient of x^i of a block
// is then bit 127-i ("reflected"). For reflected a and b, the 256-bit carry-less product Z
// stands for x·a·b once read as Σ Z_k x^(255-k), so each key power is kept premultiplied by
// x^-1 and the product needs no shift. Z reduces modulo x^128 + x^7 + x^2 + x + 1 by folding
// its two low 64-bit words upward, each fold one carry-less multiply by 0xC2 << 56 (the
// reflected 1 + x + x^6, since x^128 ≡ 1 + x·(1 + x + x^6)) and one XOR.
//
// The main loop takes sixteen blocks (eight registers of two) per step: counter-mode AES on
// all of them, and their GHASH summed unreduced against H^16..H^1 (Karatsuba: three carry-less
// multiplies per block) and reduced once. Decryption hashes the step's own input, so AES and
// GHASH run side by side; encryption hashes each step's output during the next step.

#include "recfs_gcm.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define FAST __attribute__((target("aes,pclmul,ssse3,sse4.1,avx,avx2,vaes,vpclmulqdq")))
#define STEP 256

struct recfs_gcm {
    __m256i round2[15];     // each round key in both lanes
    __m256i powers[8];      // x^-1·H^i, register j: lane 0 i = 16-2j, lane 1 i = 15-2j
    __m256i halves[8];      // for Karatsuba: each lane's two 64-bit halves XORed, in both words
    __m128i round[15];
    __m128i power1;         // x^-1·H
};

// CPUID traps to the hypervisor in a virtual machine: asked once, then remembered.
static int cpu_has_path(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned aes = 1u << 25, pclmul = 1u << 1, osxsave = 1u << 27, avx = 1u << 28, ssse3 = 1u << 9, sse41 = 1u << 19;
    const unsigned need = aes | pclmul | osxsave | avx | ssse3 | sse41;
    if ((c & need) != need) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    // The kernel saves the SSE and AVX (upper 128-bit) state.
    if ((lo & 0x6) != 0x6) return 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned avx2 = 1u << 5, vaes = 1u << 9, vpclmul = 1u << 10;
    return (b & avx2) == avx2 && (c & (vaes | vpclmul)) == (vaes | vpclmul);
}

int recfs_gcm_available(void) {
    // A race only computes the same answer twice.
    static volatile int known = -1;
    if (known < 0) known = cpu_has_path();
    return known;
}

static inline FAST __m128i reverse(__m128i v) {
    return _mm_shuffle_epi8(v, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

static inline FAST __m256i reverse2(__m256i v) {
    const __m256i order = _mm256_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                          0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm256_shuffle_epi8(v, order);
}

// Z = hi·2^128 ⊕ mi·2^64 ⊕ lo, reduced.
static inline FAST __m128i reduce(__m128i lo, __m128i mi, __m128i hi) {
    const __m128i poly = _mm_set_epi64x(0, (long long)0xC200000000000000ULL);
    mi = _mm_xor_si128(mi, _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4E), _mm_clmulepi64_si128(lo, poly, 0x00)));
    return _mm_xor_si128(hi, _mm_xor_si128(_mm_shuffle_epi32(mi, 0x4E), _mm_clmulepi64_si128(mi, poly, 0x00)));
}

// a·b·x (so a·H when b = x^-1·H).
static inline FAST __m128i multiply(__m128i a, __m128i b) {
    __m128i lo = _mm_clmulepi64_si128(a, b, 0x00);
    __m128i hi = _mm_clmulepi64_si128(a, b, 0x11);
    __m128i mi = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10));
    return reduce(lo, mi, hi);
}

// x^-1·a: a shifted one place toward x^0; a's x^0 term becomes x^-1 = x^127 + x^6 + x + 1.
static FAST __m128i divide_by_x(__m128i a) {
    uint64_t w[2];
    memcpy(w, &a, 16);
    uint64_t top = w[1] >> 63;
    w[1] = (w[1] << 1) | (w[0] >> 63);
    w[0] <<= 1;
    if (top) {
        w[1] ^= 0xC200000000000000ULL;
        w[0] ^= 1;
    }
    __m128i r;
    memcpy(&r, w, 16);
    return r;
}

static inline FAST __m128i fold_lanes(__m256i v) {
    return _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

static inline FAST __m128i encrypt_block(const recfs_gcm *g, __m128i b) {
    b = _mm_xor_si128(b, g->round[0]);
    for (int r = 1; r < 14; r++) b = _mm_aesenc_si128(b, g->round[r]);
    return _mm_aesenclast_si128(b, g->round[14]);
}

static inline FAST __m128i expand_even(__m128i k, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xFF);
    k = _mm_xor_si128(_mm_xor_si128(k, _mm_slli_si128(k, 4)), _mm_xor_si128(_mm_slli_si128(k, 8), _mm_slli_si128(k, 12)));
    return _mm_xor_si128(k, assist);
}

static inline FAST __m128i expand_odd(__m128i k, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xAA);
    k = _mm_xor_si128(_mm_xor_si128(k, _mm_slli_si128(k, 4)), _mm_xor_si128(_mm_slli_si128(k, 8), _mm_slli_si128(k, 12)));
    return _mm_xor_si128(k, assist);
}

#define EVEN(i, rcon) g->round[i] = expand_even(g->round[i - 2], _mm_aeskeygenassist_si128(g->round[i - 1], rcon))
#define ODD(i) g->round[i] = expand_odd(g->round[i - 2], _mm_aeskeygenassist_si128(g->round[i - 1], 0))

static FAST void schedule(recfs_gcm *g, const uint8_t key[32]) {
    g->round[0] = _mm_loadu_si128((const __m128i *)key);
    g->round[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    EVEN(2, 0x01); ODD(3);
    EVEN(4, 0x02); ODD(5);
    EVEN(6, 0x04); ODD(7);
    EVEN(8, 0x08); ODD(9);
    EVEN(10, 0x10); ODD(11);
    EVEN(12, 0x20); ODD(13);
    EVEN(14, 0x40);
    for (int r = 0; r < 15; r++) g->round2[r] = _mm256_broadcastsi128_si256(g->round[r]);

    __m128i h = reverse(encrypt_block(g, _mm_setzero_si128()));
    g->power1 = divide_by_x(h);
    __m128i p[17];
    p[1] = h;
    for (int i = 2; i <= 16; i++) p[i] = multiply(p[i - 1], g->power1);
    for (int j = 0; j < 8; j++) {
        __m128i first = divide_by_x(p[16 - 2 * j]), second = divide_by_x(p[15 - 2 * j]);
        g->powers[j] = _mm256_inserti128_si256(_mm256_castsi128_si256(first), second, 1);
        __m256i v = g->powers[j];
        g->halves[j] = _mm256_xor_si256(v, _mm256_shuffle_epi32(v, 0x4E));
    }
}

recfs_gcm *recfs_gcm_new(const uint8_t key[32]) {
    if (!recfs_gcm_available()) return NULL;
    recfs_gcm *g = aligned_alloc(64, (sizeof(recfs_gcm) + 63) & ~(size_t)63);
    if (!g) return NULL;
    schedule(g, key);
    return g;
}

void recfs_gcm_free(recfs_gcm *g) {
    if (!g) return;
    // The schedule is key material.
    volatile uint8_t *p = (volatile uint8_t *)g;
    for (size_t i = 0; i < sizeof(recfs_gcm); i++) p[i] = 0;
    free(g);
}

// GHASH of whole or zero-padded blocks, one at a time.
static inline FAST __m128i absorb(const recfs_gcm *g, __m128i y, const uint8_t *data, size_t length) {
    while (length >= 16) {
        y = multiply(_mm_xor_si128(y, reverse(_mm_loadu_si128((const __m128i *)data))), g->power1);
        data += 16;
        length -= 16;
    }
    if (length) {
        uint8_t last[16] = {0};
        memcpy(last, data, length);
        y = multiply(_mm_xor_si128(y, reverse(_mm_loadu_si128((const __m128i *)last))), g->power1);
    }
    return y;
}

// GHASH state after sixteen blocks of ciphertext `data` (STEP bytes) from state y.
static inline FAST __m128i hash_step(const recfs_gcm *g, __m128i y, const uint8_t *data) {
    __m256i lo = _mm256_setzero_si256(), mi = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        __m256i h = reverse2(_mm256_loadu_si256((const __m256i *)(data + 32 * j)));
        if (j == 0) h = _mm256_xor_si256(h, _mm256_zextsi128_si256(y));
        lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(h, g->powers[j], 0x00));
        hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(h, g->powers[j], 0x11));
        mi = _mm256_xor_si256(mi, _mm256_clmulepi64_epi128(_mm256_xor_si256(h, _mm256_shuffle_epi32(h, 0x4E)), g->halves[j], 0x00));
    }
    // Karatsuba: the middle product is (a0⊕a1)(b0⊕b1) ⊕ a0b0 ⊕ a1b1.
    __m128i l = fold_lanes(lo), h = fold_lanes(hi);
    __m128i m = _mm_xor_si128(fold_lanes(mi), _mm_xor_si128(l, h));
    return reduce(l, m, h);
}

// Sixteen blocks of counter-mode keystream XORed over `in` into `out`, counters from c (its
// lanes hold the next two counters, byte-reversed so each block counter is a lane's low word).
static inline FAST void ctr_step(const recfs_gcm *g, __m256i c, const uint8_t *in, uint8_t *out) {
    const __m256i two = _mm256_set_epi32(0, 0, 0, 2, 0, 0, 0, 2);
    __m256i b[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        b[j] = _mm256_xor_si256(reverse2(c), g->round2[0]);
        c = _mm256_add_epi32(c, two);
    }
#pragma GCC unroll 13
    for (int r = 1; r < 14; r++) {
        __m256i k = g->round2[r];
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) b[j] = _mm256_aesenc_epi128(b[j], k);
    }
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        b[j] = _mm256_aesenclast_epi128(b[j], g->round2[14]);
        _mm256_storeu_si256((__m256i *)(out + 32 * j), _mm256_xor_si256(b[j], _mm256_loadu_si256((const __m256i *)(in + 32 * j))));
    }
}

// Counter mode from the counter after J0, with the GHASH of the ciphertext (the input when
// decrypting, the output when encrypting); returns the GHASH state after the data.
static inline FAST __m128i crypt(const recfs_gcm *g, __m128i y, __m128i counter, const uint8_t *in, uint8_t *out,
                                 size_t length, int encrypting) {
    const __m256i sixteen = _mm256_set_epi32(0, 0, 0, 16, 0, 0, 0, 16);
    __m256i c = _mm256_add_epi32(_mm256_broadcastsi128_si256(counter), _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0));
    if (encrypting) {
        // Each step's ciphertext is hashed during the next step's AES.
        const uint8_t *pending = NULL;
        while (length >= STEP) {
            ctr_step(g, c, in, out);
            if (pending) y = hash_step(g, y, pending);
            pending = out;
            c = _mm256_add_epi32(c, sixteen);
            in += STEP;
            out += STEP;
            length -= STEP;
        }
        if (pending) y = hash_step(g, y, pending);
    } else {
        while (length >= STEP) {
            // Hash before writing: `out` may be `in`.
            y = hash_step(g, y, in);
            ctr_step(g, c, in, out);
            c = _mm256_add_epi32(c, sixteen);
            in += STEP;
            out += STEP;
            length -= STEP;
        }
    }
    __m128i one = _mm_set_epi32(0, 0, 0, 1);
    __m128i next = _mm256_castsi256_si128(c);
    while (length) {
        size_t n = length < 16 ? length : 16;
        uint8_t block[16] = {0};
        memcpy(block, in, n);
        __m128i x = _mm_loadu_si128((const __m128i *)block);
        __m128i p = _mm_xor_si128(x, encrypt_block(g, reverse(next)));
        next = _mm_add_epi32(next, one);
        _mm_storeu_si128((__m128i *)block, p);
        memcpy(out, block, n);
        // The ciphertext block, zero-padded.
        if (encrypting) {
            memset(block + n, 0, 16 - n);
            x = _mm_loadu_si128((const __m128i *)block);
        }
        y = multiply(_mm_xor_si128(y, reverse(x)), g->power1);
        in += n;
        out += n;
        length -= n;
    }
    return y;
}

static inline FAST __m128i tag_of(const recfs_gcm *g, __m128i y, __m128i j0, size_t aad_length, size_t length) {
    __m128i lengths = _mm_set_epi64x((long long)((uint64_t)aad_length * 8), (long long)((uint64_t)length * 8));
    y = multiply(_mm_xor_si128(y, lengths), g->power1);
    return _mm_xor_si128(reverse(y), encrypt_block(g, reverse(j0)));
}

static inline FAST __m128i first_counter(const uint8_t nonce[12]) {
    uint8_t j0[16];
    memcpy(j0, nonce, 12);
    j0[12] = 0; j0[13] = 0; j0[14] = 0; j0[15] = 1;
    return reverse(_mm_loadu_si128((const __m128i *)j0));
}

FAST void recfs_gcm_seal(const recfs_gcm *g, const uint8_t nonce[12], const uint8_t *aad, size_t aad_length,
                         const uint8_t *input, size_t length, uint8_t *output, uint8_t tag[16]) {
    __m128i j0 = first_counter(nonce);
    __m128i y = absorb(g, _mm_setzero_si128(), aad, aad_length);
    y = crypt(g, y, _mm_add_epi32(j0, _mm_set_epi32(0, 0, 0, 1)), input, output, length, 1);
    _mm_storeu_si128((__m128i *)tag, tag_of(g, y, j0, aad_length, length));
}

FAST int recfs_gcm_open(const recfs_gcm *g, const uint8_t nonce[12], const uint8_t *aad, size_t aad_length,
                        const uint8_t *input, size_t length, uint8_t *output, const uint8_t tag[16]) {
    __m128i j0 = first_counter(nonce);
    __m128i y = absorb(g, _mm_setzero_si128(), aad, aad_length);
    y = crypt(g, y, _mm_add_epi32(j0, _mm_set_epi32(0, 0, 0, 1)), input, output, length, 0);
    __m128i difference = _mm_xor_si128(tag_of(g, y, j0, aad_length, length), _mm_loadu_si128((const __m128i *)tag));
    if (_mm_testz_si128(difference, difference)) return 1;
    if (length) memset(output, 0, length);
    return 0;
}
