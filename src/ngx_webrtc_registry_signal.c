
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_webrtc_registry_private.h"


/*
 * The registry for signaling: streams as offers see them, sessions made,
 * found, restarted and ended by their URL, detached from their WebSocket
 * and attached to a new one, the status location's copy.
 */


/* what an offer for the stream is negotiated against */

ngx_int_t
ngx_webrtc_registry_stream_info(ngx_str_t *name,
    ngx_webrtc_stream_info_t *info)
{
    ngx_webrtc_stream_t        *st;
    ngx_webrtc_registry_ctx_t  *ctx;

    ngx_memzero(info, sizeof(ngx_webrtc_stream_info_t));

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    st = ngx_webrtc_registry_stream(ctx, name);

    if (st) {
        info->exists = 1;
        info->published = (st->publisher != NULL);
        info->nviewers = st->nviewers;
        info->version = st->version;
        ngx_memcpy(info->tracks, st->tracks, sizeof(info->tracks));
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return st ? NGX_OK : NGX_DECLINED;
}


/*
 * A new session of the stream, the stream made if needed, with what the
 * caller negotiated against req->version: NGX_AGAIN if the stream changed
 * since (negotiate again), NGX_DECLINED with req->refused, NGX_ERROR when
 * the zone is full
 */

ngx_int_t
ngx_webrtc_registry_session_create(ngx_webrtc_session_req_t *req,
    ngx_webrtc_session_info_t *out)
{
    ngx_int_t                   rc;
    ngx_webrtc_stream_t        *st;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    st = ngx_webrtc_registry_stream(ctx, req->stream);

    if ((st ? st->version : 0) != req->version) {
        goto again;
    }

    if (req->role == NGX_WEBRTC_ROLE_PUBLISHER) {

        if (st && st->publisher) {
            req->refused = NGX_WEBRTC_REFUSED_PUBLISHED;
            goto declined;
        }

        /* viewers came or left: the codecs they hold matter or not */

        if (req->with_viewers != (st && st->nviewers)) {
            goto again;
        }

    } else {

        if (st == NULL || (st->tracks[0].kind == 0 && st->tracks[1].kind == 0))
        {
            req->refused = NGX_WEBRTC_REFUSED_NOT_PUBLISHED;
            goto declined;
        }

        /* the capacity an operator measured, not the zone's */

        if (req->max_viewers && st->nviewers >= req->max_viewers) {
            req->refused = NGX_WEBRTC_REFUSED_VIEWERS;
            req->count = st->nviewers;
            goto declined;
        }
    }

    if (st == NULL) {
        st = ngx_webrtc_registry_stream_create(ctx, req->stream);
        if (st == NULL) {
            goto full;
        }
    }

    s = ngx_webrtc_registry_session_new(ctx, st, req->role, req->timeout);
    if (s == NULL) {
        ngx_webrtc_registry_stream_release(ctx, st);
        goto full;
    }

    /* what one client address holds, whatever its requests' rate */

    rc = ngx_webrtc_registry_count(ctx, &ctx->sh->clients, req->client,
                                   ngx_min(req->client_len,
                                           NGX_WEBRTC_CLIENT_KEY_LEN),
                                   req->max_client, &s->client, &req->count);

    if (rc == NGX_OK && req->token) {

        /* and what one token holds, whatever the addresses it is used from */

        rc = ngx_webrtc_registry_count(ctx, &ctx->sh->tokens, req->token,
                                       NGX_WEBRTC_CLIENT_KEY_LEN,
                                       req->max_token, &s->token, &req->count);
        if (rc == NGX_DECLINED) {
            req->refused = NGX_WEBRTC_REFUSED_TOKEN;
        }

    } else if (rc == NGX_DECLINED) {
        req->refused = NGX_WEBRTC_REFUSED_CLIENT;
    }

    if (rc != NGX_OK) {
        /* the stream goes with it if the session was its only one */
        ngx_webrtc_registry_session_close(ctx, s);

        if (rc == NGX_ERROR) {
            goto full;
        }

        goto declined;
    }

    ngx_webrtc_registry_set_remote(s, &req->remote_ufrag, &req->remote_pwd);

    s->nfingerprints = ngx_min(req->nfingerprints,
                               NGX_WEBRTC_SDP_MAX_FINGERPRINTS);

    if (s->nfingerprints) {
        ngx_memcpy(s->fingerprints, req->fingerprints,
                   s->nfingerprints * sizeof(ngx_webrtc_fingerprint_t));
    }

    ngx_memcpy(s->tracks, req->tracks, sizeof(s->tracks));

    if (req->role == NGX_WEBRTC_ROLE_PUBLISHER) {
        ngx_memcpy(st->tracks, req->tracks, sizeof(st->tracks));

        /* what its SPS says is learnt from its media */
        st->h264_label = st->tracks[1].profile_level_id;
        st->h264_sps = 0;
        st->version++;
    }

    ngx_webrtc_registry_session_info(s, out);

    ctx->sh->stats.created[req->role == NGX_WEBRTC_ROLE_PUBLISHER ? 0 : 1]++;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;

again:

    ngx_shmtx_unlock(&ctx->shpool->mutex);
    return NGX_AGAIN;

declined:

    ctx->sh->stats.refused[req->refused]++;

    ngx_shmtx_unlock(&ctx->shpool->mutex);
    return NGX_DECLINED;

full:

    ctx->sh->stats.refused[0]++;

    ngx_shmtx_unlock(&ctx->shpool->mutex);
    return NGX_ERROR;
}


/* the session of a URL: its id, of the location's role and stream */

ngx_int_t
ngx_webrtc_registry_session_find(ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream, ngx_webrtc_session_info_t *out)
{
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session_of(ctx, id, role, stream);

    if (s) {
        ngx_webrtc_registry_session_info(s, out);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return s ? NGX_OK : NGX_ABORT;
}


/* RFC 8445, 9: new local credentials, the client's new ones */

ngx_int_t
ngx_webrtc_registry_ice_restart(ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream, ngx_webrtc_sdp_str_t *ufrag, ngx_webrtc_sdp_str_t *pwd,
    ngx_webrtc_session_info_t *out)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session_of(ctx, id, role, stream);

    if (s == NULL) {
        rc = NGX_ABORT;

    } else if (ngx_webrtc_registry_new_ufrag(ctx, s) != NGX_OK) {
        rc = NGX_ERROR;

    } else {
        ngx_webrtc_registry_set_remote(s, ufrag, pwd);
        s->restarts++;
        ngx_webrtc_registry_session_info(s, out);
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * doc/registry-design.md, 7.9: the WebSocket of a session closed on
 * reload; the session waits for its client to resume it on a new one
 * until the deadline, then the expiry sweep ends it
 */

ngx_int_t
ngx_webrtc_registry_detach_signaling(ngx_str_t *id, time_t deadline)
{
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = (id->len == NGX_WEBRTC_ID_LEN)
        ? ngx_webrtc_registry_session(ctx, id->data) : NULL;

    if (s) {
        s->detached = deadline;

        if (ctx->sh->detach_next == 0 || deadline < ctx->sh->detach_next) {
            ctx->sh->detach_next = deadline;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return s ? NGX_OK : NGX_ABORT;
}


/*
 * A new WebSocket takes a detached session of the role and stream:
 * NGX_ABORT if it is gone (or its deadline passed), NGX_DECLINED if it is
 * not detached (a WebSocket holds it, or it has none)
 */

ngx_int_t
ngx_webrtc_registry_attach_signaling(ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream, ngx_webrtc_session_info_t *out)
{
    ngx_int_t                   rc;
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    s = ngx_webrtc_registry_session_of(ctx, id, role, stream);

    if (s == NULL || (s->detached && s->detached <= ngx_time())) {
        rc = NGX_ABORT;

    } else if (s->detached == 0) {
        rc = NGX_DECLINED;

    } else {
        s->detached = 0;
        ngx_webrtc_registry_session_info(s, out);
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * Ends a session: by its URL (role and stream given), or by its id
 * alone (role 0).  The worker serving its media, if any, is in owner, to
 * be told.
 */

ngx_int_t
ngx_webrtc_registry_session_end(ngx_str_t *id, ngx_uint_t role,
    ngx_str_t *stream, ngx_webrtc_owner_t *owner)
{
    ngx_webrtc_session_t       *s;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (role) {
        s = ngx_webrtc_registry_session_of(ctx, id, role, stream);

    } else {
        s = (id->len == NGX_WEBRTC_ID_LEN)
            ? ngx_webrtc_registry_session(ctx, id->data) : NULL;
    }

    if (s == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_ABORT;
    }

    ngx_webrtc_registry_owner(s, owner);

    ngx_webrtc_registry_session_closed(ctx, s,
                                       role ? NGX_WEBRTC_CLOSED_DELETED
                                            : NGX_WEBRTC_CLOSED_SIGNALING);

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


/*
 * The streams (or the one named) and the first nworkers statistics
 * slots, copied: the caller formats them without the lock
 */

ngx_int_t
ngx_webrtc_registry_snapshot(ngx_pool_t *pool, ngx_str_t *name,
    ngx_uint_t nworkers, ngx_webrtc_snapshot_t *snap)
{
    u_char                     *names;
    ngx_uint_t                  n, size;
    ngx_rbtree_node_t          *node, *root, *sentinel;
    ngx_webrtc_stream_t        *st;
    ngx_webrtc_stream_stat_t   *ss;
    ngx_webrtc_registry_ctx_t  *ctx;

    ctx = ngx_webrtc_registry_get();

    nworkers = ngx_min(nworkers, ctx->sh->nworkers);

    /* allocated without the lock: streams made meanwhile wait a request */

    ngx_shmtx_lock(&ctx->shpool->mutex);
    size = name->len ? 1 : ctx->sh->nstreams;
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    snap->streams = ngx_pcalloc(pool, (size + 1)
                                      * sizeof(ngx_webrtc_stream_stat_t));
    names = ngx_pnalloc(pool, (size + 1) * NGX_WEBRTC_STREAM_LEN);
    snap->workers = ngx_palloc(pool, (nworkers + 1)
                                     * sizeof(ngx_webrtc_worker_stats_t));
    if (snap->streams == NULL || names == NULL || snap->workers == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    root = ctx->sh->streams.root;
    sentinel = ctx->sh->streams.sentinel;

    for (node = (root != sentinel) ? ngx_rbtree_min(root, sentinel) : NULL;
         node && n < size;
         node = ngx_rbtree_next(&ctx->sh->streams, node))
    {
        st = (ngx_webrtc_stream_t *) node;

        if (name->len && (name->len != st->node.str.len
                          || ngx_strncmp(name->data, st->name, name->len)
                             != 0))
        {
            continue;
        }

        ss = &snap->streams[n++];

        ss->name.data = names;
        ss->name.len = st->node.str.len;
        names = ngx_cpymem(names, st->name, st->node.str.len);
        ss->live = (st->publisher != NULL);
        ss->nviewers = st->nviewers;
        ss->created = st->created;
        ss->packets_in = st->packets_in;
        ss->bytes_in = st->bytes_in;
        ss->packets_lost = st->packets_lost;
        ss->bitrate_in = st->publisher ? st->bitrate_in : 0;
        ss->h264 = (st->tracks[1].codec == NGX_WEBRTC_CODEC_H264);
        ss->h264_sps = st->h264_sps;
        ss->h264_label = st->h264_label;
    }

    ngx_memcpy(snap->workers, ctx->sh->workers,
               nworkers * sizeof(ngx_webrtc_worker_stats_t));

    snap->sessions = ctx->sh->stats;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    snap->nstreams = n;
    snap->nworkers = nworkers;

    return NGX_OK;
}


/* a session closed, counted by its role and the reason */

void
ngx_webrtc_registry_session_closed(ngx_webrtc_registry_ctx_t *ctx,
    ngx_webrtc_session_t *s, ngx_webrtc_closed_e reason)
{
    ctx->sh->stats.closed[s->role == NGX_WEBRTC_ROLE_PUBLISHER ? 0 : 1]
                         [reason]++;

    ngx_webrtc_registry_session_close(ctx, s);
}
