/* Greedy and beam search, exactly as scripts/search.py (its docstring is the contract):
 * log-softmax in float32, sums of log-probabilities in double, ties broken by (parent, token). */
#include <math.h>
#include <string.h>
#include "kernels.h"
#include "session.h"

double gnmt_score(double logp, int n, const float *const *rows, int S, double alpha, double beta)
{
    double lp = pow((5.0 + n) / 6.0, alpha), cp = 0.0;
    if (beta != 0.0 && rows && n > 0) {
        double sum = 0.0;
        for (int j = 0; j < S; j++) {
            double cover = 0.0;
            for (int t = 0; t < n; t++)
                cover += (double)rows[t][j];
            cover = cover < 1e-6 ? 1e-6 : cover > 1.0 ? 1.0 : cover;
            sum += log(cover);
        }
        cp = beta * sum;
    }
    return logp / lp + cp;
}

static float *attn_row(struct stele_session *s, int t, int r)
{
    return s->attn_run + ((size_t)t * s->K + r) * s->S;
}

/* Values per logits row: the sentence's shortlist, or every piece. */
static int row_width(const struct stele_session *s)
{
    return s->sl_n ? s->sl_n : s->m->V;
}

/* The piece of logits column j (the shortlist maps its columns back to vocabulary ids; they
 * ascend, so the column order is the id order the ties are broken by). */
static int column_piece(const struct stele_session *s, int j)
{
    return s->sl_n ? s->sl_ids[j] : j;
}

/* One decoder step over rows 0..n-1 of the current state; logits become log-probabilities
 * (over the shortlist when there is one). Returns the column of row 0's argmax (greedy). */
static int step(struct stele_session *s, int t, int n)
{
    const struct stele_model *m = s->m;
    float *attn = m->attn.score == SCORE_NONE ? NULL : attn_row(s, t, 0);
    decoder_step(s->logits, attn, &s->st[s->cur], &s->w, m, &s->mem, s->y, n);
    double t0 = s->profile ? stele_now() : 0.0;
    const int nv = row_width(s);
    int arg = 0;
    for (int r = 0; r < n; r++) {
        float *l = s->logits + (size_t)r * m->V;
        int a = m->kern->log_softmax(l, l, nv);
        if (r == 0)
            arg = a;
    }
    if (s->profile)
        s->w.t_out += stele_now() - t0;
    s->tim.steps++;
    return arg;
}

void greedy_start(struct stele_session *s)
{
    s->greedy_logp = 0.0;
    s->greedy_n = 0;
}

int greedy_take(struct stele_session *s, int t, int T, int tok, float tok_logp,
                const float *attn, double alpha, double beta)
{
    const struct stele_model *m = s->m;
    const int has_attn = m->attn.score != SCORE_NONE;
    s->greedy_logp += (double)tok_logp;
    s->hyp_lp[s->greedy_n] = tok_logp;
    s->hyp_tok[s->greedy_n++] = tok;
    if (has_attn) {
        s->rows[t] = attn;
        memcpy(s->res_attn + (size_t)t * s->S, attn, sizeof(float) * s->S);
    }
    if (tok != m->eos_id && t + 1 < T)
        return 0;
    stele_hypothesis *h = &s->hyps[0];
    h->n_tokens = s->greedy_n;
    h->tokens = s->hyp_tok;
    h->logp = s->greedy_logp;
    h->token_logp = s->hyp_lp;
    h->mean_logp = s->greedy_n ? s->greedy_logp / s->greedy_n : 0.0;
    h->score = gnmt_score(s->greedy_logp, s->greedy_n, has_attn ? s->rows : NULL, s->S, alpha,
                          beta);
    s->result.n_hyps = 1;
    return 1;
}

/* Greedy's trace: one node per step, each the child of the one before; the last one finished
 * (it is hyps[0]). */
static void trace_greedy(struct stele_session *s, int t, int tok, int done)
{
    stele_trace_node *nd = &s->trace_nodes[t];
    nd->parent = t - 1;
    nd->token = tok;
    nd->logp = s->greedy_logp;
    nd->status = done ? STELE_TRACE_FINISHED : STELE_TRACE_LIVE;
    nd->rank = done ? 0 : -1;
    nd->score = done ? s->hyps[0].score : 0.0;
    s->trace_start[t] = t;
    s->trace_start[t + 1] = t + 1;
    s->trace_steps = t + 1;
}

void search_greedy(struct stele_session *s, int T, double alpha, double beta)
{
    greedy_start(s);
    s->y[0] = s->m->bos_id;
    for (int t = 0; t < T; t++) {
        int j = step(s, t, 1), tok = column_piece(s, j);
        int done = greedy_take(s, t, T, tok, s->logits[j], attn_row(s, t, 0), alpha, beta);
        if (s->tracing)
            trace_greedy(s, t, tok, done);
        if (done)
            break;
        s->y[0] = tok;
    }
}

/* A trace node for candidate (row r, token tok, cumulative logp v) of the current step; returns
 * its index. r's node is the r-th live node of the previous step (trace_prev). */
static int trace_add(struct stele_session *s, int *nn, int r, int tok, double v, int status)
{
    stele_trace_node *nd = &s->trace_nodes[*nn];
    nd->parent = s->trace_prev[r];
    nd->token = tok;
    nd->status = status;
    nd->rank = -1;
    nd->logp = v;
    nd->score = 0.0;
    return (*nn)++;
}

/* Inserts (v, idx) into the descending list of at most cap candidates; among equal values the
 * earlier (lower) index stays first, as the reference's stable sort on -logp. */
static void offer(double *val, long *idx, int *count, int cap, double v, long i)
{
    int p = *count;
    if (p == cap) {
        if (!(v > val[cap - 1]))
            return;
        p--;
    } else {
        (*count)++;
    }
    while (p > 0 && val[p - 1] < v) {
        val[p] = val[p - 1];
        idx[p] = idx[p - 1];
        p--;
    }
    val[p] = v;
    idx[p] = i;
}

/* Recovers the path of finished hypothesis f: tokens into out, their log-probabilities into lp
 * (when not NULL), attention rows into rows. */
static int backtrack(struct stele_session *s, const fin_hyp *f, int32_t *out, float *lp,
                     const float **rows)
{
    int b = f->r;
    out[f->t] = f->tok;
    if (lp)
        lp[f->t] = f->tok_logp;
    rows[f->t] = attn_row(s, f->t, f->r);
    for (int t = f->t - 1; t >= 0; t--) {
        out[t] = s->live_tok[(size_t)t * s->K + b];
        if (lp)
            lp[t] = s->live_lp[(size_t)t * s->K + b];
        b = s->live_par[(size_t)t * s->K + b];
        rows[t] = attn_row(s, t, b);
    }
    return f->t + 1;
}

/* Scores finished hypothesis f now (its path and attention rows are complete). */
static void score_finished(struct stele_session *s, fin_hyp *f, int has_attn, double alpha,
                           double beta)
{
    int len = backtrack(s, f, s->hyp_tok, NULL, s->rows);   /* hyp_tok row 0 as scratch */
    f->score = gnmt_score(f->logp, len, has_attn ? s->rows : NULL, s->S, alpha, beta);
}

/* The N-th best score among the finished hypotheses (n_fin >= N). */
static double nth_best_score(const struct stele_session *s, int N)
{
    double best[64];   /* N <= max beam <= 64 */
    int have = 0;
    for (int i = 0; i < s->n_fin; i++) {
        double v = s->fin[i].score;
        if (have == N && v <= best[N - 1])
            continue;
        int j = have < N ? have++ : N - 1;
        while (j > 0 && best[j - 1] < v) {
            best[j] = best[j - 1];
            j--;
        }
        best[j] = v;
    }
    return best[N - 1];
}

void search_beam(struct stele_session *s, int T, int K, int N, double alpha, double beta)
{
    const struct stele_model *m = s->m;
    const int V = m->V, eos = m->eos_id, has_attn = m->attn.score != SCORE_NONE;
    /* Upper bound of any continuation's final score is logp / lp(T) (logp only falls, lp grows
     * with length, cp <= 0): once that cannot beat the N-th best finished score, stop. */
    const double lp_max = pow((5.0 + T) / 6.0, alpha);
    int n = 1;
    s->y[0] = m->bos_id;
    s->logp[0] = 0.0;
    s->n_fin = 0;
    const int tracing = s->tracing;
    int nn = 0;   /* trace nodes so far */
    if (tracing) {
        s->trace_start[0] = 0;
        s->trace_prev[0] = -1;   /* step 0's one row is the start symbol */
    }
    for (int t = 0; t < T; t++) {
        step(s, t, n);
        double t0 = s->profile ? stele_now() : 0.0;
        /* candidates are (row, column) pairs, column j of row r at r * nv + j; a shortlist's
         * columns ascend with the piece ids, so the tie order (parent, token) is kept */
        const int nv = row_width(s);
        int k2 = (long)n * nv < 2L * K ? n * nv : 2 * K, count = 0;
        for (int r = 0; r < n; r++) {
            const float *l = s->logits + (size_t)r * V;
            double base = s->logp[r];
            for (int j = 0; j < nv; j++) {
                double v = (double)l[j] + base;
                if (count < k2 || v > s->cand_val[k2 - 1])
                    offer(s->cand_val, s->cand_idx, &count, k2, v, (long)r * nv + j);
            }
        }
        int live = 0;
        for (int i = 0; i < count; i++) {
            int r = (int)(s->cand_idx[i] / nv), j = (int)(s->cand_idx[i] % nv);
            int tok = column_piece(s, j);
            const float tok_lp = s->logits[(size_t)r * V + j];
            if (tok == eos) {
                fin_hyp *f = &s->fin[s->n_fin++];
                f->t = t;
                f->r = r;
                f->tok = tok;
                f->tok_logp = tok_lp;
                f->logp = s->cand_val[i];
                score_finished(s, f, has_attn, alpha, beta);
                f->node = tracing ? trace_add(s, &nn, r, tok, f->logp, STELE_TRACE_FINISHED) : -1;
                if (tracing)
                    s->trace_nodes[f->node].score = f->score;
            } else if (live < K) {
                s->live_tok[(size_t)t * s->K + live] = tok;
                s->live_par[(size_t)t * s->K + live] = r;
                s->live_lp[(size_t)t * s->K + live] = tok_lp;
                s->parents[live] = r;
                s->logp_new[live] = s->cand_val[i];
                if (tracing)
                    s->trace_cur[live] = trace_add(s, &nn, r, tok, s->cand_val[i], STELE_TRACE_LIVE);
                live++;
            } else if (tracing) {
                trace_add(s, &nn, r, tok, s->cand_val[i], STELE_TRACE_PRUNED);
            }
        }
        int stop = 0;
        if (t == T - 1 || live == 0) {   /* max length: the live hypotheses finish as they stand */
            for (int b = 0; b < live; b++) {
                fin_hyp *f = &s->fin[s->n_fin++];
                f->t = t;
                f->r = s->parents[b];
                f->tok = s->live_tok[(size_t)t * s->K + b];
                f->tok_logp = s->live_lp[(size_t)t * s->K + b];
                f->logp = s->logp_new[b];
                score_finished(s, f, has_attn, alpha, beta);
                f->node = tracing ? s->trace_cur[b] : -1;
                if (tracing) {
                    s->trace_nodes[f->node].status = STELE_TRACE_FINISHED;
                    s->trace_nodes[f->node].score = f->score;
                }
            }
            stop = 1;
        } else if (s->n_fin >= N) {
            double best_live = s->logp_new[0];   /* live rows are in rank order */
            for (int b = 1; b < live; b++)
                best_live = s->logp_new[b] > best_live ? s->logp_new[b] : best_live;
            stop = best_live / lp_max <= nth_best_score(s, N);
        }
        if (tracing) {
            s->trace_start[t + 1] = nn;
            s->trace_steps = t + 1;
            memcpy(s->trace_prev, s->trace_cur, sizeof(int32_t) * (size_t)live);
        }
        if (!stop) {
            dec_state_gather(&s->st[1 - s->cur], &s->st[s->cur], m, s->parents, live);
            s->cur = 1 - s->cur;
            for (int b = 0; b < live; b++) {
                s->y[b] = s->live_tok[(size_t)t * s->K + b];
                s->logp[b] = s->logp_new[b];
            }
            n = live;
        }
        if (s->profile)
            s->tim.search += stele_now() - t0;
        if (stop)
            break;
    }
    /* rank by score; ties keep the finishing order (insertion sort is stable) */
    for (int i = 1; i < s->n_fin; i++) {
        fin_hyp f = s->fin[i];
        int j = i;
        while (j > 0 && s->fin[j - 1].score < f.score) {
            s->fin[j] = s->fin[j - 1];
            j--;
        }
        s->fin[j] = f;
    }
    int nh = s->n_fin < N ? s->n_fin : N;
    for (int i = 0; i < nh; i++) {
        stele_hypothesis *h = &s->hyps[i];
        int32_t *out = s->hyp_tok + (size_t)i * s->Tmax;
        float *lp = s->hyp_lp + (size_t)i * s->Tmax;
        h->n_tokens = backtrack(s, &s->fin[i], out, lp, s->rows);
        h->tokens = out;
        h->token_logp = lp;
        h->logp = s->fin[i].logp;
        h->mean_logp = h->n_tokens ? h->logp / h->n_tokens : 0.0;
        h->score = s->fin[i].score;
        if (tracing)
            s->trace_nodes[s->fin[i].node].rank = i;
        if (i == 0 && has_attn)
            for (int t = 0; t < h->n_tokens; t++)
                memcpy(s->res_attn + (size_t)t * s->S, s->rows[t], sizeof(float) * s->S);
    }
    s->result.n_hyps = nh;
}
