
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_sdp_private.h"


static unsigned ngx_webrtc_candidate_tcp(const ngx_webrtc_sdp_str_t *c);
static void ngx_webrtc_put_candidates(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_answer_t *a);
static void ngx_webrtc_put_transport(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_answer_t *a);
static void ngx_webrtc_put_simulcast(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_sdp_media_t *m);
static void ngx_webrtc_put_media(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_answer_t *a,
    ngx_webrtc_answer_media_t *am, int first);


size_t
ngx_webrtc_sdp_write_answer(u_char *buf, size_t size, ngx_webrtc_sdp_t *offer,
    ngx_webrtc_answer_t *a)
{
    unsigned                    i, n, tag;
    ngx_webrtc_sdp_str_t        list, mid;
    ngx_webrtc_sdp_out_t        o;
    ngx_webrtc_answer_media_t  *am;

    o.pos = buf;
    o.end = buf + size;
    o.overflow = 0;

    ngx_webrtc_puts(&o, "v=0\r\no=- ");
    ngx_webrtc_put_uint(&o, a->session_id);
    ngx_webrtc_puts(&o, " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                        "a=ice-lite\r\na=group:BUNDLE");

    /*
     * RFC 8843, 7.3.1: the accepted m= sections in the order of the
     * offer's group; the first one is the answerer's BUNDLE-tag, the
     * section that carries the candidates
     */

    tag = a->nmedia;
    n = 0;
    list = offer->bundle;

    while (ngx_webrtc_sdp_token(&list, &mid) == NGX_WEBRTC_SDP_OK) {
        for (i = 0; i < a->nmedia; i++) {
            if (a->media[i].state == NGX_WEBRTC_ANSWER_ACCEPTED
                && offer->media[i].mid.len == mid.len
                && memcmp(offer->media[i].mid.data, mid.data, mid.len) == 0)
            {
                ngx_webrtc_puts(&o, " ");
                ngx_webrtc_put_str(&o, &mid);

                if (tag == a->nmedia) {
                    tag = i;
                }

                n++;
                break;
            }
        }
    }

    ngx_webrtc_puts(&o, "\r\na=msid-semantic: WMS");

    if (a->msid.len) {
        ngx_webrtc_puts(&o, " ");
        ngx_webrtc_put_str(&o, &a->msid);
    }

    ngx_webrtc_puts(&o, "\r\n");

    for (i = 0; i < a->nmedia; i++) {
        am = &a->media[i];
        ngx_webrtc_put_media(&o, &offer->media[i], a, am, i == tag);
    }

    if (o.overflow || n == 0) {
        return 0;
    }

    return o.pos - buf;
}


static void
ngx_webrtc_put_media(ngx_webrtc_sdp_out_t *o, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_answer_t *a, ngx_webrtc_answer_media_t *am, int first)
{
    unsigned                  i;
    const u_char             *sp;
    ngx_webrtc_track_t       *tr;
    ngx_webrtc_sdp_str_t      addr, port, cand;
    ngx_webrtc_sdp_format_t  *f;

    static const char  *dirs[] = {
        "sendrecv", "sendonly", "recvonly", "inactive"
    };

    ngx_webrtc_puts(o, "m=");
    ngx_webrtc_put_str(o, &m->type);

    if (am->state == NGX_WEBRTC_ANSWER_REJECTED) {

        /* RFC 8843, 7.3.3: a rejected m= section has port zero */

        ngx_webrtc_puts(o, " 0 ");
        ngx_webrtc_put_str(o, &m->proto);

        if (m->nformats) {
            ngx_webrtc_puts(o, " ");
            ngx_webrtc_put_uint(o, m->formats[0].pt);

        } else {
            ngx_webrtc_puts(o, " webrtc-datachannel");
        }

        ngx_webrtc_puts(o, "\r\nc=IN IP4 0.0.0.0\r\n");

        /*
         * still a complete section: GStreamer's webrtcbin checks the
         * transport of every m= section of an answer, rejected or not
         */

        ngx_webrtc_put_transport(o, a);

        if (m->mid.len) {
            ngx_webrtc_puts(o, "a=mid:");
            ngx_webrtc_put_str(o, &m->mid);
            ngx_webrtc_puts(o, "\r\n");
        }

        if (m->nformats) {
            /* RTP: without it the direction would read sendrecv */
            ngx_webrtc_puts(o, "a=inactive\r\n");
        }

        return;
    }

    /* the first candidate's address and port, RFC 8839, 4.2.1.1 */

    addr.data = (const u_char *) "0.0.0.0";
    addr.len = 7;
    port.data = (const u_char *) "9";
    port.len = 1;

    /* a UDP one's if any: the browsers' default is UDP */

    for (i = 0; i < a->ncandidates; i++) {
        if (ngx_webrtc_candidate_tcp(&a->candidates[i]) == 0) {
            break;
        }
    }

    if (i == a->ncandidates) {
        i = 0;
    }

    if (a->ncandidates) {
        cand = a->candidates[i];

        if (ngx_webrtc_candidate_tcp(&cand)) {
            cand.len -= sizeof(" tcp") - 1;
        }

        sp = memchr(cand.data, ' ', cand.len);

        if (sp) {
            addr.data = cand.data;
            addr.len = sp - addr.data;
            port.data = sp + 1;
            port.len = cand.data + cand.len - port.data;
        }
    }

    tr = (am->track != NGX_WEBRTC_NO_TRACK) ? &a->tracks[am->track] : NULL;
    f = &m->formats[am->format];

    ngx_webrtc_puts(o, " ");
    ngx_webrtc_put_str(o, &port);
    ngx_webrtc_puts(o, " ");
    ngx_webrtc_put_str(o, &m->proto);
    ngx_webrtc_puts(o, " ");
    ngx_webrtc_put_uint(o, tr ? tr->pt : f->pt);

    ngx_webrtc_puts(o, memchr(addr.data, ':', addr.len) ? "\r\nc=IN IP6 "
                                                         : "\r\nc=IN IP4 ");
    ngx_webrtc_put_str(o, &addr);

    ngx_webrtc_puts(o, "\r\n");
    ngx_webrtc_put_transport(o, a);
    ngx_webrtc_puts(o, "a=mid:");
    ngx_webrtc_put_str(o, &m->mid);
    ngx_webrtc_puts(o, "\r\n");

    if (tr) {
        for (i = 0; i < NGX_WEBRTC_EXT_N; i++) {
            if (tr->ext[i]) {
                ngx_webrtc_puts(o, "a=extmap:");
                ngx_webrtc_put_uint(o, tr->ext[i]);
                ngx_webrtc_puts(o, " ");
                ngx_webrtc_puts(o, ngx_webrtc_ext_uris[i]);
                ngx_webrtc_puts(o, "\r\n");
            }
        }
    }

    ngx_webrtc_puts(o, "a=");
    ngx_webrtc_puts(o, dirs[am->direction & 3]);
    ngx_webrtc_puts(o, "\r\n");

    if (tr && am->direction == NGX_WEBRTC_DIR_SENDONLY) {
        ngx_webrtc_puts(o, "a=msid:");
        ngx_webrtc_put_str(o, &a->msid);
        ngx_webrtc_puts(o, tr->kind == NGX_WEBRTC_MEDIA_AUDIO ? " audio\r\n"
                                                             : " video\r\n");
    }

    ngx_webrtc_puts(o, "a=rtcp-mux\r\n");

    if (m->rtcp_rsize) {
        ngx_webrtc_puts(o, "a=rtcp-rsize\r\n");
    }

    if (tr) {
        ngx_webrtc_puts(o, "a=rtpmap:");
        ngx_webrtc_put_uint(o, tr->pt);
        ngx_webrtc_puts(o, " ");
        ngx_webrtc_puts(o, ngx_webrtc_codec_name(tr->codec));
        ngx_webrtc_puts(o, "/");
        ngx_webrtc_put_uint(o, tr->clock);

        if (tr->kind == NGX_WEBRTC_MEDIA_AUDIO && tr->channels > 1) {
            ngx_webrtc_puts(o, "/");
            ngx_webrtc_put_uint(o, tr->channels);
        }

        ngx_webrtc_puts(o, "\r\n");

    } else if (f->clock) {
        /*
         * an inactive section echoes the offer's first format, if the
         * offer says what it is: no a=rtpmap with a clock rate of 0
         */
        ngx_webrtc_puts(o, "a=rtpmap:");
        ngx_webrtc_put_uint(o, f->pt);
        ngx_webrtc_puts(o, " ");

        if (f->name.len) {
            ngx_webrtc_put_str(o, &f->name);

        } else {
            ngx_webrtc_puts(o, ngx_webrtc_codec_name(f->codec));
        }

        ngx_webrtc_puts(o, "/");
        ngx_webrtc_put_uint(o, f->clock);

        if (f->channels > 1) {
            ngx_webrtc_puts(o, "/");
            ngx_webrtc_put_uint(o, f->channels);
        }

        ngx_webrtc_puts(o, "\r\n");
    }

    if (tr) {
        static const struct {
            uint8_t      fb;
            const char  *text;
        } fbs[] = {
            { NGX_WEBRTC_FB_REMB, "goog-remb" },
            { NGX_WEBRTC_FB_TRANSPORT_CC, "transport-cc" },
            { NGX_WEBRTC_FB_FIR, "ccm fir" },
            { NGX_WEBRTC_FB_NACK, "nack" },
            { NGX_WEBRTC_FB_PLI, "nack pli" },
        };

        for (i = 0; i < sizeof(fbs) / sizeof(fbs[0]); i++) {
            if (tr->fb & fbs[i].fb) {
                ngx_webrtc_puts(o, "a=rtcp-fb:");
                ngx_webrtc_put_uint(o, tr->pt);
                ngx_webrtc_puts(o, " ");
                ngx_webrtc_puts(o, fbs[i].text);
                ngx_webrtc_puts(o, "\r\n");
            }
        }

        if (tr->fmtp_len) {
            ngx_webrtc_puts(o, "a=fmtp:");
            ngx_webrtc_put_uint(o, tr->pt);
            ngx_webrtc_puts(o, " ");
            ngx_webrtc_put(o, tr->fmtp, tr->fmtp_len);
            ngx_webrtc_puts(o, "\r\n");
        }

        if (tr->rid_len) {
            ngx_webrtc_put_simulcast(o, m);
        }

        if (am->direction == NGX_WEBRTC_DIR_SENDONLY) {
            ngx_webrtc_puts(o, "a=ssrc:");
            ngx_webrtc_put_uint(o, tr->ssrc);
            ngx_webrtc_puts(o, " cname:");
            ngx_webrtc_put_str(o, &a->cname);
            ngx_webrtc_puts(o, "\r\na=ssrc:");
            ngx_webrtc_put_uint(o, tr->ssrc);
            ngx_webrtc_puts(o, " msid:");
            ngx_webrtc_put_str(o, &a->msid);
            ngx_webrtc_puts(o, tr->kind == NGX_WEBRTC_MEDIA_AUDIO
                               ? " audio\r\n" : " video\r\n");
        }
    }

    if (first) {
        ngx_webrtc_put_candidates(o, a);
    }
}


size_t
ngx_webrtc_sdp_write_fragment(u_char *buf, size_t size,
    ngx_webrtc_answer_t *a, const u_char *mid, size_t mid_len)
{
    ngx_webrtc_sdp_out_t  o;

    /* RFC 8840, 9 and RFC 9725, 4.3.2: the answer to an ICE restart */

    o.pos = buf;
    o.end = buf + size;
    o.overflow = 0;

    ngx_webrtc_puts(&o, "a=ice-lite\r\na=ice-ufrag:");
    ngx_webrtc_put_str(&o, &a->ufrag);
    ngx_webrtc_puts(&o, "\r\na=ice-pwd:");
    ngx_webrtc_put_str(&o, &a->pwd);
    ngx_webrtc_puts(&o, "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:");
    ngx_webrtc_put(&o, mid, mid_len);
    ngx_webrtc_puts(&o, "\r\n");
    ngx_webrtc_put_candidates(&o, a);

    if (o.overflow) {
        return 0;
    }

    return o.pos - buf;
}


static void
ngx_webrtc_put_transport(ngx_webrtc_sdp_out_t *o, ngx_webrtc_answer_t *a)
{
    ngx_webrtc_puts(o, "a=ice-ufrag:");
    ngx_webrtc_put_str(o, &a->ufrag);
    ngx_webrtc_puts(o, "\r\na=ice-pwd:");
    ngx_webrtc_put_str(o, &a->pwd);
    ngx_webrtc_puts(o, "\r\na=fingerprint:");
    ngx_webrtc_put_str(o, &a->fingerprint);
    ngx_webrtc_puts(o, "\r\na=setup:passive\r\n");
}


/* RFC 8853, 5.3: the answer receives every layer the offer sends */

static void
ngx_webrtc_put_simulcast(ngx_webrtc_sdp_out_t *o, ngx_webrtc_sdp_media_t *m)
{
    unsigned  i;

    for (i = 0; i < m->nrids; i++) {
        if (m->rids[i].send) {
            ngx_webrtc_puts(o, "a=rid:");
            ngx_webrtc_put_str(o, &m->rids[i].id);
            ngx_webrtc_puts(o, " recv\r\n");
        }
    }

    ngx_webrtc_puts(o, "a=simulcast:recv ");
    ngx_webrtc_put_str(o, &m->simulcast_send);
    ngx_webrtc_puts(o, "\r\n");
}


/* an ICE-TCP candidate's ends with " tcp" */

static unsigned
ngx_webrtc_candidate_tcp(const ngx_webrtc_sdp_str_t *c)
{
    return c->len > 4 && memcmp(c->data + c->len - 4, " tcp", 4) == 0;
}


static void
ngx_webrtc_put_candidates(ngx_webrtc_sdp_out_t *o, ngx_webrtc_answer_t *a)
{
    unsigned              i;
    ngx_webrtc_sdp_str_t  c;

    /*
     * RFC 8445, 5.1.2.1: host type preference 126, the local preference
     * keeps the configured order, one component (rtcp-mux)
     */

    for (i = 0; i < a->ncandidates && i < 256; i++) {

        if (ngx_webrtc_candidate_tcp(&a->candidates[i])) {
            continue;
        }

        ngx_webrtc_puts(o, "a=candidate:");
        ngx_webrtc_put_uint(o, i + 1);
        ngx_webrtc_puts(o, " 1 udp ");
        ngx_webrtc_put_uint(o, (126u << 24) + ((65535u - i) << 8) + 255);
        ngx_webrtc_puts(o, " ");
        ngx_webrtc_put_str(o, &a->candidates[i]);
        ngx_webrtc_puts(o, " typ host\r\n");
    }

    /*
     * ICE-TCP, RFC 6544, 4.2 and 4.5: passive host candidates, after UDP's
     * with a lower type preference (90), the direction's preference in the
     * local one; port 9 is for active candidates only
     */

    for (i = 0; i < a->ncandidates && i < 256; i++) {

        if (!ngx_webrtc_candidate_tcp(&a->candidates[i])) {
            continue;
        }

        c = a->candidates[i];
        c.len -= sizeof(" tcp") - 1;

        ngx_webrtc_puts(o, "a=candidate:");
        ngx_webrtc_put_uint(o, i + 1);
        ngx_webrtc_puts(o, " 1 tcp ");
        ngx_webrtc_put_uint(o, (90u << 24)
                               + (((4u << 13) + (8191u - i)) << 8) + 255);
        ngx_webrtc_puts(o, " ");
        ngx_webrtc_put_str(o, &c);
        ngx_webrtc_puts(o, " typ host tcptype passive\r\n");
    }

    ngx_webrtc_puts(o, "a=end-of-candidates\r\n");
}


void
ngx_webrtc_put(ngx_webrtc_sdp_out_t *o, const void *p, size_t len)
{
    if (len == 0) {
        /* an empty string may have no data pointer */
        return;
    }

    if (o->overflow || (size_t) (o->end - o->pos) < len) {
        o->overflow = 1;
        return;
    }

    memcpy(o->pos, p, len);
    o->pos += len;
}


void
ngx_webrtc_puts(ngx_webrtc_sdp_out_t *o, const char *s)
{
    ngx_webrtc_put(o, s, strlen(s));
}


void
ngx_webrtc_put_str(ngx_webrtc_sdp_out_t *o, ngx_webrtc_sdp_str_t *s)
{
    ngx_webrtc_put(o, s->data, s->len);
}


void
ngx_webrtc_put_uint(ngx_webrtc_sdp_out_t *o, uint64_t n)
{
    u_char   buf[20], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    ngx_webrtc_put(o, p, buf + sizeof(buf) - p);
}
