
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_webrtc.h"


/*
 * The media plane: every datagram of every session arrives at one UDP
 * port and is demultiplexed by its first byte (RFC 7983, 7).
 */


typedef struct {
    ngx_flag_t                  enable;
} ngx_stream_webrtc_srv_conf_t;


static void ngx_stream_webrtc_handler(ngx_stream_session_t *s);
static void *ngx_stream_webrtc_create_srv_conf(ngx_conf_t *cf);
static char *ngx_stream_webrtc(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_stream_webrtc_commands[] = {

    { ngx_string("webrtc"),
      NGX_STREAM_SRV_CONF|NGX_CONF_NOARGS,
      ngx_stream_webrtc,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_stream_module_t  ngx_stream_webrtc_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_stream_webrtc_create_srv_conf,     /* create server configuration */
    NULL                                   /* merge server configuration */
};


ngx_module_t  ngx_stream_webrtc_module = {
    NGX_MODULE_V1,
    &ngx_stream_webrtc_module_ctx,         /* module context */
    ngx_stream_webrtc_commands,            /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void
ngx_stream_webrtc_handler(ngx_stream_session_t *s)
{
    u_char            *p;
    ngx_connection_t  *c;

    c = s->connection;

    if (c->type != SOCK_DGRAM || c->buffer == NULL
        || c->buffer->last == c->buffer->pos)
    {
        ngx_stream_finalize_session(s, NGX_STREAM_BAD_REQUEST);
        return;
    }

    p = c->buffer->pos;

    ngx_log_debug2(NGX_LOG_DEBUG_STREAM, c->log, 0,
                   "webrtc datagram first byte %ui, %uz bytes",
                   (ngx_uint_t) p[0], (size_t) (c->buffer->last - p));

    /* RFC 7983: 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP: not served yet */

    ngx_stream_finalize_session(s, NGX_STREAM_OK);
}


static void *
ngx_stream_webrtc_create_srv_conf(ngx_conf_t *cf)
{
    ngx_stream_webrtc_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_webrtc_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_stream_webrtc(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_webrtc_srv_conf_t *wscf = conf;

    ngx_stream_core_srv_conf_t  *cscf;

    if (wscf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    wscf->enable = 1;

    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);
    cscf->handler = ngx_stream_webrtc_handler;

    if (ngx_webrtc_core_use(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
