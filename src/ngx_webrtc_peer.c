
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include <openssl/rand.h>

#include "ngx_stream_webrtc.h"


/*
 * A session in the worker serving its media (a "peer"): nominated by
 * ICE, fed its DTLS and SRTP, sending, closed and freed.
 */


static void ngx_stream_webrtc_refresh(ngx_webrtc_peer_t *peer,
    ngx_uint_t established);
static const char *ngx_stream_webrtc_srtp_cause(srtp_err_status_t err);
static u_char *ngx_webrtc_peer_log_error(ngx_log_t *log, u_char *buf,
    size_t len);


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

    peer->log.action = peer->dtls_done ? "reading DTLS" : "handshaking DTLS";

    rc = ngx_webrtc_dtls_input(peer, p, len);

    switch (rc) {

    case NGX_OK:
        ngx_stream_webrtc_refresh(peer, 1);
        ngx_webrtc_relay_start(peer);

        /* what a worker taking over after a crash goes on from */
        ngx_webrtc_peer_write_state(peer);
        break;

    case NGX_DONE:
        ngx_webrtc_peer_close(peer, NGX_WEBRTC_CLOSED_CLIENT,
                              "DTLS close_notify");
        return;

    case NGX_ERROR:
        ngx_webrtc_peer_close(peer, NGX_WEBRTC_CLOSED_DTLS, "DTLS failed");
        return;

    default:
        break;
    }

    peer->log.action = NULL;
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


void
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

    peer->log.action = "unprotecting SRTP";

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
                          "webrtc: more than %d SSRCs, "
                          "packets of new ones dropped",
                          NGX_WEBRTC_MAX_SSRC);
        }

        peer->log.action = NULL;
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

        } else {
            peer->unprotect_logged |= mask;

            ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                          "webrtc: %s packet %s (libsrtp2 error %d), "
                          "dropped",
                          rtcp ? "SRTCP" : "SRTP",
                          ngx_stream_webrtc_srtp_cause(err), (int) err);
        }

        peer->log.action = NULL;
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
        peer->log.action = "releasing DTLS state";
        ngx_webrtc_dtls_park(peer);
    }

    if (move || remote) {
        peer->log.action = "moving media path";
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
        peer->log.action = "handling RTCP feedback";
        ngx_webrtc_relay_rtcp(peer, p, n);

    } else {
        peer->log.action = "forwarding media";
        ngx_webrtc_relay_rtp(peer, p, n);
    }

    peer->log.action = NULL;
}


/*
 * The 5-tuple of a nominating check (or of the first DTLS record) becomes
 * the session's media path in this worker.  A valid check from a new
 * address moves the path (RFC 8445, 7.3.1.5), an invalid one never does.
 */

ngx_int_t
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

        if (c->type == SOCK_STREAM) {

            /* another worker cannot send into this worker's connection */

            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "webrtc: ICE-TCP connection nominated for worker "
                          "%P's session, not taken", claim.owner.pid);
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
        (void) ngx_webrtc_registry_close(ctx->id, NGX_WEBRTC_CLOSED_MEDIA);
        return NGX_ERROR;
    }

    peer->nominated = ngx_time();

    ngx_webrtc_peer_set_path(peer, c);

    if (ngx_webrtc_dtls_create(peer) != NGX_OK
        || ngx_webrtc_relay_attach(peer) != NGX_OK)
    {
        ngx_webrtc_dtls_free(peer);
        ngx_destroy_pool(peer->pool);
        (void) ngx_webrtc_registry_close(ctx->id, NGX_WEBRTC_CLOSED_MEDIA);
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
    peer->log.handler = ngx_webrtc_peer_log_error;
    peer->log.data = peer;
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


/*
 * The peer leaves its UDP connection: on shutdown the peers are closed
 * (or handed over) by themselves, the connections after them
 */

void
ngx_webrtc_peer_leave_connection(ngx_webrtc_peer_t *peer)
{
    ngx_stream_webrtc_ctx_t  *ctx;

    if (peer->connection == NULL) {
        return;
    }

    ctx = ngx_stream_get_module_ctx(
              (ngx_stream_session_t *) peer->connection->data,
                                    ngx_stream_webrtc_module);
    ctx->peer = NULL;
    peer->connection = NULL;
}


ssize_t
ngx_webrtc_peer_send(ngx_webrtc_peer_t *peer, u_char *p, size_t len)
{
    ssize_t        n;
    struct iovec   iov;
    struct msghdr  msg;
    u_char         cmsg[CMSG_SPACE(sizeof(struct in6_pktinfo))];

    if (!peer->has_path || ngx_terminate
        || (ngx_exiting && !ngx_webrtc_closing))
    {
        /*
         * on shutdown the listening sockets are already closed: only the
         * last words of ngx_webrtc_peer_exit() go, from its own sockets
         */
        return NGX_AGAIN;
    }

    if (peer->path.tcp) {
        return (ngx_stream_webrtc_tcp_send(peer->path.tcp, p, len) == NGX_OK)
               ? (ssize_t) len : NGX_ERROR;
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
ngx_webrtc_peer_close(ngx_webrtc_peer_t *peer, ngx_uint_t cause,
    const char *reason)
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

    if (peer->srtp_ready) {
        ngx_webrtc_notify(peer, peer->role == NGX_WEBRTC_ROLE_PUBLISHER
                                ? "unpublish" : "leave", reason);
    }

    ngx_webrtc_relay_detach(peer);
    ngx_rbtree_delete(&ngx_webrtc_peers, &peer->node.node);

    ngx_webrtc_dtls_free(peer);
    ngx_webrtc_srtp_free(peer);

    (void) ngx_webrtc_registry_close(peer->id, cause);

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
 * What a peer's log lines end with, as ngx_stream_log_error() does for a
 * stream session's: what was being done, whose session it is, and where
 * its media goes.  It reads only the peer, which the log is part of: a
 * line is never logged for a peer freed.
 */

static u_char *
ngx_webrtc_peer_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    u_char             *p;
    ngx_webrtc_peer_t  *peer;

    if (log->action) {
        p = ngx_snprintf(buf, len, " while %s", log->action);
        len -= p - buf;
        buf = p;
    }

    peer = log->data;

    p = ngx_snprintf(buf, len, ", session: %*s, role: %s, stream: %*s",
                     (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                     peer->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                            : "viewer",
                     peer->stream_name_len, peer->stream_name);
    len -= p - buf;
    buf = p;

    /* ngx_sock_ntop() needs the room for an IPv6 address and port */

    if (!peer->has_path || len < sizeof(", client: ") + NGX_SOCKADDR_STRLEN) {
        return p;
    }

    p = ngx_cpymem(buf, ", client: ", sizeof(", client: ") - 1);

    p += ngx_sock_ntop(&peer->path.sockaddr.sockaddr, peer->path.socklen, p,
                       NGX_SOCKADDR_STRLEN, 1);

    return p;
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


/* the peer's quality, for the zone (ngx_webrtc_registry_sweep()) */

void
ngx_webrtc_peer_stats(ngx_webrtc_peer_t *peer, ngx_webrtc_quality_t *st)
{
    uint32_t    clock;
    uint64_t    bytes_out;
    ngx_msec_t  elapsed;

    ngx_memzero(st, sizeof(ngx_webrtc_quality_t));

    bytes_out = (uint64_t) peer->out[0].octets + peer->out[1].octets;

    elapsed = ngx_current_msec - peer->q_time;

    if (peer->q_time && elapsed >= 500) {
        peer->q_bitrate_in = (peer->bytes_in - peer->q_bytes_in) * 8000
                             / elapsed;
        peer->q_bitrate_out = (uint64_t) (uint32_t) (bytes_out
                                                     - peer->q_bytes_out)
                              * 8000 / elapsed;
    }

    if (peer->q_time == 0 || elapsed >= 500) {
        peer->q_time = ngx_current_msec;
        peer->q_bytes_in = peer->bytes_in;
        peer->q_bytes_out = bytes_out;
    }

    st->packets_in = peer->packets_in;
    st->bytes_in = peer->bytes_in;
    st->packets_out = peer->packets_out;
    st->bytes_out = bytes_out;
    st->bitrate_in = peer->q_bitrate_in;
    st->bitrate_out = peer->q_bitrate_out;
    st->lost = peer->q_lost;
    st->fraction_lost = peer->q_fraction;

    clock = peer->tracks[1].kind ? peer->tracks[1].clock
                                 : peer->tracks[0].clock;

    if (clock) {
        st->jitter_us = (uint32_t) ((uint64_t) peer->q_jitter * 1000000
                                    / clock);
    }

    st->rtt_ms = (uint32_t) peer->q_rtt;
    st->nacks = peer->q_nacks;
    st->plis = peer->q_plis;
    st->nominated = peer->nominated;

    if (peer->has_path) {
        st->tcp = (peer->path.tcp != NULL);
        (void) ngx_sock_ntop(&peer->path.sockaddr.sockaddr, peer->path.socklen,
                             st->path, NGX_SOCKADDR_STRLEN - 1, 1);
    }

    if (peer->cipher) {
        (void) ngx_cpystrn(st->cipher, (u_char *) peer->cipher,
                           sizeof(st->cipher));
        (void) ngx_cpystrn(st->profile, (u_char *) peer->profile,
                           sizeof(st->profile));
    }
}
