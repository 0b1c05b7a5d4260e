
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>
#include <time.h>

#include "webrtc_load.h"


/*
 * The publisher's synthetic stream: VP8 video at the configured bitrate
 * and frame rate, a key frame every GOP (several times larger than the
 * delta frames, and at once after a PLI or FIR), frames split into RTP
 * packets of at most WL_RTP_MAX bytes with the marker bit on the last,
 * sent through a pacer as browsers do; Opus audio every 20 ms.  And the
 * viewers' side: loss from sequence numbers, latency from the send time
 * stamped into every packet.
 */


#define WL_KEY_RATIO            8           /* key frame / delta frame */
#define WL_VP8_DESCRIPTOR       4           /* X, I, 15-bit PictureID */
#define WL_AUDIO_PTIME          (20 * WL_MS)
#define WL_AUDIO_TS             960         /* 20 ms at 48 kHz */
#define WL_PACING_FACTOR        2.5
#define WL_MAX_LATE             (200 * WL_MS)

#define WL_WIDTH                1280
#define WL_HEIGHT               720


static void wl_pub_frame(wl_peer_t *p, wl_pub_t *pub);
static void wl_pub_audio(wl_peer_t *p, wl_pub_t *pub);
static void wl_pub_send(wl_peer_t *p, wl_pub_t *pub, const u_char *data,
    size_t len, int video);
static void wl_pub_sr(wl_peer_t *p, wl_pub_t *pub, int64_t now);
static void wl_seq_update(wl_seq_t *s, uint32_t ssrc, uint16_t seq);
static void wl_fill(u_char *p, size_t len);
static void wl_put64(u_char *p, uint64_t v);
static uint64_t wl_get64(const u_char *p);


static u_char    wl_pool[65536 + WL_RTP_MAX];
static unsigned  wl_pool_ready;


void
wl_pub_start(wl_peer_t *p, int64_t now)
{
    wl_pub_t  *pub;

    pub = p->pub;

    if (!wl_pool_ready) {
        wl_random_fill(wl_pool, sizeof(wl_pool));
        wl_pool_ready = 1;
    }

    pub->start = now;
    pub->frame = 0;
    pub->audio_frame = 0;
    pub->next_frame = now;
    pub->next_audio = now;
    pub->next_sr = now + WL_SEC / 2;
    pub->pace_next = now;
    pub->key_requested = 1;
}


/* sends what is due; returns when to be called again */

int64_t
wl_pub_timer(wl_peer_t *p, int64_t now)
{
    int64_t       next, t;
    uint64_t      rate;
    wl_pub_t     *pub;
    wl_queued_t  *q;

    pub = p->pub;

    while (now >= pub->next_audio && p->state == WL_PEER_CONNECTED) {

        if (now - pub->next_audio > WL_MAX_LATE) {
            /* we were not scheduled: skip, do not burst */
            pub->audio_frame = (now - pub->start) / WL_AUDIO_PTIME;
        }

        wl_pub_audio(p, pub);

        pub->audio_frame++;
        pub->next_audio = pub->start + pub->audio_frame * WL_AUDIO_PTIME;
    }

    while (now >= pub->next_frame && p->state == WL_PEER_CONNECTED) {

        if (now - pub->next_frame > WL_MAX_LATE) {
            pub->frame = (uint64_t) ((now - pub->start) * wl_conf.fps
                                     / WL_SEC);
        }

        wl_pub_frame(p, pub);

        pub->frame++;
        pub->next_frame = pub->start
                          + (int64_t) (pub->frame * WL_SEC / wl_conf.fps);
    }

    /* the pacer: video at WL_PACING_FACTOR times the target bitrate */

    rate = (uint64_t) (wl_conf.bitrate * WL_PACING_FACTOR);
    if (rate < 1000000) {
        rate = 1000000;
    }

    while (pub->qlen && now >= pub->pace_next
           && p->state == WL_PEER_CONNECTED)
    {
        q = &pub->queue[pub->qhead];

        wl_pub_send(p, pub, q->data, q->len, 1);

        pub->qhead = (pub->qhead + 1) % WL_PACER_QUEUE;
        pub->qlen--;

        t = now - 2 * WL_MS;
        if (pub->pace_next < t) {
            pub->pace_next = t;
        }

        pub->pace_next += (int64_t) ((uint64_t) q->len * 8 * WL_SEC / rate);
    }

    if (now >= pub->next_sr) {
        wl_pub_sr(p, pub, now);
        pub->next_sr = now + WL_SEC;
    }

    next = pub->next_audio;

    if (pub->next_frame < next) {
        next = pub->next_frame;
    }

    if (pub->next_sr < next) {
        next = pub->next_sr;
    }

    if (pub->qlen && pub->pace_next < next) {
        next = pub->pace_next;
    }

    return next;
}


/* one VP8 frame into the pacer's queue, RFC 7741 */

static void
wl_pub_frame(wl_peer_t *p, wl_pub_t *pub)
{
    int           key;
    u_char       *b, *d, *v;
    size_t        size, chunk, per, off, max;
    double        delta;
    uint32_t      ts, tag, part;
    unsigned      i, n, gop_frames;
    wl_queued_t  *q;

    gop_frames = (unsigned) (wl_conf.gop * wl_conf.fps + 0.5);
    if (gop_frames < 1) {
        gop_frames = 1;
    }

    /* bytes of a delta frame so that a GOP meets the bitrate */

    delta = (double) wl_conf.bitrate / 8 * gop_frames / wl_conf.fps
            / (WL_KEY_RATIO + gop_frames - 1);

    key = pub->key_requested || pub->gop_pos >= gop_frames;

    if (key) {
        size = (size_t) (delta * WL_KEY_RATIO);
        pub->gop_pos = 0;
        pub->key_requested = 0;
        wl_stats.keyframes++;

    } else {
        size = (size_t) (delta * (0.75 + (wl_random32() % 1000) / 2000.0));
    }

    if (size < 64) {
        size = 64;
    }

    pub->gop_pos++;

    ts = pub->video_ts0 + (uint32_t) ((double) pub->frame * 90000
                                      / wl_conf.fps);

    pub->picture_id = (pub->picture_id + 1) & 0x7fff;

    /* equal packets, as libwebrtc's packetizer */

    max = WL_RTP_MAX - 12 - WL_VP8_DESCRIPTOR;
    n = (size + max - 1) / max;
    per = (size + n - 1) / n;

    for (i = 0, off = 0; i < n; i++, off += chunk) {

        chunk = (size - off < per) ? size - off : per;

        if (pub->qlen == WL_PACER_QUEUE) {
            wl_stats.tx_drops += n - i;
            break;
        }

        q = &pub->queue[(pub->qhead + pub->qlen) % WL_PACER_QUEUE];
        pub->qlen++;

        b = q->data;

        /* RFC 3550, 5.1: the marker bit on the frame's last packet */

        b[0] = 0x80;
        b[1] = (u_char) (p->video_pt | (i == n - 1 ? 0x80 : 0));
        ngx_webrtc_put16(b + 2, pub->video_seq++);
        ngx_webrtc_put32(b + 4, ts);
        ngx_webrtc_put32(b + 8, pub->video_ssrc);

        /* RFC 7741, 4.2: X, S on the first packet, PID 0; I, PictureID */

        d = b + 12;
        d[0] = (u_char) (0x80 | (i == 0 ? 0x10 : 0));
        d[1] = 0x80;
        d[2] = (u_char) (0x80 | (pub->picture_id >> 8));
        d[3] = (u_char) pub->picture_id;

        v = d + WL_VP8_DESCRIPTOR;
        wl_fill(v, chunk);

        if (i == 0) {
            /* RFC 6386, 9.1: the frame tag, and a key frame's start code */

            part = (uint32_t) (size / 4) & 0x7ffff;
            tag = (key ? 0 : 1) | (1 << 4) | (part << 5);

            v[0] = (u_char) tag;
            v[1] = (u_char) (tag >> 8);
            v[2] = (u_char) (tag >> 16);

            if (key) {
                v[3] = 0x9d;
                v[4] = 0x01;
                v[5] = 0x2a;
                v[6] = (u_char) (WL_WIDTH & 0xff);
                v[7] = (u_char) (WL_WIDTH >> 8);
                v[8] = (u_char) (WL_HEIGHT & 0xff);
                v[9] = (u_char) (WL_HEIGHT >> 8);
            }
        }

        q->len = (uint16_t) (12 + WL_VP8_DESCRIPTOR + chunk);
    }

    wl_stats.frames++;
}


static void
wl_pub_audio(wl_peer_t *p, wl_pub_t *pub)
{
    size_t  len;
    u_char  b[WL_RTP_MAX];

    if (p->audio_pt == 0xff) {
        return;
    }

    len = 80 + wl_random32() % 41;

    b[0] = 0x80;
    b[1] = p->audio_pt;
    ngx_webrtc_put16(b + 2, pub->audio_seq++);
    ngx_webrtc_put32(b + 4, pub->audio_ts0
                            + (uint32_t) (pub->audio_frame * WL_AUDIO_TS));
    ngx_webrtc_put32(b + 8, pub->audio_ssrc);

    wl_fill(b + 12, len);

    /* RFC 6716, 3.1: TOC, config 15 (hybrid fullband 20 ms), mono */
    b[12] = 0x78;

    wl_pub_send(p, pub, b, 12 + len, 0);
}


static void
wl_pub_send(wl_peer_t *p, wl_pub_t *pub, const u_char *data, size_t len,
    int video)
{
    int     n;
    u_char  buf[WL_RTP_MAX + WL_SRTP_ROOM];

    memcpy(buf, data, len);

    if (len >= 12 + WL_STAMP_OFFSET + WL_STAMP_LEN) {
        ngx_webrtc_put32(buf + 12 + WL_STAMP_OFFSET, WL_STAMP_MAGIC);
        wl_put64(buf + 12 + WL_STAMP_OFFSET + 4, (uint64_t) wl_now());
    }

    if (video && wl_dup_before(pub, buf, len)) {
        /* --ssrc-switch: sent after the next */
        return;
    }

    n = (int) len;

    if (srtp_protect(p->srtp_out, buf, &n) != srtp_err_status_ok
        || wl_peer_send(p, buf, n) != n)
    {
        wl_stats.tx_drops++;
        return;
    }

    wl_mutate_keep(p, WL_KEEP_SRTP, buf, n);

    if (video) {
        /* --ssrc-switch, --dup-every */
        wl_dup_after(p);
    }

    wl_stats.tx_packets++;
    wl_stats.tx_bytes += n;

    if (video) {
        pub->video_packets++;
        pub->video_octets += (uint32_t) (len - 12);

    } else {
        pub->audio_packets++;
        pub->audio_octets += (uint32_t) (len - 12);
    }
}


/* RFC 3550, 6.4.1: sender reports of both SSRCs, one compound packet */

static void
wl_pub_sr(wl_peer_t *p, wl_pub_t *pub, int64_t now)
{
    int              n;
    size_t           len;
    u_char           buf[WL_RTCP_MAX];
    int64_t          el;
    uint64_t         ntp;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    ntp = ((uint64_t) (ts.tv_sec + 2208988800u) << 32)
          | (uint32_t) ((double) ts.tv_nsec * 4294967296.0 / 1e9);

    el = now - pub->start;

    len = ngx_webrtc_rtcp_sr(buf, pub->video_ssrc, ntp,
                             pub->video_ts0
                             + (uint32_t) (el * 90000 / WL_SEC),
                             pub->video_packets, pub->video_octets);

    if (p->audio_pt != 0xff) {
        len += ngx_webrtc_rtcp_sr(buf + len, pub->audio_ssrc, ntp,
                                  pub->audio_ts0
                                  + (uint32_t) (el * 48000 / WL_SEC),
                                  pub->audio_packets, pub->audio_octets);
    }

    n = (int) len;

    if (srtp_protect_rtcp(p->srtp_out, buf, &n) == srtp_err_status_ok
        && wl_peer_send(p, buf, n) == n)
    {
        wl_mutate_keep(p, WL_KEEP_SRTCP, buf, n);
    }
}


/* RFC 3550, 6.4.1: the server's sender reports, for LSR and DLSR */

void
wl_view_sr(wl_peer_t *p, const u_char *buf, size_t len)
{
    unsigned                i;
    uint32_t                ssrc;
    ngx_webrtc_rtcp_t       pkt;
    ngx_webrtc_rtcp_iter_t  it;

    ngx_webrtc_rtcp_iter_init(&it, buf, len);

    while (ngx_webrtc_rtcp_next(&it, &pkt)) {

        if (pkt.type != NGX_WEBRTC_RTCP_SR || pkt.len < 28) {
            continue;
        }

        ssrc = ngx_webrtc_get32(pkt.data + 4);

        for (i = 0; i < 2; i++) {
            if (p->seq[i].started && p->seq[i].ssrc == ssrc) {
                p->seq[i].lsr = ngx_webrtc_get32(pkt.data + 10);
                p->seq[i].lsr_time = wl_now();
            }
        }
    }
}


/*
 * A viewer's receiver report (RFC 3550, 6.4.2), a block a received SSRC;
 * the jitter field is left zero, LSR and DLSR are of its last SR
 */

void
wl_view_rr(wl_peer_t *p)
{
    int              n;
    size_t           len;
    int64_t          lost;
    unsigned         i, k, blocks, copies;
    uint64_t         expected;
    u_char           buf[WL_RTCP_MAX], out[WL_RTCP_MAX], *b;
    const wl_seq_t  *s;

    if (p->srtp_out == NULL) {
        return;
    }

    b = buf + 8;
    blocks = 0;

    for (i = 0; i < 2; i++) {
        s = &p->seq[i];

        if (!s->started) {
            continue;
        }

        expected = wl_seq_expected(s);
        lost = (int64_t) expected - (int64_t) s->received;
        lost = lost < 0 ? 0 : (lost > 0x7fffff ? 0x7fffff : lost);

        ngx_webrtc_put32(b, s->ssrc);
        ngx_webrtc_put32(b + 4, (uint32_t) lost);
        ngx_webrtc_put32(b + 8, s->cycles + s->max_seq);
        ngx_webrtc_put32(b + 12, 0);
        ngx_webrtc_put32(b + 16, s->lsr);
        ngx_webrtc_put32(b + 20, s->lsr_time
                                 ? (uint32_t) ((wl_now() - s->lsr_time)
                                               * 65536 / WL_SEC)
                                 : 0);

        b += 24;
        blocks++;
    }

    len = b - buf;

    buf[0] = 0x80 | blocks;
    buf[1] = 201;
    ngx_webrtc_put16(buf + 2, (uint16_t) (len / 4 - 1));

    /* --pli-flood: PLIs for the video in the same compound packet */

    for (i = 0; i < wl_conf.pli_flood && p->seq[1].started; i++) {
        if (len + 12 + 16 + 4 > sizeof(buf)) {
            break;
        }

        len += ngx_webrtc_rtcp_pli(buf + len, 1 + p->index, p->seq[1].ssrc);
    }

    copies = wl_conf.rtcp_ssrcs ? wl_conf.rtcp_ssrcs : 1;

    for (k = 0; k < copies; k++) {
        memcpy(out, buf, len);
        ngx_webrtc_put32(out + 4, 1 + p->index + k * 100000);

        n = (int) len;

        if (srtp_protect_rtcp(p->srtp_out, out, &n) == srtp_err_status_ok
            && wl_peer_send(p, out, n) > 0)
        {
            wl_stats.rr_sent++;

            if (k == 0) {
                wl_mutate_keep(p, WL_KEEP_SRTCP, out, n);
            }
        }
    }
}


/* the server's feedback: counted; a PLI or FIR makes a key frame next */

void
wl_pub_rtcp(wl_peer_t *p, const u_char *buf, size_t len)
{
    size_t                  i;
    uint32_t                mantissa, blp;
    ngx_webrtc_rtcp_t       pkt;
    ngx_webrtc_rtcp_iter_t  it;

    wl_stats.rx_rtcp_pub++;

    ngx_webrtc_rtcp_iter_init(&it, buf, len);

    while (ngx_webrtc_rtcp_next(&it, &pkt)) {

        switch (pkt.type) {

        case NGX_WEBRTC_RTCP_RR:
            wl_stats.rr++;
            break;

        case NGX_WEBRTC_RTCP_PSFB:
            if (pkt.fmt == NGX_WEBRTC_RTCP_FMT_PLI) {
                wl_stats.pli++;
                p->pub->key_requested = 1;

            } else if (pkt.fmt == NGX_WEBRTC_RTCP_FMT_FIR) {
                wl_stats.fir++;
                p->pub->key_requested = 1;

            } else if (pkt.fmt == NGX_WEBRTC_RTCP_FMT_AFB && pkt.len >= 24
                       && memcmp(pkt.data + 12, "REMB", 4) == 0)
            {
                /* draft-alvestrand-rmcat-remb-03, 2.2 */
                mantissa = (uint32_t) (pkt.data[17] & 0x03) << 16
                           | ngx_webrtc_get16(pkt.data + 18);
                wl_stats.remb++;
                wl_stats.remb_bps = (uint64_t) mantissa
                                    << (pkt.data[17] >> 2);
            }

            break;

        case NGX_WEBRTC_RTCP_RTPFB:
            if (pkt.fmt != NGX_WEBRTC_RTCP_FMT_NACK) {
                break;
            }

            /* RFC 4585, 6.2.1: PID and a bitmask of 16 more */

            for (i = 12; i + 4 <= pkt.len; i += 4) {
                blp = ngx_webrtc_get16(pkt.data + i + 2);
                wl_stats.nack += 1 + __builtin_popcount(blp);
            }

            break;
        }
    }
}


/* the longest gap of a viewer's RTP, and its stalls */

void
wl_view_gap(wl_peer_t *p, int64_t gap)
{
    if (gap > p->max_gap) {
        p->max_gap = gap;

        if ((uint64_t) (gap / WL_MS) > wl_stats.max_gap_ms) {
            wl_stats.max_gap_ms = gap / WL_MS;
        }
    }

    if (gap <= WL_STALL) {
        return;
    }

    if (p->stalls++ == 0) {
        wl_stats.stalled_viewers++;
    }

    wl_stats.stalls++;
}


/*
 * now: decrypted; arrived: the kernel's receive time.  Latency is send to
 * arrival; arrival to now is our own queueing.
 */

void
wl_view_rtp(wl_peer_t *p, const u_char *buf, size_t len, int64_t now,
    int64_t arrived)
{
    int               kind;
    uint64_t          sent;
    const u_char     *payload;
    ngx_webrtc_rtp_t  rtp;

    if (ngx_webrtc_rtp_parse(buf, len, &rtp) != 0) {
        return;
    }

    wl_stats.rtp_packets++;
    wl_stats.rtp_bytes += len;
    p->rtp_packets++;

    /* a gap in the media while the publisher is live: a stall over 1 s */

    if (p->got_first && wl_publisher_live()) {
        wl_view_gap(p, arrived - p->last_rtp);
        wl_marks_gap(p, p->last_rtp, arrived, 1);
    }

    p->last_rtp = arrived;

    wl_mutate_media(p);

    kind = (rtp.pt == p->video_pt) ? 1 : (rtp.pt == p->audio_pt) ? 0 : -1;

    if (kind >= 0) {
        wl_seq_update(&p->seq[kind], rtp.ssrc, rtp.seq);
    }

    if (!p->got_first) {
        p->got_first = 1;
        wl_hist_add(&wl_stats.ttfp, (arrived - p->launched) / 1000);
    }

    wl_hist_add(&wl_stats.queue, (now - arrived) / 1000);

    payload = buf + rtp.header_len;

    if (rtp.payload_len >= WL_STAMP_OFFSET + WL_STAMP_LEN
        && ngx_webrtc_get32(payload + WL_STAMP_OFFSET) == WL_STAMP_MAGIC)
    {
        sent = wl_get64(payload + WL_STAMP_OFFSET + 4);

        if ((uint64_t) arrived >= sent) {
            wl_hist_add(&wl_stats.latency,
                        ((uint64_t) arrived - sent) / 1000);
        }
    }
}


/* RFC 3550, A.1, without probation: extended highest sequence number */

static void
wl_seq_update(wl_seq_t *s, uint32_t ssrc, uint16_t seq)
{
    uint64_t  before;

    if (!s->started || s->ssrc != ssrc) {
        s->started = 1;
        s->ssrc = ssrc;
        s->max_seq = seq;
        s->cycles = 0;
        s->base = seq;
        s->received = 1;

        wl_stats.expected++;
        wl_stats.received++;
        return;
    }

    before = wl_seq_expected(s);

    if ((int16_t) (seq - s->max_seq) > 0) {
        if (seq < s->max_seq) {
            s->cycles += 65536;
        }

        s->max_seq = seq;
    }

    s->received++;

    wl_stats.expected += wl_seq_expected(s) - before;
    wl_stats.received++;
}


uint64_t
wl_seq_expected(const wl_seq_t *s)
{
    if (!s->started) {
        return 0;
    }

    return (uint64_t) s->cycles + s->max_seq - s->base + 1;
}


/* payload bytes: a slice of a random pool */

static void
wl_fill(u_char *p, size_t len)
{
    size_t  off;

    off = wl_random32() % (sizeof(wl_pool) - WL_RTP_MAX);

    if (len > WL_RTP_MAX) {
        len = WL_RTP_MAX;
    }

    memcpy(p, wl_pool + off, len);
}


static void
wl_put64(u_char *p, uint64_t v)
{
    ngx_webrtc_put32(p, (uint32_t) (v >> 32));
    ngx_webrtc_put32(p + 4, (uint32_t) v);
}


static uint64_t
wl_get64(const u_char *p)
{
    return (uint64_t) ngx_webrtc_get32(p) << 32 | ngx_webrtc_get32(p + 4);
}
