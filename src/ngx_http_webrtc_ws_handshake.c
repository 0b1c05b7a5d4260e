
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/sha.h>

#include "ngx_http_webrtc.h"


/*
 * The WebSocket opening handshake (RFC 6455, 4.2) and the check of its
 * Origin against "webrtc_websocket_origins" (RFC 6454).
 */


#define NGX_HTTP_WEBRTC_WS_GUID       "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


static ngx_table_elt_t *ngx_http_webrtc_ws_header(ngx_http_request_t *r,
    const char *name);
static ngx_int_t ngx_http_webrtc_ws_origin_allowed(ngx_http_request_t *r,
    ngx_http_webrtc_loc_conf_t *wlcf);
static ngx_int_t ngx_http_webrtc_ws_self(ngx_http_request_t *r,
    ngx_http_webrtc_origin_t *out, u_char *buf);
static ngx_int_t ngx_http_webrtc_origin_eq(ngx_http_webrtc_origin_t *a,
    ngx_http_webrtc_origin_t *b);
static ngx_uint_t ngx_http_webrtc_default_port(ngx_str_t *scheme);


/*
 * RFC 6455, 4.2.1 and 4.2.2; NGX_DECLINED lets the upgrade go on,
 * anything else is the result of the error response sent
 */

ngx_int_t
ngx_http_webrtc_ws_handshake(ngx_http_request_t *r,
    ngx_http_webrtc_loc_conf_t *wlcf)
{
    u_char           *p;
    ngx_str_t         key, src, dst;
    ngx_table_elt_t  *h, *conn;
    u_char            sha[SHA_DIGEST_LENGTH];
    u_char            decoded[24];

    if (r->method != NGX_HTTP_GET) {
        ngx_http_discard_request_body(r);

        if (ngx_http_webrtc_header(r, "Allow", (u_char *) "GET", 3)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_ALLOWED,
                                     "method not allowed, open a WebSocket");
    }

    /*
     * RFC 9113, 8.2.2: HTTP/2 has no Upgrade (a 426 would have to carry
     * one, which clients reject as a protocol error); browsers open a
     * WebSocket on an HTTP/1.1 connection of their own
     */

    if (r->http_version > NGX_HTTP_VERSION_11) {
        return ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST,
                                     "a WebSocket needs an HTTP/1.1 "
                                     "connection");
    }

    /* nginx 1.22 does not keep the Connection header in headers_in */

    h = ngx_http_webrtc_ws_header(r, "Upgrade");
    conn = ngx_http_webrtc_ws_header(r, "Connection");

    if (r->http_version != NGX_HTTP_VERSION_11
        || h == NULL
        || ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                            (u_char *) "websocket", 9 - 1)
           == NULL
        || conn == NULL
        || ngx_strlcasestrn(conn->value.data,
                            conn->value.data + conn->value.len,
                            (u_char *) "upgrade", 7 - 1)
           == NULL)
    {
        if (ngx_http_webrtc_header(r, "Upgrade", (u_char *) "websocket", 9)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webrtc_error(r, NGX_HTTP_WEBRTC_UPGRADE_REQUIRED,
                                     "WebSocket upgrade required");
    }

    h = ngx_http_webrtc_ws_header(r, "Sec-WebSocket-Version");

    if (h == NULL || h->value.len != 2
        || ngx_strncmp(h->value.data, "13", 2) != 0)
    {
        if (ngx_http_webrtc_header(r, "Sec-WebSocket-Version",
                                   (u_char *) "13", 2)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webrtc_error(r, NGX_HTTP_WEBRTC_UPGRADE_REQUIRED,
                                     "Sec-WebSocket-Version 13 required");
    }

    h = ngx_http_webrtc_ws_header(r, "Sec-WebSocket-Key");

    if (h == NULL || h->value.len != 24) {
        return ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST,
                                     "bad Sec-WebSocket-Key");
    }

    src = h->value;
    dst.data = decoded;

    if (ngx_decode_base64(&dst, &src) != NGX_OK || dst.len != 16) {
        return ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST,
                                     "bad Sec-WebSocket-Key");
    }

    /* cross-site WebSocket hijacking: the page's origin must be allowed */

    if (ngx_http_webrtc_ws_origin_allowed(r, wlcf) != NGX_OK) {
        return ngx_http_webrtc_error(r, NGX_HTTP_FORBIDDEN,
                                     "WebSocket origin not allowed");
    }

    /* Sec-WebSocket-Accept: base64(SHA-1(key GUID)) */

    p = ngx_pnalloc(r->pool, 24 + sizeof(NGX_HTTP_WEBRTC_WS_GUID) - 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, h->value.data, 24);
    ngx_memcpy(p + 24, NGX_HTTP_WEBRTC_WS_GUID,
               sizeof(NGX_HTTP_WEBRTC_WS_GUID) - 1);

    SHA1(p, 24 + sizeof(NGX_HTTP_WEBRTC_WS_GUID) - 1, sha);

    key.data = ngx_pnalloc(r->pool,
                           ngx_base64_encoded_length(SHA_DIGEST_LENGTH));
    if (key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    src.data = sha;
    src.len = SHA_DIGEST_LENGTH;
    ngx_encode_base64(&key, &src);

    ngx_http_discard_request_body(r);

    if (ngx_http_webrtc_header(r, "Upgrade", (u_char *) "websocket", 9)
        != NGX_OK
        || ngx_http_webrtc_header(r, "Sec-WebSocket-Accept", key.data,
                                  key.len)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


static ngx_table_elt_t *
ngx_http_webrtc_ws_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * RFC 6454, 4 and 5: an origin is a scheme, a host and a port, the
 * scheme's default port when none is written; two are the same if all
 * three are.  NGX_ERROR if o is not "scheme://host[:port]".
 */

ngx_int_t
ngx_http_webrtc_origin_parse(ngx_str_t *o, ngx_http_webrtc_origin_t *out)
{
    u_char     *p, *end, *colon;
    ngx_int_t   port;

    p = o->data;
    end = o->data + o->len;

    colon = ngx_strlchr(p, end, ':');

    if (colon == NULL || colon == p || end - colon < 4
        || colon[1] != '/' || colon[2] != '/')
    {
        return NGX_ERROR;
    }

    out->scheme.data = p;
    out->scheme.len = colon - p;

    p = colon + 3;

    if (*p == '[') {
        colon = ngx_strlchr(p, end, ']');
        if (colon == NULL) {
            return NGX_ERROR;
        }

        colon++;

    } else {
        colon = ngx_strlchr(p, end, ':');
        if (colon == NULL) {
            colon = end;
        }
    }

    out->host.data = p;
    out->host.len = colon - p;

    if (out->host.len == 0 || ngx_strlchr(p, end, '/') != NULL) {
        return NGX_ERROR;
    }

    if (colon == end) {
        out->port = ngx_http_webrtc_default_port(&out->scheme);
        return NGX_OK;
    }

    if (*colon != ':' || end - colon < 2) {
        return NGX_ERROR;
    }

    port = ngx_atoi(colon + 1, end - colon - 1);

    if (port < 1 || port > 65535) {
        return NGX_ERROR;
    }

    out->port = port;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_webrtc_default_port(ngx_str_t *scheme)
{
    if (scheme->len == 5
        && ngx_strncasecmp(scheme->data, (u_char *) "https", 5) == 0)
    {
        return 443;
    }

    if (scheme->len == 4
        && ngx_strncasecmp(scheme->data, (u_char *) "http", 4) == 0)
    {
        return 80;
    }

    return 0;
}


/*
 * The request's own origin: the scheme of the connection, or the one a
 * proxy in front says (X-Forwarded-Proto: a browser's WebSocket cannot set
 * it, so a page cannot pretend), the host and port of Host; written in
 * buf (NGX_HTTP_WEBRTC_ORIGIN_LEN), which out points into
 */

static ngx_int_t
ngx_http_webrtc_ws_self(ngx_http_request_t *r, ngx_http_webrtc_origin_t *out,
    u_char *buf)
{
    u_char           *p, *end;
    ngx_str_t         origin;
    ngx_table_elt_t  *h;

    if (r->headers_in.host == NULL
        || r->headers_in.host->value.len
           > NGX_HTTP_WEBRTC_ORIGIN_LEN - sizeof("https://"))
    {
        return NGX_ERROR;
    }

    h = ngx_http_webrtc_ws_header(r, "X-Forwarded-Proto");

    if (h && h->value.len) {
        p = h->value.data;
        end = ngx_strlchr(p, p + h->value.len, ',');

        if (end == NULL) {
            end = p + h->value.len;
        }

        if (end - p == 5 && ngx_strncasecmp(p, (u_char *) "https", 5) == 0) {
            ngx_str_set(&origin, "https://");

        } else {
            ngx_str_set(&origin, "http://");
        }

    } else {
#if (NGX_HTTP_SSL)
        if (r->connection->ssl) {
            ngx_str_set(&origin, "https://");

        } else
#endif
        {
            ngx_str_set(&origin, "http://");
        }
    }

    p = ngx_cpymem(buf, origin.data, origin.len);
    p = ngx_cpymem(p, r->headers_in.host->value.data,
                   r->headers_in.host->value.len);

    origin.data = buf;
    origin.len = p - buf;

    return ngx_http_webrtc_origin_parse(&origin, out);
}


static ngx_int_t
ngx_http_webrtc_origin_eq(ngx_http_webrtc_origin_t *a,
    ngx_http_webrtc_origin_t *b)
{
    return a->port == b->port
           && a->scheme.len == b->scheme.len
           && ngx_strncasecmp(a->scheme.data, b->scheme.data, a->scheme.len)
              == 0
           && a->host.len == b->host.len
           && ngx_strncasecmp(a->host.data, b->host.data, a->host.len) == 0;
}


/*
 * Cross-site WebSocket hijacking: a browser's Origin must be one of
 * "webrtc_websocket_origins" ("self" is the request's own origin, "*"
 * any), or without the directive the request's own, scheme, host and
 * port alike.  Clients that send no Origin are not browsers and are not
 * subject to the check.
 */

static ngx_int_t
ngx_http_webrtc_ws_origin_allowed(ngx_http_request_t *r,
    ngx_http_webrtc_loc_conf_t *wlcf)
{
    ngx_str_t                 *o, self;
    ngx_uint_t                 i, n;
    ngx_table_elt_t           *h;
    ngx_http_webrtc_origin_t   origin, allowed;
    u_char                     buf[NGX_HTTP_WEBRTC_ORIGIN_LEN];

    h = ngx_http_webrtc_ws_header(r, "Origin");

    if (h == NULL) {
        return NGX_OK;
    }

    if (ngx_http_webrtc_origin_parse(&h->value, &origin) != NGX_OK) {
        goto denied;
    }

    ngx_str_set(&self, "self");

    o = wlcf->origins ? wlcf->origins->elts : &self;
    n = wlcf->origins ? wlcf->origins->nelts : 1;

    for (i = 0; i < n; i++) {

        if (o[i].len == 1 && o[i].data[0] == '*') {
            return NGX_OK;
        }

        if (o[i].len == 4 && ngx_strncmp(o[i].data, "self", 4) == 0) {

            if (ngx_http_webrtc_ws_self(r, &allowed, buf) != NGX_OK) {
                continue;
            }

        } else if (ngx_http_webrtc_origin_parse(&o[i], &allowed) != NGX_OK) {
            continue;
        }

        if (ngx_http_webrtc_origin_eq(&origin, &allowed)) {
            return NGX_OK;
        }
    }

denied:

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "webrtc: WebSocket from origin \"%V\" not allowed",
                  &h->value);

    return NGX_DECLINED;
}
