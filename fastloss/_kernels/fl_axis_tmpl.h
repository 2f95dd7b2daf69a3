/* Kernels along one axis of an array viewed as (outer, C, inner), C-contiguous.
 *
 * softmax family, mode FL_SOFTMAX / FL_LOG_SOFTMAX / FL_SOFTMAX_GRAD / FL_LOG_SOFTMAX_GRAD.
 * With m = max_k x_k, d_k = x_k - m (taken as 0 where x_k == m, so one +inf logit gives the
 * limit [1, 0, ...]), e_k = exp(d_k), sum = sum_k e_k = cnt + s1 (cnt = #{d_k == 0},
 * s1 = sum of the other e_k):
 *     softmax_k      = e_k / sum
 *     log_softmax_k  = d_k - log1p(cnt - 1 + s1)     (the dominant class keeps its digits)
 *     softmax_grad_k = y_k (g_k - sum_j g_j y_j),  log_softmax_grad_k = g_k - y_k sum_j g_j
 * Numerics:
 * - d_k is rounded, and exp multiplies that rounding by |d_k|: the exact residual of the
 *   subtraction (TwoDiff) is added to exp's reduced argument.
 * - exp gives E_k = 2^S e_k (S = FL_SM_S: 40 for float, 64 for double).  Every E_k that is
 *   not 0 is then a normal number made with ONE factor 2^(k+S), and y_k = E_k / (2^S sum)
 *   is rounded once, also where it is subnormal.  e_k is exactly 0 below FL_SM_MIN (where
 *   y_k rounds to 0 anyway), so masked (-inf) logits add nothing to the sums.
 * - sums kept in explicit lanes (fixed order for a build), compensated: float terms by
 *   Fast2Sum against an accumulator that starts at 2^S (FL_SM_ADD), log_softmax's s1 and the
 *   gradients' dot products in double; double terms by TwoSum (a plain double sum was off by
 *   up to 11 ulp at 33000 classes).
 * - y_k = E_k rh + E_k rl with rh + rl = 1/sum (one rounding instead of two).
 * A row of all -inf (no limit exists) gives NaN, as does a NaN anywhere in the row.
 *
 * Layouts: rows (inner == 1) longer than FL_SHORT_ROW_BYTES are done one at a time, SIMD along
 * the row (fl_softmax_rows).  Shorter rows are transposed FL_AXIS_CHUNK at a time into a
 * class-major buffer and done with SIMD across the rows (fl_softmax_short); classes strided
 * by `inner` are done in groups of up to FL_AXIS_CHUNK neighbouring lines in place
 * (fl_softmax_strided).  Both use fl_sm_lanes, where every line is computed by the same
 * arithmetic in the same order whatever lane it lands in: results do not depend on the
 * thread count (lines are never split between threads, chunk boundaries move with it).
 * A "line" is one (outer, inner) position; the kernels process lines [l0, l1).
 */
#ifndef FL_AXIS_ONCE
#define FL_AXIS_ONCE
#define FL_AXIS_CHUNK 64    /* lines per chunk of the lane kernel */
/* row lengths with their own transposes (inlined with a constant C: shuffles, not gathers) */
#define FL_AXIS_TR_CASES FL_AXIS_TR(1) FL_AXIS_TR(2) FL_AXIS_TR(3) FL_AXIS_TR(4) FL_AXIS_TR(5) \
    FL_AXIS_TR(6) FL_AXIS_TR(7) FL_AXIS_TR(8) FL_AXIS_TR(9) FL_AXIS_TR(10) FL_AXIS_TR(11)      \
    FL_AXIS_TR(12) FL_AXIS_TR(13) FL_AXIS_TR(14) FL_AXIS_TR(15) FL_AXIS_TR(16) FL_AXIS_TR(20)  \
    FL_AXIS_TR(24) FL_AXIS_TR(32)
#if defined(__GNUC__)
#define FL_ALIGN64 __attribute__((aligned(64)))
#define FL_SM_PF(p) __builtin_prefetch((p), 0, 3)
#else
#define FL_ALIGN64
#define FL_SM_PF(p) ((void)0)
#endif
#endif

#if FL_T_IS_FLOAT
#define FL_SM_S 40                       /* E = 2^S e */
/* clamp of d: exp's 2^(k+S) has exponent field 0 there, so E = +0 below (e < 2^-166) */
#define FL_SM_MIN (-115.9f)              /* -(127 + S + 0.2) ln2 */
#define FL_SM_BIG 1048576.0f             /* |m| <= 2^20: m + FL_SM_MIN is within 2^-4 */
#define FL_SM_INV2S 9.094947017729282e-13    /* 2^-40 */
#define FL_SM_CNT_T int32_t               /* counts of d == 0, same lane width as T */
/* (s, c) += e, Fast2Sum: s starts at FL_SM_B = 2^S >= every e, so the rounding error of
 * s + e is exactly e - (t - s); c collects it (its own rounding is second order).  The
 * sum is (s - B) + c, in double.  (Float only: as cheap as a float sum, exact like a
 * double one without converting every term.) */
#define FL_SM_ACC_T float
#define FL_SM_B 1099511627776.0f
#define FL_SM_ADD(s, c, e) do { float t_ = (s) + (e); (c) += (e) - (t_ - (s)); (s) = t_; } while (0)
/* log_softmax's s1 (without the maxima) may be far below B: summed in double (a) instead */
#define FL_SM_ADD_LOG(s, c, a, e) ((a) += (double)(e))
#else
#define FL_SM_S 64
#define FL_SM_MIN (-753.6)               /* -(1023 + S + 0.2) ln2: E = +0 below */
#define FL_SM_BIG 1099511627776.0        /* 2^40 */
#define FL_SM_INV2S 5.421010862427522e-20    /* 2^-64 */
#define FL_SM_CNT_T int64_t
/* (s, c) += e with the rounding error of s + e (TwoSum) collected in c */
#define FL_SM_ACC_T double
#define FL_SM_B 0.0
#define FL_SM_ADD(s, c, e) do { double t_ = (s) + (e), z_ = t_ - (s);                    \
                                (c) += ((s) - (t_ - z_)) + ((e) - z_); (s) = t_; } while (0)
#define FL_SM_ADD_LOG(s, c, a, e) FL_SM_ADD(s, c, e)
#endif

/* 2^S exp(x - m) for x <= m, with the rounding of x - m corrected (its exact residual lo,
 * TwoDiff, goes into the reduced argument); *d_out = x - m.  E = +0 where x - m is below
 * FL_SM_MIN (x = -inf included): the clamp makes the factor 2^(k+S) exactly 0.  NaN passes.
 * The fast and checked variants are fl_exp_arg's (fast for m = -inf or |m| <= FL_SM_BIG,
 * xl = m + FL_SM_MIN). */
FL_INLINE T FN(fl_sm_exp)(T x, T m, T xl, T *d_out, const int fast)
{
    T lo, km, dc = FN(fl_exp_arg)(x, m, xl, FL_SM_MIN, &lo, d_out, fast);
    return FN(fl_exp_red_lo)(dc, lo, &km) * FN(fl_pow2k)(km, FL_SM_S);
}

/* a count (0 <= n < 2^52) as a double, without an int64 -> double conversion (AVX2 has
 * none: the loop would stay scalar) */
FL_INLINE double FN(fl_sm_cnt)(FL_SM_CNT_T n)
{
#if FL_T_IS_FLOAT
    return (double)n;
#else
    return fl_bits2d(n | 0x4330000000000000LL) - 4503599627370496.0;
#endif
}

/* the sum of an accumulator pair (see FL_SM_ADD) as hi + lo, scaled by 2^S */
FL_INLINE double FN(fl_sm_total)(FL_SM_ACC_T s, FL_SM_ACC_T c, double *lo)
{
#if FL_T_IS_FLOAT
    *lo = 0.0;
    return ((double)s - (double)FL_SM_B) + (double)c;
#else
    const double hi = s + c;
    *lo = c - (hi - s);
    return hi;
#endif
}

/* log_softmax's s1 (scaled by 2^S) from the accumulators of FL_SM_ADD_LOG */
FL_INLINE double FN(fl_sm_total_log)(FL_SM_ACC_T s, FL_SM_ACC_T c, double a)
{
#if FL_T_IS_FLOAT
    return a;
#else
    double lo, hi = FN(fl_sm_total)(s, c, &lo);
    return hi + lo;
#endif
}

/* 1/sum as rh + rl (sum = hi + lo, scaled by 2^S) */
FL_INLINE void FN(fl_sm_recip)(double hi, double lo, T *rh, T *rl)
{
    const double rd = 1.0 / hi;
#if FL_T_IS_FLOAT
    *rh = (T)rd;
    *rl = (T)(rd - (double)*rh);
    (void)lo;
#else
    *rh = rd;
    *rl = ((1.0 - rd * hi) - rd * lo) * rd;
#endif
}

/* E rh + E rl, the rh product contracted into the fma (written first) */
FL_INLINE T FN(fl_sm_scale)(T E, T rh, T rl)
{
    T p = E * rh;
    T q = E * rl;
    return p + q;
}

/* The exp pass over lanes (of lines, or of a double row), written once for the kernels:
 * S, CC, A, CNT are per-lane accumulators (explicit arrays: no `omp simd reduction`, whose
 * lanes would be added up without compensation).
 * E_k -> Y and the sums (softmax modes), or the sums alone (log_softmax).  OUTER is an
 * optional loop around the SIMD loop FL_SM_FOR(I) (defined by the user), PF
 * a statement before the SIMD loop (a prefetch); LOGY: log_softmax stores d_k -> Y. */
#define FL_SM_EXP_PASS(OUTER, I, X, G, Y, M, XL, S, CC, A, CNT, FAST, LOGY, PF)            \
    if (mode == FL_LOG_SOFTMAX) {                                                           \
        OUTER {                                                                             \
            PF;                                                                             \
            _Pragma("omp simd")                                                             \
            FL_SM_FOR(I) {                                                                  \
                T d_, e_ = FN(fl_sm_exp)(X, M, XL, &d_, FAST);                              \
                e_ = d_ == ZERO ? ZERO : e_;                                                \
                FL_SM_ADD_LOG(S, CC, A, e_);                                                \
                CNT += d_ == ZERO;                                                          \
                if (LOGY) Y = (FAST) ? (X) - (M) : d_;                                      \
            }                                                                               \
        }                                                                                   \
    } else if (mode == FL_SOFTMAX) {                                                        \
        OUTER {                                                                             \
            PF;                                                                             \
            _Pragma("omp simd")                                                             \
            FL_SM_FOR(I) {                                                                  \
                T d_, e_ = FN(fl_sm_exp)(X, M, XL, &d_, FAST);                              \
                FL_SM_ADD(S, CC, e_);                                                       \
                Y = e_;                                                                     \
            }                                                                               \
        }                                                                                   \
    } else if (mode == FL_SOFTMAX_GRAD) {                                                   \
        OUTER {                                                                             \
            PF;                                                                             \
            _Pragma("omp simd")                                                             \
            FL_SM_FOR(I) {                                                                  \
                T d_, e_ = FN(fl_sm_exp)(X, M, XL, &d_, FAST);                              \
                FL_SM_ADD(S, CC, e_);                                                       \
                A += (double)(G) * (double)e_;                                              \
                Y = e_;                                                                     \
            }                                                                               \
        }                                                                                   \
    } else {                                                                                \
        OUTER {                                                                             \
            PF;                                                                             \
            _Pragma("omp simd")                                                             \
            FL_SM_FOR(I) {                                                                  \
                T d_, e_ = FN(fl_sm_exp)(X, M, XL, &d_, FAST);                              \
                FL_SM_ADD(S, CC, e_);                                                       \
                A += (double)(G);                                                           \
                Y = e_;                                                                     \
            }                                                                               \
        }                                                                                   \
    }
#define FL_SM_NO_OUTER

/* w lines at once, SIMD across the lines: class k of line j is x[k * cs + j] (g, y alike;
 * y may be x: each element is read before it is written).  Each line is reduced over k in
 * order within its own lane, so its result does not depend on j or w. */
FL_INLINE void FN(fl_sm_lanes)(const T *x, const T *g, T *y, Py_ssize_t cs, Py_ssize_t w,
                               Py_ssize_t C, int mode)
{
    T m[FL_AXIS_CHUNK] FL_ALIGN64, rh[FL_AXIS_CHUNK] FL_ALIGN64, rl[FL_AXIS_CHUNK] FL_ALIGN64;
    FL_SM_ACC_T s[FL_AXIS_CHUNK] FL_ALIGN64, c[FL_AXIS_CHUNK] FL_ALIGN64;
    double a[FL_AXIS_CHUNK] FL_ALIGN64;
    FL_SM_CNT_T cnt[FL_AXIS_CHUNK] FL_ALIGN64;
    int slow = 0;
    #pragma omp simd
    for (Py_ssize_t j = 0; j < w; j++) {
        m[j] = -INFINITY; s[j] = FL_SM_B; c[j] = 0; a[j] = 0.0; cnt[j] = 0;
    }
    for (Py_ssize_t k = 0; k < C; k++) {
        #pragma omp simd
        for (Py_ssize_t j = 0; j < w; j++) { T v = x[k * cs + j]; m[j] = v > m[j] ? v : m[j]; }
    }
    /* one line that needs the checked exp makes the whole group take it (same bits) */
    #pragma omp simd reduction(|:slow)
    for (Py_ssize_t j = 0; j < w; j++) {
        slow |= !(FN(fl_abs)(m[j]) <= FL_SM_BIG || m[j] == -INFINITY);
        rh[j] = m[j] + FL_SM_MIN;                 /* xl */
    }
#define FL_SM_FOR(I) for (Py_ssize_t I = 0; I < w; I++)
#define FL_SM_OVER_K for (Py_ssize_t k = 0; k < C; k++)
    if (slow) {
        FL_SM_EXP_PASS(FL_SM_OVER_K, j, x[k * cs + j], g[k * cs + j], y[k * cs + j], m[j], rh[j],
                       s[j], c[j], a[j], cnt[j], 0, 0, (void)0)
    } else {
        FL_SM_EXP_PASS(FL_SM_OVER_K, j, x[k * cs + j], g[k * cs + j], y[k * cs + j], m[j], rh[j],
                       s[j], c[j], a[j], cnt[j], 1, 0, (void)0)
    }
#undef FL_SM_OVER_K
#undef FL_SM_FOR
    if (mode == FL_LOG_SOFTMAX) {
        #pragma omp simd
        for (Py_ssize_t j = 0; j < w; j++) {
            const double s1 = FN(fl_sm_total_log)(s[j], c[j], a[j]);
            rh[j] = (T)(m[j] == -INFINITY ? NAN
                        : fl_log1p_d(FN(fl_sm_cnt)(cnt[j]) - 1.0 + s1 * FL_SM_INV2S));
        }
        /* d_k - L: d_k <= 0 <= L, no cancellation, so the dtype itself is enough */
        for (Py_ssize_t k = 0; k < C; k++) {
            #pragma omp simd
            for (Py_ssize_t j = 0; j < w; j++) {
                T v = x[k * cs + j];
                y[k * cs + j] = v == m[j] ? -rh[j] : (v - m[j]) - rh[j];
            }
        }
        return;
    }
    #pragma omp simd
    for (Py_ssize_t j = 0; j < w; j++) {
        T h, l;
        double lo, hi = FN(fl_sm_total)(s[j], c[j], &lo);
        FN(fl_sm_recip)(hi, lo, &h, &l);
        const int dead = m[j] == -INFINITY;
        rh[j] = dead ? (T)NAN : h;
        rl[j] = dead ? (T)NAN : l;
        /* softmax_grad: sum_j g_j y_j = (sum_j g_j E_j) / (2^S sum) */
        m[j] = mode == FL_SOFTMAX_GRAD ? (T)(a[j] / hi) : (T)a[j];
    }
    for (Py_ssize_t k = 0; k < C; k++) {
        if (mode == FL_SOFTMAX) {
            #pragma omp simd
            for (Py_ssize_t j = 0; j < w; j++)
                y[k * cs + j] = FN(fl_sm_scale)(y[k * cs + j], rh[j], rl[j]);
        } else if (mode == FL_SOFTMAX_GRAD) {
            #pragma omp simd
            for (Py_ssize_t j = 0; j < w; j++)
                y[k * cs + j] = FN(fl_sm_scale)(y[k * cs + j], rh[j], rl[j])
                                * (g[k * cs + j] - m[j]);
        } else {
            #pragma omp simd
            for (Py_ssize_t j = 0; j < w; j++)
                y[k * cs + j] = g[k * cs + j]
                                - FN(fl_sm_scale)(y[k * cs + j], rh[j], rl[j]) * m[j];
        }
    }
}

#if FL_T_IS_FLOAT
/* The exp pass of one float row in 16 lanes: blocks of 64 classes (4 terms per lane), then
 * the last C % 64 16 at a time.  Sums per lane: (sl, cl) by Fast2Sum (FL_SM_ADD), al in
 * double: log_softmax's s1 (exact), or the gradients' g_k E_k or g_k (float partials);
 * nl counts d == 0.  log_softmax stores d_k in y for the last pass; the others E_k. */
#define FL_SM_TERM(K, e, dd)                                                                \
    T dd, e = FN(fl_sm_exp)(x[K], m, xl, &dd, fast);                                        \
    if (mode == FL_LOG_SOFTMAX) {                                                           \
        e = dd == ZERO ? ZERO : e;                                                          \
        nl[j] += dd == ZERO;                                                                \
        y[K] = fast ? x[K] - m : dd;                                                        \
    } else {                                                                                \
        y[K] = e;                                                                           \
        FL_SM_ADD(sl[j], cl[j], e);                                                         \
    }
FL_INLINE void FN(fl_sm_row_f)(const T *x, const T *g, T *y, const T *pf, Py_ssize_t C,
                               T m, T xl, float *sl, float *cl, double *al, int32_t *nl,
                               const int mode, const int fast)
{
    const Py_ssize_t C64 = C - C % 64;
    for (Py_ssize_t o = 0; o < C64; o += 64) {
        FL_SM_PF(pf + o); FL_SM_PF(pf + o + 16); FL_SM_PF(pf + o + 32); FL_SM_PF(pf + o + 48);
        #pragma omp simd
        for (int j = 0; j < 16; j++) {
            FL_SM_TERM(o + j, e0, d0)
            FL_SM_TERM(o + 16 + j, e1, d1)
            FL_SM_TERM(o + 32 + j, e2, d2)
            FL_SM_TERM(o + 48 + j, e3, d3)
            if (mode == FL_LOG_SOFTMAX)
                al[j] += ((double)e0 + (double)e1) + ((double)e2 + (double)e3);
            else if (mode == FL_SOFTMAX_GRAD)
                al[j] += (double)((g[o + j] * e0 + g[o + 16 + j] * e1)
                                  + (g[o + 32 + j] * e2 + g[o + 48 + j] * e3));
            else if (mode == FL_LOG_SOFTMAX_GRAD)
                al[j] += (double)((g[o + j] + g[o + 16 + j]) + (g[o + 32 + j] + g[o + 48 + j]));
        }
    }
    for (Py_ssize_t o = C64; o < C; o += 16) {
        const int n = C - o < 16 ? (int)(C - o) : 16;
        #pragma omp simd
        for (int j = 0; j < n; j++) {
            FL_SM_TERM(o + j, e0, d0)
            if (mode == FL_LOG_SOFTMAX) al[j] += (double)e0;
            else if (mode == FL_SOFTMAX_GRAD) al[j] += (double)g[o + j] * (double)e0;
            else if (mode == FL_LOG_SOFTMAX_GRAD) al[j] += (double)g[o + j];
        }
    }
}
#undef FL_SM_TERM
#endif

/* rows [l0, l1) of length C (inner == 1), one at a time, SIMD along the row */
FL_CLONES static void FN(fl_softmax_rows)(const void *xv, const void *gv, void *yv,
                                          Py_ssize_t C, Py_ssize_t l0, Py_ssize_t l1, int mode)
{
    /* the sums are kept in explicit lanes (16 float, 8 double): vectorized, in an order
     * fixed by the source (rows are never split between threads) */
    for (Py_ssize_t r = l0; r < l1; r++) {
        const T *x = (const T *)xv + r * C;
        const T *g = gv ? (const T *)gv + r * C : NULL;
        T *y = (T *)yv + r * C;
        /* the next row, prefetched during this row's exp pass (this row again for the last:
         * no pointer past the array) */
        const T *pf = r + 1 < l1 ? x + C : x;
        T m;
        FL_ROW_MAX16(T, x, C, m);                       /* C > 16 here */
        double hi = 0.0, lo = 0.0, a = 0.0;
        FL_SM_CNT_T cnt = 0;
        const T xl = m + FL_SM_MIN;
        const int fast = FN(fl_abs)(m) <= FL_SM_BIG || m == -INFINITY;
#if FL_T_IS_FLOAT
        float sl[16] FL_ALIGN64, cl[16] FL_ALIGN64;
        double al[16] FL_ALIGN64 = {0};
        int32_t nl[16] FL_ALIGN64 = {0};
        for (int j = 0; j < 16; j++) { sl[j] = FL_SM_B; cl[j] = 0.0f; }
        switch (mode * 2 + fast) {
#define FL_SM_CASE(md, fs) case md * 2 + fs:                                                   \
            FN(fl_sm_row_f)(x, g, y, pf, C, m, xl, sl, cl, al, nl, md, fs); break;
        FL_SM_CASE(0, 0) FL_SM_CASE(0, 1) FL_SM_CASE(1, 0) FL_SM_CASE(1, 1)
        FL_SM_CASE(2, 0) FL_SM_CASE(2, 1) FL_SM_CASE(3, 0) FL_SM_CASE(3, 1)
#undef FL_SM_CASE
        }
        double tl[16] FL_ALIGN64, l;
        for (int j = 0; j < 16; j++)      /* exact terms: a double sum will do */
            tl[j] = FN(fl_sm_total)(sl[j], cl[j], &l);
        hi = fl_sum16_d(tl);
        a = fl_sum16_d(al);
        cnt = fl_sum16_i(nl);
        if (mode == FL_LOG_SOFTMAX) hi = a;             /* s1 */
#else
        /* double: the row as 8 lanes, TwoSum-compensated, the lanes combined likewise */
        double sl[8] FL_ALIGN64 = {0}, cl[8] FL_ALIGN64 = {0}, al[8] FL_ALIGN64 = {0};
        int64_t nl[8] FL_ALIGN64 = {0};
        const Py_ssize_t C8 = C - C % 8;
#define FL_SM_FOR(I) for (Py_ssize_t I = 0; I < 8; I++)
#define FL_SM_OVER_K for (Py_ssize_t k0 = 0; k0 < C8; k0 += 8)
        if (fast) {
            FL_SM_EXP_PASS(FL_SM_OVER_K, j, x[k0 + j], g[k0 + j], y[k0 + j], m, xl,
                           sl[j], cl[j], al[j], nl[j], 1, 1, FL_SM_PF(pf + k0))
        } else {
            FL_SM_EXP_PASS(FL_SM_OVER_K, j, x[k0 + j], g[k0 + j], y[k0 + j], m, xl,
                           sl[j], cl[j], al[j], nl[j], 0, 1, FL_SM_PF(pf + k0))
        }
#undef FL_SM_FOR
#undef FL_SM_OVER_K
#define FL_SM_FOR(I) for (Py_ssize_t I = 0; I < C - C8; I++)
        if (fast) {     /* the last C % 8 */
            FL_SM_EXP_PASS(FL_SM_NO_OUTER, j, x[C8 + j], g[C8 + j], y[C8 + j], m, xl,
                           sl[j], cl[j], al[j], nl[j], 1, 1, (void)0)
        } else {
            FL_SM_EXP_PASS(FL_SM_NO_OUTER, j, x[C8 + j], g[C8 + j], y[C8 + j], m, xl,
                           sl[j], cl[j], al[j], nl[j], 0, 1, (void)0)
        }
#undef FL_SM_FOR
        double s = 0.0, c = 0.0;
        for (int j = 0; j < 8; j++) {
            FL_SM_ADD(s, c, sl[j]);
            c += cl[j];
            a += al[j];
            cnt += nl[j];
        }
        hi = FN(fl_sm_total)(s, c, &lo);
        if (mode == FL_LOG_SOFTMAX) hi += lo;           /* s1 */
#endif
        if (mode == FL_LOG_SOFTMAX) {
            const T L = (T)(m == -INFINITY ? NAN
                            : fl_log1p_d(FN(fl_sm_cnt)(cnt) - 1.0 + hi * FL_SM_INV2S));
            /* d_k - L (d_k stored in y by the exp pass): d_k <= 0 <= L, no cancellation,
             * so the dtype itself is enough */
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) y[k] = y[k] - L;
            continue;
        }
        T rh, rl;
        FN(fl_sm_recip)(hi, lo, &rh, &rl);
        if (m == -INFINITY) rh = rl = (T)NAN;
        if (mode == FL_SOFTMAX) {
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) y[k] = FN(fl_sm_scale)(y[k], rh, rl);
        } else if (mode == FL_SOFTMAX_GRAD) {
            const T dt = (T)(a / hi);
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) y[k] = FN(fl_sm_scale)(y[k], rh, rl) * (g[k] - dt);
        } else {
            const T st = (T)a;
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) y[k] = g[k] - FN(fl_sm_scale)(y[k], rh, rl) * st;
        }
    }
}

/* the transposes of the short-row path, inlined with a constant C (see FL_AXIS_TR_CASES) */
FL_INLINE void FN(fl_sm_tr_in)(T *buf, const T *x, Py_ssize_t w, const Py_ssize_t C)
{
    for (Py_ssize_t j = 0; j < w; j++)
        for (Py_ssize_t k = 0; k < C; k++) buf[k * FL_AXIS_CHUNK + j] = x[j * C + k];
}
FL_INLINE void FN(fl_sm_tr_out)(T *y, const T *buf, Py_ssize_t w, const Py_ssize_t C)
{
    for (Py_ssize_t j = 0; j < w; j++)
        for (Py_ssize_t k = 0; k < C; k++) y[j * C + k] = buf[k * FL_AXIS_CHUNK + j];
}

/* rows [l0, l1) of at most FL_SHORT_ROW_BYTES (inner == 1): FL_AXIS_CHUNK rows at a time
 * transposed into a class-major buffer, all FL_AXIS_CHUNK lanes computed (a last, partial
 * chunk is padded with zeros, so every row goes through the same code), transposed back */
FL_CLONES static void FN(fl_softmax_short)(const void *xv, const void *gv, void *yv,
                                           Py_ssize_t C, Py_ssize_t l0, Py_ssize_t l1, int mode)
{
    T xb[FL_SHORT_ROW_BYTES / sizeof(T) * FL_AXIS_CHUNK] FL_ALIGN64;
    T gb[FL_SHORT_ROW_BYTES / sizeof(T) * FL_AXIS_CHUNK] FL_ALIGN64;
    const int gather = fl_gather_ready(C);
    for (Py_ssize_t l = l0; l < l1; l += FL_AXIS_CHUNK) {
        const Py_ssize_t w = l1 - l < FL_AXIS_CHUNK ? l1 - l : FL_AXIS_CHUNK;
        const T *x = (const T *)xv + l * C;
        const T *g = gv ? (const T *)gv + l * C : NULL;
        T *y = (T *)yv + l * C;
        if (w < FL_AXIS_CHUNK) {
            for (Py_ssize_t k = 0; k < C; k++)
                for (Py_ssize_t j = w; j < FL_AXIS_CHUNK; j++)
                    xb[k * FL_AXIS_CHUNK + j] = gb[k * FL_AXIS_CHUNK + j] = ZERO;
        }
        /* a full chunk: gathers both ways where they pay (fl_gather.h) */
        const int full = gather && w == FL_AXIS_CHUNK;
        if (full) {
            FL_CAT(fl_gather_in, S)(xb, FL_AXIS_CHUNK, x, C, FL_AXIS_CHUNK);
            if (g) FL_CAT(fl_gather_in, S)(gb, FL_AXIS_CHUNK, g, C, FL_AXIS_CHUNK);
        } else switch (C) {
#define FL_AXIS_TR(n) case n: FN(fl_sm_tr_in)(xb, x, w, n);                                \
                              if (g) FN(fl_sm_tr_in)(gb, g, w, n);                          \
                              break;
        FL_AXIS_TR_CASES
#undef FL_AXIS_TR
        default:
            FN(fl_sm_tr_in)(xb, x, w, C);
            if (g) FN(fl_sm_tr_in)(gb, g, w, C);
        }
        FN(fl_sm_lanes)(xb, gb, xb, FL_AXIS_CHUNK, FL_AXIS_CHUNK, C, mode);
        if (full) FL_CAT(fl_gather_out, S)(y, xb, FL_AXIS_CHUNK, C, FL_AXIS_CHUNK);
        else switch (C) {
#define FL_AXIS_TR(n) case n: FN(fl_sm_tr_out)(y, xb, w, n); break;
        FL_AXIS_TR_CASES
#undef FL_AXIS_TR
        default: FN(fl_sm_tr_out)(y, xb, w, C);
        }
    }
}

/* inner > 1: the class axis is strided by `inner`; up to FL_AXIS_CHUNK neighbouring lines
 * (of one outer index) at a time, in place */
FL_CLONES static void FN(fl_softmax_strided)(const void *xv, const void *gv, void *yv,
                                             Py_ssize_t C, Py_ssize_t inner,
                                             Py_ssize_t l0, Py_ssize_t l1, int mode)
{
    Py_ssize_t l = l0;
    while (l < l1) {
        Py_ssize_t o = l / inner, i = l - o * inner;
        Py_ssize_t w = inner - i;
        if (w > l1 - l) w = l1 - l;
        if (w > FL_AXIS_CHUNK) w = FL_AXIS_CHUNK;
        Py_ssize_t base = o * C * inner + i;
        FN(fl_sm_lanes)((const T *)xv + base, gv ? (const T *)gv + base : NULL,
                        (T *)yv + base, inner, w, C, mode);
        l += w;
    }
}

#undef FL_SM_S
#undef FL_SM_MIN
#undef FL_SM_BIG
#undef FL_SM_INV2S
#undef FL_SM_ADD
#undef FL_SM_ADD_LOG
#undef FL_SM_ACC_T
#undef FL_SM_B
#undef FL_SM_CNT_T
#undef FL_SM_EXP_PASS
#undef FL_SM_NO_OUTER

#define FL_PRELU_REP 64
/* prelu over rows [r0, r1) of (outer, C, inner): y = x > 0 ? x : w[c] x.
 * With gw != NULL (the gradient): y = g (x > 0 ? 1 : w[c]) and gw[c] += sum(x <= 0 ? x g : 0),
 * accumulated in double in a fixed order.  g == NULL means g = 1. */
FL_CLONES static void FN(fl_prelu_rows)(const void *xv, const void *wv, const void *gv,
                                        void *yv, double *gw, Py_ssize_t C, Py_ssize_t inner,
                                        Py_ssize_t r0, Py_ssize_t r1)
{
    const T *wt = (const T *)wv;
    if (inner == 1) {
        /* (N, C): SIMD along `per` whole rows at a time.  Few channels (C < FL_PRELU_REP):
         * the weights repeated over per > 1 rows (R >= FL_PRELU_REP elements), gw summed per
         * repeated position and folded into gw[c] at the end (a fixed order); else one row */
        T wr[2 * FL_PRELU_REP];
        double gr[2 * FL_PRELU_REP];
        const Py_ssize_t per = C < FL_PRELU_REP ? (FL_PRELU_REP + C - 1) / C : 1, R = per * C;
        const T *wp = per > 1 ? wr : wt;
        double *gp = per > 1 ? gr : gw;
        if (per > 1)
            for (Py_ssize_t j = 0; j < R; j++) { wr[j] = wt[j % C]; gr[j] = 0.0; }
        Py_ssize_t r = r0;
        for (; r + per <= r1; r += per) {
            const T *x = (const T *)xv + r * C;
            const T *g = gv ? (const T *)gv + r * C : NULL;
            T *y = (T *)yv + r * C;
            if (gw == NULL) {
                #pragma omp simd
                for (Py_ssize_t j = 0; j < R; j++) y[j] = x[j] > ZERO ? x[j] : wp[j] * x[j];
            } else {
                #pragma omp simd
                for (Py_ssize_t j = 0; j < R; j++) {
                    T gi = g ? g[j] : ONE;
                    y[j] = x[j] > ZERO ? gi : wp[j] * gi;
                    gp[j] += x[j] > ZERO ? 0.0 : (double)x[j] * (double)gi;
                }
            }
        }
        const Py_ssize_t rest = (r1 - r) * C;      /* fewer than `per` rows left (per > 1) */
        const T *x = (const T *)xv + r * C;
        const T *g = gv ? (const T *)gv + r * C : NULL;
        T *y = (T *)yv + r * C;
        for (Py_ssize_t j = 0; j < rest; j++) {
            T gi = gw == NULL ? x[j] : (g ? g[j] : ONE);
            y[j] = x[j] > ZERO ? gi : wp[j] * gi;
            if (gw) gp[j] += x[j] > ZERO ? 0.0 : (double)x[j] * (double)gi;
        }
        if (gw && per > 1)
            for (Py_ssize_t j = 0; j < R; j++) gw[j % C] += gr[j];
        return;
    }
    for (Py_ssize_t r = r0; r < r1; r++) {
        for (Py_ssize_t c = 0; c < C; c++) {
            Py_ssize_t off = (r * C + c) * inner;
            const T *x = (const T *)xv + off;
            const T *g = gv ? (const T *)gv + off : NULL;
            T *y = (T *)yv + off, a = wt[c];
            if (gw == NULL) {
                #pragma omp simd
                for (Py_ssize_t i = 0; i < inner; i++) y[i] = x[i] > ZERO ? x[i] : a * x[i];
            } else {
                double s = 0.0;
                #pragma omp simd reduction(+:s)
                for (Py_ssize_t i = 0; i < inner; i++) {
                    T gi = g ? g[i] : ONE;
                    y[i] = x[i] > ZERO ? gi : a * gi;
                    s += x[i] > ZERO ? 0.0 : (double)x[i] * (double)gi;
                }
                gw[c] += s;
            }
        }
    }
}
