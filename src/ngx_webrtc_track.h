
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_TRACK_H_INCLUDED_
#define _NGX_WEBRTC_TRACK_H_INCLUDED_


/*
 * The domain types of a media track, shared by the SDP codec, signaling
 * and the media plane: media kinds, codecs, H.264 profiles, RTP header
 * extensions, feedback, roles, DTLS fingerprints and the negotiated
 * track, with the pure helpers on codecs (ngx_webrtc_sdp_codec.c).
 * libc types only, no pointers: the records live in shared memory.
 */


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


/* sizes of the records the SDP codec fills for the rest of the module */
#define NGX_WEBRTC_SDP_MAX_FINGERPRINTS 4

#define NGX_WEBRTC_SDP_FMTP_LEN         160
#define NGX_WEBRTC_SDP_MID_LEN          32
#define NGX_WEBRTC_SDP_ICE_MAX          256
#define NGX_WEBRTC_SDP_FP_MAX           64
#define NGX_WEBRTC_SDP_RID_LEN          16


typedef enum {
    NGX_WEBRTC_MEDIA_OTHER = 0,
    NGX_WEBRTC_MEDIA_AUDIO,
    NGX_WEBRTC_MEDIA_VIDEO,
    NGX_WEBRTC_MEDIA_APPLICATION
} ngx_webrtc_media_kind_e;


typedef enum {
    NGX_WEBRTC_CODEC_UNKNOWN = 0,
    NGX_WEBRTC_CODEC_OPUS,
    NGX_WEBRTC_CODEC_H264,
    NGX_WEBRTC_CODEC_VP8,
    NGX_WEBRTC_CODEC_VP9,
    NGX_WEBRTC_CODEC_AV1,
    NGX_WEBRTC_CODEC_RTX,
    NGX_WEBRTC_CODEC_RED,
    NGX_WEBRTC_CODEC_ULPFEC,
    NGX_WEBRTC_CODEC_PCMU,
    NGX_WEBRTC_CODEC_PCMA,
    NGX_WEBRTC_CODEC_G722,
    NGX_WEBRTC_CODEC_CN,
    NGX_WEBRTC_CODEC_TELEPHONE_EVENT,
    NGX_WEBRTC_CODEC_LAST
} ngx_webrtc_codec_e;


/* H.264 profiles as classified by RFC 6184 profile-level-id */
typedef enum {
    NGX_WEBRTC_H264_UNKNOWN = 0,
    NGX_WEBRTC_H264_CONSTRAINED_BASELINE,
    NGX_WEBRTC_H264_BASELINE,
    NGX_WEBRTC_H264_MAIN,
    NGX_WEBRTC_H264_CONSTRAINED_HIGH,
    NGX_WEBRTC_H264_HIGH,
    NGX_WEBRTC_H264_PREDICTIVE_HIGH_444
} ngx_webrtc_h264_profile_e;


typedef enum {
    NGX_WEBRTC_EXT_MID = 0,
    NGX_WEBRTC_EXT_ABS_SEND_TIME,
    NGX_WEBRTC_EXT_TRANSPORT_CC,
    NGX_WEBRTC_EXT_AUDIO_LEVEL,
    NGX_WEBRTC_EXT_TOFFSET,
    NGX_WEBRTC_EXT_VIDEO_ORIENTATION,
    NGX_WEBRTC_EXT_PLAYOUT_DELAY,
    NGX_WEBRTC_EXT_RID,
    NGX_WEBRTC_EXT_REPAIRED_RID,
    NGX_WEBRTC_EXT_N,
    NGX_WEBRTC_EXT_UNKNOWN = 255
} ngx_webrtc_ext_e;


/* rtcp-fb */
#define NGX_WEBRTC_FB_NACK          0x01
#define NGX_WEBRTC_FB_PLI           0x02
#define NGX_WEBRTC_FB_FIR           0x04
#define NGX_WEBRTC_FB_REMB          0x08
#define NGX_WEBRTC_FB_TRANSPORT_CC  0x10


/* in order of strength */
typedef enum {
    NGX_WEBRTC_HASH_SHA1 = 1,
    NGX_WEBRTC_HASH_SHA224,
    NGX_WEBRTC_HASH_SHA256,
    NGX_WEBRTC_HASH_SHA384,
    NGX_WEBRTC_HASH_SHA512
} ngx_webrtc_hash_e;


typedef enum {
    NGX_WEBRTC_ROLE_PUBLISHER = 1,
    NGX_WEBRTC_ROLE_VIEWER
} ngx_webrtc_role_e;


typedef struct {
    uint8_t                     hash;           /* ngx_webrtc_hash_e */
    uint8_t                     len;
    u_char                      value[NGX_WEBRTC_SDP_FP_MAX];
} ngx_webrtc_fingerprint_t;


/*
 * The negotiated description of one track: what the media plane needs to
 * receive it (publisher) or to send it (viewer).  Self-contained (no
 * pointers), so that it can live in shared memory.
 */
typedef struct {
    uint8_t                     kind;           /* 0: no such track */
    uint8_t                     mline;
    uint8_t                     pt;
    uint8_t                     codec;
    uint8_t                     channels;
    uint8_t                     fb;
    uint8_t                     packetization_mode;
    uint8_t                     h264_profile;
    uint8_t                     profile;
    uint8_t                     stereo;
    uint8_t                     rtcp_rsize;
    uint8_t                     mid_len;
    uint8_t                     fmtp_len;
    uint8_t                     rid_len;        /* simulcast layer kept */
    uint8_t                     ext[NGX_WEBRTC_EXT_N];   /* id, 0: none */
    uint32_t                    clock;
    uint32_t                    profile_level_id;
    uint32_t                    ssrc;
    u_char                      mid[NGX_WEBRTC_SDP_MID_LEN];
    u_char                      rid[NGX_WEBRTC_SDP_RID_LEN];
    u_char                      fmtp[NGX_WEBRTC_SDP_FMTP_LEN];
} ngx_webrtc_track_t;


ngx_webrtc_codec_e ngx_webrtc_codec_by_name(const u_char *name, size_t len);
const char *ngx_webrtc_codec_name(unsigned codec);
ngx_webrtc_h264_profile_e ngx_webrtc_h264_profile(uint32_t profile_level_id);
int ngx_webrtc_h264_decodes(unsigned stream, unsigned receiver);


#endif /* _NGX_WEBRTC_TRACK_H_INCLUDED_ */
