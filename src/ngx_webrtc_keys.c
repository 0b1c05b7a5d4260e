
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_webrtc_media.h"


/* a peer's SRTP sessions, from the keys its DTLS handshake exported */


ngx_int_t
ngx_webrtc_srtp_init(ngx_cycle_t *cycle)
{
    srtp_err_status_t  err;

    err = srtp_init();

    if (err != srtp_err_status_ok) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "srtp_init() failed: %d", (int) err);
        return NGX_ERROR;
    }

    /* a failed known answer test leaves libsrtp2's own implementation */

    err = ngx_webrtc_srtp_use_openssl();

    if (err != srtp_err_status_ok) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "webrtc OpenSSL ciphers for SRTP not all loaded: %d, "
                      "libsrtp2's own are used", (int) err);
    }

    return NGX_OK;
}


/* we are the DTLS server: the client's keys decrypt what arrives */

ngx_int_t
ngx_webrtc_srtp_create(ngx_webrtc_peer_t *peer, ngx_uint_t profile,
    u_char *material)
{
    srtp_err_status_t  err;

    err = ngx_webrtc_srtp_sessions(&peer->srtp_in, &peer->srtp_out,
                                   profile == SRTP_AEAD_AES_128_GCM,
                                   material, 0);

    if (err != srtp_err_status_ok) {
        ngx_log_error(NGX_LOG_ALERT, &peer->log, 0,
                      "srtp_create() failed: %d", (int) err);
        return NGX_ERROR;
    }

    peer->srtp_ready = 1;

    return NGX_OK;
}


void
ngx_webrtc_srtp_free(ngx_webrtc_peer_t *peer)
{
    if (peer->srtp_in) {
        srtp_dealloc(peer->srtp_in);
        peer->srtp_in = NULL;
    }

    if (peer->srtp_out) {
        srtp_dealloc(peer->srtp_out);
        peer->srtp_out = NULL;
    }

    peer->srtp_ready = 0;
}
