
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_WEBRTC_SRTP_H_INCLUDED_
#define _NGX_WEBRTC_SRTP_H_INCLUDED_


/*
 * The two libsrtp2 sessions of a DTLS-SRTP peer from the keying material
 * of the handshake (RFC 5764, 4.2), and libsrtp2's ciphers from OpenSSL.
 * libc, libsrtp2 and OpenSSL only: the module and the load generator
 * share it.
 */


#include <stddef.h>
#include <sys/types.h>

#include <srtp2/srtp.h>


/* the exporter's bytes a profile needs: two keys and two salts */
#define ngx_webrtc_srtp_material_len(gcm)  (2 * (16 + ((gcm) ? 12 : 14)))

/* the master key and salt of one direction, the longer (AES-CM) one */
#define NGX_WEBRTC_SRTP_KEY_LEN            (16 + 14)


void ngx_webrtc_srtp_keys(const u_char *material, int gcm, int client,
    u_char *in_key, u_char *out_key);
void ngx_webrtc_srtp_policy(srtp_policy_t *policy, int gcm, int inbound,
    const u_char *key);
srtp_err_status_t ngx_webrtc_srtp_sessions(srtp_t *in, srtp_t *out, int gcm,
    const u_char *material, int client);
srtp_err_status_t ngx_webrtc_srtp_use_openssl(void);


#endif /* _NGX_WEBRTC_SRTP_H_INCLUDED_ */
