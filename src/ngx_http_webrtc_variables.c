
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webrtc.h"


/*
 * $webrtc_stream, $webrtc_session and $webrtc_role: what a signaling
 * request is about, for access_log, map, limit_req keys and the headers
 * of an auth_request subrequest.  They are of the main request, so a
 * subrequest sees its parent's.  Before the location's handler runs (the
 * access phase: auth_request, limit_req) they come from the URL; after
 * it, from what the handler made: the session a POST created.  On a
 * WebSocket connection, from its publish or play message.
 */


#define NGX_HTTP_WEBRTC_VAR_STREAM   0
#define NGX_HTTP_WEBRTC_VAR_SESSION  1
#define NGX_HTTP_WEBRTC_VAR_ROLE     2


static ngx_int_t ngx_http_webrtc_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_webrtc_variable_url(ngx_http_request_t *r,
    ngx_str_t *stream, ngx_str_t *id);


static ngx_http_variable_t  ngx_http_webrtc_vars[] = {

    { ngx_string("webrtc_stream"), NULL, ngx_http_webrtc_variable,
      NGX_HTTP_WEBRTC_VAR_STREAM, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webrtc_session"), NULL, ngx_http_webrtc_variable,
      NGX_HTTP_WEBRTC_VAR_SESSION, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webrtc_role"), NULL, ngx_http_webrtc_variable,
      NGX_HTTP_WEBRTC_VAR_ROLE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_webrtc_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_webrtc_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webrtc_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t                    stream, id, role;
    ngx_uint_t                   n;
    ngx_http_request_t          *m;
    ngx_http_webrtc_ctx_t       *ctx;
    ngx_http_webrtc_ws_ctx_t    *wctx;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    m = r->main;

    wlcf = ngx_http_get_module_loc_conf(m, ngx_http_webrtc_module);

    ngx_str_null(&stream);
    ngx_str_null(&id);
    n = wlcf->role;

    if (wlcf->websocket) {
        wctx = ngx_http_get_module_ctx(m, ngx_http_webrtc_module);

        /* the last session of the connection, also once it ended */

        if (wctx && wctx->stream.len) {
            stream = wctx->stream;
            id.data = wctx->id;
            id.len = NGX_WEBRTC_ID_LEN;
            n = wctx->role;
        }

    } else if (n) {
        ctx = ngx_http_get_module_ctx(m, ngx_http_webrtc_module);

        if (ctx) {
            stream = ctx->stream;
            id = ctx->id;

        } else {
            ngx_http_webrtc_variable_url(m, &stream, &id);
        }
    }

    switch (data) {

    case NGX_HTTP_WEBRTC_VAR_STREAM:
        break;

    case NGX_HTTP_WEBRTC_VAR_SESSION:
        stream = id;
        break;

    default: /* NGX_HTTP_WEBRTC_VAR_ROLE */

        if (n == NGX_WEBRTC_ROLE_PUBLISHER) {
            ngx_str_set(&role, "publisher");

        } else if (n == NGX_WEBRTC_ROLE_VIEWER) {
            ngx_str_set(&role, "viewer");

        } else {
            ngx_str_null(&role);
        }

        stream = role;
        break;
    }

    if (stream.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = stream.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = stream.data;

    return NGX_OK;
}


/* <location prefix><stream>[/<session id>], as the handler reads it */

static void
ngx_http_webrtc_variable_url(ngx_http_request_t *r, ngx_str_t *stream,
    ngx_str_t *id)
{
    u_char                    *p, *end, *slash;
    ngx_str_t                  name, tail;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->uri.len <= clcf->name.len) {
        return;
    }

    p = r->uri.data + clcf->name.len;
    end = r->uri.data + r->uri.len;

    slash = ngx_strlchr(p, end, '/');

    name.data = p;
    name.len = (slash ? slash : end) - p;

    if (ngx_http_webrtc_stream_name_valid(&name) != NGX_OK) {
        return;
    }

    *stream = name;

    if (slash) {
        tail.data = slash + 1;
        tail.len = end - tail.data;

        if (tail.len == NGX_WEBRTC_ID_LEN) {
            *id = tail;
        }
    }
}
