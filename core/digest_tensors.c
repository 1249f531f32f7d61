/* core/digest_tensors.c — the digest of a request's input or output tensors
 * (the same bytes whether they arrived as JSON or as binary data). */
#include "digest.h"

#include <stdlib.h>
#include <string.h>

static int cmp_by_name(const void *a, const void *b)
{
    const vi_tensor *x = *(const vi_tensor *const *)a;
    const vi_tensor *y = *(const vi_tensor *const *)b;
    return strcmp(x->name, y->name); /* compares as unsigned char: bytewise */
}

/* Checks one tensor and returns its byte length in *nbytes. */
static vi_status check_tensor(const char *role, int i, const vi_tensor *t, uint64_t *nbytes,
                              vi_error *err)
{
    size_t len = strnlen(t->name, VI_NAME_MAX);
    if (len == VI_NAME_MAX)
        return vi_fail(err, VI_ERR_INVALID, "%s tensor %d: name is not NUL-terminated", role, i);
    if (len == 0)
        return vi_fail(err, VI_ERR_INVALID, "%s tensor %d has an empty name", role, i);
    size_t size = vi_dtype_size(t->dtype);
    if (size == 0)
        return vi_fail(err, VI_ERR_INVALID, "%s tensor '%s': invalid datatype %d", role, t->name,
                       (int)t->dtype);
    int64_t numel;
    vi_status st = vi_shape_numel(t->ndim, t->shape, &numel, err);
    if (st != VI_OK) {
        vi_error_prefix(err, "%s tensor '%s'", role, t->name);
        return st;
    }
    if ((uint64_t)numel > (uint64_t)SIZE_MAX / size)
        return vi_fail(err, VI_ERR_LIMIT, "%s tensor '%s': byte size overflows", role, t->name);
    *nbytes = (uint64_t)numel * size;
    if (*nbytes > 0 && !t->data)
        return vi_fail(err, VI_ERR_INVALID, "%s tensor '%s' has no data", role, t->name);
    return VI_OK;
}

vi_status vi_tensors_digest(const char *role, const vi_tensor *tensors, int n,
                            uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    if (!role || (strcmp(role, "inputs") != 0 && strcmp(role, "outputs") != 0))
        return vi_fail(err, VI_ERR_INVALID,
                       "tensor digest role must be \"inputs\" or \"outputs\" (got \"%s\")",
                       role ? role : "(null)");
    if (n < 0 || (n > 0 && !tensors))
        return vi_fail(err, VI_ERR_INVALID, "bad %s tensor list (n = %d)", role, n);
    const vi_tensor **order = malloc(((size_t)n + 1) * sizeof *order);
    if (!order)
        return vi_fail(err, VI_ERR_NOMEM, "cannot allocate the order of %d %s tensors", n, role);
    uint64_t nbytes;
    vi_status st = VI_OK;
    for (int i = 0; st == VI_OK && i < n; i++) {
        order[i] = &tensors[i];
        st = check_tensor(role, i, &tensors[i], &nbytes, err);
    }
    if (st != VI_OK)
        goto done;
    qsort(order, (size_t)n, sizeof *order, cmp_by_name);
    for (int i = 1; i < n; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0) {
            st =
                vi_fail(err, VI_ERR_INVALID, "duplicate %s tensor name '%s'", role, order[i]->name);
            goto done;
        }
    vi_sha256 h;
    st = vi_sha256_begin(&h, err);
    if (st != VI_OK)
        goto done;
    vi_sha256_cstr(&h, VI_TAG_TENSORS);
    vi_sha256_cstr(&h, role);
    vi_sha256_u32(&h, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        const vi_tensor *t = order[i];
        nbytes = (uint64_t)vi_tensor_numel(t) * vi_dtype_size(t->dtype);
        vi_sha256_cstr(&h, t->name);
        vi_sha256_cstr(&h, vi_dtype_kserve_name(t->dtype));
        vi_sha256_u32(&h, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++)
            vi_sha256_u64(&h, (uint64_t)t->shape[d]);
        vi_sha256_u64(&h, nbytes);
        vi_sha256_bytes(&h, t->data, (size_t)nbytes);
    }
    st = vi_sha256_final(&h, out, err);
done:
    free(order);
    return st;
}
