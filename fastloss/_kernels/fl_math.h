/* fl_math.h -- branch-free scalar math for fastloss kernels.
 *
 * Every function here is `static inline`, uses only selects, fma-able arithmetic and
 * integer bit tricks, so gcc -O3 vectorizes the loops that call it (AVX2/AVX-512 via
 * target_clones in fl_kernels.h).  float code stays float (no promotion to double).
 *
 * Primitives (per dtype, suffix _f / _d):
 *   fl_exp_neg(x)   e^x for x <= 0 (the only exp the kernels need: sigmoid, softplus,
 *                   log-sum-exp after subtracting the max ...).  Cody-Waite reduction
 *                   x = k ln2 + r, |r| <= ln2/2, polynomial for e^r (float: degree 6
 *                   minimax, error 7e-9; double: degree 12 Chebyshev, 3e-19), then 2^k applied
 *                   as 2^(k+SH) (exact) and 2^-SH (the one rounding), so results in the
 *                   subnormal range are rounded once and correctly; x clamped below where
 *                   e^x rounds to 0.  fl_exp_neg_parts returns e^x as two factors
 *                   2^(k/2) 2^(k-k/2) instead (x clamped at -150 / -1100), so that a*e^x
 *                   stays right for |a| up to 2^60.  NaN propagates.  Max error < 1 ULP.
 *   fl_expm1_neg(x) e^x - 1 for x <= 0 as 2^k expm1(r) + (2^k - 1): no cancellation
 *                   near 0.  Error <= 1.5 ULP.
 *   fl_log1p(u)     log(1+u) for u >= -1 (fdlibm's scheme: m = 1+u = 2^k f, f in
 *                   [sqrt(2)/2, sqrt(2)), s = (f-1)/(f+1), odd atanh series, plus the
 *                   correction c = (u-(m-1))/m for the rounding of 1+u).  <= 1 ULP.
 *   fl_log(x)       log(x) for x >= 0, subnormals included (pre-scaled by 2^k).
 */
#ifndef FL_MATH_H
#define FL_MATH_H
#include <stdint.h>
#include <string.h>
#include <math.h>

/* Every scalar helper is force-inlined: the block loops only vectorize when the whole
 * formula is visible in them, and gcc's inliner gives up on the larger loops otherwise. */
#if defined(__GNUC__)
#define FL_INLINE static inline __attribute__((always_inline))
#else
#define FL_INLINE static inline
#endif

FL_INLINE float fl_bits2f(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
FL_INLINE int32_t fl_f2bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }
FL_INLINE double fl_bits2d(int64_t i) { double f; memcpy(&f, &i, 8); return f; }
FL_INLINE int64_t fl_d2bits(double f) { int64_t i; memcpy(&i, &f, 8); return i; }

/* The 16 lanes of a row's sums, added as a fixed pairwise tree (lane j with lane j + h for
 * h = 8, 4, 2, 1): the same bits on every call, and 4 dependent vector adds instead of a
 * chain of 16 scalar ones, which was the latency of every row of 100-300 classes.  v is
 * overwritten. */
#define FL_SUM16(v)                                                                      \
    do {                                                                                 \
        for (int j_ = 0; j_ < 8; j_++) (v)[j_] += (v)[j_ + 8];                           \
        for (int j_ = 0; j_ < 4; j_++) (v)[j_] += (v)[j_ + 4];                           \
        for (int j_ = 0; j_ < 2; j_++) (v)[j_] += (v)[j_ + 2];                           \
        (v)[0] += (v)[1];                                                                \
    } while (0)
FL_INLINE double fl_sum16_d(double *v) { FL_SUM16(v); return v[0]; }
FL_INLINE int32_t fl_sum16_i(int32_t *v) { FL_SUM16(v); return v[0]; }
#undef FL_SUM16

/* max of a row of C >= 16 (NaN skipped: a NaN never wins) in 16-lane steps; a last partial
 * step re-reads the row's last 16 (max does not mind elements seen twice), so there is no
 * scalar epilogue: in rows of 129-200 floats it was a fifth of the time of cross_entropy */
#define FL_MAX16_STEP(T, mv, p)                                                          \
    _Pragma("omp simd")                                                                  \
    for (int j_ = 0; j_ < 16; j_++) {                                                    \
        const T v_ = (p)[j_];                                                            \
        mv[j_] = v_ > mv[j_] ? v_ : mv[j_];                                              \
    }
#define FL_ROW_MAX16(T, x, C, out)                                                       \
    do {                                                                                 \
        T mv_[16];                                                                       \
        for (int j_ = 0; j_ < 16; j_++) mv_[j_] = -INFINITY;                             \
        Py_ssize_t o_ = 0;                                                               \
        for (; o_ + 16 <= (C); o_ += 16)                                                 \
            FL_MAX16_STEP(T, mv_, (x) + o_)                                              \
        if (o_ < (C))                                                                    \
            FL_MAX16_STEP(T, mv_, (x) + (C) - 16)                                        \
        for (int h_ = 8; h_ > 0; h_ >>= 1)                                               \
            for (int j_ = 0; j_ < h_; j_++)                                              \
                mv_[j_] = mv_[j_ + h_] > mv_[j_] ? mv_[j_ + h_] : mv_[j_];               \
        (out) = mv_[0];                                                                  \
    } while (0)

FL_INLINE float fl_abs_f(float x) { return fl_bits2f(fl_f2bits(x) & 0x7fffffff); }
FL_INLINE double fl_abs_d(double x) { return fl_bits2d(fl_d2bits(x) & 0x7fffffffffffffffLL); }
FL_INLINE float fl_copysign_f(float y, float x)     /* |y| with x's sign bit */
{
    return fl_bits2f((fl_f2bits(y) & 0x7fffffff) | (fl_f2bits(x) & (int32_t)0x80000000));
}
FL_INLINE double fl_copysign_d(double y, double x)
{
    return fl_bits2d((fl_d2bits(y) & 0x7fffffffffffffffLL) | (fl_d2bits(x) & (int64_t)0x8000000000000000ULL));
}
FL_INLINE float fl_max_f(float a, float b) { return a > b ? a : b; }
FL_INLINE double fl_max_d(double a, double b) { return a > b ? a : b; }
FL_INLINE float fl_min_f(float a, float b) { return a < b ? a : b; }
FL_INLINE double fl_min_d(double a, double b) { return a < b ? a : b; }

/* ---- e^x, x <= 0 ------------------------------------------------------------------ */
#define FL_LN2_HI_F 0.693145751953125f        /* ln2 split: hi has 12 trailing zero bits */
#define FL_LN2_LO_F 1.42860682030941723212e-6f
#define FL_LN2_HI_D 6.93147180369123816490e-01 /* fdlibm's split */
#define FL_LN2_LO_D 1.90821492927058770002e-10

/* e^r for |r| <= ln2/2 as 1 + r + r^2 P(r): fl_expm1_p is P (Horner), fl_expm1_red = (e^r - 1)/r
 * = 1 + r P(r), so e^r = 1 + r fl_expm1_red(r) (one fma) and e^r - 1 = r + r^2 P(r) (one fma, one
 * rounding).  float: degree 5, 1 + r P(r) with P a relative minimax fit in float
 * coefficients (Lawson iterations, each coefficient rounded to float and the lower ones refitted;
 * fit error 2.0e-8, as the degree-6 Taylor polynomial's 1.8e-8, one fma less); double: degree
 * 11, 1 + r P(r), P the degree-10 Chebyshev interpolant of (e^r - 1 - r)/r^2 (mpmath; e^r off by
 * 3.4e-19 relative with the coefficients rounded, as the degree-12 Taylor polynomial's 4e-18,
 * one fma less).  Shared by every exp here and in the kernels (fl_exp_neg_parts, softmax, silu'). */
FL_INLINE float fl_expm1_p_f(float r)          /* P(r) = (e^r - 1 - r)/r^2 */
{
    float p = 0.0013905267f;
    p = p * r + 0.008366832f;
    p = p * r + 0.041666925f;
    p = p * r + 0.1666654f;
    return p * r + 0.5f;
}
FL_INLINE double fl_expm1_p_d(double r)
{
    double p = 2.0914686968086876e-09;
    p = p * r + 2.5105217004720745e-08;
    p = p * r + 2.75572736431103e-07;
    p = p * r + 2.7557255400206422e-06;
    p = p * r + 2.4801587325547743e-05;
    p = p * r + 0.00019841269874820627;
    p = p * r + 0.0013888888888883748;
    p = p * r + 0.008333333333326136;
    p = p * r + 0.04166666666666667;
    p = p * r + 0.1666666666666667;
    return p * r + 0.5;
}
FL_INLINE float fl_expm1_red_f(float r) { return fl_expm1_p_f(r) * r + 1.0f; }
FL_INLINE double fl_expm1_red_d(double r) { return fl_expm1_p_d(r) * r + 1.0; }

/* Cody-Waite: x = k ln2 + r, |r| <= ln2/2, for |x| < 2^22 (float) / 2^51 (double); returns r
 * and *km = k + 1.5*2^p (round to nearest by the magic sum: k sits in km's low mantissa bits). */
FL_INLINE float fl_cw_red_f(float x, float *km_)
{
    float km = x * 1.44269504088896341f + 12582912.0f;   /* 1.5*2^23 + k */
    float kf = km - 12582912.0f;
    float r = x - kf * FL_LN2_HI_F;
    *km_ = km;
    return r - kf * FL_LN2_LO_F;
}
FL_INLINE double fl_cw_red_d(double x, double *km_)
{
    double km = x * 1.44269504088896338700 + 6755399441055744.0;   /* 1.5*2^52 + k */
    double kf = km - 6755399441055744.0;
    double r = x - kf * FL_LN2_HI_D;
    *km_ = km;
    return r - kf * FL_LN2_LO_D;
}
/* 2^(k + sh) from km = k + 1.5*2^p (fl_cw_red's), for k + sh in the normal exponent range:
 * an integer subtract and a left shift (no float -> int conversion, which the AVX2 clones
 * could not vectorize for double) */
FL_INLINE float fl_pow2k_f(float km, int sh)
{
    return fl_bits2f((int32_t)(((uint32_t)fl_f2bits(km) - (uint32_t)(0x4b400000 - 127 - sh)) << 23));
}
FL_INLINE double fl_pow2k_d(double km, int sh)
{
    return fl_bits2d((int64_t)(((uint64_t)fl_d2bits(km)
                                - (uint64_t)(0x4338000000000000LL - 1023 - sh)) << 52));
}
/* Cody-Waite with ln2 rounded to the dtype in one fma: for callers whose error k (ln2 - ln2_T)
 * is damped (tanh: k <= 56, see there) */
FL_INLINE float fl_cw_red1_f(float x, float *km_)
{
    float km = x * 1.44269504088896341f + 12582912.0f;
    *km_ = km;
    return x - (km - 12582912.0f) * 0.693147182f;
}
FL_INLINE double fl_cw_red1_d(double x, double *km_)
{
    double km = x * 1.44269504088896338700 + 6755399441055744.0;
    *km_ = km;
    return x - (km - 6755399441055744.0) * 0.6931471805599453;
}

/* e^r for x = k ln2 + r (Cody-Waite, |r| <= ln2/2): returns e^r, *km = k + 1.5*2^p (k in
 * the low mantissa bits: round to nearest by the magic sum), shared by fl_exp_neg and
 * fl_exp_neg_parts (the callers clamp x first) */
FL_INLINE float fl_exp_red_f(float x, float *km_)
{
    float r = fl_cw_red_f(x, km_);
    return fl_expm1_red_f(r) * r + 1.0f;
}
FL_INLINE double fl_exp_red_d(double x, double *km_)
{
    double r = fl_cw_red_d(x, km_);
    return fl_expm1_red_d(r) * r + 1.0;
}
/* fl_exp_red at x + lo, for a small correction lo (|lo| <= ulp(x), fl_two_diff's residual):
 * lo joins the reduced argument, so e^(x + lo) does not carry the rounding of x, which e^x
 * would multiply by |x| */
FL_INLINE float fl_exp_red_lo_f(float x, float lo, float *km_)
{
    float r = fl_cw_red_f(x, km_) + lo;
    return fl_expm1_red_f(r) * r + 1.0f;
}
FL_INLINE double fl_exp_red_lo_d(double x, double lo, double *km_)
{
    double r = fl_cw_red_d(x, km_) + lo;
    return fl_expm1_red_d(r) * r + 1.0;
}
/* d = x - m rounded, *lo its exact residual: x - m = d + lo (TwoDiff; lo is NaN where x or m
 * is infinite, and d - x or m + bb must not overflow) */
FL_INLINE float fl_two_diff_f(float x, float m, float *lo)
{
    float d = x - m, bb = d - x;
    *lo = (x - (d - bb)) - (m + bb);
    return d;
}
FL_INLINE double fl_two_diff_d(double x, double m, double *lo)
{
    double d = x - m, bb = d - x;
    *lo = (x - (d - bb)) - (m + bb);
    return d;
}
/* The argument of e^(x - m) for x <= m (softmax, cross_entropy): returns dc = x - m clamped
 * below at dmin, *lo its exact residual (for fl_exp_red_lo), *d_out = x - m.  Two variants,
 * the same bits wherever both apply:
 *  - fast (m = -inf or |m| small enough that xl = m + dmin is within a fraction of 1): x is
 *    clamped below at xl, so lo is finite and d == 0 exactly where x == m;
 *  - checked (any m; xl unused): lo guarded (NaN from an infinity, or |d| huge: 0),
 *    d = 0 where x == m (+inf - +inf), d clamped.
 * NaN passes. */
#define FL_EXP_ARG(T, S)                                                                   \
FL_INLINE T fl_exp_arg##S(T x, T m, T xl, T dmin, T *lo, T *d_out, const int fast)         \
{                                                                                          \
    T d;                                                                                   \
    if (fast) {                                                                            \
        x = x < xl ? xl : x;                                                               \
        d = fl_two_diff##S(x, m, lo);                                                      \
        *d_out = d;                                                                        \
        return d;                                                                          \
    }                                                                                      \
    d = fl_two_diff##S(x, m, lo);                                                          \
    *lo = fl_abs##S(*lo) < (T)1 ? *lo : (T)0;                                              \
    d = x == m ? (T)0 : d;                                                                 \
    *d_out = d;                                                                            \
    return d < dmin ? dmin : d;                                                            \
}
FL_EXP_ARG(float, _f)
FL_EXP_ARG(double, _d)
#undef FL_EXP_ARG

/* fl_exp_neg_parts(x, &s2) returns e^x / s2 (a normal number) and the second scale factor
 * s2, so that a*e^x can be formed as (a * parts) * s2 with one rounding into the subnormal
 * range (silu, silu' ...).  fl_exp_neg(x) (below) is e^x itself. */
FL_INLINE float fl_exp_neg_parts_f(float x, float *s2)
{
    x = x < -150.0f ? -150.0f : x;
    float km, p = fl_exp_red_f(x, &km);
    int32_t k = (int32_t)(km - 12582912.0f);
    int32_t k1 = k >> 1, k2 = k - k1;
    *s2 = fl_bits2f((k2 + 127) << 23);
    return p * fl_bits2f((k1 + 127) << 23);
}
/* fl_exp_neg(x) = e^x for x <= 0 with one rounding, also into the subnormal range:
 * p 2^(k+SH) is exact and normal (x is clamped where e^x rounds to 0 anyway), the last
 * multiplication by 2^-SH rounds.  The scale is read from the bits of the rounding sum km
 * (integer subtract and left shift: no conversion, which the AVX2 clones could not
 * vectorize for double).  Same values as parts * s2, with fewer operations. */
FL_INLINE float fl_exp_neg_f(float x)
{
    x = x < -104.0f ? -104.0f : x;                  /* e^-104 < 2^-150: rounds to 0 */
    float km, p = fl_exp_red_f(x, &km);
    return (p * fl_pow2k_f(km, 64)) * 0x1p-64f;                   /* p 2^(k+64) 2^-64 */
}

/* 2^kf for an integer-valued double kf in [-1600, 0], as two factors: *p is multiplied by
 * 2^(k1) and 2^(k2) is returned, k1 = floor(k/2), k2 = k - k1.  No float -> int64 conversion
 * or 64-bit arithmetic shift (AVX2 has neither, and gcc would leave the whole loop scalar in
 * the AVX2 clone): the halving is done in floating point (exact) and the integers are read
 * out of the mantissa of y + 1.5*2^52 + 1023. */
FL_INLINE double fl_scale2_d(double kf, double *p)
{
    double k1f = floor(kf * 0.5), k2f = kf - k1f;
    const double magic = 6755399441055744.0 + 1023.0;
    int64_t b1 = fl_d2bits(k1f + magic) - fl_d2bits(6755399441055744.0);
    int64_t b2 = fl_d2bits(k2f + magic) - fl_d2bits(6755399441055744.0);
    *p = *p * fl_bits2d(b1 << 52);
    return fl_bits2d(b2 << 52);
}

FL_INLINE double fl_exp_neg_parts_d(double x, double *s2)
{
    x = x < -1100.0 ? -1100.0 : x;
    double km, p = fl_exp_red_d(x, &km);
    *s2 = fl_scale2_d(km - 6755399441055744.0, &p);
    return p;
}
FL_INLINE double fl_exp_neg_d(double x)           /* as fl_exp_neg_f */
{
    x = x < -746.0 ? -746.0 : x;                    /* e^-746 < 2^-1075: rounds to 0 */
    double km, p = fl_exp_red_d(x, &km);
    return (p * fl_pow2k_d(km, 128)) * 0x1p-128;                  /* p 2^(k+128) 2^-128 */
}

/* ---- e^x - 1, x <= 0 ---------------------------------------------------------------- */
FL_INLINE float fl_expm1_neg_f(float x)
{
    x = x < -104.0f ? -104.0f : x;
    float kf = x * 1.44269504088896341f + 12582912.0f;
    kf -= 12582912.0f;
    float r = x - kf * FL_LN2_HI_F;
    r = r - kf * FL_LN2_LO_F;
    float p = 1.0f / 40320.0f;                      /* expm1(r) = r + r^2 (1/2 + r/6 ...) */
    p = p * r + 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = r + (r * r) * p;
    int32_t k = (int32_t)kf;
    int32_t k1 = k >> 1, k2 = k - k1;
    float scale = fl_bits2f((k1 + 127) << 23) * fl_bits2f((k2 + 127) << 23);
    return scale * p + (scale - 1.0f);
}

FL_INLINE double fl_expm1_neg_d(double x)
{
    x = x < -746.0 ? -746.0 : x;
    double kf = x * 1.44269504088896338700 + 6755399441055744.0;
    kf -= 6755399441055744.0;
    double r = x - kf * FL_LN2_HI_D;
    r = r - kf * FL_LN2_LO_D;
    double p = 1.0 / 87178291200.0;                /* 1/14! */
    p = p * r + 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = r + (r * r) * p;
    double one = 1.0, s2 = fl_scale2_d(kf, &one), scale = one * s2;
    return scale * p + (scale - 1.0);
}

/* (ix >> 52) - 1023 as a double, for ix >= 0: a logical shift and the magic-number
 * int -> double conversion (AVX2 has neither a 64-bit arithmetic shift nor cvtqq2pd) */
FL_INLINE double fl_exponent_d(int64_t ix)
{
    uint64_t e = (uint64_t)ix >> 52;
    return fl_bits2d((int64_t)(e | 0x4330000000000000ULL)) - (4503599627370496.0 + 1023.0);
}

/* ---- log(1+f) for f in [sqrt(2)/2-1, sqrt(2)-1]: f - f^2/2 + s (f^2/2 + R(s^2)),
 * s = f/(2+f).  s only enters through a term ~f^2/4 of the result, so a few ulp in s cost
 * < 0.1 ulp: fl_log1p forms s and its own correction c from ONE division (divisions are
 * what these loops are bound by). */
FL_INLINE float fl_log1p_core_f(float f, float s)
{
    float z = s * s;
    float R = z * (0.66666666666666666f + z * (0.4f + z * (0.28571428571428571f
              + z * (0.22222222222222222f + z * 0.18181818181818182f))));
    float hfsq = 0.5f * f * f;
    return f - (hfsq - s * (hfsq + R));
}

FL_INLINE double fl_log1p_core_d(double f, double s)
{
    double z = s * s;
    double R = z * (6.666666666666735130e-01 + z * (3.999999999940941908e-01
             + z * (2.857142874366239149e-01 + z * (2.222219843214978396e-01
             + z * (1.818357216161805012e-01 + z * (1.531383769920937332e-01
             + z * 1.479819860511658591e-01))))));   /* fdlibm Lg1..Lg7 */
    double hfsq = 0.5 * f * f;
    return f - (hfsq - s * (hfsq + R));
}

/* split m > 0 (normal) into 2^k * f with f in [sqrt(2)/2, sqrt(2)) */
FL_INLINE float fl_log1p_f(float u)
{
    float m = 1.0f + u;
    float dm = u - (m - 1.0f);                      /* rounding error of 1+u (exact) */
    int32_t ix = fl_f2bits(m) + (0x3f800000 - 0x3f3504f3);
    int32_t k = (ix >> 23) - 127;
    float f = fl_bits2f((ix & 0x007fffff) + 0x3f3504f3) - 1.0f;
    float q = 1.0f / ((2.0f + f) * m);              /* s = f/(2+f), c = dm/m */
    float s = f * m * q, c = dm * (2.0f + f) * q;
    float kf = (float)k;
    float r = kf * FL_LN2_HI_F + (fl_log1p_core_f(f, s) + (c + kf * FL_LN2_LO_F));
    r = u == -1.0f ? -INFINITY : r;
    r = u == INFINITY ? INFINITY : r;
    return r;                                       /* NaN and u < -1 give NaN */
}

FL_INLINE double fl_log1p_d(double u)
{
    double m = 1.0 + u;
    double dm = u - (m - 1.0);
    int64_t ix = fl_d2bits(m) + (0x3ff0000000000000LL - 0x3fe6a09e667f3bcdLL);
    double kf = fl_exponent_d(ix);
    double f = fl_bits2d((ix & 0x000fffffffffffffLL) + 0x3fe6a09e667f3bcdLL) - 1.0;
    double q = 1.0 / ((2.0 + f) * m);
    double s = f * m * q, c = dm * (2.0 + f) * q;
    double r = kf * FL_LN2_HI_D + (fl_log1p_core_d(f, s) + (c + kf * FL_LN2_LO_D));
    r = u == -1.0 ? -INFINITY : r;
    r = u == INFINITY ? INFINITY : r;
    return r;
}

/* log1p(e) for e in [0, 1] (softplus, log_sigmoid: e = exp(-|x|)) without a division:
 * e Q(e), Q(e) = 1 + e P(e), P of degree 8: a relative minimax fit of log1p(e)/e on [0, 1] in
 * float coefficients (fitted as fl_expm1_red_f's; fit error 1.4e-8, max 1.27 ulp in float
 * arithmetic, measured against mpmath).  double uses fl_log1p_d. */
FL_INLINE float fl_log1p_unit_f(float e)
{
    float p = -0.0033722994849085808f;
    p = p * e + 0.020458415150642395f;
    p = p * e + -0.05816710367798805f;
    p = p * e + 0.10734768956899643f;
    p = p * e + -0.15389910340309143f;
    p = p * e + 0.1970852166414261f;
    p = p * e + -0.24961447715759277f;
    p = p * e + 0.33330830931663513f;
    p = p * e + -0.499999463558197f;
    p = p * e + 1.0f;
    return e * p;
}
FL_INLINE double fl_log1p_unit_d(double e) { return fl_log1p_d(e); }

/* log(m) - kadj ln2 for a positive normal m = 2^k (1 + f), f in [sqrt(2)/2 - 1, sqrt(2) - 1] */
FL_INLINE float fl_log_red_f(float m, int32_t kadj)
{
    int32_t ix = fl_f2bits(m) + (0x3f800000 - 0x3f3504f3);
    int32_t k = (ix >> 23) - 127 - kadj;
    float f = fl_bits2f((ix & 0x007fffff) + 0x3f3504f3) - 1.0f;
    float kf = (float)k;
    return kf * FL_LN2_HI_F + (fl_log1p_core_f(f, f / (2.0f + f)) + kf * FL_LN2_LO_F);
}
FL_INLINE double fl_log_red_d(double m, double kadj)
{
    int64_t ix = fl_d2bits(m) + (0x3ff0000000000000LL - 0x3fe6a09e667f3bcdLL);
    double kf = fl_exponent_d(ix) - kadj;
    double f = fl_bits2d((ix & 0x000fffffffffffffLL) + 0x3fe6a09e667f3bcdLL) - 1.0;
    return kf * FL_LN2_HI_D + (fl_log1p_core_d(f, f / (2.0 + f)) + kf * FL_LN2_LO_D);
}
/* log(x) for x >= the smallest normal number, or NaN: fl_log without the checks for
 * subnormal, zero, infinite and negative x (categorical_cross_entropy's clipped y) */
FL_INLINE float fl_log_normal_f(float x) { float r = fl_log_red_f(x, 0); return x != x ? x : r; }
FL_INLINE double fl_log_normal_d(double x) { double r = fl_log_red_d(x, 0.0); return x != x ? x : r; }

/* log(x), x >= 0; subnormal x is scaled by 2^24 / 2^54 first. */
FL_INLINE float fl_log_f(float x)
{
    int sub = x < 1.17549435e-38f;
    float r = fl_log_red_f(sub ? x * 16777216.0f : x, sub ? 24 : 0);
    r = x == 0.0f ? -INFINITY : r;
    r = x == INFINITY ? INFINITY : r;
    r = x < 0.0f ? NAN : r;
    return x != x ? x : r;
}

FL_INLINE double fl_log_d(double x)
{
    int sub = x < 2.2250738585072014e-308;
    double r = fl_log_red_d(sub ? x * 18014398509481984.0 : x, sub ? 54.0 : 0.0);
    r = x == 0.0 ? -INFINITY : r;
    r = x == INFINITY ? INFINITY : r;
    r = x < 0.0 ? NAN : r;
    return x != x ? x : r;
}

#endif
