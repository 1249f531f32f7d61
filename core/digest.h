/* core/digest.h — the SHA-256 commitments that receipts carry:
 *   - the model digest: a Merkle root over the manifest (model.json bytes) and
 *     every stored tensor of model.safetensors, so that one tensor can be
 *     proven to belong to a model without the rest of the weights;
 *   - tensor-set digests of a request's inputs and of its outputs.
 * Every byte hashed is specified in docs/receipts.md. */
#ifndef VI_DIGEST_H
#define VI_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "sha256.h"
#include "status.h"
#include "tensor.h"

/* Domain tags: the first field of every hashed encoding. */
#define VI_TAG_MANIFEST "verinfer.manifest.v1"
#define VI_TAG_TENSOR "verinfer.tensor.v1"
#define VI_TAG_MODEL "verinfer.model.v1"
#define VI_TAG_TENSORS "verinfer.tensors.v1"

/* One stored tensor of a model, as in the safetensors file. */
typedef struct vi_digest_tensor {
    const char *name;     /* NUL-terminated, non-empty */
    const char *dtype;    /* safetensors dtype string: "F32", "BF16", "I64", ... */
    int ndim;             /* 0..VI_MAX_DIMS */
    const int64_t *shape; /* [ndim] */
    const void *data;     /* the stored bytes exactly as in the file */
    uint64_t nbytes;      /* must equal numel * dtype size */
} vi_digest_tensor;

/* Hash of leaf 0 (the manifest): SHA256(0x00 || tag || u64 len || bytes). */
vi_status vi_manifest_leaf_hash(const void *manifest, size_t manifest_len,
                                uint8_t out[VI_SHA256_LEN], vi_error *err);

/* Hash of one tensor leaf; VI_ERR_INVALID (naming the tensor) if its name,
 * dtype, shape or byte length is malformed or inconsistent. */
vi_status vi_tensor_leaf_hash(const vi_digest_tensor *t, uint8_t out[VI_SHA256_LEN], vi_error *err);

/* model_digest = SHA256(tag "verinfer.model.v1" || u64 n_leaves || root). */
vi_status vi_model_digest_from_root(const uint8_t root[VI_SHA256_LEN], uint64_t n_leaves,
                                    uint8_t out[VI_SHA256_LEN], vi_error *err);

/* Model digest of a manifest and its n tensors (any order: they are sorted by
 * name bytewise). Fails with VI_ERR_INVALID on a malformed tensor or a
 * duplicate name, VI_ERR_NOMEM if the leaf table cannot be allocated. */
vi_status vi_model_digest(const void *manifest, size_t manifest_len,
                          const vi_digest_tensor *tensors, int n, uint8_t out[VI_SHA256_LEN],
                          vi_error *err);

/* Proof that one tensor is part of a model digest. */
typedef struct vi_tensor_proof {
    uint64_t index;    /* leaf index in the tree (0 is the manifest) */
    uint64_t n_leaves; /* 1 + number of tensors */
    int path_len;
    uint8_t path[VI_MERKLE_MAX_PATH][VI_SHA256_LEN]; /* sibling hashes, bottom first */
    uint8_t root[VI_SHA256_LEN];                     /* Merkle root */
} vi_tensor_proof;

/* Builds the inclusion proof of the tensor called `name`; VI_ERR_NOT_FOUND if
 * there is none, otherwise the failures of vi_model_digest. */
vi_status vi_model_tensor_proof(const void *manifest, size_t manifest_len,
                                const vi_digest_tensor *tensors, int n, const char *name,
                                vi_tensor_proof *proof, vi_error *err);

/* Checks that tensor t is part of the model with model_digest, using proof.
 * Returns VI_OK, or VI_ERR_VERIFY saying whether the path or the root does
 * not match (VI_ERR_INVALID if t itself is malformed). */
vi_status vi_model_tensor_verify(const vi_digest_tensor *t, const vi_tensor_proof *proof,
                                 const uint8_t model_digest[VI_SHA256_LEN], vi_error *err);

/* Model digest of a loaded model (core/model.h): its manifest bytes and every
 * tensor of its safetensors file as stored. Failures as vi_model_digest. */
struct vi_model;
vi_status vi_model_digest_of(const struct vi_model *m, uint8_t out[VI_SHA256_LEN], vi_error *err);

/* Digest of a set of tensors playing `role` ("inputs" or "outputs"), sorted
 * by name bytewise, over their decoded little-endian row-major bytes. Fails
 * with VI_ERR_INVALID on another role, a duplicate or empty name, a bad
 * dtype or shape, or missing data. */
vi_status vi_tensors_digest(const char *role, const vi_tensor *tensors, int n,
                            uint8_t out[VI_SHA256_LEN], vi_error *err);

#endif
