
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_sdp_private.h"


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
            sdp_error(answer, NGX_WEBRTC_SDP_DECLINED,
                      video ? "more than one video track, publish one"
                            : "more than one audio track, publish one");
        }

        k = video
            ? ngx_webrtc_sdp_pick_publish(m, prefs->video, prefs->nvideo,
                                          prefer ? &prefer[1] : NULL)
            : ngx_webrtc_sdp_pick_publish(m, prefs->audio, prefs->naudio,
                                          prefer ? &prefer[0] : NULL);

        if (k < 0) {
            sdp_error(answer, NGX_WEBRTC_SDP_DECLINED,
                      video ? "no common video codec"
                            : "no common audio codec");
        }

        ngx_webrtc_sdp_make_track(&answer->tracks[video], m, &m->formats[k],
                                  i, NGX_WEBRTC_ROLE_PUBLISHER, NULL);
        am->track = (uint8_t) video;
        n++;
    }

    if (n == 0) {
        sdp_error(answer, NGX_WEBRTC_SDP_DECLINED,
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
            sdp_error(answer, NGX_WEBRTC_SDP_DECLINED,
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
        sdp_error(answer, NGX_WEBRTC_SDP_DECLINED,
                  "offer receives no audio or video in a BUNDLE group "
                  "with rtcp-mux");
    }

    if (n == 0) {
        sdp_error(answer, NGX_WEBRTC_SDP_DECLINED,
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
