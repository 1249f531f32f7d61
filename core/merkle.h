/* core/merkle.h — Merkle tree hashing in the style of RFC 6962 (Certificate
 * Transparency): leaf hash = SHA256(0x00 || leaf bytes), interior node =
 * SHA256(0x01 || left || right), a tree over n > 1 leaves splits at the
 * largest power of two k < n (left subtree: the first k leaves). Inclusion
 * proofs (audit paths) list sibling hashes from the leaf upwards. */
#ifndef VI_MERKLE_H
#define VI_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"
#include "status.h"

/* An audit path of a tree of up to 2^64 - 1 leaves has at most 64 hashes. */
#define VI_MERKLE_MAX_PATH 64

/* Starts the hash of one leaf: begins h and appends the 0x00 leaf prefix;
 * the caller appends the leaf bytes and calls vi_sha256_final. */
vi_status vi_merkle_leaf_begin(vi_sha256 *h, vi_error *err);

/* out = SHA256(0x00 || p[0..n)), the leaf hash of one leaf's bytes;
 * VI_ERR_NOMEM / VI_ERR_INTERNAL if OpenSSL fails. */
vi_status vi_merkle_leaf_hash(const void *p, size_t n, uint8_t out[VI_SHA256_LEN], vi_error *err);

/* out = SHA256(0x01 || left || right); VI_ERR_INTERNAL if OpenSSL fails. */
vi_status vi_merkle_node(const uint8_t left[VI_SHA256_LEN], const uint8_t right[VI_SHA256_LEN],
                         uint8_t out[VI_SHA256_LEN], vi_error *err);

/* Root of the tree over n >= 1 leaf hashes; VI_ERR_INVALID if n == 0. */
vi_status vi_merkle_root(const uint8_t (*leaves)[VI_SHA256_LEN], uint64_t n,
                         uint8_t root[VI_SHA256_LEN], vi_error *err);

/* Audit path of leaf `index` in the tree over n leaf hashes: writes
 * *path_len sibling hashes (bottom first) into path, which has room for
 * VI_MERKLE_MAX_PATH. VI_ERR_INVALID if n == 0 or index >= n. */
vi_status vi_merkle_proof(const uint8_t (*leaves)[VI_SHA256_LEN], uint64_t n, uint64_t index,
                          uint8_t (*path)[VI_SHA256_LEN], int *path_len, vi_error *err);

/* Checks that leaf_hash is leaf `index` of the n_leaves-leaf tree with the
 * given root, using an audit path from vi_merkle_proof. Returns VI_OK if it
 * is, VI_ERR_VERIFY if the path does not lead to the root (wrong hash, index,
 * size or path length), VI_ERR_INVALID if index >= n_leaves. */
vi_status vi_merkle_verify(const uint8_t leaf_hash[VI_SHA256_LEN], uint64_t index,
                           uint64_t n_leaves, const uint8_t (*path)[VI_SHA256_LEN], int path_len,
                           const uint8_t root[VI_SHA256_LEN], vi_error *err);

/* Number of hashes in the audit path of leaf `index` in a tree of n leaves
 * (0 when n == 1), or -1 if n == 0 or index >= n. */
int vi_merkle_path_len(uint64_t index, uint64_t n);

/* ==== A whole tree, for many audit paths ==== */

/* Every node of the tree over n leaf hashes, kept level by level, so that
 * the root and the audit paths of all n leaves cost n - 1 node hashes in all
 * (vi_merkle_proof rehashes subtrees for each path). Level 0 holds the leaf
 * hashes; level l+1 pairs the nodes of level l in order, and a last node
 * without a partner moves up unchanged: this is the RFC 6962 tree. */
typedef struct vi_merkle_tree {
    uint8_t (*nodes)[VI_SHA256_LEN]; /* all levels, level 0 first; fewer than 2n hashes */
    uint64_t n_leaves;
    int n_levels;                                 /* 1 (a single leaf) .. 65 */
    uint64_t level_start[VI_MERKLE_MAX_PATH + 1]; /* index into nodes of each level's first node */
    uint64_t level_count[VI_MERKLE_MAX_PATH + 1]; /* nodes of each level; the last level has 1 */
} vi_merkle_tree;

/* Builds the tree over n >= 1 leaf hashes into t (free with
 * vi_merkle_tree_free). VI_ERR_INVALID if n == 0 or n > 2^62, VI_ERR_NOMEM,
 * VI_ERR_INTERNAL if OpenSSL fails; t is then empty. */
vi_status vi_merkle_tree_build(vi_merkle_tree *t, const uint8_t (*leaves)[VI_SHA256_LEN],
                               uint64_t n, vi_error *err);

/* The root of a built tree (its only node at the top level); NULL for an
 * empty (zeroed or freed) tree. */
const uint8_t *vi_merkle_tree_root(const vi_merkle_tree *t);

/* Audit path of leaf `index`, the same hashes as vi_merkle_proof gives:
 * writes *path_len hashes (bottom first) into path, which has room for
 * `cap`. VI_ERR_INVALID if index >= n, VI_ERR_LIMIT if cap is too small. */
vi_status vi_merkle_tree_path(const vi_merkle_tree *t, uint64_t index,
                              uint8_t (*path)[VI_SHA256_LEN], int cap, int *path_len,
                              vi_error *err);

/* Releases the nodes of a tree; accepts NULL and a zeroed or freed tree. */
void vi_merkle_tree_free(vi_merkle_tree *t);

#endif
