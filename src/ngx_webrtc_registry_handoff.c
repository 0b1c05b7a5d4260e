
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_webrtc_registry_private.h"


/*
 * The registry across reloads and crashes: the configuration a worker
 * is of, sessions handed over with their keys and state, adopted by
 * another worker, found by their media path.
 */


static void ngx_webrtc_registry_put(ngx_webrtc_media_t *media,
    ngx_webrtc_handoff_t *state);
static size_t ngx_webrtc_registry_path_key(u_char *key,
    struct sockaddr *sockaddr, socklen_t socklen);


#define NGX_WEBRTC_PENDING_PIDS  16


/* this worker's configuration, by the zone's count of them */
uint32_t  ngx_webrtc_registry_my_cycle;


/*
 * A worker of a configuration starts: a worker of an older one that
 * exits after this hands its sessions over instead of closing them
 */

void
ngx_webrtc_registry_init_worker(void)
{
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_webrtc_registry_my_cycle = ctx->sh->cycle;

    if (ctx->sh->worker_cycle < ctx->sh->cycle) {
        ctx->sh->worker_cycle = ctx->sh->cycle;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


uint32_t
ngx_webrtc_registry_cycle(void)
{
    return ngx_webrtc_registry_my_cycle;
}


/*
 * NGX_OK: a newer configuration keeps the zone, this worker exits on a
 * reload and hands its sessions over (its workers adopt them once they
 * start, however busy the host); NGX_DECLINED: nginx stops, or the zone
 * was not kept (its size changed, a binary upgrade), sessions end.  A
 * reload that failed after the zone was made, followed by a stop, hands
 * sessions over to nobody: they end at their consent deadline, as they
 * would have.
 */

ngx_int_t
ngx_webrtc_registry_successor(void)
{
    ngx_int_t                   rc;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    rc = (ctx->sh->cycle > ngx_webrtc_registry_my_cycle)
         ? NGX_OK : NGX_DECLINED;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * RFC 5764, 4.2: the session's SRTP master keys, kept in the zone from
 * the DTLS handshake for a worker that takes the session over
 */

ngx_int_t
ngx_webrtc_registry_put_keys(u_char *id, ngx_webrtc_keys_t *keys)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s == NULL || s->owner_pid != ngx_pid) {
        rc = NGX_ABORT;
        goto done;
    }

    if (s->media == NULL) {
        s->media = ngx_slab_calloc_locked(ctx->shpool,
                                          sizeof(ngx_webrtc_media_t));
        if (s->media == NULL) {
            rc = NGX_ERROR;
            goto done;
        }
    }

    s->media->keys = *keys;
    s->media->has_state = 0;
    s->media->final = 0;

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * An exiting worker releases the session with its exact state: the
 * worker that adopts it goes on with the same keys.  NGX_DECLINED: no
 * keys (the handshake did not finish, or the zone was full), the
 * session is closed as before; NGX_ABORT: not ours, or gone.
 */

ngx_int_t
ngx_webrtc_registry_handoff(u_char *id, ngx_webrtc_handoff_t *state)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s == NULL || s->owner_pid != ngx_pid) {
        rc = NGX_ABORT;
        goto done;
    }

    if (s->media == NULL) {
        rc = NGX_DECLINED;
        goto done;
    }

    ngx_webrtc_registry_put(s->media, state);
    s->media->final = 1;

    s->owner_pid = 0;
    s->handoff = 1;
    ctx->sh->handoffs++;

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * This worker takes a session handed over, or one whose worker died: NGX_OK,
 * what it needs in claim, keys and state, *final set if the state is exact
 * (a hand-over) rather than the last lazy write; NGX_BUSY: a live worker
 * has it (claim->owner); NGX_DECLINED: no state to go on from; NGX_ABORT:
 * gone
 */

ngx_int_t
ngx_webrtc_registry_adopt(u_char *id, ngx_webrtc_claim_t *claim,
    ngx_webrtc_keys_t *keys, ngx_webrtc_handoff_t *state, ngx_uint_t *final)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s == NULL) {
        rc = NGX_ABORT;
        goto done;
    }

    if (!s->handoff) {

        if (s->owner_pid == ngx_pid) {
            rc = NGX_DECLINED;
            goto done;
        }

        if (s->owner_pid && ngx_webrtc_registry_owner_live(s) == NGX_OK) {
            ngx_webrtc_registry_owner(s, &claim->owner);
            rc = NGX_BUSY;
            goto done;
        }
    }

    if (s->media == NULL || !s->media->has_state) {
        rc = NGX_DECLINED;
        goto done;
    }

    if (s->handoff) {
        s->handoff = 0;
        ctx->sh->handoffs--;
    }

    s->owner_pid = ngx_pid;
    s->owner_slot = ngx_worker;
    s->owner_cycle = ngx_webrtc_registry_my_cycle;

    ngx_webrtc_registry_claim_copy(s, claim);

    *keys = s->media->keys;
    *state = s->media->state[s->media->cur];
    *final = s->media->final;

    /* lazy writes from now on, until this worker hands it over */
    s->media->final = 0;

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * What the worker serving a session goes on from, written as it changes
 * (ngx_webrtc_peer_write_state()): NGX_ABORT if the session is gone or
 * not this worker's
 */

ngx_int_t
ngx_webrtc_registry_put_state(u_char *id, ngx_webrtc_handoff_t *state)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s && s->owner_pid == ngx_pid && s->media) {
        ngx_webrtc_registry_put(s->media, state);
        rc = NGX_OK;

    } else {
        rc = NGX_ABORT;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* into the copy not current, then made current: a torn write is not read */

static void
ngx_webrtc_registry_put(ngx_webrtc_media_t *media, ngx_webrtc_handoff_t *state)
{
    ngx_uint_t  next;

    next = media->has_state ? media->cur ^ 1 : media->cur;

    media->state[next] = *state;

    ngx_memory_barrier();

    media->cur = next;
    media->has_state = 1;
}


/*
 * The sessions handed over (and with orphans, those of workers that died)
 * that this worker adopts without waiting for their datagrams: those of
 * its slot, and with fewer workers than before, those of the slots gone,
 * spread by their ids
 */

ngx_uint_t
ngx_webrtc_registry_pending(ngx_uint_t slot, ngx_uint_t nworkers,
    ngx_uint_t orphans, u_char (*ids)[NGX_WEBRTC_ID_LEN], ngx_uint_t max)
{
    ngx_uint_t                  n, k, mine, nknown;
    ngx_rbtree_node_t          *node, *root, *sentinel;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;
    ngx_pid_t                   known[NGX_WEBRTC_PENDING_PIDS];
    u_char                      live[NGX_WEBRTC_PENDING_PIDS];

    ctx = ngx_webrtc_registry_get();

    n = 0;
    nknown = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (ctx->sh->handoffs == 0 && !orphans) {
        goto done;
    }

    root = ctx->sh->sessions.root;
    sentinel = ctx->sh->sessions.sentinel;

    if (root == sentinel) {
        goto done;
    }

    for (node = ngx_rbtree_min(root, sentinel);
         node && n < max;
         node = ngx_rbtree_next(&ctx->sh->sessions, node))
    {
        s = (ngx_webrtc_session_t *)
                ((u_char *) node - offsetof(ngx_webrtc_session_t, id_node));

        if (!s->handoff) {

            /* a worker that died: its respawn, same slot, adopts */

            if (s->owner_pid == 0 || s->owner_pid == ngx_pid
                || s->media == NULL || !s->media->has_state)
            {
                continue;
            }

            /* the owners' liveness, a few remembered */

            for (k = 0; k < nknown; k++) {
                if (known[k] == s->owner_pid) {
                    break;
                }
            }

            if (k == nknown) {
                k = (nknown < NGX_WEBRTC_PENDING_PIDS) ? nknown++
                                                        : nknown - 1;
                known[k] = s->owner_pid;
                live[k] = (ngx_webrtc_registry_owner_live(s) == NGX_OK);
            }

            if (live[k]) {
                continue;
            }
        }

        if ((ngx_uint_t) s->owner_slot < nworkers) {
            mine = ((ngx_uint_t) s->owner_slot == slot);

        } else {
            mine = (s->id_node.node.key % nworkers == slot);
        }

        if (mine) {
            ngx_memcpy(ids[n++], s->id, NGX_WEBRTC_ID_LEN);
        }
    }

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return n;
}


/*
 * NGX_AGAIN while a viewer of the stream is handed over and not yet
 * adopted (on reload), NGX_OK otherwise
 */

ngx_int_t
ngx_webrtc_registry_stream_moving(ngx_webrtc_stream_t *st, uint32_t gen)
{
    ngx_int_t                   rc;
    ngx_queue_t                *q;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    rc = NGX_OK;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (ctx->sh->handoffs == 0 || st->gen != gen) {
        goto done;
    }

    for (q = ngx_queue_head(&st->viewers);
         q != ngx_queue_sentinel(&st->viewers);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_webrtc_session_t, queue);

        if (s->handoff) {
            rc = NGX_AGAIN;
            break;
        }
    }

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * The session's media path is this remote address: a worker that
 * receives from it without a check of its own finds the session by it
 */

void
ngx_webrtc_registry_path_set(u_char *id, struct sockaddr *sockaddr,
    socklen_t socklen)
{
    size_t                      len;
    ngx_str_node_t             *sn;
    ngx_webrtc_session_t       *s, *o;
    ngx_webrtc_registry_ctx_t  *ctx;
    u_char                      key[NGX_WEBRTC_PATH_KEY_LEN];

    len = ngx_webrtc_registry_path_key(key, sockaddr, socklen);

    if (len == 0) {
        return;
    }

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s == NULL) {
        goto done;
    }

    if (s->path_node.str.len == len
        && ngx_memcmp(s->path_key, key, len) == 0)
    {
        goto done;
    }

    /* the address was another session's: the newer takes it */

    sn = ngx_webrtc_registry_lookup(&ctx->sh->paths, key, len);

    if (sn) {
        o = (ngx_webrtc_session_t *)
                ((u_char *) sn - offsetof(ngx_webrtc_session_t, path_node));
        ngx_rbtree_delete(&ctx->sh->paths, &o->path_node.node);
        o->path_node.str.len = 0;
    }

    if (s->path_node.str.len) {
        ngx_rbtree_delete(&ctx->sh->paths, &s->path_node.node);
    }

    ngx_memcpy(s->path_key, key, len);
    s->path_node.str.data = s->path_key;
    s->path_node.str.len = len;
    s->path_node.node.key = ngx_crc32_short(key, len);
    ngx_rbtree_insert(&ctx->sh->paths, &s->path_node.node);

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/*
 * The session whose media path is this remote address, and who serves
 * it: NGX_OK, owner (its id, pid 0 if none); NGX_DECLINED: none
 */

ngx_int_t
ngx_webrtc_registry_path_lookup(struct sockaddr *sockaddr, socklen_t socklen,
    ngx_webrtc_owner_t *owner)
{
    size_t                      len;
    ngx_int_t                   rc;
    ngx_str_node_t             *sn;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;
    u_char                      key[NGX_WEBRTC_PATH_KEY_LEN];

    len = ngx_webrtc_registry_path_key(key, sockaddr, socklen);

    if (len == 0) {
        return NGX_DECLINED;
    }

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_webrtc_registry_lookup(&ctx->sh->paths, key, len);

    if (sn) {
        s = (ngx_webrtc_session_t *)
                ((u_char *) sn - offsetof(ngx_webrtc_session_t, path_node));

        ngx_webrtc_registry_owner(s, owner);

        if (owner->pid && !owner->handoff
            && ngx_webrtc_registry_owner_live(s) != NGX_OK)
        {
            owner->pid = 0;
        }

        rc = NGX_OK;

    } else {
        rc = NGX_DECLINED;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* the family, port and address of a remote address, as the paths' key */

static size_t
ngx_webrtc_registry_path_key(u_char *key, struct sockaddr *sockaddr,
    socklen_t socklen)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    switch (sockaddr->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        if (socklen < (socklen_t) sizeof(struct sockaddr_in6)) {
            return 0;
        }

        sin6 = (struct sockaddr_in6 *) sockaddr;
        key[0] = 6;
        ngx_memcpy(key + 1, &sin6->sin6_port, 2);
        ngx_memcpy(key + 3, &sin6->sin6_addr, 16);
        return 1 + 2 + 16;
#endif

    case AF_INET:
        if (socklen < (socklen_t) sizeof(struct sockaddr_in)) {
            return 0;
        }

        sin = (struct sockaddr_in *) sockaddr;
        key[0] = 4;
        ngx_memcpy(key + 1, &sin->sin_port, 2);
        ngx_memcpy(key + 3, &sin->sin_addr, 4);
        return 1 + 2 + 4;

    default:
        return 0;
    }
}
