
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_webrtc_media.h"


/*
 * A worker's streams: the publisher's packets to each viewer, each
 * rewritten and encrypted for it, sent in batches; the publisher's
 * statistics.
 */


#define NGX_WEBRTC_BATCH            64
#define NGX_WEBRTC_BATCH_BUF        (NGX_WEBRTC_MTU + NGX_WEBRTC_SRTP_OVERHEAD)


static ngx_webrtc_local_stream_t *ngx_webrtc_local_find(
    ngx_webrtc_stream_t *stream);
static ngx_int_t ngx_webrtc_relay_index(ngx_webrtc_out_t *out, uint16_t seq,
    ngx_uint_t resend);
static void ngx_webrtc_relay_received(ngx_webrtc_in_t *in, uint16_t seq);
static void ngx_webrtc_relay_h264(ngx_webrtc_peer_t *pub, u_char *p,
    size_t len);
static ngx_int_t ngx_webrtc_relay_layer(ngx_webrtc_peer_t *pub, u_char *p,
    ngx_webrtc_rtp_t *rtp);
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


static ngx_webrtc_batch_t          ngx_webrtc_batch;
static ngx_rbtree_t                ngx_webrtc_local_streams;
static ngx_rbtree_node_t           ngx_webrtc_local_sentinel;


/* in a worker: its streams, and its counters in the zone */

ngx_int_t
ngx_webrtc_fanout_init_process(ngx_cycle_t *cycle)
{
    ngx_rbtree_init(&ngx_webrtc_local_streams, &ngx_webrtc_local_sentinel,
                    ngx_webrtc_local_insert_value);

    ngx_webrtc_registry_stats_init(ngx_worker);

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

ngx_webrtc_local_stream_t *
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

    ngx_webrtc_registry_count_peer(peer->role, 1);

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

    ls = peer->local;

    if (ls == NULL) {
        return;
    }

    peer->local = NULL;

    ngx_webrtc_registry_count_peer(peer->role, -1);

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

    ngx_webrtc_registry_count_in(len);

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


void
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


void
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

        v->log.action = "forwarding media";
        ngx_webrtc_relay_viewer(v, kind, p, len, rtp, 0);
        v->log.action = NULL;
    }

    ngx_webrtc_batch_flush();
}


/*
 * One packet for one viewer: its payload type, SSRC and header extension
 * ids, and sequence numbers and timestamps that continue across a new
 * publisher of the stream.  A resend is a packet of the worker's cache
 * that a NACK of the viewer asked for.
 */

void
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

    /*
     * adopted: the worker before used the indices up to the base, which
     * this one does not know: a late packet mapped before it is dropped
     */

    if (out->fenced && out->rebased && (int16_t) (seq - out->base) < 0) {
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
    ngx_uint_t           i, sent;
    ngx_webrtc_batch_t  *b;

    b = &ngx_webrtc_batch;
    i = b->n;

    if (path->tcp) {
        sent = (ngx_stream_webrtc_tcp_send(path->tcp, b->bufs[i], len)
                == NGX_OK);
        ngx_webrtc_registry_count_out(1, sent, sent ? len : 0,
                                      ngx_webrtc_arrival);
        return;
    }

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


/* one sendmmsg() per run of packets for the same socket */

void
ngx_webrtc_batch_flush(void)
{
    int                  rc;
    size_t               bytes;
    ngx_uint_t           i, j, k, sent;
    ngx_webrtc_batch_t  *b;

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

    ngx_webrtc_registry_count_out(b->n, sent, bytes, ngx_webrtc_arrival);

    b->n = 0;
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

void
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
