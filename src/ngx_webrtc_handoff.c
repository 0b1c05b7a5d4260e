
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_webrtc_media.h"


/*
 * Sessions that outlive their worker on reload.  An exiting worker of
 * the configuration before hands each session with SRTP keys over: it
 * stops sending, writes the exact state of every SSRC (the last index it
 * protected, the last SRTCP index, the viewer's rewrite, the path) into
 * the zone and frees the peer without a close_notify.  A worker of the
 * new configuration adopts the session (its slot's at once, any other
 * when its datagrams arrive): it rebuilds libsrtp2 from the keys and
 * goes on from the next index (ngx_webrtc_resume.c), with no signaling
 * and no handshake.  A session without keys yet (in its DTLS handshake)
 * is closed as before: the client connects again.
 */


#define NGX_WEBRTC_ADOPT_BATCH      64


static void ngx_webrtc_handoff_all(ngx_uint_t successor);
static ngx_webrtc_peer_t **ngx_webrtc_peers_list(ngx_uint_t tcp,
    ngx_uint_t *np);
static void ngx_webrtc_peer_close_tcp(void);
static void ngx_webrtc_handoff_state(ngx_webrtc_peer_t *peer,
    ngx_webrtc_handoff_t *st);
static ngx_int_t ngx_webrtc_adopt_srtp(ngx_webrtc_peer_t *peer,
    ngx_webrtc_keys_t *keys, ngx_webrtc_handoff_t *st, ngx_uint_t final);


/* set while this worker hands its sessions over, or closes them */
ngx_uint_t  ngx_webrtc_handing_off;

/* the close_notify of a session that ends on shutdown may go */
ngx_uint_t  ngx_webrtc_closing;

static ngx_uint_t  ngx_webrtc_exited;


/*
 * Sockets of this worker's media listens, duplicated when it starts: on
 * graceful shutdown nginx closes the listening sockets before the
 * connections, and the sessions that end then still send their DTLS
 * close_notify from these
 */

typedef struct {
    ngx_sockaddr_t              sockaddr;
    socklen_t                   socklen;
    ngx_socket_t                fd;
} ngx_webrtc_exit_socket_t;


static ngx_array_t  *ngx_webrtc_exit_sockets;


ngx_int_t
ngx_webrtc_peer_exit_init(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i, k;
    ngx_listening_t           *ls;
    ngx_webrtc_exit_socket_t  *es;

    ngx_webrtc_exit_sockets = ngx_array_create(cycle->pool, 4,
                                          sizeof(ngx_webrtc_exit_socket_t));
    if (ngx_webrtc_exit_sockets == NULL) {
        return NGX_ERROR;
    }

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        if (ls[i].type != SOCK_DGRAM || ls[i].fd == (ngx_socket_t) -1
            || ls[i].socklen > (socklen_t) sizeof(ngx_sockaddr_t))
        {
            continue;
        }

        es = ngx_webrtc_exit_sockets->elts;

        for (k = 0; k < ngx_webrtc_exit_sockets->nelts; k++) {
            if (ngx_cmp_sockaddr(&es[k].sockaddr.sockaddr, es[k].socklen,
                                 ls[i].sockaddr, ls[i].socklen, 1)
                == NGX_OK)
            {
                break;
            }
        }

        if (k < ngx_webrtc_exit_sockets->nelts) {
            continue;
        }

        es = ngx_array_push(ngx_webrtc_exit_sockets);
        if (es == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(&es->sockaddr, ls[i].sockaddr, ls[i].socklen);
        es->socklen = ls[i].socklen;

        es->fd = dup(ls[i].fd);

        if (es->fd == (ngx_socket_t) -1) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_socket_errno,
                          "webrtc: dup() of %V failed", &ls[i].addr_text);
            ngx_webrtc_exit_sockets->nelts--;
        }
    }

    return NGX_OK;
}


/*
 * Graceful shutdown: on a reload (a newer configuration keeps the zone)
 * the sessions are handed over; otherwise (nginx -s quit, a zone not
 * kept) they close with a DTLS close_notify, so that clients learn at
 * once.  Called once, from the first idle connection nginx closes.
 */

void
ngx_webrtc_peer_exit(void)
{
    ngx_uint_t  i, k;
    ngx_rbtree_node_t         *node, *root, *sentinel;
    ngx_webrtc_peer_t         *peer;
    ngx_webrtc_exit_socket_t  *es;

    if (ngx_webrtc_exited) {
        return;
    }

    ngx_webrtc_exited = 1;

    root = ngx_webrtc_peers.root;
    sentinel = ngx_webrtc_peers.sentinel;

    if (root != NULL && root != sentinel) {

        /*
         * ICE-TCP sessions end with their connections, which stay in this
         * worker: a close_notify while those are still open
         */

        ngx_webrtc_closing = 1;
        ngx_webrtc_peer_close_tcp();
        ngx_webrtc_closing = 0;

        root = ngx_webrtc_peers.root;
    }

    if (root != NULL && root != sentinel) {

        /* the peers go by themselves, the connections after them */

        ngx_webrtc_handing_off = 1;

        for (node = ngx_rbtree_min(root, sentinel);
             node;
             node = ngx_rbtree_next(&ngx_webrtc_peers, node))
        {
            peer = (ngx_webrtc_peer_t *)
                       ((u_char *) node - offsetof(ngx_webrtc_peer_t, node));

            ngx_webrtc_peer_leave_connection(peer);

            /* the last words from this worker's duplicate of the socket */

            peer->has_path = 0;
            es = ngx_webrtc_exit_sockets ? ngx_webrtc_exit_sockets->elts
                                         : NULL;

            for (k = 0;
                 es && k < ngx_webrtc_exit_sockets->nelts;
                 k++)
            {
                if (ngx_cmp_sockaddr(&es[k].sockaddr.sockaddr, es[k].socklen,
                                     &peer->path.listen.sockaddr,
                                     peer->path.listen_socklen, 1)
                    == NGX_OK)
                {
                    peer->path.fd = es[k].fd;
                    peer->has_path = (peer->path.socklen != 0);
                    break;
                }
            }
        }

        ngx_webrtc_closing = 1;

        ngx_webrtc_handoff_all(ngx_webrtc_registry_successor() == NGX_OK);

        ngx_webrtc_closing = 0;
    }

    if (ngx_webrtc_exit_sockets) {
        es = ngx_webrtc_exit_sockets->elts;

        for (i = 0; i < ngx_webrtc_exit_sockets->nelts; i++) {
            (void) ngx_close_socket(es[i].fd);
        }

        ngx_webrtc_exit_sockets->nelts = 0;
    }
}


/*
 * This worker's peers (only those on an ICE-TCP connection, with tcp), in
 * an array to close or free them from: ngx_free() it
 */

static ngx_webrtc_peer_t **
ngx_webrtc_peers_list(ngx_uint_t tcp, ngx_uint_t *np)
{
    ngx_uint_t          n;
    ngx_rbtree_node_t  *node, *root, *sentinel;
    ngx_webrtc_peer_t  *peer, **peers;

    *np = 0;

    root = ngx_webrtc_peers.root;
    sentinel = ngx_webrtc_peers.sentinel;

    if (root == NULL || root == sentinel) {
        return NULL;
    }

    n = 0;

    for (node = ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&ngx_webrtc_peers, node))
    {
        n++;
    }

    peers = ngx_alloc(n * sizeof(ngx_webrtc_peer_t *), ngx_cycle->log);
    if (peers == NULL) {
        return NULL;
    }

    n = 0;

    for (node = ngx_rbtree_min(root, sentinel);
         node;
         node = ngx_rbtree_next(&ngx_webrtc_peers, node))
    {
        peer = (ngx_webrtc_peer_t *)
                   ((u_char *) node - offsetof(ngx_webrtc_peer_t, node));

        if (!tcp || (peer->has_path && peer->path.tcp)) {
            peers[n++] = peer;
        }
    }

    *np = n;

    return peers;
}


/* the peers on an ICE-TCP connection, closed */

static void
ngx_webrtc_peer_close_tcp(void)
{
    ngx_uint_t           i, n;
    ngx_webrtc_peer_t  **peers;

    peers = ngx_webrtc_peers_list(1, &n);

    for (i = 0; i < n; i++) {
        ngx_webrtc_peer_close(peers[i], NGX_WEBRTC_CLOSED_WORKER_EXITED,
                              "worker exiting, ICE-TCP");
    }

    if (peers) {
        ngx_free(peers);
    }
}


/*
 * Each peer with SRTP keys is handed over (with a successor), the others
 * closed
 */

static void
ngx_webrtc_handoff_all(ngx_uint_t successor)
{
    ngx_uint_t             i, n, handed;
    ngx_webrtc_peer_t     *peer, **peers;
    ngx_webrtc_handoff_t   st;

    peers = ngx_webrtc_peers_list(0, &n);

    if (peers == NULL) {
        return;
    }

    handed = 0;

    for (i = 0; i < n; i++) {
        peer = peers[i];
        peer->log.action = "handing over session";

        if (!successor || !peer->srtp_ready) {
            /* in its handshake: the client connects again */
            ngx_webrtc_peer_close(peer, NGX_WEBRTC_CLOSED_WORKER_EXITED,
                                  "worker exiting");
            continue;
        }

        ngx_webrtc_handoff_state(peer, &st);

        if (ngx_webrtc_registry_handoff(peer->id, &st) != NGX_OK) {
            ngx_explicit_memzero(&st, sizeof(st));
            ngx_webrtc_peer_close(peer, NGX_WEBRTC_CLOSED_WORKER_EXITED,
                                  "worker exiting");
            continue;
        }

        ngx_explicit_memzero(&st, sizeof(st));

        ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                      "webrtc %s session %*s handed over, "
                      "%ui packets in, %ui out",
                      peer->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                             : "viewer",
                      (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                      peer->packets_in, peer->packets_out);

        peer->handed_off = 1;
        ngx_webrtc_peer_free(peer);
        handed++;
    }

    ngx_free(peers);

    if (successor) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "webrtc: %ui of %ui sessions handed over to the new "
                      "workers", handed, n);
    }
}


/*
 * What a worker that takes the session over after a crash of this one goes
 * on from: written when a viewer's track sent NGX_WEBRTC_RESUME_WINDOW
 * packets or NGX_WEBRTC_STATE_RTCP sender reports since the last write,
 * and once a second (ngx_webrtc_peer_state_due()); the adopter adds
 * NGX_WEBRTC_RESUME_MARGIN indices, and burns NGX_WEBRTC_RESUME_RTCP_MARGIN
 * SRTCP indices, past it
 */

void
ngx_webrtc_peer_write_state(ngx_webrtc_peer_t *peer)
{
    ngx_uint_t            k;
    ngx_webrtc_handoff_t  st;

    if (!peer->srtp_ready || peer->closed) {
        return;
    }

    ngx_webrtc_handoff_state(peer, &st);

    (void) ngx_webrtc_registry_put_state(peer->id, &st);

    ngx_explicit_memzero(&st, sizeof(st));

    for (k = 0; k < 2; k++) {
        peer->out[k].written = peer->out[k].high;
        peer->out[k].rtcp_written = peer->out[k].rtcp;
    }

    peer->written_time = ngx_current_msec;
}


/* what the next worker goes on from, exact: nothing is sent after it */

static void
ngx_webrtc_handoff_state(ngx_webrtc_peer_t *peer, ngx_webrtc_handoff_t *st)
{
    uint32_t                    roc;
    ngx_uint_t                  i, k;
    ngx_webrtc_out_t           *out;
    ngx_webrtc_handoff_out_t   *ho;
    ngx_webrtc_resume_track_t  *tr;

    ngx_memzero(st, sizeof(ngx_webrtc_handoff_t));

    /* an ICE-TCP connection is not handed over: no path for the next */

    if (peer->has_path && peer->path.tcp == NULL) {
        st->remote = peer->path.sockaddr;
        st->remote_len = peer->path.socklen;
        st->local = peer->path.local;
        st->local_len = peer->path.local_socklen;
        st->listen = peer->path.listen;
        st->listen_len = peer->path.listen_socklen;
        st->wildcard = peer->path.wildcard;
    }

    /* a viewer's tracks: the last index of each SSRC we sent with */

    for (k = 0; k < 2; k++) {
        out = &peer->out[k];
        ho = &st->out[k];

        if (peer->role == NGX_WEBRTC_ROLE_PUBLISHER || !out->started) {
            continue;
        }

        ho->started = 1;
        ho->last_seq = out->last_seq;
        ho->last_ts = out->last_ts;
        ho->last_time = out->last_time;
        ho->packets = out->packets;
        ho->octets = out->octets;

        if (out->sent
            && srtp_get_stream_roc(peer->srtp_out, peer->tracks[k].ssrc, &roc)
               == srtp_err_status_ok)
        {
            ho->sent = 1;
            ho->track.ssrc = peer->tracks[k].ssrc;
            ho->track.roc = roc;
            ho->track.high = out->high;
            ho->track.rtcp_index = out->rtcp;

        } else if (out->resumed_set) {
            /* adopted and nothing sent yet: where the worker before was */
            ho->sent = 1;
            ho->track = out->resumed;
            ho->track.rtcp_index = out->rtcp;
        }
    }

    /*
     * a publisher's SSRCs: the rollover counter and highest sequence
     * number of each, and those an adopted peer has not seen yet
     */

    for (i = 0; i < peer->nin_ssrc; i++) {

        if (!(peer->in_rtp & (1 << i))) {
            continue;
        }

        tr = &st->in[st->nin++];
        tr->ssrc = peer->in_ssrc[i];
        tr->high = peer->in_high[i];

        if (srtp_get_stream_roc(peer->srtp_in, tr->ssrc, &tr->roc)
            != srtp_err_status_ok)
        {
            tr->roc = 0;
        }

        for (k = 0; k < peer->nresume; k++) {
            if (peer->resume[k].ssrc == tr->ssrc
                && peer->resume_tries[k] != 0xff)
            {
                /* not authenticated here yet: as the worker before had it */
                *tr = peer->resume[k];
            }
        }
    }

    st->ssrc[0] = peer->ssrc[0];
    st->ssrc[1] = peer->ssrc[1];

    if (peer->dtls_parked) {
        st->dtls_parked = 1;
        st->dtls_key_len = peer->dtls_key_len;
        st->dtls_close_len = peer->dtls_close_len;
        ngx_memcpy(st->dtls_key, peer->dtls_key, sizeof(st->dtls_key));
        ngx_memcpy(st->dtls_close, peer->dtls_close, sizeof(st->dtls_close));
    }
}


/*
 * Takes a session handed over: NGX_OK, *peerp the peer (on connection c
 * if it is the session's path); NGX_BUSY, NGX_DECLINED, NGX_ABORT: not
 * taken (another worker has it, it is not handed over, it is gone);
 * NGX_ERROR: it could not go on, and is closed.
 */

ngx_int_t
ngx_webrtc_peer_adopt(u_char *id, ngx_connection_t *c,
    ngx_webrtc_peer_t **peerp)
{
    ngx_int_t                rc;
    ngx_uint_t               final;
    ngx_webrtc_path_t        path;
    ngx_webrtc_peer_t       *peer;
    ngx_webrtc_keys_t        keys;
    ngx_webrtc_claim_t       claim;
    ngx_webrtc_handoff_t     st;
    ngx_webrtc_core_conf_t  *ccf;

    if (ngx_webrtc_handing_off) {
        /* this worker exits: the new ones adopt */
        return NGX_DECLINED;
    }

    rc = ngx_webrtc_registry_adopt(id, &claim, &keys, &st, &final);

    if (rc != NGX_OK) {
        return rc;
    }

    peer = ngx_webrtc_peer_create(id, &claim, c);

    if (peer == NULL) {
        goto failed;
    }

    peer->adopted = 1;
    peer->dtls_done = 1;
    peer->log.action = "adopting session";

    if (ngx_webrtc_adopt_srtp(peer, &keys, &st, final) != NGX_OK) {
        ngx_webrtc_srtp_free(peer);
        ngx_destroy_pool(peer->pool);
        goto failed;
    }

    if (st.dtls_parked) {
        peer->dtls_parked = 1;
        peer->dtls_key_len = st.dtls_key_len;
        peer->dtls_close_len = st.dtls_close_len;
        ngx_memcpy(peer->dtls_key, st.dtls_key, sizeof(peer->dtls_key));
        ngx_memcpy(peer->dtls_close, st.dtls_close, sizeof(peer->dtls_close));
    }

    /* the path: this connection, or this worker's socket of its listen */

    if (c && st.remote_len
        && ngx_cmp_sockaddr(c->sockaddr, c->socklen, &st.remote.sockaddr,
                            st.remote_len, 1)
           == NGX_OK)
    {
        ngx_webrtc_peer_set_path(peer, c);

    } else if (st.remote_len) {
        ngx_memzero(&path, sizeof(ngx_webrtc_path_t));
        path.sockaddr = st.remote;
        path.socklen = st.remote_len;
        path.local = st.local;
        path.local_socklen = st.local_len;
        path.listen = st.listen;
        path.listen_socklen = st.listen_len;
        path.wildcard = st.wildcard;

        if (ngx_webrtc_peer_set_remote_path(peer, &path) != NGX_OK) {
            /* its listen address is gone from the configuration */
            ngx_webrtc_srtp_free(peer);
            ngx_destroy_pool(peer->pool);
            goto failed;
        }
    }

    ngx_explicit_memzero(&st, sizeof(st));

    if (ngx_webrtc_relay_attach(peer) != NGX_OK) {
        ngx_webrtc_srtp_free(peer);
        ngx_destroy_pool(peer->pool);
        goto failed;
    }

    ngx_webrtc_peer_insert(peer);

    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);

    (void) ngx_webrtc_registry_touch(peer->id,
                                     ngx_time() + ccf->consent_timeout, 1);

    /*
     * where it goes on from, before its first packet: a crash of this
     * worker now must not make the next one start at the same indices
     */

    ngx_webrtc_peer_write_state(peer);

    ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                  "webrtc %s session %*s adopted%s",
                  peer->role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher"
                                                         : "viewer",
                  (size_t) NGX_WEBRTC_ID_LEN, peer->id,
                  final ? "" : " from a worker that exited");

    /*
     * what was in flight is lost: a key frame makes good; a publisher is
     * asked too, as its viewers' requests made before it was adopted
     * reached nobody
     */

    ngx_webrtc_relay_keyframe(peer);

    peer->log.action = NULL;
    *peerp = peer;

    return NGX_OK;

failed:

    ngx_explicit_memzero(&keys, sizeof(keys));
    ngx_explicit_memzero(&st, sizeof(st));

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "webrtc session %*s could not be adopted, closed",
                  (size_t) NGX_WEBRTC_ID_LEN, id);

    (void) ngx_webrtc_registry_close(id, NGX_WEBRTC_CLOSED_MEDIA);

    return NGX_ERROR;
}


/*
 * libsrtp2 from the keys: towards a viewer each SSRC goes on right after
 * the last index the worker before used (its SRTCP after burning the
 * indices it used), and the viewer's rewrite goes on from there; from a
 * publisher each SSRC it sent with is added at its first packet with the
 * rollover counter it had.  Our RTCP to a publisher has a new SSRC.
 */

static ngx_int_t
ngx_webrtc_adopt_srtp(ngx_webrtc_peer_t *peer, ngx_webrtc_keys_t *keys,
    ngx_webrtc_handoff_t *st, ngx_uint_t final)
{
    ngx_uint_t                  i, k, n;
    ngx_webrtc_out_t           *out;
    ngx_webrtc_resume_next_t    next[2];
    ngx_webrtc_resume_track_t   tracks[2];
    ngx_uint_t                  map[2];

    n = 0;

    for (k = 0; k < 2; k++) {
        if (st->out[k].sent) {
            map[n] = k;
            tracks[n++] = st->out[k].track;
        }
    }

    if (ngx_webrtc_resume_sender(&peer->srtp_out, keys->gcm, keys->out,
                                 tracks, n, ngx_webrtc_resume_margin(final),
                                 next)
        != NGX_WEBRTC_RESUME_OK
        || ngx_webrtc_resume_receiver(&peer->srtp_in, keys->gcm, keys->in)
           != NGX_WEBRTC_RESUME_OK)
    {
        return NGX_ERROR;
    }

    peer->srtp_ready = 1;

    /* a viewer's rewrite: a new mapping made at the next packet goes on */

    for (k = 0; k < 2; k++) {
        out = &peer->out[k];

        if (!st->out[k].started) {
            continue;
        }

        out->started = 1;
        out->last_seq = st->out[k].last_seq;
        out->last_ts = st->out[k].last_ts;
        out->last_time = st->out[k].last_time;
        out->packets = st->out[k].packets;
        out->octets = st->out[k].octets;

        /* no source yet: the first packet makes the mapping */
        out->src_ssrc = 0;
        out->epoch = (ngx_uint_t) -1;
    }

    for (i = 0; i < n; i++) {
        out = &peer->out[map[i]];
        out->last_seq = (uint16_t) (next[i].index - 1);
        out->burn = next[i].burn;
        out->rtcp = next[i].burn;
        out->fenced = 1;

        /* what a hand-over before the first packet passes on */
        out->resumed = tracks[i];
        out->resumed.roc = (uint32_t) ((next[i].index - 1) >> 16);
        out->resumed.high = (uint16_t) (next[i].index - 1);
        out->resumed_set = 1;
    }

    /* a publisher's SSRCs */

    peer->ssrc[0] = st->ssrc[0];
    peer->ssrc[1] = st->ssrc[1];

    if (st->nin == 0) {
        return NGX_OK;
    }

    peer->resume = ngx_palloc(peer->pool, st->nin
                                          * sizeof(ngx_webrtc_resume_track_t));
    peer->keys = ngx_palloc(peer->pool, sizeof(ngx_webrtc_keys_t));

    if (peer->resume == NULL || peer->keys == NULL) {
        return NGX_ERROR;
    }

    *peer->keys = *keys;

    for (i = 0; i < st->nin && i < NGX_WEBRTC_MAX_SSRC; i++) {
        peer->resume[i] = st->in[i];
        peer->resume_tries[i] = 0;

        peer->in_ssrc[i] = st->in[i].ssrc;
        peer->in_high[i] = st->in[i].high;
        peer->in_rtp |= 1 << i;
    }

    peer->nresume = i;
    peer->nin_ssrc = i;

    return NGX_OK;
}


/*
 * An adopted publisher's RTP: the first packet of an SSRC the worker
 * before received adds its stream at the rollover counter estimated from
 * what it had; its first few packets may try the counters either side
 */

srtp_err_status_t
ngx_webrtc_peer_unprotect_resumed(ngx_webrtc_peer_t *peer, u_char *p,
    int *n, uint32_t ssrc)
{
    uint32_t                    roc;
    ngx_uint_t                  i, pending;
    srtp_err_status_t           err;
    ngx_webrtc_resume_track_t  *tr;

    for (i = 0; i < peer->nresume; i++) {
        if (peer->resume[i].ssrc == ssrc) {
            break;
        }
    }

    if (i == peer->nresume || peer->resume_tries[i] == 0xff) {
        return srtp_unprotect(peer->srtp_in, p, n);
    }

    tr = &peer->resume[i];

    if (peer->resume_tries[i] == 0) {
        if (ngx_webrtc_resume_in_stream(peer->srtp_in, peer->keys->gcm,
                                        peer->keys->in, tr,
                                        ngx_webrtc_get16(p + 2), &tr->roc)
            != NGX_WEBRTC_RESUME_OK)
        {
            peer->resume_tries[i] = 0xff;
            return srtp_err_status_fail;
        }
    }

    roc = tr->roc;

    err = ngx_webrtc_resume_unprotect(peer->srtp_in, p, n, &roc);

    tr->roc = roc;

    if (err == srtp_err_status_ok
        || ++peer->resume_tries[i] >= NGX_WEBRTC_RESUME_RETRIES)
    {
        peer->resume_tries[i] = 0xff;

        if (err != srtp_err_status_ok) {
            ngx_log_error(NGX_LOG_INFO, &peer->log, 0,
                          "webrtc session %*s: SSRC %uD does not "
                          "authenticate after adoption",
                          (size_t) NGX_WEBRTC_ID_LEN, peer->id, ssrc);
        }
    }

    /* all resumed: the keys are not needed any more */

    pending = 0;

    for (i = 0; i < peer->nresume; i++) {
        if (peer->resume_tries[i] != 0xff) {
            pending = 1;
        }
    }

    if (!pending) {
        ngx_explicit_memzero(peer->keys, sizeof(ngx_webrtc_keys_t));
        peer->nresume = 0;
    }

    return err;
}


/* the sessions of this worker's slot handed over, taken without waiting */

void
ngx_webrtc_peer_adopt_pending(void)
{
    ngx_uint_t          i, n, nworkers;
    ngx_core_conf_t    *ccf;
    ngx_webrtc_peer_t  *peer;
    u_char              ids[NGX_WEBRTC_ADOPT_BATCH][NGX_WEBRTC_ID_LEN];

    if (ngx_exiting) {
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);

    nworkers = (ccf->worker_processes > 0) ? ccf->worker_processes : 1;

    n = ngx_webrtc_registry_pending(ngx_worker, nworkers, 1, ids,
                                    NGX_WEBRTC_ADOPT_BATCH);

    for (i = 0; i < n; i++) {
        if (ngx_webrtc_peer_by_id(ids[i]) == NULL) {
            (void) ngx_webrtc_peer_adopt(ids[i], NULL, &peer);
        }
    }
}
