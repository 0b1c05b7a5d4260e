
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <stdlib.h>
#include <string.h>

#include "webrtc_load.h"


/*
 * SRTP must never encrypt two different plaintexts under one SSRC and
 * packet index (RFC 3711, 9.1; with AES-GCM, RFC 7714, 8.3: the nonce is
 * the SSRC and the index).  The viewers' side, --index-check: each viewer
 * keeps, for every SSRC it receives and the SRTP index of each packet
 * (ROC << 16 | SEQ, estimated as RFC 3711, 3.3.1), a hash of the packet
 * as it arrived, before decryption: under one key and index the same
 * plaintext gives the same bytes, a different one different bytes.  A
 * repeat with the same bytes is a resend (index_repeats), with other
 * bytes a reused nonce (nonce_reuse).  The viewer's own libsrtp2 would
 * refuse the second as a replay: the check has to come first.  With
 * --nack-every N a viewer asks, after every Nth video packet, for the one
 * 3 before again (RFC 4585, 6.2.1): the server's resend from its cache
 * has to come with the same bytes.
 *
 * The publisher's side makes what could lead a server to it:
 *   --dup-every N    after every Nth video packet, an earlier one again
 *                    with other bytes (a new send time, as libwebrtc
 *                    rewrites abs-send-time in a retransmission): the
 *                    one just sent and one sent over 1024 packets ago,
 *                    in turn, each encrypted with a fresh SRTP context of
 *                    the same keys, as its first send was;
 *   --ssrc-switch S  S seconds in, the video changes its SSRC, and the
 *                    first two packets of the new one go out swapped, as
 *                    a network may reorder them;
 *   --ssrc N, --seq N  the video SSRC (audio N + 1) and the first
 *                    sequence numbers, for a publisher that replaces
 *                    another with the same ones.
 */


#define WL_INDEX_RING           4096        /* indices kept, 2^n */
#define WL_DUP_HISTORY          2048        /* video packets kept, 2^n */
#define WL_DUP_LATE             1100        /* packets back, > 1024 */


typedef struct {
    uint64_t                    index;      /* + 1; 0: none */
    uint64_t                    hash;
} wl_index_slot_t;


typedef struct {
    uint32_t                    ssrc;
    unsigned                    started:1;
    uint64_t                    high;       /* the highest index */
    uint64_t                    packets;
    wl_index_slot_t             ring[WL_INDEX_RING];
} wl_index_ssrc_t;


struct wl_index_s {
    wl_index_ssrc_t             s[2];
    unsigned                    next;       /* replaced next */
};


typedef struct {
    u_char                      data[WL_RTP_MAX];
    uint16_t                    len;
} wl_dup_packet_t;


/* the publisher's: one a process */

typedef struct {
    int                         gcm;
    unsigned                    keys:1;
    unsigned                    switched:1;
    unsigned                    held:1;
    unsigned                    late:1;     /* the next duplicate's */
    u_char                      material[2 * (16 + 14)];
    uint64_t                    sent;       /* video packets */
    wl_dup_packet_t             hold;
    wl_dup_packet_t             history[WL_DUP_HISTORY];
} wl_dup_t;


static void wl_index_nack(wl_peer_t *p, uint32_t ssrc, uint16_t seq);
static void wl_dup_send(wl_peer_t *p, const wl_dup_packet_t *orig);
static uint64_t wl_index_hash(const u_char *p, size_t len);


static wl_dup_t  *wl_dup;


/* a viewer's SRTP packet, before libsrtp2 sees it */

void
wl_index_check(wl_peer_t *p, const u_char *buf, size_t len)
{
    int32_t           diff;
    uint16_t          seq;
    uint32_t          ssrc;
    uint64_t          index, hash;
    unsigned          i;
    wl_index_ssrc_t  *s;
    wl_index_slot_t  *slot;

    if (len < 12) {
        return;
    }

    if (p->indices == NULL) {
        p->indices = calloc(1, sizeof(wl_index_t));
        if (p->indices == NULL) {
            return;
        }
    }

    seq = ngx_webrtc_get16(buf + 2);
    ssrc = ngx_webrtc_get32(buf + 8);

    for (i = 0; i < 2; i++) {
        if (p->indices->s[i].started && p->indices->s[i].ssrc == ssrc) {
            break;
        }
    }

    if (i == 2) {
        /* a new SSRC: in a free place, or in the older's */

        i = p->indices->s[0].started ? (p->indices->s[1].started
                                      ? p->indices->next : 1)
                                   : 0;
        p->indices->next = !i;

        s = &p->indices->s[i];
        memset(s, 0, sizeof(wl_index_ssrc_t));
        s->ssrc = ssrc;
        s->started = 1;
        s->high = seq;
    }

    s = &p->indices->s[i];

    /* RFC 3711, 3.3.1: the index closest to the highest so far */

    diff = (int16_t) (seq - (uint16_t) s->high);

    if (diff < 0 && s->high < (uint64_t) -diff) {
        /* before the first ROC: not one the sender could have used */
        return;
    }

    index = s->high + diff;

    if (index > s->high) {
        s->high = index;
    }

    if (wl_conf.nack_every && (buf[1] & 0x7f) == p->video_pt
        && ++s->packets % wl_conf.nack_every == 0)
    {
        wl_index_nack(p, ssrc, (uint16_t) (s->high - 3));
    }

    hash = wl_index_hash(buf, len);
    slot = &s->ring[index & (WL_INDEX_RING - 1)];

    if (slot->index == index + 1) {
        if (slot->hash == hash) {
            wl_stats.index_repeats++;

        } else {
            wl_stats.nonce_reuse++;

            if (wl_stats.nonce_reuse <= 5) {
                wl_log("webrtc-load: viewer %u: SSRC %08x index %llu "
                       "(seq %u) came again with other bytes",
                       p->index, (unsigned) ssrc,
                       (unsigned long long) index, (unsigned) seq);
            }
        }

        return;
    }

    slot->index = index + 1;
    slot->hash = hash;
}


/* RFC 4585, 6.2.1: a Generic NACK for one packet */

static void
wl_index_nack(wl_peer_t *p, uint32_t ssrc, uint16_t seq)
{
    int     n;
    u_char  fci[4], buf[64];

    if (p->srtp_out == NULL) {
        return;
    }

    ngx_webrtc_put16(fci, seq);
    ngx_webrtc_put16(fci + 2, 0);

    n = (int) ngx_webrtc_rtcp_nack(buf, 1 + p->index, ssrc, fci, 4);

    if (srtp_protect_rtcp(p->srtp_out, buf, &n) == srtp_err_status_ok
        && wl_peer_send(p, buf, n) == n)
    {
        wl_stats.index_nacks++;
    }
}


/* FNV-1a, 64 bits */

static uint64_t
wl_index_hash(const u_char *p, size_t len)
{
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


/* a new publisher's SSRCs and sequence numbers */

void
wl_dup_init(wl_pub_t *pub)
{
    if (wl_conf.ssrc) {
        pub->video_ssrc = wl_conf.ssrc;
        pub->audio_ssrc = wl_conf.ssrc + 1;
    }

    if (wl_conf.seq >= 0) {
        pub->video_seq = (uint16_t) wl_conf.seq;
        pub->audio_seq = (uint16_t) wl_conf.seq;

    } else if (wl_conf.dup_every) {
        /*
         * a duplicate's fresh SRTP context starts at ROC 0: so does the
         * stream, and it does not wrap in a test's time
         */
        pub->video_seq &= 0x3fff;
    }
}


/* the SRTP keys, for the duplicates' fresh contexts */

void
wl_dup_keys(int gcm, const u_char *material)
{
    if (!wl_conf.dup_every && wl_conf.ssrc_switch <= 0) {
        return;
    }

    if (wl_dup == NULL) {
        wl_dup = calloc(1, sizeof(wl_dup_t));
        if (wl_dup == NULL) {
            return;
        }
    }

    wl_dup->gcm = gcm;
    memcpy(wl_dup->material, material, sizeof(wl_dup->material));
    wl_dup->keys = 1;
}


/*
 * A video packet of the publisher, not encrypted yet: kept for the
 * duplicates, its SSRC the new one after --ssrc-switch; 1 if it is the
 * new SSRC's first, held back to go out after the next
 */

int
wl_dup_before(wl_pub_t *pub, u_char *buf, size_t len)
{
    wl_dup_packet_t  *h;

    if (wl_dup == NULL || !wl_dup->keys || len > WL_RTP_MAX) {
        return 0;
    }

    if (wl_conf.ssrc_switch > 0 && !wl_dup->switched
        && wl_now() - pub->start >= (int64_t) (wl_conf.ssrc_switch * WL_SEC))
    {
        wl_dup->switched = 1;
        pub->video_ssrc = wl_random32() | 1;

        wl_log("webrtc-load: publisher: video SSRC now %08x, its first two "
               "packets swapped", (unsigned) pub->video_ssrc);

        ngx_webrtc_put32(buf + 8, pub->video_ssrc);

        memcpy(wl_dup->hold.data, buf, len);
        wl_dup->hold.len = (uint16_t) len;
        wl_dup->held = 1;

        return 1;
    }

    if (wl_dup->switched) {
        /* those queued before the switch */
        ngx_webrtc_put32(buf + 8, pub->video_ssrc);
    }

    h = &wl_dup->history[wl_dup->sent++ & (WL_DUP_HISTORY - 1)];
    memcpy(h->data, buf, len);
    h->len = (uint16_t) len;

    return 0;
}


/* after a video packet went out: the one held back, the duplicates */

void
wl_dup_after(wl_peer_t *p)
{
    int               n;
    uint64_t          back;
    wl_dup_packet_t  *h;
    u_char            buf[WL_RTP_MAX + WL_SRTP_ROOM];

    if (wl_dup == NULL || !wl_dup->keys) {
        return;
    }

    if (wl_dup->held) {
        wl_dup->held = 0;

        h = &wl_dup->history[wl_dup->sent++ & (WL_DUP_HISTORY - 1)];
        *h = wl_dup->hold;

        memcpy(buf, h->data, h->len);
        n = h->len;

        if (srtp_protect(p->srtp_out, buf, &n) == srtp_err_status_ok
            && wl_peer_send(p, buf, n) == n)
        {
            wl_stats.tx_packets++;
            wl_stats.tx_bytes += n;
        }
    }

    if (wl_conf.dup_every == 0 || wl_dup->sent % wl_conf.dup_every != 0) {
        return;
    }

    back = wl_dup->late ? WL_DUP_LATE : 2;

    if (wl_dup->sent < back) {
        return;
    }

    wl_dup->late = !wl_dup->late;

    wl_dup_send(p, &wl_dup->history[(wl_dup->sent - back)
                                    & (WL_DUP_HISTORY - 1)]);
}


static void
wl_dup_send(wl_peer_t *p, const wl_dup_packet_t *orig)
{
    int      n;
    srtp_t   in, out;
    u_char   buf[WL_RTP_MAX + WL_SRTP_ROOM];

    memcpy(buf, orig->data, orig->len);

    /* other bytes: the send time now, as a rewritten abs-send-time */

    if (orig->len >= 12 + WL_STAMP_OFFSET + WL_STAMP_LEN) {
        ngx_webrtc_put32(buf + 12 + WL_STAMP_OFFSET + 8,
                         ngx_webrtc_get32(buf + 12 + WL_STAMP_OFFSET + 8)
                         ^ 0x5a5a5a5a);
    }

    buf[orig->len - 1] ^= 0xff;

    if (ngx_webrtc_srtp_sessions(&in, &out, wl_dup->gcm, wl_dup->material, 1)
        != srtp_err_status_ok)
    {
        return;
    }

    n = orig->len;

    if (srtp_protect(out, buf, &n) == srtp_err_status_ok
        && wl_peer_send(p, buf, n) == n)
    {
        wl_stats.pub_dups++;
    }

    srtp_dealloc(in);
    srtp_dealloc(out);
}
