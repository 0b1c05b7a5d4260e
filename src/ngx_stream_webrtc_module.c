
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#if (NGX_LINUX)
#include <linux/sockios.h>
#endif

#include "ngx_stream_webrtc.h"


/*
 * The media plane.  Every datagram of every session arrives at one UDP
 * port; nginx keeps a "connection" per 5-tuple (per remote address) in
 * the worker its reuseport socket belongs to.  A datagram is demultiplexed
 * by its first byte (RFC 7983, 7): STUN connectivity checks are answered
 * on any 5-tuple (ICE lite); the 5-tuple ICE nominates carries the
 * session's DTLS and SRTP, whose state (a "peer") lives in that worker.
 */


#define NGX_STREAM_WEBRTC_SWEEP_INTERVAL  1000
#define NGX_STREAM_WEBRTC_SWEEP_MAX       64
#define NGX_STREAM_WEBRTC_SWEEP_BATCH     256
#define NGX_STREAM_WEBRTC_ADOPT_PERIOD    10000


static void ngx_stream_webrtc_handler(ngx_stream_session_t *s);
static void ngx_stream_webrtc_read_handler(ngx_event_t *rev);
static void ngx_stream_webrtc_stun(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len);
static uint64_t ngx_stream_webrtc_arrival(ngx_socket_t fd);
static ngx_int_t ngx_stream_webrtc_consent_left(ngx_stream_webrtc_ctx_t *ctx);
static void ngx_stream_webrtc_uncount(ngx_stream_webrtc_ctx_t *ctx);
static void ngx_stream_webrtc_cleanup(void *data);
static ngx_uint_t ngx_stream_webrtc_log_unknown(ngx_log_t *log);

static void ngx_stream_webrtc_sweep_handler(ngx_event_t *ev);

static ngx_webrtc_quality_t
    ngx_stream_webrtc_stats[NGX_STREAM_WEBRTC_SWEEP_BATCH];
static void ngx_stream_webrtc_adopt_handler(ngx_event_t *ev);

static ngx_int_t ngx_stream_webrtc_init_process(ngx_cycle_t *cycle);
static void *ngx_stream_webrtc_create_srv_conf(ngx_conf_t *cf);
static char *ngx_stream_webrtc_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_stream_webrtc(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_num_bounds_t  ngx_stream_webrtc_max_addresses_bounds = {
    ngx_conf_check_num_bounds, 1, 64
};

static ngx_conf_num_bounds_t  ngx_stream_webrtc_tcp_buffer_bounds = {
    ngx_conf_check_num_bounds, 4096, 16 * 1024 * 1024
};


static ngx_command_t  ngx_stream_webrtc_commands[] = {

    { ngx_string("webrtc"),
      NGX_STREAM_SRV_CONF|NGX_CONF_NOARGS,
      ngx_stream_webrtc,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_max_addresses"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_webrtc_srv_conf_t, max_addresses),
      &ngx_stream_webrtc_max_addresses_bounds },

    { ngx_string("webrtc_tcp_buffer"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_webrtc_srv_conf_t, tcp_buffer),
      &ngx_stream_webrtc_tcp_buffer_bounds },

      ngx_null_command
};


static ngx_stream_module_t  ngx_stream_webrtc_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_stream_webrtc_create_srv_conf,     /* create server configuration */
    ngx_stream_webrtc_merge_srv_conf       /* merge server configuration */
};


ngx_module_t  ngx_stream_webrtc_module = {
    NGX_MODULE_V1,
    &ngx_stream_webrtc_module_ctx,         /* module context */
    ngx_stream_webrtc_commands,            /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_stream_webrtc_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* this worker's peers by session id */
ngx_rbtree_t              ngx_webrtc_peers;
static ngx_rbtree_node_t  ngx_webrtc_peers_sentinel;

/* sessions handed over on reload, adopted at once for a while */
static ngx_event_t        ngx_stream_webrtc_adopt;
static ngx_connection_t   ngx_stream_webrtc_adopt_dumb;
static ngx_msec_t         ngx_stream_webrtc_started;

/* peers whose session left the zone without a close message reaching us */
static ngx_event_t        ngx_stream_webrtc_sweep;
static ngx_connection_t   ngx_stream_webrtc_sweep_dumb;

static u_char             ngx_stream_webrtc_buf[NGX_WEBRTC_MTU
                                                + NGX_WEBRTC_SRTP_OVERHEAD];

/* bad first datagrams of addresses without a session, logged and not */
static ngx_msec_t         ngx_stream_webrtc_unknown_time;
static ngx_uint_t         ngx_stream_webrtc_unknown_skipped;


static void
ngx_stream_webrtc_handler(ngx_stream_session_t *s)
{
    ngx_buf_t                *b;
    ngx_connection_t         *c;
    ngx_stream_webrtc_ctx_t  *ctx;

    c = s->connection;
    b = c->buffer;

    if (c->type == SOCK_DGRAM && b == NULL) {
        ngx_stream_finalize_session(s, NGX_STREAM_BAD_REQUEST);
        return;
    }

    ctx = ngx_pcalloc(c->pool, sizeof(ngx_stream_webrtc_ctx_t));
    if (ctx == NULL) {
        ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->session = s;
    ctx->forward = -1;
    ngx_stream_set_ctx(s, ctx, ngx_stream_webrtc_module);

    if (c->type == SOCK_STREAM) {
        ngx_stream_webrtc_tcp_init(ctx);
        return;
    }

    c->log->action = "serving webrtc media";
    c->read->handler = ngx_stream_webrtc_read_handler;

    /* the idle "connections" are closed at once on graceful shutdown */
    c->idle = 1;

    ctx->handling = 1;
    ngx_stream_webrtc_datagram(ctx, b->pos, b->last - b->pos);
    ctx->handling = 0;

    if (!ctx->valid || ctx->close) {

        /* the first datagram of an address must be a valid check */

        if (b->last > b->pos && b->pos[0] > 3 && !ctx->logged
            && ngx_stream_webrtc_log_unknown(c->log))
        {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "webrtc: datagram from an address without a "
                          "valid ICE check dropped");
        }

        ngx_stream_webrtc_close(ctx);
        return;
    }

    b->pos = b->last;
}


static void
ngx_stream_webrtc_read_handler(ngx_event_t *rev)
{
    ssize_t                   n;
    ngx_connection_t         *c;
    ngx_stream_session_t     *s;
    ngx_stream_webrtc_ctx_t  *ctx;

    c = rev->data;
    s = c->data;
    ctx = ngx_stream_get_module_ctx(s, ngx_stream_webrtc_module);

    if (c->close) {

        /*
         * graceful shutdown: on a reload the sessions are handed over,
         * the connections only leave them
         */

        ngx_webrtc_peer_exit();

        if (ngx_webrtc_handing_off && ctx->peer) {
            ctx->peer->connection = NULL;
            ctx->peer = NULL;
        }

        ngx_stream_webrtc_close(ctx);
        return;
    }

    if (rev->timedout) {
        rev->timedout = 0;
        (void) ngx_stream_webrtc_timeout(ctx);
        return;
    }

    ctx->handling = 1;

    for ( ;; ) {
        n = c->recv(c, ngx_stream_webrtc_buf, NGX_WEBRTC_MTU);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ctx->close = 1;
            break;
        }

        ngx_stream_webrtc_datagram(ctx, ngx_stream_webrtc_buf, n);

        if (ctx->close) {
            break;
        }
    }

    ctx->handling = 0;

    if (ctx->close) {
        ngx_stream_webrtc_close(ctx);
    }
}


/*
 * The read timer of an address: no check yet, or none for the consent
 * timeout.  NGX_DONE: the connection is closed.
 */

ngx_int_t
ngx_stream_webrtc_timeout(ngx_stream_webrtc_ctx_t *ctx)
{
    ngx_connection_t  *c;

    c = ctx->session->connection;

    if (ctx->peer == NULL && ctx->forward < 0) {
        ngx_log_debug0(NGX_LOG_DEBUG_STREAM, c->log, 0,
                       "webrtc: address without a check closed");

        ngx_stream_webrtc_close(ctx);
        return NGX_DONE;
    }

    if (ngx_stream_webrtc_consent_left(ctx) == NGX_OK) {
        /* checks came on another address of the session */
        return NGX_OK;
    }

    /* RFC 7675, 5.1: no valid check for the consent timeout */

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "webrtc: ICE consent expired");

    if (ctx->forward >= 0) {
        ngx_webrtc_relay_close_session(ctx->id, NGX_WEBRTC_CLOSE_CONSENT);
        ctx->forward = -1;
    }

    if (ctx->peer) {
        /* closes this connection too */
        ngx_webrtc_peer_close(ctx->peer, NGX_WEBRTC_CLOSED_CONSENT,
                              "ICE consent expired");
        return NGX_DONE;
    }

    ngx_stream_webrtc_close(ctx);

    return NGX_DONE;
}


/* RFC 7983, 7: demultiplexing by the first byte */

void
ngx_stream_webrtc_datagram(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len)
{
    if (len == 0) {
        return;
    }

    if (p[0] <= 3) {
        ctx->session->connection->log->action = "handling STUN check";
        ngx_stream_webrtc_stun(ctx, p, len);
        ctx->session->connection->log->action = "serving webrtc media";
        return;
    }

    if (ctx->peer == NULL && ctx->forward < 0 && !ctx->candidate
        && ((p[0] >= 20 && p[0] <= 63) || (p[0] >= 128 && p[0] <= 191)))
    {
        if (ngx_stream_webrtc_resolve(ctx) != NGX_OK && ctx->holding) {
            ngx_stream_webrtc_hold(ctx, p, len);
            return;
        }

        if (ctx->holding) {
            ngx_stream_webrtc_replay(ctx);
        }
    }

    if (p[0] >= 20 && p[0] <= 63) {
        ngx_stream_webrtc_dtls(ctx, p, len);
        return;
    }

    if (p[0] >= 128 && p[0] <= 191) {
        ngx_stream_webrtc_srtp_datagram(ctx, p, len);
        return;
    }

    /*
     * at info once for an address of a session; an address without one
     * is logged as such by ngx_stream_webrtc_handler()
     */

    if (ctx->valid && !ctx->unknown_logged) {
        ctx->unknown_logged = 1;
        ngx_log_error(NGX_LOG_INFO, ctx->session->connection->log, 0,
                      "webrtc: datagram with first byte %ui dropped",
                      (ngx_uint_t) p[0]);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_STREAM,
                   ctx->session->connection->log, 0,
                   "webrtc: datagram with first byte %ui dropped",
                   (ngx_uint_t) p[0]);
}


static void
ngx_stream_webrtc_stun(ngx_stream_webrtc_ctx_t *ctx, u_char *p, size_t len)
{
    size_t                         outlen;
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_pool_cleanup_t            *cln;
    ngx_webrtc_check_t             chk;
    ngx_webrtc_core_conf_t        *ccf;
    ngx_webrtc_ice_result_t        res;
    ngx_stream_webrtc_srv_conf_t  *wscf;
    u_char                         out[512];

    c = ctx->session->connection;
    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);

    outlen = sizeof(out);

    rc = ngx_webrtc_ice_process(c->log, p, len, c->sockaddr, c->socklen, out,
                                &outlen, &res);

    if (rc == NGX_ABORT && outlen) {
        ngx_stream_webrtc_send(c, out, outlen);
    }

    if (rc != NGX_OK) {
        if (res.error) {

            /*
             * at info once per address of a session, and once a second
             * for the others: spoofed checks come at line rate
             */

            if (ctx->logged
                || (!ctx->valid && !ngx_stream_webrtc_log_unknown(c->log)))
            {
                ngx_log_debug1(NGX_LOG_DEBUG_STREAM, c->log, 0,
                               "webrtc: %s", res.error);

            } else {
                ngx_log_error(NGX_LOG_INFO, c->log, 0, "webrtc: %s",
                              res.error);
                ctx->logged = 1;
            }
        }

        return;
    }

    if (ctx->valid && ngx_memcmp(ctx->id, res.id, NGX_WEBRTC_ID_LEN) != 0) {

        /* another session from the same address: the old one leaves it */

        if (ctx->peer) {
            ctx->peer->connection = NULL;
            ctx->peer->has_path = 0;
            ctx->peer = NULL;
        }

        ctx->forward = -1;
        ctx->candidate = 0;

        ngx_stream_webrtc_uncount(ctx);
    }

    ctx->valid = 1;
    ngx_memcpy(ctx->id, res.id, NGX_WEBRTC_ID_LEN);

    /* the address is uncounted when its connection goes */

    if (!ctx->cleanup) {
        cln = ngx_pool_cleanup_add(c->pool, 0);
        if (cln == NULL) {
            return;
        }

        cln->handler = ngx_stream_webrtc_cleanup;
        cln->data = ctx;
        ctx->cleanup = 1;
    }

    wscf = ngx_stream_get_module_srv_conf(ctx->session,
                                          ngx_stream_webrtc_module);

    chk.counted = ctx->counted;
    chk.max_addresses = wscf->max_addresses;
    chk.consent = ngx_time() + ccf->consent_timeout;    /* RFC 7675 */
    chk.handshake_timeout = ccf->handshake_timeout;

    rc = ngx_webrtc_registry_check(ctx->id, &chk);

    ctx->counted = chk.counted;

    if (rc == NGX_DECLINED) {

        /* unanswered: the peer does not take the address for a path */

        if (ngx_stream_webrtc_log_unknown(c->log)) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "webrtc session %*s: more than %ui addresses, "
                          "check ignored",
                          (size_t) NGX_WEBRTC_ID_LEN, ctx->id, chk.naddrs);
        }

        ctx->valid = 0;
        ctx->close = 1;
        return;
    }

    if (rc != NGX_OK) {

        if (chk.owner_exited) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "webrtc session %*s closed: its worker exited",
                          (size_t) NGX_WEBRTC_ID_LEN, ctx->id);
        }

        if (chk.expired) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "webrtc session %*s: no DTLS handshake within "
                          "%T s, closing",
                          (size_t) NGX_WEBRTC_ID_LEN, ctx->id,
                          ccf->handshake_timeout);
        }

        /* ended since the check was validated, or ending */

        ctx->forward = -1;

        if (!c->read->timer_set) {
            ngx_add_timer(c->read, NGX_STREAM_WEBRTC_ADDRESS_TIMEOUT);
        }

        return;
    }

    if (ctx->tcp && chk.owner_pid && chk.owner_pid != ngx_pid) {

        /*
         * an ICE-TCP connection of a session another worker serves: that
         * worker cannot send into it, so the check is not answered and ICE
         * keeps the pair it nominated (a browser connects from each of its
         * addresses, and nginx spreads the connections over the workers)
         */

        ngx_log_debug1(NGX_LOG_DEBUG_STREAM, c->log, 0,
                       "webrtc: ICE-TCP check of worker %P's session "
                       "not answered", chk.owner_pid);

        if (!c->read->timer_set) {
            ngx_add_timer(c->read, NGX_STREAM_WEBRTC_ADDRESS_TIMEOUT);
        }

        return;
    }

    if (outlen) {
        ngx_stream_webrtc_send(c, out, outlen);
    }

    if (res.use_candidate) {
        (void) ngx_stream_webrtc_nominate(ctx, 1);
    }

    /*
     * RFC 7675, 5.1: consent on the media path; an address that is not
     * one (a candidate pair ICE did not select, or an attacker's) holds
     * one of the session's webrtc_max_addresses for a few seconds only
     */

    ngx_add_timer(c->read, (ctx->peer || ctx->forward >= 0)
                           ? (ngx_msec_t) ccf->consent_timeout * 1000
                           : ngx_min((ngx_msec_t) ccf->consent_timeout * 1000,
                                     NGX_STREAM_WEBRTC_ADDRESS_TIMEOUT));
}


static void
ngx_stream_webrtc_uncount(ngx_stream_webrtc_ctx_t *ctx)
{
    if (!ctx->counted) {
        return;
    }

    ctx->counted = 0;

    ngx_webrtc_registry_uncount(ctx->id);
}


static void
ngx_stream_webrtc_cleanup(void *data)
{
    ngx_stream_webrtc_ctx_t *ctx = data;

    ngx_stream_webrtc_uncount(ctx);
}


void
ngx_stream_webrtc_dtls(ngx_stream_webrtc_ctx_t *ctx, u_char *p, size_t len)
{
    ngx_connection_t  *c;

    c = ctx->session->connection;

    if (ctx->forward >= 0) {
        ngx_webrtc_relay_forward(ctx->forward, ctx->id, p, len, c->sockaddr,
                                 c->socklen);
        return;
    }

    if (ctx->peer == NULL) {

        if (!ctx->valid) {
            ngx_log_debug0(NGX_LOG_DEBUG_STREAM,
                           ctx->session->connection->log, 0,
                           "webrtc: DTLS before ICE dropped");
            return;
        }

        /* the full agent may start DTLS before it nominates */

        if (ngx_stream_webrtc_nominate(ctx, 0) != NGX_OK) {

            if (ctx->forward >= 0) {
                ngx_webrtc_relay_forward(ctx->forward, ctx->id, p, len,
                                         c->sockaddr, c->socklen);
            }

            return;
        }
    }

    ngx_webrtc_peer_input(ctx->peer, p, len);
}


void
ngx_stream_webrtc_srtp_datagram(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len)
{
    ngx_connection_t   *c;
    ngx_webrtc_peer_t  *peer;

    peer = ctx->peer;

    if (ctx->forward < 0 && peer == NULL) {

        if (!ctx->candidate) {
            return;
        }

        peer = ngx_webrtc_peer_by_id(ctx->id);

        if (peer == NULL) {
            ctx->candidate = 0;
            return;
        }
    }

    /*
     * a publisher's RTP: when it arrived, for the forwarding delay; with
     * reuseport a worker alone reads its socket, the last datagram read
     * from it is this one
     */

    c = ctx->session->connection;

    if (c->listening->reuseport && !ngx_webrtc_is_rtcp(p, len)) {
        ngx_webrtc_arrival = ngx_stream_webrtc_arrival(c->fd);
    }

    if (ctx->forward >= 0) {
        ngx_webrtc_relay_forward(ctx->forward, ctx->id, p, len, c->sockaddr,
                                 c->socklen);

    } else {
        ngx_stream_webrtc_srtp(peer, p, len, ctx->candidate ? c : NULL, NULL);
    }

    ngx_webrtc_arrival = 0;
}


/*
 * The kernel's receive timestamp of the datagram last read from the
 * socket, in microseconds since the epoch.  The first call turns the
 * timestamps on (for the host), and a datagram received before gets the
 * time of the call.
 */

static uint64_t
ngx_stream_webrtc_arrival(ngx_socket_t fd)
{
#ifdef SIOCGSTAMPNS
    struct timespec  ts;

    if (ioctl(fd, SIOCGSTAMPNS, &ts) == 0) {
        return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
#endif

    return 0;
}


/* re-arms the consent timer if the session had checks elsewhere */

static ngx_int_t
ngx_stream_webrtc_consent_left(ngx_stream_webrtc_ctx_t *ctx)
{
    time_t  deadline, left;

    (void) ngx_webrtc_registry_consent(ctx->id, &deadline);

    left = deadline - ngx_time();

    if (left <= 0) {
        return NGX_DECLINED;
    }

    ngx_add_timer(ctx->session->connection->read, (ngx_msec_t) left * 1000);

    return NGX_OK;
}


/*
 * Bad first datagrams of addresses without a session are logged at info at
 * most once a second in a worker, with the count of those that were not:
 * each comes as a new UDP session, and a spoofed flood would fill the log.
 */

static ngx_uint_t
ngx_stream_webrtc_log_unknown(ngx_log_t *log)
{
    if (ngx_stream_webrtc_unknown_time
        && ngx_current_msec - ngx_stream_webrtc_unknown_time < 1000)
    {
        ngx_stream_webrtc_unknown_skipped++;
        return 0;
    }

    if (ngx_stream_webrtc_unknown_skipped) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "webrtc: %ui more bad datagrams from addresses "
                      "without a session dropped since the last logged",
                      ngx_stream_webrtc_unknown_skipped);
        ngx_stream_webrtc_unknown_skipped = 0;
    }

    ngx_stream_webrtc_unknown_time = ngx_current_msec;

    return 1;
}


void
ngx_stream_webrtc_close(ngx_stream_webrtc_ctx_t *ctx)
{
    if (ctx->peer) {
        ngx_webrtc_peer_close(ctx->peer, NGX_WEBRTC_CLOSED_MEDIA,
                              "connection closed");
        return;
    }

    ngx_stream_finalize_session(ctx->session, NGX_STREAM_OK);
}


/*
 * A session ended elsewhere (its DELETE, its WebSocket, the zone's timeout)
 * reaches the worker serving its media as a relay message; a full relay
 * queue, as when this worker stalled, loses it, and the peer would be
 * served until its consent expired.  Once a second each peer's session is
 * looked up in the zone; one missing twice in a row, long after any
 * message in flight, is closed.
 */

static void
ngx_stream_webrtc_sweep_handler(ngx_event_t *ev)
{
    u_char              *ids[NGX_STREAM_WEBRTC_SWEEP_BATCH];
    u_char               exist[NGX_STREAM_WEBRTC_SWEEP_BATCH];
    ngx_uint_t           i, k, n;
    ngx_str_node_t      *sn;
    ngx_rbtree_node_t   *node, *root, *sentinel;
    ngx_webrtc_peer_t   *peer, *stale[NGX_STREAM_WEBRTC_SWEEP_MAX];
    ngx_webrtc_peer_t   *batch[NGX_STREAM_WEBRTC_SWEEP_BATCH];

    if (ngx_exiting) {
        return;
    }

    ngx_add_timer(ev, NGX_STREAM_WEBRTC_SWEEP_INTERVAL);

    root = ngx_webrtc_peers.root;
    sentinel = ngx_webrtc_peers.sentinel;

    if (root == sentinel) {
        return;
    }

    n = 0;
    node = ngx_rbtree_min(root, sentinel);

    while (node) {

        /* looked up in the zone in batches, under one lock each */

        for (k = 0;
             node && k < NGX_STREAM_WEBRTC_SWEEP_BATCH;
             node = ngx_rbtree_next(&ngx_webrtc_peers, node))
        {
            sn = (ngx_str_node_t *) node;
            batch[k] = (ngx_webrtc_peer_t *)
                           ((u_char *) sn - offsetof(ngx_webrtc_peer_t, node));
            ids[k] = batch[k]->id;
            ngx_webrtc_peer_stats(batch[k], &ngx_stream_webrtc_stats[k]);
            k++;
        }

        ngx_webrtc_registry_sweep(ids, ngx_stream_webrtc_stats, k, exist);

        for (i = 0; i < k; i++) {
            peer = batch[i];

            if (exist[i]) {
                peer->zone_missing = 0;
                continue;
            }

            if (!peer->zone_missing) {
                peer->zone_missing = 1;
                continue;
            }

            if (n < NGX_STREAM_WEBRTC_SWEEP_MAX) {
                stale[n++] = peer;
            }
        }
    }

    /* the rest, if any, at the next sweep */

    for (i = 0; i < n; i++) {
        ngx_webrtc_peer_close(stale[i], NGX_WEBRTC_CLOSED_MEDIA,
                              "ended elsewhere, its close message lost");
    }
}


static ngx_int_t
ngx_stream_webrtc_init_process(ngx_cycle_t *cycle)
{
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_webrtc_core_conf(cycle);

    /* not in the cache manager and loader: they have ngx_worker 0 too */

    if (ccf == NULL || !ccf->media
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    ngx_rbtree_init(&ngx_webrtc_peers, &ngx_webrtc_peers_sentinel,
                    ngx_str_rbtree_insert_value);

    if (ngx_webrtc_dtls_init(cycle) != NGX_OK
        || ngx_webrtc_srtp_init(cycle) != NGX_OK
        || ngx_webrtc_fanout_init_process(cycle) != NGX_OK
        || ngx_webrtc_relay_init_process(cycle) != NGX_OK
        || ngx_webrtc_peer_exit_init(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* as the cache manager: the event's data is a connection */

    ngx_stream_webrtc_sweep_dumb.fd = (ngx_socket_t) -1;

    ngx_stream_webrtc_sweep.data = &ngx_stream_webrtc_sweep_dumb;
    ngx_stream_webrtc_sweep.handler = ngx_stream_webrtc_sweep_handler;
    ngx_stream_webrtc_sweep.log = cycle->log;
    ngx_stream_webrtc_sweep.cancelable = 1;

    ngx_add_timer(&ngx_stream_webrtc_sweep, NGX_STREAM_WEBRTC_SWEEP_INTERVAL);

    /*
     * a worker of a new configuration: sessions the exiting workers hand
     * over are adopted as they come, every few milliseconds for a while
     */

    ngx_webrtc_registry_init_worker();

    ngx_stream_webrtc_adopt_dumb.fd = (ngx_socket_t) -1;

    ngx_stream_webrtc_adopt.data = &ngx_stream_webrtc_adopt_dumb;
    ngx_stream_webrtc_adopt.handler = ngx_stream_webrtc_adopt_handler;
    ngx_stream_webrtc_adopt.log = cycle->log;
    ngx_stream_webrtc_adopt.cancelable = 1;

    ngx_stream_webrtc_started = ngx_current_msec;

    ngx_add_timer(&ngx_stream_webrtc_adopt, NGX_STREAM_WEBRTC_ADOPT_INTERVAL);

    return NGX_OK;
}


static void
ngx_stream_webrtc_adopt_handler(ngx_event_t *ev)
{
    if (ngx_exiting) {
        return;
    }

    ngx_webrtc_peer_adopt_pending();

    ngx_add_timer(ev, (ngx_current_msec - ngx_stream_webrtc_started
                       < NGX_STREAM_WEBRTC_ADOPT_PERIOD)
                      ? NGX_STREAM_WEBRTC_ADOPT_INTERVAL
                      : NGX_STREAM_WEBRTC_SWEEP_INTERVAL);
}


static void *
ngx_stream_webrtc_create_srv_conf(ngx_conf_t *cf)
{
    ngx_stream_webrtc_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_webrtc_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = NGX_CONF_UNSET;
    conf->max_addresses = NGX_CONF_UNSET_UINT;
    conf->tcp_buffer = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_stream_webrtc_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_stream_webrtc_srv_conf_t *prev = parent;
    ngx_stream_webrtc_srv_conf_t *conf = child;

    ngx_conf_merge_uint_value(conf->max_addresses, prev->max_addresses, 8);
    ngx_conf_merge_size_value(conf->tcp_buffer, prev->tcp_buffer,
                              256 * 1024);

    return NGX_CONF_OK;
}


static char *
ngx_stream_webrtc(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_webrtc_srv_conf_t *wscf = conf;

    ngx_webrtc_core_conf_t      *ccf;
    ngx_stream_core_srv_conf_t  *cscf;

    if (wscf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    wscf->enable = 1;

    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);
    cscf->handler = ngx_stream_webrtc_handler;

    if (ngx_webrtc_core_use(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ccf = ngx_webrtc_core_conf(cf->cycle);
    ccf->media = 1;

    return NGX_CONF_OK;
}
