
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_sdp_private.h"


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
