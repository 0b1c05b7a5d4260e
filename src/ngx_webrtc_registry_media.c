
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_webrtc_registry_private.h"


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
    chk->owner_pid = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (s == NULL) {
        rc = NGX_ABORT;
        goto done;
    }

    chk->naddrs = s->naddrs;
    chk->owner_pid = s->owner_pid;

    if (s->owner_pid && (s->media == NULL || !s->media->has_state)
        && ngx_webrtc_registry_owner_live(s) != NGX_OK)
    {
        /*
         * the worker with its DTLS state exited before the session had
         * keys and state to go on from: the client reconnects
         */

        ngx_webrtc_registry_session_closed(ctx, s,
                                           NGX_WEBRTC_CLOSED_WORKER_EXITED);
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
            ctx->sh->stats.addresses_refused++;
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
            ngx_webrtc_registry_owner(s, &out->owner);
            out->established = s->established;
            rc = NGX_BUSY;
            goto done;
        }

        if (s->media && s->media->has_state) {
            /* its worker died: adopted from what it last wrote */
            rc = NGX_AGAIN;
            goto done;
        }

        ngx_webrtc_registry_session_closed(ctx, s,
                                           NGX_WEBRTC_CLOSED_WORKER_EXITED);
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


void
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


/*
 * the session ends with its media: only by the worker serving it, why
 * by ngx_webrtc_closed_e
 */

ngx_int_t
ngx_webrtc_registry_close(u_char *id, ngx_uint_t cause)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session(ctx, id);

    if (cause >= NGX_WEBRTC_CLOSED_LAST) {
        cause = NGX_WEBRTC_CLOSED_MEDIA;
    }

    if (s && s->owner_pid == ngx_pid) {
        ngx_webrtc_registry_session_closed(ctx, s, cause);
        rc = NGX_OK;

    } else {
        rc = NGX_ABORT;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * Which of n sessions the zone still has, under one lock; those this
 * worker serves get their quality (what a worker that adopted one does
 * not know, the handshake's cipher and the nomination time, stays)
 */

void
ngx_webrtc_registry_sweep(u_char **ids, ngx_webrtc_quality_t *stats,
    ngx_uint_t n, u_char *exist)
{
    ngx_uint_t                   i;
    ngx_webrtc_session_t        *s;
    ngx_webrtc_quality_t        *st;
    ngx_webrtc_registry_ctx_t   *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < n; i++) {
        s = ngx_webrtc_registry_session(ctx, ids[i]);
        exist[i] = (s != NULL);

        if (s == NULL || s->owner_pid != ngx_pid || stats == NULL) {
            continue;
        }

        st = &stats[i];

        if (st->nominated == 0) {
            st->nominated = s->quality.nominated;
        }

        if (st->cipher[0] == '\0') {
            ngx_memcpy(st->cipher, s->quality.cipher, sizeof(st->cipher));
            ngx_memcpy(st->profile, s->quality.profile, sizeof(st->profile));
        }

        s->quality = *st;
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


/*
 * The worker serving the stream's publisher; owner->handoff is set while
 * no worker serves it: handed over on reload, or its worker died (the
 * one that replaces it adopts it)
 */

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

    if (s && (s->owner_pid || s->handoff)) {
        ngx_webrtc_registry_owner(s, owner);

        if (s->owner_pid && ngx_webrtc_registry_owner_live(s) != NGX_OK) {
            owner->pid = 0;
            owner->handoff = 1;
        }

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
