
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_sdp_private.h"


static int ngx_webrtc_sdp_parse_media(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_attr(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static void ngx_webrtc_sdp_finish_media(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m);


/* RFC 3551, 6. static payload types WebRTC endpoints may list */
static const struct {
    uint8_t                     pt;
    uint8_t                     codec;
    uint32_t                    clock;
} ngx_webrtc_static_pts[] = {
    { 0, NGX_WEBRTC_CODEC_PCMU, 8000 },
    { 8, NGX_WEBRTC_CODEC_PCMA, 8000 },
    { 9, NGX_WEBRTC_CODEC_G722, 8000 },
    { 13, NGX_WEBRTC_CODEC_CN, 8000 },
};


int
ngx_webrtc_sdp_parse(ngx_webrtc_sdp_t *sdp, const u_char *p, size_t len,
    int fragment)
{
    int                      rc;
    unsigned                 i;
    const u_char            *end, *eol, *last, *next, *q;
    ngx_webrtc_sdp_str_t     v;
    ngx_webrtc_sdp_media_t  *m;

    memset(sdp, 0, sizeof(ngx_webrtc_sdp_t));

    sdp->fragment = fragment ? 1 : 0;

    end = p + len;
    m = NULL;

    while (p < end) {

        sdp->error_line++;

        eol = memchr(p, '\n', end - p);

        if (eol == NULL) {
            eol = end;
            next = end;

        } else {
            next = eol + 1;
        }

        last = eol;

        if (last > p && last[-1] == '\r') {
            last--;
        }

        if (last == p) {
            /* an empty line, e.g. a trailing one */
            p = next;
            continue;
        }

        if (last - p < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "malformed line, expected <type>=<value>");
        }

        for (q = p; q < last; q++) {
            if ((*q < 0x20 && *q != '\t') || *q == 0x7f) {
                sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                          "control character in SDP");
            }
        }

        v.data = p + 2;
        v.len = last - v.data;

        if (!fragment && !sdp->has_version && p[0] != 'v') {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "SDP does not start with v=0");
        }

        switch (p[0]) {

        case 'v':
            if (sdp->has_version || m != NULL || !ngx_webrtc_sdp_eq(&v, "0"))
            {
                sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                          "bad or repeated v= line");
            }

            sdp->has_version = 1;
            break;

        case 'm':
            rc = ngx_webrtc_sdp_parse_media(sdp, &v);
            if (rc != NGX_WEBRTC_SDP_OK) {
                return rc;
            }

            m = &sdp->media[sdp->nmedia - 1];
            break;

        case 'a':
            rc = ngx_webrtc_sdp_parse_attr(sdp, m, &v);
            if (rc != NGX_WEBRTC_SDP_OK) {
                return rc;
            }

            break;

        default:
            /* o=, s=, t=, c=, b= and others carry nothing we use */
            break;
        }

        p = next;
    }

    if (!fragment && !sdp->has_version) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "empty SDP");
    }

    sdp->error_line = 0;

    for (i = 0; i < sdp->nmedia; i++) {
        ngx_webrtc_sdp_finish_media(sdp, &sdp->media[i]);
    }

    return NGX_WEBRTC_SDP_OK;
}


static int
ngx_webrtc_sdp_parse_media(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_str_t *v)
{
    uint32_t                 n;
    const u_char            *slash;
    ngx_webrtc_sdp_str_t     t;
    ngx_webrtc_sdp_media_t  *m;
    ngx_webrtc_sdp_format_t *f;

    if (sdp->nmedia == NGX_WEBRTC_SDP_MAX_MEDIA) {
        sdp_error(sdp, NGX_WEBRTC_SDP_DECLINED, "too many m= sections");
    }

    m = &sdp->media[sdp->nmedia++];

    /* m=<media> <port>[/<number>] <proto> <fmt> ... */

    if (ngx_webrtc_sdp_token(v, &m->type) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &m->proto) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "malformed m= line");
    }

    if (ngx_webrtc_sdp_eq(&m->type, "audio")) {
        m->kind = NGX_WEBRTC_MEDIA_AUDIO;

    } else if (ngx_webrtc_sdp_eq(&m->type, "video")) {
        m->kind = NGX_WEBRTC_MEDIA_VIDEO;

    } else if (ngx_webrtc_sdp_eq(&m->type, "application")) {
        m->kind = NGX_WEBRTC_MEDIA_APPLICATION;

    } else {
        m->kind = NGX_WEBRTC_MEDIA_OTHER;
    }

    slash = memchr(t.data, '/', t.len);
    if (slash != NULL) {
        t.len = slash - t.data;
    }

    if (ngx_webrtc_sdp_uint(&t, 65535, &n) != NGX_WEBRTC_SDP_OK) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "bad port in m= line");
    }

    m->port = (uint16_t) n;

    if (!ngx_webrtc_sdp_prefix(&m->proto, "UDP/TLS/RTP/")
        && !ngx_webrtc_sdp_prefix(&m->proto, "RTP/"))
    {
        /* not RTP, e.g. a data channel: formats are not payload types */
        return NGX_WEBRTC_SDP_OK;
    }

    while (ngx_webrtc_sdp_token(v, &t) == NGX_WEBRTC_SDP_OK) {

        if (ngx_webrtc_sdp_uint(&t, 127, &n) != NGX_WEBRTC_SDP_OK) {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "bad payload type in m= line");
        }

        if (ngx_webrtc_sdp_format(m, n) != NULL) {
            continue;
        }

        if (m->nformats == NGX_WEBRTC_SDP_MAX_FORMATS) {
            sdp_error(sdp, NGX_WEBRTC_SDP_DECLINED,
                      "too many payload types in m= line");
        }

        f = &m->formats[m->nformats++];
        f->pt = (uint8_t) n;
    }

    /* RFC 8866, 9: media-field = ... proto 1*(SP fmt) */

    if (m->nformats == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                  "no payload type in m= line");
    }

    return NGX_WEBRTC_SDP_OK;
}


static int
ngx_webrtc_sdp_parse_attr(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_str_t *v)
{
    const u_char                *colon;
    ngx_webrtc_sdp_str_t         name, value;
    ngx_webrtc_sdp_transport_t  *t;

    colon = memchr(v->data, ':', v->len);

    name.data = v->data;

    if (colon) {
        name.len = colon - v->data;
        value.data = colon + 1;
        value.len = v->data + v->len - value.data;

    } else {
        name.len = v->len;
        value.data = v->data + v->len;
        value.len = 0;
    }

    t = m ? &m->transport : &sdp->transport;

    if (ngx_webrtc_sdp_eq(&name, "ice-ufrag")) {
        if (!ngx_webrtc_ice_string_valid(value.data, value.len)
            || value.len < 4 || value.len > NGX_WEBRTC_SDP_ICE_MAX)
        {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "invalid a=ice-ufrag");
        }

        t->ufrag = value;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "ice-pwd")) {
        if (!ngx_webrtc_ice_string_valid(value.data, value.len)
            || value.len < 22 || value.len > NGX_WEBRTC_SDP_ICE_MAX)
        {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "invalid a=ice-pwd");
        }

        t->pwd = value;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "fingerprint")) {
        return ngx_webrtc_sdp_parse_fingerprint(sdp, t, &value);
    }

    if (ngx_webrtc_sdp_eq(&name, "setup")) {

        if (ngx_webrtc_sdp_eq(&value, "actpass")) {
            t->setup = NGX_WEBRTC_SETUP_ACTPASS;

        } else if (ngx_webrtc_sdp_eq(&value, "active")) {
            t->setup = NGX_WEBRTC_SETUP_ACTIVE;

        } else if (ngx_webrtc_sdp_eq(&value, "passive")) {
            t->setup = NGX_WEBRTC_SETUP_PASSIVE;

        } else if (ngx_webrtc_sdp_eq(&value, "holdconn")) {
            t->setup = NGX_WEBRTC_SETUP_HOLDCONN;

        } else {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "invalid a=setup");
        }

        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "ice-lite")) {
        if (m == NULL) {
            sdp->ice_lite = 1;
        }

        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "group")) {

        if (m == NULL && ngx_webrtc_sdp_prefix(&value, "BUNDLE")
            && (value.len == 6 || value.data[6] == ' '))
        {
            if (sdp->bundle.data != NULL) {
                sdp_error(sdp, NGX_WEBRTC_SDP_DECLINED,
                          "more than one BUNDLE group");
            }

            sdp->bundle.data = value.data + 6;
            sdp->bundle.len = value.len - 6;
        }

        /* other groups, e.g. LS (RFC 5888), need nothing from us */

        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "sendrecv")
        || ngx_webrtc_sdp_eq(&name, "sendonly")
        || ngx_webrtc_sdp_eq(&name, "recvonly")
        || ngx_webrtc_sdp_eq(&name, "inactive"))
    {
        unsigned  dir;

        dir = ngx_webrtc_sdp_eq(&name, "sendrecv") ? NGX_WEBRTC_DIR_SENDRECV
              : ngx_webrtc_sdp_eq(&name, "sendonly") ? NGX_WEBRTC_DIR_SENDONLY
              : ngx_webrtc_sdp_eq(&name, "recvonly") ? NGX_WEBRTC_DIR_RECVONLY
              : NGX_WEBRTC_DIR_INACTIVE;

        if (m) {
            m->direction = dir;
            m->has_direction = 1;

        } else {
            sdp->direction = dir;
            sdp->has_direction = 1;
        }

        return NGX_WEBRTC_SDP_OK;
    }

    if (m == NULL) {
        /* all other attributes we use are media level */
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "mid")) {
        if (value.len == 0 || value.len > NGX_WEBRTC_SDP_MID_LEN
            || memchr(value.data, ' ', value.len) != NULL)
        {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "invalid a=mid");
        }

        m->mid = value;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "rtpmap")) {
        return ngx_webrtc_sdp_parse_rtpmap(sdp, m, &value);
    }

    if (ngx_webrtc_sdp_eq(&name, "fmtp")) {
        return ngx_webrtc_sdp_parse_fmtp(sdp, m, &value);
    }

    if (ngx_webrtc_sdp_eq(&name, "rtcp-fb")) {
        return ngx_webrtc_sdp_parse_rtcp_fb(sdp, m, &value);
    }

    if (ngx_webrtc_sdp_eq(&name, "extmap")) {
        return ngx_webrtc_sdp_parse_extmap(sdp, m, &value);
    }

    if (ngx_webrtc_sdp_eq(&name, "ssrc")) {
        return ngx_webrtc_sdp_parse_ssrc(sdp, m, &value, 0);
    }

    if (ngx_webrtc_sdp_eq(&name, "ssrc-group")) {
        return ngx_webrtc_sdp_parse_ssrc(sdp, m, &value, 1);
    }

    if (ngx_webrtc_sdp_eq(&name, "candidate")) {
        return ngx_webrtc_sdp_parse_candidate(sdp, m, &value);
    }

    if (ngx_webrtc_sdp_eq(&name, "end-of-candidates")) {
        m->end_of_candidates = 1;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "rtcp-mux")) {
        m->rtcp_mux = 1;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "rtcp-rsize")) {
        m->rtcp_rsize = 1;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "msid")) {
        m->msid = value;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "bundle-only")) {
        m->bundle_only = 1;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "rid")) {
        return ngx_webrtc_sdp_parse_rid(sdp, m, &value);
    }

    if (ngx_webrtc_sdp_eq(&name, "simulcast")) {
        return ngx_webrtc_sdp_parse_simulcast(sdp, m, &value);
    }

    return NGX_WEBRTC_SDP_OK;
}


static void
ngx_webrtc_sdp_finish_media(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m)
{
    unsigned                  i, j;
    ngx_webrtc_sdp_format_t  *f;

    if (!m->has_direction && sdp->has_direction) {
        m->direction = sdp->direction;
    }

    for (i = 0; i < m->nformats; i++) {
        f = &m->formats[i];

        if (!f->has_rtpmap) {
            for (j = 0; j < sizeof(ngx_webrtc_static_pts)
                            / sizeof(ngx_webrtc_static_pts[0]); j++)
            {
                if (ngx_webrtc_static_pts[j].pt == f->pt) {
                    f->codec = ngx_webrtc_static_pts[j].codec;
                    f->clock = ngx_webrtc_static_pts[j].clock;
                    f->channels = 1;
                }
            }
        }

        if (f->codec == NGX_WEBRTC_CODEC_H264) {

            /* RFC 6184, 8.1: the default is 42000A, Baseline 1.0 */

            if (f->profile_level_id == 0) {
                f->profile_level_id = 0x42000a;
            }

            f->h264_profile = ngx_webrtc_h264_profile(f->profile_level_id);
        }
    }
}


int
ngx_webrtc_sdp_check_offer(ngx_webrtc_sdp_t *sdp)
{
    unsigned                     i, n, first;
    ngx_webrtc_sdp_str_t         tag, list, mid, rest;
    ngx_webrtc_sdp_media_t      *m;
    ngx_webrtc_sdp_transport_t  *t;

    if (sdp->nmedia == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR, "offer has no m= section");
    }

    if (sdp->bundle.len == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_DECLINED,
                  "offer has no a=group:BUNDLE, BUNDLE is required");
    }

    list = sdp->bundle;

    if (ngx_webrtc_sdp_token(&list, &tag) != NGX_WEBRTC_SDP_OK) {
        sdp_error(sdp, NGX_WEBRTC_SDP_DECLINED,
                  "offer has an empty a=group:BUNDLE");
    }

    /*
     * RFC 5888, 5: an identification-tag names one m= section; so a group
     * holds each mid once, and no more of them than there are m= sections
     */

    n = 0;
    list = sdp->bundle;

    while (ngx_webrtc_sdp_token(&list, &mid) == NGX_WEBRTC_SDP_OK) {

        if (++n > sdp->nmedia) {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "a=group:BUNDLE names more mids than m= sections");
        }

        rest = list;

        if (ngx_webrtc_sdp_in_list(&rest, &mid)) {
            sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                      "a=group:BUNDLE names a mid twice");
        }
    }

    first = sdp->nmedia;

    for (i = 0; i < sdp->nmedia; i++) {
        m = &sdp->media[i];

        /* RFC 8843, 9.1: the mid of each m= section is unique */

        for (n = 0; n < i && m->mid.len; n++) {
            if (sdp->media[n].mid.len == m->mid.len
                && memcmp(sdp->media[n].mid.data, m->mid.data, m->mid.len)
                   == 0)
            {
                sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                          "two m= sections have the same a=mid");
            }
        }

        if (m->mid.len && ngx_webrtc_sdp_in_list(&sdp->bundle, &m->mid)) {
            m->bundled = 1;

            if (m->mid.len == tag.len
                && memcmp(m->mid.data, tag.data, tag.len) == 0)
            {
                first = i;
            }
        }
    }

    if (first == sdp->nmedia) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                  "a=group:BUNDLE names an unknown a=mid");
    }

    /*
     * RFC 8843, 7.1: the transport of a BUNDLE group is that of the
     * m= section its first identification-tag names; media level
     * attributes override session level ones (RFC 8839, 5.4).
     */

    m = &sdp->media[first];
    sdp->bundle_tag = first;

    t = &sdp->ice;
    *t = m->transport;

    if (t->ufrag.len == 0) {
        t->ufrag = sdp->transport.ufrag;
    }

    if (t->pwd.len == 0) {
        t->pwd = sdp->transport.pwd;
    }

    if (t->nfingerprints == 0) {
        memcpy(t->fingerprints, sdp->transport.fingerprints,
               sizeof(t->fingerprints));
        t->nfingerprints = sdp->transport.nfingerprints;
    }

    if (t->setup == NGX_WEBRTC_SETUP_NONE) {
        t->setup = sdp->transport.setup;
    }

    if (t->ufrag.len == 0 || t->pwd.len == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                  "offer has no a=ice-ufrag and a=ice-pwd");
    }

    if (t->nfingerprints == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                  "offer has no a=fingerprint with a known hash function");
    }

    /* RFC 8842, 5.3: the answerer takes the role the offerer left */

    if (t->setup == NGX_WEBRTC_SETUP_PASSIVE
        || t->setup == NGX_WEBRTC_SETUP_HOLDCONN)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_DECLINED,
                  "offer has a=setup:passive, offer actpass or active");
    }

    if (sdp->ice_lite) {
        sdp_error(sdp, NGX_WEBRTC_SDP_DECLINED,
                  "offerer is ICE lite, one side must be a full agent");
    }

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_check_fragment(ngx_webrtc_sdp_t *sdp)
{
    unsigned                     i;
    ngx_webrtc_sdp_transport_t  *t;

    /*
     * RFC 8840, 9: an sdpfrag carries ice-ufrag and ice-pwd, at session
     * or media level, and candidates in m= sections
     */

    t = &sdp->ice;
    *t = sdp->transport;

    for (i = 0; i < sdp->nmedia; i++) {
        if (t->ufrag.len == 0) {
            t->ufrag = sdp->media[i].transport.ufrag;
        }

        if (t->pwd.len == 0) {
            t->pwd = sdp->media[i].transport.pwd;
        }
    }

    if (t->ufrag.len == 0 || t->pwd.len == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_ERROR,
                  "fragment has no a=ice-ufrag and a=ice-pwd");
    }

    return NGX_WEBRTC_SDP_OK;
}


/* RFC 8839, 5.4: ice-char = ALPHA / DIGIT / "+" / "/" */

int
ngx_webrtc_ice_string_valid(const u_char *p, size_t len)
{
    size_t  i;
    u_char  c;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '+' || c == '/'))
        {
            return 0;
        }
    }

    return 1;
}


ngx_webrtc_sdp_format_t *
ngx_webrtc_sdp_format(ngx_webrtc_sdp_media_t *m, unsigned pt)
{
    unsigned  i;

    for (i = 0; i < m->nformats; i++) {
        if (m->formats[i].pt == pt) {
            return &m->formats[i];
        }
    }

    return NULL;
}


ngx_webrtc_sdp_rid_t *
ngx_webrtc_sdp_rid(ngx_webrtc_sdp_media_t *m, const u_char *id, size_t len)
{
    unsigned  i;

    for (i = 0; i < m->nrids; i++) {
        if (m->rids[i].id.len == len
            && memcmp(m->rids[i].id.data, id, len) == 0)
        {
            return &m->rids[i];
        }
    }

    return NULL;
}


/* takes the next space separated token off the front of v */

int
ngx_webrtc_sdp_token(ngx_webrtc_sdp_str_t *v, ngx_webrtc_sdp_str_t *token)
{
    const u_char  *p, *end;

    p = v->data;
    end = v->data + v->len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == end) {
        return NGX_WEBRTC_SDP_ERROR;
    }

    token->data = p;

    while (p < end && *p != ' ' && *p != '\t') {
        p++;
    }

    token->len = p - token->data;

    v->data = p;
    v->len = end - p;

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_uint(ngx_webrtc_sdp_str_t *s, uint32_t max, uint32_t *value)
{
    size_t    i;
    uint64_t  n;

    if (s->len == 0 || s->len > 10) {
        return NGX_WEBRTC_SDP_ERROR;
    }

    n = 0;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9') {
            return NGX_WEBRTC_SDP_ERROR;
        }

        n = n * 10 + (s->data[i] - '0');
    }

    if (n > max) {
        return NGX_WEBRTC_SDP_ERROR;
    }

    *value = (uint32_t) n;

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_eq(ngx_webrtc_sdp_str_t *s, const char *lit)
{
    size_t  len;

    len = strlen(lit);

    return s->len == len && memcmp(s->data, lit, len) == 0;
}


int
ngx_webrtc_sdp_caseeq(const u_char *p, size_t len, const char *lit)
{
    size_t  i;
    u_char  a, b;

    if (strlen(lit) != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        a = p[i];
        b = (u_char) lit[i];

        if (a >= 'A' && a <= 'Z') {
            a |= 0x20;
        }

        if (b >= 'A' && b <= 'Z') {
            b |= 0x20;
        }

        if (a != b) {
            return 0;
        }
    }

    return 1;
}


int
ngx_webrtc_sdp_prefix(ngx_webrtc_sdp_str_t *s, const char *lit)
{
    size_t  len;

    len = strlen(lit);

    return s->len >= len && memcmp(s->data, lit, len) == 0;
}


int
ngx_webrtc_sdp_in_list(ngx_webrtc_sdp_str_t *list, ngx_webrtc_sdp_str_t *item)
{
    ngx_webrtc_sdp_str_t  l, t;

    l = *list;

    while (ngx_webrtc_sdp_token(&l, &t) == NGX_WEBRTC_SDP_OK) {
        if (t.len == item->len && memcmp(t.data, item->data, t.len) == 0) {
            return 1;
        }
    }

    return 0;
}
