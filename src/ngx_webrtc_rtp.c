
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_rtp.h"


uint16_t
ngx_webrtc_get16(const u_char *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}


uint32_t
ngx_webrtc_get32(const u_char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}


void
ngx_webrtc_put16(u_char *p, uint16_t v)
{
    p[0] = (u_char) (v >> 8);
    p[1] = (u_char) v;
}


void
ngx_webrtc_put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) (v >> 24);
    p[1] = (u_char) (v >> 16);
    p[2] = (u_char) (v >> 8);
    p[3] = (u_char) v;
}


/* RFC 5761, 4: RTCP packet types 192-223 in the second octet */

int
ngx_webrtc_is_rtcp(const u_char *p, size_t len)
{
    return len >= 2 && p[1] >= 192 && p[1] <= 223;
}


/* RFC 3550, 5.1 and RFC 8285, 4.2; returns 0 or -1 on a malformed packet */

int
ngx_webrtc_rtp_parse(const u_char *p, size_t len, ngx_webrtc_rtp_t *rtp)
{
    size_t  n, pad;

    if (len < NGX_WEBRTC_RTP_MIN || (p[0] >> 6) != 2) {
        return -1;
    }

    rtp->marker = p[1] >> 7;
    rtp->pt = p[1] & 0x7f;
    rtp->seq = ngx_webrtc_get16(p + 2);
    rtp->ts = ngx_webrtc_get32(p + 4);
    rtp->ssrc = ngx_webrtc_get32(p + 8);
    rtp->ext_offset = 0;
    rtp->ext_len = 0;

    n = NGX_WEBRTC_RTP_MIN + (p[0] & 0x0f) * 4;

    if (n > len) {
        return -1;
    }

    if (p[0] & 0x10) {
        /* the extension header: profile, length in words */

        if (n + 4 > len) {
            return -1;
        }

        rtp->ext_len = (size_t) ngx_webrtc_get16(p + n + 2) * 4;

        if (ngx_webrtc_get16(p + n) == 0xbede) {
            rtp->ext_offset = n + 4;
        }

        n += 4 + rtp->ext_len;

        if (n > len) {
            return -1;
        }

        if (rtp->ext_offset == 0) {
            rtp->ext_len = 0;
        }
    }

    pad = 0;

    if (p[0] & 0x20) {
        pad = p[len - 1];

        if (pad == 0 || n + pad > len) {
            return -1;
        }
    }

    rtp->header_len = n;
    rtp->payload_len = len - n - pad;

    return 0;
}


/*
 * Rewrites a parsed packet for one viewer: payload type, sequence number,
 * timestamp, SSRC, and one-byte header extension ids through ext_map
 * (publisher id -> viewer id); an element the viewer did not negotiate is
 * turned into padding (RFC 8285, 4.2: id 0 bytes are padding).
 */

void
ngx_webrtc_rtp_rewrite(u_char *p, const ngx_webrtc_rtp_t *rtp, uint8_t pt,
    uint16_t seq, uint32_t ts, uint32_t ssrc, const uint8_t *ext_map)
{
    u_char  *e, *end;
    size_t   len;
    uint8_t  id;

    p[1] = (u_char) ((p[1] & 0x80) | (pt & 0x7f));
    ngx_webrtc_put16(p + 2, seq);
    ngx_webrtc_put32(p + 4, ts);
    ngx_webrtc_put32(p + 8, ssrc);

    if (rtp->ext_offset == 0 || ext_map == NULL) {
        return;
    }

    e = p + rtp->ext_offset;
    end = e + rtp->ext_len;

    while (e < end) {
        id = *e >> 4;

        if (id == 0) {
            e++;
            continue;
        }

        if (id == 15) {
            /* reserved: parsing stops */
            break;
        }

        len = (size_t) (*e & 0x0f) + 1;

        if (e + 1 + len > end) {
            break;
        }

        if (ext_map[id]) {
            *e = (u_char) (ext_map[id] << 4 | (*e & 0x0f));

        } else {
            memset(e, 0, 1 + len);
        }

        e += 1 + len;
    }
}


/*
 * RFC 8285, 4.2: the value of the one-byte header extension element with
 * the given id in a parsed packet; its length, or -1 if there is none
 */

ssize_t
ngx_webrtc_rtp_ext(const u_char *p, const ngx_webrtc_rtp_t *rtp, uint8_t id,
    const u_char **value)
{
    size_t         len;
    uint8_t        eid;
    const u_char  *e, *end;

    if (rtp->ext_offset == 0 || id == 0 || id > 14) {
        return -1;
    }

    e = p + rtp->ext_offset;
    end = e + rtp->ext_len;

    while (e < end) {
        eid = *e >> 4;

        if (eid == 0) {
            e++;
            continue;
        }

        if (eid == 15) {
            break;
        }

        len = (size_t) (*e & 0x0f) + 1;

        if ((size_t) (end - e) < 1 + len) {
            break;
        }

        if (eid == id) {
            *value = e + 1;
            return (ssize_t) len;
        }

        e += 1 + len;
    }

    return -1;
}


/*
 * The profile-level-id (RFC 6184, 8.1) of a sequence parameter set in an
 * H.264 RTP payload: a single NAL unit, one of the units of a STAP-A, or
 * the first fragment of an FU-A (RFC 6184, 5.6-5.8).  An SPS starts with
 * profile_idc, the constraint_set flags and level_idc (ITU-T H.264,
 * 7.3.2.1.1), whose bytes never need emulation prevention.  0 if none.
 */

uint32_t
ngx_webrtc_h264_sps(const u_char *p, size_t len)
{
    size_t         n;
    const u_char  *end;

    if (len < 1) {
        return 0;
    }

    switch (p[0] & 0x1f) {

    case NGX_WEBRTC_H264_NAL_SPS:
        if (len < 4) {
            return 0;
        }

        break;

    case NGX_WEBRTC_H264_STAP_A:
        /* units, each after its 16-bit size */

        end = p + len;
        p++;

        for ( ;; ) {
            if ((size_t) (end - p) < 2) {
                return 0;
            }

            n = ngx_webrtc_get16(p);
            p += 2;

            if (n == 0 || (size_t) (end - p) < n) {
                return 0;
            }

            if ((p[0] & 0x1f) == NGX_WEBRTC_H264_NAL_SPS) {
                break;
            }

            p += n;
        }

        if (n < 4) {
            return 0;
        }

        break;

    case NGX_WEBRTC_H264_FU_A:
        /* the FU header: the start bit and the fragmented unit's type */

        if (len < 5 || (p[1] & 0x80) == 0
            || (p[1] & 0x1f) != NGX_WEBRTC_H264_NAL_SPS)
        {
            return 0;
        }

        p++;
        break;

    default:
        return 0;
    }

    if (p[1] == 0) {
        /* profile_idc 0 is not a profile */
        return 0;
    }

    return (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}


void
ngx_webrtc_rtcp_iter_init(ngx_webrtc_rtcp_iter_t *it, const u_char *p,
    size_t len)
{
    it->pos = p;
    it->end = p + len;
}


/* the next packet of a compound RTCP packet, RFC 3550, 6.1 */

int
ngx_webrtc_rtcp_next(ngx_webrtc_rtcp_iter_t *it, ngx_webrtc_rtcp_t *pkt)
{
    size_t  len;

    if ((size_t) (it->end - it->pos) < 4 || (it->pos[0] >> 6) != 2) {
        return 0;
    }

    len = ((size_t) ngx_webrtc_get16(it->pos + 2) + 1) * 4;

    if (len > (size_t) (it->end - it->pos)) {
        return 0;
    }

    pkt->type = it->pos[1];
    pkt->fmt = it->pos[0] & 0x1f;
    pkt->len = len;
    pkt->data = it->pos;

    it->pos += len;

    return 1;
}


/* RFC 4585, 6.3.1: Picture Loss Indication */

size_t
ngx_webrtc_rtcp_pli(u_char *buf, uint32_t sender, uint32_t media)
{
    buf[0] = 0x80 | NGX_WEBRTC_RTCP_FMT_PLI;
    buf[1] = NGX_WEBRTC_RTCP_PSFB;
    ngx_webrtc_put16(buf + 2, 2);
    ngx_webrtc_put32(buf + 4, sender);
    ngx_webrtc_put32(buf + 8, media);

    return 12;
}


/* draft-alvestrand-rmcat-remb-03, 2.2: Receiver Estimated Max Bitrate */

size_t
ngx_webrtc_rtcp_remb(u_char *buf, uint32_t sender, uint64_t bitrate,
    uint32_t media)
{
    uint32_t  exp;

    exp = 0;

    while (bitrate > 0x3ffff) {
        bitrate >>= 1;
        exp++;
    }

    buf[0] = 0x80 | NGX_WEBRTC_RTCP_FMT_AFB;
    buf[1] = NGX_WEBRTC_RTCP_PSFB;
    ngx_webrtc_put16(buf + 2, 5);
    ngx_webrtc_put32(buf + 4, sender);
    ngx_webrtc_put32(buf + 8, 0);
    memcpy(buf + 12, "REMB", 4);
    buf[16] = 1;
    buf[17] = (u_char) (exp << 2 | (bitrate >> 16));
    ngx_webrtc_put16(buf + 18, (uint16_t) bitrate);
    ngx_webrtc_put32(buf + 20, media);

    return 24;
}


/* RFC 3550, 6.4.1: a Sender Report without report blocks */

size_t
ngx_webrtc_rtcp_sr(u_char *buf, uint32_t ssrc, uint64_t ntp, uint32_t ts,
    uint32_t packets, uint32_t octets)
{
    buf[0] = 0x80;
    buf[1] = NGX_WEBRTC_RTCP_SR;
    ngx_webrtc_put16(buf + 2, 6);
    ngx_webrtc_put32(buf + 4, ssrc);
    ngx_webrtc_put32(buf + 8, (uint32_t) (ntp >> 32));
    ngx_webrtc_put32(buf + 12, (uint32_t) ntp);
    ngx_webrtc_put32(buf + 16, ts);
    ngx_webrtc_put32(buf + 20, packets);
    ngx_webrtc_put32(buf + 24, octets);

    return 28;
}


/* RFC 4585, 6.2.1: Generic NACK with the given FCI entries */

size_t
ngx_webrtc_rtcp_nack(u_char *buf, uint32_t sender, uint32_t media,
    const u_char *fci, size_t fci_len)
{
    buf[0] = 0x80 | NGX_WEBRTC_RTCP_FMT_NACK;
    buf[1] = NGX_WEBRTC_RTCP_RTPFB;
    ngx_webrtc_put16(buf + 2, (uint16_t) (2 + fci_len / 4));
    ngx_webrtc_put32(buf + 4, sender);
    ngx_webrtc_put32(buf + 8, media);
    memcpy(buf + 12, fci, fci_len);

    return 12 + fci_len;
}
