
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#if (NGX_LINUX)
#include <linux/sockios.h>
#endif

#include <openssl/rand.h>

#include "ngx_webrtc_media.h"


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
#define NGX_STREAM_WEBRTC_ADOPT_INTERVAL  10
#define NGX_STREAM_WEBRTC_ADOPT_PERIOD    10000

/* an address that is not a session's media path, without a check */
#define NGX_STREAM_WEBRTC_ADDRESS_TIMEOUT 5000

/* an established session's media path moves at most this often */
#define NGX_STREAM_WEBRTC_MOVE_INTERVAL   1000


typedef struct {
    ngx_flag_t                  enable;
    ngx_uint_t                  max_addresses;
} ngx_stream_webrtc_srv_conf_t;


typedef struct {
    ngx_stream_session_t       *session;
    ngx_webrtc_peer_t          *peer;
    u_char                      id[NGX_WEBRTC_ID_LEN];
    ngx_int_t                   forward;        /* worker slot, or -1 */
    unsigned                    valid:1;        /* a valid check came */
    unsigned                    candidate:1;    /* nominated, not moved */
    unsigned                    counted:1;      /* in its session's naddrs */
    unsigned                    cleanup:1;
    unsigned                    logged:1;       /* a bad datagram, once */
    unsigned                    unknown_logged:1;   /* no protocol */
    unsigned                    handling:1;
    unsigned                    close:1;
    unsigned                    resolved:1;     /* looked up its path */
    ngx_msec_t                  resolve_time;
    ngx_msec_t                  resolve_wait;
} ngx_stream_webrtc_ctx_t;


static void ngx_stream_webrtc_handler(ngx_stream_session_t *s);
static void ngx_stream_webrtc_read_handler(ngx_event_t *rev);
static void ngx_stream_webrtc_datagram(ngx_stream_webrtc_ctx_t *ctx,
    u_char *p, size_t len);
static void ngx_stream_webrtc_stun(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len);
static void ngx_stream_webrtc_dtls(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len);
static void ngx_stream_webrtc_srtp_datagram(ngx_stream_webrtc_ctx_t *ctx,
    u_char *p, size_t len);
static void ngx_stream_webrtc_srtp(ngx_webrtc_peer_t *peer, u_char *p,
    size_t len, ngx_connection_t *move, ngx_webrtc_path_t *remote);
static uint64_t ngx_stream_webrtc_arrival(ngx_socket_t fd);
static ngx_int_t ngx_stream_webrtc_nominate(ngx_stream_webrtc_ctx_t *ctx,
    ngx_uint_t check);
static void ngx_stream_webrtc_move(ngx_webrtc_peer_t *peer,
    ngx_connection_t *c, ngx_webrtc_path_t *remote);
static void ngx_stream_webrtc_path_from(ngx_webrtc_path_t *path,
    ngx_connection_t *c);
static ngx_int_t ngx_stream_webrtc_consent_left(ngx_stream_webrtc_ctx_t *ctx);
static void ngx_stream_webrtc_uncount(ngx_stream_webrtc_ctx_t *ctx);
static void ngx_stream_webrtc_cleanup(void *data);
static void ngx_stream_webrtc_refresh(ngx_webrtc_peer_t *peer,
    ngx_uint_t established);
static void ngx_stream_webrtc_send(ngx_connection_t *c, u_char *p,
    size_t len);
static void ngx_stream_webrtc_close(ngx_stream_webrtc_ctx_t *ctx);
static ngx_uint_t ngx_stream_webrtc_log_unknown(ngx_log_t *log);
static const char *ngx_stream_webrtc_srtp_cause(srtp_err_status_t err);

static void ngx_stream_webrtc_sweep_handler(ngx_event_t *ev);
static void ngx_stream_webrtc_adopt_handler(ngx_event_t *ev);
static ngx_int_t ngx_stream_webrtc_resolve(ngx_stream_webrtc_ctx_t *ctx);

static ngx_int_t ngx_stream_webrtc_init_process(ngx_cycle_t *cycle);
static void *ngx_stream_webrtc_create_srv_conf(ngx_conf_t *cf);
static char *ngx_stream_webrtc_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_stream_webrtc(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_num_bounds_t  ngx_stream_webrtc_max_addresses_bounds = {
    ngx_conf_check_num_bounds, 1, 64
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

    if (c->type != SOCK_DGRAM || b == NULL) {
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

        if (ctx->peer == NULL && ctx->forward < 0) {
            ngx_log_debug0(NGX_LOG_DEBUG_STREAM, c->log, 0,
                           "webrtc: address without a check closed");

            ngx_stream_webrtc_close(ctx);
            return;
        }

        if (ngx_stream_webrtc_consent_left(ctx) == NGX_OK) {
            /* checks came on another address of the session */
            return;
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
            ngx_webrtc_peer_close(ctx->peer, "ICE consent expired");
            return;
        }

        ngx_stream_webrtc_close(ctx);
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


/* RFC 7983, 7: demultiplexing by the first byte */

static void
ngx_stream_webrtc_datagram(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len)
{
    if (len == 0) {
        return;
    }

    if (p[0] <= 3) {
        ngx_stream_webrtc_stun(ctx, p, len);
        return;
    }

    if (ctx->peer == NULL && ctx->forward < 0 && !ctx->candidate
        && ((p[0] >= 20 && p[0] <= 63) || (p[0] >= 128 && p[0] <= 191)))
    {
        (void) ngx_stream_webrtc_resolve(ctx);
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


/*
 * DTLS or SRTP from an address this worker has no session for, a media
 * path in the zone: a session this worker adopted or adopts now (handed
 * over on reload), or another worker's of this configuration, which the
 * datagrams are passed to.  Once in a while per address: a path moves
 * only as ngx_stream_webrtc_move() says.
 */

static ngx_int_t
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


static void
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


/* a DTLS or SRTP datagram of a peer, from its path here or forwarded */

void
ngx_webrtc_peer_input(ngx_webrtc_peer_t *peer, u_char *p, size_t len)
{
    ngx_int_t  rc;

    if (len == 0) {
        return;
    }

    if (p[0] >= 128 && p[0] <= 191) {
        ngx_stream_webrtc_srtp(peer, p, len, NULL, NULL);
        return;
    }

    if (p[0] < 20 || p[0] > 63) {
        return;
    }

    rc = ngx_webrtc_dtls_input(peer, p, len);

    switch (rc) {

    case NGX_OK:
        ngx_stream_webrtc_refresh(peer, 1);
        ngx_webrtc_relay_start(peer);

        /* what a worker taking over after a crash goes on from */
        ngx_webrtc_peer_write_state(peer);
        break;

    case NGX_DONE:
        ngx_webrtc_peer_close(peer, "DTLS close_notify");
        break;

    case NGX_ERROR:
        ngx_webrtc_peer_close(peer, "DTLS failed");
        break;

    default:
        break;
    }
}


/*
 * A datagram another worker received for this worker's peer; SRTP from
 * the address another worker nominated (the candidate) moves the path
 */

void
ngx_webrtc_peer_forwarded(ngx_webrtc_peer_t *peer, u_char *p, size_t len,
    struct sockaddr *sockaddr, socklen_t socklen)
{
    if (peer->has_candidate && len && p[0] >= 128 && p[0] <= 191
        && ngx_cmp_sockaddr(sockaddr, socklen,
                            &peer->candidate.sockaddr.sockaddr,
                            peer->candidate.socklen, 1)
           == NGX_OK)
    {
        ngx_stream_webrtc_srtp(peer, p, len, NULL, &peer->candidate);
        return;
    }

    ngx_webrtc_peer_input(peer, p, len);
}


/*
 * The peer showed it is there: its consent is refreshed (by its media,
 * once a second at most), and on its DTLS handshake the session's
 * handshake deadline stops applying
 */

static void
ngx_stream_webrtc_refresh(ngx_webrtc_peer_t *peer, ngx_uint_t established)
{
    ngx_webrtc_core_conf_t  *ccf;

    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);

    (void) ngx_webrtc_registry_touch(peer->id,
                                     ngx_time() + ccf->consent_timeout,
                                     established);
}


static void
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


static void
ngx_stream_webrtc_srtp(ngx_webrtc_peer_t *peer, u_char *p, size_t len,
    ngx_connection_t *move, ngx_webrtc_path_t *remote)
{
    int                 n, rtcp;
    uint16_t            seq;
    uint32_t            ssrc;
    ngx_uint_t          i, mask;
    srtp_err_status_t   err;

    if (!peer->srtp_ready || len > NGX_WEBRTC_MTU || len < 12) {
        return;
    }

    rtcp = ngx_webrtc_is_rtcp(p, len);

    /* a viewer's inbound RTP is not served */

    if (!rtcp && peer->role != NGX_WEBRTC_ROLE_PUBLISHER) {
        return;
    }

    /*
     * libsrtp2 keeps a stream for every SSRC an authenticated peer sends
     * with: a few are known, a new one beyond NGX_WEBRTC_MAX_SSRC is
     * dropped before decryption, so a peer cannot grow our memory
     */

    ssrc = ngx_webrtc_get32(p + (rtcp ? 4 : 8));

    for (i = 0; i < peer->nin_ssrc; i++) {
        if (peer->in_ssrc[i] == ssrc) {
            break;
        }
    }

    if (i == NGX_WEBRTC_MAX_SSRC) {
        if (!peer->ssrc_logged) {
            peer->ssrc_logged = 1;
            ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                          "webrtc session %*s: more than %d SSRCs, "
                          "packets of new ones dropped",
                          (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                          NGX_WEBRTC_MAX_SSRC);
        }

        return;
    }

    n = (int) len;

    if (peer->nresume && !rtcp) {
        /* adopted: the first packets of an SSRC received before */
        err = ngx_webrtc_peer_unprotect_resumed(peer, p, &n, ssrc);

    } else {
        err = rtcp ? srtp_unprotect_rtcp(peer->srtp_in, p, &n)
                   : srtp_unprotect(peer->srtp_in, p, &n);
    }

    if (err != srtp_err_status_ok) {

        /* forged, damaged or replayed: at info once a session */

        mask = rtcp ? 2 : 1;

        if (peer->unprotect_logged & mask) {
            ngx_log_debug2(NGX_LOG_DEBUG_STREAM, &peer->log, 0,
                           "webrtc: %s unprotect failed: %d",
                           rtcp ? "SRTCP" : "SRTP", (int) err);
            return;
        }

        peer->unprotect_logged |= mask;

        ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                      "webrtc session %*s: %s packet %s (libsrtp2 error "
                      "%d), dropped",
                      (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                      rtcp ? "SRTCP" : "SRTP",
                      ngx_stream_webrtc_srtp_cause(err),
                      (int) err);
        return;
    }

    if (i == peer->nin_ssrc) {
        peer->in_ssrc[peer->nin_ssrc++] = ssrc;
    }

    /* the highest sequence number of each SSRC, for a hand-over */

    if (!rtcp) {
        seq = ngx_webrtc_get16(p + 2);

        if (!(peer->in_rtp & (1 << i))
            || (int16_t) (seq - peer->in_high[i]) > 0)
        {
            peer->in_high[i] = seq;
            peer->in_rtp |= 1 << i;
        }

        if (ngx_webrtc_peer_state_due(peer)) {
            ngx_webrtc_peer_write_state(peer);
        }
    }

    if (peer->ssl && !peer->dtls_kept) {
        ngx_webrtc_dtls_park(peer);
    }

    if (move || remote) {
        ngx_stream_webrtc_move(peer, move, remote);
    }

    /*
     * authenticated media from the path keeps the session as a check does:
     * an off-path attacker can forge neither; libnice (GStreamer's
     * webrtcbin) keeps a selected pair with Binding Indications only
     * unless told to send checks (RFC 7675, which an ICE lite side cannot
     * enforce otherwise)
     */

    if (ngx_current_msec - peer->consent_time >= 1000) {
        peer->consent_time = ngx_current_msec;
        ngx_stream_webrtc_refresh(peer, 0);
    }

    if (rtcp) {
        ngx_webrtc_relay_rtcp(peer, p, n);

    } else {
        ngx_webrtc_relay_rtp(peer, p, n);
    }
}


/*
 * The 5-tuple of a nominating check (or of the first DTLS record) becomes
 * the session's media path in this worker.  A valid check from a new
 * address moves the path (RFC 8445, 7.3.1.5), an invalid one never does.
 */

static ngx_int_t
ngx_stream_webrtc_nominate(ngx_stream_webrtc_ctx_t *ctx, ngx_uint_t check)
{
    ngx_int_t                 rc;
    ngx_connection_t         *c;
    ngx_webrtc_peer_t        *peer;
    ngx_webrtc_claim_t        claim;
    ngx_webrtc_path_t         path;
    ngx_stream_webrtc_ctx_t  *octx;

    c = ctx->session->connection;

    if (ctx->forward >= 0) {

        /*
         * again: a path message lost on a full relay is made good, as
         * libwebrtc, controlling an ICE lite peer, sets USE-CANDIDATE on
         * each check of the selected pair; the other worker ignores a
         * repeat
         */

        ngx_stream_webrtc_path_from(&path, c);
        ngx_webrtc_relay_path(ctx->forward, ctx->id, &path);

        return NGX_DECLINED;
    }

    peer = ngx_webrtc_peer_by_id(ctx->id);

    if (peer) {
        if (peer->connection != c) {

            /*
             * a DTLS record is not authenticated before it reaches
             * OpenSSL: it makes the first path, it never moves one
             */

            if (!check && peer->has_path) {
                ngx_log_debug0(NGX_LOG_DEBUG_STREAM, c->log, 0,
                               "webrtc: DTLS from another address of the "
                               "session dropped");
                return NGX_DECLINED;
            }

            /*
             * a check proves the ICE password, not that the address is
             * the peer's: one replayed from a spoofed address would send
             * the stream there.  Once the session has SRTP keys, its path
             * moves only when SRTP that authenticates comes from the
             * nominated address, which a replay cannot make
             */

            if (peer->srtp_ready && peer->has_path) {
                if (!ctx->candidate) {
                    ctx->candidate = 1;
                    ngx_log_debug0(NGX_LOG_DEBUG_STREAM, c->log, 0,
                                   "webrtc: nominated, the path moves on "
                                   "its SRTP");
                }

                return NGX_DECLINED;
            }

            if (peer->connection) {
                octx = ngx_stream_get_module_ctx(
                  (ngx_stream_session_t *) peer->connection->data,
                                                 ngx_stream_webrtc_module);
                octx->peer = NULL;
            }

            ngx_webrtc_peer_set_path(peer, c);
            ctx->peer = peer;

            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "webrtc session %*s: media path moved",
                          (size_t) NGX_WEBRTC_ID_LEN, peer->id);
        }

        return NGX_OK;
    }

    rc = ngx_webrtc_registry_claim(ctx->id, &claim);

    if (rc == NGX_ABORT) {
        return NGX_DECLINED;
    }

    if (rc == NGX_AGAIN) {

        /* an exiting worker handed it over: taken with its keys */

        if (ngx_webrtc_peer_adopt(ctx->id, c, &peer) != NGX_OK) {
            return NGX_DECLINED;
        }

        ctx->peer = peer;

        return NGX_OK;
    }

    if (rc == NGX_BUSY) {

        if (!check) {
            /* as above: DTLS does not move a path another worker has */
            return NGX_DECLINED;
        }

        if (claim.owner.cycle != ngx_webrtc_registry_cycle()) {
            /*
             * a worker of the configuration before a reload, about to hand
             * the session over: not reached by this one's channels
             */
            return NGX_DECLINED;
        }

        ctx->forward = claim.owner.slot;

        /*
         * the worker with the session's DTLS and SRTP state sends to
         * this address from its own socket (once SRTP from it
         * authenticates, if the session has keys); what arrives here
         * is passed to it
         */

        ngx_stream_webrtc_path_from(&path, c);
        ngx_webrtc_relay_path(ctx->forward, ctx->id, &path);

        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      claim.established
                      ? "webrtc session %*s: nominated an address of "
                        "worker %P's session"
                      : "webrtc session %*s: media path moved to an "
                        "address of worker %P's session",
                      (size_t) NGX_WEBRTC_ID_LEN, ctx->id, claim.owner.pid);
        return NGX_DECLINED;
    }

    if (rc == NGX_DONE) {

        /*
         * its worker exited with the DTLS state: the session is closed,
         * its checks fail, and the client reconnects
         */

        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "webrtc session %*s closed: its worker exited",
                      (size_t) NGX_WEBRTC_ID_LEN, ctx->id);

        ctx->valid = 0;
        ctx->close = 1;

        return NGX_DECLINED;
    }

    peer = ngx_webrtc_peer_create(ctx->id, &claim, c);

    if (peer == NULL) {
        (void) ngx_webrtc_registry_close(ctx->id);
        return NGX_ERROR;
    }

    ngx_webrtc_peer_set_path(peer, c);

    if (ngx_webrtc_dtls_create(peer) != NGX_OK
        || ngx_webrtc_relay_attach(peer) != NGX_OK)
    {
        ngx_webrtc_dtls_free(peer);
        ngx_destroy_pool(peer->pool);
        (void) ngx_webrtc_registry_close(ctx->id);
        return NGX_ERROR;
    }

    ngx_webrtc_peer_insert(peer);

    ctx->peer = peer;

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "webrtc %s session %*s: ICE nominated",
                  peer->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                         : "viewer",
                  (size_t) NGX_WEBRTC_ID_LEN, peer->id);

    return NGX_OK;
}


ngx_webrtc_peer_t *
ngx_webrtc_peer_by_id(u_char *id)
{
    ngx_str_t        name;
    ngx_str_node_t  *sn;

    if (ngx_webrtc_peers.root == NULL) {
        return NULL;
    }

    name.data = id;
    name.len = NGX_WEBRTC_ID_LEN;

    sn = ngx_str_rbtree_lookup(&ngx_webrtc_peers, &name,
                               ngx_crc32_short(id, NGX_WEBRTC_ID_LEN));
    if (sn == NULL) {
        return NULL;
    }

    return (ngx_webrtc_peer_t *)
               ((u_char *) sn - offsetof(ngx_webrtc_peer_t, node));
}


/*
 * A peer of this worker for a session it claimed: the session's id,
 * role, stream, tracks and fingerprints, a new RTCP sender SSRC
 */

ngx_webrtc_peer_t *
ngx_webrtc_peer_create(u_char *id, ngx_webrtc_claim_t *claim,
    ngx_connection_t *c)
{
    uint32_t            ssrc;
    ngx_pool_t         *pool;
    ngx_webrtc_peer_t  *peer;

    /*
     * not the connection's log: a peer outlives the connection it was
     * nominated on (its path moves, or another session takes the
     * address), and that log is in the connection's pool; the pool logs
     * through the peer's own log, in the pool, as nginx allows
     */

    pool = ngx_create_pool(2048, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    peer = ngx_pcalloc(pool, sizeof(ngx_webrtc_peer_t));
    if (peer == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    peer->log = *ngx_cycle->log;
    peer->log.connection = c ? c->number : 0;
    peer->log.handler = NULL;
    peer->log.data = NULL;
    peer->log.action = NULL;

    pool->log = &peer->log;

    peer->pool = pool;

    ngx_memcpy(peer->id, id, NGX_WEBRTC_ID_LEN);
    peer->role = claim->role;
    peer->stream = claim->stream;
    peer->stream_gen = claim->stream_gen;
    peer->stream_name_len = claim->stream_name_len;
    ngx_memcpy(peer->stream_name, claim->stream_name, claim->stream_name_len);
    ngx_memcpy(peer->tracks, claim->tracks, sizeof(peer->tracks));
    peer->nfingerprints = claim->nfingerprints;
    ngx_memcpy(peer->fingerprints, claim->fingerprints,
               sizeof(peer->fingerprints));

    do {
        if (RAND_bytes((u_char *) &ssrc, sizeof(ssrc)) != 1) {
            ssrc = (uint32_t) ngx_random();
        }
    } while (ssrc == 0);

    peer->local_ssrc = ssrc;

    peer->node.str.data = peer->id;
    peer->node.str.len = NGX_WEBRTC_ID_LEN;
    peer->node.node.key = ngx_crc32_short(peer->id, NGX_WEBRTC_ID_LEN);

    return peer;
}


void
ngx_webrtc_peer_insert(ngx_webrtc_peer_t *peer)
{
    ngx_rbtree_insert(&ngx_webrtc_peers, &peer->node.node);
}


/*
 * The local half of ngx_webrtc_peer_close(), for a peer handed over: its
 * session stays in the zone, no close_notify is sent
 */

void
ngx_webrtc_peer_free(ngx_webrtc_peer_t *peer)
{
    ngx_stream_webrtc_ctx_t  *ctx;

    peer->closed = 1;

    ngx_webrtc_relay_detach(peer);
    ngx_rbtree_delete(&ngx_webrtc_peers, &peer->node.node);

    ngx_webrtc_dtls_drop(peer);
    ngx_webrtc_srtp_free(peer);

    if (peer->connection) {
        ctx = ngx_stream_get_module_ctx(
                  (ngx_stream_session_t *) peer->connection->data,
                                        ngx_stream_webrtc_module);
        ctx->peer = NULL;
    }

    ngx_destroy_pool(peer->pool);
}


ssize_t
ngx_webrtc_peer_send(ngx_webrtc_peer_t *peer, u_char *p, size_t len)
{
    ssize_t        n;
    struct iovec   iov;
    struct msghdr  msg;
    u_char         cmsg[CMSG_SPACE(sizeof(struct in6_pktinfo))];

    if (!peer->has_path || ngx_exiting || ngx_terminate) {
        /* on shutdown the listening sockets are already closed */
        return NGX_AGAIN;
    }

    iov.iov_base = p;
    iov.iov_len = len;

    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    ngx_webrtc_path_msghdr(&peer->path, &msg, cmsg);

    n = sendmsg(peer->path.fd, &msg, MSG_DONTWAIT);

    if (n == -1) {
        ngx_log_debug0(NGX_LOG_DEBUG_STREAM, &peer->log, ngx_socket_errno,
                       "webrtc: sendmsg() failed");
        return NGX_ERROR;
    }

    return n;
}


static void
ngx_stream_webrtc_path_from(ngx_webrtc_path_t *path, ngx_connection_t *c)
{
    ngx_memzero(path, sizeof(ngx_webrtc_path_t));

    path->fd = c->fd;
    path->socklen = ngx_min(c->socklen, sizeof(ngx_sockaddr_t));
    ngx_memcpy(&path->sockaddr, c->sockaddr, path->socklen);

    if (c->local_sockaddr) {
        path->local_socklen = ngx_min(c->local_socklen,
                                      sizeof(ngx_sockaddr_t));
        ngx_memcpy(&path->local, c->local_sockaddr, path->local_socklen);
    }

    if (c->listening) {
        path->wildcard = c->listening->wildcard;
        path->listen_socklen = ngx_min(c->listening->socklen,
                                       sizeof(ngx_sockaddr_t));
        ngx_memcpy(&path->listen, c->listening->sockaddr,
                   path->listen_socklen);
    }
}


/* a reply from the address the peer sent to (wildcard listens) */

static void
ngx_stream_webrtc_send(ngx_connection_t *c, u_char *p, size_t len)
{
    struct iovec       iov;
    struct msghdr      msg;
    ngx_webrtc_path_t  path;
    u_char             cmsg[CMSG_SPACE(sizeof(struct in6_pktinfo))];

    ngx_stream_webrtc_path_from(&path, c);

    iov.iov_base = p;
    iov.iov_len = len;

    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    ngx_webrtc_path_msghdr(&path, &msg, cmsg);

    if (sendmsg(c->fd, &msg, MSG_DONTWAIT) == -1) {
        ngx_log_debug0(NGX_LOG_DEBUG_STREAM, c->log, ngx_socket_errno,
                       "webrtc: sendmsg() failed");
    }
}


/* the nominated 5-tuple in this worker carries the media */

void
ngx_webrtc_peer_set_path(ngx_webrtc_peer_t *peer, ngx_connection_t *c)
{
    peer->connection = c;
    ngx_stream_webrtc_path_from(&peer->path, c);
    peer->has_path = 1;
    peer->path_time = ngx_current_msec;

    ngx_webrtc_registry_path_set(peer->id, c->sockaddr, c->socklen);
}


/*
 * SRTP that authenticates came from a nominated address: the path moves
 * there, once a second at most, so that a peer holding the keys cannot
 * swing a stream between addresses (a move held back is made by a later
 * packet)
 */

static void
ngx_stream_webrtc_move(ngx_webrtc_peer_t *peer, ngx_connection_t *c,
    ngx_webrtc_path_t *remote)
{
    ngx_webrtc_core_conf_t   *ccf;
    ngx_stream_webrtc_ctx_t  *ctx, *octx;

    if (ngx_current_msec - peer->path_time < NGX_STREAM_WEBRTC_MOVE_INTERVAL) {
        ngx_log_debug0(NGX_LOG_DEBUG_STREAM, &peer->log, 0,
                       "webrtc: path move held back");
        return;
    }

    if (remote) {
        (void) ngx_webrtc_peer_set_remote_path(peer, remote);
        peer->has_candidate = 0;
        return;
    }

    ctx = ngx_stream_get_module_ctx((ngx_stream_session_t *) c->data,
                                    ngx_stream_webrtc_module);
    ctx->candidate = 0;

    if (peer->connection == c) {
        return;
    }

    if (peer->connection) {
        octx = ngx_stream_get_module_ctx(
                  (ngx_stream_session_t *) peer->connection->data,
                                         ngx_stream_webrtc_module);
        octx->peer = NULL;
    }

    ngx_webrtc_peer_set_path(peer, c);
    ctx->peer = peer;

    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);
    ngx_add_timer(c->read, (ngx_msec_t) ccf->consent_timeout * 1000);

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "webrtc session %*s: media path moved",
                  (size_t) NGX_WEBRTC_ID_LEN, peer->id);
}


/*
 * An address another worker receives and nominated: before the session
 * has SRTP keys the path moves there at once, after only when SRTP from
 * it authenticates (ngx_webrtc_peer_forwarded())
 */

void
ngx_webrtc_peer_remote_path(ngx_webrtc_peer_t *peer, ngx_webrtc_path_t *path)
{
    if (peer->srtp_ready && peer->has_path) {
        peer->candidate = *path;
        peer->has_candidate = 1;
        return;
    }

    (void) ngx_webrtc_peer_set_remote_path(peer, path);
}


/*
 * We send to an address another worker receives from our own socket of
 * the same listen address, that worker passes us what arrives there
 */

ngx_int_t
ngx_webrtc_peer_set_remote_path(ngx_webrtc_peer_t *peer,
    ngx_webrtc_path_t *path)
{
    ngx_socket_t              fd;
    ngx_stream_webrtc_ctx_t  *octx;

    fd = ngx_webrtc_peer_listen_fd(&path->listen.sockaddr,
                                   path->listen_socklen);

    if (fd == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                      "webrtc session %*s: no socket for its new path",
                      (size_t) NGX_WEBRTC_ID_LEN, peer->id);
        return NGX_DECLINED;
    }

    /* a repeat of the path it has */

    if (peer->has_path && peer->connection == NULL
        && peer->path.fd == fd
        && ngx_cmp_sockaddr(&peer->path.sockaddr.sockaddr, peer->path.socklen,
                            &path->sockaddr.sockaddr, path->socklen, 1)
           == NGX_OK)
    {
        return NGX_OK;
    }

    if (peer->connection) {
        octx = ngx_stream_get_module_ctx(
                  (ngx_stream_session_t *) peer->connection->data,
                                         ngx_stream_webrtc_module);
        octx->peer = NULL;
        peer->connection = NULL;
    }

    peer->path = *path;
    peer->path.fd = fd;
    peer->has_path = 1;
    peer->path_time = ngx_current_msec;

    ngx_webrtc_registry_path_set(peer->id, &path->sockaddr.sockaddr,
                                 path->socklen);

    if (!peer->adopted || peer->packets_in + peer->packets_out) {
        ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                      "webrtc session %*s: media path moved to an address "
                      "another worker receives",
                      (size_t) NGX_WEBRTC_ID_LEN, peer->id);
    }

    return NGX_OK;
}


/* this worker's socket of a listen address: any worker may send from it */

ngx_socket_t
ngx_webrtc_peer_listen_fd(struct sockaddr *sockaddr, socklen_t socklen)
{
    ngx_uint_t        i;
    ngx_listening_t  *ls;

    ls = ngx_cycle->listening.elts;

    for (i = 0; i < ngx_cycle->listening.nelts; i++) {
        if (ls[i].type == SOCK_DGRAM && ls[i].fd != (ngx_socket_t) -1
            && ngx_cmp_sockaddr(ls[i].sockaddr, ls[i].socklen,
                                sockaddr, socklen, 1)
               == NGX_OK)
        {
            return ls[i].fd;
        }
    }

    return (ngx_socket_t) -1;
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


ngx_int_t
ngx_webrtc_peer_send_rtcp(ngx_webrtc_peer_t *peer, u_char *p, size_t len)
{
    int  n;

    n = (int) len;

    if (srtp_protect_rtcp(peer->srtp_out, p, &n) != srtp_err_status_ok) {
        return NGX_ERROR;
    }

    return ngx_webrtc_peer_send(peer, p, n) > 0 ? NGX_OK : NGX_ERROR;
}


/*
 * Frees a peer and its session.  A publisher's viewers stay: they wait
 * on the stream for the next publisher.
 */

void
ngx_webrtc_peer_close(ngx_webrtc_peer_t *peer, const char *reason)
{
    ngx_stream_webrtc_ctx_t  *ctx;

    if (peer->closed) {
        return;
    }

    peer->closed = 1;

    ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                  "webrtc %s session %*s closed: %s, "
                  "%ui packets in, %ui out",
                  peer->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                         : "viewer",
                  (size_t) NGX_WEBRTC_ID_LEN, peer->id, reason,
                  peer->packets_in, peer->packets_out);

    ngx_webrtc_relay_detach(peer);
    ngx_rbtree_delete(&ngx_webrtc_peers, &peer->node.node);

    ngx_webrtc_dtls_free(peer);
    ngx_webrtc_srtp_free(peer);

    (void) ngx_webrtc_registry_close(peer->id);

    if (peer->connection) {
        ctx = ngx_stream_get_module_ctx(
                  (ngx_stream_session_t *) peer->connection->data,
                                        ngx_stream_webrtc_module);
        ctx->peer = NULL;
        ctx->close = 1;

        if (!ctx->handling) {
            ngx_stream_webrtc_close(ctx);
        }
    }

    ngx_destroy_pool(peer->pool);
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


static const char *
ngx_stream_webrtc_srtp_cause(srtp_err_status_t err)
{
    switch (err) {

    case srtp_err_status_auth_fail:
        return "failed authentication";

    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return "replayed";

    default:
        return "not decrypted";
    }
}


static void
ngx_stream_webrtc_close(ngx_stream_webrtc_ctx_t *ctx)
{
    if (ctx->peer) {
        ngx_webrtc_peer_close(ctx->peer, "connection closed");
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
            k++;
        }

        ngx_webrtc_registry_exist(ids, k, exist);

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
        ngx_webrtc_peer_close(stale[i],
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
        || ngx_webrtc_relay_init_process(cycle) != NGX_OK)
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

    return conf;
}


static char *
ngx_stream_webrtc_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_stream_webrtc_srv_conf_t *prev = parent;
    ngx_stream_webrtc_srv_conf_t *conf = child;

    ngx_conf_merge_uint_value(conf->max_addresses, prev->max_addresses, 8);

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
