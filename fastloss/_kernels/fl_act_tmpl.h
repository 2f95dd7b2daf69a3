/* fl_act_tmpl.h -- activation formulas and their block loops, written once.
 * Included by fl_kernels.h with T = float, S = _f and with T = double, S = _d.
 * FN(name) appends the suffix: FN(fl_sigmoid) -> fl_sigmoid_f.
 *
 * Every derivative is computed from the activation's input x in a form that keeps its
 * digits in the tails: sigma'(x) = e/(1+e)^2 with e = exp(-|x|); tanh'(x) = 4e/(1+e)^2
 * with e = exp(-2|x|).  A parameterised op gets its parameters as p0, p1.
 */
#define FN(name) FL_CAT(name, S)
#define ONE ((T)1)
#define ZERO ((T)0)

/* sigmoid and its derivative share e = exp(-|x|) and d = 1 + e */
FL_INLINE T FN(fl_sigmoid)(T x, T p0, T p1)
{
    T e = FN(fl_exp_neg)(-FN(fl_abs)(x)), d = ONE + e;
    return (x >= ZERO ? ONE : e) / d;
}
/* e / (1 + e)^2 with one division: 1 + e = d + dl (Fast2Sum, exact), (d + dl)^2 = d^2 + 2 d dl
 * to first order.  (Plain arithmetic, which gcc contracts late: an explicit fma here keeps gcc
 * from folding the clamped lanes (e = 0) to one final mask, and it blends every term instead.) */
FL_INLINE T FN(fl_e_over_d2)(T e)
{
    T d = ONE + e, dl = (ONE - d) + e;
    return e / (d * d + (d + d) * dl);
}
FL_INLINE T FN(fl_sigmoid_d)(T x, T p0, T p1)
{
    return FN(fl_e_over_d2)(FN(fl_exp_neg)(-FN(fl_abs)(x)));
}

/* tanh(x) = sign(x) em / (em + 2), em = e^(2|x|) - 1 = 2^k q + (2^k - 1) (one rounding; 2|x| =
 * k ln2 + r, q = e^r - 1 = r + r^2 P(r), one rounding): no cancellation at small |x| (k = 0, em =
 * q) and no underflow handling, since the argument is >= 0.  Beyond FL_TANH_ONE tanh rounds to 1
 * and the lane's (overflowed) value is replaced by 1: a select after the division, not a clamp
 * before the exp, which gcc would carry through the whole formula as masked copies (20% more
 * instructions).  NaN propagates, -0 keeps its sign.  float: 24 vector ops per 16 lanes (was 40
 * as -expm1(-2|x|) / (2 + expm1(-2|x|)) with the underflow-safe expm1); <= 2.52 ulp over every
 * float (x = 0.0623535849: the rounding of em + 2). */
#define FL_TANH_ONE (FL_T_IS_FLOAT ? (T)9.1 : (T)19.1)        /* 1 - tanh < ulp(1)/4 beyond */
FL_INLINE T FN(fl_tanh)(T x, T p0, T p1)
{
    T a = FN(fl_abs)(x), km;
    T r = FN(fl_cw_red1)(a + a, &km);  /* k <= 56: k (ln2 - ln2_T) is damped by 2 em/(em + 2)^2 */
    T q = FN(fl_fma)(FN(fl_expm1_p)(r), r * r, r);
    T sc = FN(fl_pow2k)(km, 0);
    T em = sc * q + (sc - ONE);
    T y = em / (em + (T)2);
    y = a > FL_TANH_ONE ? ONE : y;
    return FN(fl_copysign)(y, x);
}
#undef FL_TANH_ONE
FL_INLINE T FN(fl_tanh_d)(T x, T p0, T p1)
{
    return (T)4 * FN(fl_e_over_d2)(FN(fl_exp_neg)((T)-2 * FN(fl_abs)(x)));
}

FL_INLINE T FN(fl_identity)(T x, T p0, T p1) { return x; }
FL_INLINE T FN(fl_identity_d)(T x, T p0, T p1) { return ONE; }   /* linear: 1 even at NaN */

/* relu: derivative 0 at the kink, as PyTorch; NaN propagates */
FL_INLINE T FN(fl_relu)(T x, T p0, T p1) { return x < ZERO ? ZERO : x; }
FL_INLINE T FN(fl_relu_d)(T x, T p0, T p1) { return x > ZERO ? ONE : (x == x ? ZERO : x); }

/* leaky_relu(x; slope=p0) */
FL_INLINE T FN(fl_leaky_relu)(T x, T p0, T p1) { return x > ZERO ? x : p0 * x; }
FL_INLINE T FN(fl_leaky_relu_d)(T x, T p0, T p1) { return x > ZERO ? ONE : (x == x ? p0 : x); }

/* elu(x; alpha=p0) = x (x > 0), alpha expm1(x) */
FL_INLINE T FN(fl_elu)(T x, T p0, T p1)
{
    return x > ZERO ? x : p0 * FN(fl_expm1_neg)(x > ZERO ? ZERO : x);   /* NaN passes */
}
FL_INLINE T FN(fl_elu_d)(T x, T p0, T p1)
{
    return x > ZERO ? ONE : p0 * FN(fl_exp_neg)(x);
}

/* softplus(x; beta=p0, threshold=p1) = log1p(exp(beta x)) / beta, or x where beta x > threshold
 * (PyTorch's rule).  b = beta x is split b + db (fma residual) so that exp(b) keeps its
 * relative accuracy deep in the negative tail: exp(b + db) = exp(b) (1 + db). */
FL_INLINE T FN(fl_softplus)(T x, T p0, T p1)
{
    T b = p0 * x;
    T e = FN(fl_exp_neg)(-FN(fl_abs)(b));
    if (p0 != ONE) {            /* folds away in the p0 == 1 copy of the loop (b = x, db = 0) */
        T db = FN(fl_fma)(p0, x, -b);
        db = b - b == ZERO ? db : ZERO;               /* b = +-inf or NaN */
        e = e + e * (b < ZERO ? db : -db);
    }
    T r = (FN(fl_max)(b, ZERO) + FN(fl_log1p_unit)(e)) / p0;
    return b > p1 ? x : r;
}
/* softplus' = sigma(b), b = beta x, with the rounding db of b: sigma(b + db) = s + s (1 - s) db.
 * The correction folds away in the beta = 1 copy of the loop (db = 0), and s (1 - s) (which
 * need not be accurate: db <= 2^-p |b|) replaces e / d^2, so there is one division. */
FL_INLINE T FN(fl_softplus_d)(T x, T p0, T p1)
{
    T b = p0 * x;
    T e = FN(fl_exp_neg)(-FN(fl_abs)(b)), d = ONE + e;
    T s = (b >= ZERO ? ONE : e) / d;
    if (p0 != ONE) {
        T db = FN(fl_fma)(p0, x, -b);
        db = b - b == ZERO ? db : ZERO;
        s = s + (s - s * s) * db;
    }
    return b > p1 ? ONE : s;
}

/* log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|)); derivative sigmoid(-x) */
FL_INLINE T FN(fl_log_sigmoid)(T x, T p0, T p1)
{
    return FN(fl_min)(x, ZERO) - FN(fl_log1p_unit)(FN(fl_exp_neg)(-FN(fl_abs)(x)));
}
FL_INLINE T FN(fl_log_sigmoid_d)(T x, T p0, T p1)
{
    T e = FN(fl_exp_neg)(-FN(fl_abs)(x)), d = ONE + e;
    return (x >= ZERO ? e : ONE) / d;
}

/* silu'(x) = sigma(x) + x sigma'(x) = (1 + (1 + x) e) / (1 + e)^2 for x >= 0 (e = exp(-x)),
 * e (1 + x + e) / (1 + e)^2 for x < 0 (e = exp(x)).  One exp, one division, no compensated
 * steps: e = 2^k (1 + q) (q = e^r - 1, not rounded into 1 + q), so that for x < 0 the factor
 * that cancels at the zero x0 = -1.27846... is formed as t = (1 + x + 2^k) + 2^k q, the first
 * sum exact (Sterbenz: x in [-2, -1/2], k in {-1, -2, -3}), i.e. t carries only q's rounding
 * (~2^-p |2^k q|, 2^k q ~ 0.03 next to x0) instead of e's (~2^-p 0.28).  The denominator is
 * 1 + e (e + 2) (one rounding less than d * d).  For x < 0 the scale 2^(k+SH) is used and 2^-SH
 * applied last, so subnormal results round once.  Within FL_SILU_W of x0 (x0 rounded to the
 * dtype), where t's rounding would exceed ~3 ulp, a polynomial in h = x - x0 (exact by
 * Sterbenz) is selected branch-free: float, |h| < 0.05: c0 + h g(h), g of degree 3, a relative
 * minimax fit in float coefficients (mpmath; 1.7 ulp in float arithmetic); double, |h| < 0.07:
 * the degree-11 Taylor polynomial (mpmath coefficients).  Worst case measured on dense sweeps:
 * float 3.0 ulp (just outside the window), double 2.0. */
#if FL_T_IS_FLOAT
#define FL_SILU_ROOT_T (-1.2784645557403564f)
#define FL_SILU_W 0.05f
#define FL_SILU_CL 120.0f                      /* |x| clamp: e^-120 2^64 is normal */
#define FL_SILU_SH 0x1p64f
#define FL_SILU_SHB 64
#define FL_SILU_ISH 0x1p-64f
FL_INLINE T FN(fl_silu_root_poly)(T h)      /* |h| < 0.05: c0 + h g(h), g of degree 3 */
{
    T g = -0.01521657221019268f;
    g = g * h + 0.018858306109905243f;
    g = g * h + 0.14664877951145172f;
    g = g * h + 0.2178117036819458f;
    return g * h + -2.8270397e-09f;
}
/* -min(|x|, CL) by integer min on the bits (NaN becomes -CL: silu carries x itself into its
 * numerator for x >= 0 and NaN).  A float compare and select here would be carried by gcc
 * through the whole exp as masked copies. */
FL_INLINE T FN(fl_silu_nabs)(T x)
{
    int32_t b = fl_f2bits(x) & 0x7fffffff, c = fl_f2bits(FL_SILU_CL);
    return fl_bits2f((b < c ? b : c) | INT32_MIN);
}
/* 2^-64 if x's sign bit is set, else 1 (shifts: no compare that gcc would thread on) */
FL_INLINE T FN(fl_silu_sign_scale)(T x)
{
    return fl_bits2f(0x3f800000 - (int32_t)(((uint32_t)fl_f2bits(x) >> 31) << 29));
}
#else
#define FL_SILU_ROOT_T (-1.2784645427610737)
#define FL_SILU_W 0.07
#define FL_SILU_CL 760.0                       /* e^-760 2^128 is normal; silu'(-760) rounds to 0 */
#define FL_SILU_SH 0x1p128
#define FL_SILU_SHB 128
#define FL_SILU_ISH 0x1p-128
FL_INLINE T FN(fl_silu_root_poly)(T h)      /* degree 11, truncation < 2^-58 on |h| < 0.07 */
{
    T q = -2.9426318888424607e-06;
    q = q * h + -2.973354221326392e-05;
    q = q * h + -4.090534237428615e-05;
    q = q * h + 0.0001857072436118649;
    q = q * h + 0.0007985218818397999;
    q = q * h + 0.0001266274100811226;
    q = q * h + -0.006606589138356696;
    q = q * h + -0.015222655223188036;
    q = q * h + 0.018874814223782305;
    q = q * h + 0.1466487969969469;
    q = q * h + 0.21781170571980013;
    q = q * h + 2.3843834755243115e-17;
    return q;
}
FL_INLINE T FN(fl_silu_nabs)(T x)                /* as the float one */
{
    int64_t b = fl_d2bits(x) & 0x7fffffffffffffffLL, c = fl_d2bits(FL_SILU_CL);
    return fl_bits2d((b < c ? b : c) | INT64_MIN);
}
FL_INLINE T FN(fl_silu_sign_scale)(T x)          /* 2^-128 or 1, as the float one */
{
    return fl_bits2d(0x3ff0000000000000LL - (int64_t)(((uint64_t)fl_d2bits(x) >> 63) << 59));
}
#endif
/* silu(x) = x sigma(x) = x / (1 + e^-x) for x >= 0, x e / (1 + e) for x < 0 (e = e^x).  e^-|x| is
 * formed as E = e^-|x| 2^SH (exact and normal down to the clamp at -CL) and, for x < 0, 2^-SH
 * applied last (x E / (1 + e) 2^-SH), so results in the subnormal range round once; beyond -CL
 * silu rounds to -0 (also the limit at -inf).  No second scale factor as in fl_exp_neg_parts:
 * float 39 -> 29, double 47 -> 35 vector ops. */
FL_INLINE T FN(fl_silu)(T x, T p0, T p1)
{
    T km, E = FN(fl_exp_red)(FN(fl_silu_nabs)(x), &km) * FN(fl_pow2k)(km, FL_SILU_SHB);
    T d = ONE + E * FL_SILU_ISH;
    int neg = x < ZERO;
    T num = neg ? x * E : x, sc = neg ? FL_SILU_ISH : ONE;   /* both selects before the division */
    T r = num / d * sc;
    return x < -FL_SILU_CL ? -ZERO : r;
}
FL_INLINE T FN(fl_silu_d)(T x, T p0, T p1)
{
    T a = -FN(fl_abs)(x);                               /* NaN passes both clamps */
    a = a < -FL_SILU_CL ? -FL_SILU_CL : a;
    T xc = x > FL_SILU_CL ? FL_SILU_CL : x;             /* x < -CL: see the last line */
    T km, r = FN(fl_cw_red)(a, &km);
    T q = FN(fl_expm1_red)(r) * r;                      /* e = 2^k (1 + q) */
    T sc = FN(fl_pow2k)(km, FL_SILU_SHB), k2 = sc * FL_SILU_ISH; /* 2^(k+SH), 2^k */
    T e = FN(fl_fma)(q, k2, k2), E = FN(fl_fma)(q, sc, sc);
    T u = ONE + xc;
    /* x < 0: E (1 + x + e) = E (u + 2^k) + E q 2^k; x >= 0: u e + 1.  The arm is chosen by
     * the sign bit read through ss, not by a second compare after the division: gcc
     * jump-threads two tests of one condition and then divides in both arms (14% slower) */
    T ss = FN(fl_silu_sign_scale)(x);                   /* -0 takes the x < 0 arm */
    int neg = ss < ONE;
    T na = neg ? E : u, nb = neg ? u + k2 : e, nc = neg ? E * (q * k2) : ONE;
    T num = FN(fl_fma)(na, nb, nc);
    T den = FN(fl_fma)(e, e + (T)2, ONE);                /* (1 + e)^2 */
    T r2 = num / den * ss;
    T h = x - FL_SILU_ROOT_T;
    r2 = FN(fl_abs)(h) < FL_SILU_W ? FN(fl_silu_root_poly)(h) : r2;
    return x < -FL_SILU_CL ? ZERO : r2;
}
#undef FL_SILU_ROOT_T
#undef FL_SILU_W
#undef FL_SILU_CL
#undef FL_SILU_SH
#undef FL_SILU_SHB
#undef FL_SILU_ISH

/* gelu(x) = x Phi(x) = x/2 erfc(-x/sqrt2) and the tanh approximation: see fl_gelu_tmpl.h */
#include "fl_gelu_tmpl.h"

/* ---- block loops: y[i] = f(x[i]) and y[i] = g[i] f'(x[i]) (g may be NULL) ---------- */
/* SPLIT: also compile a copy with p0 == 1 (softplus's beta), where / p0 folds away */
/* The vector loops are unrolled 4x: their loads then issue in groups, which keeps more cache
 * misses in flight; 5-15% on L3-resident arrays (1e6 elements) on a Sapphire Rapids core,
 * where the rolled loop could not hide the latency behind its long dependency chains. */
#define FL_UNROLLED _Pragma("GCC unroll 4")
#define FL_LOOP(SPLIT, expr)                                                               \
    if (SPLIT && p0 == ONE) {                                                              \
        T p0 = ONE; (void)p0;                                                              \
        FL_UNROLLED for (Py_ssize_t i = 0; i < n; i++) expr;                               \
    } else {                                                                               \
        FL_UNROLLED for (Py_ssize_t i = 0; i < n; i++) expr;                               \
    }
#define FL_UNARY_LOOPS_(name, SPLIT)                                                  \
FL_CLONES static void FN(name##_loop)(const void *xv, const void *gv, void *yv,       \
                                      Py_ssize_t n, double p0d, double p1d)           \
{                                                                                     \
    const T *x = (const T *)xv; T *y = (T *)yv; T p0 = (T)p0d, p1 = (T)p1d;           \
    (void)gv;                                                                         \
    FL_LOOP(SPLIT, y[i] = FN(name)(x[i], p0, p1))                                     \
}                                                                                     \
FL_CLONES static void FN(name##_grad_loop)(const void *xv, const void *gv, void *yv,  \
                                           Py_ssize_t n, double p0d, double p1d)      \
{                                                                                     \
    const T *x = (const T *)xv, *g = (const T *)gv; T *y = (T *)yv;                   \
    T p0 = (T)p0d, p1 = (T)p1d;                                                       \
    if (g == NULL) {                                                                  \
        FL_LOOP(SPLIT, y[i] = FN(name##_d)(x[i], p0, p1))                             \
    } else {                                                                          \
        FL_LOOP(SPLIT, y[i] = g[i] * FN(name##_d)(x[i], p0, p1))                      \
    }                                                                                 \
}
#define FL_UNARY_LOOPS(name) FL_UNARY_LOOPS_(name, 0)

FL_UNARY_LOOPS(fl_identity)
FL_UNARY_LOOPS(fl_sigmoid)
FL_UNARY_LOOPS(fl_tanh)
FL_UNARY_LOOPS(fl_relu)
FL_UNARY_LOOPS(fl_leaky_relu)
FL_UNARY_LOOPS(fl_elu)
FL_UNARY_LOOPS_(fl_softplus, 1)
FL_UNARY_LOOPS(fl_log_sigmoid)
FL_UNARY_LOOPS(fl_silu)
FL_UNARY_LOOPS(fl_gelu)
FL_UNARY_LOOPS(fl_gelu_tanh)

/* table order = enum FL_OP in fl_kernels.h */
static const fl_block_fn FN(fl_unary_table)[] = {
    FN(fl_identity_loop), FN(fl_sigmoid_loop), FN(fl_tanh_loop), FN(fl_relu_loop),
    FN(fl_leaky_relu_loop), FN(fl_elu_loop), FN(fl_softplus_loop),
    FN(fl_log_sigmoid_loop), FN(fl_silu_loop), FN(fl_gelu_loop), FN(fl_gelu_tanh_loop),
};
static const fl_block_fn FN(fl_unary_grad_table)[] = {
    FN(fl_identity_grad_loop), FN(fl_sigmoid_grad_loop), FN(fl_tanh_grad_loop),
    FN(fl_relu_grad_loop), FN(fl_leaky_relu_grad_loop), FN(fl_elu_grad_loop),
    FN(fl_softplus_grad_loop), FN(fl_log_sigmoid_grad_loop), FN(fl_silu_grad_loop),
    FN(fl_gelu_grad_loop), FN(fl_gelu_tanh_grad_loop),
};

#include "fl_axis_tmpl.h"

#undef FL_UNARY_LOOPS
#undef FL_UNARY_LOOPS_
#undef FL_LOOP
#undef FL_UNROLLED
#undef FN
#undef ONE
#undef ZERO
