/* fl_loss_tmpl.h -- elementwise loss formulas and their block loops, written once.
 * Included by fl_losses.h with T = float, S = _f and with T = double, S = _d.
 *
 * Each loss is ONE scalar function  l = f(x, t, pw, p0, p1, &d)  returning the pointwise
 * loss l and storing its derivative d = dl/dx.  (pw is the per-element pos_weight of
 * BCE-with-logits, 1 elsewhere; p0, p1 the loss's parameters.)  The block loop inlines it
 * in every form: value, gradient, or both; the unused half is removed by the compiler.
 *
 * Reductions: the loop sums the pointwise losses in float64 over fixed blocks of
 * FL_LOSS_BLOCK elements and stores one partial sum per block (a->sums[block]); the caller
 * adds them in block order, so the result does not depend on how blocks go to threads.
 */
#define FN(name) FL_CAT(name, S)
#define ONE ((T)1)
#define ZERO ((T)0)
#define HALF ((T)0.5)
/* always inlined into the block loops, or gcc keeps the larger ones as scalar calls */
#define FL_LOSS_INLINE static inline __attribute__((always_inline))
#if FL_T_IS_FLOAT
#define FL_EXP_HI 89.0f            /* e^89 overflows float: the two factors stay valid */
#else
#define FL_EXP_HI 710.0            /* e^710 overflows double */
#endif

/* e^z for any z: fl_exp_neg_parts's reduction and two factors 2^(k/2) 2^(k-k/2) also hold
 * for z > 0 up to the overflow point (fl_exp_neg's single 2^(k+SH) does not) */
FL_LOSS_INLINE T FN(fl_exp_any)(T z)
{
    T s2, p = FN(fl_exp_neg_parts)(z > FL_EXP_HI ? FL_EXP_HI : z, &s2);
    return p * s2;
}

/* sign(r), 0 at r == 0, NaN propagates */
FL_LOSS_INLINE T FN(fl_sign0)(T r) { return r > ZERO ? ONE : (r < ZERO ? -ONE : r); }

/* mse: (x-t)^2, d = 2(x-t) */
FL_LOSS_INLINE T FN(fl_mse)(T x, T t, T pw, T p0, T p1, T *d)
{
    T r = x - t;
    *d = (T)2 * r;
    return r * r;
}

/* l1: |x-t|, d = sign(x-t) (0 at equality, as PyTorch) */
FL_LOSS_INLINE T FN(fl_l1)(T x, T t, T pw, T p0, T p1, T *d)
{
    T r = x - t;
    *d = FN(fl_sign0)(r);
    return FN(fl_abs)(r);
}

/* huber (delta = p0 > 0): 0.5 r^2 for |r| < delta, else delta (|r| - delta/2);
 * d = clamp(r, -delta, delta) (PyTorch) */
FL_LOSS_INLINE T FN(fl_huber)(T x, T t, T pw, T p0, T p1, T *d)
{
    T r = x - t, a = FN(fl_abs)(r);
    *d = r < -p0 ? -p0 : (r > p0 ? p0 : r);
    return a < p0 ? HALF * r * r : p0 * (a - HALF * p0);
}

/* smooth_l1 (beta = p0 > 0; beta == 0 is routed to l1): 0.5 r^2 / beta for |r| < beta,
 * else |r| - beta/2; d = r/beta clamped to [-1, 1] (PyTorch) */
FL_LOSS_INLINE T FN(fl_smooth_l1)(T x, T t, T pw, T p0, T p1, T *d)
{
    T r = x - t, a = FN(fl_abs)(r);
    if (p0 == ONE) {            /* beta = 1, the default: no division (gcc unswitches the loop) */
        *d = r <= -ONE ? -ONE : (r >= ONE ? ONE : r);
        return a < ONE ? HALF * r * r : a - HALF;
    }
    *d = r <= -p0 ? -ONE : (r >= p0 ? ONE : r / p0);
    return a < p0 ? HALF * r * r / p0 : a - HALF * p0;
}

/* msle (eps = p0, Keras): r^2, r = log1p(max(x,eps)) - log1p(max(t,eps));
 * d = 2 r / (1 + max(x,eps)) where x >= eps, 0 below (TF's maximum gradient).
 * max written as a select that keeps NaN.  r is taken as +-log1p((hi - lo) / (1 + lo)),
 * hi/lo the larger/smaller of the two: the difference of the logs lost |log1p| / |r| of
 * its digits where the prediction is close to the target (1900 ulp in the loss at 0.1%).
 * The quotient is rounded once: float divides in double (hi - lo and 1 + lo exact there),
 * double corrects it for the roundings of hi - lo, 1 + lo and the division. */
FL_LOSS_INLINE T FN(fl_msle)(T x, T t, T pw, T p0, T p1, T *d)
{
    T mx = x < p0 ? p0 : x, mt = t < p0 ? p0 : t;
    T hi = mx < mt ? mt : mx, lo = mx < mt ? mx : mt;
#if FL_T_IS_FLOAT
    T q = (T)(((double)hi - (double)lo) / (1.0 + (double)lo));
#else
    /* (num + nl) / (den + dl): both roundings and the division's own residual (fma) */
    T num = hi - lo, nl = (hi - num) - lo;                      /* Fast2Sum: hi >= lo */
    T den = ONE + lo, bb = den - ONE, dl = (ONE - (den - bb)) + (lo - bb);     /* TwoSum */
    T q = num / den;
    q = q + (((num - q * den) + nl) - q * dl) / den;
#endif
    T a = FN(fl_log1p)(q);
    T r = mx < mt ? -a : a;
    *d = x < p0 ? ZERO : (T)2 * r / (ONE + mx);
    return r * r;
}

/* mape (eps = p0, Keras): 100 |t - x| / max(|t|, eps); d = 100 sign(x - t) / max(|t|, eps) */
FL_LOSS_INLINE T FN(fl_mape)(T x, T t, T pw, T p0, T p1, T *d)
{
    T at = FN(fl_abs)(t), den = at < p0 ? p0 : at, r = x - t;
    *d = (T)100 * FN(fl_sign0)(r) / den;
    return FN(fl_abs)(r) / den * (T)100;
}

/* binary cross-entropy on probabilities (PyTorch): (t-1) max(log1p(-x), -100) - t max(log x, -100);
 * d = (x - t) / max(x (1-x), 1e-12).  x outside [0,1] is flagged by FL_CHECK_PROB. */
FL_LOSS_INLINE T FN(fl_bce)(T x, T t, T pw, T p0, T p1, T *d)
{
    T l1 = FN(fl_log1p)(-x), l0 = FN(fl_log)(x);
    l1 = l1 < (T)-100 ? (T)-100 : l1;
    l0 = l0 < (T)-100 ? (T)-100 : l0;
    T q = (ONE - x) * x;
    *d = (x - t) / (q < (T)1e-12 ? (T)1e-12 : q);
    return (t - ONE) * l1 - t * l0;
}

/* BCE with logits (PyTorch), pos_weight pw, lw = 1 + (pw - 1) t:
 *   l = (1-t) x + lw softplus(-x)
 *     = c x + lw log1p(e),  e = exp(-|x|),  c = (1-t) for x >= 0, -pw t for x < 0,
 * with c x taken as 0 when c == 0 (the limit at x = +-inf: bce(-inf, 0) = 0, not NaN).
 *   d = (1-t) - lw sigmoid(-x) = lw sigmoid(x) - pw t, each side in the form without
 * cancellation (sigmoid of the tail as e / (1 + e)). */
FL_LOSS_INLINE T FN(fl_bce_logits)(T x, T t, T pw, T p0, T p1, T *d)
{
    T e = FN(fl_exp_neg)(-FN(fl_abs)(x)), lw = ONE + (pw - ONE) * t;
    T sg = e / (ONE + e);                       /* sigmoid(-|x|) */
    int pos = x >= ZERO;
    T c = pos ? ONE - t : -pw * t;
    T cx = c == ZERO ? ZERO : c * x;
    *d = pos ? (ONE - t) - lw * sg : lw * sg - pw * t;
    return cx + lw * FN(fl_log1p_unit)(e);
}

/* hinge: max(0, 1 - t x), d = -t where 1 - t x > 0 else 0 (0 at the kink, as relu) */
FL_LOSS_INLINE T FN(fl_hinge)(T x, T t, T pw, T p0, T p1, T *d)
{
    T m = ONE - t * x;
    *d = m > ZERO ? -t : (m == m ? ZERO : m);
    return m < ZERO ? ZERO : m;
}

/* squared hinge: max(0, 1 - t x)^2, d = -2 t max(0, 1 - t x) */
FL_LOSS_INLINE T FN(fl_squared_hinge)(T x, T t, T pw, T p0, T p1, T *d)
{
    T m = ONE - t * x;
    m = m < ZERO ? ZERO : m;
    *d = (T)-2 * t * m;
    return m * m;
}

/* exponential: exp(-t x), d = -t exp(-t x) */
FL_LOSS_INLINE T FN(fl_exponential)(T x, T t, T pw, T p0, T p1, T *d)
{
    T e = FN(fl_exp_any)(-t * x);
    *d = -t * e;
    return e;
}

/* kl_div, input x = log q, target t = p (PyTorch): t (log t - x), 0 where t == 0 (NaN x
 * still gives NaN); d = -t */
FL_LOSS_INLINE T FN(fl_kl_div)(T x, T t, T pw, T p0, T p1, T *d)
{
    *d = -t;
    T v = t * (FN(fl_log)(t) - x);
    return t == ZERO ? (x == x ? ZERO : x) : v;
}

/* kl_div with log_target: exp(t) (t - x), 0 where exp(t) == 0; d = -exp(t) */
FL_LOSS_INLINE T FN(fl_kl_div_log)(T x, T t, T pw, T p0, T p1, T *d)
{
    T e = FN(fl_exp_any)(t);
    *d = -e;
    T v = e * (t - x);
    return e == ZERO ? (x == x ? ZERO : x) : v;
}

/* Stirling term of poisson_nll_loss(full=True): t log t - t + log(2 pi t)/2 for t > 1 */
FL_LOSS_INLINE T FN(fl_stirling)(T t)
{
    T v = t * FN(fl_log)(t) - t + HALF * FN(fl_log)((T)6.283185307179586 * t);
    return t <= ONE ? ZERO : v;
}

/* poisson_nll_loss (PyTorch), eps = p0:
 *   log_input: exp(x) - t x,        d = exp(x) - t
 *   else:      x - t log(x + eps),  d = 1 - t / (x + eps)
 * plus the Stirling term (independent of x) for the _full variants.  t x and t log(x + eps)
 * count as 0 where t == 0 (the limit at x = +-inf or x = -eps, not 0 * inf = NaN; a NaN x
 * still gives NaN through the other term). */
FL_LOSS_INLINE T FN(fl_poisson_log)(T x, T t, T pw, T p0, T p1, T *d)
{
    T e = FN(fl_exp_any)(x);
    *d = e - t;
    return e - (t == ZERO ? ZERO : t * x);
}
FL_LOSS_INLINE T FN(fl_poisson)(T x, T t, T pw, T p0, T p1, T *d)
{
    T xe = x + p0;
    *d = ONE - t / xe;
    return x - (t == ZERO ? ZERO : t * FN(fl_log)(xe));
}
FL_LOSS_INLINE T FN(fl_poisson_log_full)(T x, T t, T pw, T p0, T p1, T *d)
{
    return FN(fl_poisson_log)(x, t, pw, p0, p1, d) + FN(fl_stirling)(t);
}
FL_LOSS_INLINE T FN(fl_poisson_full)(T x, T t, T pw, T p0, T p1, T *d)
{
    return FN(fl_poisson)(x, t, pw, p0, p1, d) + FN(fl_stirling)(t);
}

/* ---- block loops ----------------------------------------------------------------------
 * name##_span: one form, chosen by the constant flags L (0 no loss, 1 block sums, 2 loss
 * per element), G (0 no gradient, 1 grad = scale d, 2 grad = g d), W (1: times weight w,
 * pos_weight pw; both full-size arrays).  Returns the index of the first element CHECK
 * flagged (the flag is OR-ed in the vector loop; only a flagged block is rescanned, and the
 * span stops there), or -1.
 * name##_run: the entry point (cloned for AVX-512/AVX2/baseline; flatten inlines all of
 * fl_math.h into it, so the loops vectorize), dispatching on a->mode
 * = L + 3 G + 9 W over [i0, i1), i0 a multiple of FL_LOSS_BLOCK. */
#define FL_LOSS_LOOPS(name, CHECK, HASW)                                                  \
FL_LOSS_INLINE Py_ssize_t FN(name##_span)(                         \
    const fl_loss_args *a, Py_ssize_t i0, Py_ssize_t i1, const int L, const int G,        \
    const int W)                                                                          \
{                                                                                         \
    const T *x = (const T *)a->x, *t = (const T *)a->t, *w = (const T *)a->w;             \
    const T *pw = (const T *)a->pw, *g = (const T *)a->g;                                 \
    T *lo = (T *)a->loss, *gr = (T *)a->grad;                                             \
    const T p0 = (T)a->p0, p1 = (T)a->p1, sc = (T)a->scale;                               \
    int bad = 0;                                                                          \
    for (Py_ssize_t b0 = i0; b0 < i1; b0 += FL_LOSS_BLOCK) {                              \
        Py_ssize_t b1 = i1 - b0 > FL_LOSS_BLOCK ? b0 + FL_LOSS_BLOCK : i1;                \
        double s = 0.0;                                                                   \
        _Pragma("omp simd reduction(+:s) reduction(|:bad)")                               \
        for (Py_ssize_t i = b0; i < b1; i++) {                                            \
            T xi = x[i], ti = t[i], d;                                                    \
            T l = FN(name)(xi, ti, W ? pw[i] : ONE, p0, p1, &d);                          \
            if (W) { l *= w[i]; d *= w[i]; }                                              \
            bad |= CHECK(xi, ti);                                                         \
            if (L == 1) s += (double)l;                                                   \
            if (L == 2) lo[i] = l;                                                        \
            if (G == 1) gr[i] = sc * d;                                                   \
            if (G == 2) gr[i] = g[i] * d;                                                 \
        }                                                                                 \
        if (bad)        /* first flagged element: rescan this block only, then stop */   \
            for (Py_ssize_t i = b0; i < b1; i++)                                          \
                if (CHECK(x[i], t[i])) return i;                                          \
        if (L == 1) a->sums[b0 / FL_LOSS_BLOCK] = s;                                      \
    }                                                                                     \
    return -1;                                                                            \
}                                                                                         \
FL_CLONES __attribute__((flatten)) static Py_ssize_t FN(name##_run)(const fl_loss_args *a, Py_ssize_t i0, Py_ssize_t i1)  \
{                                                                                         \
    switch (a->mode) {                                                                    \
    case 1: return FN(name##_span)(a, i0, i1, 1, 0, 0);                                   \
    case 2: return FN(name##_span)(a, i0, i1, 2, 0, 0);                                   \
    case 3: return FN(name##_span)(a, i0, i1, 0, 1, 0);                                   \
    case 4: return FN(name##_span)(a, i0, i1, 1, 1, 0);                                   \
    case 5: return FN(name##_span)(a, i0, i1, 2, 1, 0);                                   \
    case 6: return FN(name##_span)(a, i0, i1, 0, 2, 0);                                   \
    case 8: return FN(name##_span)(a, i0, i1, 2, 2, 0);                                   \
    }                                                                                     \
    if (HASW) switch (a->mode) {                                                          \
    case 10: return FN(name##_span)(a, i0, i1, 1, 0, 1);                                  \
    case 11: return FN(name##_span)(a, i0, i1, 2, 0, 1);                                  \
    case 12: return FN(name##_span)(a, i0, i1, 0, 1, 1);                                  \
    case 13: return FN(name##_span)(a, i0, i1, 1, 1, 1);                                  \
    case 14: return FN(name##_span)(a, i0, i1, 2, 1, 1);                                  \
    case 15: return FN(name##_span)(a, i0, i1, 0, 2, 1);                                  \
    case 17: return FN(name##_span)(a, i0, i1, 2, 2, 1);                                  \
    }                                                                                     \
    return -1;                                                                            \
}

/* kernel-side input checks (no extra pass): the span returns the first flagged index and
 * the caller reports that element.  NaN is not flagged (it propagates). */
#define FL_CHECK_NONE(x, t) 0
#define FL_CHECK_PROB(x, t) ((x) < ZERO || (x) > ONE)
#define FL_CHECK_SIGN(x, t) ((t) != ONE && (t) != -ONE && (t) == (t))

FL_LOSS_LOOPS(fl_mse, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_l1, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_huber, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_smooth_l1, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_msle, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_mape, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_bce, FL_CHECK_PROB, 1)
FL_LOSS_LOOPS(fl_bce_logits, FL_CHECK_NONE, 1)
FL_LOSS_LOOPS(fl_hinge, FL_CHECK_SIGN, 0)
FL_LOSS_LOOPS(fl_squared_hinge, FL_CHECK_SIGN, 0)
FL_LOSS_LOOPS(fl_exponential, FL_CHECK_SIGN, 0)
FL_LOSS_LOOPS(fl_kl_div, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_kl_div_log, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_poisson_log, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_poisson_log_full, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_poisson, FL_CHECK_NONE, 0)
FL_LOSS_LOOPS(fl_poisson_full, FL_CHECK_NONE, 0)

/* table order = LOSS_KERNELS in _losses.pyx */
static const fl_loss_fn FN(fl_loss_table)[] = {
    FN(fl_mse_run), FN(fl_l1_run), FN(fl_huber_run), FN(fl_smooth_l1_run),
    FN(fl_msle_run), FN(fl_mape_run), FN(fl_bce_run), FN(fl_bce_logits_run),
    FN(fl_hinge_run), FN(fl_squared_hinge_run), FN(fl_exponential_run),
    FN(fl_kl_div_run), FN(fl_kl_div_log_run), FN(fl_poisson_log_run),
    FN(fl_poisson_log_full_run), FN(fl_poisson_run), FN(fl_poisson_full_run),
};

#undef FL_LOSS_LOOPS
#undef FL_CHECK_NONE
#undef FL_CHECK_PROB
#undef FL_CHECK_SIGN
#undef FL_EXP_HI
#undef FN
#undef ONE
#undef ZERO
#undef HALF
#undef FL_LOSS_INLINE
