
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_RESUME_H_INCLUDED_
#define _NGX_WEBRTC_RESUME_H_INCLUDED_


/*
 * The pure rules by which a worker continues the SRTP of a session that
 * another worker served (doc/registry-design.md, 5.3 and 5.4): libsrtp2
 * sessions rebuilt from the master keys and the state of each SSRC that
 * the owner wrote lazily, so that no index ever protects two different
 * packets and the peer's packets authenticate under the right rollover
 * counter; and the double buffer that state is written to.  libc,
 * libsrtp2 and ngx_webrtc_srtp.c only: no nginx event code, so the unit
 * test calls it directly.
 *
 * A key is the master key and then the master salt of one direction, as
 * ngx_webrtc_srtp_keys() gives it; gcm selects SRTP_AEAD_AES_128_GCM
 * (RFC 7714), otherwise SRTP_AES128_CM_SHA1_80 (RFC 3711).  SSRCs are in
 * host order.  An index is the 48-bit roc << 16 | seq of RFC 3711, 3.3.1.
 */


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <srtp2/srtp.h>


/* the values of nginx's NGX_OK, NGX_ERROR, NGX_AGAIN, NGX_DECLINED */
#define NGX_WEBRTC_RESUME_OK          0
#define NGX_WEBRTC_RESUME_ERROR      -1
#define NGX_WEBRTC_RESUME_AGAIN      -2
#define NGX_WEBRTC_RESUME_DECLINED   -5

/* the owner writes a track's state after this many packets of it */
#define NGX_WEBRTC_RESUME_WINDOW      256

/*
 * The newest complete snapshot is at most WINDOW - 1 packets of a track
 * behind what was sent, the older one (the newest torn by a crash) at
 * most 2 * WINDOW - 1: the margin is twice that.  A final snapshot,
 * written at hand-over after the last protect, is exact.
 */
#define NGX_WEBRTC_RESUME_MARGIN      (4 * NGX_WEBRTC_RESUME_WINDOW)
#define ngx_webrtc_resume_margin(final)                                       \
    ((final) ? 1 : NGX_WEBRTC_RESUME_MARGIN)

/* SRTCP indices burnt past the stored one */
#define NGX_WEBRTC_RESUME_RTCP_MARGIN 16

/* the first packets of a stored SSRC retried at roc + 1 and roc - 1 */
#define NGX_WEBRTC_RESUME_RETRIES     8

/* the longest packet ngx_webrtc_resume_unprotect() keeps a copy of */
#define NGX_WEBRTC_RESUME_MAX_PACKET  (1500 + SRTP_MAX_TRAILER_LEN)

#define ngx_webrtc_resume_index(roc, seq)                                     \
    (((uint64_t) (roc) << 16) | (uint16_t) (seq))


/* what is stored of one SSRC, 16 bytes */

typedef struct {
    uint32_t                    ssrc;
    uint32_t                    roc;            /* of high */
    uint16_t                    high;           /* highest seq protected
                                                   (we send) or
                                                   authenticated (we
                                                   receive) */
    uint16_t                    flags;          /* the caller's */
    uint32_t                    rtcp_index;     /* last SRTCP index used
                                                   (we send) */
} ngx_webrtc_resume_track_t;


/* how a rebuilt sender goes on with one SSRC */

typedef struct {
    uint64_t                    index;          /* I': the index of the
                                                   first packet to send */
    uint32_t                    burn;           /* SRTCP indices still to
                                                   burn before an SR */
} ngx_webrtc_resume_next_t;


/*
 * RFC 3711, 3.3.1 and Appendix A: the rollover counter of a packet with
 * sequence number seq, given the stored roc and high: of roc - 1, roc
 * and roc + 1 the one whose index v << 16 | seq is nearest to
 * roc << 16 | high (a distance of exactly 2^15 keeps roc); roc 0 has no
 * roc - 1.  Right while the packet is less than 2^15 packets from high.
 */
uint32_t ngx_webrtc_resume_roc(uint32_t roc, uint16_t high, uint16_t seq);

/*
 * A sender (outbound session) rebuilt from its key: the ssrc_any_outbound
 * template as ngx_webrtc_srtp_sessions() makes it (an SSRC never used
 * with this key starts at index 0 and SRTCP index 1, which is right for
 * it), and for each of the n stored tracks an ssrc_specific stream whose
 * rollover counter is that of I' = (roc << 16 | high) + margin, which
 * next[i].index returns: the caller's first packet of that SSRC must
 * carry sequence number I' & 0xffff, and later ones follow it in order
 * (RFC 3711, 3.3.1: the jump, below 2^15, is a loss to the receiver).
 * next[i].burn is rtcp_index + NGX_WEBRTC_RESUME_RTCP_MARGIN: the SRTCP
 * indices to burn with ngx_webrtc_resume_burn() before the first SRTCP
 * packet of that SSRC.  margin is ngx_webrtc_resume_margin(final).
 * Every SSRC ever sent with this key must be among the tracks, or the
 * template reuses its indices.
 *
 * Before its first packet the caller writes back, for every track, roc
 * and high of I' - 1 and rtcp_index + NGX_WEBRTC_RESUME_RTCP_MARGIN (the
 * burn's end): a crash before it would make the next adopter start at
 * the same I' again.  Take those from next[], not srtp_get_stream_roc():
 * that reads 0 until a stream's first packet.
 *
 * NGX_WEBRTC_RESUME_ERROR: a libsrtp2 failure, an SSRC twice or an index
 * past 2^48 (the key is used up); *out is NULL.
 */
int ngx_webrtc_resume_sender(srtp_t *out, int gcm, const u_char *key,
    const ngx_webrtc_resume_track_t *tracks, size_t n, uint32_t margin,
    ngx_webrtc_resume_next_t *next);

/*
 * SRTCP has no setter for its index (libsrtp2 2.5.0): protects a scratch
 * 8-byte receiver report of sender ssrc min(*left, max) times, each
 * taking the next index, and lowers *left by as many.  NGX_WEBRTC_RESUME_OK:
 * none left, the next SRTCP packet of ssrc gets a fresh index;
 * NGX_WEBRTC_RESUME_AGAIN: *left remain (call again later, and send no
 * SRTCP of ssrc meanwhile); NGX_WEBRTC_RESUME_ERROR: libsrtp2 refused
 * (no stream of ssrc, the index space used up).
 */
int ngx_webrtc_resume_burn(srtp_t out, uint32_t ssrc, uint32_t *left,
    uint32_t max);

/*
 * A receiver (inbound session) rebuilt from its key: the ssrc_any_inbound
 * template as ngx_webrtc_srtp_sessions() makes it, for SSRCs that were
 * not stored (a new SSRC starts at ROC 0).  NGX_WEBRTC_RESUME_ERROR: a
 * libsrtp2 failure, *in is NULL.
 */
int ngx_webrtc_resume_receiver(srtp_t *in, int gcm, const u_char *key);

/*
 * Called on the first packet of a stored SSRC, before it is unprotected:
 * adds an ssrc_specific stream for the track's ssrc whose rollover
 * counter is ngx_webrtc_resume_roc(roc, high, seq) of that packet,
 * returned in *roc; replaces a stream of that SSRC the template made
 * (its SRTCP came first).  NGX_WEBRTC_RESUME_ERROR: a libsrtp2 failure.
 */
int ngx_webrtc_resume_in_stream(srtp_t in, int gcm, const u_char *key,
    const ngx_webrtc_resume_track_t *track, uint16_t seq, uint32_t *roc);

/*
 * srtp_unprotect() of one of the first NGX_WEBRTC_RESUME_RETRIES packets
 * of a stream ngx_webrtc_resume_in_stream() added, until one
 * authenticates (then the stream goes on by itself: plain
 * srtp_unprotect()).  On srtp_err_status_auth_fail at *roc it tries
 * *roc + 1 and *roc - 1 (not below 0) once each on a copy of the packet
 * (the stored high lagged 2^15 packets or more, or the stored roc was
 * newer than its high) and sets *roc to the one that authenticated; if
 * none did, the packet is as it came, the stream is left at *roc, and
 * srtp_err_status_auth_fail is returned.  Other results are
 * srtp_unprotect()'s.
 */
srtp_err_status_t ngx_webrtc_resume_unprotect(srtp_t in, u_char *p, int *len,
    uint32_t *roc);

/*
 * The seqlock'd double buffer of doc/registry-design.md, 5.3: vars are
 * two records of size bytes each, in shared memory, written by one
 * process (the owner) and read by another (an adopter), which may find
 * the writer died in the middle of a write.  Each record begins with a
 * uint32_t seq: 0 never written, odd being written or torn, even
 * complete; the complete one with the larger seq is the newest.
 *
 * ngx_webrtc_resume_put() copies rec, but for its seq, into the record
 * that does not hold the newest complete one: seq made odd, barrier,
 * copy, barrier, seq = the newest seq + 2.
 *
 * ngx_webrtc_resume_get() copies the newest complete record into rec,
 * seq included.  NGX_WEBRTC_RESUME_DECLINED: none complete (never
 * written, or the only one torn); NGX_WEBRTC_RESUME_AGAIN: a live writer
 * changed it during every one of a few tries.
 */
void ngx_webrtc_resume_put(void *vars, size_t size, const void *rec);
int ngx_webrtc_resume_get(const void *vars, size_t size, void *rec);


#endif /* _NGX_WEBRTC_RESUME_H_INCLUDED_ */
