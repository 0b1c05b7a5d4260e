
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _NGX_STREAM_WEBRTC_H_INCLUDED_
#define _NGX_STREAM_WEBRTC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_webrtc_media.h"


/* how often a worker looks for sessions handed over to it, milliseconds */
#define NGX_STREAM_WEBRTC_ADOPT_INTERVAL  10

/* an address that is not a session's media path, without a check */
#define NGX_STREAM_WEBRTC_ADDRESS_TIMEOUT 5000


typedef struct ngx_stream_webrtc_tcp_s  ngx_stream_webrtc_tcp_t;


typedef struct {
    ngx_flag_t                  enable;
    ngx_uint_t                  max_addresses;
    size_t                      tcp_buffer;
} ngx_stream_webrtc_srv_conf_t;


/*
 * The stream module's private header: the state of a UDP "connection"
 * (an address of a session), shared with the peer and path code
 */

typedef struct {
    ngx_stream_session_t       *session;
    ngx_webrtc_peer_t          *peer;
    ngx_stream_webrtc_tcp_t    *tcp;            /* ICE-TCP, or NULL */
    u_char                      id[NGX_WEBRTC_ID_LEN];
    ngx_int_t                   forward;        /* worker slot, or -1 */
    unsigned                    valid:1;        /* a valid check came */
    unsigned                    candidate:1;    /* nominated, not moved */
    unsigned                    counted:1;      /* in its session's naddrs */
    unsigned                    cleanup:1;
    unsigned                    logged:1;       /* a bad datagram, once */
    unsigned                    unknown_logged:1;   /* no protocol */
    unsigned                    handling:1;
    unsigned                    close:1;
    unsigned                    resolved:1;     /* looked up its path */
    unsigned                    holding:1;      /* its worker hands over */
    ngx_msec_t                  resolve_time;
    ngx_msec_t                  resolve_wait;

    /*
     * datagrams of a session a worker of the configuration before a
     * reload still serves, held until this one has it
     */
    ngx_uint_t                  nheld;
    u_char                    **held;
    uint16_t                   *held_len;
} ngx_stream_webrtc_ctx_t;


/* ngx_stream_webrtc_module.c */
void ngx_stream_webrtc_close(ngx_stream_webrtc_ctx_t *ctx);
void ngx_stream_webrtc_dtls(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len);
void ngx_stream_webrtc_srtp_datagram(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len);
void ngx_stream_webrtc_datagram(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len);
ngx_int_t ngx_stream_webrtc_timeout(ngx_stream_webrtc_ctx_t *ctx);

/* ngx_stream_webrtc_tcp.c */
void ngx_stream_webrtc_tcp_init(ngx_stream_webrtc_ctx_t *ctx);

/* ngx_stream_webrtc_resolve.c */
ngx_int_t ngx_stream_webrtc_resolve(ngx_stream_webrtc_ctx_t *ctx);
void ngx_stream_webrtc_hold(ngx_stream_webrtc_ctx_t *ctx, u_char *p,
    size_t len);
void ngx_stream_webrtc_replay(ngx_stream_webrtc_ctx_t *ctx);

/* ngx_webrtc_peer.c */
ngx_int_t ngx_stream_webrtc_nominate(ngx_stream_webrtc_ctx_t *ctx,
    ngx_uint_t check);
void ngx_stream_webrtc_srtp(ngx_webrtc_peer_t *peer, u_char *p,
    size_t len, ngx_connection_t *move, ngx_webrtc_path_t *remote);

/* ngx_webrtc_path.c */
void ngx_stream_webrtc_move(ngx_webrtc_peer_t *peer,
    ngx_connection_t *c, ngx_webrtc_path_t *remote);
void ngx_stream_webrtc_path_from(ngx_webrtc_path_t *path,
    ngx_connection_t *c);
void ngx_stream_webrtc_send(ngx_connection_t *c, u_char *p,
    size_t len);


#endif /* _NGX_STREAM_WEBRTC_H_INCLUDED_ */
