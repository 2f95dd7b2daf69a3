/* fl_gather.h -- the transposes of the short-row paths (softmax family, cross-entropy) with
 * AVX-512 gathers, where the CPU has them.
 *
 * Short rows (FL_SHORT_ROW_BYTES) are processed with SIMD across the rows: `rows` rows of x
 * (row j at x + j * C) are transposed into a class-major buffer (class k of row j at
 * buf[k * S + j]) and results transposed back.  gcc vectorizes neither direction (a scalar
 * load and store per element, ~3 ns per row of 10 floats here); a 16-lane gather per class
 * does the same in ~1 ns (measured on a Sapphire Rapids guest, 16 rows x 10 classes: 15.7
 * against 48.7 ns).  gcc 12 emits no gathers from C (its generic tuning avoids them), hence
 * these few intrinsics, compiled for AVX-512F only and called where fl_gather_ready(C) says
 * the CPU has it and the row length gains; everything else keeps the portable transposes.
 * Pure data movement: the results are bitwise those of the scalar transposes
 * (tests/test_gathers.py).
 *
 * fl_gather_in_S(buf, S, x, C, rows):  buf[k * S + j] = x[j * C + k], j < rows, k < C
 * fl_gather_out_S(y, buf, S, C, rows): y[j * C + k] = buf[k * S + j], the same
 * rows: a multiple of 16; S: the buffer's lane stride (>= rows); C * rows < 2^31.
 */
#ifndef FL_GATHER_H
#define FL_GATHER_H
#include <Python.h>
#include <stdint.h>

/* Rows of at most this many bytes (128 floats, 64 doubles) take the transposed short-row
 * paths: a chunk of 64 rows then fits a 32 KiB buffer (L1).  Measured on rows of 33-128
 * floats: 0.6-0.7 ns per element there against 1.1-2.5 ns one row at a time; doubles of
 * 65-128 classes were faster one row at a time. */
#define FL_SHORT_ROW_BYTES 512

/* 0 disables the gathers in this extension module (tests compare both paths) */
static int fl_gather_on = 1;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define FL_AVX512 __attribute__((target("avx512f"), unused))

/* whether rows of C classes take the gathers: not where gcc vectorizes the constant-C
 * transposes itself (C = 1, 2, 3, 4, 8, 16: shuffles, measured faster than gathers) */
static inline int fl_gather_ready(Py_ssize_t C)
{
    return fl_gather_on && C > 4 && C != 8 && C != 16 && __builtin_cpu_supports("avx512f");
}

/* the gather indices of output vector o: position p = 16 o + i of the rows * C block is
 * row p / C, class p % C, at buf[(p % C) * S + p / C]; (kv, jv) advance by 16 positions */
#define FL_GATHER_OUT_LOOP(STORE)                                                         \
    const __m512i cv = _mm512_set1_epi32((int)C), one = _mm512_set1_epi32(1);             \
    const __m512i sv = _mm512_set1_epi32((int)S);                                         \
    const __m512i dk = _mm512_set1_epi32((int)(16 % C)), dj = _mm512_set1_epi32((int)(16 / C)); \
    __m512i p = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);    \
    __m512i jv = _mm512_setzero_si512(), kv = p;                                          \
    for (int i = 0; i < 16; i++) {    /* p / C and p % C for p < 16 */                    \
        __mmask16 ge = _mm512_cmpge_epi32_mask(kv, cv);                                   \
        kv = _mm512_mask_sub_epi32(kv, ge, kv, cv);                                       \
        jv = _mm512_mask_add_epi32(jv, ge, jv, one);                                      \
    }                                                                                     \
    const Py_ssize_t nout = rows * C / 16;                                                \
    for (Py_ssize_t o = 0; o < nout; o++) {                                               \
        __m512i idx = _mm512_add_epi32(_mm512_mullo_epi32(kv, sv), jv);                   \
        STORE;                                                                            \
        kv = _mm512_add_epi32(kv, dk);                                                    \
        jv = _mm512_add_epi32(jv, dj);                                                    \
        __mmask16 ge = _mm512_cmpge_epi32_mask(kv, cv);                                   \
        kv = _mm512_mask_sub_epi32(kv, ge, kv, cv);                                       \
        jv = _mm512_mask_add_epi32(jv, ge, jv, one);                                      \
    }

FL_AVX512 static void fl_gather_in_f(float *buf, Py_ssize_t S, const float *x, Py_ssize_t C,
                                     Py_ssize_t rows)
{
    const __m512i idx = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)C));
    for (Py_ssize_t j = 0; j < rows; j += 16)
        for (Py_ssize_t k = 0; k < C; k++)
            _mm512_storeu_ps(buf + k * S + j, _mm512_i32gather_ps(idx, x + j * C + k, 4));
}
FL_AVX512 static void fl_gather_in_d(double *buf, Py_ssize_t S, const double *x, Py_ssize_t C,
                                     Py_ssize_t rows)
{
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm256_set1_epi32((int)C));
    for (Py_ssize_t j = 0; j < rows; j += 8)
        for (Py_ssize_t k = 0; k < C; k++)
            _mm512_storeu_pd(buf + k * S + j, _mm512_i32gather_pd(idx, x + j * C + k, 8));
}
FL_AVX512 static void fl_gather_out_f(float *y, const float *buf, Py_ssize_t S, Py_ssize_t C,
                                      Py_ssize_t rows)
{
    FL_GATHER_OUT_LOOP(_mm512_storeu_ps(y + 16 * o, _mm512_i32gather_ps(idx, buf, 4)))
}
FL_AVX512 static void fl_gather_out_d(double *y, const double *buf, Py_ssize_t S, Py_ssize_t C,
                                      Py_ssize_t rows)
{
    FL_GATHER_OUT_LOOP(
        _mm512_storeu_pd(y + 16 * o, _mm512_i32gather_pd(_mm512_castsi512_si256(idx), buf, 8));
        _mm512_storeu_pd(y + 16 * o + 8,
                         _mm512_i32gather_pd(_mm512_extracti64x4_epi64(idx, 1), buf, 8)))
}
#undef FL_GATHER_OUT_LOOP
#else
static inline int fl_gather_ready(Py_ssize_t C) { (void)C; return 0; }
static inline void fl_gather_in_f(float *b, Py_ssize_t S, const float *x, Py_ssize_t C,
                                  Py_ssize_t r) { (void)b; (void)S; (void)x; (void)C; (void)r; }
static inline void fl_gather_in_d(double *b, Py_ssize_t S, const double *x, Py_ssize_t C,
                                  Py_ssize_t r) { (void)b; (void)S; (void)x; (void)C; (void)r; }
static inline void fl_gather_out_f(float *y, const float *b, Py_ssize_t S, Py_ssize_t C,
                                   Py_ssize_t r) { (void)y; (void)b; (void)S; (void)C; (void)r; }
static inline void fl_gather_out_d(double *y, const double *b, Py_ssize_t S, Py_ssize_t C,
                                   Py_ssize_t r) { (void)y; (void)b; (void)S; (void)C; (void)r; }
#endif
#endif
