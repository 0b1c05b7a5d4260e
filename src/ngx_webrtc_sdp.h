
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_SDP_H_INCLUDED_
#define _NGX_WEBRTC_SDP_H_INCLUDED_


/*
 * Pure SDP codec: parsing of offers and trickle fragments, codec
 * negotiation and answer generation.  No I/O, no allocation, no nginx
 * runtime: only libc, so that unit tests and fuzzers call it directly.
 * Parsed strings point into the caller's buffer.
 */


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ngx_webrtc_track.h"


#define NGX_WEBRTC_SDP_MAX_MEDIA        8
#define NGX_WEBRTC_SDP_MAX_FORMATS      48
#define NGX_WEBRTC_SDP_MAX_EXTMAP       24
#define NGX_WEBRTC_SDP_MAX_SSRC         8
#define NGX_WEBRTC_SDP_MAX_CANDIDATES   8
#define NGX_WEBRTC_SDP_MAX_RIDS         8


/*
 * Results of the codec functions, the values of nginx's NGX_OK, NGX_ERROR
 * and NGX_DECLINED: ERROR is malformed input, e.g. a bad line or an offer
 * without ICE credentials or fingerprint (HTTP 400); DECLINED an offer
 * understood but refused, e.g. no BUNDLE, past a limit, no codec in common
 * (HTTP 422).
 */
#define NGX_WEBRTC_SDP_OK               0
#define NGX_WEBRTC_SDP_ERROR           -1
#define NGX_WEBRTC_SDP_DECLINED        -5


typedef enum {
    NGX_WEBRTC_DIR_SENDRECV = 0,        /* the default, RFC 8866 */
    NGX_WEBRTC_DIR_SENDONLY,
    NGX_WEBRTC_DIR_RECVONLY,
    NGX_WEBRTC_DIR_INACTIVE
} ngx_webrtc_direction_e;


typedef enum {
    NGX_WEBRTC_SETUP_NONE = 0,
    NGX_WEBRTC_SETUP_ACTPASS,
    NGX_WEBRTC_SETUP_ACTIVE,
    NGX_WEBRTC_SETUP_PASSIVE,
    NGX_WEBRTC_SETUP_HOLDCONN
} ngx_webrtc_setup_e;


typedef struct {
    size_t                      len;
    const u_char               *data;
} ngx_webrtc_sdp_str_t;


/* one payload type of an m= line */
typedef struct {
    uint8_t                     pt;
    uint8_t                     codec;          /* ngx_webrtc_codec_e */
    uint8_t                     channels;
    uint8_t                     fb;             /* NGX_WEBRTC_FB_* */
    uint32_t                    clock;
    ngx_webrtc_sdp_str_t        name;
    ngx_webrtc_sdp_str_t        fmtp;

    /* from fmtp */
    uint8_t                     apt;            /* rtx, red */
    uint8_t                     packetization_mode;
    uint8_t                     h264_profile;   /* ngx_webrtc_h264_profile_e */
    uint8_t                     profile;        /* vp9 profile-id, av1 */
    uint8_t                     stereo;
    uint8_t                     has_rtpmap;
    uint32_t                    profile_level_id;
} ngx_webrtc_sdp_format_t;


typedef struct {
    uint8_t                     id;
    uint8_t                     ext;            /* ngx_webrtc_ext_e */
    ngx_webrtc_sdp_str_t        uri;
} ngx_webrtc_sdp_extmap_t;


/* RFC 8851, 10: a=rid:<rid-id> <direction> [<params>] */
typedef struct {
    ngx_webrtc_sdp_str_t        id;
    uint8_t                     send;
} ngx_webrtc_sdp_rid_t;


typedef struct {
    ngx_webrtc_sdp_str_t        foundation;
    ngx_webrtc_sdp_str_t        transport;
    ngx_webrtc_sdp_str_t        address;
    ngx_webrtc_sdp_str_t        type;
    uint32_t                    priority;
    uint16_t                    port;
    uint8_t                     component;
} ngx_webrtc_sdp_candidate_t;


typedef struct {
    ngx_webrtc_sdp_str_t        ufrag;
    ngx_webrtc_sdp_str_t        pwd;
    ngx_webrtc_fingerprint_t    fingerprints[NGX_WEBRTC_SDP_MAX_FINGERPRINTS];
    uint8_t                     nfingerprints;
    uint8_t                     setup;          /* ngx_webrtc_setup_e */
} ngx_webrtc_sdp_transport_t;


typedef struct {
    uint8_t                     kind;           /* ngx_webrtc_media_kind_e */
    uint8_t                     direction;      /* ngx_webrtc_direction_e */
    uint8_t                     rtcp_mux;
    uint8_t                     rtcp_rsize;
    uint8_t                     simulcast;
    uint8_t                     end_of_candidates;
    uint8_t                     has_direction;
    uint8_t                     bundled;
    uint8_t                     bundle_only;
    uint16_t                    port;

    ngx_webrtc_sdp_str_t        type;
    ngx_webrtc_sdp_str_t        proto;
    ngx_webrtc_sdp_str_t        mid;
    ngx_webrtc_sdp_str_t        msid;
    ngx_webrtc_sdp_str_t        simulcast_send; /* "0;1;2" */

    ngx_webrtc_sdp_transport_t  transport;

    unsigned                    nformats;
    ngx_webrtc_sdp_format_t     formats[NGX_WEBRTC_SDP_MAX_FORMATS];

    unsigned                    nextmaps;
    ngx_webrtc_sdp_extmap_t     extmaps[NGX_WEBRTC_SDP_MAX_EXTMAP];

    unsigned                    nssrcs;
    uint32_t                    ssrcs[NGX_WEBRTC_SDP_MAX_SSRC];
    uint32_t                    rtx_ssrc;       /* ssrc-group:FID */

    unsigned                    nrids;
    ngx_webrtc_sdp_rid_t        rids[NGX_WEBRTC_SDP_MAX_RIDS];

    unsigned                    ncandidates;
    ngx_webrtc_sdp_candidate_t  candidates[NGX_WEBRTC_SDP_MAX_CANDIDATES];
    unsigned                    ncandidates_total;
} ngx_webrtc_sdp_media_t;


typedef struct {
    unsigned                    fragment:1;     /* trickle-ice-sdpfrag */
    unsigned                    ice_lite:1;
    unsigned                    has_version:1;
    unsigned                    has_direction:1;
    unsigned                    direction:2;    /* session level */

    ngx_webrtc_sdp_transport_t  transport;      /* session level */
    ngx_webrtc_sdp_str_t        bundle;         /* "0 1" */

    /* the effective transport of the BUNDLE group, by check_offer() */
    ngx_webrtc_sdp_transport_t  ice;
    unsigned                    bundle_tag;

    unsigned                    nmedia;
    ngx_webrtc_sdp_media_t      media[NGX_WEBRTC_SDP_MAX_MEDIA];

    const char                 *error;          /* one-line reason */
    unsigned                    error_line;
} ngx_webrtc_sdp_t;


/* what the operator allows, in order of preference */
typedef struct {
    uint8_t                     video[NGX_WEBRTC_CODEC_LAST];
    uint8_t                     audio[NGX_WEBRTC_CODEC_LAST];
    uint8_t                     nvideo;
    uint8_t                     naudio;
} ngx_webrtc_codec_prefs_t;


typedef struct {
    uint8_t                     state;          /* NGX_WEBRTC_ANSWER_* */
    uint8_t                     direction;
    uint8_t                     track;          /* index into tracks[] */
    uint8_t                     format;         /* offer's, if no track */
} ngx_webrtc_answer_media_t;

#define NGX_WEBRTC_ANSWER_REJECTED  0
#define NGX_WEBRTC_ANSWER_ACCEPTED  1

#define NGX_WEBRTC_NO_TRACK         0xff


typedef struct {
    /* input, set by the caller */
    ngx_webrtc_sdp_str_t        ufrag;
    ngx_webrtc_sdp_str_t        pwd;
    ngx_webrtc_sdp_str_t        fingerprint;    /* "sha-256 AB:CD:..." */
    ngx_webrtc_sdp_str_t        cname;
    ngx_webrtc_sdp_str_t        msid;           /* stream id for a=msid */
    ngx_webrtc_sdp_str_t       *candidates;     /* "127.0.0.1 10000",
                                                   ICE-TCP "... tcp" */
    unsigned                    ncandidates;
    uint64_t                    session_id;

    /* output of negotiation */
    unsigned                    nmedia;
    ngx_webrtc_answer_media_t   media[NGX_WEBRTC_SDP_MAX_MEDIA];
    ngx_webrtc_track_t          tracks[2];      /* [0] audio, [1] video */

    const char                 *error;
} ngx_webrtc_answer_t;


int ngx_webrtc_sdp_parse(ngx_webrtc_sdp_t *sdp, const u_char *p, size_t len,
    int fragment);
int ngx_webrtc_sdp_check_offer(ngx_webrtc_sdp_t *sdp);
int ngx_webrtc_sdp_check_fragment(ngx_webrtc_sdp_t *sdp);

int ngx_webrtc_sdp_negotiate_publish(ngx_webrtc_sdp_t *offer,
    const ngx_webrtc_codec_prefs_t *prefs, const ngx_webrtc_track_t *prefer,
    ngx_webrtc_answer_t *answer);
int ngx_webrtc_sdp_negotiate_play(ngx_webrtc_sdp_t *offer,
    const ngx_webrtc_track_t *stream, ngx_webrtc_answer_t *answer);

size_t ngx_webrtc_sdp_write_answer(u_char *buf, size_t size,
    ngx_webrtc_sdp_t *offer, ngx_webrtc_answer_t *answer);
size_t ngx_webrtc_sdp_write_fragment(u_char *buf, size_t size,
    ngx_webrtc_answer_t *answer, const u_char *mid, size_t mid_len);

int ngx_webrtc_ice_string_valid(const u_char *p, size_t len);


#endif /* _NGX_WEBRTC_SDP_H_INCLUDED_ */
