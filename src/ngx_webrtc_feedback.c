
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_webrtc_media.h"


/*
 * RTCP: a publisher's sender reports to its viewers, the viewers'
 * NACKs answered from the cache or sent on, key frame requests, and the
 * receiver reports and REMB the publisher gets.
 */


#define NGX_WEBRTC_RELAY_BURN         8192    /* SRTCP indices a report */


static void ngx_webrtc_relay_nack(ngx_webrtc_peer_t *v,
    const u_char *fci, size_t len);
static void ngx_webrtc_relay_keyframe_send(ngx_webrtc_local_stream_t *ls);
static ngx_int_t ngx_webrtc_relay_keyframe_gather(
    ngx_webrtc_local_stream_t *ls);
static ngx_int_t ngx_webrtc_relay_upstream(ngx_webrtc_local_stream_t *ls,
    ngx_uint_t type, u_char *p, size_t len);
static size_t ngx_webrtc_relay_rr(ngx_webrtc_peer_t *pub, u_char *buf);
static void ngx_webrtc_relay_report(ngx_webrtc_peer_t *v,
    ngx_webrtc_rtcp_t *pkt);


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

        if (pkt.type == NGX_WEBRTC_RTCP_RR || pkt.type == NGX_WEBRTC_RTCP_SR) {
            ngx_webrtc_relay_report(peer, &pkt);
            continue;
        }

        if (pkt.type == NGX_WEBRTC_RTCP_PSFB
            && (pkt.fmt == NGX_WEBRTC_RTCP_FMT_PLI
                || pkt.fmt == NGX_WEBRTC_RTCP_FMT_FIR))
        {
            peer->q_plis++;

            if (!keyframe++) {
                ngx_webrtc_relay_keyframe(peer);
            }

            continue;
        }

        if (pkt.type == NGX_WEBRTC_RTCP_RTPFB
            && pkt.fmt == NGX_WEBRTC_RTCP_FMT_NACK
            && pkt.len > 12 && peer->out[1].started)
        {
            peer->q_nacks++;

            if (!nack++) {
                ngx_webrtc_relay_nack(peer, pkt.data + 12, pkt.len - 12);
            }
        }
    }
}


/*
 * RFC 3550, 6.4.1 and 6.4.2: a viewer's report block of what it gets
 * from us (video, else audio): loss and jitter as it counts them, and the
 * round trip from the sender report it names, by when that one went
 */

static void
ngx_webrtc_relay_report(ngx_webrtc_peer_t *v, ngx_webrtc_rtcp_t *pkt)
{
    uint32_t           lsr, dlsr, ssrc;
    ngx_uint_t         i, k, best;
    ngx_msec_int_t     rtt;
    const u_char      *b, *first;
    ngx_webrtc_out_t  *out;

    first = pkt->data + (pkt->type == NGX_WEBRTC_RTCP_SR ? 28 : 8);

    b = NULL;
    best = 2;

    for (i = 0; i < pkt->fmt; i++) {

        if ((size_t) (first + (i + 1) * 24 - pkt->data) > pkt->len) {
            break;
        }

        ssrc = ngx_webrtc_get32(first + i * 24);

        for (k = 0; k < 2; k++) {
            if (v->tracks[k].kind && v->tracks[k].ssrc == ssrc
                && (b == NULL || k > best))
            {
                b = first + i * 24;
                best = k;
            }
        }
    }

    if (b == NULL) {
        return;
    }

    v->q_fraction = b[4];
    v->q_lost = ngx_webrtc_get32(b + 4) & 0xffffff;
    v->q_jitter = ngx_webrtc_get32(b + 12);

    lsr = ngx_webrtc_get32(b + 16);
    dlsr = ngx_webrtc_get32(b + 20);
    out = &v->out[best];

    if (lsr && lsr == out->sr_mid) {
        rtt = (ngx_msec_int_t) (ngx_current_msec - out->sr_time)
              - (ngx_msec_int_t) ((uint64_t) dlsr * 1000 / 65536);

        v->q_rtt = (rtt > 0) ? (ngx_msec_t) rtt : 1;
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
            (void) ngx_webrtc_relay_upstream(ls, NGX_WEBRTC_RELAY_NACK, up,
                                             n);
        }
    }
}


void
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
            out->sr_mid = (uint32_t) (ntp >> 16);
            out->sr_time = ngx_current_msec;
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

void
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


void
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

    pub = ls->publisher;

    if (pub == NULL) {

        ls->last_pli = ngx_current_msec;

        /*
         * a publisher being handed over (a reload) would not get it: it
         * is asked again in a moment, until a worker has adopted it
         */

        if (ngx_webrtc_relay_upstream(ls, NGX_WEBRTC_RELAY_KEYFRAME, NULL, 0)
            == NGX_AGAIN
            && ls->pli_retries++ < NGX_WEBRTC_PLI_RETRIES
            && !ls->pli_timer.timer_set)
        {
            ngx_add_timer(&ls->pli_timer, NGX_WEBRTC_PLI_RETRY);
            return;
        }

        ls->pli_retries = 0;

        return;
    }

    if (ngx_webrtc_relay_keyframe_gather(ls) == NGX_AGAIN) {
        return;
    }

    ls->last_pli = ngx_current_msec;

    if (!pub->srtp_ready || pub->tracks[1].kind == 0) {
        return;
    }

    ngx_webrtc_registry_count_event(NGX_WEBRTC_COUNT_KEYFRAME);

    pub->q_plis++;

    n = ngx_webrtc_rtcp_pli(buf, pub->local_ssrc,
                            pub->ssrc[1] ? pub->ssrc[1] : pub->tracks[1].ssrc);

    (void) ngx_webrtc_peer_send_rtcp(pub, buf, n);
}


/*
 * On reload each viewer adopted asks for a key frame (what was in flight
 * to it is lost), and a request within the interval after another is
 * held to its end: a viewer adopted just after the key frame went would
 * stand still for the interval.  So a request waits, every few
 * milliseconds, while viewers of the stream are handed over and not yet
 * adopted, NGX_WEBRTC_PLI_GATHER at most, and one key frame serves them
 * all.  A viewer that nobody adopts (its client left) makes one such
 * wait in NGX_WEBRTC_PLI_GATHER_OFF, not one a request.
 */

static ngx_int_t
ngx_webrtc_relay_keyframe_gather(ngx_webrtc_local_stream_t *ls)
{
    if (ls->pli_gathering) {

        if (ngx_current_msec - ls->pli_gather >= NGX_WEBRTC_PLI_GATHER) {
            ls->pli_gathering = 0;
            ls->pli_gather_off = ngx_current_msec;
            return NGX_OK;
        }

    } else if (ls->pli_gather_off
               && ngx_current_msec - ls->pli_gather_off
                  < NGX_WEBRTC_PLI_GATHER_OFF)
    {
        return NGX_OK;
    }

    if (ngx_webrtc_registry_stream_moving(ls->stream, ls->gen) != NGX_AGAIN) {
        ls->pli_gathering = 0;
        return NGX_OK;
    }

    if (!ls->pli_gathering) {
        ls->pli_gathering = 1;
        ls->pli_gather = ngx_current_msec;

        ngx_log_debug0(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                       "webrtc key frame request waits for viewers "
                       "handed over");
    }

    ngx_add_timer(&ls->pli_timer, NGX_WEBRTC_PLI_RETRY);

    return NGX_AGAIN;
}


/* to the worker serving the stream's publisher */

static ngx_int_t
ngx_webrtc_relay_upstream(ngx_webrtc_local_stream_t *ls, ngx_uint_t type,
    u_char *p, size_t len)
{
    ngx_int_t                   slot;
    ngx_pid_t                   pid;
    ngx_webrtc_owner_t          owner;

    if (ngx_webrtc_relay == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_webrtc_registry_stream_publisher(ls->stream, ls->gen, &owner)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /*
     * handed over on reload, or still with a worker of the configuration
     * before: no worker of ours has it yet
     */

    if (owner.handoff
        || (owner.pid && owner.cycle != ngx_webrtc_registry_cycle()))
    {
        return NGX_AGAIN;
    }

    slot = owner.slot;
    pid = owner.pid;

    if (pid == 0 || pid == ngx_pid || slot < 0
        || (ngx_uint_t) slot >= ngx_webrtc_relay->n)
    {
        return NGX_DECLINED;
    }

    if (type == NGX_WEBRTC_RELAY_KEYFRAME) {
        ngx_webrtc_registry_count_event(NGX_WEBRTC_COUNT_KEYFRAME);
    }

    ngx_webrtc_relay_send(slot, type, 0, ls->stream, ls->gen, NULL, p, len,
                          NULL, 0);

    return NGX_OK;
}


void
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

    pub->q_nacks++;

    n = ngx_webrtc_rtcp_nack(buf, pub->local_ssrc, pub->ssrc[1], fci, len);

    (void) ngx_webrtc_peer_send_rtcp(pub, buf, n);
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

        if (k == 1 || !pub->in[1].started) {
            pub->q_lost = (lost > 0) ? (uint32_t) lost : 0;
            pub->q_fraction = fraction;
        }

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

void
ngx_webrtc_relay_remb_handler(ngx_event_t *ev)
{
    size_t              n;
    ngx_webrtc_peer_t  *pub;
    u_char              buf[8 + 2 * 24 + 24 + NGX_WEBRTC_SRTP_OVERHEAD];

    pub = ev->data;

    pub->log.action = "sending RTCP feedback";

    ngx_webrtc_relay_count_stream(pub, pub->local, 0);

    if (pub->srtp_ready && (pub->ssrc[0] || pub->ssrc[1])) {
        n = ngx_webrtc_relay_rr(pub, buf);

        if (pub->ssrc[1]) {
            n += ngx_webrtc_rtcp_remb(buf + n, pub->local_ssrc,
                                      NGX_WEBRTC_REMB_BITRATE, pub->ssrc[1]);
        }

        (void) ngx_webrtc_peer_send_rtcp(pub, buf, n);
    }

    pub->log.action = NULL;

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
