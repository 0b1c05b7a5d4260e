
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_SDP_PRIVATE_H_INCLUDED_
#define _NGX_WEBRTC_SDP_PRIVATE_H_INCLUDED_


/*
 * Shared by the files of the SDP codec, not for the rest of the module:
 * ngx_webrtc_sdp.c            lines, m= and a= dispatch, offer checks,
 *                             the lexer
 * ngx_webrtc_sdp_attr.c       attribute values (fingerprint, rtpmap, fmtp,
 *                             rtcp-fb, extmap, ssrc, candidate, rid,
 *                             simulcast)
 * ngx_webrtc_sdp_codec.c      codec names, H.264 profiles
 * ngx_webrtc_sdp_negotiate.c  codec choice, negotiated tracks, their fmtp
 * ngx_webrtc_sdp_answer.c     the answer and the ICE restart fragment,
 *                             bounded output
 */


#include "ngx_webrtc_sdp.h"


#define sdp_error(sdp, rc, reason)                                           \
    do { (sdp)->error = reason; return rc; } while (0)


typedef struct {
    u_char                     *pos;
    u_char                     *end;
    int                         overflow;
} ngx_webrtc_sdp_out_t;


int ngx_webrtc_sdp_parse_fingerprint(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_transport_t *t, ngx_webrtc_sdp_str_t *v);
int ngx_webrtc_sdp_parse_rtpmap(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
int ngx_webrtc_sdp_parse_fmtp(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
int ngx_webrtc_sdp_parse_rtcp_fb(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
int ngx_webrtc_sdp_parse_extmap(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
int ngx_webrtc_sdp_parse_ssrc(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v, int group);
int ngx_webrtc_sdp_parse_candidate(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
int ngx_webrtc_sdp_parse_rid(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);
int ngx_webrtc_sdp_parse_simulcast(ngx_webrtc_sdp_t *sdp,
    ngx_webrtc_sdp_media_t *m, ngx_webrtc_sdp_str_t *v);

ngx_webrtc_sdp_format_t *ngx_webrtc_sdp_format(ngx_webrtc_sdp_media_t *m,
    unsigned pt);
ngx_webrtc_sdp_rid_t *ngx_webrtc_sdp_rid(ngx_webrtc_sdp_media_t *m,
    const u_char *id, size_t len);
int ngx_webrtc_sdp_token(ngx_webrtc_sdp_str_t *v, ngx_webrtc_sdp_str_t *token);
int ngx_webrtc_sdp_uint(ngx_webrtc_sdp_str_t *s, uint32_t max,
    uint32_t *value);
int ngx_webrtc_sdp_eq(ngx_webrtc_sdp_str_t *s, const char *lit);
int ngx_webrtc_sdp_caseeq(const u_char *p, size_t len, const char *lit);
int ngx_webrtc_sdp_prefix(ngx_webrtc_sdp_str_t *s, const char *lit);
int ngx_webrtc_sdp_in_list(ngx_webrtc_sdp_str_t *list,
    ngx_webrtc_sdp_str_t *item);

void ngx_webrtc_put(ngx_webrtc_sdp_out_t *o, const void *p, size_t len);
void ngx_webrtc_puts(ngx_webrtc_sdp_out_t *o, const char *s);
void ngx_webrtc_put_str(ngx_webrtc_sdp_out_t *o, ngx_webrtc_sdp_str_t *s);
void ngx_webrtc_put_uint(ngx_webrtc_sdp_out_t *o, uint64_t n);


extern const char  *ngx_webrtc_ext_uris[NGX_WEBRTC_EXT_N];


#endif /* _NGX_WEBRTC_SDP_PRIVATE_H_INCLUDED_ */
