
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>
#include <arpa/inet.h>

#include "ngx_webrtc_srtp.h"
#include "ngx_webrtc_resume.h"


/*
 * A full barrier: what nginx's ngx_memory_barrier() is with the GCC
 * atomics (__sync_synchronize()).  The double buffer needs the stores
 * of a record ordered between the two stores of its seq, for a reader
 * in another process, and for one that reads after the writer died.
 */
#define ngx_webrtc_resume_barrier()  __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* the last SRTCP index libsrtp2 gives (srtp_rdb_increment()) */
#define NGX_WEBRTC_RESUME_RTCP_MAX   0x7fffffff

#define NGX_WEBRTC_RESUME_GET_TRIES  4

/* a record's seq: 0 never written, odd being written or torn */
#define ngx_webrtc_resume_complete(s)  ((s) != 0 && ((s) & 1) == 0)


static uint32_t ngx_webrtc_resume_seq(const void *var);


/*
 * RFC 3711, Appendix A: s_l is the highest sequence number received,
 * SEQ the packet's.
 *
 *     if (s_l < 2^15)
 *         if (SEQ - s_l > 2^15)  v = ROC - 1  else  v = ROC
 *     else
 *         if (s_l - 2^15 > SEQ)  v = ROC + 1  else  v = ROC
 */

uint32_t
ngx_webrtc_resume_roc(uint32_t roc, uint16_t high, uint16_t seq)
{
    if (high < 0x8000) {

        if ((uint32_t) seq > (uint32_t) high + 0x8000 && roc > 0) {
            return roc - 1;
        }

        return roc;
    }

    if ((uint32_t) high - 0x8000 > (uint32_t) seq && roc < 0xffffffff) {
        return roc + 1;
    }

    return roc;
}


/*
 * RFC 3711, 3.3.1 and 9.1; RFC 7714, 8.3: an index must never protect
 * two packets.  What the old owner sent past its snapshot is unknown, at
 * most margin - 1 packets: the stream goes on past it.
 */

int
ngx_webrtc_resume_sender(srtp_t *out, int gcm, const u_char *key,
    const ngx_webrtc_resume_track_t *tracks, size_t n, uint32_t margin,
    ngx_webrtc_resume_next_t *next)
{
    size_t         i, k;
    uint64_t       index;
    srtp_policy_t  policy;

    *out = NULL;

    for (i = 0; i < n; i++) {

        for (k = 0; k < i; k++) {
            if (tracks[k].ssrc == tracks[i].ssrc) {
                return NGX_WEBRTC_RESUME_ERROR;
            }
        }

        index = ngx_webrtc_resume_index(tracks[i].roc, tracks[i].high)
                + margin;

        if ((index >> 48) != 0
            || tracks[i].rtcp_index > NGX_WEBRTC_RESUME_RTCP_MAX
                                      - NGX_WEBRTC_RESUME_RTCP_MARGIN - 1)
        {
            /* the key is used up */
            return NGX_WEBRTC_RESUME_ERROR;
        }

        next[i].index = index;
        next[i].burn = tracks[i].rtcp_index + NGX_WEBRTC_RESUME_RTCP_MARGIN;
    }

    ngx_webrtc_srtp_policy(&policy, gcm, 0, key);

    if (srtp_create(out, &policy) != srtp_err_status_ok) {
        *out = NULL;
        return NGX_WEBRTC_RESUME_ERROR;
    }

    policy.ssrc.type = ssrc_specific;

    for (i = 0; i < n; i++) {
        policy.ssrc.value = tracks[i].ssrc;

        /*
         * libsrtp2 takes a pending roc as given on the stream's first
         * packet (srtp_estimate_index()); 0 means none, and the usual
         * estimate from index 0 gives 0
         */

        if (srtp_add_stream(*out, &policy) != srtp_err_status_ok
            || srtp_set_stream_roc(*out, tracks[i].ssrc,
                                   (uint32_t) (next[i].index >> 16))
               != srtp_err_status_ok)
        {
            srtp_dealloc(*out);
            *out = NULL;
            return NGX_WEBRTC_RESUME_ERROR;
        }
    }

    return NGX_WEBRTC_RESUME_OK;
}


int
ngx_webrtc_resume_burn(srtp_t out, uint32_t ssrc, uint32_t *left,
    uint32_t max)
{
    int       len;
    uint32_t  n;
    u_char    rr[8 + SRTP_MAX_TRAILER_LEN];

    for (n = 0; *left > 0 && n < max; n++) {

        /* RFC 3550, 6.4.2: a receiver report with no report blocks */

        rr[0] = 0x80;
        rr[1] = 201;
        rr[2] = 0;
        rr[3] = 1;
        rr[4] = (u_char) (ssrc >> 24);
        rr[5] = (u_char) (ssrc >> 16);
        rr[6] = (u_char) (ssrc >> 8);
        rr[7] = (u_char) ssrc;

        len = 8;

        if (srtp_protect_rtcp(out, rr, &len) != srtp_err_status_ok) {
            return NGX_WEBRTC_RESUME_ERROR;
        }

        (*left)--;
    }

    return (*left > 0) ? NGX_WEBRTC_RESUME_AGAIN : NGX_WEBRTC_RESUME_OK;
}


int
ngx_webrtc_resume_receiver(srtp_t *in, int gcm, const u_char *key)
{
    srtp_policy_t  policy;

    ngx_webrtc_srtp_policy(&policy, gcm, 1, key);

    if (srtp_create(in, &policy) != srtp_err_status_ok) {
        *in = NULL;
        return NGX_WEBRTC_RESUME_ERROR;
    }

    return NGX_WEBRTC_RESUME_OK;
}


int
ngx_webrtc_resume_in_stream(srtp_t in, int gcm, const u_char *key,
    const ngx_webrtc_resume_track_t *track, uint16_t seq, uint32_t *roc)
{
    uint32_t       old;
    srtp_policy_t  policy;

    *roc = ngx_webrtc_resume_roc(track->roc, track->high, seq);

    /*
     * the template made a stream of this SSRC from its SRTCP: its RTP
     * index started at 0, and libsrtp2 would find it before ours
     * (srtp_stream_list_insert() adds at the head, unchecked);
     * srtp_remove_stream() takes the SSRC in network order
     */

    if (srtp_get_stream_roc(in, track->ssrc, &old) == srtp_err_status_ok
        && srtp_remove_stream(in, htonl(track->ssrc)) != srtp_err_status_ok)
    {
        return NGX_WEBRTC_RESUME_ERROR;
    }

    ngx_webrtc_srtp_policy(&policy, gcm, 1, key);

    policy.ssrc.type = ssrc_specific;
    policy.ssrc.value = track->ssrc;

    if (srtp_add_stream(in, &policy) != srtp_err_status_ok
        || srtp_set_stream_roc(in, track->ssrc, *roc) != srtp_err_status_ok)
    {
        return NGX_WEBRTC_RESUME_ERROR;
    }

    return NGX_WEBRTC_RESUME_OK;
}


/*
 * A failed srtp_unprotect() leaves the stream as it was (the pending
 * roc, index 0), but not the packet: AES-GCM decrypts in place before
 * the tag is checked.  Each try starts from the copy.
 */

srtp_err_status_t
ngx_webrtc_resume_unprotect(srtp_t in, u_char *p, int *len, uint32_t *roc)
{
    int                n, i;
    uint32_t           ssrc, v[2];
    srtp_err_status_t  err;
    u_char             copy[NGX_WEBRTC_RESUME_MAX_PACKET];

    n = *len;

    if (n < 12 || n > (int) sizeof(copy)) {
        return srtp_err_status_bad_param;
    }

    ssrc = ((uint32_t) p[8] << 24) | ((uint32_t) p[9] << 16)
           | ((uint32_t) p[10] << 8) | p[11];

    memcpy(copy, p, n);

    err = srtp_set_stream_roc(in, ssrc, *roc);
    if (err != srtp_err_status_ok) {
        return err;
    }

    err = srtp_unprotect(in, p, len);
    if (err != srtp_err_status_auth_fail) {
        return err;
    }

    v[0] = *roc + 1;
    v[1] = *roc - 1;

    for (i = 0; i < 2; i++) {

        if ((i == 0 && *roc == 0xffffffff) || (i == 1 && *roc == 0)) {
            continue;
        }

        memcpy(p, copy, n);
        *len = n;

        if (srtp_set_stream_roc(in, ssrc, v[i]) == srtp_err_status_ok
            && srtp_unprotect(in, p, len) == srtp_err_status_ok)
        {
            *roc = v[i];
            return srtp_err_status_ok;
        }
    }

    memcpy(p, copy, n);
    *len = n;

    (void) srtp_set_stream_roc(in, ssrc, *roc);

    return srtp_err_status_auth_fail;
}


static uint32_t
ngx_webrtc_resume_seq(const void *var)
{
    return __atomic_load_n((const uint32_t *) var, __ATOMIC_RELAXED);
}


void
ngx_webrtc_resume_put(void *vars, size_t size, const void *rec)
{
    u_char    *var;
    uint32_t   s0, s1, top;

    s0 = ngx_webrtc_resume_seq(vars);
    s1 = ngx_webrtc_resume_seq((u_char *) vars + size);

    /* the record that does not hold the newest complete one */

    if (ngx_webrtc_resume_complete(s1)
        && (!ngx_webrtc_resume_complete(s0) || s1 > s0))
    {
        var = vars;

    } else {
        var = (u_char *) vars + size;
    }

    /* above both, even; 2^31 writes do not happen */

    top = ((s0 > s1 ? s0 : s1) + 1) & ~1u;

    __atomic_store_n((uint32_t *) var, top + 1, __ATOMIC_RELAXED);
    ngx_webrtc_resume_barrier();

    memcpy(var + sizeof(uint32_t), (const u_char *) rec + sizeof(uint32_t),
           size - sizeof(uint32_t));

    ngx_webrtc_resume_barrier();
    __atomic_store_n((uint32_t *) var, top + 2, __ATOMIC_RELAXED);
}


int
ngx_webrtc_resume_get(const void *vars, size_t size, void *rec)
{
    int            n;
    uint32_t       s0, s1, s;
    const u_char  *var;

    for (n = 0; n < NGX_WEBRTC_RESUME_GET_TRIES; n++) {

        s0 = ngx_webrtc_resume_seq(vars);
        s1 = ngx_webrtc_resume_seq((const u_char *) vars + size);

        if (ngx_webrtc_resume_complete(s1)
            && (!ngx_webrtc_resume_complete(s0) || s1 > s0))
        {
            var = (const u_char *) vars + size;
            s = s1;

        } else if (ngx_webrtc_resume_complete(s0)) {
            var = vars;
            s = s0;

        } else {
            return NGX_WEBRTC_RESUME_DECLINED;
        }

        ngx_webrtc_resume_barrier();

        memcpy(rec, var, size);

        ngx_webrtc_resume_barrier();

        if (ngx_webrtc_resume_seq(var) == s) {
            *(uint32_t *) rec = s;
            return NGX_WEBRTC_RESUME_OK;
        }
    }

    return NGX_WEBRTC_RESUME_AGAIN;
}
