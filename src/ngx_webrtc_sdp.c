
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_sdp.h"


#define sdp_error(sdp, rc, reason)                                           \
    do { (sdp)->error = reason; return rc; } while (0)


typedef struct {
    u_char                     *pos;
    u_char                     *end;
    int                         overflow;
} ngx_webrtc_sdp_out_t;


typedef struct {
    const char                 *name;
    ngx_webrtc_codec_e          codec;
} ngx_webrtc_codec_name_t;


typedef struct {
    uint8_t                     profile_idc;
    uint8_t                     mask;
    uint8_t                     value;
    ngx_webrtc_h264_profile_e   profile;
} ngx_webrtc_h264_pattern_t;


static int ngx_webrtc_sdp_parse_media(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_attr(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_fingerprint(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_transport_t *t, ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_rtpmap(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_fmtp(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_rtcp_fb(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_extmap(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_ssrc(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v, int group);
static int ngx_webrtc_sdp_parse_candidate(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_rid(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static int ngx_webrtc_sdp_parse_simulcast(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
static void ngx_webrtc_sdp_finish_media(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m);

static ngx_webrtc_sdp_format_t *ngx_webrtc_sdp_format(
    ngx_webrtc_sdp_media_t *m, unsigned pt);
static int ngx_webrtc_sdp_token(ngx_webrtc_sdp_str_t *v,
    ngx_webrtc_sdp_str_t *token);
static int ngx_webrtc_sdp_uint(ngx_webrtc_sdp_str_t *s, uint32_t max,
    uint32_t *value);
static int ngx_webrtc_sdp_eq(ngx_webrtc_sdp_str_t *s, const char *lit);
static int ngx_webrtc_sdp_caseeq(const u_char *p, size_t len,
    const char *lit);
static int ngx_webrtc_sdp_prefix(ngx_webrtc_sdp_str_t *s, const char *lit);
static int ngx_webrtc_sdp_in_list(ngx_webrtc_sdp_str_t *list,
    ngx_webrtc_sdp_str_t *item);

static int ngx_webrtc_sdp_media_usable(ngx_webrtc_sdp_media_t *m);
static int ngx_webrtc_sdp_pick_publish(ngx_webrtc_sdp_media_t *m,
    const uint8_t *allowed, unsigned nallowed,
    const ngx_webrtc_track_t *prefer);
static int ngx_webrtc_sdp_pick_play(ngx_webrtc_sdp_media_t *m,
    const ngx_webrtc_track_t *stream);
static void ngx_webrtc_sdp_make_track(ngx_webrtc_track_t *tr,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_format_t *f, unsigned mline,
    unsigned role, const ngx_webrtc_track_t *stream);
static void ngx_webrtc_sdp_make_fmtp(ngx_webrtc_track_t *tr,
    ngx_webrtc_sdp_format_t *f, const ngx_webrtc_track_t *stream);
static void ngx_webrtc_sdp_pick_layer(ngx_webrtc_track_t *tr,
    ngx_webrtc_sdp_media_t *m);
static ngx_webrtc_sdp_rid_t *ngx_webrtc_sdp_rid(ngx_webrtc_sdp_media_t *m,
    const u_char *id, size_t len);

static void ngx_webrtc_put(ngx_webrtc_sdp_out_t *o, const void *p,
    size_t len);
static void ngx_webrtc_puts(ngx_webrtc_sdp_out_t *o, const char *s);
static void ngx_webrtc_put_str(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_sdp_str_t *s);
static void ngx_webrtc_put_uint(ngx_webrtc_sdp_out_t *o, uint64_t n);
static void ngx_webrtc_put_candidates(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_answer_t *a);
static void ngx_webrtc_put_transport(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_answer_t *a);
static void ngx_webrtc_put_simulcast(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_sdp_media_t *m);
static void ngx_webrtc_put_media(ngx_webrtc_sdp_out_t *o,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_answer_t *a,
    ngx_webrtc_answer_media_t *am, int first);


static const ngx_webrtc_codec_name_t  ngx_webrtc_codec_names[] = {
    { "opus", NGX_WEBRTC_CODEC_OPUS },
    { "H264", NGX_WEBRTC_CODEC_H264 },
    { "VP8", NGX_WEBRTC_CODEC_VP8 },
    { "VP9", NGX_WEBRTC_CODEC_VP9 },
    { "AV1", NGX_WEBRTC_CODEC_AV1 },
    { "rtx", NGX_WEBRTC_CODEC_RTX },
    { "red", NGX_WEBRTC_CODEC_RED },
    { "ulpfec", NGX_WEBRTC_CODEC_ULPFEC },
    { "PCMU", NGX_WEBRTC_CODEC_PCMU },
    { "PCMA", NGX_WEBRTC_CODEC_PCMA },
    { "G722", NGX_WEBRTC_CODEC_G722 },
    { "CN", NGX_WEBRTC_CODEC_CN },
    { "telephone-event", NGX_WEBRTC_CODEC_TELEPHONE_EVENT },
    { NULL, NGX_WEBRTC_CODEC_UNKNOWN }
};


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


static const char  *ngx_webrtc_ext_uris[NGX_WEBRTC_EXT_N] = {
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


/*
 * Which header extensions and feedback each side negotiates.  Extensions
 * the media plane forwards unchanged are offered to viewers only when the
 * publisher sends them.  The mid extension is not sent to viewers: their
 * answer lists our SSRCs, so BUNDLE demultiplexes by SSRC (RFC 8843, 9.2).
 * transport-cc needs per-hop feedback and is not negotiated (yet); REMB
 * with abs-send-time is used instead.  The rtp-stream-id of a simulcast
 * publisher tells its layers apart (RFC 8852, 3.1); no RTX is negotiated,
 * so there is no repaired-rtp-stream-id.
 */

#define NGX_WEBRTC_EXT_BIT(e)  (1u << (e))

static const unsigned  ngx_webrtc_ext_allowed[3] = {
    0,
    /* publisher */
    NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_MID)
    | NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_ABS_SEND_TIME)
    | NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_AUDIO_LEVEL)
    | NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_TOFFSET)
    | NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_VIDEO_ORIENTATION)
    | NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_RID),
    /* viewer */
    NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_ABS_SEND_TIME)
    | NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_AUDIO_LEVEL)
    | NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_TOFFSET)
    | NGX_WEBRTC_EXT_BIT(NGX_WEBRTC_EXT_VIDEO_ORIENTATION)
};

static const uint8_t  ngx_webrtc_fb_allowed[3] = {
    0,
    NGX_WEBRTC_FB_NACK | NGX_WEBRTC_FB_PLI | NGX_WEBRTC_FB_FIR
    | NGX_WEBRTC_FB_REMB,
    NGX_WEBRTC_FB_NACK | NGX_WEBRTC_FB_PLI | NGX_WEBRTC_FB_FIR
    | NGX_WEBRTC_FB_REMB
};


/* RFC 6184, 8.1: profile_idc and the profile-iop constraint flags */
static const ngx_webrtc_h264_pattern_t  ngx_webrtc_h264_patterns[] = {
    { 0x42, 0x4f, 0x40, NGX_WEBRTC_H264_CONSTRAINED_BASELINE },
    { 0x4d, 0x8f, 0x80, NGX_WEBRTC_H264_CONSTRAINED_BASELINE },
    { 0x58, 0xcf, 0xc0, NGX_WEBRTC_H264_CONSTRAINED_BASELINE },
    { 0x42, 0x4f, 0x00, NGX_WEBRTC_H264_BASELINE },
    { 0x58, 0xcf, 0x80, NGX_WEBRTC_H264_BASELINE },
    { 0x4d, 0xaf, 0x00, NGX_WEBRTC_H264_MAIN },
    { 0x64, 0xff, 0x00, NGX_WEBRTC_H264_HIGH },
    { 0x64, 0xff, 0x0c, NGX_WEBRTC_H264_CONSTRAINED_HIGH },
    { 0xf4, 0xff, 0x00, NGX_WEBRTC_H264_PREDICTIVE_HIGH_444 },
};


/* a publisher's H.264 is chosen by how widely viewers can decode it */
static const uint8_t  ngx_webrtc_h264_rank[] = {
    0,  /* unknown */
    6,  /* constrained baseline */
    5,  /* baseline */
    4,  /* main */
    3,  /* constrained high */
    2,  /* high */
    1   /* predictive high 4:4:4 */
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                      "malformed line, expected <type>=<value>");
        }

        for (q = p; q < last; q++) {
            if ((*q < 0x20 && *q != '\t') || *q == 0x7f) {
                sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                          "control character in SDP");
            }
        }

        v.data = p + 2;
        v.len = last - v.data;

        if (!fragment && !sdp->has_version && p[0] != 'v') {
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                      "SDP does not start with v=0");
        }

        switch (p[0]) {

        case 'v':
            if (sdp->has_version || m != NULL || !ngx_webrtc_sdp_eq(&v, "0"))
            {
                sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "empty SDP");
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
        sdp_error(sdp, NGX_WEBRTC_SDP_UNSUPPORTED, "too many m= sections");
    }

    m = &sdp->media[sdp->nmedia++];

    /* m=<media> <port>[/<number>] <proto> <fmt> ... */

    if (ngx_webrtc_sdp_token(v, &m->type) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_token(v, &m->proto) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed m= line");
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "bad port in m= line");
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                      "bad payload type in m= line");
        }

        if (ngx_webrtc_sdp_format(m, n) != NULL) {
            continue;
        }

        if (m->nformats == NGX_WEBRTC_SDP_MAX_FORMATS) {
            sdp_error(sdp, NGX_WEBRTC_SDP_UNSUPPORTED,
                      "too many payload types in m= line");
        }

        f = &m->formats[m->nformats++];
        f->pt = (uint8_t) n;
    }

    /* RFC 8866, 9: media-field = ... proto 1*(SP fmt) */

    if (m->nformats == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "invalid a=ice-ufrag");
        }

        t->ufrag = value;
        return NGX_WEBRTC_SDP_OK;
    }

    if (ngx_webrtc_sdp_eq(&name, "ice-pwd")) {
        if (!ngx_webrtc_ice_string_valid(value.data, value.len)
            || value.len < 22 || value.len > NGX_WEBRTC_SDP_ICE_MAX)
        {
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "invalid a=ice-pwd");
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "invalid a=setup");
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
                sdp_error(sdp, NGX_WEBRTC_SDP_UNSUPPORTED,
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "invalid a=mid");
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


static int
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=fingerprint");
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                      "malformed a=fingerprint");
        }

        fp->value[n] = (u_char) (hi << 4 | lo);
    }

    fp->hash = (uint8_t) hash;
    fp->len = (uint8_t) len;
    t->nfingerprints++;

    return NGX_WEBRTC_SDP_OK;
}


static int
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=rtpmap");
    }

    f = ngx_webrtc_sdp_format(m, pt);
    if (f == NULL) {
        /* not in the m= line: ignored */
        return NGX_WEBRTC_SDP_OK;
    }

    end = enc.data + enc.len;

    slash = memchr(enc.data, '/', enc.len);
    if (slash == NULL || slash == enc.data) {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=rtpmap");
    }

    f->name.data = enc.data;
    f->name.len = slash - enc.data;

    t.data = slash + 1;
    slash = memchr(t.data, '/', end - t.data);
    t.len = (slash ? slash : end) - t.data;

    if (ngx_webrtc_sdp_uint(&t, 0xffffffff, &f->clock) != NGX_WEBRTC_SDP_OK
        || f->clock == 0)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "bad clock rate in a=rtpmap");
    }

    f->channels = 1;

    if (slash) {
        t.data = slash + 1;
        t.len = end - t.data;

        if (ngx_webrtc_sdp_uint(&t, 255, &n) != NGX_WEBRTC_SDP_OK || n == 0) {
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                      "bad channel count in a=rtpmap");
        }

        f->channels = (uint8_t) n;
    }

    f->codec = ngx_webrtc_codec_by_name(f->name.data, f->name.len);
    f->has_rtpmap = 1;

    return NGX_WEBRTC_SDP_OK;
}


static int
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=fmtp");
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
                sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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
                    sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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


static int
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=rtcp-fb");
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=rtcp-fb");
    }

    f = ngx_webrtc_sdp_format(m, pt);
    if (f) {
        f->fb |= fb;
    }

    return NGX_WEBRTC_SDP_OK;
}


static int
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=extmap");
    }

    slash = memchr(t.data, '/', t.len);
    if (slash) {
        t.len = slash - t.data;
    }

    if (ngx_webrtc_sdp_uint(&t, 255, &id) != NGX_WEBRTC_SDP_OK || id == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "bad id in a=extmap");
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


static int
ngx_webrtc_sdp_parse_ssrc(ngx_webrtc_sdp_t *sdp, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_str_t *v, int group)
{
    unsigned              i;
    uint32_t              ssrc, rtx;
    ngx_webrtc_sdp_str_t  t;

    if (group) {
        /* RFC 5576, 4.2: a=ssrc-group:FID <primary> <retransmission> */

        if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK) {
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                      "malformed a=ssrc-group");
        }

        m->rtx_ssrc = rtx;
        return NGX_WEBRTC_SDP_OK;
    }

    /* RFC 5576, 4.1: a=ssrc:<ssrc-id> <attribute>[:<value>] */

    if (ngx_webrtc_sdp_token(v, &t) != NGX_WEBRTC_SDP_OK
        || ngx_webrtc_sdp_uint(&t, 0xffffffff, &ssrc) != NGX_WEBRTC_SDP_OK)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=ssrc");
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


static int
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

    sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=candidate");
}


static int
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=rid");
    }

    for (i = 0; i < id.len; i++) {
        c = id.data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=rid");
        }
    }

    if (!ngx_webrtc_sdp_eq(&dir, "send") && !ngx_webrtc_sdp_eq(&dir, "recv")) {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=rid");
    }

    if (ngx_webrtc_sdp_rid(m, id.data, id.len) != NULL) {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "repeated a=rid");
    }

    if (m->nrids == NGX_WEBRTC_SDP_MAX_RIDS) {
        sdp_error(sdp, NGX_WEBRTC_SDP_UNSUPPORTED, "too many a=rid lines");
    }

    r = &m->rids[m->nrids++];
    r->id = id;
    r->send = ngx_webrtc_sdp_eq(&dir, "send");

    return NGX_WEBRTC_SDP_OK;
}


static int
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "malformed a=simulcast");
        }

        if (ngx_webrtc_sdp_eq(&dir, "send")) {
            m->simulcast_send = list;
        }
    }

    m->simulcast = 1;

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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED, "offer has no m= section");
    }

    if (sdp->bundle.len == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_UNSUPPORTED,
                  "offer has no a=group:BUNDLE, BUNDLE is required");
    }

    list = sdp->bundle;

    if (ngx_webrtc_sdp_token(&list, &tag) != NGX_WEBRTC_SDP_OK) {
        sdp_error(sdp, NGX_WEBRTC_SDP_UNSUPPORTED,
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
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                      "a=group:BUNDLE names more mids than m= sections");
        }

        rest = list;

        if (ngx_webrtc_sdp_in_list(&rest, &mid)) {
            sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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
                sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                  "offer has no a=ice-ufrag and a=ice-pwd");
    }

    if (t->nfingerprints == 0) {
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                  "offer has no a=fingerprint with a known hash function");
    }

    /* RFC 8842, 5.3: the answerer takes the role the offerer left */

    if (t->setup == NGX_WEBRTC_SETUP_PASSIVE
        || t->setup == NGX_WEBRTC_SETUP_HOLDCONN)
    {
        sdp_error(sdp, NGX_WEBRTC_SDP_UNSUPPORTED,
                  "offer has a=setup:passive, offer actpass or active");
    }

    if (sdp->ice_lite) {
        sdp_error(sdp, NGX_WEBRTC_SDP_UNSUPPORTED,
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
        sdp_error(sdp, NGX_WEBRTC_SDP_MALFORMED,
                  "fragment has no a=ice-ufrag and a=ice-pwd");
    }

    return NGX_WEBRTC_SDP_OK;
}


/*
 * RFC 8843, 6: a port of zero with a=bundle-only is an m= section that
 * is used only if bundled, not a rejected one; JSEP (RFC 8829, 4.1.1)
 * writes every m= section but the first so with max-bundle
 */

static int
ngx_webrtc_sdp_media_usable(ngx_webrtc_sdp_media_t *m)
{
    return (m->port != 0 || m->bundle_only)
           && m->bundled
           && m->rtcp_mux
           && (m->kind == NGX_WEBRTC_MEDIA_AUDIO
               || m->kind == NGX_WEBRTC_MEDIA_VIDEO)
           && (ngx_webrtc_sdp_eq(&m->proto, "UDP/TLS/RTP/SAVPF")
               || ngx_webrtc_sdp_eq(&m->proto, "UDP/TLS/RTP/SAVP"));
}


int
ngx_webrtc_sdp_negotiate_publish(ngx_webrtc_sdp_t *offer,
    const ngx_webrtc_codec_prefs_t *prefs, const ngx_webrtc_track_t *prefer,
    ngx_webrtc_answer_t *answer)
{
    int                         k;
    unsigned                    i, n, video;
    ngx_webrtc_sdp_media_t     *m;
    ngx_webrtc_answer_media_t  *am;

    answer->nmedia = offer->nmedia;
    answer->tracks[0].kind = 0;
    answer->tracks[1].kind = 0;

    n = 0;

    for (i = 0; i < offer->nmedia; i++) {
        m = &offer->media[i];
        am = &answer->media[i];

        am->state = NGX_WEBRTC_ANSWER_REJECTED;
        am->track = NGX_WEBRTC_NO_TRACK;
        am->format = 0;

        if (!ngx_webrtc_sdp_media_usable(m)) {
            continue;
        }

        am->state = NGX_WEBRTC_ANSWER_ACCEPTED;

        if (m->direction != NGX_WEBRTC_DIR_SENDONLY
            && m->direction != NGX_WEBRTC_DIR_SENDRECV)
        {
            /* a publisher's section that sends nothing */
            am->direction = NGX_WEBRTC_DIR_INACTIVE;
            continue;
        }

        am->direction = NGX_WEBRTC_DIR_RECVONLY;

        video = (m->kind == NGX_WEBRTC_MEDIA_VIDEO);

        if (answer->tracks[video].kind) {
            sdp_error(answer, NGX_WEBRTC_SDP_UNSUPPORTED,
                      video ? "more than one video track, publish one"
                            : "more than one audio track, publish one");
        }

        k = video
            ? ngx_webrtc_sdp_pick_publish(m, prefs->video, prefs->nvideo,
                                          prefer ? &prefer[1] : NULL)
            : ngx_webrtc_sdp_pick_publish(m, prefs->audio, prefs->naudio,
                                          prefer ? &prefer[0] : NULL);

        if (k < 0) {
            sdp_error(answer, NGX_WEBRTC_SDP_UNSUPPORTED,
                      video ? "no common video codec"
                            : "no common audio codec");
        }

        ngx_webrtc_sdp_make_track(&answer->tracks[video], m, &m->formats[k],
                                  i, NGX_WEBRTC_ROLE_PUBLISHER, NULL);
        am->track = (uint8_t) video;
        n++;
    }

    if (n == 0) {
        sdp_error(answer, NGX_WEBRTC_SDP_UNSUPPORTED,
                  "offer sends no audio or video in a BUNDLE group "
                  "with rtcp-mux");
    }

    return NGX_WEBRTC_SDP_OK;
}


int
ngx_webrtc_sdp_negotiate_play(ngx_webrtc_sdp_t *offer,
    const ngx_webrtc_track_t *stream, ngx_webrtc_answer_t *answer)
{
    int                         k;
    unsigned                    i, n, video, seen[2];
    ngx_webrtc_sdp_media_t     *m;
    ngx_webrtc_answer_media_t  *am;

    answer->nmedia = offer->nmedia;
    answer->tracks[0].kind = 0;
    answer->tracks[1].kind = 0;

    seen[0] = 0;
    seen[1] = 0;
    n = 0;

    for (i = 0; i < offer->nmedia; i++) {
        m = &offer->media[i];
        am = &answer->media[i];

        am->state = NGX_WEBRTC_ANSWER_REJECTED;
        am->track = NGX_WEBRTC_NO_TRACK;
        am->format = 0;

        if (!ngx_webrtc_sdp_media_usable(m) || m->nformats == 0) {
            continue;
        }

        video = (m->kind == NGX_WEBRTC_MEDIA_VIDEO);

        if (seen[video]++) {
            /* one track of each kind is sent */
            continue;
        }

        am->state = NGX_WEBRTC_ANSWER_ACCEPTED;

        if ((m->direction != NGX_WEBRTC_DIR_RECVONLY
             && m->direction != NGX_WEBRTC_DIR_SENDRECV)
            || stream[video].kind == 0)
        {
            /* nothing to send here: the stream has no such track */
            am->direction = NGX_WEBRTC_DIR_INACTIVE;
            continue;
        }

        k = ngx_webrtc_sdp_pick_play(m, &stream[video]);

        if (k < 0) {
            sdp_error(answer, NGX_WEBRTC_SDP_UNSUPPORTED,
                      video ? "no common video codec with the stream"
                            : "no common audio codec with the stream");
        }

        am->direction = NGX_WEBRTC_DIR_SENDONLY;

        ngx_webrtc_sdp_make_track(&answer->tracks[video], m, &m->formats[k],
                                  i, NGX_WEBRTC_ROLE_VIEWER, &stream[video]);
        am->track = (uint8_t) video;
        n++;
    }

    if (seen[0] + seen[1] == 0) {
        sdp_error(answer, NGX_WEBRTC_SDP_UNSUPPORTED,
                  "offer receives no audio or video in a BUNDLE group "
                  "with rtcp-mux");
    }

    if (n == 0) {
        sdp_error(answer, NGX_WEBRTC_SDP_UNSUPPORTED,
                  "offer receives none of the stream's tracks, "
                  "play with recvonly transceivers");
    }

    return NGX_WEBRTC_SDP_OK;
}


static int
ngx_webrtc_sdp_pick_publish(ngx_webrtc_sdp_media_t *m,
    const uint8_t *allowed, unsigned nallowed,
    const ngx_webrtc_track_t *prefer)
{
    int                       best;
    unsigned                  i, j;
    ngx_webrtc_sdp_format_t  *f;

    /* the codec of the stream's viewers, if the offer has it */

    if (prefer && prefer->kind) {
        for (i = 0; i < m->nformats; i++) {
            f = &m->formats[i];

            if (f->codec != prefer->codec) {
                continue;
            }

            if (f->codec == NGX_WEBRTC_CODEC_H264
                && (f->packetization_mode != 1
                    || !ngx_webrtc_h264_decodes(f->h264_profile,
                                                prefer->h264_profile)))
            {
                continue;
            }

            if (f->codec == NGX_WEBRTC_CODEC_VP9
                && f->profile != prefer->profile)
            {
                continue;
            }

            return i;
        }
    }

    /* otherwise the publisher's preference: the offer's order */

    best = -1;

    for (i = 0; i < m->nformats; i++) {
        f = &m->formats[i];

        for (j = 0; j < nallowed; j++) {
            if (allowed[j] == f->codec) {
                break;
            }
        }

        if (j == nallowed) {
            continue;
        }

        /*
         * RFC 7587, 7: opus is always "opus/48000/2", whatever the
         * channels sent; an encoder that writes "opus/48000" means the same
         */

        if ((f->codec == NGX_WEBRTC_CODEC_OPUS && f->clock != 48000)
            || (m->kind == NGX_WEBRTC_MEDIA_VIDEO && f->clock != 90000))
        {
            continue;
        }

        if (f->codec != NGX_WEBRTC_CODEC_H264) {
            if (best < 0) {
                return i;
            }

            continue;
        }

        /*
         * RFC 6184, 8.2.2: H.264 with packetization-mode 1 (FU-A, as
         * browsers send), and of the profiles offered the one most
         * viewers decode: a High profile publisher (OBS) is accepted,
         * a publisher that also offers Constrained Baseline sends that.
         */

        if (f->packetization_mode != 1) {
            continue;
        }

        if (best < 0
            || ngx_webrtc_h264_rank[f->h264_profile]
               > ngx_webrtc_h264_rank[m->formats[best].h264_profile])
        {
            best = i;
        }
    }

    return best;
}


static int
ngx_webrtc_sdp_pick_play(ngx_webrtc_sdp_media_t *m,
    const ngx_webrtc_track_t *stream)
{
    int                       compatible;
    unsigned                  i;
    ngx_webrtc_sdp_format_t  *f;

    compatible = -1;

    for (i = 0; i < m->nformats; i++) {
        f = &m->formats[i];

        if (f->codec != stream->codec || f->clock != stream->clock) {
            continue;
        }

        switch (f->codec) {

        case NGX_WEBRTC_CODEC_H264:
            if (f->packetization_mode != stream->packetization_mode) {
                continue;
            }

            if (f->h264_profile == stream->h264_profile) {
                return i;
            }

            /* RFC 6184, 8.1: a viewer whose profile decodes the stream */

            if (compatible < 0
                && ngx_webrtc_h264_decodes(stream->h264_profile,
                                           f->h264_profile))
            {
                compatible = i;
            }

            continue;

        case NGX_WEBRTC_CODEC_VP9:
        case NGX_WEBRTC_CODEC_AV1:
            if (f->profile != stream->profile) {
                continue;
            }

            return i;

        default:
            return i;
        }
    }

    return compatible;
}


static void
ngx_webrtc_sdp_make_track(ngx_webrtc_track_t *tr, ngx_webrtc_sdp_media_t *m,
    ngx_webrtc_sdp_format_t *f, unsigned mline, unsigned role,
    const ngx_webrtc_track_t *stream)
{
    unsigned                  i, allowed;
    ngx_webrtc_sdp_extmap_t  *e;

    memset(tr, 0, sizeof(ngx_webrtc_track_t));

    tr->kind = m->kind;
    tr->mline = (uint8_t) mline;
    tr->pt = f->pt;
    tr->codec = f->codec;
    tr->clock = f->clock;
    tr->channels = (f->codec == NGX_WEBRTC_CODEC_OPUS) ? 2 : f->channels;
    tr->packetization_mode = f->packetization_mode;
    tr->h264_profile = f->h264_profile;
    tr->profile_level_id = f->profile_level_id;
    tr->profile = f->profile;
    tr->rtcp_rsize = m->rtcp_rsize;
    tr->fb = f->fb & ngx_webrtc_fb_allowed[role];

    tr->mid_len = (uint8_t) m->mid.len;
    memcpy(tr->mid, m->mid.data, m->mid.len);

    if (stream) {
        tr->stereo = stream->stereo;

    } else {
        tr->stereo = f->stereo;
    }

    allowed = ngx_webrtc_ext_allowed[role];

    for (i = 0; i < m->nextmaps; i++) {
        e = &m->extmaps[i];

        /* one-byte header extensions (RFC 8285, 4.2) carry ids 1-14 */

        if (e->ext == NGX_WEBRTC_EXT_UNKNOWN || e->id > 14
            || !(allowed & NGX_WEBRTC_EXT_BIT(e->ext))
            || tr->ext[e->ext] != 0)
        {
            continue;
        }

        if (stream && stream->ext[e->ext] == 0) {
            /* the publisher does not send it */
            continue;
        }

        if ((e->ext == NGX_WEBRTC_EXT_AUDIO_LEVEL)
            != (m->kind == NGX_WEBRTC_MEDIA_AUDIO)
            && (e->ext == NGX_WEBRTC_EXT_AUDIO_LEVEL
                || e->ext == NGX_WEBRTC_EXT_VIDEO_ORIENTATION
                || e->ext == NGX_WEBRTC_EXT_TOFFSET))
        {
            continue;
        }

        tr->ext[e->ext] = e->id;
    }

    /* transport-cc feedback and its header extension go together */

    if (tr->ext[NGX_WEBRTC_EXT_TRANSPORT_CC] == 0) {
        tr->fb &= ~NGX_WEBRTC_FB_TRANSPORT_CC;

    } else if (!(tr->fb & NGX_WEBRTC_FB_TRANSPORT_CC)) {
        tr->ext[NGX_WEBRTC_EXT_TRANSPORT_CC] = 0;
    }

    if (m->kind == NGX_WEBRTC_MEDIA_AUDIO) {
        tr->fb &= NGX_WEBRTC_FB_TRANSPORT_CC | NGX_WEBRTC_FB_REMB;
    }

    if (role == NGX_WEBRTC_ROLE_PUBLISHER) {
        for (i = 0; i < m->nssrcs; i++) {
            if (m->ssrcs[i] != m->rtx_ssrc) {
                tr->ssrc = m->ssrcs[i];
                break;
            }
        }

        ngx_webrtc_sdp_pick_layer(tr, m);
    }

    ngx_webrtc_sdp_make_fmtp(tr, f, stream);
}


/*
 * A simulcast publisher (RFC 8853) sends its layers as separate RTP
 * streams told apart by their rtp-stream-id (RFC 8852, 3.1).  Every layer
 * offered is accepted (OBS fails otherwise), one is forwarded: the layer
 * "0" (OBS's full resolution), else the first one of a=simulcast.  Without
 * the header extension the layers cannot be told apart: simulcast is
 * declined and the publisher sends its first layer alone (RFC 8829,
 * 5.3.1).
 */

static void
ngx_webrtc_sdp_pick_layer(ngx_webrtc_track_t *tr, ngx_webrtc_sdp_media_t *m)
{
    const u_char          *p, *end, *start;
    ngx_webrtc_sdp_rid_t  *r, *first;

    if (m->simulcast_send.len == 0 || tr->ext[NGX_WEBRTC_EXT_RID] == 0) {
        tr->ext[NGX_WEBRTC_EXT_RID] = 0;
        return;
    }

    first = NULL;

    p = m->simulcast_send.data;
    end = p + m->simulcast_send.len;

    while (p < end) {

        if (*p == '~') {
            p++;
        }

        start = p;

        while (p < end && *p != ';' && *p != ',') {
            p++;
        }

        r = ngx_webrtc_sdp_rid(m, start, p - start);

        if (r == NULL || !r->send) {
            /* RFC 8853, 5.2: every rid listed has its a=rid line */
            tr->ext[NGX_WEBRTC_EXT_RID] = 0;
            return;
        }

        if (first == NULL || (r->id.len == 1 && r->id.data[0] == '0')) {
            first = r;
        }

        if (p < end) {
            p++;
        }
    }

    if (first == NULL) {
        tr->ext[NGX_WEBRTC_EXT_RID] = 0;
        return;
    }

    tr->rid_len = (uint8_t) first->id.len;
    memcpy(tr->rid, first->id.data, first->id.len);
}


static ngx_webrtc_sdp_rid_t *
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


static void
ngx_webrtc_sdp_make_fmtp(ngx_webrtc_track_t *tr, ngx_webrtc_sdp_format_t *f,
    const ngx_webrtc_track_t *stream)
{
    u_char                buf[NGX_WEBRTC_SDP_FMTP_LEN];
    ngx_webrtc_sdp_out_t  o;

    o.pos = buf;
    o.end = buf + sizeof(buf);
    o.overflow = 0;

    switch (tr->codec) {

    case NGX_WEBRTC_CODEC_OPUS:
        ngx_webrtc_puts(&o, "minptime=10;useinbandfec=1");

        if (tr->stereo) {
            ngx_webrtc_puts(&o, ";stereo=1;sprop-stereo=1");
        }

        break;

    case NGX_WEBRTC_CODEC_H264:
        /*
         * RFC 6184, 8.2.2: the answer keeps the offered profile; with
         * level-asymmetry-allowed the levels of both sides may differ
         */
        ngx_webrtc_puts(&o, "level-asymmetry-allowed=1;packetization-mode=");
        ngx_webrtc_put_uint(&o, tr->packetization_mode);
        ngx_webrtc_puts(&o, ";profile-level-id=");

        {
            static const char  hex[] = "0123456789abcdef";
            int                 shift;

            for (shift = 20; shift >= 0; shift -= 4) {
                ngx_webrtc_put(&o, &hex[(tr->profile_level_id >> shift) & 0xf],
                               1);
            }
        }

        break;

    case NGX_WEBRTC_CODEC_VP9:
        ngx_webrtc_puts(&o, "profile-id=");
        ngx_webrtc_put_uint(&o, tr->profile);
        break;

    case NGX_WEBRTC_CODEC_AV1:
        /* level-idx, profile and tier of the publisher's encoder */
        if (stream) {
            ngx_webrtc_put(&o, stream->fmtp, stream->fmtp_len);

        } else {
            ngx_webrtc_put(&o, f->fmtp.data, f->fmtp.len);
        }

        break;

    default:
        break;
    }

    if (o.overflow) {
        o.pos = buf;
    }

    tr->fmtp_len = (uint8_t) (o.pos - buf);
    memcpy(tr->fmtp, buf, tr->fmtp_len);
}


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
    ngx_webrtc_sdp_str_t      addr, port;
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

    if (a->ncandidates) {
        sp = memchr(a->candidates[0].data, ' ', a->candidates[0].len);

        if (sp) {
            addr.data = a->candidates[0].data;
            addr.len = sp - addr.data;
            port.data = sp + 1;
            port.len = a->candidates[0].data + a->candidates[0].len - port.data;
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


static void
ngx_webrtc_put_candidates(ngx_webrtc_sdp_out_t *o, ngx_webrtc_answer_t *a)
{
    unsigned  i;

    /*
     * RFC 8445, 5.1.2.1: host type preference 126, the local preference
     * keeps the configured order, one component (rtcp-mux)
     */

    for (i = 0; i < a->ncandidates && i < 256; i++) {
        ngx_webrtc_puts(o, "a=candidate:");
        ngx_webrtc_put_uint(o, i + 1);
        ngx_webrtc_puts(o, " 1 udp ");
        ngx_webrtc_put_uint(o, (126u << 24) + ((65535u - i) << 8) + 255);
        ngx_webrtc_puts(o, " ");
        ngx_webrtc_put_str(o, &a->candidates[i]);
        ngx_webrtc_puts(o, " typ host\r\n");
    }

    ngx_webrtc_puts(o, "a=end-of-candidates\r\n");
}


ngx_webrtc_codec_e
ngx_webrtc_codec_by_name(const u_char *name, size_t len)
{
    const ngx_webrtc_codec_name_t  *c;

    for (c = ngx_webrtc_codec_names; c->name; c++) {
        if (ngx_webrtc_sdp_caseeq(name, len, c->name)) {
            return c->codec;
        }
    }

    return NGX_WEBRTC_CODEC_UNKNOWN;
}


const char *
ngx_webrtc_codec_name(unsigned codec)
{
    const ngx_webrtc_codec_name_t  *c;

    for (c = ngx_webrtc_codec_names; c->name; c++) {
        if (c->codec == codec) {
            return c->name;
        }
    }

    return "unknown";
}


ngx_webrtc_h264_profile_e
ngx_webrtc_h264_profile(uint32_t profile_level_id)
{
    unsigned                          i, idc, iop;
    const ngx_webrtc_h264_pattern_t  *p;

    idc = (profile_level_id >> 16) & 0xff;
    iop = (profile_level_id >> 8) & 0xff;

    for (i = 0; i < sizeof(ngx_webrtc_h264_patterns)
                    / sizeof(ngx_webrtc_h264_patterns[0]); i++)
    {
        p = &ngx_webrtc_h264_patterns[i];

        if (p->profile_idc == idc && (iop & p->mask) == p->value) {
            return p->profile;
        }
    }

    return NGX_WEBRTC_H264_UNKNOWN;
}


/*
 * Whether a decoder of the receiver's profile decodes a stream of the
 * given one (ITU-T H.264, A.2): Constrained Baseline is a subset of
 * Baseline, Main and the High profiles; Main and Constrained High are
 * subsets of High, and High of High 4:4:4 Predictive.  Chromium offers
 * to receive 42001f, 42e01f, 4d001f and f4001f, so a High profile
 * publisher (OBS) meets it at f4001f.
 */

int
ngx_webrtc_h264_decodes(unsigned stream, unsigned receiver)
{
    if (stream == NGX_WEBRTC_H264_UNKNOWN) {
        return 0;
    }

    if (stream == receiver) {
        return 1;
    }

    switch (stream) {

    case NGX_WEBRTC_H264_CONSTRAINED_BASELINE:
        return receiver != NGX_WEBRTC_H264_UNKNOWN;

    case NGX_WEBRTC_H264_MAIN:
    case NGX_WEBRTC_H264_CONSTRAINED_HIGH:
        return receiver == NGX_WEBRTC_H264_HIGH
               || receiver == NGX_WEBRTC_H264_PREDICTIVE_HIGH_444;

    case NGX_WEBRTC_H264_HIGH:
        return receiver == NGX_WEBRTC_H264_PREDICTIVE_HIGH_444;

    default:
        return 0;
    }
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


static ngx_webrtc_sdp_format_t *
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


/* takes the next space separated token off the front of v */

static int
ngx_webrtc_sdp_token(ngx_webrtc_sdp_str_t *v, ngx_webrtc_sdp_str_t *token)
{
    const u_char  *p, *end;

    p = v->data;
    end = v->data + v->len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == end) {
        return NGX_WEBRTC_SDP_MALFORMED;
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


static int
ngx_webrtc_sdp_uint(ngx_webrtc_sdp_str_t *s, uint32_t max, uint32_t *value)
{
    size_t    i;
    uint64_t  n;

    if (s->len == 0 || s->len > 10) {
        return NGX_WEBRTC_SDP_MALFORMED;
    }

    n = 0;

    for (i = 0; i < s->len; i++) {
        if (s->data[i] < '0' || s->data[i] > '9') {
            return NGX_WEBRTC_SDP_MALFORMED;
        }

        n = n * 10 + (s->data[i] - '0');
    }

    if (n > max) {
        return NGX_WEBRTC_SDP_MALFORMED;
    }

    *value = (uint32_t) n;

    return NGX_WEBRTC_SDP_OK;
}


static int
ngx_webrtc_sdp_eq(ngx_webrtc_sdp_str_t *s, const char *lit)
{
    size_t  len;

    len = strlen(lit);

    return s->len == len && memcmp(s->data, lit, len) == 0;
}


static int
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


static int
ngx_webrtc_sdp_prefix(ngx_webrtc_sdp_str_t *s, const char *lit)
{
    size_t  len;

    len = strlen(lit);

    return s->len >= len && memcmp(s->data, lit, len) == 0;
}


static int
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


static void
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


static void
ngx_webrtc_puts(ngx_webrtc_sdp_out_t *o, const char *s)
{
    ngx_webrtc_put(o, s, strlen(s));
}


static void
ngx_webrtc_put_str(ngx_webrtc_sdp_out_t *o, ngx_webrtc_sdp_str_t *s)
{
    ngx_webrtc_put(o, s->data, s->len);
}


static void
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
