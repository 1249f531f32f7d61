/* bench/ulp_sweep.c — measures the accuracy of core/vmath.h over every float
 * input (all 2^32 bit patterns, or a sub-range) against libm in double.
 *
 * A measuring tool, not a test and not an exact path: the double results of
 * libm are the reference, rounded to float to get the correctly rounded
 * value. Errors are in ulps of that correctly rounded result (2^-149 for
 * subnormals; an infinite result counts as 2^128). Prints one row per
 * function: max ulp error, the input where it first occurs, how many results
 * are not correctly rounded, and special-value mismatches (NaN in -> quiet
 * NaN out, exact results for +-0 / +-inf, NaN only where the reference is
 * NaN, zeros with the reference's sign), which must be 0. The digest column
 * (a sum of mix(input bits, output bits), NaN outputs as 0x7fc00000) pins
 * every output bit: another machine, ISA or backend must reproduce it.
 *
 *     ulp_sweep [FUNC|all] [LO HI [STEP]]    LO, HI: inclusive bit-pattern range (hex);
 *                                            STEP: every STEP-th pattern from LO (decimal) */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/vmath.h"

#define SWEEP_THREADS 2
#define SWEEP_CHUNK (1u << 16)

/* ==== Functions and their double references ==== */

static float f_exp(float x)
{
    return vi_expf(x);
}
static float f_expm1(float x)
{
    return vi_expm1f(x);
}
static float f_tanh(float x)
{
    return vi_tanhf(x);
}
static float f_erf(float x)
{
    return vi_erff(x);
}
static float f_sigmoid(float x)
{
    return vi_sigmoidf(x);
}
static float f_sqrt(float x)
{
    return vi_sqrtf(x);
}
static float f_rsqrt(float x)
{
    return vi_rsqrtf(x);
}
static float f_log(float x)
{
    return vi_logf(x);
}
static float f_sin(float x)
{
    return vi_sinf(x);
}
static float f_cos(float x)
{
    return vi_cosf(x);
}

static double r_sigmoid(double x)
{
    if (x < 0) {
        double e = exp(x);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(-x));
}
static double r_rsqrt(double x)
{
    return 1.0 / sqrt(x);
}

typedef struct {
    const char *name;
    float (*f)(float);
    double (*ref)(double);
} sweep_fn;

static const sweep_fn FUNCS[] = {
    {"exp", f_exp, exp},
    {"expm1", f_expm1, expm1},
    {"tanh", f_tanh, tanh},
    {"erf", f_erf, erf},
    {"sigmoid", f_sigmoid, r_sigmoid},
    {"sqrt", f_sqrt, sqrt},
    {"rsqrt", f_rsqrt, r_rsqrt},
    {"log", f_log, log},
    {"sin", f_sin, sin},
    {"cos", f_cos, cos},
};
#define NFUNCS (sizeof FUNCS / sizeof FUNCS[0])

/* ==== Error measure ==== */

typedef struct {
    const sweep_fn *fn;
    uint64_t lo, hi; /* inclusive range of bit patterns */
    uint64_t step;   /* measure lo, lo + step, ... <= hi */
    unsigned tid;
    double max_err;
    uint32_t max_at;  /* smallest bit pattern with max_err */
    uint64_t not_cr;  /* results different from the correctly rounded one */
    uint64_t special; /* special-value mismatches */
    uint32_t special_at;
    uint64_t count;
    uint64_t digest; /* sum of mix(input bits, output bits): order-free */
} sweep_job;

/* ulp of the float v (finite): 2^(e-23) for |v| in [2^e, 2^(e+1)), 2^-149 below 2^-126. */
static double ulp_of(float v)
{
    float a = fabsf(v);
    if (a < 0x1p-126f)
        return 0x1p-149;
    int e;
    frexpf(a, &e); /* a = m 2^e, m in [0.5, 1) */
    return ldexp(1.0, e - 24);
}

static double inf_as_2p128(double v)
{
    return isinf(v) ? copysign(0x1p128, v) : v;
}

/* splitmix64's finaliser: a bijective mix of (input << 32 | output). */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int is_special_input(float x)
{
    return isnan(x) || isinf(x) || x == 0.0f;
}

static void measure(sweep_job *j, uint32_t bits)
{
    float x, y, cr;
    memcpy(&x, &bits, sizeof x);
    y = j->fn->f(x);
    double ref = j->fn->ref((double)x);
    cr = (float)ref;
    uint32_t yb, cb;
    memcpy(&yb, &y, sizeof yb);
    memcpy(&cb, &cr, sizeof cb);
    j->count++;
    j->digest += mix64((uint64_t)bits << 32 | (isnan(y) ? 0x7fc00000u : yb));

    int bad = 0;
    if (isnan(y) != isnan(ref))
        bad = 1;
    else if (isnan(y) && !(yb & 0x00400000u))
        bad = 1; /* signalling NaN out */
    else if (!isnan(y) && y == 0.0f && !signbit(y) != !signbit(ref))
        bad = 1;
    else if (is_special_input(x) && !isnan(y) && yb != cb)
        bad = 1;
    if (bad) {
        if (j->special == 0 || bits < j->special_at)
            j->special_at = bits;
        j->special++;
        return;
    }
    if (isnan(y))
        return;
    if (yb != cb)
        j->not_cr++;
    double err;
    if (isinf(y) && yb == cb)
        err = 0.0; /* overflow (or an infinite reference) reproduced exactly */
    else {
        double u = isinf(cr) ? 0x1p104 : ulp_of(cr);
        err = fabs(inf_as_2p128((double)y) - inf_as_2p128(ref)) / u;
    }
    if (err > j->max_err || (err == j->max_err && bits < j->max_at)) {
        j->max_err = err;
        j->max_at = bits;
    }
}

static void *sweep_thread(void *arg)
{
    sweep_job *j = arg;
    /* chunks of the input indices, striped over the threads */
    uint64_t n = (j->hi - j->lo) / j->step + 1;
    for (uint64_t c = (uint64_t)j->tid * SWEEP_CHUNK; c < n;
         c += (uint64_t)SWEEP_THREADS * SWEEP_CHUNK) {
        uint64_t end = c + SWEEP_CHUNK < n ? c + SWEEP_CHUNK : n;
        for (uint64_t i = c; i < end; i++)
            measure(j, (uint32_t)(j->lo + i * j->step));
    }
    return NULL;
}

/* ==== Main ==== */

static int parse_bits(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 16);
    if (*s == '\0' || *end != '\0' || v > 0xffffffffull)
        return -1;
    *out = v;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(void)
{
    fprintf(stderr, "usage: ulp_sweep [FUNC|all] [LO HI [STEP]]\n"
                    "  FUNC: exp expm1 tanh erf sigmoid sqrt rsqrt log sin cos (default all)\n"
                    "  LO HI: inclusive range of input bit patterns in hex (default 0 ffffffff)\n"
                    "  STEP: measure every STEP-th bit pattern from LO (decimal, default 1)\n");
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    uint64_t lo = 0, hi = 0xffffffffull, step = 1;
    if (argc == 4 || argc == 5) {
        if (parse_bits(argv[2], &lo) || parse_bits(argv[3], &hi) || lo > hi) {
            usage();
            return 2;
        }
        if (argc == 5) {
            char *end;
            unsigned long long v = strtoull(argv[4], &end, 10);
            if (*argv[4] == '\0' || *end != '\0' || v == 0 || v > 0xffffffffull) {
                usage();
                return 2;
            }
            step = v;
        }
    } else if (argc != 1 && argc != 2) {
        usage();
        return 2;
    }
    int found = 0, fail = 0;
    for (size_t f = 0; f < NFUNCS; f++)
        found |= !strcmp(which, "all") || !strcmp(which, FUNCS[f].name);
    if (!found) {
        usage();
        return 2;
    }
    printf("range %08" PRIx64 "..%08" PRIx64 " step %" PRIu64 " (%" PRIu64 " inputs), %d threads\n",
           lo, hi, step, (hi - lo) / step + 1, SWEEP_THREADS);
    printf("%-8s %9s %11s %16s %11s %7s %16s %6s\n", "function", "max ulp", "at (bits)",
           "at (value)", "not CR", "special", "digest", "time s");
    for (size_t f = 0; f < NFUNCS; f++) {
        if (strcmp(which, "all") && strcmp(which, FUNCS[f].name))
            continue;
        sweep_job jobs[SWEEP_THREADS];
        pthread_t th[SWEEP_THREADS];
        double t0 = now_s();
        for (unsigned t = 0; t < SWEEP_THREADS; t++) {
            memset(&jobs[t], 0, sizeof jobs[t]);
            jobs[t].fn = &FUNCS[f];
            jobs[t].lo = lo;
            jobs[t].hi = hi;
            jobs[t].step = step;
            jobs[t].tid = t;
            jobs[t].max_err = -1.0; /* the first measured input sets the position */
            if (pthread_create(&th[t], NULL, sweep_thread, &jobs[t])) {
                fprintf(stderr, "ulp_sweep: cannot start a thread\n");
                return 1;
            }
        }
        sweep_job all = {0};
        all.max_err = -1.0;
        for (unsigned t = 0; t < SWEEP_THREADS; t++) {
            pthread_join(th[t], NULL);
            sweep_job *j = &jobs[t];
            if (j->max_err > all.max_err || (j->max_err == all.max_err && j->max_at < all.max_at)) {
                all.max_err = j->max_err;
                all.max_at = j->max_at;
            }
            if (j->special && (all.special == 0 || j->special_at < all.special_at))
                all.special_at = j->special_at;
            all.not_cr += j->not_cr;
            all.special += j->special;
            all.count += j->count;
            all.digest += j->digest;
        }
        float at;
        char atb[16];
        memcpy(&at, &all.max_at, sizeof at);
        snprintf(atb, sizeof atb, "0x%08" PRIx32, all.max_at);
        if (all.max_err < 0.0) { /* every result was NaN */
            all.max_err = 0.0;
            snprintf(atb, sizeof atb, "-");
            at = 0.0f;
        }
        printf("%-8s %9.4f %11s %16.9g %11" PRIu64 " %7" PRIu64 " %016" PRIx64 " %6.1f\n",
               FUNCS[f].name, all.max_err, atb, (double)at, all.not_cr, all.special, all.digest,
               now_s() - t0);
        fflush(stdout);
        if (all.special)
            printf("         first special-value mismatch at 0x%08" PRIx32 "\n", all.special_at);
        if (all.special)
            fail = 1;
    }
    return fail;
}
