
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_webrtc.h"


/*
 * An address's datagrams whose session this worker does not serve yet:
 * the session's media path is looked up in the zone, and the session
 * adopted, passed to the worker serving it, or its datagrams held while
 * a worker of the configuration before a reload hands it over.
 */


#define NGX_STREAM_WEBRTC_HOLD            512     /* datagrams */


/*
 * A datagram held while a worker of the configuration before a reload
 * still serves its session: a few, copied into the connection's pool
 */

void
ngx_stream_webrtc_hold(ngx_stream_webrtc_ctx_t *ctx, u_char *p, size_t len)
{
    ngx_pool_t  *pool;

    pool = ctx->session->connection->pool;

    if (ctx->held == NULL) {
        ctx->held = ngx_palloc(pool, NGX_STREAM_WEBRTC_HOLD
                                     * sizeof(u_char *));
        ctx->held_len = ngx_palloc(pool, NGX_STREAM_WEBRTC_HOLD
                                         * sizeof(uint16_t));
        if (ctx->held == NULL || ctx->held_len == NULL) {
            ctx->held = NULL;
            return;
        }
    }

    if (ctx->nheld == NGX_STREAM_WEBRTC_HOLD || len > NGX_WEBRTC_MTU) {
        return;
    }

    ctx->held[ctx->nheld] = ngx_pnalloc(pool, len);
    if (ctx->held[ctx->nheld] == NULL) {
        return;
    }

    ngx_memcpy(ctx->held[ctx->nheld], p, len);
    ctx->held_len[ctx->nheld] = (uint16_t) len;
    ctx->nheld++;
}


/* the session is this worker's or another's of this configuration now */

void
ngx_stream_webrtc_replay(ngx_stream_webrtc_ctx_t *ctx)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   i;

    ctx->holding = 0;

    for (i = 0; i < ctx->nheld && !ctx->close; i++) {
        p = ctx->held[i];
        len = ctx->held_len[i];

        if (p[0] >= 20 && p[0] <= 63) {
            ngx_stream_webrtc_dtls(ctx, p, len);

        } else {
            ngx_stream_webrtc_srtp_datagram(ctx, p, len);
        }
    }

    ctx->nheld = 0;
}


/*
 * DTLS or SRTP from an address this worker has no session for, a media
 * path in the zone: a session this worker adopted or adopts now (handed
 * over on reload), or another worker's of this configuration, which the
 * datagrams are passed to.  Once in a while per address: a path moves
 * only as ngx_stream_webrtc_move() says.
 */

ngx_int_t
ngx_stream_webrtc_resolve(ngx_stream_webrtc_ctx_t *ctx)
{
    ngx_int_t                rc;
    ngx_connection_t        *c;
    ngx_webrtc_peer_t       *peer;
    ngx_webrtc_owner_t       owner;
    ngx_webrtc_core_conf_t  *ccf;

    if (ctx->resolved
        && ngx_current_msec - ctx->resolve_time < ctx->resolve_wait)
    {
        return NGX_DECLINED;
    }

    ctx->resolved = 1;
    ctx->resolve_time = ngx_current_msec;
    ctx->resolve_wait = 1000;

    c = ctx->session->connection;

    if (ngx_webrtc_registry_path_lookup(c->sockaddr, c->socklen, &owner)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /*
     * served by a worker of the configuration before, which hands it over
     * in a moment: looked up again soon
     */

    ctx->resolve_wait = NGX_STREAM_WEBRTC_ADOPT_INTERVAL;

    if (ctx->valid && ngx_memcmp(ctx->id, owner.id, NGX_WEBRTC_ID_LEN) != 0) {
        return NGX_DECLINED;
    }

    peer = NULL;

    if (owner.pid == ngx_pid) {
        peer = ngx_webrtc_peer_by_id(owner.id);

    } else if (owner.handoff || owner.pid == 0) {

        /* handed over on reload, or its worker died */

        rc = ngx_webrtc_peer_adopt(owner.id, c, &peer);

        if (rc == NGX_BUSY) {
            /* another worker adopted it meanwhile: found again later */
            ctx->resolved = 0;
        }

    } else if (owner.pid && owner.cycle == ngx_webrtc_registry_cycle()) {
        ngx_memcpy(ctx->id, owner.id, NGX_WEBRTC_ID_LEN);
        ctx->valid = 1;
        ctx->forward = owner.slot;
        goto timer;

    } else if (owner.pid && !ctx->holding) {

        /*
         * a worker of the configuration before a reload, which hands it
         * over in a moment: what arrives meanwhile is held, not lost
         */

        ngx_memcpy(ctx->id, owner.id, NGX_WEBRTC_ID_LEN);
        ctx->valid = 1;
        ctx->holding = 1;

        if (!c->read->timer_set) {
            ngx_add_timer(c->read, NGX_STREAM_WEBRTC_ADDRESS_TIMEOUT);
        }

        return NGX_AGAIN;
    }

    if (peer == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(ctx->id, peer->id, NGX_WEBRTC_ID_LEN);
    ctx->valid = 1;

    if (peer->connection == NULL
        && ngx_cmp_sockaddr(c->sockaddr, c->socklen,
                            &peer->path.sockaddr.sockaddr, peer->path.socklen,
                            1)
           == NGX_OK)
    {
        /* its path, received here now */
        ngx_webrtc_peer_set_path(peer, c);
    }

    if (peer->connection != c) {
        return NGX_DECLINED;
    }

    ctx->peer = peer;

timer:

    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    ngx_add_timer(c->read, (ngx_msec_t) ccf->consent_timeout * 1000);

    return NGX_OK;
}
