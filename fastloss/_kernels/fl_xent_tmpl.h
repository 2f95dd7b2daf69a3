/* fl_xent_tmpl.h -- cross-entropy family, written once for T = float (S = _f) and double (_d).
 * Included by fl_xent.h.  The input is viewed as (outer, C, inner), C-contiguous, classes on
 * the middle axis; a "line" is one (outer, inner) position (one sample), lines are numbered
 * o * inner + i, the order of the unreduced loss.
 *
 * FL_XENT (cross_entropy on logits x), with m = max_k x_k, d_k = x_k - m (0 where x_k == m,
 * so one +inf logit gives the limit), e_k = exp(d_k) at the exact x_k - m (fl_xent_exp),
 * sum = cnt + s1 (cnt = #{d_k == 0}):
 *     -log p_k = L - d_k,   L = log(sum) = log1p(cnt - 1 + s1)   (never log(softmax))
 *     loss = sum_k c_k (L - d_k) = A L - sum_k c_k d_k,   A = sum_k c_k
 *     grad_k = s (A p_k - c_k)
 * where the coefficients c_k are, for a class index t (ls = label_smoothing, w = weights):
 *     c_k = (1 - ls) w_t [k == t] + ls/C w_k          (PyTorch's smoothing with weights)
 * and for class probabilities q: c_k = w_k ((1 - ls) q_k + ls/C).  Terms with c_k == 0
 * contribute 0 even where d_k = -inf (a masked class).  The target's own gradient is taken
 * as s ((1-ls) w_t (p_t - 1) + ls/C (W p_t - w_t)) with p_t - 1 = -(sum - 1)/sum when t is
 * the largest logit (no cancellation).  An ignored line has loss 0 and gradient 0.
 * FL_NLL (nll_loss on log-probabilities x): loss = -w_t x_t, grad_k = -s w_t [k == t].
 * FL_CCE (categorical_cross_entropy on probabilities y, eps = p): loss = -sum_k q_k log(yc_k),
 *     yc = clip(y, eps, 1 - eps) (bounds in T), grad_k = -s q_k / y_k inside the clip range
 *     (bounds included, as torch.clamp), else 0.
 * s is the gradient factor of the line: grad_output[line] ('none') or a->scale (mean/sum).
 * Line losses are summed in double over fixed blocks of `block` lines -> a->part[b].
 */
#define FN(name) FL_CAT(name, S)
#if FL_T_IS_FLOAT
#define FL_XCNT int32_t     /* counts of d == 0 in lanes as wide as T (vectorize with it) */
#else
#define FL_XCNT int64_t
#endif
#define ONE ((T)1)
#define ZERO ((T)0)
#define FL_NLL_LANES 8
#define FL_T_MIN_NORMAL (FL_T_IS_FLOAT ? (T)FLT_MIN : (T)DBL_MIN)
#if FL_T_IS_FLOAT
#define FL_XE_MIN (-104.25f)     /* clamp of d: e^(d + 1/16) < 2^-150 rounds to +0 */
#define FL_XE_BIG 1048576.0f     /* |m| <= 2^20: m + FL_XE_MIN is within 1/16 */
#define FL_XE_SH 64              /* p 2^(k+SH) is normal down to the clamp */
#define FL_XE_UNSH 0x1p-64f
#else
#define FL_XE_MIN (-746.0)       /* e^(d + 2^-12) < 2^-1075 */
#define FL_XE_BIG 1099511627776.0    /* 2^40 */
#define FL_XE_SH 128
#define FL_XE_UNSH 0x1p-128
#endif

/* e^(x - m) for x <= m, at the exact difference: the rounding of d = x - m, which e^d would
 * multiply by |d| (45 ulp in float and 62 in double were seen), goes into exp's reduced
 * argument (fl_exp_arg, fl_exp_red_lo; fast and checked variants as there, the fast one
 * for |m| <= FL_XE_BIG or m = -inf, xl = m + FL_XE_MIN).  *d_out = d, 0 where x == m;
 * e is +0 where x - m < FL_XE_MIN (x = -inf included). */
FL_INLINE T FN(fl_xent_exp)(T x, T m, T xl, T *d_out, const int fast)
{
    T lo, km, dc = FN(fl_exp_arg)(x, m, xl, FL_XE_MIN, &lo, d_out, fast);
    T p = FN(fl_exp_red_lo)(dc, lo, &km);
    return (p * FN(fl_pow2k)(km, FL_XE_SH)) * FL_XE_UNSH;        /* one rounding */
}
/* whether fl_xent_exp's fast variant applies to a row maximum m */
#define FL_XE_FAST(m) (FN(fl_abs)(m) <= FL_XE_BIG || (m) == -INFINITY)

/* s1 += e for the terms of one line, in double: float terms by a plain double sum (c
 * unused); double terms by Fast2Sum: s starts at FL_XE_B = 1 >= every e, so
 * the rounding error of s + e is exactly e - (t - s), collected in c, and s1 = (s - 1) + c
 * (a plain double sum was off by up to 4 ulp in the loss and 8 in the gradient) */
#if FL_T_IS_FLOAT
#define FL_XE_B 0.0
#define FL_XE_ACC(s, c, e) ((s) += (double)(e))
#else
#define FL_XE_B 1.0
#define FL_XE_ACC(s, c, e)                                                                 \
    do { double t_ = (s) + (e); (c) += (e) - (t_ - (s)); (s) = t_; } while (0)
#endif

/* the gradient factor num / sum of e_k as ch + cl (returned, *cl), so that e_k (ch + cl)
 * rounds once (fl_xent_scale): float splits the double quotient, double adds the division's
 * residual (the product contracts into an fma, as fl_sm_recip's) */
FL_INLINE T FN(fl_xent_cf)(double num, double sum, T *cl)
{
    const double q = num / sum;
#if FL_T_IS_FLOAT
    const T h = (T)q;
    *cl = (T)(q - (double)h);
    return h;
#else
    *cl = (num - q * sum) / sum;
    return q;
#endif
}
/* e (ch + cl), the ch product contracted into the fma (written first) */
FL_INLINE T FN(fl_xent_scale)(T e, T ch, T cl)
{
    T p = e * ch;
    T q = e * cl;
    return p + q;
}

/* The exp pass of one line (classes strided by st): e_k = e^(x_k - m) stored in gx when
 * given (gx and fast are constants where this is inlined: see fl_xent_line_exps); returns
 * s1 = the sum of e_k over d_k != 0 (in double: 16 lanes, FL_XE_ACC, added in a fixed
 * order), *cnt = the number of d_k == 0. */
FL_INLINE double FN(fl_xent_line_exp)(const T *x, Py_ssize_t st, Py_ssize_t C, T m, T *gx,
                                      FL_XCNT *cnt, const int fast)
{
    const T xl = m + FL_XE_MIN;
    double sl[16], cl[16];
    FL_XCNT nl[16];
    for (int j = 0; j < 16; j++) { sl[j] = FL_XE_B; cl[j] = 0.0; nl[j] = 0; }
#define FL_XE_LINE_TERM(k, j)                                                              \
    { T d, e = FN(fl_xent_exp)(x[(k) * st], m, xl, &d, fast);                              \
      if (gx) gx[(k) * st] = e;                                                            \
      FL_XE_ACC(sl[j], cl[j], d == ZERO ? ZERO : e);                                       \
      nl[j] += d == ZERO; }
    Py_ssize_t o = 0;
    for (; o + 16 <= C; o += 16) {
        #pragma omp simd
        for (int j = 0; j < 16; j++) FL_XE_LINE_TERM(o + j, j)
    }
    #pragma omp simd
    for (int j = 0; j < C - o; j++) FL_XE_LINE_TERM(o + j, j)
#undef FL_XE_LINE_TERM
    FL_XCNT n = 0;
    for (int j = 0; j < 16; j++) { n += nl[j]; sl[j] = (sl[j] - FL_XE_B) + cl[j]; }
    *cnt = n;
    return fl_sum16_d(sl);
}
FL_INLINE double FN(fl_xent_line_exps)(const T *x, Py_ssize_t st, Py_ssize_t C, T m, T *gx,
                                       FL_XCNT *cnt)
{
    if (FL_XE_FAST(m))
        return gx ? FN(fl_xent_line_exp)(x, st, C, m, gx, cnt, 1)
                  : FN(fl_xent_line_exp)(x, st, C, m, NULL, cnt, 1);
    return gx ? FN(fl_xent_line_exp)(x, st, C, m, gx, cnt, 0)
              : FN(fl_xent_line_exp)(x, st, C, m, NULL, cnt, 0);
}

/* Every loop below is a plain `omp simd` loop (no conditional loads/stores inside), so gcc
 * vectorizes it; `omp simd reduction` lets the double sums be kept per lane (a fixed order
 * for a given build and CPU, independent of the thread count). */
static inline __attribute__((always_inline)) double
FN(fl_xent_line)(const fl_xent_args *a, Py_ssize_t l, const T *x, const T *q, T *gx,
                 Py_ssize_t st, Py_ssize_t C)
{
    const T *w = (const T *)a->w;
    const double s = a->g ? (double)((const T *)a->g)[l] : a->scale;
    const T sT = (T)s;
    if (a->kind == FL_CCE) {
        const T lo = (T)a->p, hi = ONE - lo;
        double acc = 0.0;
        #pragma omp simd reduction(+:acc)
        for (Py_ssize_t k = 0; k < C; k++) {
            T y = x[k * st];
            T yc = y < lo ? lo : (y > hi ? hi : y);
            acc -= (double)q[k * st] * (double)FN(fl_log)(yc);
        }
        if (gx) {
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) {
                T y = x[k * st];
                gx[k * st] = (y >= lo && y <= hi) ? -sT * q[k * st] / y : (y == y ? ZERO : y);
            }
        }
        return acc;
    }
    const int64_t t = a->t ? a->t[l] : 0;
    if (a->t && t == a->ignore) {
        if (gx) for (Py_ssize_t k = 0; k < C; k++) gx[k * st] = ZERO;
        return 0.0;
    }
    const double wt = a->t ? (w ? (double)w[t] : 1.0) : 0.0;
    if (a->kind == FL_NLL) {
        double loss = wt == 0.0 ? 0.0 : -wt * (double)x[t * st];
        if (gx) {
            for (Py_ssize_t k = 0; k < C; k++) gx[k * st] = ZERO;
            gx[t * st] = (T)(-s * wt);
        }
        return loss;
    }
    /* FL_XENT; c_k = wl_k q_k + cw_k (probabilities) or cw_k (+ nt at k == t) */
    const T *cw = (const T *)a->cw, *wl = (const T *)a->wl;
    const int smooth = a->p != 0.0;
    const double lsC = a->p / (double)a->C, nt = (1.0 - a->p) * wt;
    T m = -INFINITY;
    if (st == 1 && C >= 16)
        FL_ROW_MAX16(T, x, C, m);
    else {
        #pragma omp simd reduction(max:m)
        for (Py_ssize_t k = 0; k < C; k++) m = x[k * st] > m ? x[k * st] : m;
    }
    const T dt = a->t ? (x[t * st] == m ? ZERO : x[t * st] - m) : ZERO;
    double cd = 0.0, A = 0.0;                 /* sum c_k d_k, sum c_k (read x before gx) */
    if (q) {
        #pragma omp simd reduction(+:cd, A)
        for (Py_ssize_t k = 0; k < C; k++) {
            T v = x[k * st], d = v == m ? ZERO : v - m, ck = wl[k] * q[k * st] + cw[k];
            cd += ck == ZERO ? 0.0 : (double)ck * (double)d;
            A += (double)ck;
        }
    } else {
        if (smooth) {
            #pragma omp simd reduction(+:cd)
            for (Py_ssize_t k = 0; k < C; k++) {
                T v = x[k * st], d = v == m ? ZERO : v - m, ck = cw[k];
                cd += ck == ZERO ? 0.0 : (double)ck * (double)d;
            }
        }
        A = nt + lsC * a->W;
    }
    FL_XCNT ncnt;
    const double s1 = FN(fl_xent_line_exps)(x, st, C, m, gx, &ncnt);
    const double cnt = (double)ncnt;
    const double sum = m == -INFINITY ? NAN : cnt + s1;
    const double L = m == -INFINITY ? NAN : fl_log1p_d(cnt - 1.0 + s1);
    double loss = A * L - cd - (nt == 0.0 ? 0.0 : nt * (double)dt);
    if (gx) {
        T cl;
        const T ch = FN(fl_xent_cf)(s * A, sum, &cl);
        if (q) {
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++)
                gx[k * st] = FN(fl_xent_scale)(gx[k * st], ch, cl)
                             - sT * (wl[k] * q[k * st] + cw[k]);
        } else if (smooth) {
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++)
                gx[k * st] = FN(fl_xent_scale)(gx[k * st], ch, cl) - sT * cw[k];
        } else {
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) gx[k * st] = FN(fl_xent_scale)(gx[k * st], ch, cl);
        }
        if (a->t) {
            double pt = (double)FN(fl_exp_neg)(dt) / sum;
            double pm1 = dt == ZERO ? -(cnt - 1.0 + s1) / sum : pt - 1.0;
            gx[t * st] = (T)(s * (nt * pm1 + lsC * (a->W * pt - wt)));
        }
    }
    return loss;
}

/* FL_CCE with classes last (inner == 1), lines [l0, l1): the terms -q log(clip(y)) and the
 * gradient -s q / y are elementwise, so they run as flat loops over the lines' elements
 * (SIMD over the whole block instead of one short row at a time).  The value is taken
 * before the gradient is written (out= may be the input).  Line sums for reduction='none'
 * go through a buffer of whole lines. */
#define FL_CCE_CHUNK 1024
FL_INLINE T FN(fl_cce_clip)(T y, T lo, T hi) { y = y < lo ? lo : y; return y > hi ? hi : y; }
/* log(clip(y, lo, hi)); `normal` (lo >= the smallest normal number: every eps but 0) skips
 * fl_log's checks for 0 and subnormals.  It must be a constant where this is inlined (see
 * fl_cce_rows): a select between the two inside a loop leaves the loop scalar. */
FL_INLINE T FN(fl_cce_log)(T y, T lo, T hi, int normal)
{
    y = FN(fl_cce_clip)(y, lo, hi);
    return normal ? FN(fl_log_normal)(y) : FN(fl_log)(y);
}
FL_INLINE T FN(fl_cce_grad)(T y, T q, T s, T lo, T hi)
{
    T gr = -s * q / y;
    return (y >= lo && y <= hi) ? gr : (y == y ? ZERO : y);
}
/* the line losses of lines [l0, l1) (`normal` a constant: see fl_cce_log) */
FL_INLINE double FN(fl_cce_values)(const fl_xent_args *a, Py_ssize_t l0, Py_ssize_t l1,
                                   const int normal)
{
    const Py_ssize_t C = a->C, n = (l1 - l0) * C;
    const T *x = (const T *)a->x + l0 * C, *q = (const T *)a->q + l0 * C;
    T *loss = a->loss ? (T *)a->loss + l0 : NULL;
    const T lo = (T)a->p, hi = ONE - lo;
    double acc = 0.0;
    if (!loss) {
        #pragma omp simd reduction(+:acc)
        for (Py_ssize_t i = 0; i < n; i++)
            acc -= (double)q[i] * (double)FN(fl_cce_log)(x[i], lo, hi, normal);
    } else if (C > FL_CCE_CHUNK / 8) {          /* long lines: a SIMD sum along each */
        for (Py_ssize_t l = 0; l < l1 - l0; l++) {
            double v = 0.0;
            #pragma omp simd reduction(+:v)
            for (Py_ssize_t k = l * C; k < (l + 1) * C; k++)
                v -= (double)q[k] * (double)FN(fl_cce_log)(x[k], lo, hi, normal);
            loss[l] = (T)v;
            acc += v;
        }
    } else {                                    /* short lines: terms first, then sums */
        double buf[FL_CCE_CHUNK];
        const Py_ssize_t per = FL_CCE_CHUNK / C;
        for (Py_ssize_t l = 0; l < l1 - l0; l += per) {
            const Py_ssize_t nl = l1 - l0 - l < per ? l1 - l0 - l : per, o = l * C;
            #pragma omp simd
            for (Py_ssize_t i = 0; i < nl * C; i++)
                buf[i] = -(double)q[o + i] * (double)FN(fl_cce_log)(x[o + i], lo, hi, normal);
            for (Py_ssize_t j = 0; j < nl; j++) {
                double v = 0.0;
                for (Py_ssize_t k = 0; k < C; k++) v += buf[j * C + k];
                loss[l + j] = (T)v;
                acc += v;
            }
        }
    }
    return acc;
}
FL_INLINE double FN(fl_cce_rows)(const fl_xent_args *a, Py_ssize_t l0, Py_ssize_t l1)
{
    const Py_ssize_t C = a->C, n = (l1 - l0) * C;
    const T *x = (const T *)a->x + l0 * C, *q = (const T *)a->q + l0 * C;
    T *gx = a->gx ? (T *)a->gx + l0 * C : NULL;
    const T lo = (T)a->p, hi = ONE - lo;
    double acc = lo >= FL_T_MIN_NORMAL ? FN(fl_cce_values)(a, l0, l1, 1)
                                       : FN(fl_cce_values)(a, l0, l1, 0);
    if (gx && !a->g) {
        const T s = (T)a->scale;
        #pragma omp simd
        for (Py_ssize_t i = 0; i < n; i++) gx[i] = FN(fl_cce_grad)(x[i], q[i], s, lo, hi);
    } else if (gx) {
        for (Py_ssize_t l = 0; l < l1 - l0; l++) {
            const T s = ((const T *)a->g)[l0 + l];
            #pragma omp simd
            for (Py_ssize_t k = l * C; k < (l + 1) * C; k++)
                gx[k] = FN(fl_cce_grad)(x[k], q[k], s, lo, hi);
        }
    }
    return acc;
}

/* per-class constants of FL_XENT: cw_k = ls/C w_k, wl_k = (1 - ls) w_k (w = 1 if NULL),
 * zero-padded to FL_XENT_PAD classes */
static void FN(fl_xent_coef)(const void *wv, Py_ssize_t C, double ls, void *cwv, void *wlv)
{
    const T *w = (const T *)wv;
    T *cw = (T *)cwv, *wl = (T *)wlv;
    for (Py_ssize_t k = 0; k < (C > FL_XENT_PAD ? C : FL_XENT_PAD); k++) {
        T wk = k >= C ? ZERO : (w ? w[k] : ONE);
        cw[k] = (T)(ls / (double)C) * wk;
        wl[k] = (T)(1.0 - ls) * wk;
    }
}

/* nll_loss of line l (classes last), also stored to loss[l] for reduction='none' */
static inline __attribute__((always_inline)) double
FN(fl_nll_line)(const T *X, const int64_t *tt, const T *w, int64_t ign, Py_ssize_t C,
                Py_ssize_t l, T *loss)
{
    const int64_t t = tt[l];
    const int kept = t != ign;
    const int64_t tk = kept ? t : 0;
    const T wt = kept ? (w ? w[tk] : ONE) : ZERO;
    const T xv = X[l * C + tk];
    const double v = wt == ZERO ? 0.0 : -(double)wt * (double)xv;
    if (loss) loss[l] = (T)v;
    return v;
}

/* blocks [b0, b1) of a->block lines each */
FL_CLONES static void FN(fl_xent_blocks)(const fl_xent_args *a, Py_ssize_t b0, Py_ssize_t b1)
{
    const Py_ssize_t C = a->C, inner = a->inner;
    const T *X = (const T *)a->x, *Q = (const T *)a->q;
    T *GX = (T *)a->gx, *loss = (T *)a->loss;
    for (Py_ssize_t b = b0; b < b1; b++) {
        Py_ssize_t l0 = b * a->block, l1 = l0 + a->block < a->lines ? l0 + a->block : a->lines;
        double acc = 0.0;
        if (a->kind == FL_NLL && inner == 1) {
            /* nll_loss with classes last: one gather per row (and a zeroed gradient row).
             * The value-only loop is branch-free so it vectorizes (masked gathers, per-lane
             * sums in a fixed order). */
            const T *w = (const T *)a->w;
            const int64_t *tt = a->t, ign = a->ignore;
            if (!GX) {
                /* FL_NLL_LANES partial sums, line l into lane (l - l0) % FL_NLL_LANES, added
                 * in lane order: the gathers stay scalar (no vector gathers in these clones),
                 * and one running sum would wait 4 cycles per line on its own latency */
                double lane[FL_NLL_LANES] = {0};
                Py_ssize_t l = l0;
                for (; l + FL_NLL_LANES <= l1; l += FL_NLL_LANES)
                    for (int j = 0; j < FL_NLL_LANES; j++)
                        lane[j] += FN(fl_nll_line)(X, tt, w, ign, C, l + j, loss);
                for (int j = 0; l < l1; l++, j++)
                    lane[j] += FN(fl_nll_line)(X, tt, w, ign, C, l, loss);
                for (int j = 0; j < FL_NLL_LANES; j++) acc += lane[j];
            } else {
                for (Py_ssize_t l = l0; l < l1; l++) {
                    const int64_t t = tt[l];
                    const int kept = t != ign;
                    const double wt = kept ? (w ? (double)w[t] : 1.0) : 0.0;
                    const double v = wt == 0.0 ? 0.0 : -wt * (double)X[l * C + (kept ? t : 0)];
                    T *gx = GX + l * C;
                    memset(gx, 0, (size_t)C * sizeof(T));
                    if (kept) gx[t] = (T)(-(a->g ? (double)((const T *)a->g)[l] : a->scale) * wt);
                    if (loss) loss[l] = (T)v;
                    acc += v;
                }
            }
            if (a->part) a->part[b] = acc;
            continue;
        }
        if (a->kind == FL_CCE && inner == 1) {
            acc = FN(fl_cce_rows)(a, l0, l1);
            if (a->part) a->part[b] = acc;
            continue;
        }
        for (Py_ssize_t l = l0; l < l1; l++) {
            Py_ssize_t o = l / inner, off = o * C * inner + (l - o * inner);
            const T *q = Q ? Q + off : NULL;
            T *gx = GX ? GX + off : NULL;
            double v;
            if (inner == 1 && C <= FL_XENT_PAD) {      /* FL_XENT (FL_CCE went above) */
                /* short rows: padded to a constant length so that the loops vectorize
                 * (padding: logit -inf, target mass 0, weight 0) */
                T xb[FL_XENT_PAD], qb[FL_XENT_PAD], gb[FL_XENT_PAD];
                for (Py_ssize_t k = 0; k < FL_XENT_PAD; k++) {
                    xb[k] = k < C ? X[off + k] : -INFINITY;
                    qb[k] = k < C && q ? q[k] : ZERO;
                }
                v = FN(fl_xent_line)(a, l, xb, q ? qb : NULL, gx ? gb : NULL, 1, FL_XENT_PAD);
                if (gx) for (Py_ssize_t k = 0; k < C; k++) gx[k] = gb[k];
            } else if (inner == 1) {
                v = FN(fl_xent_line)(a, l, X + off, q, gx, 1, C);
            } else {
                v = FN(fl_xent_line)(a, l, X + off, q, gx, inner, C);
            }
            if (loss) loss[l] = (T)v;
            acc += v;
        }
        if (a->part) a->part[b] = acc;
    }
}

/* one term of an exp pass: e = e^(V - M) (fl_xent_exp with XL = M + FL_XE_MIN and the
 * constant FAST), stored in GX[I] when GX is given; e is added to s unless d = V - M is 0
 * (the maxima are counted in c) */
#define FL_XENT_TERM(V, M, XL, FAST, GX, I, s, c)                                          \
    { T d_, e_ = FN(fl_xent_exp)((V), (M), (XL), &d_, (FAST));                             \
      if (GX) (GX)[I] = e_;                                                                \
      s += d_ == ZERO ? ZERO : e_; c += d_ == ZERO ? 1 : 0; }

/* ---- lean path: FL_XENT with class indices, no weight, no label smoothing --------------
 * loss = L - d_t, grad_k = s e_k / sum (k != t), grad_t = s (p_t - 1); ignored lines 0.
 * Lines are processed FL_XENT_CHUNK at a time with SIMD across the lines: x points to the
 * first line's class 0, class k of line j is at x[k * cs + j].  gx (same layout, may be x
 * itself: each element is read before it is written) receives e_k, then the gradient when
 * `fin` is set (lx: the gradient's layout differs; the caller scales it, see below).
 * Returns the sum of the w line losses (vector order fixed for a build and CPU). */
#define FL_XENT_CHUNK 64
/* the lean chunk's per-line values and gradient coefficients: lv (line loss), cf (s/sum, the
 * factor of e_k, as cf[j] + cf[FL_XENT_CHUNK + j]: fl_xent_cf), gt (the target's gradient);
 * m[j] becomes 1 where the line is kept, else 0 */
FL_INLINE void FN(fl_xent_lean_grad_coef)(const fl_xent_args *a, Py_ssize_t w, const int64_t *t,
                                          const T *g, T *m, const double *s1, const T *cnt,
                                          const T *dtv, const double *uv, double *lv, T *cf, T *gt)
{
    const int64_t ign = a->ignore;
    double sv[FL_XENT_CHUNK];
    if (g) {
        #pragma omp simd
        for (Py_ssize_t j = 0; j < w; j++) sv[j] = (double)g[j];
    } else {
        #pragma omp simd
        for (Py_ssize_t j = 0; j < w; j++) sv[j] = a->scale;
    }
    #pragma omp simd
    for (Py_ssize_t j = 0; j < w; j++) {
        const int ok = t[j] != ign;
        const T dt = dtv[j];
        const int dead = m[j] == -INFINITY;
        const double sum = dead ? NAN : (double)cnt[j] + s1[j];
        const double L = dead ? NAN : uv[j];
        lv[j] = ok ? L - (double)dt : 0.0;
        const double s = sv[j];
        const double pt = (double)FN(fl_exp_neg)(dt) / sum;
        const double pm1 = dt == ZERO ? -((double)cnt[j] - 1.0 + s1[j]) / sum : pt - 1.0;
        T cl, ch = FN(fl_xent_cf)(s, sum, &cl);
        cf[j] = ok ? ch : ZERO;
        cf[FL_XENT_CHUNK + j] = ok ? cl : ZERO;
        gt[j] = ok ? (T)(s * pm1) : ZERO;
        m[j] = ok ? ONE : ZERO;
    }
}
FL_INLINE double FN(fl_xent_lean_chunk)(const fl_xent_args *a, Py_ssize_t l, Py_ssize_t w,
                                        const T *x, Py_ssize_t cs, const T *xt, T *gx,
                                        T *cf, T *gt, int fin)
{
    const Py_ssize_t C = a->C;
    const int64_t *t = a->t + l, ign = a->ignore;
    const T *g = a->g ? (const T *)a->g + l : NULL;
    T *lossv = a->loss ? (T *)a->loss + l : NULL;
    T m[FL_XENT_CHUNK];
    double s1[FL_XENT_CHUNK], c1[FL_XENT_CHUNK];  /* FL_XE_ACC pairs */
    T cnt[FL_XENT_CHUNK];               /* exact: at most C <= 2^24 */
    #pragma omp simd
    for (Py_ssize_t j = 0; j < w; j++) {
        m[j] = -INFINITY; s1[j] = FL_XE_B; c1[j] = 0.0; cnt[j] = ZERO;
    }
    for (Py_ssize_t k = 0; k < C; k++) {
        #pragma omp simd
        for (Py_ssize_t j = 0; j < w; j++) { T v = x[k * cs + j]; m[j] = v > m[j] ? v : m[j]; }
    }
    /* e_k = exp(d_k) of class k, stored in gx when given; float: classes in pairs, each
     * pair's sum rounded once in float before the double sum (a third of the work of the
     * loop was converting and adding every term in double); s1 stays within 2^-24 relative.
     * fl_xent_exp's fast variant where it applies to every line of the chunk. */
    T xl[FL_XENT_CHUNK];
    int fast = 1;
    #pragma omp simd reduction(&:fast)
    for (Py_ssize_t j = 0; j < w; j++) {
        xl[j] = m[j] + FL_XE_MIN;
        fast &= FL_XE_FAST(m[j]);
    }
#define FL_XL_PASS(GX, FAST)                                                               \
    {                                                                                      \
        Py_ssize_t k = 0;                                                                  \
        for (; FL_T_IS_FLOAT && k + 1 < C; k += 2) {                                       \
            _Pragma("omp simd")                                                            \
            for (Py_ssize_t j = 0; j < w; j++) {                                           \
                T s = ZERO, c = ZERO;                                                      \
                FL_XENT_TERM(x[k * cs + j], m[j], xl[j], FAST, GX, k * cs + j, s, c)      \
                FL_XENT_TERM(x[(k + 1) * cs + j], m[j], xl[j], FAST, GX, (k + 1) * cs + j, \
                             s, c)                                                         \
                FL_XE_ACC(s1[j], c1[j], s);                                                \
                cnt[j] += c;                                                               \
            }                                                                              \
        }                                                                                  \
        for (; k < C; k++) {                                                               \
            _Pragma("omp simd")                                                            \
            for (Py_ssize_t j = 0; j < w; j++) {                                           \
                T s = ZERO, c = ZERO;                                                      \
                FL_XENT_TERM(x[k * cs + j], m[j], xl[j], FAST, GX, k * cs + j, s, c)      \
                FL_XE_ACC(s1[j], c1[j], s);                                                \
                cnt[j] += c;                                                               \
            }                                                                              \
        }                                                                                  \
    }
    if (gx && fast)
        FL_XL_PASS(gx, 1)
    else if (gx)
        FL_XL_PASS(gx, 0)
    else if (fast)
        FL_XL_PASS((T *)NULL, 1)
    else
        FL_XL_PASS((T *)NULL, 0)
#undef FL_XL_PASS
    /* per line, in separate simple loops so that each vectorizes */
    double acc = 0.0, lv[FL_XENT_CHUNK], uv[FL_XENT_CHUNK];
    T dtv[FL_XENT_CHUNK];
    #pragma omp simd
    for (Py_ssize_t j = 0; j < w; j++) {
        s1[j] = (s1[j] - FL_XE_B) + c1[j];
        dtv[j] = xt[j] == m[j] ? ZERO : xt[j] - m[j];
        uv[j] = fl_log1p_d((double)cnt[j] - 1.0 + s1[j]);
    }
    if (gx)
        FN(fl_xent_lean_grad_coef)(a, w, t, g, m, s1, cnt, dtv, uv, lv, cf, gt);
    else {                              /* the value alone: no p_t, no divisions */
        #pragma omp simd
        for (Py_ssize_t j = 0; j < w; j++)
            lv[j] = t[j] == ign ? 0.0 : (m[j] == -INFINITY ? NAN : uv[j]) - (double)dtv[j];
    }
    #pragma omp simd reduction(+:acc)
    for (Py_ssize_t j = 0; j < w; j++) acc += lv[j];
    if (lossv) {
        #pragma omp simd
        for (Py_ssize_t j = 0; j < w; j++) lossv[j] = (T)lv[j];
    }
    if (gx && fin) {
        for (Py_ssize_t k = 0; k < C; k++) {
            #pragma omp simd
            for (Py_ssize_t j = 0; j < w; j++)
                gx[k * cs + j] = m[j] == ONE ? FN(fl_xent_scale)(gx[k * cs + j], cf[j],
                                                                 cf[FL_XENT_CHUNK + j]) : ZERO;
        }
        for (Py_ssize_t j = 0; j < w; j++) {
            int64_t tj = t[j] != ign ? t[j] : 0;
            gx[tj * cs + j] = gt[j];           /* 0 for an ignored line */
        }
    }
    return acc;
}

/* the transposes of the short-row lean path, inlined with a constant C (see FL_TR_CASES) */
FL_INLINE void FN(fl_xent_tr_in)(T *buf, const T *x, Py_ssize_t w, const Py_ssize_t C)
{
    for (Py_ssize_t j = 0; j < w; j++)
        for (Py_ssize_t k = 0; k < C; k++) buf[k * FL_XENT_CHUNK + j] = x[j * C + k];
}
FL_INLINE void FN(fl_xent_tr_out)(T *gx, const T *buf, const int64_t *tl, int64_t ign,
                                  const T *cf, const T *gt, Py_ssize_t w, const Py_ssize_t C)
{
    for (Py_ssize_t j = 0; j < w; j++) {
        const int64_t tj = tl[j];
        const int ok = tj != ign;
        const T ch = cf[j], cl = cf[FL_XENT_CHUNK + j];
        for (Py_ssize_t k = 0; k < C; k++)
            gx[j * C + k] = ok ? FN(fl_xent_scale)(buf[k * FL_XENT_CHUNK + j], ch, cl) : ZERO;
        if (ok) gx[j * C + tj] = gt[j];
    }
}

/* The exp pass of one long row (as fl_xent_line_exp, gx and fast constants where this is
 * inlined: see fl_xent_row_exps).  float: 16 lanes, each adding blocks of 4 terms in float
 * before its double sum (the partials' roundings keep s1 within ~2^-23 relative; about 10%
 * faster than converting every term), lanes added in a fixed order. */
FL_INLINE double FN(fl_xent_row_exp)(const T *x, T m, T *gx, Py_ssize_t C, FL_XCNT *cnt,
                                     const int fast)
{
#if FL_T_IS_FLOAT
    const T xl = m + FL_XE_MIN;
    double al[16];
    int32_t nl[16];
    for (int j = 0; j < 16; j++) { al[j] = 0.0; nl[j] = 0; }
    const Py_ssize_t C64 = C - C % 64;
    for (Py_ssize_t o = 0; o < C64; o += 64) {
        #pragma omp simd
        for (int j = 0; j < 16; j++) {
            T s = ZERO;
            int32_t c = 0;
            FL_XENT_TERM(x[o + j], m, xl, fast, gx, o + j, s, c)
            FL_XENT_TERM(x[o + 16 + j], m, xl, fast, gx, o + 16 + j, s, c)
            FL_XENT_TERM(x[o + 32 + j], m, xl, fast, gx, o + 32 + j, s, c)
            FL_XENT_TERM(x[o + 48 + j], m, xl, fast, gx, o + 48 + j, s, c)
            al[j] += (double)s;
            nl[j] += c;
        }
    }
    for (Py_ssize_t o = C64; o < C; o += 16) {
        const int n = C - o < 16 ? (int)(C - o) : 16;
        #pragma omp simd
        for (int j = 0; j < n; j++) {
            T s = ZERO;
            int32_t c = 0;
            FL_XENT_TERM(x[o + j], m, xl, fast, gx, o + j, s, c)
            al[j] += (double)s;
            nl[j] += c;
        }
    }
    *cnt = fl_sum16_i(nl);
    return fl_sum16_d(al);
#else
    return FN(fl_xent_line_exp)(x, 1, C, m, gx, cnt, fast);
#endif
}
FL_INLINE double FN(fl_xent_row_exps)(const T *x, T m, T *gx, Py_ssize_t C, FL_XCNT *cnt)
{
    if (FL_XE_FAST(m))
        return gx ? FN(fl_xent_row_exp)(x, m, gx, C, cnt, 1)
                  : FN(fl_xent_row_exp)(x, m, NULL, C, cnt, 1);
    return gx ? FN(fl_xent_row_exp)(x, m, gx, C, cnt, 0)
              : FN(fl_xent_row_exp)(x, m, NULL, C, cnt, 0);
}

/* lean path, blocks [b0, b1); inner == 1 with short rows is transposed FL_XENT_CHUNK rows
 * at a time into a class-major buffer; long rows are done one at a time along the row */
FL_CLONES static void FN(fl_xent_lean_blocks)(const fl_xent_args *a, Py_ssize_t b0, Py_ssize_t b1)
{
    const Py_ssize_t C = a->C, inner = a->inner;
    const T *X = (const T *)a->x;
    T *GX = (T *)a->gx;
    const int64_t *tg = a->t, ign = a->ignore;
    T xt[FL_XENT_CHUNK], cf[2 * FL_XENT_CHUNK], gt[FL_XENT_CHUNK];
    for (Py_ssize_t b = b0; b < b1; b++) {
        Py_ssize_t l0 = b * a->block, l1 = l0 + a->block < a->lines ? l0 + a->block : a->lines;
        double acc = 0.0;
        if (inner == 1 && C * (Py_ssize_t)sizeof(T) <= FL_SHORT_ROW_BYTES) {
            /* FL_XENT_CHUNK rows transposed into buf (class-major), SIMD across the rows,
             * the gradient transposed back */
            T buf[FL_SHORT_ROW_BYTES / sizeof(T) * FL_XENT_CHUNK];
            const int gather = fl_gather_ready(C);
            for (Py_ssize_t l = l0; l < l1; l += FL_XENT_CHUNK) {
                Py_ssize_t w = l1 - l < FL_XENT_CHUNK ? l1 - l : FL_XENT_CHUNK;
                const T *x = X + l * C;
                /* a full chunk: gathers both ways (fl_gather.h), the gradient finished in buf */
                const int full = gather && w == FL_XENT_CHUNK;
                if (full)
                    FL_CAT(fl_gather_in, S)(buf, FL_XENT_CHUNK, x, C, FL_XENT_CHUNK);
                else switch (C) {      /* compile-time row lengths */
#define FL_TR_CASE(c) case c: FN(fl_xent_tr_in)(buf, x, w, c); break;
                FL_TR_CASES
#undef FL_TR_CASE
                default: FN(fl_xent_tr_in)(buf, x, w, C);
                }
                #pragma omp simd
                for (Py_ssize_t j = 0; j < w; j++) {
                    int64_t tj = tg[l + j];
                    xt[j] = x[j * C + (tj != ign ? tj : 0)];
                }
                acc += FN(fl_xent_lean_chunk)(a, l, w, buf, FL_XENT_CHUNK, xt,
                                              GX ? buf : NULL, cf, gt, full);
                if (!GX)
                    continue;
                T *gx = GX + l * C;
                const int64_t *tl = tg + l;
                if (full)
                    FL_CAT(fl_gather_out, S)(gx, buf, FL_XENT_CHUNK, C, FL_XENT_CHUNK);
                else switch (C) {
#define FL_TR_CASE(c) case c: FN(fl_xent_tr_out)(gx, buf, tl, ign, cf, gt, w, c); break;
                FL_TR_CASES
#undef FL_TR_CASE
                default: FN(fl_xent_tr_out)(gx, buf, tl, ign, cf, gt, w, C);
                }
            }
        } else if (inner == 1) {
            for (Py_ssize_t l = l0; l < l1; l++) {
                const T *x = X + l * C;
                T *gx = GX ? GX + l * C : NULL;
                const int64_t tj = tg[l];
                const int ok = tj != ign;
                T m;
                FL_ROW_MAX16(T, x, C, m);               /* C > 16 here */
                const T xtj = x[ok ? tj : 0];
                const T dt = xtj == m ? ZERO : xtj - m;
                FL_XCNT ncnt;
                const double s1 = FN(fl_xent_row_exps)(x, m, gx, C, &ncnt);
                const double cnt = (double)ncnt;
                const double sum = m == -INFINITY ? NAN : cnt + s1;
                const double L = m == -INFINITY ? NAN : fl_log1p_d(cnt - 1.0 + s1);
                const double v = ok ? L - (double)dt : 0.0;
                if (a->loss) ((T *)a->loss)[l] = (T)v;
                acc += v;
                if (gx) {
                    if (!ok) {
                        for (Py_ssize_t k = 0; k < C; k++) gx[k] = ZERO;
                        continue;
                    }
                    const double s = a->g ? (double)((const T *)a->g)[l] : a->scale;
                    T cl;
                    const T ch = FN(fl_xent_cf)(s, sum, &cl);
                    #pragma omp simd
                    for (Py_ssize_t k = 0; k < C; k++) gx[k] = FN(fl_xent_scale)(gx[k], ch, cl);
                    const double pt = (double)FN(fl_exp_neg)(dt) / sum;
                    const double pm1 = dt == ZERO ? -(cnt - 1.0 + s1) / sum : pt - 1.0;
                    gx[tj] = (T)(s * pm1);
                }
            }
        } else {
            /* classes strided by inner: chunks of up to 64 consecutive lines of one outer */
            for (Py_ssize_t l = l0; l < l1;) {
                Py_ssize_t o = l / inner, i = l - o * inner, w = inner - i;
                if (w > l1 - l) w = l1 - l;
                if (w > FL_XENT_CHUNK) w = FL_XENT_CHUNK;
                Py_ssize_t base = o * C * inner + i;
                for (Py_ssize_t j = 0; j < w; j++) {
                    int64_t tj = tg[l + j];
                    xt[j] = X[base + (tj != ign ? tj : 0) * inner + j];
                }
                acc += FN(fl_xent_lean_chunk)(a, l, w, X + base, inner, xt,
                                              GX ? GX + base : NULL, cf, gt, 1);
                l += w;
            }
        }
        if (a->part) a->part[b] = acc;
    }
}

/* Class indices: the first position whose index is outside [0, C) and not `ignore` (-1 if
 * none); *denom = sum of w[t] (1 without weights) over the other positions, in order. */
FL_CLONES static Py_ssize_t FN(fl_xent_scan)(const int64_t *t, Py_ssize_t n, Py_ssize_t C,
                                             int64_t ignore, const void *wv, double *denom)
{
    const T *w = (const T *)wv;
    double acc = 0.0;
    if (!w) {                       /* vectorized: count, and look for a bad index at all */
        int64_t kept = 0, bad = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t v = t[i], ok = v != ignore ? 1 : 0;
            kept += ok;
            bad |= (uint64_t)v >= (uint64_t)C ? ok : 0;
        }
        if (!bad) { *denom = (double)kept; return -1; }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t v = t[i];
        if (v == ignore) continue;
        if (v < 0 || v >= C) { *denom = acc; return i; }
        acc += w ? (double)w[v] : 1.0;
    }
    *denom = acc;
    return -1;
}

#undef FL_XENT_TERM
#undef FL_XE_MIN
#undef FL_XE_BIG
#undef FL_XE_SH
#undef FL_XE_UNSH
#undef FL_XE_FAST
#undef FL_XE_B
#undef FL_XE_ACC
#undef FN
#undef FL_NLL_LANES
#undef FL_T_MIN_NORMAL
#undef FL_XCNT
#undef ONE
#undef ZERO
