/* core/model_digest.c — the model digest of a loaded vi_model: its manifest
 * bytes and the stored bytes of every tensor in its safetensors file. */
#include "digest.h"

#include <stdlib.h>

#include "model.h"

vi_status vi_model_digest_of(const struct vi_model *m, uint8_t out[VI_SHA256_LEN], vi_error *err)
{
    const vi_safetensors *st = &m->st;
    if (st->n_tensors < 0 || (st->n_tensors > 0 && !st->tensors))
        return vi_fail(err, VI_ERR_INVALID, "model has a bad tensor table (%d tensors)",
                       st->n_tensors);
    vi_digest_tensor *dt = calloc((size_t)st->n_tensors + 1, sizeof *dt);
    if (!dt)
        return vi_fail(err, VI_ERR_NOMEM, "cannot allocate %d tensor descriptors", st->n_tensors);
    vi_status rc = VI_OK;
    for (int i = 0; i < st->n_tensors; i++) {
        const vi_st_tensor *t = &st->tensors[i];
        if (t->end < t->begin) {
            rc = vi_fail(err, VI_ERR_INVALID, "tensor '%s': data_offsets [%llu, %llu] are reversed",
                         t->name, (unsigned long long)t->begin, (unsigned long long)t->end);
            goto done;
        }
        dt[i].name = t->name;
        dt[i].dtype = vi_dtype_safetensors_name(t->dtype);
        dt[i].ndim = t->ndim;
        dt[i].shape = t->shape;
        dt[i].data = t->data;
        dt[i].nbytes = t->end - t->begin;
    }
    rc = vi_model_digest(m->manifest, m->manifest_len, dt, st->n_tensors, out, err);
done:
    free(dt);
    return rc;
}
