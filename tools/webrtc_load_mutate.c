
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <stdlib.h>
#include <string.h>

#include "webrtc_load.h"


/*
 * --mutate N: once every peer of the process is up and media flows, each
 * sends N mutated datagrams from its own socket, that is on the 5-tuple
 * of its live session, paced at --mutate-rate for all peers together,
 * then stops.  They are made from what the peer really sent: its STUN
 * Binding request, the DTLS handshake records it sent, the publisher's
 * SRTP, receiver and sender reports; or random, a first byte in each
 * range of RFC 7983, 7 and outside them.  The server must drop each of
 * them and go on serving the session: viewers count the packets they
 * decrypt after the burst, and every peer must still be up.
 *
 * The mutations come from a PRNG of their own, seeded with --seed: the
 * same choices on every run (the datagrams they change differ, keys and
 * payloads are random).
 */


#define WL_KEEP_DTLS_N          8
#define WL_KEEP_RECENT          4
#define WL_MUTATE_SLICE         256         /* datagrams a call at most */

#define WL_STUN_HEADER          20
#define WL_STUN_COOKIE          0x2112a442
#define WL_DTLS_HEADER          13
#define WL_DTLS_HANDSHAKE       22
#define WL_DTLS_ALERT           21
#define WL_DTLS_CLIENT_HELLO    1


typedef struct {
    uint16_t                    len;
    u_char                      data[WL_MTU];
} wl_sample_t;


struct wl_mutate_s {
    unsigned                    left;           /* to send in the burst */
    unsigned                    next;           /* the kind, in turn */
    unsigned                    started:1;
    unsigned                    done:1;

    uint64_t                    rtp_after;      /* viewer: decrypted */
    uint64_t                    rtcp_after;     /* publisher: decrypted */

    wl_sample_t                 hello;          /* the ClientHello */
    wl_sample_t                 dtls[WL_KEEP_DTLS_N];
    unsigned                    ndtls;
    wl_sample_t                 srtp_old;       /* the first one sent */
    wl_sample_t                 srtp[WL_KEEP_RECENT];
    unsigned                    nsrtp;
    wl_sample_t                 srtcp_old;
    wl_sample_t                 srtcp;
};


static int wl_mutate_ready(wl_peer_t *p);
static void wl_mutate_start(wl_peer_t *p);
static void wl_mutate_send(wl_peer_t *p);
static ssize_t wl_mutate_make(wl_peer_t *p, wl_mut_e kind, u_char *out);
static size_t wl_mutate_common(unsigned op, const wl_sample_t *in,
    u_char *out);
static size_t wl_mutate_stun_length(const u_char *in, size_t len,
    u_char *out);
static size_t wl_mutate_dtls_length(const wl_sample_t *in, u_char *out);
static size_t wl_mutate_srtp_length(const wl_sample_t *in, u_char *out);
static size_t wl_mutate_random(wl_peer_t *p, wl_mut_e kind, u_char *out);
static uint16_t wl_mutate_len16(uint16_t real);
static void wl_mutate_bytes(u_char *p, size_t len);
static uint32_t wl_mrand(void);


const char  *wl_mut_names[WL_MUT_N] = {
    "stun_bitflip",
    "stun_byte",
    "stun_truncate",
    "stun_append",
    "stun_length",
    "dtls_bitflip",
    "dtls_byte",
    "dtls_truncate",
    "dtls_append",
    "dtls_length",
    "dtls_replay",
    "hello_replay",
    "srtp_bitflip",
    "srtp_byte",
    "srtp_truncate",
    "srtp_append",
    "srtp_length",
    "srtp_replay",
    "srtcp_bitflip",
    "srtcp_byte",
    "srtcp_truncate",
    "srtcp_append",
    "srtcp_length",
    "srtcp_replay",
    "random_stun",
    "random_dtls",
    "random_rtp",
    "random_other"
};

int                wl_mutate_phase;

static uint64_t    wl_mrand_state;
static int64_t     wl_mutate_begin;            /* the burst */
static int64_t     wl_mutate_end;
static uint64_t    wl_mutate_due;              /* sent so far */
static unsigned    wl_mutate_turn;             /* round robin */


/* with --mutate, a peer keeps copies of what it sends */

int
wl_mutate_peer(wl_peer_t *p)
{
    if (wl_conf.mutate == 0) {
        return 0;
    }

    p->mutate = calloc(1, sizeof(wl_mutate_t));

    return p->mutate ? 0 : -1;
}


/* decrypted media: a viewer's RTP, the publisher's RTCP from the server */

void
wl_mutate_media(wl_peer_t *p)
{
    if (p->mutate == NULL || wl_mutate_phase == 0) {
        return;
    }

    if (wl_mutate_phase == 1) {
        if (p->role == WL_ROLE_VIEWER) {
            wl_stats.rtp_during_mutate++;
        }

        return;
    }

    if (p->role == WL_ROLE_VIEWER) {
        p->mutate->rtp_after++;
        wl_stats.rtp_after_mutate++;

    } else {
        p->mutate->rtcp_after++;
        wl_stats.rtcp_after_mutate++;
    }
}


/* an answer to a consent check after the burst: the session is there */

void
wl_mutate_consent(wl_peer_t *p)
{
    if (p->mutate && wl_mutate_phase == 2) {
        wl_stats.consent_after_mutate++;
    }
}


void
wl_mutate_keep(wl_peer_t *p, wl_keep_e what, const u_char *buf, size_t len)
{
    wl_mutate_t  *m;
    wl_sample_t  *s;

    m = p->mutate;

    if (m == NULL || len == 0 || len > WL_MTU) {
        return;
    }

    switch (what) {

    case WL_KEEP_DTLS:

        /* RFC 6347, 4.2.2: handshake type at 13 */

        if (m->hello.len == 0 && len > WL_DTLS_HEADER
            && buf[0] == WL_DTLS_HANDSHAKE
            && buf[WL_DTLS_HEADER] == WL_DTLS_CLIENT_HELLO)
        {
            s = &m->hello;

        } else if (m->ndtls < WL_KEEP_DTLS_N) {
            s = &m->dtls[m->ndtls++];

        } else {
            return;
        }

        break;

    case WL_KEEP_SRTP:
        s = (m->srtp_old.len == 0) ? &m->srtp_old
                                   : &m->srtp[m->nsrtp++ % WL_KEEP_RECENT];
        break;

    default: /* WL_KEEP_SRTCP */
        s = (m->srtcp_old.len == 0) ? &m->srtcp_old : &m->srtcp;
        break;
    }

    memcpy(s->data, buf, len);
    s->len = (uint16_t) len;
}


/*
 * The burst of the process: it starts once every peer is up with media
 * (or failed), runs round robin over the peers at --mutate-rate, and
 * ends when each has sent its share.  Returns when to be called again.
 */

int64_t
wl_mutate_timer(wl_peer_t *pub, wl_peer_t **viewers, unsigned n,
    int64_t now)
{
    unsigned    i, k, busy, ready, sent;
    uint64_t    due;
    wl_peer_t  *p;

    if (wl_conf.mutate == 0 || wl_mutate_phase == 2 || wl_stopping) {
        return 0;
    }

    if (wl_mutate_phase == 0) {
        ready = 0;

        for (i = 0; i <= n; i++) {
            p = (i < n) ? viewers[i] : pub;

            if (p == NULL || p->state >= WL_PEER_FAILED) {
                continue;
            }

            if (!wl_mutate_ready(p)) {
                /* not yet: media first */
                return now + 10 * WL_MS;
            }

            ready++;
        }

        if (ready == 0) {
            return now + 10 * WL_MS;
        }

        for (i = 0; i <= n; i++) {
            p = (i < n) ? viewers[i] : pub;

            if (p && p->state == WL_PEER_CONNECTED) {
                wl_mutate_start(p);
            }
        }

        wl_mutate_phase = 1;
        wl_mutate_begin = now;
        wl_mutate_due = 0;

        wl_log("webrtc-load: mutation burst: %u datagrams from each of %u "
               "peers, %u a second", wl_conf.mutate, ready,
               wl_conf.mutate_rate);
    }

    /* the datagrams due by now, all peers together */

    due = (uint64_t) (now - wl_mutate_begin) * wl_conf.mutate_rate / WL_SEC
          + 1 - wl_mutate_due;

    if (due > WL_MUTATE_SLICE) {
        due = WL_MUTATE_SLICE;
    }

    sent = 0;

    while (sent < due) {
        busy = 0;

        for (k = 0; k <= n && sent < due; k++) {
            i = wl_mutate_turn++ % (n + 1);
            p = (i < n) ? viewers[i] : pub;

            if (p == NULL || p->mutate == NULL || !p->mutate->started
                || p->mutate->done)
            {
                continue;
            }

            if (p->state != WL_PEER_CONNECTED) {
                /* counted as closed at the end */
                p->mutate->done = 1;
                continue;
            }

            busy = 1;
            sent++;

            wl_mutate_send(p);
        }

        if (!busy) {
            wl_mutate_phase = 2;
            wl_mutate_end = now;

            wl_log("webrtc-load: mutation burst done in %.0f ms",
                   (now - wl_mutate_begin) / 1e6);
            return 0;
        }
    }

    wl_mutate_due += sent;

    return now + WL_SEC / wl_conf.mutate_rate + 1;
}


/*
 * Up with media: the publisher sent SRTP, a viewer decrypted some.  A
 * viewer's first receiver report comes a second after the handshake:
 * until then the server keeps its whole DTLS state (it releases it on
 * the first authenticated packet), so that the burst meets both; SRTCP
 * is mutated once there is some.
 */

static int
wl_mutate_ready(wl_peer_t *p)
{
    wl_mutate_t  *m;

    m = p->mutate;

    if (p->state != WL_PEER_CONNECTED || m == NULL || p->stun_len == 0
        || m->hello.len == 0)
    {
        return 0;
    }

    if (p->role == WL_ROLE_PUBLISHER) {
        return m->nsrtp != 0;
    }

    return p->got_first;
}


static void
wl_mutate_start(wl_peer_t *p)
{
    p->mutate->started = 1;
    p->mutate->left = wl_conf.mutate;
    p->mutate->next = wl_mrand() % WL_MUT_N;
}


/* the peer's next mutated datagram */

static void
wl_mutate_send(wl_peer_t *p)
{
    ssize_t       len;
    unsigned      i;
    wl_mut_e      kind;
    wl_mutate_t  *m;
    u_char        buf[WL_MUTATE_BUF];

    m = p->mutate;

    /* the kinds in turn, those the peer has something for */

    for (i = 0; i < WL_MUT_N; i++) {
        kind = (wl_mut_e) (m->next++ % WL_MUT_N);

        len = wl_mutate_make(p, kind, buf);

        if (len < 0) {
            continue;
        }

        if (wl_peer_send(p, buf, (size_t) len) == len) {
            wl_stats.mutate[kind]++;

        } else {
            wl_stats.mutate_errors++;
        }

        break;
    }

    if (--m->left == 0) {
        m->done = 1;
        wl_stats.mutate_peers++;
    }
}


/* one mutated datagram into out; -1: nothing of that kind to change */

static ssize_t
wl_mutate_make(wl_peer_t *p, wl_mut_e kind, u_char *out)
{
    wl_mutate_t  *m;
    wl_sample_t   stun, *s;

    m = p->mutate;

    switch (kind) {

    case WL_MUT_STUN_BITFLIP:
    case WL_MUT_STUN_BYTE:
    case WL_MUT_STUN_TRUNCATE:
    case WL_MUT_STUN_APPEND:
        if (p->stun_len > sizeof(stun.data)) {
            return -1;
        }

        memcpy(stun.data, p->stun, p->stun_len);
        stun.len = (uint16_t) p->stun_len;

        return wl_mutate_common(kind - WL_MUT_STUN_BITFLIP, &stun, out);

    case WL_MUT_STUN_LENGTH:
        return wl_mutate_stun_length(p->stun, p->stun_len, out);

    case WL_MUT_DTLS_BITFLIP:
    case WL_MUT_DTLS_BYTE:
    case WL_MUT_DTLS_TRUNCATE:
    case WL_MUT_DTLS_APPEND:
    case WL_MUT_DTLS_LENGTH:
        s = (m->ndtls == 0 || wl_mrand() % 3 == 0)
            ? &m->hello : &m->dtls[wl_mrand() % m->ndtls];

        if (kind == WL_MUT_DTLS_LENGTH) {
            return wl_mutate_dtls_length(s, out);
        }

        return wl_mutate_common(kind - WL_MUT_DTLS_BITFLIP, s, out);

    case WL_MUT_DTLS_REPLAY:
        if (m->ndtls == 0) {
            return -1;
        }

        s = &m->dtls[wl_mrand() % m->ndtls];
        memcpy(out, s->data, s->len);
        return s->len;

    case WL_MUT_HELLO_REPLAY:
        memcpy(out, m->hello.data, m->hello.len);
        return m->hello.len;

    case WL_MUT_SRTP_BITFLIP:
    case WL_MUT_SRTP_BYTE:
    case WL_MUT_SRTP_TRUNCATE:
    case WL_MUT_SRTP_APPEND:
    case WL_MUT_SRTP_LENGTH:
    case WL_MUT_SRTP_REPLAY:
        if (m->nsrtp == 0) {
            return -1;
        }

        /* a recent packet, or the first one: an old one */

        s = (wl_mrand() % 4 == 0)
            ? &m->srtp_old
            : &m->srtp[wl_mrand() % (m->nsrtp < WL_KEEP_RECENT
                                     ? m->nsrtp : WL_KEEP_RECENT)];

        if (kind == WL_MUT_SRTP_REPLAY) {
            memcpy(out, s->data, s->len);
            return s->len;
        }

        if (kind == WL_MUT_SRTP_LENGTH) {
            return wl_mutate_srtp_length(s, out);
        }

        return wl_mutate_common(kind - WL_MUT_SRTP_BITFLIP, s, out);

    case WL_MUT_SRTCP_BITFLIP:
    case WL_MUT_SRTCP_BYTE:
    case WL_MUT_SRTCP_TRUNCATE:
    case WL_MUT_SRTCP_APPEND:
    case WL_MUT_SRTCP_LENGTH:
    case WL_MUT_SRTCP_REPLAY:
        if (m->srtcp_old.len == 0) {
            return -1;
        }

        s = (m->srtcp.len == 0 || wl_mrand() % 4 == 0) ? &m->srtcp_old
                                                        : &m->srtcp;

        if (kind == WL_MUT_SRTCP_REPLAY) {
            memcpy(out, s->data, s->len);
            return s->len;
        }

        if (kind == WL_MUT_SRTCP_LENGTH) {
            /* RFC 3550, 6.4.1: the first packet's length word, in the clear */
            memcpy(out, s->data, s->len);
            ngx_webrtc_put16(out + 2,
                             wl_mutate_len16(ngx_webrtc_get16(s->data + 2)));
            return s->len;
        }

        return wl_mutate_common(kind - WL_MUT_SRTCP_BITFLIP, s, out);

    default:
        return wl_mutate_random(p, kind, out);
    }
}


/* the four mutations of every kind, in the order of wl_mut_e */

static size_t
wl_mutate_common(unsigned op, const wl_sample_t *in, u_char *out)
{
    size_t    len, pos, room;
    unsigned  i, n;

    len = in->len;
    memcpy(out, in->data, len);

    n = 1 + wl_mrand() % 4;

    switch (op) {

    case 0:
        /* bit flips, half of them in the first 24 bytes: the headers */

        for (i = 0; i < n; i++) {
            pos = (wl_mrand() % 2) ? wl_mrand() % (len < 24 ? len : 24)
                                   : wl_mrand() % len;
            out[pos] ^= (u_char) (1 << (wl_mrand() % 8));
        }

        return len;

    case 1:
        /* bytes replaced; the first one seldom, it selects the protocol */

        for (i = 0; i < n; i++) {
            pos = (len > 1 && wl_mrand() % 8) ? 1 + wl_mrand() % (len - 1)
                                              : 0;
            out[pos] = (u_char) wl_mrand();
        }

        return len;

    case 2:
        /* truncated: to 0-3 bytes a quarter of the time */

        if (wl_mrand() % 4 == 0) {
            n = wl_mrand() % 4;
            return n < len ? n : len - 1;
        }

        return wl_mrand() % len;

    default:
        /* junk appended: a few bytes, or past a 1500-byte MTU */

        room = WL_MUTATE_BUF - len;
        n = (wl_mrand() % 8) ? 1 + wl_mrand() % 64
                             : 1500 - (len < 1500 ? len : 1499)
                               + wl_mrand() % 256;

        if (n > room) {
            n = room;
        }

        wl_mutate_bytes(out + len, n);

        return len + n;
    }
}


/*
 * RFC 8489, 5 and 14: the message length, or the length of one of the
 * attributes (type, length, value padded to 4 bytes)
 */

static size_t
wl_mutate_stun_length(const u_char *in, size_t len, u_char *out)
{
    size_t    pos, alen;
    unsigned  k, n, pick;
    size_t    attrs[32];

    memcpy(out, in, len);

    n = 0;

    for (pos = WL_STUN_HEADER; pos + 4 <= len && n < 32; pos += 4 + alen) {
        attrs[n++] = pos;
        alen = ((size_t) in[pos + 2] << 8 | in[pos + 3]);
        alen = (alen + 3) & ~(size_t) 3;
    }

    pick = wl_mrand() % (n + 1);

    if (pick == n) {
        ngx_webrtc_put16(out + 2,
                         wl_mutate_len16((uint16_t) (len - WL_STUN_HEADER)));
        return len;
    }

    k = (unsigned) attrs[pick];
    ngx_webrtc_put16(out + k + 2,
             wl_mutate_len16((uint16_t) ((size_t) in[k + 2] << 8
                                         | in[k + 3])));
    return len;
}


/*
 * RFC 6347, 4.1 and 4.2.2: the record's length, or in a handshake record
 * in the clear the message's length, fragment offset or fragment length
 */

static size_t
wl_mutate_dtls_length(const wl_sample_t *in, u_char *out)
{
    size_t    len, off;
    unsigned  pick;
    uint32_t  v;

    len = in->len;
    memcpy(out, in->data, len);

    if (len < WL_DTLS_HEADER) {
        return len;
    }

    pick = (in->data[0] == WL_DTLS_HANDSHAKE && in->data[3] == 0
            && in->data[4] == 0 && len >= WL_DTLS_HEADER + 12)
           ? wl_mrand() % 4 : 0;

    if (pick == 0) {
        ngx_webrtc_put16(out + 11, wl_mutate_len16((uint16_t) (len
                                                       - WL_DTLS_HEADER)));
        return len;
    }

    /* 24-bit length (1), fragment_offset (6), fragment_length (9) */

    off = WL_DTLS_HEADER + (pick == 1 ? 1 : pick == 2 ? 6 : 9);

    v = (wl_mrand() % 2) ? wl_mrand() & 0xffffff
                         : (uint32_t) (((uint32_t) out[off] << 16
                                        | out[off + 1] << 8 | out[off + 2])
                                       + (wl_mrand() % 9) - 4) & 0xffffff;

    out[off] = (u_char) (v >> 16);
    out[off + 1] = (u_char) (v >> 8);
    out[off + 2] = (u_char) v;

    return len;
}


/*
 * RFC 3550, 5.1 and 5.3.1: the CSRC count, or the extension bit with a
 * random extension length, make the header longer than it is
 */

static size_t
wl_mutate_srtp_length(const wl_sample_t *in, u_char *out)
{
    size_t    len, pos;
    unsigned  cc;

    len = in->len;
    memcpy(out, in->data, len);

    if (len < 16) {
        return len;
    }

    cc = wl_mrand() % 16;

    if (wl_mrand() % 2) {
        out[0] = (u_char) ((out[0] & 0xf0) | cc);
        return len;
    }

    cc = cc % 4;
    out[0] = (u_char) ((out[0] & 0xe0) | 0x10 | cc);

    pos = 12 + 4 * cc;

    if (pos + 4 <= len) {
        out[pos] = 0xbe;
        out[pos + 1] = 0xde;
        ngx_webrtc_put16(out + pos + 2,
                         wl_mutate_len16((uint16_t) (wl_mrand() % 8)));
    }

    return len;
}


/*
 * Random datagrams, the first byte in a range of RFC 7983, 7; half of
 * them with the structure of that protocol, to get past its first checks
 */

static size_t
wl_mutate_random(wl_peer_t *p, wl_mut_e kind, u_char *out)
{
    int           shaped;
    size_t        len, n, pos, ulen;
    uint32_t      r;
    wl_mutate_t  *m;

    m = p->mutate;

    len = (wl_mrand() % 5 == 0) ? 1 + wl_mrand() % 24
                                : 1 + wl_mrand() % WL_RTP_MAX;

    wl_mutate_bytes(out, len);

    shaped = wl_mrand() % 2;

    switch (kind) {

    case WL_MUT_RANDOM_STUN:
        out[0] = (u_char) (wl_mrand() % 4);

        if (!shaped || len < WL_STUN_HEADER) {
            return len;
        }

        /* a Binding request, and our USERNAME: the server looks it up */

        len &= ~(size_t) 3;
        out[0] = 0x00;
        out[1] = 0x01;
        ngx_webrtc_put16(out + 2, (uint16_t) (len - WL_STUN_HEADER));
        out[4] = (u_char) (WL_STUN_COOKIE >> 24);
        out[5] = (u_char) (WL_STUN_COOKIE >> 16);
        out[6] = (u_char) (WL_STUN_COOKIE >> 8);
        out[7] = (u_char) WL_STUN_COOKIE;

        ulen = strlen(p->remote_ufrag) + 1 + strlen(p->ufrag);
        pos = WL_STUN_HEADER;

        if (pos + 4 + ulen <= len) {
            ngx_webrtc_put16(out + pos, 0x0006);
            ngx_webrtc_put16(out + pos + 2, (uint16_t) ulen);
            n = strlen(p->remote_ufrag);
            memcpy(out + pos + 4, p->remote_ufrag, n);
            out[pos + 4 + n] = ':';
            memcpy(out + pos + 5 + n, p->ufrag, strlen(p->ufrag));
            pos += 4 + ((ulen + 3) & ~(size_t) 3);
        }

        /* then attributes of random types and lengths */

        while (pos + 4 <= len) {
            r = wl_mrand();
            ngx_webrtc_put16(out + pos,
                             (uint16_t) ((r & 1) ? 0x8028 : (r >> 16)));
            n = (r >> 1) % 32;
            ngx_webrtc_put16(out + pos + 2, (uint16_t) n);
            pos += 4 + ((n + 3) & ~(size_t) 3);
        }

        return len;

    case WL_MUT_RANDOM_DTLS:
        out[0] = (u_char) (20 + wl_mrand() % 44);

        if (!shaped || len < WL_DTLS_HEADER) {
            return len;
        }

        /*
         * a record header: content type, DTLS 1.2, epoch 0 or 1; half of
         * them AES-GCM alerts of epoch 1, which the server authenticates
         */

        out[0] = (u_char) (20 + wl_mrand() % 4);
        out[1] = 0xfe;
        out[2] = 0xfd;
        out[3] = 0;
        out[4] = (u_char) (wl_mrand() % 2);

        if (wl_mrand() % 2 == 0 && len >= WL_DTLS_HEADER + 26) {
            out[0] = WL_DTLS_ALERT;
            out[4] = 1;
            len = WL_DTLS_HEADER + 26;
        }

        ngx_webrtc_put16(out + 11, (uint16_t) (len - WL_DTLS_HEADER));

        return len;

    case WL_MUT_RANDOM_RTP:
        out[0] = (u_char) (128 + wl_mrand() % 64);

        if (!shaped || len < 12) {
            return len;
        }

        /* RTCP or RTP with the peer's own SSRC: its stream's checks */

        if (wl_mrand() % 2 && m->srtcp_old.len >= 8) {
            out[1] = (u_char) (192 + wl_mrand() % 32);
            memcpy(out + 4, m->srtcp_old.data + 4, 4);

        } else if (m->nsrtp) {
            out[1] = (u_char) (wl_mrand() % 128);
            memcpy(out + 8, m->srtp[0].data + 8, 4);
        }

        return len;

    default: /* WL_MUT_RANDOM_OTHER */
        r = wl_mrand() % 3;
        out[0] = (u_char) (r == 0 ? 4 + wl_mrand() % 16
                         : r == 1 ? 64 + wl_mrand() % 64
                                  : 192 + wl_mrand() % 64);
        return len;
    }
}


/* a length field's new value: 0, all ones, off by a little, or any */

static uint16_t
wl_mutate_len16(uint16_t real)
{
    switch (wl_mrand() % 5) {

    case 0:
        return 0;

    case 1:
        return 0xffff;

    case 2:
        return (uint16_t) (real + 1 + wl_mrand() % 8);

    case 3:
        return (uint16_t) (real - 1 - wl_mrand() % 8);

    default:
        return (uint16_t) wl_mrand();
    }
}


static void
wl_mutate_bytes(u_char *p, size_t len)
{
    uint32_t  r;

    while (len >= 4) {
        r = wl_mrand();
        memcpy(p, &r, 4);
        p += 4;
        len -= 4;
    }

    while (len--) {
        *p++ = (u_char) wl_mrand();
    }
}


/*
 * At the end of the run (the last snapshot before the media stops): the
 * peers that had a burst and are up with media after it, and those that
 * are not up any more
 */

void
wl_mutate_gauges(wl_peer_t *pub, wl_peer_t **viewers, unsigned n,
    int64_t now)
{
    unsigned      i, first;
    uint64_t      alive, closed, min;
    wl_peer_t    *p;
    wl_mutate_t  *m;

    alive = 0;
    closed = 0;
    min = 0;
    first = 1;

    for (i = 0; i <= n; i++) {
        p = (i < n) ? viewers[i] : pub;

        if (p == NULL || p->mutate == NULL || !p->mutate->started) {
            continue;
        }

        m = p->mutate;

        if (p->state != WL_PEER_CONNECTED) {
            closed++;
            continue;
        }

        if (wl_mutate_phase == 2
            && (p->role == WL_ROLE_VIEWER ? m->rtp_after : m->rtcp_after))
        {
            alive++;
        }

        if (p->role == WL_ROLE_VIEWER) {
            if (first || m->rtp_after < min) {
                min = m->rtp_after;
                first = 0;
            }
        }
    }

    wl_stats.mutate_alive = alive;
    wl_stats.mutate_closed = closed;
    wl_stats.min_rtp_after = min;

    wl_stats.mutate_burst_ms = (wl_mutate_phase == 2)
                               ? (uint64_t) (wl_mutate_end
                                             - wl_mutate_begin) / WL_MS
                               : 0;
    wl_stats.mutate_after_ms = (wl_mutate_phase == 2)
                               ? (uint64_t) (now - wl_mutate_end) / WL_MS
                               : 0;
}


/* xorshift64* of its own: --seed makes the choices the same each run */

static uint32_t
wl_mrand(void)
{
    if (wl_mrand_state == 0) {
        wl_mrand_state = wl_conf.seed * 0x9e3779b97f4a7c15ULL + 1;
    }

    wl_mrand_state ^= wl_mrand_state >> 12;
    wl_mrand_state ^= wl_mrand_state << 25;
    wl_mrand_state ^= wl_mrand_state >> 27;

    return (uint32_t) ((wl_mrand_state * 0x2545f4914f6cdd1dULL) >> 32);
}

