
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_sdp_private.h"


const char  *ngx_webrtc_ext_uris[NGX_WEBRTC_EXT_N] = {
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "urn:ietf:params:rtp-hdrext:toffset",
    "urn:3gpp:video-orientation",
    "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
};


int
ngx_webrtc_sdp_parse_fingerprint(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_transport_t *t, ngx_webrtc_sdp_str_t *v)
{
    size_t                     n, i, len;
    unsigned                   hash, hi, lo;
    const u_char              *p;
    ngx_webrtc_sdp_str_t       alg, hex;
    ngx_webrtc_fingerprint_t  *fp;

    static const struct {
        const char  *name;
        unsigned     hash;
        size_t       len;
    } algs[] = {
        { "sha-1", NGX_WEBRTC_HASH_SHA1, 20 },
        { "sha-224", NGX_WEBRTC_HASH_SHA224, 28 },
        { "sha-256", NGX_WEBRTC_HASH_SHA256, 32 },
        { "sha-384", NGX_WEBRTC_HASH_SHA384, 48 },
        { "sha-512", NGX_WEBRTC_HASH_SHA512, 64 },
    };

    /* RFC 8122, 5: fingerprint-attribute = hash-func SP fingerprint */

    if (ngx_webrtc_sdp_token(v, &alg) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &hex) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=fingerprint");
    }

    hash = 0;
    len = 0;

    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (ngx_webrtc_sdp_caseeq(alg.data, alg.len, algs[i].name)) {
            hash = algs[i].hash;
            len = algs[i].len;
            break;
        }
    }

    if (hash == 0) {
        /* an unknown hash function: ignore, another line may do */
        return NGX_WEBRTC_SDP_OK;
    }

    if (hex.len != len * 3 - 1) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                  "a=fingerprint length does not match its hash function");
    }

    if (t->nfingerprints == NGX_WEBRTC_SDP_MAX_FINGERPRINTS) {
        return NGX_WEBRTC_SDP_OK;
    }

    fp = &t->fingerprints[t->nfingerprints];

    for (n = 0, p = hex.data; n < len; n++, p += 3) {

        hi = p[0] | 0x20;
        lo = p[1] | 0x20;

        hi = (hi >= '0' && hi <= '9') ? hi - '0'
             : (hi >= 'a' && hi <= 'f') ? hi - 'a' + 10 : 16;
        lo = (lo >= '0' && lo <= '9') ? lo - '0'
             : (lo >= 'a' && lo <= 'f') ? lo - 'a' + 10 : 16;

        if (hi > 15 || lo > 15 || (n + 1 < len && p[2] != ':')) {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "malformed a=fingerprint");
        }

        fp->value[n] = (u_char) (hi << 4 | lo);
    }

    fp->hash = (uint8_t) hash;
    fp->len = (uint8_t) len;
    t->nfingerprints++;

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_parse_rtpmap(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_str_t *v)
{
    uint32_t                  pt, n;
    const u_char             *slash, *end;
    ngx_webrtc_sdp_str_t      t, enc;
    ngx_webrtc_sdp_format_t  *f;

    /* a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>] */

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_uint(&t, 127, &pt) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &enc) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=rtpmap");
    }

    f = ngx_webrtc_sdp_format(m, pt);
    if (f == NULL) {
        /* not in the m= line: ignored */
        return NGX_WEBRTC_SDP_OK;
    }

    end = enc.data + enc.len;

    slash = memchr(enc.data, '/', enc.len);
    if (slash == NULL || slash == enc.data) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=rtpmap");
    }

    f->name.data = enc.data;
    f->name.len = slash - enc.data;

    t.data = slash + 1;
    slash = memchr(t.data, '/', end - t.data);
    t.len = (slash ? slash : end) - t.data;

    if (ngx_webrtc_sdp_uint(&t, 0xffffffff, &f->clock) != NGX_WEBRTC_SDP_OK
        || f->clock == 0)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "bad clock rate in a=rtpmap");
    }

    f->channels = 1;

    if (slash) {
        t.data = slash + 1;
        t.len = end - t.data;

        if (ngx_webrtc_sdp_uint(&t, 255, &n) != NGX_WEBRTC_SDP_OK || n == 0) {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "bad channel count in a=rtpmap");
        }

        f->channels = (uint8_t) n;
    }

    f->codec = ngx_webrtc_codec_by_name(f->name.data, f->name.len);
    f->has_rtpmap = 1;

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_parse_fmtp(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_str_t *v)
{
    size_t                    i;
    uint32_t                  pt, n;
    const u_char             *p, *end, *semi, *eq;
    ngx_webrtc_sdp_str_t      t, key, val;
    ngx_webrtc_sdp_format_t  *f;

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_uint(&t, 127, &pt) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=fmtp");
    }

    f = ngx_webrtc_sdp_format(m, pt);
    if (f == NULL) {
        return NGX_WEBRTC_SDP_OK;
    }

    /* the parameters, without the space after the payload type */

    while (v->len && (v->data[0] == ' ' || v->data[0] == '\t')) {
        v->data++;
        v->len--;
    }

    f->fmtp = *v;

    /* key=value;key=value, spaces around separators tolerated */

    p = v->data;
    end = v->data + v->len;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == ';')) {
            p++;
        }

        if (p == end) {
            break;
        }

        semi = memchr(p, ';', end - p);
        if (semi == NULL) {
            semi = end;
        }

        eq = memchr(p, '=', semi - p);

        if (eq == NULL) {
            /* e.g. RED "111/111" */
            p = semi;
            continue;
        }

        key.data = p;
        key.len = eq - p;
        val.data = eq + 1;
        val.len = semi - val.data;

        while (key.len && key.data[key.len - 1] == ' ') {
            key.len--;
        }

        while (val.len && val.data[0] == ' ') {
            val.data++;
            val.len--;
        }

        while (val.len && val.data[val.len - 1] == ' ') {
            val.len--;
        }

        if (ngx_webrtc_sdp_caseeq(key.data, key.len, "apt")) {
            if (ngx_webrtc_sdp_uint(&val, 127, &n) == NGX_WEBRTC_SDP_OK) {
                f->apt = (uint8_t) n;
            }

        } else if (ngx_webrtc_sdp_caseeq(key.data, key.len,
                                         "packetization-mode"))
        {
            if (ngx_webrtc_sdp_uint(&val, 2, &n) == NGX_WEBRTC_SDP_OK) {
                f->packetization_mode = (uint8_t) n;
            }

        } else if (ngx_webrtc_sdp_caseeq(key.data, key.len,
                                         "profile-level-id"))
        {
            if (val.len != 6) {
                sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                          "bad profile-level-id in a=fmtp");
            }

            n = 0;

            for (i = 0; i < 6; i++) {
                u_char  c = val.data[i] | 0x20;

                if (c >= '0' && c <= '9') {
                    n = n << 4 | (c - '0');

                } else if (c >= 'a' && c <= 'f') {
                    n = n << 4 | (c - 'a' + 10);

                } else {
                    sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                              "bad profile-level-id in a=fmtp");
                }
            }

            f->profile_level_id = n;

        } else if (ngx_webrtc_sdp_caseeq(key.data, key.len, "profile-id")
                   || ngx_webrtc_sdp_caseeq(key.data, key.len, "profile"))
        {
            if (ngx_webrtc_sdp_uint(&val, 255, &n) == NGX_WEBRTC_SDP_OK) {
                f->profile = (uint8_t) n;
            }

        } else if (ngx_webrtc_sdp_caseeq(key.data, key.len, "stereo")
                   || ngx_webrtc_sdp_caseeq(key.data, key.len,
                                            "sprop-stereo"))
        {
            if (ngx_webrtc_sdp_eq(&val, "1")) {
                f->stereo = 1;
            }
        }

        p = semi;
    }

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_parse_rtcp_fb(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_str_t *v)
{
    unsigned                  i, fb;
    uint32_t                  pt;
    ngx_webrtc_sdp_str_t      t, type, param;
    ngx_webrtc_sdp_format_t  *f;

    /* RFC 4585, 4.2: a=rtcp-fb:<pt|*> <type> [<param>] */

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &type) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=rtcp-fb");
    }

    if (ngx_webrtc_sdp_token(v, &param) != NGX_WEBRTC_SDP_OK) {
        param.len = 0;
    }

    if (ngx_webrtc_sdp_eq(&type, "nack")) {
        fb = param.len == 0 ? NGX_WEBRTC_FB_NACK
             : ngx_webrtc_sdp_eq(&param, "pli") ? NGX_WEBRTC_FB_PLI : 0;

    } else if (ngx_webrtc_sdp_eq(&type, "ccm")) {
        fb = ngx_webrtc_sdp_eq(&param, "fir") ? NGX_WEBRTC_FB_FIR : 0;

    } else if (ngx_webrtc_sdp_eq(&type, "goog-remb")) {
        fb = NGX_WEBRTC_FB_REMB;

    } else if (ngx_webrtc_sdp_eq(&type, "transport-cc")) {
        fb = NGX_WEBRTC_FB_TRANSPORT_CC;

    } else {
        fb = 0;
    }

    if (ngx_webrtc_sdp_eq(&t, "*")) {
        for (i = 0; i < m->nformats; i++) {
            m->formats[i].fb |= fb;
        }

        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_uint(&t, 127, &pt) != NGX_WEBRTC_SDP_OK) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=rtcp-fb");
    }

    f = ngx_webrtc_sdp_format(m, pt);
    if (f) {
        f->fb |= fb;
    }

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_parse_extmap(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_str_t *v)
{
    unsigned                  i;
    uint32_t                  id;
    const u_char             *slash;
    ngx_webrtc_sdp_str_t      t, uri;
    ngx_webrtc_sdp_extmap_t  *e;

    /* RFC 8285, 7: a=extmap:<id>[/<direction>] <URI> [<attributes>] */

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &uri) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=extmap");
    }

    slash = memchr(t.data, '/', t.len);
    if (slash) {
        t.len = slash - t.data;
    }

    if (ngx_webrtc_sdp_uint(&t, 255, &id) != NGX_WEBRTC_SDP_OK || id == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "bad id in a=extmap");
    }

    if (m->nextmaps == NGX_WEBRTC_SDP_MAX_EXTMAP) {
        return NGX_WEBRTC_SDP_OK;
    }

    e = &m->extmaps[m->nextmaps++];
    e->id = (uint8_t) id;
    e->uri = uri;
    e->ext = NGX_WEBRTC_EXT_UNKNOWN;

    for (i = 0; i < NGX_WEBRTC_EXT_N; i++) {
        if (ngx_webrtc_sdp_eq(&uri, ngx_webrtc_ext_uris[i])) {
            e->ext = (uint8_t) i;
            break;
        }
    }

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_parse_ssrc(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_str_t *v, int group)
{
    unsigned              i;
    uint32_t              ssrc, rtx;
    ngx_webrtc_sdp_str_t  t;

    if (group) {
        /* RFC 5576, 4.2: a=ssrc-group:FID <primary> <retransmission> */

        if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK) {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "malformed a=ssrc-group");
        }

        if (!ngx_webrtc_sdp_eq(&t, "FID")) {
            return NGX_WEBRTC_SDP_OK;
        }

        if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
            || ngx_webrtc_sdp_uint(&t, 0xffffffff, &ssrc) != NGX_WEBRTC_SDP_OK
            || ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
            || ngx_webrtc_sdp_uint(&t, 0xffffffff, &rtx) != NGX_WEBRTC_SDP_OK)
        {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "malformed a=ssrc-group");
        }

        m->rtx_ssrc = rtx;
        return NGX_WEBRTC_SDP_OK;
    }

    /* RFC 5576, 4.1: a=ssrc:<ssrc-id> <attribute>[:<value>] */

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_uint(&t, 0xffffffff, &ssrc) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=ssrc");
    }

    for (i = 0; i < m->nssrcs; i++) {
        if (m->ssrcs[i] == ssrc) {
            return NGX_WEBRTC_SDP_OK;
        }
    }

    if (m->nssrcs < NGX_WEBRTC_SDP_MAX_SSRC) {
        m->ssrcs[m->nssrcs++] = ssrc;
    }

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_parse_candidate(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v)
{
    uint32_t                     n;
    ngx_webrtc_sdp_str_t         t;
    ngx_webrtc_sdp_candidate_t   c;

    /*
     * RFC 8839, 5.1: candidate:<foundation> <component-id> <transport>
     * <priority> <connection-address> <port> typ <cand-type> ...
     */

    memset(&c, 0, sizeof(c));

    if (ngx_webrtc_sdp_token(v, &c.foundation) != NGX_WEBRTC_SDP_OK
        || c.foundation.len > 32
        || !ngx_webrtc_ice_string_valid(c.foundation.data, c.foundation.len))
    {
        goto failed;
    }

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_uint(&t, 256, &n) != NGX_WEBRTC_SDP_OK || n == 0)
    {
        goto failed;
    }

    c.component = (uint8_t) n;

    if (ngx_webrtc_sdp_token(v, &c.transport) != NGX_WEBRTC_SDP_OK) {
        goto failed;
    }

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_uint(&t, 0xffffffff, &c.priority)
           != NGX_WEBRTC_SDP_OK
        || c.priority == 0)
    {
        goto failed;
    }

    if (ngx_webrtc_sdp_token(v, &c.address) != NGX_WEBRTC_SDP_OK) {
        goto failed;
    }

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_uint(&t, 65535, &n) != NGX_WEBRTC_SDP_OK)
    {
        goto failed;
    }

    c.port = (uint16_t) n;

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || !ngx_webrtc_sdp_eq(&t, "typ")
        || ngx_webrtc_sdp_token(v, &c.type) != NGX_WEBRTC_SDP_OK)
    {
        goto failed;
    }

    /*
     * RFC 8839, 5.1: cand-type is host, srflx, prflx, relay or a token of
     * a future extension: kept, an ICE lite server uses none of them
     */

    if (m->ncandidates < NGX_WEBRTC_SDP_MAX_CANDIDATES) {
        m->candidates[m->ncandidates++] = c;
    }

    m->ncandidates_total++;

    return NGX_WEBRTC_SDP_OK;

failed:

    sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=candidate");
}


int
ngx_webrtc_sdp_parse_rid(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_str_t *v)
{
    size_t                 i;
    u_char                 c;
    ngx_webrtc_sdp_str_t   id, dir;
    ngx_webrtc_sdp_rid_t  *r;

    /*
     * RFC 8851, 10: a=rid:<rid-id> SP <"send" / "recv"> [SP <params>],
     * rid-id = 1*(alpha-numeric / "-" / "_"); it travels in the RTP header
     * extension (RFC 8852, 3.1), whose one-byte form holds 16 bytes at most
     */

    if (ngx_webrtc_sdp_token(v, &id) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &dir) != NGX_WEBRTC_SDP_OK
        || id.len > NGX_WEBRTC_SDP_RID_LEN)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=rid");
    }

    for (i = 0; i < id.len; i++) {
        c = id.data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=rid");
        }
    }

    if (!ngx_webrtc_sdp_eq(&dir, "send") && !ngx_webrtc_sdp_eq(&dir, "recv")) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=rid");
    }

    if (ngx_webrtc_sdp_rid(m, id.data, id.len) != NULL) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "repeated a=rid");
    }

    if (m->nrids == NGX_WEBRTC_SDP_MAX_RIDS) {
        sdp_error(sdp, NGX_WEBRTC_SDP_DECLINED, "too many a=rid lines");
    }

    r = &m->rids[m->nrids++];
    r->id = id;
    r->send = ngx_webrtc_sdp_eq(&dir, "send");

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_parse_simulcast(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v)
{
    ngx_webrtc_sdp_str_t  dir, list;

    /*
     * RFC 8853, 5.1: a=simulcast:<sc-str-list> [SP <sc-str-list>], each
     * "send" or "recv" SP a ";" list of streams, each a "," list of
     * alternative rids, a paused one prefixed with "~"
     */

    while (ngx_webrtc_sdp_token(v, &dir) == NGX_WEBRTC_SDP_OK) {

        if (ngx_webrtc_sdp_token(v, &list) != NGX_WEBRTC_SDP_OK
            || (!ngx_webrtc_sdp_eq(&dir, "send")
                && !ngx_webrtc_sdp_eq(&dir, "recv")))
        {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed a=simulcast");
        }

        if (ngx_webrtc_sdp_eq(&dir, "send")) {
            m->simulcast_send = list;
        }
    }

    m->simulcast = 1;

    return NGX_WEBRTC_SDP_OK;
}
