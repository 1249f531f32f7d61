/* server/llm_sched.c — the served language model (load, digest), the
 * reference-counted completion job, the per-token bookkeeping shared by the
 * scheduler and the solo run (stops, text, the stable prefix a stream may
 * send), and the continuous-batching scheduler thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/gguf_digest.h"
#include "cpu/threadpool.h"
#include "llm_sched.h"
#include "metrics.h"

struct vi_llm_sched {
    vi_llm *l;
    vi_llm_sched_config cfg;
    vi_llama_ctx *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vi_llm_job **queue; /* ring of max_queue */
    int q_head, q_len;
    int stopping;
    atomic_ullong steps, steps_multi, rows, tokens, done, cancelled, rejected;
    atomic_llong active;
};

/* ==== Model ==== */

vi_status vi_llm_open(vi_llm **out, const char *path, const char *name, int32_t n_ctx,
                      vi_error *err)
{
    *out = NULL;
    if (n_ctx < 2)
        return vi_fail(err, VI_ERR_INVALID, "llm context must be at least 2 (got %d)", (int)n_ctx);
    vi_llm *l = calloc(1, sizeof *l);
    if (!l)
        return vi_fail(err, VI_ERR_NOMEM, "out of memory loading %s", path);
    vi_status st = VI_ERR_LIMIT;
    int64_t t0 = vi_monotonic_ns();
    if (snprintf(l->name, sizeof l->name, "%s", name) >= (int)sizeof l->name ||
        snprintf(l->path, sizeof l->path, "%s", path) >= (int)sizeof l->path) {
        vi_fail(err, st, "llm name or path too long: '%s'", name);
        goto fail;
    }
    if ((st = vi_llama_load(&l->model, path, err)) != VI_OK ||
        (st = vi_tokenizer_from_gguf(&l->tok, vi_llama_gguf(l->model), err)) != VI_OK ||
        (st = vi_gguf_digest_file(vi_llama_gguf(l->model), path, l->digest, err)) != VI_OK)
        goto fail;
    int32_t train = vi_llama_hparams_of(l->model)->n_ctx_train;
    l->n_ctx = n_ctx < train ? n_ctx : train;
    l->load_s = (double)(vi_monotonic_ns() - t0) * 1e-9;
    *out = l;
    return VI_OK;
fail:
    vi_llm_close(l);
    return st;
}

static void sched_stop(vi_llm_sched *s);

void vi_llm_close(vi_llm *l)
{
    if (!l)
        return;
    sched_stop(l->sched);
    vi_tokenizer_free(l->tok);
    vi_llama_free(l->model);
    free(l);
}

const char *vi_llm_finish_name(vi_llm_finish f)
{
    switch (f) {
    case VI_LLM_FINISH_STOP:
        return "stop";
    case VI_LLM_FINISH_LENGTH:
        return "length";
    case VI_LLM_FINISH_CANCELLED:
        return "cancelled";
    case VI_LLM_FINISH_ERROR:
        return "error";
    default:
        return NULL;
    }
}

/* ==== Jobs ==== */

void vi_llm_params_free(vi_llm_params *p)
{
    if (!p)
        return;
    free(p->prompt);
    for (int i = 0; i < VI_LLM_MAX_STOP; i++)
        free(p->stop[i]);
    memset(p, 0, sizeof *p);
}

vi_status vi_llm_job_new(vi_llm_job **out, vi_llm_params *p, vi_error *err)
{
    vi_llm_job *j = calloc(1, sizeof *j);
    char *text = malloc(1);
    if (!j || !text) {
        free(j);
        free(text);
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for a completion job");
    }
    j->p = *p;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&j->mu, NULL);
    atomic_init(&j->refs, 1);
    text[0] = '\0';
    j->text = text;
    *out = j;
    return VI_OK;
}

void vi_llm_job_ref(vi_llm_job *j)
{
    atomic_fetch_add(&j->refs, 1);
}

void vi_llm_job_unref(vi_llm_job *j)
{
    if (!j || atomic_fetch_sub(&j->refs, 1) != 1)
        return;
    vi_llm_params_free(&j->p);
    pthread_mutex_destroy(&j->mu);
    free(j->ids);
    free(j->text);
    free(j);
}

void vi_llm_job_detach(vi_llm_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->notify = NULL;
    if (j->finish == VI_LLM_RUNNING)
        j->cancelled = 1;
    pthread_mutex_unlock(&j->mu);
}

vi_status vi_llm_params_check(const vi_llm *l, const vi_llm_params *p, vi_error *err)
{
    int32_t n_vocab = vi_llama_hparams_of(l->model)->n_vocab;
    if (p->n_prompt < 1)
        return vi_fail(err, VI_ERR_INVALID, "the prompt gives no tokens");
    if (p->n_prompt >= (size_t)l->n_ctx)
        return vi_fail(err, VI_ERR_LIMIT,
                       "the prompt has %zu tokens; the context of model '%s' is %d tokens",
                       p->n_prompt, l->name, (int)l->n_ctx);
    for (size_t i = 0; i < p->n_prompt; i++)
        if (p->prompt[i] < 0 || p->prompt[i] >= n_vocab)
            return vi_fail(err, VI_ERR_INVALID,
                           "prompt token %zu is %d, outside the vocabulary [0, %d)", i,
                           (int)p->prompt[i], (int)n_vocab);
    if (p->max_tokens < 1)
        return vi_fail(err, VI_ERR_INVALID, "max_tokens must be at least 1 (got %d)",
                       (int)p->max_tokens);
    const vi_sampling *sp = &p->sp;
    if (!(sp->temperature >= 0.0f && sp->temperature <= 1e6f))
        return vi_fail(err, VI_ERR_INVALID, "temperature must be a finite number >= 0 (got %g)",
                       (double)sp->temperature);
    if (!(sp->top_p > 0.0f && sp->top_p <= 1.0f))
        return vi_fail(err, VI_ERR_INVALID, "top_p must be in (0, 1] (got %g)", (double)sp->top_p);
    if (sp->top_k < 0)
        return vi_fail(err, VI_ERR_INVALID, "top_k must be >= 0 (got %d)", (int)sp->top_k);
    for (int i = 0; i < p->n_stop; i++)
        if (!p->stop[i] || !p->stop[i][0])
            return vi_fail(err, VI_ERR_INVALID, "stop string %d is empty", i);
    return VI_OK;
}

/* ==== Per-token bookkeeping (scheduler and solo run alike) ==== */

size_t vi_utf8_step(const unsigned char *s, size_t i, size_t n, int final)
{
    unsigned c = s[i];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
        return 1;
    for (size_t k = 1; k <= need; k++) {
        if (i + k >= n)
            return final ? 1 : 0;
        unsigned b = s[i + k];
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
            return 1;
    }
    return need + 1;
}

/* The largest UTF-8 step boundary <= cut in s[0..n). */
static size_t utf8_boundary(const char *s, size_t n, size_t cut, int final)
{
    size_t i = 0;
    while (i < cut) {
        size_t st = vi_utf8_step((const unsigned char *)s, i, n, final);
        if (st == 0 || i + st > cut)
            break;
        i += st;
    }
    return i;
}

/* Appends tok to j (mutex held), re-derives the text and decides whether
 * the job ends; n_prompt + n_ids > cache_ctx means no room to feed it. */
static void job_accept(const vi_llm *l, vi_llm_job *j, int32_t tok, int32_t cache_ctx)
{
    vi_error e = {{0}};
    if (j->n_ids == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64;
        int32_t *ids = realloc(j->ids, cap * sizeof *ids);
        if (!ids) {
            vi_fail(&j->err, VI_ERR_NOMEM, "out of memory for generated tokens");
            j->finish = VI_LLM_FINISH_ERROR;
            return;
        }
        j->ids = ids;
        j->cap = cap;
    }
    j->ids[j->n_ids++] = tok;
    int eog = vi_tokenizer_is_eog(l->tok, tok);
    char *text = NULL;
    size_t len = 0;
    if (vi_detokenize(l->tok, j->ids, j->n_ids - (eog ? 1 : 0), 0, &text, &len, &e) != VI_OK) {
        j->err = e;
        j->finish = VI_LLM_FINISH_ERROR;
        return;
    }
    free(j->text);
    j->text = text;
    j->text_len = len;
    size_t cut = len, hold = 0;
    for (int i = 0; i < j->p.n_stop; i++) {
        size_t sl = strlen(j->p.stop[i]);
        /* memmem: the text may hold NUL bytes, and a stop string after one counts */
        const char *hit = memmem(text, len, j->p.stop[i], sl);
        if (hit && (size_t)(hit - text) < cut)
            cut = (size_t)(hit - text);
        if (sl - 1 > hold)
            hold = sl - 1;
    }
    if (eog || cut < len) {
        j->finish = VI_LLM_FINISH_STOP;
        j->text_len = cut;
        text[cut] = '\0';
    } else if (j->n_ids >= (size_t)j->p.max_tokens ||
               j->p.n_prompt + j->n_ids > (size_t)cache_ctx) {
        j->finish = VI_LLM_FINISH_LENGTH;
    }
    if (j->finish != VI_LLM_RUNNING) {
        j->stable_len = j->text_len;
        return;
    }
    size_t stable = len > hold ? len - hold : 0;
    stable = utf8_boundary(text, len, stable, 0);
    if (stable > j->stable_len)
        j->stable_len = stable;
}

static void job_end(vi_llm_job *j, vi_llm_finish f, const vi_error *e)
{
    pthread_mutex_lock(&j->mu);
    if (j->finish == VI_LLM_RUNNING) {
        j->finish = f;
        if (e)
            j->err = *e;
        j->stable_len = j->text_len;
    }
    if (j->notify)
        j->notify(j, j->notify_arg);
    pthread_mutex_unlock(&j->mu);
}

/* The capacity of a job's cache: prompt + max_tokens, at most the context. */
static int32_t job_ctx(const vi_llm *l, const vi_llm_job *j)
{
    int64_t want = (int64_t)j->p.n_prompt + j->p.max_tokens;
    return want < l->n_ctx ? (int32_t)want : l->n_ctx;
}

/* Samples from one logits row for j at the position its cache reached and
 * accepts the token; returns 1 if the job ended. */
static int job_sample(const vi_llm *l, vi_llm_job *j, const vi_kv_cache *c, const float *logits,
                      void *scratch)
{
    int32_t n_vocab = vi_llama_hparams_of(l->model)->n_vocab;
    int32_t tok = -1;
    vi_error e = {{0}};
    uint64_t pos = (uint64_t)vi_kv_cache_len(c);
    vi_status st = vi_sample(&j->p.sp, logits, n_vocab, pos, scratch, &tok, &e);
    pthread_mutex_lock(&j->mu);
    if (st != VI_OK) {
        j->err = e;
        j->finish = VI_LLM_FINISH_ERROR;
    } else {
        job_accept(l, j, tok, vi_kv_cache_n_ctx(c));
    }
    int ended = j->finish != VI_LLM_RUNNING;
    if (j->notify)
        j->notify(j, j->notify_arg);
    pthread_mutex_unlock(&j->mu);
    return ended;
}

/* ==== Solo run ==== */

vi_status vi_llm_run_alone(const vi_llm *l, vi_llm_job *j, int threads, vi_isa isa, vi_error *err)
{
    int32_t n_vocab = vi_llama_hparams_of(l->model)->n_vocab;
    vi_llama_ctx *ctx = NULL;
    vi_kv_cache *c = NULL, **rows = NULL;
    uint8_t *want = NULL;
    float *logits = malloc((size_t)n_vocab * sizeof(float));
    void *scratch = malloc(vi_sample_scratch_bytes(n_vocab));
    vi_error e = {{0}};
    vi_status st = vi_llm_params_check(l, &j->p, &e);
    if (st != VI_OK)
        goto end;
    size_t n = j->p.n_prompt;
    rows = malloc(n * sizeof *rows);
    want = calloc(n, 1);
    if (!logits || !scratch || !rows || !want) {
        st = vi_fail(&e, VI_ERR_NOMEM, "out of memory for a completion");
        goto end;
    }
    if ((st = vi_llama_ctx_new(&ctx, l->model, threads, isa, &e)) != VI_OK ||
        (st = vi_kv_cache_new(&c, l->model, job_ctx(l, j), &e)) != VI_OK)
        goto end;
    for (size_t i = 0; i < n; i++)
        rows[i] = c;
    want[n - 1] = 1;
    if ((st = vi_llama_forward(ctx, rows, j->p.prompt, (int32_t)n, want, logits, &e)) != VI_OK)
        goto end;
    while (!job_sample(l, j, c, logits, scratch)) {
        int32_t tok = j->ids[j->n_ids - 1];
        if ((st = vi_llama_forward(ctx, &c, &tok, 1, NULL, logits, &e)) != VI_OK)
            goto end;
    }
end:
    job_end(j, st == VI_OK ? VI_LLM_FINISH_STOP : VI_LLM_FINISH_ERROR, st == VI_OK ? NULL : &e);
    if (st == VI_OK) {
        pthread_mutex_lock(&j->mu);
        if (j->finish == VI_LLM_FINISH_ERROR) {
            st = VI_ERR_INVALID;
            if (err)
                *err = j->err;
        }
        pthread_mutex_unlock(&j->mu);
    } else if (err) {
        *err = e;
    }
    vi_kv_cache_free(c);
    vi_llama_ctx_free(ctx);
    free(rows);
    free(want);
    free(logits);
    free(scratch);
    return st;
}

/* ==== Scheduler ==== */

typedef struct seq {
    vi_llm_job *job;
    vi_kv_cache *cache;
    size_t n_fed; /* prompt tokens already in the cache */
} seq;

void vi_llm_sched_config_default(vi_llm_sched_config *c)
{
    c->max_seqs = 8;
    c->max_queue = 64;
    c->step_tokens = 256;
    c->threads = vi_pool_default_threads();
    c->isa = VI_ISA_AUTO;
}

static int job_cancelled(vi_llm_job *j)
{
    pthread_mutex_lock(&j->mu);
    int c = j->cancelled;
    pthread_mutex_unlock(&j->mu);
    return c;
}

/* Ends seq i's job and frees its slot (the last slot moves into i). */
static void seq_retire(vi_llm_sched *s, seq *seqs, int *n, int i, vi_llm_finish f,
                       const vi_error *e)
{
    if (f == VI_LLM_FINISH_CANCELLED)
        atomic_fetch_add(&s->cancelled, 1);
    job_end(seqs[i].job, f, e);
    atomic_fetch_add(&s->done, 1);
    vi_llm_job_unref(seqs[i].job);
    vi_kv_cache_free(seqs[i].cache);
    seqs[i] = seqs[--*n];
    atomic_store(&s->active, *n);
}

/* Moves queued jobs into free slots; returns 0 when the thread should end. */
static int sched_admit(vi_llm_sched *s, seq *seqs, int *n)
{
    pthread_mutex_lock(&s->mu);
    while (*n == 0 && s->q_len == 0 && !s->stopping)
        pthread_cond_wait(&s->cv, &s->mu);
    if (*n == 0 && s->q_len == 0 && s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    int first = *n;
    while (*n < s->cfg.max_seqs && s->q_len > 0) {
        seqs[*n].job = s->queue[s->q_head];
        seqs[*n].cache = NULL;
        seqs[*n].n_fed = 0;
        s->q_head = (s->q_head + 1) % s->cfg.max_queue;
        s->q_len--;
        (*n)++;
    }
    pthread_mutex_unlock(&s->mu);
    atomic_store(&s->active, *n);
    for (int i = first; i < *n; i++) {
        vi_error e = {{0}};
        if (vi_kv_cache_new(&seqs[i].cache, s->l->model, job_ctx(s->l, seqs[i].job), &e) != VI_OK) {
            seq_retire(s, seqs, n, i, VI_LLM_FINISH_ERROR, &e);
            i--;
        }
    }
    return 1;
}

typedef struct step_buf {
    vi_kv_cache **rows;
    int32_t *tokens;
    uint8_t *want;
    int *want_seq; /* sequence of each logits row */
    float *logits;
    void *scratch;
} step_buf;

/* One forward call over every active sequence; then sampling. */
static void sched_step(vi_llm_sched *s, seq *seqs, int *n, step_buf *b)
{
    const vi_llm *l = s->l;
    int32_t n_vocab = vi_llama_hparams_of(l->model)->n_vocab;
    for (int i = 0; i < *n; i++)
        if (job_cancelled(seqs[i].job)) {
            seq_retire(s, seqs, n, i, VI_LLM_FINISH_CANCELLED, NULL);
            i--;
        }
    if (*n == 0)
        return;
    int32_t nr = 0, nw = 0, budget = s->cfg.step_tokens;
    for (int i = 0; i < *n; i++) {
        seq *q = &seqs[i];
        vi_llm_job *j = q->job;
        if (q->n_fed == j->p.n_prompt) { /* decoding: feed the last token */
            b->rows[nr] = q->cache;
            b->tokens[nr] = j->ids[j->n_ids - 1]; /* only this thread appends */
            b->want[nr++] = 1;
            b->want_seq[nw++] = i;
            continue;
        }
        while (budget > 0 && q->n_fed < j->p.n_prompt) {
            b->rows[nr] = q->cache;
            b->tokens[nr] = j->p.prompt[q->n_fed++];
            int last = q->n_fed == j->p.n_prompt;
            b->want[nr++] = (uint8_t)last;
            if (last)
                b->want_seq[nw++] = i;
            budget--;
        }
    }
    if (nr == 0)
        return;
    int n_seq_rows = 0;
    for (int i = 0; i < nr; i++)
        n_seq_rows += i == 0 || b->rows[i] != b->rows[i - 1];
    vi_error e = {{0}};
    vi_status st = vi_llama_forward(s->ctx, b->rows, b->tokens, nr, b->want, b->logits, &e);
    atomic_fetch_add(&s->steps, 1);
    atomic_fetch_add(&s->rows, (unsigned long long)nr);
    if (n_seq_rows > 1)
        atomic_fetch_add(&s->steps_multi, 1);
    if (st != VI_OK) { /* nothing changed: every job of this step fails */
        while (*n > 0)
            seq_retire(s, seqs, n, *n - 1, VI_LLM_FINISH_ERROR, &e);
        return;
    }
    /* retire from the highest index down so earlier indices stay valid */
    for (int w = nw - 1; w >= 0; w--) {
        int i = b->want_seq[w];
        atomic_fetch_add(&s->tokens, 1);
        if (job_sample(l, seqs[i].job, seqs[i].cache, b->logits + (size_t)w * n_vocab, b->scratch))
            seq_retire(s, seqs, n, i, VI_LLM_FINISH_STOP, NULL);
    }
}

static void *sched_main(void *arg)
{
    vi_llm_sched *s = arg;
    int max = s->cfg.max_seqs;
    int32_t n_vocab = vi_llama_hparams_of(s->l->model)->n_vocab;
    size_t max_rows = (size_t)max + (size_t)s->cfg.step_tokens;
    seq *seqs = calloc((size_t)max, sizeof *seqs);
    step_buf b = {
        .rows = malloc(max_rows * sizeof *b.rows),
        .tokens = malloc(max_rows * sizeof *b.tokens),
        .want = malloc(max_rows),
        .want_seq = malloc((size_t)max * sizeof *b.want_seq),
        .logits = malloc((size_t)max * (size_t)n_vocab * sizeof(float)),
        .scratch = malloc(vi_sample_scratch_bytes(n_vocab)),
    };
    int ok = seqs && b.rows && b.tokens && b.want && b.want_seq && b.logits && b.scratch;
    int n = 0;
    while (sched_admit(s, seqs, &n)) {
        if (!ok) {
            vi_error e;
            vi_fail(&e, VI_ERR_NOMEM, "out of memory for the scheduler of '%s'", s->l->name);
            while (n > 0)
                seq_retire(s, seqs, &n, n - 1, VI_LLM_FINISH_ERROR, &e);
            continue;
        }
        sched_step(s, seqs, &n, &b);
    }
    free(seqs);
    free(b.rows);
    free(b.tokens);
    free(b.want);
    free(b.want_seq);
    free(b.logits);
    free(b.scratch);
    return NULL;
}

vi_status vi_llm_sched_start(vi_llm *l, const vi_llm_sched_config *cfg, vi_error *err)
{
    if (l->sched)
        return vi_fail(err, VI_ERR_INVALID, "model '%s' is already scheduled", l->name);
    if (cfg->max_seqs < 1 || cfg->max_seqs > 4096 || cfg->max_queue < 1 ||
        cfg->max_queue > (1 << 20) || cfg->step_tokens < 1 || cfg->step_tokens > (1 << 20))
        return vi_fail(err, VI_ERR_INVALID,
                       "scheduler of '%s': max_seqs %d (1..4096), max_queue %d (1..1048576), "
                       "step_tokens %d (1..1048576)",
                       l->name, cfg->max_seqs, cfg->max_queue, (int)cfg->step_tokens);
    vi_llm_sched *s = calloc(1, sizeof *s);
    if (!s || !(s->queue = calloc((size_t)cfg->max_queue, sizeof *s->queue))) {
        free(s);
        return vi_fail(err, VI_ERR_NOMEM, "out of memory for the scheduler of '%s'", l->name);
    }
    s->l = l;
    s->cfg = *cfg;
    vi_status st = vi_llama_ctx_new(&s->ctx, l->model, cfg->threads, cfg->isa, err);
    if (st != VI_OK) {
        free(s->queue);
        free(s);
        return st;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        vi_llama_ctx_free(s->ctx);
        free(s->queue);
        free(s);
        return vi_fail(err, VI_ERR_INTERNAL, "cannot start the scheduler thread of '%s'", l->name);
    }
    l->sched = s;
    return VI_OK;
}

static void sched_stop(vi_llm_sched *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    vi_llama_ctx_free(s->ctx);
    free(s->queue);
    free(s);
}

vi_status vi_llm_submit(vi_llm *l, vi_llm_job *j, vi_error *err)
{
    vi_llm_sched *s = l->sched;
    if (!s)
        return vi_fail(err, VI_ERR_UNSUPPORTED, "model '%s' is not being served", l->name);
    pthread_mutex_lock(&s->mu);
    vi_status st = VI_OK;
    if (s->stopping) {
        st = vi_fail(err, VI_ERR_UNSUPPORTED, "the server is stopping");
    } else if (s->q_len == s->cfg.max_queue) {
        st = vi_fail(err, VI_ERR_LIMIT, "model '%s': queue full (%d requests waiting)", l->name,
                     s->q_len);
    } else {
        vi_llm_job_ref(j);
        s->queue[(s->q_head + s->q_len) % s->cfg.max_queue] = j;
        s->q_len++;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    if (st != VI_OK)
        atomic_fetch_add(&s->rejected, 1);
    return st;
}

void vi_llm_stats_get(const vi_llm *l, vi_llm_stats *out)
{
    memset(out, 0, sizeof *out);
    vi_llm_sched *s = l->sched;
    if (!s)
        return;
    /* a part before its whole (the scheduler adds to the whole first), so
     * that a snapshot never shows more multi-sequence steps than steps, or
     * more cancelled completions than ended ones */
    out->steps_multi = atomic_load(&s->steps_multi);
    out->steps = atomic_load(&s->steps);
    out->rows = atomic_load(&s->rows);
    out->tokens_generated = atomic_load(&s->tokens);
    out->jobs_cancelled = atomic_load(&s->cancelled);
    out->jobs_done = atomic_load(&s->done);
    out->jobs_rejected = atomic_load(&s->rejected);
    out->active = atomic_load(&s->active);
    pthread_mutex_lock(&s->mu);
    out->queued = s->q_len;
    pthread_mutex_unlock(&s->mu);
}
