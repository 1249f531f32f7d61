/* models/sampler.c — next-token selection (models/sampler.h): greedy argmax,
 * and temperature / top-k / top-p sampling with a counter-based generator.
 * The candidate order is a total order, (z descending, id ascending), built
 * by a partial selection (a bounded heap) when top_k is small and by a stable
 * radix sort otherwise; both give the same sequence, and the softmax sums run
 * sequentially over it, so the result is bit-reproducible everywhere.
 * docs/llm-sampling.md is the specification. */
#include "models/sampler.h"

#include <stdint.h>
#include <string.h>

#include "core/order.h"
#include "cpu/isa.h"
#include "cpu/ops.h"

/* top_k up to this size uses the bounded heap instead of the full sort */
#define VI_SAMPLE_HEAP_MAX 256
#define VI_SAMPLE_RADIX_BITS 11
#define VI_SAMPLE_RADIX_SIZE (1u << VI_SAMPLE_RADIX_BITS)

/* scratch layout, each array n_vocab long: two key and two id buffers for
 * the radix sort, then the unnormalised probabilities */
typedef struct {
    uint32_t *ka, *kb;
    int32_t *ia, *ib;
    float *e;
} sample_work;

/* ==== Random numbers ==== */

float vi_sample_uniform(uint64_t seed, uint64_t position)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (position + 1u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(uint32_t)(z >> 40) * 0x1p-24f;
}

size_t vi_sample_scratch_bytes(int32_t n_vocab)
{
    if (n_vocab < 1)
        return 0;
    return (size_t)n_vocab * (2 * sizeof(uint32_t) + 2 * sizeof(int32_t) + sizeof(float));
}

/* ==== Candidate order ==== */

/* A key whose ascending unsigned order is z's descending order (-0 as +0). */
static uint32_t desc_key(float z)
{
    uint32_t b = z == 0.0f ? 0u : vi_f32_bits(z);
    uint32_t asc = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
    return ~asc;
}

/* A logit that can be sampled: not NaN and not -inf. */
static int is_candidate(float logit)
{
    return logit == logit && logit != -__builtin_inff();
}

/* All candidates in (z desc, id asc) order, by a stable LSD radix sort of the
 * keys over ids taken in ascending order. Returns the count; *ids points at
 * the sorted ids (one of the two id buffers). */
static int32_t order_all(const float *logits, int32_t n, float t, sample_work *w,
                         const int32_t **ids)
{
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (is_candidate(logits[i])) {
            w->ka[m] = desc_key(logits[i] / t);
            w->ia[m] = i;
            m++;
        }
    uint32_t *ks = w->ka, *kd = w->kb;
    int32_t *is = w->ia, *id = w->ib;
    uint32_t count[VI_SAMPLE_RADIX_SIZE];
    for (unsigned shift = 0; shift < 32; shift += VI_SAMPLE_RADIX_BITS) {
        memset(count, 0, sizeof count);
        for (int32_t i = 0; i < m; i++)
            count[(ks[i] >> shift) & (VI_SAMPLE_RADIX_SIZE - 1)]++;
        /* a digit shared by every key leaves the order as it is */
        if (m == 0 || count[(ks[0] >> shift) & (VI_SAMPLE_RADIX_SIZE - 1)] == (uint32_t)m)
            continue;
        uint32_t sum = 0;
        for (unsigned d = 0; d < VI_SAMPLE_RADIX_SIZE; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (int32_t i = 0; i < m; i++) {
            uint32_t pos = count[(ks[i] >> shift) & (VI_SAMPLE_RADIX_SIZE - 1)]++;
            kd[pos] = ks[i];
            id[pos] = is[i];
        }
        uint32_t *kt = ks;
        ks = kd;
        kd = kt;
        int32_t *it = is;
        is = id;
        id = it;
    }
    *ids = is;
    return m;
}

/* (za, a) comes after (zb, b) in the candidate order. */
static int after(float za, int32_t a, float zb, int32_t b)
{
    return za < zb || (za == zb && a > b);
}

/* Moves heap entry i down (the entry that comes last in the order on top). */
static void sift_down(float *z, int32_t *id, int32_t n, int32_t i)
{
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, worst = i;
        if (l < n && after(z[l], id[l], z[worst], id[worst]))
            worst = l;
        if (r < n && after(z[r], id[r], z[worst], id[worst]))
            worst = r;
        if (worst == i)
            return;
        float tz = z[i];
        z[i] = z[worst];
        z[worst] = tz;
        int32_t ti = id[i];
        id[i] = id[worst];
        id[worst] = ti;
        i = worst;
    }
}

/* The first k candidates in (z desc, id asc) order by a bounded heap over one
 * scan (ids ascending, so an equal z never displaces the heap top). Returns
 * min(k, number of candidates); ids in w->ia, z in w->e (scratch). */
static int32_t order_top_k(const float *logits, int32_t n, float t, int32_t k, sample_work *w)
{
    float *z = w->e;
    int32_t *id = w->ia, m = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!is_candidate(logits[i]))
            continue;
        float zi = logits[i] / t;
        if (m < k) {
            /* sift up */
            int32_t j = m++;
            while (j > 0) {
                int32_t p = (j - 1) / 2;
                if (!after(zi, i, z[p], id[p]))
                    break;
                z[j] = z[p];
                id[j] = id[p];
                j = p;
            }
            z[j] = zi;
            id[j] = i;
        } else if (zi > z[0]) {
            z[0] = zi;
            id[0] = i;
            sift_down(z, id, m, 0);
        }
    }
    /* heap sort: the last in order goes to the end */
    for (int32_t end = m - 1; end > 0; end--) {
        float tz = z[0];
        z[0] = z[end];
        z[end] = tz;
        int32_t ti = id[0];
        id[0] = id[end];
        id[end] = ti;
        sift_down(z, id, end, 0);
    }
    return m;
}

/* ==== Sampling ==== */

static vi_status check_params(const vi_sampling *p, const float *logits, int32_t n_vocab,
                              const int32_t *token, vi_error *err)
{
    if (!p)
        return vi_fail(err, VI_ERR_INVALID, "sampling: the parameters are NULL");
    if (!logits)
        return vi_fail(err, VI_ERR_INVALID, "sampling: logits is NULL");
    if (!token)
        return vi_fail(err, VI_ERR_INVALID, "sampling: token is NULL");
    if (n_vocab < 1)
        return vi_fail(err, VI_ERR_INVALID, "sampling: n_vocab must be >= 1, got %d", (int)n_vocab);
    float t = p->temperature;
    if (!(t >= 0.0f) || t == __builtin_inff())
        return vi_fail(err, VI_ERR_INVALID,
                       "sampling: temperature must be a finite number >= 0, got %g", (double)t);
    if (p->top_k < 0)
        return vi_fail(err, VI_ERR_INVALID, "sampling: top_k must be >= 0, got %d", (int)p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return vi_fail(err, VI_ERR_INVALID, "sampling: top_p must be in (0, 1], got %g",
                       (double)p->top_p);
    return VI_OK;
}

vi_status vi_sample(const vi_sampling *p, const float *logits, int32_t n_vocab, uint64_t position,
                    void *scratch, int32_t *token, vi_error *err)
{
    vi_status st = check_params(p, logits, n_vocab, token, err);
    if (st != VI_OK)
        return st;
    if (p->temperature == 0.0f) {
        int32_t best = 0;
        for (int32_t i = 1; i < n_vocab; i++)
            if (vi_argmax_better(logits[i], logits[best]))
                best = i;
        *token = best;
        return VI_OK;
    }
    if (!scratch)
        return vi_fail(err, VI_ERR_INVALID,
                       "sampling: scratch is NULL (temperature %g needs "
                       "vi_sample_scratch_bytes(%d) bytes)",
                       (double)p->temperature, (int)n_vocab);
    float t = p->temperature;
    sample_work w;
    w.ka = scratch;
    w.kb = w.ka + n_vocab;
    w.ia = (int32_t *)(w.kb + n_vocab);
    w.ib = w.ia + n_vocab;
    w.e = (float *)(w.ib + n_vocab);

    /* candidates in order, cut to top_k */
    const int32_t *ids;
    int32_t m;
    int z_ready = p->top_k > 0 && p->top_k <= VI_SAMPLE_HEAP_MAX; /* the heap leaves z in w.e */
    if (z_ready) {
        m = order_top_k(logits, n_vocab, t, p->top_k, &w);
        ids = w.ia;
    } else {
        m = order_all(logits, n_vocab, t, &w, &ids);
        if (p->top_k > 0 && p->top_k < m)
            m = p->top_k;
    }
    if (m == 0)
        return vi_fail(err, VI_ERR_INVALID,
                       "sampling: no candidate token: all %d logits are NaN or -inf", (int)n_vocab);

    /* e_j = vi_expf(z_j - z_0) (the ISA's loop, same bits); where z_0 is
     * infinite, 1 for z_j == z_0 and 0 otherwise (the same rule for finite
     * z_0, where vi_expf(0) = 1). total summed left to right in order. */
    float *e = w.e;
    if (!z_ready)
        for (int32_t j = 0; j < m; j++)
            e[j] = logits[ids[j]] / t;
    float zm = e[0];
    if (zm - zm != 0.0f) {
        for (int32_t j = 0; j < m; j++)
            e[j] = e[j] == zm ? 1.0f : 0.0f;
    } else {
        vi_cpu_kern_for(vi_isa_detect())->softmax_exp(e, zm, e, m);
    }
    float total = 0.0f;
    for (int32_t j = 0; j < m; j++)
        total = total + e[j];

    /* top_p: the shortest prefix whose running sum reaches top_p * total */
    int32_t kept = m;
    float kept_total = total;
    if (p->top_p < 1.0f) {
        float target = p->top_p * total, cum = 0.0f;
        for (int32_t i = 0; i < m; i++) {
            cum = cum + e[i];
            if (cum >= target) {
                kept = i + 1;
                kept_total = cum;
                break;
            }
        }
    }

    /* draw: the first candidate whose running sum exceeds u * kept_total;
     * if none does (rounding), the last kept candidate with e > 0 */
    float r = vi_sample_uniform(p->seed, position) * kept_total;
    float cum = 0.0f;
    int32_t pick = 0;
    for (int32_t i = 0; i < kept; i++) {
        if (e[i] > 0.0f)
            pick = i;
        cum = cum + e[i];
        if (cum > r)
            break;
    }
    *token = ids[pick];
    return VI_OK;
}
