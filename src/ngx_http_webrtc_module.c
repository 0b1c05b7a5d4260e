
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_http_webrtc.h"


/*
 * WHIP (RFC 9725) and WHEP (draft-ietf-wish-whep) in a prefix location:
 *
 *     POST    <location><stream>        offer -> 201, answer, Location
 *     PATCH   <location><stream>/<id>   trickle (204), ICE restart (200)
 *     DELETE  <location><stream>/<id>   200
 *     OPTIONS either                    204
 */


static ngx_int_t ngx_http_webrtc_handler(ngx_http_request_t *r);
static void ngx_http_webrtc_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_webrtc_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_webrtc_create(ngx_http_request_t *r,
    ngx_http_webrtc_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_webrtc_auth(ngx_http_request_t *r,
    ngx_http_webrtc_loc_conf_t *wlcf);
static ngx_int_t ngx_http_webrtc_content_type(ngx_http_request_t *r,
    const char *type);
static ngx_int_t ngx_http_webrtc_links(ngx_http_request_t *r,
    ngx_http_webrtc_loc_conf_t *wlcf, ngx_str_t *stream);

static char *ngx_http_webrtc_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_num_bounds_t  ngx_http_webrtc_max_message_bounds = {
    ngx_conf_check_num_bounds, 1024, 1024 * 1024
};


static ngx_command_t  ngx_http_webrtc_commands[] = {

    { ngx_string("webrtc_whip"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_webrtc_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_whep"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_webrtc_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_websocket"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_webrtc_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_webrtc_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_websocket_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webrtc_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_websocket_max_message"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webrtc_loc_conf_t, max_message),
      &ngx_http_webrtc_max_message_bounds },

    { ngx_string("webrtc_ws_resume_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webrtc_loc_conf_t, resume_timeout),
      NULL },

    { ngx_string("webrtc_max_viewers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webrtc_loc_conf_t, max_viewers),
      NULL },

    { ngx_string("webrtc_max_client_sessions"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webrtc_loc_conf_t, max_client_sessions),
      NULL },

    { ngx_string("webrtc_max_token_sessions"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webrtc_loc_conf_t, max_token_sessions),
      NULL },

    { ngx_string("webrtc_candidate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_webrtc_candidate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_ice_server"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webrtc_ice_server,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_bearer_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_webrtc_bearer_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_video_codecs"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webrtc_codecs,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webrtc_audio_codecs"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webrtc_codecs,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_webrtc_module_ctx = {
    ngx_http_webrtc_add_variables,         /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_webrtc_create_loc_conf,       /* create location configuration */
    ngx_http_webrtc_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_webrtc_module = {
    NGX_MODULE_V1,
    &ngx_http_webrtc_module_ctx,           /* module context */
    ngx_http_webrtc_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static const char  ngx_http_webrtc_sdp_type[] = "application/sdp";
const char  ngx_http_webrtc_frag_type[] =
    "application/trickle-ice-sdpfrag";


/* 1-64 characters of A-Z a-z 0-9 - _ . ~ */

ngx_int_t
ngx_http_webrtc_stream_name_valid(ngx_str_t *name)
{
    u_char  *p, *end;

    if (name->len == 0 || name->len > NGX_WEBRTC_STREAM_LEN) {
        return NGX_DECLINED;
    }

    end = name->data + name->len;

    for (p = name->data; p < end; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_' || *p == '.' || *p == '~'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webrtc_handler(ngx_http_request_t *r)
{
    u_char                      *p, *end, *slash;
    ngx_int_t                    rc;
    ngx_http_webrtc_ctx_t       *ctx;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webrtc_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_webrtc_module);

    /* <location prefix><stream>[/<session id>] */

    if (r->uri.len <= clcf->name.len) {
        ngx_http_discard_request_body(r);
        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_FOUND,
                                     "no stream name in the URL");
    }

    p = r->uri.data + clcf->name.len;
    end = r->uri.data + r->uri.len;

    slash = ngx_strlchr(p, end, '/');

    ctx->stream.data = p;
    ctx->stream.len = (slash ? slash : end) - p;

    if (slash) {
        ctx->id.data = slash + 1;
        ctx->id.len = end - ctx->id.data;
    }

    if (ngx_http_webrtc_stream_name_valid(&ctx->stream) != NGX_OK
        || (slash && ctx->id.len != NGX_WEBRTC_ID_LEN))
    {
        ngx_http_discard_request_body(r);
        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_FOUND,
                                     "no such stream or session URL");
    }

    if (slash == NULL) {

        /* the WHIP or WHEP endpoint */

        switch (r->method) {

        case NGX_HTTP_OPTIONS:
            ngx_http_discard_request_body(r);

            if (ngx_http_webrtc_header(r, "Accept-Post",
                                       (u_char *) ngx_http_webrtc_sdp_type,
                                       sizeof(ngx_http_webrtc_sdp_type) - 1)
                != NGX_OK
                || ngx_http_webrtc_header(r, "Allow",
                                          (u_char *) "OPTIONS, POST", 13)
                   != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_webrtc_send(r, NGX_HTTP_NO_CONTENT, NULL, NULL, 0);

        case NGX_HTTP_POST:
            rc = ngx_http_webrtc_auth(r, wlcf);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            rc = ngx_http_webrtc_content_type(r, ngx_http_webrtc_sdp_type);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            break;

        default:
            ngx_http_discard_request_body(r);

            if (ngx_http_webrtc_header(r, "Allow",
                                       (u_char *) "OPTIONS, POST", 13)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_webrtc_error(r, NGX_HTTP_NOT_ALLOWED,
                                         "method not allowed, "
                                         "POST an SDP offer");
        }

    } else {

        /* the session resource */

        switch (r->method) {

        case NGX_HTTP_OPTIONS:
            ngx_http_discard_request_body(r);

            if (ngx_http_webrtc_header(r, "Accept-Patch",
                                       (u_char *) ngx_http_webrtc_frag_type,
                                       sizeof(ngx_http_webrtc_frag_type) - 1)
                != NGX_OK
                || ngx_http_webrtc_header(r, "Allow",
                                          (u_char *) "OPTIONS, PATCH, DELETE",
                                          22)
                   != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_webrtc_send(r, NGX_HTTP_NO_CONTENT, NULL, NULL, 0);

        case NGX_HTTP_DELETE:
            ngx_http_discard_request_body(r);

            rc = ngx_http_webrtc_auth(r, wlcf);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            return ngx_http_webrtc_delete(r, ctx);

        case NGX_HTTP_PATCH:
            rc = ngx_http_webrtc_auth(r, wlcf);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            rc = ngx_http_webrtc_content_type(r, ngx_http_webrtc_frag_type);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            break;

        default:
            ngx_http_discard_request_body(r);

            if (ngx_http_webrtc_header(r, "Allow",
                                       (u_char *) "OPTIONS, PATCH, DELETE",
                                       22)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_webrtc_error(r, NGX_HTTP_NOT_ALLOWED,
                                         "method not allowed, "
                                         "PATCH or DELETE the session");
        }
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_webrtc_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_webrtc_body_handler(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_str_t               body;
    ngx_http_webrtc_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webrtc_module);

    ngx_str_null(&body);

    rc = ngx_http_webrtc_read_body(r, &body);

    if (rc == NGX_OK) {
        rc = (r->method == NGX_HTTP_POST)
             ? ngx_http_webrtc_create(r, ctx, &body)
             : ngx_http_webrtc_patch(r, ctx, &body);

    } else if (rc == NGX_DECLINED) {
        rc = ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST, "empty body");
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * the whole body in one piece of memory, wherever nginx buffered it;
 * NGX_DECLINED if there is none
 */

static ngx_int_t
ngx_http_webrtc_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         size;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL) {
        return NGX_DECLINED;
    }

    if (r->request_body->temp_file) {
        size = r->request_body->temp_file->file.offset;

    } else {
        size = 0;

        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            size += ngx_buf_size(cl->buf);
        }
    }

    if (size == 0) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;
    body->len = size;

    if (r->request_body->temp_file) {
        n = ngx_read_file(&r->request_body->temp_file->file, p, size, 0);

        if (n != size) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webrtc_create(ngx_http_request_t *r, ngx_http_webrtc_ctx_t *ctx,
    ngx_str_t *body)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_http_webrtc_offer_t      offer;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);

    rc = ngx_http_webrtc_offer(r, r->pool, wlcf->role, &ctx->stream, body,
                               &offer);

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (offer.status) {
        if (offer.status == NGX_HTTP_SERVICE_UNAVAILABLE
            && ngx_http_webrtc_header(r, "Retry-After", (u_char *) "10", 2)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webrtc_error(r, offer.status, "%V", &offer.reason);
    }

    /* Location: the request URI and the session id */

    p = ngx_pnalloc(r->pool, r->uri.len + 1 + NGX_WEBRTC_ID_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, r->uri.data, r->uri.len);
    p[r->uri.len] = '/';
    ngx_memcpy(p + r->uri.len + 1, offer.id, NGX_WEBRTC_ID_LEN);

    /* $webrtc_session from now on */
    ctx->id.data = p + r->uri.len + 1;
    ctx->id.len = NGX_WEBRTC_ID_LEN;

    if (ngx_http_webrtc_header(r, "Location", p,
                               r->uri.len + 1 + NGX_WEBRTC_ID_LEN)
        != NGX_OK
        || ngx_http_webrtc_etag(r, offer.ufrag) != NGX_OK
        || ngx_http_webrtc_links(r, wlcf, &ctx->stream) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webrtc_send(r, NGX_HTTP_CREATED, ngx_http_webrtc_sdp_type,
                                offer.answer.data, offer.answer.len);
}


/*
 * RFC 6750, 2.1 and 3: "Authorization: Bearer <token>".  NGX_DECLINED
 * lets the request go on; anything else is the result of the 401 sent.
 */

static ngx_int_t
ngx_http_webrtc_auth(ngx_http_request_t *r, ngx_http_webrtc_loc_conf_t *wlcf)
{
    u_char                    *p, *end;
    ngx_str_t                  token;
    ngx_uint_t                 i;
    ngx_http_complex_value_t  *cv;

    static u_char  invalid[] = "Bearer realm=\"webrtc\", "
                               "error=\"invalid_token\"";

    cv = ngx_http_webrtc_token(wlcf, wlcf->role);

    if (cv == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_complex_value(r, cv, &token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (token.len == 0 || r->headers_in.authorization == NULL) {
        ngx_http_discard_request_body(r);

        if (ngx_http_webrtc_header(r, "WWW-Authenticate",
                                   (u_char *) "Bearer realm=\"webrtc\"", 21)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* an empty token (a map without one for this stream) lets no one in */

        return ngx_http_webrtc_error(r, NGX_HTTP_UNAUTHORIZED,
                                     token.len ? "bearer token required"
                                     : "no bearer token is set for this "
                                       "stream");
    }

    p = r->headers_in.authorization->value.data;
    end = p + r->headers_in.authorization->value.len;

    /* the scheme, and a second one some clients (OBS) prepend */

    for (i = 0; i < 2; i++) {
        if (end - p > 7 && ngx_strncasecmp(p, (u_char *) "Bearer ", 7) == 0) {
            p += 7;

            while (p < end && *p == ' ') {
                p++;
            }

        } else if (i == 0) {
            p = end;
            break;
        }
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    if ((size_t) (end - p) != token.len
        || CRYPTO_memcmp(p, token.data, token.len) != 0)
    {
        ngx_http_discard_request_body(r);

        if (ngx_http_webrtc_header(r, "WWW-Authenticate", invalid,
                                   sizeof(invalid) - 1)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webrtc_error(r, NGX_HTTP_UNAUTHORIZED,
                                     "invalid bearer token");
    }

    return NGX_DECLINED;
}


/* NGX_DECLINED if the body has the type, or the result of the 415 sent */

static ngx_int_t
ngx_http_webrtc_content_type(ngx_http_request_t *r, const char *type)
{
    size_t      len;
    u_char     *p, *end;
    ngx_str_t  *ct;

    len = ngx_strlen(type);

    if (r->headers_in.content_type) {
        ct = &r->headers_in.content_type->value;
        p = ct->data;
        end = p + ct->len;

        if (ct->len >= len
            && ngx_strncasecmp(p, (u_char *) type, len) == 0
            && (p + len == end || p[len] == ';' || p[len] == ' '))
        {
            return NGX_DECLINED;
        }
    }

    ngx_http_discard_request_body(r);

    if (ngx_http_webrtc_header(r, r->method == NGX_HTTP_POST ? "Accept-Post"
                                                            : "Accept-Patch",
                               (u_char *) type, len)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webrtc_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                 "Content-Type must be %s", type);
}


ngx_int_t
ngx_http_webrtc_header(ngx_http_request_t *r, const char *name, u_char *value,
    size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}


/* the ETag of a session names its ICE generation, RFC 9725, 4.3.1 */

ngx_int_t
ngx_http_webrtc_etag(ngx_http_request_t *r, u_char *ufrag)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_WEBRTC_UFRAG_LEN + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p[0] = '"';
    ngx_memcpy(p + 1, ufrag, NGX_WEBRTC_UFRAG_LEN);
    p[NGX_WEBRTC_UFRAG_LEN + 1] = '"';

    return ngx_http_webrtc_header(r, "ETag", p, NGX_WEBRTC_UFRAG_LEN + 2);
}


/*
 * RFC 9725, 4.6: Link: <turn:host?transport=udp>; rel="ice-server";
 * username="u"; credential="c"; credential-type="password".  With a
 * shared secret the credentials are those of the TURN REST API that
 * coturn's use-auth-secret checks: username "<expiry>:<stream>",
 * password base64(HMAC-SHA1(secret, username)).  Only on the 201 of an
 * authorized POST: never on OPTIONS, which needs no token, nor on errors.
 */

static ngx_int_t
ngx_http_webrtc_links(ngx_http_request_t *r, ngx_http_webrtc_loc_conf_t *wlcf,
    ngx_str_t *stream)
{
    u_char                        *p;
    size_t                         len;
    ngx_str_t                      user, cred, mac;
    ngx_uint_t                     i;
    unsigned int                   maclen;
    ngx_http_webrtc_ice_server_t  *srv;
    u_char                         md[EVP_MAX_MD_SIZE];

    if (wlcf->ice_servers == NULL) {
        return NGX_OK;
    }

    srv = wlcf->ice_servers->elts;

    for (i = 0; i < wlcf->ice_servers->nelts; i++) {

        user = srv[i].username;
        cred = srv[i].credential;

        if (srv[i].secret.len) {
            user.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 1 + stream->len);
            if (user.data == NULL) {
                return NGX_ERROR;
            }

            user.len = ngx_sprintf(user.data, "%T:%V",
                                   ngx_time() + srv[i].ttl, stream)
                       - user.data;

            if (HMAC(EVP_sha1(), srv[i].secret.data, srv[i].secret.len,
                     user.data, user.len, md, &maclen)
                == NULL)
            {
                return NGX_ERROR;
            }

            mac.data = md;
            mac.len = maclen;

            cred.len = ngx_base64_encoded_length(mac.len);
            cred.data = ngx_pnalloc(r->pool, cred.len);
            if (cred.data == NULL) {
                return NGX_ERROR;
            }

            ngx_encode_base64(&cred, &mac);
        }

        len = sizeof("<>; rel=\"ice-server\"") - 1 + srv[i].url.len;

        if (user.len) {
            len += sizeof("; username=\"\"; credential=\"\"; "
                          "credential-type=\"password\"") - 1
                   + user.len + cred.len;
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (user.len) {
            ngx_sprintf(p, "<%V>; rel=\"ice-server\"; username=\"%V\"; "
                        "credential=\"%V\"; credential-type=\"password\"",
                        &srv[i].url, &user, &cred);

        } else {
            ngx_sprintf(p, "<%V>; rel=\"ice-server\"", &srv[i].url);
        }

        if (ngx_http_webrtc_header(r, "Link", p, len) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_webrtc_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;

    /* If-Match names the ICE session here, not a version of a file */
    r->disable_not_modified = 1;

    if (status == NGX_HTTP_WEBRTC_UNPROCESSABLE) {
        ngx_str_set(&r->headers_out.status_line, "422 Unprocessable Content");

    } else if (status == NGX_HTTP_WEBRTC_UPGRADE_REQUIRED) {
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");
    }

    r->headers_out.content_length_n = len;

    if (type) {
        r->headers_out.content_type.data = (u_char *) type;
        r->headers_out.content_type.len = ngx_strlen(type);
        r->headers_out.content_type_len = r->headers_out.content_type.len;
    }

    if (len == 0 || r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


/* a one-line reason in the body, and in the log at info level */

ngx_int_t
ngx_http_webrtc_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    buf[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    last = ngx_vslprintf(buf, buf + sizeof(buf) - 1, fmt, args);
    va_end(args);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "webrtc: %*s", (size_t) (last - buf), buf);

    *last++ = '\n';

    p = ngx_pnalloc(r->pool, last - buf);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, buf, last - buf);

    return ngx_http_webrtc_send(r, status, "text/plain", p, last - buf);
}


static char *
ngx_http_webrtc_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webrtc_loc_conf_t *wlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (wlcf->role || wlcf->websocket || wlcf->status) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (ngx_strcmp(cmd->name.data, "webrtc_status") == 0) {
        wlcf->status = NGX_HTTP_WEBRTC_STATUS_JSON;
        clcf->handler = ngx_http_webrtc_status_handler;

        value = cf->args->elts;

        if (cf->args->nelts == 2) {
            if (ngx_strcmp(value[1].data, "prometheus") == 0) {
                wlcf->status = NGX_HTTP_WEBRTC_STATUS_PROMETHEUS;

            } else if (ngx_strcmp(value[1].data, "json") != 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid value \"%V\"", &value[1]);
                return NGX_CONF_ERROR;
            }
        }

    } else if (ngx_strcmp(cmd->name.data, "webrtc_websocket") == 0) {
        wlcf->websocket = 1;
        clcf->handler = ngx_http_webrtc_ws_handler;
    }

    if (wlcf->websocket || wlcf->status) {
        return ngx_webrtc_core_use(cf) == NGX_OK ? NGX_CONF_OK
                                                 : NGX_CONF_ERROR;
    }

    if (clcf->named || clcf->exact_match
#if (NGX_PCRE)
        || clcf->regex
#endif
       )
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" requires a prefix location, "
                           "e.g. \"location /whip/\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    wlcf->role = (cmd->name.data[9] == 'i') ? NGX_WEBRTC_ROLE_PUBLISHER
                                            : NGX_WEBRTC_ROLE_VIEWER;

    clcf->handler = ngx_http_webrtc_handler;

    if (ngx_webrtc_core_use(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
