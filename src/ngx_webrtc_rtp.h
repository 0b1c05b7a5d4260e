
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_RTP_H_INCLUDED_
#define _NGX_WEBRTC_RTP_H_INCLUDED_


/*
 * Pure RTP and RTCP codec: parsing, per-viewer header rewriting, and the
 * feedback packets the server originates.  libc only, bounds-checked.
 */


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


#define NGX_WEBRTC_RTP_MIN          12
#define NGX_WEBRTC_RTCP_MIN         8

#define NGX_WEBRTC_RTCP_SR          200
#define NGX_WEBRTC_RTCP_RR          201
#define NGX_WEBRTC_RTCP_SDES        202
#define NGX_WEBRTC_RTCP_BYE         203
#define NGX_WEBRTC_RTCP_RTPFB       205
#define NGX_WEBRTC_RTCP_PSFB        206

#define NGX_WEBRTC_RTCP_FMT_NACK    1
#define NGX_WEBRTC_RTCP_FMT_PLI     1
#define NGX_WEBRTC_RTCP_FMT_FIR     4
#define NGX_WEBRTC_RTCP_FMT_AFB     15

/* RFC 6184, 5.2: NAL unit types */
#define NGX_WEBRTC_H264_NAL_SPS     7
#define NGX_WEBRTC_H264_STAP_A      24
#define NGX_WEBRTC_H264_FU_A        28


typedef struct {
    uint8_t                     pt;
    uint8_t                     marker;
    uint16_t                    seq;
    uint32_t                    ts;
    uint32_t                    ssrc;
    size_t                      header_len;     /* with CSRCs, extension */
    size_t                      ext_offset;     /* 0: no one-byte ext */
    size_t                      ext_len;
    size_t                      payload_len;    /* without padding */
} ngx_webrtc_rtp_t;


typedef struct {
    uint8_t                     type;
    uint8_t                     fmt;            /* RC or FMT */
    size_t                      len;            /* bytes, with header */
    const u_char               *data;
} ngx_webrtc_rtcp_t;


typedef struct {
    const u_char               *pos;
    const u_char               *end;
} ngx_webrtc_rtcp_iter_t;


int ngx_webrtc_is_rtcp(const u_char *p, size_t len);
int ngx_webrtc_rtp_parse(const u_char *p, size_t len, ngx_webrtc_rtp_t *rtp);
void ngx_webrtc_rtp_rewrite(u_char *p, const ngx_webrtc_rtp_t *rtp,
    uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
    const uint8_t *ext_map);
ssize_t ngx_webrtc_rtp_ext(const u_char *p, const ngx_webrtc_rtp_t *rtp,
    uint8_t id, const u_char **value);

uint32_t ngx_webrtc_h264_sps(const u_char *p, size_t len);

void ngx_webrtc_rtcp_iter_init(ngx_webrtc_rtcp_iter_t *it, const u_char *p,
    size_t len);
int ngx_webrtc_rtcp_next(ngx_webrtc_rtcp_iter_t *it, ngx_webrtc_rtcp_t *pkt);

size_t ngx_webrtc_rtcp_pli(u_char *buf, uint32_t sender, uint32_t media);
size_t ngx_webrtc_rtcp_remb(u_char *buf, uint32_t sender, uint64_t bitrate,
    uint32_t media);
size_t ngx_webrtc_rtcp_sr(u_char *buf, uint32_t ssrc, uint64_t ntp,
    uint32_t ts, uint32_t packets, uint32_t octets);
size_t ngx_webrtc_rtcp_nack(u_char *buf, uint32_t sender, uint32_t media,
    const u_char *fci, size_t fci_len);

uint16_t ngx_webrtc_get16(const u_char *p);
uint32_t ngx_webrtc_get32(const u_char *p);
void ngx_webrtc_put16(u_char *p, uint16_t v);
void ngx_webrtc_put32(u_char *p, uint32_t v);


#endif /* _NGX_WEBRTC_RTP_H_INCLUDED_ */
