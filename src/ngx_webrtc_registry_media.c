
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_webrtc_registry_private.h"


static void ngx_webrtc_registry_claim_copy(ngx_webrtc_session_t *s,
    ngx_webrtc_claim_t *out);
static void ngx_webrtc_registry_put(ngx_webrtc_media_t *media,
    ngx_webrtc_handoff_t *state);
static size_t ngx_webrtc_registry_path_key(u_char *key,
    struct sockaddr *sockaddr, socklen_t socklen);


#define NGX_WEBRTC_PENDING_PIDS  16


/* this worker's configuration, by the zone's count of them */
static uint32_t  ngx_webrtc_registry_my_cycle;


/*
 * The registry for the media plane: checks, consent, the worker serving
 * a session, and the streams' fan-out state.
 */


/*
 * A connectivity check's USERNAME, "<our ufrag>:<their ufrag>" (RFC 8445,
 * 7.2.2): the session's id and our password, copied out
 */

ngx_int_t
ngx_webrtc_registry_ice_lookup(u_char *ufrag, size_t len, u_char *remote,
    size_t remote_len, u_char *pwd, u_char *id)
{
    ngx_int_t                   rc;
    ngx_str_node_t             *sn;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    rc = NGX_ABORT;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_webrtc_registry_lookup(&ctx->sh->ufrags, ufrag, len);

    if (sn) {
        s = (ngx_webrtc_session_t *)
                ((u_char *) sn - offsetof(ngx_webrtc_session_t, ufrag_node));

        if (s->remote_ufrag_len == remote_len
            && ngx_memcmp(s->remote_ufrag, remote, remote_len) == 0)
        {
            ngx_memcpy(pwd, s->pwd, NGX_WEBRTC_PWD_LEN);
            ngx_memcpy(id, s->id, NGX_WEBRTC_ID_LEN);
            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * A valid check from a new address of the session: the session's
 * worker must still be there, DTLS must finish within the handshake
 * timeout, the address is counted against chk->max_addresses (once), and
 * consent is refreshed (RFC 7675).  NGX_OK; NGX_DECLINED: too many
 * addresses; NGX_DONE: the handshake deadline passed; NGX_ABORT: gone, or
 * closed now because its worker exited (chk->owner_exited).
 */

ngx_int_t
ngx_webrtc_registry_check(u_char *id, ngx_webrtc_check_t *chk)
{
    time_t                      now;
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();
    now = ngx_time();

    chk->expired = 0;
    chk->owner_exited = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s == NULL) {
        rc = NGX_ABORT;
        goto done;
    }

    chk->naddrs = s->naddrs;

    if (s->owner_pid && (s->media == NULL || !s->media->has_state)
        && ngx_webrtc_registry_owner_live(s) != NGX_OK)
    {
        /*
         * the worker with its DTLS state exited before the session had
         * keys and state to go on from: the client reconnects
         */

        ngx_webrtc_registry_session_close(ctx, s);
        chk->owner_exited = 1;
        rc = NGX_ABORT;
        goto done;
    }

    /*
     * a session kept half-open by checks alone: one that has not finished
     * DTLS within webrtc_handshake_timeout of its offer is closed
     */

    if (!s->established && now - s->created >= chk->handshake_timeout) {

        if (s->expires > now) {
            /* at the queue's head, which stays ordered */
            s->expires = now;
            ngx_queue_remove(&s->expire);
            ngx_queue_insert_head(&ctx->sh->expire, &s->expire);
            chk->expired = 1;
        }

        rc = NGX_DONE;
        goto done;
    }

    /*
     * one session holds at most webrtc_max_addresses nginx UDP
     * connections: valid checks from many ports (the session's own
     * credentials suffice) cannot take all of worker_connections
     */

    if (!chk->counted) {
        if (s->naddrs >= chk->max_addresses) {
            rc = NGX_DECLINED;
            goto done;
        }

        s->naddrs++;
        chk->counted = 1;
    }

    ngx_webrtc_registry_session_touch(ctx, s, chk->consent);

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* an address counted by ngx_webrtc_registry_check() is gone */

void
ngx_webrtc_registry_uncount(u_char *id)
{
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s && s->naddrs) {
        s->naddrs--;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/*
 * The peer showed it is there: its consent is refreshed, and on its DTLS
 * handshake the session's handshake deadline stops applying
 */

ngx_int_t
ngx_webrtc_registry_touch(u_char *id, time_t consent, ngx_uint_t established)
{
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s) {
        ngx_webrtc_registry_session_touch(ctx, s, consent);

        if (established) {
            s->established = 1;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return s ? NGX_OK : NGX_ABORT;
}


/* the session's consent deadline */

ngx_int_t
ngx_webrtc_registry_consent(u_char *id, time_t *deadline)
{
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);
    *deadline = s ? s->expires : 0;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return s ? NGX_OK : NGX_ABORT;
}


/*
 * This worker takes the session's media: NGX_OK, what it needs copied
 * to out; NGX_BUSY: a live worker has it (out->owner, out->established);
 * NGX_AGAIN: an exiting worker handed it over, ngx_webrtc_registry_adopt()
 * takes it;
 * NGX_DONE: the worker that had it exited, the session is closed (the
 * client reconnects); NGX_ABORT: gone
 */

ngx_int_t
ngx_webrtc_registry_claim(u_char *id, ngx_webrtc_claim_t *out)
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

    if (s->handoff) {
        /* handed over on reload: adopted, with its keys */
        rc = NGX_AGAIN;
        goto done;
    }

    if (s->owner_pid && s->owner_pid != ngx_pid) {

        if (ngx_webrtc_registry_owner_live(s) == NGX_OK) {
            out->owner.pid = s->owner_pid;
            out->owner.slot = s->owner_slot;
            out->owner.cycle = s->owner_cycle;
            out->owner.handoff = 0;
            ngx_memcpy(out->owner.id, s->id, NGX_WEBRTC_ID_LEN);
            out->established = s->established;
            rc = NGX_BUSY;
            goto done;
        }

        if (s->media && s->media->has_state) {
            /* its worker died: adopted from what it last wrote */
            rc = NGX_AGAIN;
            goto done;
        }

        ngx_webrtc_registry_session_close(ctx, s);
        rc = NGX_DONE;
        goto done;
    }

    s->owner_pid = ngx_pid;
    s->owner_slot = ngx_worker;
    s->owner_cycle = ngx_webrtc_registry_my_cycle;

    ngx_webrtc_registry_claim_copy(s, out);

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


static void
ngx_webrtc_registry_claim_copy(ngx_webrtc_session_t *s,
    ngx_webrtc_claim_t *out)
{
    ngx_webrtc_stream_t  *st;

    st = s->stream;

    out->role = s->role;
    out->stream = st;
    out->stream_gen = st->gen;
    out->stream_name_len = st->node.str.len;
    ngx_memcpy(out->stream_name, st->name, st->node.str.len);
    out->established = s->established;
    ngx_memcpy(out->tracks, s->tracks, sizeof(out->tracks));
    out->nfingerprints = s->nfingerprints;
    ngx_memcpy(out->fingerprints, s->fingerprints, sizeof(out->fingerprints));
}


/* the session ends with its media: only by the worker serving it */

ngx_int_t
ngx_webrtc_registry_close(u_char *id)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s && s->owner_pid == ngx_pid) {
        ngx_webrtc_registry_session_close(ctx, s);
        rc = NGX_OK;

    } else {
        rc = NGX_ABORT;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* which of n sessions the zone still has, under one lock */

void
ngx_webrtc_registry_exist(u_char **ids, ngx_uint_t n, u_char *exist)
{
    ngx_uint_t                  i;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < n; i++) {
        exist[i] = (ngx_webrtc_registry_session(ctx, ids[i]) != NULL);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


/*
 * This worker's bit in the stream's: it has viewers of the stream, and
 * the publisher's worker relays its packets here
 */

ngx_int_t
ngx_webrtc_registry_stream_worker(ngx_webrtc_stream_t *st, uint32_t gen,
    ngx_uint_t add)
{
    ngx_int_t                   rc;
    ngx_atomic_uint_t           bit;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    bit = (ngx_atomic_uint_t) 1 << ngx_worker;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (st->gen == gen) {
        if (add) {
            st->workers |= bit;

        } else {
            st->workers &= ~bit;
        }

        rc = NGX_OK;

    } else {
        rc = NGX_ABORT;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * The workers to relay a publisher's packet to, per packet and without
 * the lock: a stream record stays one, and its generation is read after
 * the mask, so a mask of a stream that was freed and made again is not
 * taken
 */

ngx_atomic_uint_t
ngx_webrtc_registry_stream_mask(ngx_webrtc_stream_t *st, uint32_t gen)
{
    ngx_atomic_uint_t  mask;

    mask = st->workers;

    ngx_memory_barrier();

    if (*(volatile uint32_t *) &st->gen != gen) {
        return 0;
    }

    return mask;
}


/* the tracks viewers are given, a copy */

ngx_int_t
ngx_webrtc_registry_stream_tracks(ngx_webrtc_stream_t *st, uint32_t gen,
    ngx_webrtc_track_t *tracks)
{
    ngx_int_t                   rc;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (st->gen == gen) {
        ngx_memcpy(tracks, st->tracks, 2 * sizeof(ngx_webrtc_track_t));
        rc = NGX_OK;

    } else {
        rc = NGX_ABORT;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* the worker serving the stream's publisher */

ngx_int_t
ngx_webrtc_registry_stream_publisher(ngx_webrtc_stream_t *st, uint32_t gen,
    ngx_webrtc_owner_t *owner)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = (st->gen == gen) ? st->publisher : NULL;

    if (s && s->owner_pid) {
        owner->pid = s->owner_pid;
        owner->slot = s->owner_slot;
        ngx_memcpy(owner->id, s->id, NGX_WEBRTC_ID_LEN);
        rc = NGX_OK;

    } else {
        rc = NGX_ABORT;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * What the publisher's H.264 SPS says: the profile-level-id viewers are
 * negotiated against from now on (plid, profile), if the stream is still
 * this publisher's
 */

ngx_int_t
ngx_webrtc_registry_stream_h264(ngx_webrtc_stream_t *st, uint32_t gen,
    u_char *publisher, uint32_t sps, uint32_t plid, ngx_uint_t profile)
{
    ngx_int_t                   rc;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (st->gen == gen && st->publisher
        && ngx_memcmp(st->publisher->id, publisher, NGX_WEBRTC_ID_LEN) == 0)
    {
        st->h264_sps = sps;

        if (st->tracks[1].profile_level_id != plid
            || st->tracks[1].h264_profile != profile)
        {
            st->tracks[1].profile_level_id = plid;
            st->tracks[1].h264_profile = (uint8_t) profile;
            st->version++;
        }

        rc = NGX_OK;

    } else {
        rc = NGX_ABORT;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* what the publishers of the stream sent since they last told */

void
ngx_webrtc_registry_stream_count(ngx_webrtc_stream_t *st, uint32_t gen,
    uint64_t packets, uint64_t bytes, uint64_t lost, uint64_t bitrate,
    ngx_uint_t set_bitrate)
{
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (st->gen == gen) {
        st->packets_in += packets;
        st->bytes_in += bytes;
        st->packets_lost += lost;

        if (set_bitrate) {
            st->bitrate_in = bitrate;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


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
            claim->owner.pid = s->owner_pid;
            claim->owner.slot = s->owner_slot;
            claim->owner.cycle = s->owner_cycle;
            claim->owner.handoff = 0;
            ngx_memcpy(claim->owner.id, s->id, NGX_WEBRTC_ID_LEN);
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

        owner->pid = s->owner_pid;
        owner->slot = s->owner_slot;
        owner->cycle = s->owner_cycle;
        owner->handoff = s->handoff;
        ngx_memcpy(owner->id, s->id, NGX_WEBRTC_ID_LEN);

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
