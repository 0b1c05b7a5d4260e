
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_webrtc_media.h"


/*
 * Fan-out.  reuseport spreads peers over workers by their addresses, so a
 * stream's publisher and its viewers are served by different workers.
 * The publisher's worker decrypts each packet once, sends it to its own
 * viewers, and passes it once to every other worker that has viewers of
 * the stream (a bit each in the stream's "workers" mask in the zone),
 * over a unix datagram socket pair per worker created by the master.
 * Each worker then rewrites and encrypts the packet for its viewers: all
 * cores encrypt for one popular stream, and a packet is copied per worker,
 * never per viewer, before encryption.
 */


#define NGX_WEBRTC_RELAY_RTP        1
#define NGX_WEBRTC_RELAY_SR         2
#define NGX_WEBRTC_RELAY_KEYFRAME   3
#define NGX_WEBRTC_RELAY_CLOSE      4
#define NGX_WEBRTC_RELAY_NACK       5
#define NGX_WEBRTC_RELAY_PATH       6
#define NGX_WEBRTC_RELAY_FORWARD    7

#define NGX_WEBRTC_RELAY_BATCH        256
#define NGX_WEBRTC_RELAY_BURN         8192    /* SRTCP indices a report */

#define NGX_WEBRTC_BATCH            64
#define NGX_WEBRTC_BATCH_BUF        (NGX_WEBRTC_MTU + NGX_WEBRTC_SRTP_OVERHEAD)


typedef struct {
    uint8_t                     type;
    uint8_t                     kind;
    uint16_t                    len;
    uint32_t                    gen;            /* of the stream */
    ngx_webrtc_stream_t        *stream;
    uint64_t                    arrival;        /* ngx_webrtc_arrival */
    u_char                      id[NGX_WEBRTC_ID_LEN];
} ngx_webrtc_relay_msg_t;


typedef struct {
    ngx_uint_t                  n;
    ngx_socket_t               *fds;            /* [n][2] */
} ngx_webrtc_relay_t;


static ngx_webrtc_local_stream_t *ngx_webrtc_local_find(
    ngx_webrtc_stream_t *stream);
static ngx_webrtc_local_stream_t *ngx_webrtc_local_lookup(
    ngx_webrtc_stream_t *stream, uint32_t gen);
static void ngx_webrtc_relay_local(ngx_webrtc_local_stream_t *ls,
    u_char *id, ngx_uint_t kind, u_char *p, size_t len,
    ngx_webrtc_rtp_t *rtp);
static void ngx_webrtc_relay_viewer(ngx_webrtc_peer_t *v, ngx_uint_t kind,
    u_char *p, size_t len, ngx_webrtc_rtp_t *rtp, ngx_uint_t resend);
static ngx_int_t ngx_webrtc_relay_index(ngx_webrtc_out_t *out, uint16_t seq,
    ngx_uint_t resend);
static void ngx_webrtc_relay_nack(ngx_webrtc_peer_t *v,
    const u_char *fci, size_t len);
static void ngx_webrtc_relay_local_sr(ngx_webrtc_local_stream_t *ls,
    ngx_uint_t kind, const u_char *sr);
static void ngx_webrtc_relay_send(ngx_uint_t slot, ngx_uint_t type,
    ngx_uint_t kind, ngx_webrtc_stream_t *stream, uint32_t gen, u_char *id,
    u_char *p, size_t len, u_char *tail, size_t tail_len);
static void ngx_webrtc_relay_fanout(ngx_webrtc_peer_t *pub, ngx_uint_t type,
    ngx_uint_t kind, u_char *p, size_t len);
static void ngx_webrtc_relay_keyframe_due(ngx_webrtc_local_stream_t *ls);
static void ngx_webrtc_relay_keyframe_handler(ngx_event_t *ev);
static void ngx_webrtc_relay_keyframe_send(ngx_webrtc_local_stream_t *ls);
static void ngx_webrtc_relay_publisher_nack(ngx_webrtc_local_stream_t *ls,
    u_char *fci, size_t len);
static void ngx_webrtc_relay_upstream(ngx_webrtc_local_stream_t *ls,
    ngx_uint_t type, u_char *p, size_t len);
static void ngx_webrtc_relay_read_handler(ngx_event_t *ev);
static void ngx_webrtc_relay_remb_handler(ngx_event_t *ev);
static void ngx_webrtc_relay_received(ngx_webrtc_in_t *in, uint16_t seq);
static void ngx_webrtc_relay_h264(ngx_webrtc_peer_t *pub, u_char *p,
    size_t len);
static ngx_int_t ngx_webrtc_relay_layer(ngx_webrtc_peer_t *pub, u_char *p,
    ngx_webrtc_rtp_t *rtp);
static void ngx_webrtc_relay_count_stream(ngx_webrtc_peer_t *pub,
    ngx_webrtc_local_stream_t *ls, ngx_uint_t last);
static size_t ngx_webrtc_relay_rr(ngx_webrtc_peer_t *pub, u_char *buf);
static void ngx_webrtc_relay_cleanup(void *data);
static void ngx_webrtc_local_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


/*
 * The packets of one fan-out, sent with one sendmmsg() per socket.  With a
 * wildcard listen, each carries the local address its peer sent to.
 */

typedef struct {
    ngx_uint_t                  n;
    ngx_socket_t                fds[NGX_WEBRTC_BATCH];
    struct mmsghdr              msgs[NGX_WEBRTC_BATCH];
    struct iovec                iovs[NGX_WEBRTC_BATCH];
    u_char                      cmsgs[NGX_WEBRTC_BATCH]
                                     [CMSG_SPACE(sizeof(struct in6_pktinfo))];
    u_char                      bufs[NGX_WEBRTC_BATCH]
                                    [NGX_WEBRTC_BATCH_BUF];
} ngx_webrtc_batch_t;


static void ngx_webrtc_batch_add(ngx_webrtc_path_t *path, size_t len);
static void ngx_webrtc_batch_flush(void);


/*
 * the arrival of the publisher packet being handled, from the kernel's
 * receive timestamp, in microseconds since the epoch; 0 if not known
 */

uint64_t                           ngx_webrtc_arrival;

static ngx_webrtc_worker_stats_t  *ngx_webrtc_stats;
static ngx_webrtc_relay_t         *ngx_webrtc_relay;
static ngx_msec_t                  ngx_webrtc_relay_stray;
static ngx_webrtc_batch_t          ngx_webrtc_batch;
static ngx_rbtree_t                ngx_webrtc_local_streams;
static ngx_rbtree_node_t           ngx_webrtc_local_sentinel;

/* NGX_WEBRTC_CLOSE_*, as the closing worker logs them */
static const char *ngx_webrtc_close_reasons[] = {
    "deleted",
    "ICE consent expired",
    "timed out",
    "signaling closed"
};



/* in the master: a datagram socket pair per worker */

ngx_int_t
ngx_webrtc_relay_init(ngx_cycle_t *cycle)
{
    int                  sndbuf;
    ngx_uint_t           i;
    ngx_core_conf_t     *ccf;
    ngx_pool_cleanup_t  *cln;
    ngx_webrtc_relay_t  *relay;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    relay = ngx_pcalloc(cycle->pool, sizeof(ngx_webrtc_relay_t));
    if (relay == NULL) {
        return NGX_ERROR;
    }

    if ((ngx_uint_t) ccf->worker_processes > NGX_WEBRTC_MAX_WORKERS) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "webrtc media supports at most %d worker processes",
                      NGX_WEBRTC_MAX_WORKERS);
        return NGX_ERROR;
    }

    relay->n = ccf->worker_processes;

    relay->fds = ngx_palloc(cycle->pool, 2 * relay->n * sizeof(ngx_socket_t));
    if (relay->fds == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 2 * relay->n; i++) {
        relay->fds[i] = (ngx_socket_t) -1;
    }

    cln->handler = ngx_webrtc_relay_cleanup;
    cln->data = relay;

    sndbuf = 4 * 1024 * 1024;

    for (i = 0; i < relay->n; i++) {
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, &relay->fds[2 * i]) == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_socket_errno,
                          "socketpair() failed");
            return NGX_ERROR;
        }

        if (ngx_nonblocking(relay->fds[2 * i]) == -1
            || ngx_nonblocking(relay->fds[2 * i + 1]) == -1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_socket_errno,
                          ngx_nonblocking_n " failed");
            return NGX_ERROR;
        }

        (void) setsockopt(relay->fds[2 * i], SOL_SOCKET, SO_SNDBUF,
                          &sndbuf, sizeof(int));
        (void) setsockopt(relay->fds[2 * i + 1], SOL_SOCKET, SO_RCVBUF,
                          &sndbuf, sizeof(int));
    }

    ngx_webrtc_relay = relay;

    return NGX_OK;
}


static void
ngx_webrtc_relay_cleanup(void *data)
{
    ngx_webrtc_relay_t  *relay = data;

    ngx_uint_t  i;

    for (i = 0; i < 2 * relay->n; i++) {
        if (relay->fds[i] != (ngx_socket_t) -1) {
            (void) ngx_close_socket(relay->fds[i]);
            relay->fds[i] = (ngx_socket_t) -1;
        }
    }
}


/* in a worker: read our end, keep the others' write ends */

ngx_int_t
ngx_webrtc_relay_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t               i;
    ngx_event_t             *rev;
    ngx_connection_t        *c;
    ngx_webrtc_relay_t      *relay;

    ngx_rbtree_init(&ngx_webrtc_local_streams, &ngx_webrtc_local_sentinel,
                    ngx_webrtc_local_insert_value);

    ngx_webrtc_stats = ngx_webrtc_registry_worker_stats(ngx_worker);

    if (ngx_webrtc_stats) {

        /* the counters go on across reloads, the peers are this worker's */

        ngx_webrtc_stats->pid = ngx_pid;
        ngx_webrtc_stats->publishers = 0;
        ngx_webrtc_stats->viewers = 0;
    }

    relay = ngx_webrtc_relay;

    if (relay == NULL || ngx_worker >= relay->n) {
        return NGX_OK;
    }

    for (i = 0; i < relay->n; i++) {
        if (i != ngx_worker) {
            (void) ngx_close_socket(relay->fds[2 * i + 1]);
            relay->fds[2 * i + 1] = (ngx_socket_t) -1;
        }
    }

    c = ngx_get_connection(relay->fds[2 * ngx_worker + 1], cycle->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->log = cycle->log;

    /* closed at once on graceful shutdown, see the read handler */
    c->idle = 1;

    rev = c->read;
    rev->handler = ngx_webrtc_relay_read_handler;
    rev->log = cycle->log;
    rev->channel = 1;

    if (ngx_add_event(rev, NGX_READ_EVENT, 0) == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_webrtc_local_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_insert_value(temp, node, sentinel);
}


/*
 * A worker's streams are keyed by their zone address; the zone's chunk may
 * hold another stream once the first is gone, which its generation tells
 */

static ngx_webrtc_local_stream_t *
ngx_webrtc_local_lookup(ngx_webrtc_stream_t *stream, uint32_t gen)
{
    ngx_webrtc_local_stream_t  *ls;

    ls = ngx_webrtc_local_find(stream);

    return (ls && ls->gen == gen) ? ls : NULL;
}


static ngx_webrtc_local_stream_t *
ngx_webrtc_local_find(ngx_webrtc_stream_t *stream)
{
    ngx_rbtree_key_t    key;
    ngx_rbtree_node_t  *node, *sentinel;

    key = (ngx_rbtree_key_t) (uintptr_t) stream;

    node = ngx_webrtc_local_streams.root;
    sentinel = ngx_webrtc_local_streams.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        return (ngx_webrtc_local_stream_t *) node;
    }

    return NULL;
}


ngx_int_t
ngx_webrtc_relay_attach(ngx_webrtc_peer_t *peer)
{
    ngx_webrtc_local_stream_t  *ls;
    ngx_webrtc_worker_stats_t  *ws;

    ls = ngx_webrtc_local_find(peer->stream);

    if (ls && ls->gen != peer->stream_gen) {
        /* a gone stream's: its peers keep it until they close */
        ngx_rbtree_delete(&ngx_webrtc_local_streams, &ls->node);
        ls->orphan = 1;
        ls = NULL;
    }

    if (ls == NULL) {
        ls = ngx_calloc(sizeof(ngx_webrtc_local_stream_t), &peer->log);
        if (ls == NULL) {
            return NGX_ERROR;
        }

        ls->stream = peer->stream;
        ls->gen = peer->stream_gen;
        ls->node.key = (ngx_rbtree_key_t) (uintptr_t) peer->stream;

        ls->name_len = peer->stream_name_len;
        ngx_memcpy(ls->name, peer->stream_name, ls->name_len);
        ngx_queue_init(&ls->viewers);

        ls->pli_timer.handler = ngx_webrtc_relay_keyframe_handler;
        ls->pli_timer.data = ls;
        ls->pli_timer.log = ngx_cycle->log;
        ls->pli_timer.cancelable = 1;

        ngx_rbtree_insert(&ngx_webrtc_local_streams, &ls->node);
    }

    peer->local = ls;

    /*
     * a worker's slot, read by the others; counted atomically, as after a
     * reload the old worker may still count into it
     */

    ws = ngx_webrtc_stats;

    if (ws && ws->pid == (ngx_atomic_uint_t) ngx_pid) {
        (void) ngx_atomic_fetch_add(peer->role == NGX_WEBRTC_ROLE_PUBLISHER
                                    ? &ws->publishers : &ws->viewers, 1);
    }

    if (peer->role == NGX_WEBRTC_ROLE_PUBLISHER) {
        ls->publisher = peer;
        peer->counted_time = ngx_current_msec;

        peer->remb_timer.handler = ngx_webrtc_relay_remb_handler;
        peer->remb_timer.data = peer;
        peer->remb_timer.log = &peer->log;
        peer->remb_timer.cancelable = 1;

        return NGX_OK;
    }

    ngx_queue_insert_tail(&ls->viewers, &peer->queue);

    if (ls->nviewers++ == 0 && ngx_webrtc_relay) {
        (void) ngx_webrtc_registry_stream_worker(peer->stream,
                                                 peer->stream_gen, 1);
    }

    return NGX_OK;
}


void
ngx_webrtc_relay_detach(ngx_webrtc_peer_t *peer)
{
    ngx_webrtc_local_stream_t  *ls;
    ngx_webrtc_worker_stats_t  *ws;

    ls = peer->local;

    if (ls == NULL) {
        return;
    }

    peer->local = NULL;

    /* after a reload the slot is the new worker's */

    ws = ngx_webrtc_stats;

    if (ws && ws->pid == (ngx_atomic_uint_t) ngx_pid) {
        (void) ngx_atomic_fetch_add(peer->role == NGX_WEBRTC_ROLE_PUBLISHER
                                    ? &ws->publishers : &ws->viewers, -1);
    }

    if (peer->role == NGX_WEBRTC_ROLE_PUBLISHER) {
        if (ls->publisher == peer) {
            ls->publisher = NULL;
        }

        /* the last second's counts */
        ngx_webrtc_relay_count_stream(peer, ls, 1);

        if (peer->remb_timer.timer_set) {
            ngx_del_timer(&peer->remb_timer);
        }

    } else {
        ngx_queue_remove(&peer->queue);

        /*
         * a worker handing over leaves the bit: the new worker of its slot
         * may have set it for viewers it adopted
         */

        if (--ls->nviewers == 0 && ngx_webrtc_relay
            && !ngx_webrtc_handing_off)
        {
            (void) ngx_webrtc_registry_stream_worker(peer->stream,
                                                     peer->stream_gen, 0);
        }
    }

    if (ls->publisher == NULL && ls->nviewers == 0) {
        if (!ls->orphan) {
            ngx_rbtree_delete(&ngx_webrtc_local_streams, &ls->node);
        }

        if (ls->cache) {
            ngx_free(ls->cache);
        }

        if (ls->pli_timer.timer_set) {
            ngx_del_timer(&ls->pli_timer);
        }

        ngx_free(ls);
    }
}


/* a decrypted packet of a publisher */

void
ngx_webrtc_relay_rtp(ngx_webrtc_peer_t *pub, u_char *p, size_t len)
{
    ngx_uint_t        kind;
    ngx_webrtc_rtp_t  rtp;

    if (ngx_webrtc_rtp_parse(p, len, &rtp) != 0) {
        ngx_log_debug0(NGX_LOG_DEBUG_STREAM, &pub->log, 0,
                       "webrtc: malformed RTP dropped");
        return;
    }

    if (pub->tracks[1].kind && rtp.pt == pub->tracks[1].pt) {
        kind = 1;

    } else if (pub->tracks[0].kind && rtp.pt == pub->tracks[0].pt) {
        kind = 0;

    } else {
        /* a payload type that was not negotiated */
        return;
    }

    if (kind == 1 && pub->tracks[1].rid_len
        && ngx_webrtc_relay_layer(pub, p, &rtp) != NGX_OK)
    {
        return;
    }

    if (pub->ssrc[kind] != rtp.ssrc) {
        pub->ssrc[kind] = rtp.ssrc;
        ngx_memzero(&pub->in[kind], sizeof(ngx_webrtc_in_t));
        pub->lost_counted[kind] = 0;
    }

    ngx_webrtc_relay_received(&pub->in[kind], rtp.seq);
    pub->packets_in++;
    pub->bytes_in += len;

    if (ngx_webrtc_stats) {
        (void) ngx_atomic_fetch_add(&ngx_webrtc_stats->packets_in, 1);
        (void) ngx_atomic_fetch_add(&ngx_webrtc_stats->bytes_in, len);
    }

    if (kind == 1 && pub->tracks[1].codec == NGX_WEBRTC_CODEC_H264) {
        ngx_webrtc_relay_h264(pub, p + rtp.header_len, rtp.payload_len);
    }

    /*
     * padding-only packets (bandwidth probes) are forwarded too: they take
     * sequence numbers, and a gap would make viewers ask for them
     */

    /* the other workers first: their fan-out runs beside ours */

    ngx_webrtc_relay_fanout(pub, NGX_WEBRTC_RELAY_RTP, kind, p, len);

    if (pub->local) {
        ngx_webrtc_relay_local(pub->local, pub->id, kind, p, len, &rtp);
    }
}


/*
 * A simulcast publisher's layers (RFC 8853) share the payload type; the
 * one negotiated to be forwarded is told by its rtp-stream-id (RFC 8852,
 * 3.1), which browsers send on a stream's first packets only: its SSRC is
 * learnt from them and becomes the publisher's video SSRC that PLI, NACK,
 * REMB and receiver reports name.  A packet of another layer, or of an
 * SSRC not known yet without the extension, is dropped.
 */

static ngx_int_t
ngx_webrtc_relay_layer(ngx_webrtc_peer_t *pub, u_char *p,
    ngx_webrtc_rtp_t *rtp)
{
    ssize_t              len;
    const u_char        *rid;
    ngx_webrtc_track_t  *tr;

    tr = &pub->tracks[1];

    len = ngx_webrtc_rtp_ext(p, rtp, tr->ext[NGX_WEBRTC_EXT_RID], &rid);

    if (len < 0) {
        return (rtp->ssrc == pub->ssrc[1]) ? NGX_OK : NGX_DECLINED;
    }

    if ((size_t) len == tr->rid_len && ngx_memcmp(rid, tr->rid, len) == 0) {

        if (pub->ssrc[1] != rtp->ssrc) {
            ngx_log_debug3(NGX_LOG_DEBUG_STREAM, &pub->log, 0,
                           "webrtc: simulcast layer \"%*s\" is SSRC %uD",
                           (size_t) tr->rid_len, tr->rid, rtp->ssrc);
        }

        return NGX_OK;
    }

    if (rtp->ssrc == pub->ssrc[1]) {
        /* the SSRC now carries another layer */
        pub->ssrc[1] = 0;
    }

    return NGX_DECLINED;
}


/*
 * OBS labels its H.264 42e01f (Constrained Baseline) whatever its encoder
 * sends, High by default.  The SPS of its key frames tells the truth: the
 * stream in the zone gets it, so that viewers joining later are
 * negotiated against what they will have to decode, and the status
 * location shows it.
 */

static void
ngx_webrtc_relay_h264(ngx_webrtc_peer_t *pub, u_char *p, size_t len)
{
    uint32_t             plid;
    ngx_uint_t           label, profile;
    ngx_webrtc_track_t  *tr;

    plid = ngx_webrtc_h264_sps(p, len);

    if (plid == 0 || plid == pub->h264_sps) {
        return;
    }

    /*
     * the zone is locked once a second at most, however often the SPS
     * changes: a later key frame's SPS is taken then
     */

    if (pub->h264_sps && ngx_current_msec - pub->h264_time < 1000) {
        return;
    }

    pub->h264_sps = plid;
    pub->h264_time = ngx_current_msec;

    tr = &pub->tracks[1];
    label = tr->h264_profile;
    profile = ngx_webrtc_h264_profile(plid);

    if (profile != label && !pub->h264_logged) {
        pub->h264_logged = 1;

        ngx_log_error(NGX_LOG_INFO, &pub->log, 0,
                      "webrtc session %*s: publisher labels H.264 %06xD "
                      "(%s) but sends %06xD (%s)",
                      (size_t) NGX_WEBRTC_ID_LEN, pub->id,
                      tr->profile_level_id,
                      ngx_webrtc_h264_profile_name(label),
                      plid, ngx_webrtc_h264_profile_name(profile));
    }

    /*
     * a profile not known is no reason to refuse every viewer: they are
     * negotiated against the label then
     */

    if (profile == label || profile == NGX_WEBRTC_H264_UNKNOWN) {
        (void) ngx_webrtc_registry_stream_h264(pub->stream, pub->stream_gen,
                                               pub->id, plid,
                                               tr->profile_level_id, label);

    } else {
        (void) ngx_webrtc_registry_stream_h264(pub->stream, pub->stream_gen,
                                               pub->id, plid, plid, profile);
    }
}


static void
ngx_webrtc_relay_fanout(ngx_webrtc_peer_t *pub, ngx_uint_t type,
    ngx_uint_t kind, u_char *p, size_t len)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  mask;

    if (ngx_webrtc_relay == NULL) {
        return;
    }

    mask = ngx_webrtc_registry_stream_mask(pub->stream, pub->stream_gen)
           & ~((ngx_atomic_uint_t) 1 << ngx_worker);

    for (i = 0; mask && i < ngx_webrtc_relay->n; i++) {
        if (mask & ((ngx_atomic_uint_t) 1 << i)) {
            mask &= ~((ngx_atomic_uint_t) 1 << i);
            ngx_webrtc_relay_send(i, type, kind, pub->stream,
                                  pub->stream_gen, pub->id, p, len, NULL, 0);
        }
    }
}


static void
ngx_webrtc_relay_local(ngx_webrtc_local_stream_t *ls, u_char *id,
    ngx_uint_t kind, u_char *p, size_t len, ngx_webrtc_rtp_t *rtp)
{
    ngx_uint_t            i;
    ngx_queue_t          *q;
    ngx_webrtc_peer_t    *v;
    ngx_webrtc_cached_t  *slot;

    if (ls->nviewers == 0) {
        return;
    }

    /*
     * another publisher of the stream, even with the same SSRCs: the
     * viewers' tracks continue after what they sent (a new epoch), the
     * cache is not resent
     */

    if (ngx_memcmp(ls->publisher_id, id, NGX_WEBRTC_ID_LEN) != 0) {
        ngx_memcpy(ls->publisher_id, id, NGX_WEBRTC_ID_LEN);
        ls->epoch++;

        for (i = 0; ls->cache && i < NGX_WEBRTC_CACHE_SIZE; i++) {
            ls->cache[i].len = 0;
        }
    }

    if (kind == 1 && len <= NGX_WEBRTC_MTU) {

        /* the worker's viewers' retransmissions come from here */

        if (ls->cache == NULL) {
            ls->cache = ngx_calloc(NGX_WEBRTC_CACHE_SIZE
                                   * sizeof(ngx_webrtc_cached_t),
                                   ngx_cycle->log);
        }

        if (ls->cache) {
            slot = &ls->cache[rtp->seq & (NGX_WEBRTC_CACHE_SIZE - 1)];
            slot->ssrc = rtp->ssrc;
            slot->seq = rtp->seq;
            slot->len = (uint16_t) len;
            ngx_memcpy(slot->data, p, len);
        }
    }

    for (q = ngx_queue_head(&ls->viewers);
         q != ngx_queue_sentinel(&ls->viewers);
         q = ngx_queue_next(q))
    {
        v = ngx_queue_data(q, ngx_webrtc_peer_t, queue);
        ngx_webrtc_relay_viewer(v, kind, p, len, rtp, 0);
    }

    ngx_webrtc_batch_flush();
}


/*
 * One packet for one viewer: its payload type, SSRC and header extension
 * ids, and sequence numbers and timestamps that continue across a new
 * publisher of the stream.  A resend is a packet of the worker's cache
 * that a NACK of the viewer asked for.
 */

static void
ngx_webrtc_relay_viewer(ngx_webrtc_peer_t *v, ngx_uint_t kind, u_char *p,
    size_t len, ngx_webrtc_rtp_t *rtp, ngx_uint_t resend)
{
    int                  n;
    u_char              *buf;
    uint16_t             seq;
    uint32_t             ts;
    ngx_uint_t           e;
    ngx_msec_t           elapsed;
    ngx_webrtc_out_t    *out;
    ngx_webrtc_track_t  *tr, *src, tracks[2];

    tr = &v->tracks[kind];

    if (tr->kind == 0 || !v->srtp_ready || len > NGX_WEBRTC_MTU) {
        return;
    }

    out = &v->out[kind];

    if (!out->started || out->src_ssrc != rtp->ssrc
        || (v->local && out->epoch != v->local->epoch))
    {

        if (out->started) {
            elapsed = ngx_current_msec - out->last_time;
            out->seq_offset = (uint16_t) (out->last_seq + 1 - rtp->seq);
            out->ts_offset = out->last_ts
                             + (uint32_t) ((uint64_t) elapsed * tr->clock
                                           / 1000)
                             + 1 - rtp->ts;

        } else {
            out->seq_offset = 0;
            out->ts_offset = 0;
        }

        out->src_ssrc = rtp->ssrc;
        out->epoch = v->local ? v->local->epoch : 0;
        out->started = 1;

        /* the new mapping's first index: resends only from here */
        out->base = (uint16_t) (rtp->seq + out->seq_offset);
        out->rebased = 1;

        /* the publisher's extension ids to the viewer's */

        if (ngx_webrtc_registry_stream_tracks(v->stream, v->stream_gen,
                                              tracks)
            != NGX_OK)
        {
            /* the stream is gone: its viewers are closing */
            tracks[kind] = *tr;
        }

        src = &tracks[kind];
        ngx_memzero(out->ext_map, sizeof(out->ext_map));

        /*
         * a new publisher whose codec the viewer did not negotiate: its
         * packets would be mislabelled, none is sent
         */

        out->blocked = (src->codec != tr->codec);

        if (out->blocked) {
            ngx_log_error(NGX_LOG_INFO, &v->log, 0,
                          "webrtc viewer session %*s negotiated %s, the "
                          "stream now sends %s: not forwarded",
                          (size_t) NGX_WEBRTC_ID_LEN, v->id,
                          ngx_webrtc_codec_name(tr->codec),
                          ngx_webrtc_codec_name(src->codec));
        }

        for (e = 0; e < NGX_WEBRTC_EXT_N; e++) {
            if (src->ext[e] && src->ext[e] < 15) {
                out->ext_map[src->ext[e]] = tr->ext[e];
            }
        }
    }

    if (out->blocked) {
        return;
    }

    seq = (uint16_t) (rtp->seq + out->seq_offset);
    ts = rtp->ts + out->ts_offset;

    if ((int16_t) (seq - out->last_seq) > 0 || out->packets == 0) {
        out->last_seq = seq;
        out->last_ts = ts;
        out->last_time = ngx_current_msec;
    }

    if (!v->has_path || ngx_exiting) {
        return;
    }

    buf = ngx_webrtc_batch.bufs[ngx_webrtc_batch.n];

    ngx_memcpy(buf, p, len);

    if (ngx_webrtc_relay_index(out, seq, resend) != NGX_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_STREAM, &v->log, 0,
                       "webrtc: SRTP index of seq %uD used, %s dropped",
                       (uint32_t) seq, resend ? "resend" : "packet");
        return;
    }

    ngx_webrtc_rtp_rewrite(buf, rtp, tr->pt, seq, ts, tr->ssrc, out->ext_map);

    n = (int) len;

    if (srtp_protect(v->srtp_out, buf, &n) != srtp_err_status_ok) {
        return;
    }

    out->packets++;
    out->octets += (uint32_t) (len - rtp->header_len);
    v->packets_out++;

    ngx_webrtc_batch_add(&v->path, n);

    /* where a worker taking over after a crash goes on from */

    if (ngx_webrtc_out_state_due(out) || ngx_webrtc_peer_state_due(v)) {
        ngx_webrtc_peer_write_state(v);
    }
}


/*
 * RFC 3711, 9.1 and RFC 7714, 8.3: an SRTP index (with AES-GCM the nonce)
 * never protects two different packets of one SSRC.  libsrtp2 refuses a
 * used index only without allow_repeat_tx, which NACK resends need; the
 * same packet again is encrypted to the same bytes and tells nothing.
 * So the indices of a viewer's track, as libsrtp2 estimates them from the
 * sequence number (RFC 3711, 3.3.1), are recorded here as its replay
 * window: a used one is taken again only by a resend of the cache under
 * the mapping that sent it first (not before the base of a new source),
 * never by a packet of another source mapped onto it (a publisher's new
 * SSRC whose first packets came reordered, another publisher with the
 * same SSRC).  Older than the window: dropped, libsrtp2 drops those older
 * than its own.
 */

static ngx_int_t
ngx_webrtc_relay_index(ngx_webrtc_out_t *out, uint16_t seq, ngx_uint_t resend)
{
    int16_t     d;
    uint64_t    w;
    ngx_uint_t  i, k, q, r;

    if (!out->sent) {
        out->sent = 1;
        out->high = seq;
        ngx_memzero(out->window, sizeof(out->window));
        out->window[0] = 1;
        return NGX_OK;
    }

    d = (int16_t) (seq - out->high);

    if (d > 0) {
        /* a new highest index: the window moves by d */

        q = (ngx_uint_t) d / 64;
        r = (ngx_uint_t) d % 64;

        for (i = NGX_WEBRTC_OUT_WINDOW / 64; i-- > 0; /* void */) {
            w = 0;

            if (i >= q) {
                w = out->window[i - q] << r;

                if (r && i > q) {
                    w |= out->window[i - q - 1] >> (64 - r);
                }
            }

            out->window[i] = w;
        }

        out->window[0] |= 1;
        out->high = seq;

        if (out->rebased
            && (uint16_t) (seq - out->base) >= NGX_WEBRTC_OUT_WINDOW)
        {
            /* all the window is of the current mapping */
            out->rebased = 0;
        }

        return NGX_OK;
    }

    k = (ngx_uint_t) -d;

    if (k >= NGX_WEBRTC_OUT_WINDOW) {
        return NGX_DECLINED;
    }

    if (out->window[k / 64] & ((uint64_t) 1 << (k % 64))) {

        if (resend
            && (!out->rebased || (int16_t) (seq - out->base) >= 0))
        {
            return NGX_OK;
        }

        return NGX_DECLINED;
    }

    out->window[k / 64] |= (uint64_t) 1 << (k % 64);

    return NGX_OK;
}


static void
ngx_webrtc_batch_add(ngx_webrtc_path_t *path, size_t len)
{
    ngx_uint_t           i;
    ngx_webrtc_batch_t  *b;

    b = &ngx_webrtc_batch;
    i = b->n;

    b->fds[i] = path->fd;
    b->iovs[i].iov_base = b->bufs[i];
    b->iovs[i].iov_len = len;

    b->msgs[i].msg_hdr.msg_iov = &b->iovs[i];
    b->msgs[i].msg_hdr.msg_iovlen = 1;

    ngx_webrtc_path_msghdr(path, &b->msgs[i].msg_hdr, b->cmsgs[i]);

    if (++b->n == NGX_WEBRTC_BATCH) {
        ngx_webrtc_batch_flush();
    }
}


/*
 * the destination of a datagram on a path, and with a wildcard listen
 * the local address as the source (IP_PKTINFO, IPV6_PKTINFO); cmsg has
 * room for CMSG_SPACE(sizeof(struct in6_pktinfo))
 */

void
ngx_webrtc_path_msghdr(ngx_webrtc_path_t *path, struct msghdr *msg,
    u_char *buf)
{
    struct cmsghdr      *cmsg;
    struct in_pktinfo   *pkt;
    struct in6_pktinfo  *pkt6;

    msg->msg_name = &path->sockaddr;
    msg->msg_namelen = path->socklen;
    msg->msg_control = NULL;
    msg->msg_controllen = 0;
    msg->msg_flags = 0;

    if (!path->wildcard || path->local_socklen == 0) {
        return;
    }

    cmsg = (struct cmsghdr *) buf;

    if (path->local.sockaddr.sa_family == AF_INET) {
        msg->msg_control = buf;
        msg->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
        cmsg->cmsg_level = IPPROTO_IP;
        cmsg->cmsg_type = IP_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));

        pkt = (struct in_pktinfo *) CMSG_DATA(cmsg);
        ngx_memzero(pkt, sizeof(struct in_pktinfo));
        pkt->ipi_spec_dst = path->local.sockaddr_in.sin_addr;

#if (NGX_HAVE_INET6)
    } else if (path->local.sockaddr.sa_family == AF_INET6) {
        msg->msg_control = buf;
        msg->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
        cmsg->cmsg_level = IPPROTO_IPV6;
        cmsg->cmsg_type = IPV6_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));

        pkt6 = (struct in6_pktinfo *) CMSG_DATA(cmsg);
        ngx_memzero(pkt6, sizeof(struct in6_pktinfo));
        pkt6->ipi6_addr = path->local.sockaddr_in6.sin6_addr;
#endif
    }
}


/*
 * A session's media path moved to an address another worker receives:
 * that worker tells the one holding the session's DTLS and SRTP state,
 * then passes it what arrives there
 */

void
ngx_webrtc_relay_path(ngx_int_t slot, u_char *id, ngx_webrtc_path_t *path)
{
    if (ngx_webrtc_relay && slot >= 0
        && (ngx_uint_t) slot < ngx_webrtc_relay->n)
    {
        ngx_webrtc_relay_send(slot, NGX_WEBRTC_RELAY_PATH, 0, NULL, 0, id,
                              (u_char *) path, sizeof(ngx_webrtc_path_t),
                              NULL, 0);
    }
}


/*
 * A datagram of another worker's session, with the address it came from
 * (the kind is its length): one from a new address moves the session's
 * path only if it authenticates
 */

void
ngx_webrtc_relay_forward(ngx_int_t slot, u_char *id, u_char *p, size_t len,
    struct sockaddr *sockaddr, socklen_t socklen)
{
    if (socklen > sizeof(struct sockaddr_in6)) {
        socklen = 0;
    }

    if (ngx_webrtc_relay && slot >= 0
        && (ngx_uint_t) slot < ngx_webrtc_relay->n)
    {
        ngx_webrtc_relay_send(slot, NGX_WEBRTC_RELAY_FORWARD, socklen, NULL, 0,
                              id, p, len, (u_char *) sockaddr, socklen);
    }
}


/* one sendmmsg() per run of packets for the same socket */

static void
ngx_webrtc_batch_flush(void)
{
    int                         rc;
    size_t                      bytes;
    uint64_t                    delay;
    ngx_uint_t                  i, j, k, sent;
    struct timeval              tv;
    ngx_webrtc_batch_t         *b;
    ngx_webrtc_worker_stats_t  *ws;

    b = &ngx_webrtc_batch;
    sent = 0;
    bytes = 0;

    for (i = 0; i < b->n; i = j) {

        for (j = i + 1; j < b->n && b->fds[j] == b->fds[i]; j++) {
            /* void */
        }

        while (i < j) {
            rc = sendmmsg(b->fds[i], &b->msgs[i], j - i, MSG_DONTWAIT);

            if (rc <= 0) {
                /* a full socket buffer drops what is left, as a network */
                ngx_log_debug1(NGX_LOG_DEBUG_STREAM, ngx_cycle->log,
                               ngx_socket_errno,
                               "webrtc: sendmmsg() of %ui failed", j - i);
                break;
            }

            for (k = i; k < i + rc; k++) {
                bytes += b->iovs[k].iov_len;
            }

            sent += rc;
            i += rc;
        }
    }

    if (ngx_webrtc_stats && b->n) {
        ws = ngx_webrtc_stats;

        (void) ngx_atomic_fetch_add(&ws->packets_out, sent);
        (void) ngx_atomic_fetch_add(&ws->bytes_out, bytes);
        (void) ngx_atomic_fetch_add(&ws->dropped_out, b->n - sent);

        if (ngx_webrtc_arrival && sent) {
            ngx_gettimeofday(&tv);

            delay = (uint64_t) tv.tv_sec * 1000000 + tv.tv_usec;
            delay = (delay > ngx_webrtc_arrival) ? delay - ngx_webrtc_arrival
                                                 : 0;

            for (k = 0; k < NGX_WEBRTC_DELAY_BUCKETS; k++) {
                if (delay <= ngx_webrtc_delay_bounds[k]) {
                    break;
                }
            }

            (void) ngx_atomic_fetch_add(&ws->delay[k], sent);
        }
    }

    b->n = 0;
}


/*
 * Decrypted RTCP of a peer.  A publisher's sender reports go to viewers,
 * translated; a viewer's PLI and FIR ask the publisher for a key frame,
 * its NACKs go to the publisher with the publisher's sequence numbers.
 */

void
ngx_webrtc_relay_rtcp(ngx_webrtc_peer_t *peer, u_char *p, size_t len)
{
    uint32_t                 ssrc;
    ngx_uint_t               kind, keyframe, nack;
    ngx_webrtc_rtcp_t        pkt;
    ngx_webrtc_rtcp_iter_t   it;

    ngx_webrtc_rtcp_iter_init(&it, p, len);

    /*
     * a viewer's compound packet asks for one key frame and one NACK set
     * at most: 120 PLIs in one packet are one request
     */

    keyframe = 0;
    nack = 0;

    while (ngx_webrtc_rtcp_next(&it, &pkt)) {

        if (peer->role == NGX_WEBRTC_ROLE_PUBLISHER) {

            if (pkt.type != NGX_WEBRTC_RTCP_SR || pkt.len < 28) {
                continue;
            }

            /*
             * the sender reports of the SSRCs forwarded: not those of
             * other simulcast layers
             */

            ssrc = ngx_webrtc_get32(pkt.data + 4);

            if (ssrc == 0) {
                continue;
            }

            if (ssrc == peer->ssrc[1]) {
                kind = 1;

            } else if (ssrc == peer->ssrc[0]) {
                kind = 0;

            } else {
                continue;
            }

            /* RFC 3550, 6.4.1: LSR, the middle 32 bits of its NTP time */
            peer->in[kind].lsr = ngx_webrtc_get32(pkt.data + 10);
            peer->in[kind].lsr_time = ngx_current_msec;

            if (peer->local) {
                ngx_webrtc_relay_local_sr(peer->local, kind, pkt.data);
            }

            ngx_webrtc_relay_fanout(peer, NGX_WEBRTC_RELAY_SR, kind,
                                    (u_char *) pkt.data, 28);
            continue;
        }

        if (pkt.type == NGX_WEBRTC_RTCP_PSFB
            && (pkt.fmt == NGX_WEBRTC_RTCP_FMT_PLI
                || pkt.fmt == NGX_WEBRTC_RTCP_FMT_FIR))
        {
            if (!keyframe++) {
                ngx_webrtc_relay_keyframe(peer);
            }

            continue;
        }

        if (pkt.type == NGX_WEBRTC_RTCP_RTPFB
            && pkt.fmt == NGX_WEBRTC_RTCP_FMT_NACK
            && pkt.len > 12 && peer->out[1].started
            && !nack++)
        {
            ngx_webrtc_relay_nack(peer, pkt.data + 12, pkt.len - 12);
        }
    }
}


/*
 * RFC 4585, 6.2.1: a viewer's lost packets are resent from the worker's
 * cache; those missing there are asked of the publisher, renumbered
 */

static void
ngx_webrtc_relay_nack(ngx_webrtc_peer_t *v, const u_char *fci, size_t len)
{
    size_t                      i, n;
    uint16_t                    seq, blp;
    ngx_uint_t                  bit;
    ngx_webrtc_out_t           *out;
    ngx_webrtc_rtp_t            rtp;
    ngx_webrtc_cached_t        *slot;
    ngx_webrtc_local_stream_t  *ls;
    u_char                      up[256];
    u_char                      seen[NGX_WEBRTC_CACHE_SIZE / 8];
    ngx_uint_t                  k;

    out = &v->out[1];
    ls = v->local;
    n = 0;

    /*
     * each sequence number once per NACK, and a budget per viewer and
     * second: a NACK naming every packet of the cache thousands of times
     * must not turn into thousands of retransmissions
     */

    ngx_memzero(seen, sizeof(seen));

    if (ngx_current_msec - v->resend_start >= 1000) {
        v->resend_start = ngx_current_msec;
        v->resent = 0;
    }

    for (i = 0; i + 4 <= len; i += 4) {

        seq = ngx_webrtc_get16(fci + i) - out->seq_offset;
        blp = ngx_webrtc_get16(fci + i + 2);

        for (bit = 0; bit <= 16; bit++) {

            if (bit && !(blp & (1 << (bit - 1)))) {
                continue;
            }

            k = (uint16_t) (seq + bit) & (NGX_WEBRTC_CACHE_SIZE - 1);

            if (seen[k / 8] & (1 << (k % 8))) {
                continue;
            }

            seen[k / 8] |= (u_char) (1 << (k % 8));

            if (v->resent >= NGX_WEBRTC_RESEND_MAX) {
                goto done;
            }

            v->resent++;

            slot = ls && ls->cache
                   ? &ls->cache[(uint16_t) (seq + bit)
                                & (NGX_WEBRTC_CACHE_SIZE - 1)]
                   : NULL;

            if (slot && slot->len && slot->seq == (uint16_t) (seq + bit)
                && slot->ssrc == out->src_ssrc
                && ngx_webrtc_rtp_parse(slot->data, slot->len, &rtp) == 0)
            {
                ngx_webrtc_relay_viewer(v, 1, slot->data, slot->len, &rtp,
                                        1);
                ls->nacks++;
                continue;
            }

            if (n + 4 <= sizeof(up)) {
                ngx_webrtc_put16(up + n, (uint16_t) (seq + bit));
                ngx_webrtc_put16(up + n + 2, 0);
                n += 4;
            }
        }
    }

done:

    ngx_webrtc_batch_flush();

    /* misses go upstream at most every 20 ms per stream in this worker */

    if (n && ls && ngx_current_msec - ls->last_nack >= 20) {
        ls->last_nack = ngx_current_msec;

        if (ls->publisher) {
            ngx_webrtc_relay_publisher_nack(ls, up, n);

        } else {
            ngx_webrtc_relay_upstream(ls, NGX_WEBRTC_RELAY_NACK, up, n);
        }
    }
}


static void
ngx_webrtc_relay_local_sr(ngx_webrtc_local_stream_t *ls, ngx_uint_t kind,
    const u_char *sr)
{
    int                 n;
    uint64_t            ntp;
    ngx_queue_t        *q;
    ngx_webrtc_out_t   *out;
    ngx_webrtc_peer_t  *v;
    u_char              buf[28 + NGX_WEBRTC_SRTP_OVERHEAD];

    ntp = (uint64_t) ngx_webrtc_get32(sr + 8) << 32
          | ngx_webrtc_get32(sr + 12);

    for (q = ngx_queue_head(&ls->viewers);
         q != ngx_queue_sentinel(&ls->viewers);
         q = ngx_queue_next(q))
    {
        v = ngx_queue_data(q, ngx_webrtc_peer_t, queue);
        out = &v->out[kind];

        if (!v->srtp_ready || !out->started
            || out->src_ssrc != ngx_webrtc_get32(sr + 4))
        {
            continue;
        }

        if (out->burn) {

            /*
             * adopted: the SRTCP indices the worker before used are
             * burnt first, libsrtp2 cannot set the next one; bounded a
             * report, the rest at the next
             */

            if (ngx_webrtc_resume_burn(v->srtp_out, v->tracks[kind].ssrc,
                                       &out->burn, NGX_WEBRTC_RELAY_BURN)
                != NGX_WEBRTC_RESUME_OK)
            {
                continue;
            }
        }

        n = (int) ngx_webrtc_rtcp_sr(buf, v->tracks[kind].ssrc, ntp,
                                     ngx_webrtc_get32(sr + 16)
                                     + out->ts_offset,
                                     out->packets, out->octets);

        if (srtp_protect_rtcp(v->srtp_out, buf, &n) == srtp_err_status_ok) {
            out->rtcp++;
            (void) ngx_webrtc_peer_send(v, buf, n);

            if (ngx_webrtc_out_state_due(out)) {
                ngx_webrtc_peer_write_state(v);
            }
        }
    }
}


/* a key frame for a stream, from whichever worker serves its publisher */

void
ngx_webrtc_relay_keyframe(ngx_webrtc_peer_t *peer)
{
    ngx_webrtc_local_stream_t  *ls;

    ls = ngx_webrtc_local_lookup(peer->stream, peer->stream_gen);

    if (ls) {
        ngx_webrtc_relay_keyframe_due(ls);
    }
}


/*
 * RFC 4585, 3.4: key frame requests are throttled per stream, where they
 * are sent (each one to another worker takes the zone's lock and a
 * sendmsg()) and where the publisher is.  A request within the interval
 * is held back to its end, not dropped: a viewer that joins just after a
 * request was answered still gets a key frame of its own, whether it
 * asks again (Chromium) or not (GStreamer's webrtcbin by default).
 */

static void
ngx_webrtc_relay_keyframe_due(ngx_webrtc_local_stream_t *ls)
{
    ngx_msec_t  elapsed;

    if (ls->pli_timer.timer_set) {
        /* one is due at the end of the interval */
        return;
    }

    elapsed = ngx_current_msec - ls->last_pli;

    if (ls->last_pli != 0 && elapsed < NGX_WEBRTC_PLI_INTERVAL) {
        ngx_add_timer(&ls->pli_timer, NGX_WEBRTC_PLI_INTERVAL - elapsed);
        return;
    }

    ngx_webrtc_relay_keyframe_send(ls);
}


static void
ngx_webrtc_relay_keyframe_handler(ngx_event_t *ev)
{
    ngx_webrtc_relay_keyframe_send(ev->data);
}


static void
ngx_webrtc_relay_keyframe_send(ngx_webrtc_local_stream_t *ls)
{
    size_t              n;
    ngx_webrtc_peer_t  *pub;
    u_char              buf[12 + NGX_WEBRTC_SRTP_OVERHEAD];

    ls->last_pli = ngx_current_msec;

    pub = ls->publisher;

    if (pub == NULL) {
        ngx_webrtc_relay_upstream(ls, NGX_WEBRTC_RELAY_KEYFRAME, NULL, 0);
        return;
    }

    if (!pub->srtp_ready || pub->tracks[1].kind == 0) {
        return;
    }

    if (ngx_webrtc_stats) {
        (void) ngx_atomic_fetch_add(&ngx_webrtc_stats->keyframe_requests, 1);
    }

    n = ngx_webrtc_rtcp_pli(buf, pub->local_ssrc,
                            pub->ssrc[1] ? pub->ssrc[1] : pub->tracks[1].ssrc);

    (void) ngx_webrtc_peer_send_rtcp(pub, buf, n);
}


/* to the worker serving the stream's publisher */

static void
ngx_webrtc_relay_upstream(ngx_webrtc_local_stream_t *ls, ngx_uint_t type,
    u_char *p, size_t len)
{
    ngx_int_t                   slot;
    ngx_pid_t                   pid;
    ngx_webrtc_owner_t          owner;

    if (ngx_webrtc_relay == NULL) {
        return;
    }

    if (ngx_webrtc_registry_stream_publisher(ls->stream, ls->gen, &owner)
        != NGX_OK)
    {
        return;
    }

    slot = owner.slot;
    pid = owner.pid;

    if (pid == 0 || pid == ngx_pid || slot < 0
        || (ngx_uint_t) slot >= ngx_webrtc_relay->n)
    {
        return;
    }

    if (type == NGX_WEBRTC_RELAY_KEYFRAME && ngx_webrtc_stats) {
        (void) ngx_atomic_fetch_add(&ngx_webrtc_stats->keyframe_requests, 1);
    }

    ngx_webrtc_relay_send(slot, type, 0, ls->stream, ls->gen, NULL, p, len,
                          NULL, 0);
}


static void
ngx_webrtc_relay_publisher_nack(ngx_webrtc_local_stream_t *ls, u_char *fci,
    size_t len)
{
    size_t              n;
    ngx_webrtc_peer_t  *pub;
    u_char              buf[12 + 256 + NGX_WEBRTC_SRTP_OVERHEAD];

    pub = ls->publisher;

    if (!pub->srtp_ready || pub->ssrc[1] == 0 || len == 0 || len > 256) {
        return;
    }

    n = ngx_webrtc_rtcp_nack(buf, pub->local_ssrc, pub->ssrc[1], fci, len);

    (void) ngx_webrtc_peer_send_rtcp(pub, buf, n);
}


/* RFC 3550, A.1: sequence numbers received, with wrap-arounds */

static void
ngx_webrtc_relay_received(ngx_webrtc_in_t *in, uint16_t seq)
{
    if (!in->started) {
        in->started = 1;
        in->base_seq = seq;
        in->max_seq = seq;

    } else if ((uint16_t) (seq - in->max_seq) < 0x8000) {
        if (seq < in->max_seq) {
            in->cycles += 65536;
        }

        in->max_seq = seq;
    }

    in->received++;
}


/*
 * A publisher's worker adds what it received since the last time to the
 * stream's counters in the zone, once a second and when it goes ("last"):
 * the lock is not taken per packet.  The stream is found by its name and
 * generation, so a deleted session's last second is counted too.
 */

static void
ngx_webrtc_relay_count_stream(ngx_webrtc_peer_t *pub,
    ngx_webrtc_local_stream_t *ls, ngx_uint_t last)
{
    int32_t                  lost;
    uint32_t                 expected;
    uint64_t                 added;
    ngx_uint_t               k;
    ngx_msec_t               elapsed;

    if (ls == NULL) {
        return;
    }

    /*
     * lost packets, as in the receiver reports; a retransmission lowers
     * the count again, only its growth is added
     */

    added = 0;

    for (k = 0; k < 2; k++) {
        if (!pub->in[k].started) {
            continue;
        }

        expected = pub->in[k].cycles + pub->in[k].max_seq
                   - pub->in[k].base_seq + 1;
        lost = (int32_t) (expected - pub->in[k].received);

        if (lost > 0 && (uint32_t) lost > pub->lost_counted[k]) {
            added += lost - pub->lost_counted[k];
            pub->lost_counted[k] = lost;
        }
    }

    elapsed = ngx_current_msec - pub->counted_time;

    ngx_webrtc_registry_stream_count(pub->stream, pub->stream_gen,
                                     pub->packets_in - pub->packets_counted,
                                     pub->bytes_in - pub->bytes_counted,
                                     added,
                                     last ? 0
                                     : elapsed ? (pub->bytes_in
                                                  - pub->bytes_counted)
                                                 * 8 * 1000 / elapsed
                                     : 0,
                                     last || elapsed);

    pub->packets_counted = pub->packets_in;
    pub->bytes_counted = pub->bytes_in;
    pub->counted_time = ngx_current_msec;
}


/* RFC 3550, 6.4.2: a receiver report with a block per track */

static size_t
ngx_webrtc_relay_rr(ngx_webrtc_peer_t *pub, u_char *buf)
{
    u_char           *p;
    int32_t           lost;
    uint32_t          expected, interval, rinterval, fraction, dlsr;
    ngx_uint_t        k, n;
    ngx_webrtc_in_t  *in;

    p = buf + 8;
    n = 0;

    for (k = 0; k < 2; k++) {
        in = &pub->in[k];

        if (!in->started) {
            continue;
        }

        expected = in->cycles + in->max_seq - in->base_seq + 1;
        lost = (int32_t) (expected - in->received);
        lost = ngx_max(ngx_min(lost, 0x7fffff), -0x800000);

        interval = expected - in->expected_prior;
        rinterval = in->received - in->received_prior;
        in->expected_prior = expected;
        in->received_prior = in->received;

        fraction = (interval && interval > rinterval)
                   ? ((interval - rinterval) << 8) / interval : 0;

        dlsr = in->lsr_time
               ? (uint32_t) ((uint64_t) (ngx_current_msec - in->lsr_time)
                             * 65536 / 1000)
               : 0;

        ngx_webrtc_put32(p, pub->ssrc[k]);
        ngx_webrtc_put32(p + 4, (fraction & 0xff) << 24
                                | ((uint32_t) lost & 0xffffff));
        ngx_webrtc_put32(p + 8, in->cycles + in->max_seq);
        ngx_webrtc_put32(p + 12, 0);
        ngx_webrtc_put32(p + 16, in->lsr);
        ngx_webrtc_put32(p + 20, dlsr);

        p += 24;
        n++;
    }

    buf[0] = (u_char) (0x80 | n);
    buf[1] = NGX_WEBRTC_RTCP_RR;
    ngx_webrtc_put16(buf + 2, (uint16_t) (1 + 6 * n));
    ngx_webrtc_put32(buf + 4, pub->local_ssrc);

    return p - buf;
}


/*
 * Every second to the publisher: a receiver report (its RTT and loss
 * statistics) and REMB, so that its sender side bandwidth estimate ramps
 * up instead of staying at the start bitrate
 */

static void
ngx_webrtc_relay_remb_handler(ngx_event_t *ev)
{
    size_t              n;
    ngx_webrtc_peer_t  *pub;
    u_char              buf[8 + 2 * 24 + 24 + NGX_WEBRTC_SRTP_OVERHEAD];

    pub = ev->data;

    ngx_webrtc_relay_count_stream(pub, pub->local, 0);

    if (pub->srtp_ready && (pub->ssrc[0] || pub->ssrc[1])) {
        n = ngx_webrtc_relay_rr(pub, buf);

        if (pub->ssrc[1]) {
            n += ngx_webrtc_rtcp_remb(buf + n, pub->local_ssrc,
                                      NGX_WEBRTC_REMB_BITRATE, pub->ssrc[1]);
        }

        (void) ngx_webrtc_peer_send_rtcp(pub, buf, n);
    }

    ngx_add_timer(ev, NGX_WEBRTC_REMB_INTERVAL);
}


void
ngx_webrtc_relay_start(ngx_webrtc_peer_t *peer)
{
    if (peer->role == NGX_WEBRTC_ROLE_PUBLISHER) {
        ngx_add_timer(&peer->remb_timer, NGX_WEBRTC_REMB_INTERVAL);

        /* viewers may wait: the first frame should come fast */
        ngx_webrtc_relay_keyframe(peer);
        return;
    }

    ngx_webrtc_relay_keyframe(peer);
}


/* closes a session by id, and its media on whichever worker serves it */

void
ngx_webrtc_relay_close_session(u_char *id, ngx_uint_t reason)
{
    ngx_str_t           name;
    ngx_webrtc_owner_t  owner;

    name.data = id;
    name.len = NGX_WEBRTC_ID_LEN;

    if (ngx_webrtc_registry_session_end(&name, 0, NULL, &owner) == NGX_OK) {
        ngx_webrtc_relay_close(owner.slot, owner.pid, id, reason);
    }
}


void
ngx_webrtc_relay_close(ngx_int_t slot, ngx_pid_t pid, u_char *id,
    ngx_uint_t reason)
{
    ngx_webrtc_peer_t  *peer;

    if (pid == 0) {
        return;
    }

    if (pid == ngx_pid) {
        peer = ngx_webrtc_peer_by_id(id);

        if (peer) {
            ngx_webrtc_peer_close(peer, ngx_webrtc_close_reasons[reason]);
        }

        return;
    }

    if (ngx_webrtc_relay == NULL || slot < 0
        || (ngx_uint_t) slot >= ngx_webrtc_relay->n)
    {
        return;
    }

    ngx_webrtc_relay_send(slot, NGX_WEBRTC_RELAY_CLOSE, reason, NULL, 0, id,
                          NULL, 0, NULL, 0);
}


static void
ngx_webrtc_relay_send(ngx_uint_t slot, ngx_uint_t type, ngx_uint_t kind,
    ngx_webrtc_stream_t *stream, uint32_t gen, u_char *id, u_char *p,
    size_t len, u_char *tail, size_t tail_len)
{
    struct iovec            iov[3];
    struct msghdr           msg;
    ngx_webrtc_relay_msg_t  hdr;

    ngx_memzero(&hdr, sizeof(ngx_webrtc_relay_msg_t));

    hdr.type = (uint8_t) type;
    hdr.kind = (uint8_t) kind;
    hdr.len = (uint16_t) len;
    hdr.stream = stream;
    hdr.gen = gen;
    hdr.arrival = ngx_webrtc_arrival;

    if (id) {
        ngx_memcpy(hdr.id, id, NGX_WEBRTC_ID_LEN);
    }

    iov[0].iov_base = &hdr;
    iov[0].iov_len = sizeof(ngx_webrtc_relay_msg_t);
    iov[1].iov_base = p;
    iov[1].iov_len = len;
    iov[2].iov_base = tail;
    iov[2].iov_len = tail_len;

    ngx_memzero(&msg, sizeof(struct msghdr));
    msg.msg_iov = iov;
    msg.msg_iovlen = tail_len ? 3 : (len ? 2 : 1);

    /* a full queue drops the packet, as a congested network would */

    if (sendmsg(ngx_webrtc_relay->fds[2 * slot], &msg, MSG_DONTWAIT) != -1) {
        return;
    }

    if (ngx_webrtc_stats) {
        (void) ngx_atomic_fetch_add(&ngx_webrtc_stats->relay_dropped, 1);
    }

    /*
     * the other worker's sweep closes the session later; a lost path is
     * sent again with the next nominating check
     */

    if (type == NGX_WEBRTC_RELAY_CLOSE || type == NGX_WEBRTC_RELAY_PATH) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, ngx_socket_errno,
                      "webrtc session %*s: %s message to worker %ui "
                      "lost, sendmsg() failed",
                      (size_t) NGX_WEBRTC_ID_LEN, id,
                      type == NGX_WEBRTC_RELAY_CLOSE ? "close" : "path",
                      slot);
    }
}


static void
ngx_webrtc_relay_read_handler(ngx_event_t *ev)
{
    ssize_t                     n;
    ngx_uint_t                  i;
    size_t                      len;
    u_char                     *p;
    ngx_connection_t           *c;
    ngx_webrtc_peer_t          *peer;
    ngx_webrtc_rtp_t            rtp;
    ngx_webrtc_relay_msg_t     *hdr;
    ngx_webrtc_local_stream_t  *ls;
    ngx_webrtc_path_t           path;
    u_char                      buf[sizeof(ngx_webrtc_relay_msg_t)
                                    + NGX_WEBRTC_MTU];

    c = ev->data;

    if (c->close) {
        /*
         * graceful shutdown: the channel is an idle connection, so that
         * this runs at once on a reload even in a worker without UDP
         * connections; sessions are handed over or closed
         */
        ngx_webrtc_peer_exit();
        ngx_close_connection(c);
        return;
    }

    /* a bounded batch: the socket is level-triggered, the rest follows */

    for (i = 0; i < NGX_WEBRTC_RELAY_BATCH; i++) {
        n = recv(c->fd, buf, sizeof(buf), 0);

        if (n == -1) {
            if (ngx_socket_errno != NGX_EAGAIN
                && ngx_socket_errno != NGX_EINTR)
            {
                ngx_log_error(NGX_LOG_ALERT, ev->log, ngx_socket_errno,
                              "webrtc relay recv() failed");
            }

            break;
        }

        if ((size_t) n < sizeof(ngx_webrtc_relay_msg_t)) {
            continue;
        }

        hdr = (ngx_webrtc_relay_msg_t *) buf;
        p = buf + sizeof(ngx_webrtc_relay_msg_t);
        len = n - sizeof(ngx_webrtc_relay_msg_t);

        ngx_webrtc_arrival = hdr->arrival;

        if (hdr->type == NGX_WEBRTC_RELAY_CLOSE
            || hdr->type == NGX_WEBRTC_RELAY_PATH
            || hdr->type == NGX_WEBRTC_RELAY_FORWARD)
        {
            peer = ngx_webrtc_peer_by_id(hdr->id);

            if (peer == NULL) {
                continue;
            }

            if (hdr->type == NGX_WEBRTC_RELAY_CLOSE) {
                ngx_webrtc_peer_close(peer,
                                      ngx_webrtc_close_reasons[hdr->kind]);

            } else if (hdr->type == NGX_WEBRTC_RELAY_FORWARD) {
                if (hdr->len <= len && hdr->kind == len - hdr->len) {
                    ngx_webrtc_peer_forwarded(peer, p, hdr->len,
                                            (struct sockaddr *) (p + hdr->len),
                                              hdr->kind);
                }

            } else if (len == sizeof(ngx_webrtc_path_t)) {
                ngx_memcpy(&path, p, sizeof(ngx_webrtc_path_t));
                ngx_webrtc_peer_remote_path(peer, &path);
            }

            continue;
        }

        ls = ngx_webrtc_local_lookup(hdr->stream, hdr->gen);

        if (ls == NULL || hdr->kind > 1) {

            /*
             * a stream this worker has no viewers of, by a bit an exiting
             * worker of the same slot left: cleared, a few a second
             */

            if (hdr->type == NGX_WEBRTC_RELAY_RTP && ls == NULL
                && ngx_current_msec - ngx_webrtc_relay_stray >= 100)
            {
                ngx_webrtc_relay_stray = ngx_current_msec;
                (void) ngx_webrtc_registry_stream_worker(hdr->stream,
                                                         hdr->gen, 0);
            }

            continue;
        }

        switch (hdr->type) {

        case NGX_WEBRTC_RELAY_RTP:
            if (ngx_webrtc_rtp_parse(p, len, &rtp) == 0) {
                ngx_webrtc_relay_local(ls, hdr->id, hdr->kind, p, len, &rtp);
            }

            break;

        case NGX_WEBRTC_RELAY_SR:
            if (len >= 28) {
                ngx_webrtc_relay_local_sr(ls, hdr->kind, p);
            }

            break;

        case NGX_WEBRTC_RELAY_KEYFRAME:
            if (ls->publisher) {
                ngx_webrtc_relay_keyframe_due(ls);
            }

            break;

        case NGX_WEBRTC_RELAY_NACK:
            if (ls->publisher) {
                ngx_webrtc_relay_publisher_nack(ls, p, len);
            }

            break;
        }
    }

    ngx_webrtc_arrival = 0;

    if (ngx_handle_read_event(ev, 0) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                      "webrtc relay: cannot handle read event");
    }
}
