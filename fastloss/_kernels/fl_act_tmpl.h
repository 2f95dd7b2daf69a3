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
/* e / d^2 with the rounding of d = 1 + e (dl, exact by Fast2Sum) corrected to first order */
FL_INLINE T FN(fl_e_over_d2)(T e)
{
    T d = ONE + e, dl = (ONE - d) + e;
    return e / (d * d) * (ONE - (T)2 * dl / d);
}
FL_INLINE T FN(fl_sigmoid_d)(T x, T p0, T p1)
{
    return FN(fl_e_over_d2)(FN(fl_exp_neg)(-FN(fl_abs)(x)));
}

/* tanh(x) = sign(x) * -expm1(-2|x|) / (2 + expm1(-2|x|)) */
FL_INLINE T FN(fl_tanh)(T x, T p0, T p1)
{
    T em = FN(fl_expm1_neg)((T)-2 * FN(fl_abs)(x));
    T r = -em / ((T)2 + em);
    return x < ZERO ? -r : (x == x ? r : x);
}
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
    T b = p0 * x, db = FN(fl_fma)(p0, x, -b);
    db = b - b == ZERO ? db : ZERO;                   /* b = +-inf or NaN */
    T e = FN(fl_exp_neg)(-FN(fl_abs)(b));
    e = e + e * (b < ZERO ? db : -db);
    T r = (FN(fl_max)(b, ZERO) + FN(fl_log1p_unit)(e)) / p0;
    return b > p1 ? x : r;
}
FL_INLINE T FN(fl_softplus_d)(T x, T p0, T p1)
{
    T b = p0 * x, db = FN(fl_fma)(p0, x, -b);        /* sigma(b + db) = s + s (1 - s) db */
    db = b - b == ZERO ? db : ZERO;
    T e = FN(fl_exp_neg)(-FN(fl_abs)(b)), d = ONE + e;
    T s = (b >= ZERO ? ONE : e) / d;
    s = s + (e / (d * d)) * db;
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

/* silu(x) = x sigmoid(x); derivative sigmoid(x) + x sigma'(x) */
/* silu(x) = x sigma(x).  For x < 0 the factor e = exp(x) is applied last (x e / d computed as
 * ((x p) / d) s2), so results in the subnormal range round once; -inf gives the limit -0. */
FL_INLINE T FN(fl_silu)(T x, T p0, T p1)
{
    T s2, p = FN(fl_exp_neg_parts)(-FN(fl_abs)(x), &s2), d = ONE + p * s2;
    T r = x >= ZERO ? x / d : ((x * p) / d) * s2;
    return x < FN(fl_exp_min) ? -ZERO : r;
}
/* silu'(x) = sigma(x) + x sigma'(x) = sigma(x) (1 + x sigma(-x)) = e (d + x) / d^2 for x < 0.
 * It has a zero at x0 = -1.27846..., where 1 + x/d cancels: within 0.45 of x0 a Taylor
 * polynomial in h = x - x0 (exact by Sterbenz; coefficients from mpmath about x0 rounded to
 * the dtype; degree 10 for float, 24 for double) is selected branch-free. */
#if FL_T_IS_FLOAT
#define FL_SILU_ROOT_T (-1.2784645557403564f)
FL_INLINE T FN(fl_silu_root_taylor)(T h)     /* degree 10, <= 2.2 ulp on |h| < 0.45 */
{
    T q = -2.9733540941379033e-05f;
    q = q * h + -4.0905339119490236e-05f;
    q = q * h + 0.0001857072493294254f;
    q = q * h + 0.0007985218544490635f;
    q = q * h + 0.00012662733206525445f;
    q = q * h + -0.006606589071452618f;
    q = q * h + -0.015222654677927494f;
    q = q * h + 0.018874814733862877f;
    q = q * h + 0.14664879441261292f;
    q = q * h + 0.2178117036819458f;
    q = q * h + -2.8270397134377845e-09f;
    return q;
}
#else
#define FL_SILU_ROOT_T (-1.2784645427610737)
FL_INLINE T FN(fl_silu_root_taylor)(T h)
{
    T q = 1.4842855116792245e-12;
    q = q * h + 8.042740755373985e-12;
    q = q * h + 3.998547874724016e-12;
    q = q * h + -7.503446093852869e-11;
    q = q * h + -2.251366201881083e-10;
    q = q * h + 2.36483150531032e-10;
    q = q * h + 2.9177603026903807e-09;
    q = q * h + 4.619379769031612e-09;
    q = q * h + -1.887762290772795e-08;
    q = q * h + -9.266646309267443e-08;
    q = q * h + -3.051244750055436e-08;
    q = q * h + 8.599695028268575e-07;
    q = q * h + 2.3460296824638674e-06;
    q = q * h + -2.9426318888424607e-06;
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
#endif
FL_INLINE T FN(fl_silu_d)(T x, T p0, T p1)
{
    /* x < 0: p (d + x) / d^2 * s2 with the roundings of d = 1 + e (dl), d + x (te) and d^2
     * (ddl) carried along (error-free transformations), so only p and the last ops round */
    T s2, p = FN(fl_exp_neg_parts)(-FN(fl_abs)(x), &s2), e = p * s2, d = ONE + e;
    T dl = (ONE - d) + e;
    T t = d + x, bb = t - d, te = (d - (t - bb)) + (x - bb);
    T num = FN(fl_fma)(p, t, p * (te + dl));
    T dd = d * d, ddl = FN(fl_fma)(d, d, -dd), inv = ONE / dd;    /* the one division */
    T r = x >= ZERO ? (d + x * e) * inv                           /* (1 + x e / d) / d */
                    : ((num * inv) * (ONE - (ddl + (T)2 * d * dl) * inv)) * s2;
    T h = x - FL_SILU_ROOT_T;
    r = FN(fl_abs)(h) < (T)0.45 ? FN(fl_silu_root_taylor)(h) : r;
    return x == INFINITY ? ONE : (x < FN(fl_exp_min) ? ZERO : r);
}
#undef FL_SILU_ROOT_T

/* gelu(x) = x Phi(x) = x/2 erfc(-x/sqrt2) and the tanh approximation: see fl_gelu_tmpl.h */
#include "fl_gelu_tmpl.h"

/* ---- block loops: y[i] = f(x[i]) and y[i] = g[i] f'(x[i]) (g may be NULL) ---------- */
/* SPLIT: also compile a copy with p0 == 1 (softplus's beta), where / p0 folds away */
#define FL_LOOP(SPLIT, expr)                                                               \
    if (SPLIT && p0 == ONE) { T p0 = ONE; (void)p0; for (Py_ssize_t i = 0; i < n; i++) expr; } \
    else { for (Py_ssize_t i = 0; i < n; i++) expr; }
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
#undef FN
#undef ONE
#undef ZERO
