/* Kernels along one axis of an array viewed as (outer, C, inner), C-contiguous.
 *
 * softmax family, mode FL_SOFTMAX / FL_LOG_SOFTMAX / FL_SOFTMAX_GRAD / FL_LOG_SOFTMAX_GRAD.
 * With m = max_k x_k, d_k = x_k - m (taken as 0 where x_k == m, so one +inf logit gives the
 * limit [1, 0, ...]), e_k = exp(d_k) and  sum = cnt + s1  (cnt = #{d_k == 0},
 * s1 = sum of the other e_k, accumulated in double):
 *     softmax_k      = e_k / sum
 *     log_softmax_k  = d_k - log1p(cnt - 1 + s1)     (the dominant class keeps its digits)
 *     softmax_grad_k = y_k (g_k - sum_j g_j y_j),  log_softmax_grad_k = g_k - y_k sum_j g_j
 * d_k is rounded, and exp multiplies that rounding by |d_k|: the exact residual of the
 * subtraction (TwoDiff) is carried as exp(d) (1 + d_lo).
 * A row of all -inf (no limit exists) gives NaN, as does a NaN anywhere in the row.
 * A "line" is one (outer, inner) position; the kernels process lines [l0, l1).
 */
#define FL_AXIS_CHUNK 64

/* exp(x - m) for x <= m, with the rounding of x - m corrected; x == m (also both +inf) -> 1 */
FL_INLINE T FN(fl_exp_diff)(T x, T m, T *d_out)
{
    T d = x - m, bb = d - x, lo = (x - (d - bb)) - (m + bb);
    d = x == m ? ZERO : d;
    lo = (x == m || lo != lo) ? ZERO : lo;
    *d_out = d;
    T e = FN(fl_exp_neg)(d);
    return e + e * lo;
}

FL_CLONES static void FN(fl_softmax_rows)(const void *xv, const void *gv, void *yv,
                                          Py_ssize_t C, Py_ssize_t l0, Py_ssize_t l1, int mode)
{
    /* `omp simd reduction` lets gcc keep per-lane partial sums: without it, IEEE order
     * forbids vectorizing a floating-point sum (the order is still fixed for a given build,
     * and rows are never split between threads) */
    for (Py_ssize_t r = l0; r < l1; r++) {
        const T *x = (const T *)xv + r * C;
        const T *g = gv ? (const T *)gv + r * C : NULL;
        T *y = (T *)yv + r * C;
        T m = -INFINITY;
        #pragma omp simd reduction(max:m)
        for (Py_ssize_t k = 0; k < C; k++) m = x[k] > m ? x[k] : m;
        double s1 = 0.0, cnt = 0.0;
        if (mode == FL_LOG_SOFTMAX) {
            #pragma omp simd reduction(+:s1, cnt)
            for (Py_ssize_t k = 0; k < C; k++) {
                T d, e = FN(fl_exp_diff)(x[k], m, &d);
                s1 += d == ZERO ? 0.0 : (double)e;
                cnt += d == ZERO ? 1.0 : 0.0;
            }
            /* d_k - L: d_k <= 0 <= L, no cancellation, so the dtype itself is enough */
            const T L = (T)(m == -INFINITY ? NAN : fl_log1p_d(cnt - 1.0 + s1));
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) y[k] = x[k] == m ? -L : (x[k] - m) - L;
            continue;
        }
        #pragma omp simd reduction(+:s1, cnt)
        for (Py_ssize_t k = 0; k < C; k++) {
            T d, e = FN(fl_exp_diff)(x[k], m, &d);
            s1 += d == ZERO ? 0.0 : (double)e;
            cnt += d == ZERO ? 1.0 : 0.0;
            y[k] = e;
        }
        const T rs = (T)(m == -INFINITY ? NAN : 1.0 / (cnt + s1));   /* 1 / sum */
        #pragma omp simd
        for (Py_ssize_t k = 0; k < C; k++) y[k] = y[k] * rs;
        if (mode == FL_SOFTMAX_GRAD) {
            double dot = 0.0;
            #pragma omp simd reduction(+:dot)
            for (Py_ssize_t k = 0; k < C; k++) dot += (double)g[k] * (double)y[k];
            const T dt = (T)dot;
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) y[k] = y[k] * (g[k] - dt);
        } else if (mode == FL_LOG_SOFTMAX_GRAD) {
            double sg = 0.0;
            #pragma omp simd reduction(+:sg)
            for (Py_ssize_t k = 0; k < C; k++) sg += (double)g[k];
            const T st = (T)sg;
            #pragma omp simd
            for (Py_ssize_t k = 0; k < C; k++) y[k] = g[k] - y[k] * st;
        }
    }
}

/* inner > 1: the class axis is strided by `inner`; vectorize over up to 64 lines at once */
FL_CLONES static void FN(fl_softmax_strided)(const void *xv, const void *gv, void *yv,
                                             Py_ssize_t C, Py_ssize_t inner,
                                             Py_ssize_t l0, Py_ssize_t l1, int mode)
{
    T m[FL_AXIS_CHUNK];
    double s1[FL_AXIS_CHUNK], cnt[FL_AXIS_CHUNK], acc[FL_AXIS_CHUNK];
    Py_ssize_t l = l0;
    while (l < l1) {
        Py_ssize_t o = l / inner, i = l - o * inner;
        Py_ssize_t w = inner - i;
        if (w > l1 - l) w = l1 - l;
        if (w > FL_AXIS_CHUNK) w = FL_AXIS_CHUNK;
        Py_ssize_t base = o * C * inner + i;
        const T *x = (const T *)xv + base;
        const T *g = gv ? (const T *)gv + base : NULL;
        T *y = (T *)yv + base;
        for (Py_ssize_t j = 0; j < w; j++) { m[j] = -INFINITY; s1[j] = 0.0; cnt[j] = 0.0; acc[j] = 0.0; }
        for (Py_ssize_t k = 0; k < C; k++)
            for (Py_ssize_t j = 0; j < w; j++) { T v = x[k * inner + j]; m[j] = v > m[j] ? v : m[j]; }
        for (Py_ssize_t k = 0; k < C; k++)
            for (Py_ssize_t j = 0; j < w; j++) {
                T d, e = FN(fl_exp_diff)(x[k * inner + j], m[j], &d);
                s1[j] += d == ZERO ? 0.0 : (double)e;
                cnt[j] += d == ZERO ? 1.0 : 0.0;
                if (mode != FL_LOG_SOFTMAX) y[k * inner + j] = e;
            }
        if (mode == FL_LOG_SOFTMAX) {
            for (Py_ssize_t j = 0; j < w; j++)
                acc[j] = m[j] == -INFINITY ? NAN : fl_log1p_d(cnt[j] - 1.0 + s1[j]);
            for (Py_ssize_t k = 0; k < C; k++)
                for (Py_ssize_t j = 0; j < w; j++) {
                    T v = x[k * inner + j];
                    y[k * inner + j] = (T)(v == m[j] ? -acc[j] : ((double)v - (double)m[j]) - acc[j]);
                }
        } else {
            T rs[FL_AXIS_CHUNK];
            for (Py_ssize_t j = 0; j < w; j++) rs[j] = (T)(m[j] == -INFINITY ? NAN : 1.0 / (cnt[j] + s1[j]));
            for (Py_ssize_t k = 0; k < C; k++)
                for (Py_ssize_t j = 0; j < w; j++)
                    y[k * inner + j] = y[k * inner + j] * rs[j];
            if (mode == FL_SOFTMAX_GRAD || mode == FL_LOG_SOFTMAX_GRAD) {
                for (Py_ssize_t k = 0; k < C; k++)
                    for (Py_ssize_t j = 0; j < w; j++)
                        acc[j] += (double)g[k * inner + j]
                                  * (mode == FL_SOFTMAX_GRAD ? (double)y[k * inner + j] : 1.0);
                for (Py_ssize_t k = 0; k < C; k++)
                    for (Py_ssize_t j = 0; j < w; j++) {
                        double yk = y[k * inner + j], gk = g[k * inner + j];
                        y[k * inner + j] = (T)(mode == FL_SOFTMAX_GRAD ? yk * (gk - acc[j])
                                                                       : gk - yk * acc[j]);
                    }
            }
        }
        l += w;
    }
}

#define FL_PRELU_REP 64
/* prelu over rows [r0, r1) of (outer, C, inner): y = x > 0 ? x : w[c] x.
 * With gw != NULL (the gradient): y = g (x > 0 ? 1 : w[c]) and gw[c] += sum(x <= 0 ? x g : 0),
 * accumulated in double in a fixed order.  g == NULL means g = 1. */
FL_CLONES static void FN(fl_prelu_rows)(const void *xv, const void *wv, const void *gv,
                                        void *yv, double *gw, Py_ssize_t C, Py_ssize_t inner,
                                        Py_ssize_t r0, Py_ssize_t r1)
{
    const T *wt = (const T *)wv;
    if (inner == 1 && C < FL_PRELU_REP) {
        /* (N, C) with few channels: the weights repeated over `per` rows (R >= FL_PRELU_REP
         * elements), so that one SIMD loop covers several rows; gw per repeated position,
         * folded into gw[c] at the end (a fixed order) */
        T wr[2 * FL_PRELU_REP];
        double gr[2 * FL_PRELU_REP];
        const Py_ssize_t per = (FL_PRELU_REP + C - 1) / C, R = per * C;
        for (Py_ssize_t j = 0; j < R; j++) { wr[j] = wt[j % C]; gr[j] = 0.0; }
        Py_ssize_t r = r0;
        for (; r + per <= r1; r += per) {
            const T *x = (const T *)xv + r * C;
            const T *g = gv ? (const T *)gv + r * C : NULL;
            T *y = (T *)yv + r * C;
            if (gw == NULL) {
                #pragma omp simd
                for (Py_ssize_t j = 0; j < R; j++) y[j] = x[j] > ZERO ? x[j] : wr[j] * x[j];
            } else {
                #pragma omp simd
                for (Py_ssize_t j = 0; j < R; j++) {
                    T gi = g ? g[j] : ONE;
                    y[j] = x[j] > ZERO ? gi : wr[j] * gi;
                    gr[j] += x[j] > ZERO ? 0.0 : (double)x[j] * (double)gi;
                }
            }
        }
        const Py_ssize_t rest = (r1 - r) * C;      /* fewer than `per` rows left */
        const T *x = (const T *)xv + r * C;
        const T *g = gv ? (const T *)gv + r * C : NULL;
        T *y = (T *)yv + r * C;
        for (Py_ssize_t j = 0; j < rest; j++) {
            T gi = gw == NULL ? x[j] : (g ? g[j] : ONE);
            y[j] = x[j] > ZERO ? gi : wr[j] * gi;
            if (gw) gr[j] += x[j] > ZERO ? 0.0 : (double)x[j] * (double)gi;
        }
        if (gw)
            for (Py_ssize_t j = 0; j < R; j++) gw[j % C] += gr[j];
        return;
    }
    if (inner == 1) {              /* (N, C): vectorize across the channels of a row */
        for (Py_ssize_t r = r0; r < r1; r++) {
            const T *x = (const T *)xv + r * C;
            const T *g = gv ? (const T *)gv + r * C : NULL;
            T *y = (T *)yv + r * C;
            if (gw == NULL) {
                #pragma omp simd
                for (Py_ssize_t c = 0; c < C; c++) y[c] = x[c] > ZERO ? x[c] : wt[c] * x[c];
            } else {
                #pragma omp simd
                for (Py_ssize_t c = 0; c < C; c++) {
                    T gi = g ? g[c] : ONE;
                    y[c] = x[c] > ZERO ? gi : wt[c] * gi;
                    gw[c] += x[c] > ZERO ? 0.0 : (double)x[c] * (double)gi;
                }
            }
        }
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
