/* fl_xent_tmpl.h -- cross-entropy family, written once for T = float (S = _f) and double (_d).
 * Included by fl_xent.h.  The input is viewed as (outer, C, inner), C-contiguous, classes on
 * the middle axis; a "line" is one (outer, inner) position (one sample), lines are numbered
 * o * inner + i, the order of the unreduced loss.
 *
 * FL_XENT (cross_entropy on logits x), with m = max_k x_k, d_k = x_k - m (0 where x_k == m,
 * so one +inf logit gives the limit), e_k = exp(d_k), sum = cnt + s1 (cnt = #{d_k == 0}):
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
#define ONE ((T)1)
#define ZERO ((T)0)

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
    #pragma omp simd reduction(max:m)
    for (Py_ssize_t k = 0; k < C; k++) m = x[k * st] > m ? x[k * st] : m;
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
    double s1 = 0.0, cnt = 0.0;
    if (gx) {
        #pragma omp simd reduction(+:s1, cnt)
        for (Py_ssize_t k = 0; k < C; k++) {
            T v = x[k * st], d = v == m ? ZERO : v - m, e = FN(fl_exp_neg)(d);
            s1 += d == ZERO ? 0.0 : (double)e;
            cnt += d == ZERO ? 1.0 : 0.0;
            gx[k * st] = e;
        }
    } else {
        #pragma omp simd reduction(+:s1, cnt)
        for (Py_ssize_t k = 0; k < C; k++) {
            T v = x[k * st], d = v == m ? ZERO : v - m, e = FN(fl_exp_neg)(d);
            s1 += d == ZERO ? 0.0 : (double)e;
            cnt += d == ZERO ? 1.0 : 0.0;
        }
    }
    const double sum = m == -INFINITY ? NAN : cnt + s1;
    const double L = m == -INFINITY ? NAN : fl_log1p_d(cnt - 1.0 + s1);
    double loss = A * L - cd - (nt == 0.0 ? 0.0 : nt * (double)dt);
    if (gx) {
        const T cf = (T)(s * A / sum);
        if (q) {
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++)
                gx[k * st] = cf * gx[k * st] - sT * (wl[k] * q[k * st] + cw[k]);
        } else if (smooth) {
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) gx[k * st] = cf * gx[k * st] - sT * cw[k];
        } else {
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) gx[k * st] = cf * gx[k * st];
        }
        if (a->t) {
            double pt = (double)FN(fl_exp_neg)(dt) / sum;
            double pm1 = dt == ZERO ? -(cnt - 1.0 + s1) / sum : pt - 1.0;
            gx[t * st] = (T)(s * (nt * pm1 + lsC * (a->W * pt - wt)));
        }
    }
    return loss;
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

/* blocks [b0, b1) of a->block lines each */
FL_CLONES static void FN(fl_xent_blocks)(const fl_xent_args *a, Py_ssize_t b0, Py_ssize_t b1)
{
    const Py_ssize_t C = a->C, inner = a->inner;
    const T *X = (const T *)a->x, *Q = (const T *)a->q;
    T *GX = (T *)a->gx, *loss = (T *)a->loss;
    for (Py_ssize_t b = b0; b < b1; b++) {
        Py_ssize_t l0 = b * a->block, l1 = l0 + a->block < a->lines ? l0 + a->block : a->lines;
        double acc = 0.0;
        for (Py_ssize_t l = l0; l < l1; l++) {
            Py_ssize_t o = l / inner, off = o * C * inner + (l - o * inner);
            const T *q = Q ? Q + off : NULL;
            T *gx = GX ? GX + off : NULL;
            double v;
            if (inner == 1 && C <= FL_XENT_PAD && a->kind != FL_NLL) {
                /* short rows: padded to a constant length so that the loops vectorize
                 * (padding: logit -inf, probability 1/2, target mass 0, weight 0) */
                T xb[FL_XENT_PAD], qb[FL_XENT_PAD], gb[FL_XENT_PAD];
                const T pad = a->kind == FL_CCE ? (T)0.5 : -INFINITY;
                for (Py_ssize_t k = 0; k < FL_XENT_PAD; k++) {
                    xb[k] = k < C ? X[off + k] : pad;
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

/* Class indices: the first position whose index is outside [0, C) and not `ignore` (-1 if
 * none); *denom = sum of w[t] (1 without weights) over the other positions, in order. */
static Py_ssize_t FN(fl_xent_scan)(const int64_t *t, Py_ssize_t n, Py_ssize_t C, int64_t ignore,
                                   const void *wv, double *denom)
{
    const T *w = (const T *)wv;
    double acc = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t v = t[i];
        if (v == ignore) continue;
        if (v < 0 || v >= C) { *denom = acc; return i; }
        acc += w ? (double)w[v] : 1.0;
    }
    *denom = acc;
    return -1;
}

#undef FN
#undef ONE
#undef ZERO
