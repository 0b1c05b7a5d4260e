
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _SDP_ANSWER_H_INCLUDED_
#define _SDP_ANSWER_H_INCLUDED_


/*
 * The server's side of an answer as the handlers fill it, with fixed
 * values: for the SDP unit test and the SDP fuzz target.
 */


#include <string.h>
#include "ngx_webrtc_sdp.h"


#define S(lit)  { sizeof(lit) - 1, (const u_char *) lit }

#define FP32                                                                 \
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"                       \
    "01:23:45:67:89:ab:cd:ef:FE:DC:BA:98:76:54:32:10"


static void
answer_init(ngx_webrtc_answer_t *a)
{
    static ngx_webrtc_sdp_str_t  candidates[2] = {
        S("127.0.0.1 10000"), S("::1 10000")
    };
    static ngx_webrtc_sdp_str_t  ufrag = S("Srv1");
    static ngx_webrtc_sdp_str_t  pwd = S("abcdefghijklmnopqrstuv+/");
    static ngx_webrtc_sdp_str_t  fp = S("sha-256 " FP32);
    static ngx_webrtc_sdp_str_t  cname = S("nginx-cname");
    static ngx_webrtc_sdp_str_t  msid = S("stream-1");

    memset(a, 0, sizeof(ngx_webrtc_answer_t));

    a->ufrag = ufrag;
    a->pwd = pwd;
    a->fingerprint = fp;
    a->cname = cname;
    a->msid = msid;
    a->candidates = candidates;
    a->ncandidates = 2;
    a->session_id = 1234567890123ULL;
}


#endif /* _SDP_ANSWER_H_INCLUDED_ */
