
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ngx_http_webrtc.h"


/*
 * WHIP (RFC 9725) and WHEP (draft-ietf-wish-whep) in a prefix location:
 *
 *     POST    <location><stream>        offer -> 201, answer, Location
 *     PATCH   <location><stream>/<id>   trickle (204), ICE restart (200)
 *     DELETE  <location><stream>/<id>   200
 *     OPTIONS either                    204
 */


typedef struct {
    ngx_str_t                   stream;
    ngx_str_t                   id;
} ngx_http_webrtc_ctx_t;


static ngx_int_t ngx_http_webrtc_handler(ngx_http_request_t *r);
static void ngx_http_webrtc_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_webrtc_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_webrtc_create(ngx_http_request_t *r,
    ngx_http_webrtc_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_webrtc_reason(ngx_http_webrtc_offer_t *out,
    const char *fmt, ...);
static ngx_int_t ngx_http_webrtc_patch(ngx_http_request_t *r,
    ngx_http_webrtc_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_webrtc_delete(ngx_http_request_t *r,
    ngx_http_webrtc_ctx_t *ctx);
static void ngx_http_webrtc_client_addr(ngx_http_request_t *r,
    ngx_str_t *addr);
static ngx_int_t ngx_http_webrtc_token_hash(ngx_http_request_t *r,
    ngx_uint_t role, u_char *hash);
static ngx_int_t ngx_http_webrtc_auth(ngx_http_request_t *r,
    ngx_http_webrtc_loc_conf_t *wlcf);
static ngx_int_t ngx_http_webrtc_content_type(ngx_http_request_t *r,
    const char *type);
static ngx_int_t ngx_http_webrtc_etag(ngx_http_request_t *r, u_char *ufrag);
static ngx_int_t ngx_http_webrtc_links(ngx_http_request_t *r,
    ngx_http_webrtc_loc_conf_t *wlcf, ngx_str_t *stream);
static u_char *ngx_http_webrtc_status_delay(u_char *p, u_char *end,
    ngx_atomic_uint_t *delay);

static void *ngx_http_webrtc_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_webrtc_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_webrtc_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webrtc_bearer_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webrtc_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webrtc_candidate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webrtc_ice_server(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webrtc_codecs(ngx_conf_t *cf, ngx_command_t *cmd,
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
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
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
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
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
    NULL,                                  /* preconfiguration */
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


/* "webrtc_bearer_token off": anyone, on purpose */
static ngx_http_complex_value_t  ngx_http_webrtc_token_off;


static const char  ngx_http_webrtc_sdp_type[] = "application/sdp";
static const char  ngx_http_webrtc_frag_type[] =
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
 * An offer to publish or play a stream, for WHIP, WHEP and WebSocket
 * signaling: a session, and the answer.  NGX_OK with out->status 0 and
 * the answer, or with an HTTP status and a one-line reason (not logged
 * yet); NGX_ERROR on a failure of our own.
 */

ngx_int_t
ngx_http_webrtc_offer(ngx_http_request_t *r, ngx_pool_t *pool,
    ngx_uint_t role, ngx_str_t *stream, ngx_str_t *body,
    ngx_http_webrtc_offer_t *out)
{
    int                          rc;
    u_char                      *answer_buf;
    size_t                       len;
    uint32_t                     ssrc;
    ngx_str_t                    addr, id;
    ngx_uint_t                   i, tries, has_token;
    ngx_webrtc_sdp_t            *sdp;
    ngx_webrtc_owner_t           owner;
    ngx_webrtc_answer_t         *answer;
    ngx_webrtc_core_conf_t      *ccf;
    ngx_webrtc_stream_info_t     info;
    ngx_webrtc_session_req_t     req;
    ngx_webrtc_session_info_t    si;
    ngx_http_webrtc_loc_conf_t  *wlcf;
    u_char                       token[NGX_WEBRTC_CLIENT_KEY_LEN];

    ngx_memzero(out, sizeof(ngx_http_webrtc_offer_t));
    ngx_memzero(&req, sizeof(ngx_webrtc_session_req_t));

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);
    ccf = ngx_webrtc_core_conf((ngx_cycle_t *) ngx_cycle);

    sdp = ngx_palloc(pool, sizeof(ngx_webrtc_sdp_t));
    answer = ngx_pcalloc(pool, sizeof(ngx_webrtc_answer_t));
    answer_buf = ngx_pnalloc(pool, NGX_HTTP_WEBRTC_ANSWER_SIZE);
    out->reason.data = ngx_pnalloc(pool, NGX_MAX_ERROR_STR);

    if (sdp == NULL || answer == NULL || answer_buf == NULL
        || out->reason.data == NULL)
    {
        return NGX_ERROR;
    }

    rc = ngx_webrtc_sdp_parse(sdp, body->data, body->len, 0);

    if (rc == NGX_WEBRTC_SDP_OK) {
        rc = ngx_webrtc_sdp_check_offer(sdp);
    }

    if (rc != NGX_WEBRTC_SDP_OK) {
        out->status = (rc == NGX_WEBRTC_SDP_MALFORMED)
                      ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_WEBRTC_UNPROCESSABLE;

        if (sdp->error_line) {
            return ngx_http_webrtc_reason(out, "bad offer: %s at line %ui",
                                          sdp->error, sdp->error_line);
        }

        return ngx_http_webrtc_reason(out, "bad offer: %s", sdp->error);
    }

    /* the token that authorized the offer, by its hash (NGX_DECLINED: none) */

    rc = ngx_http_webrtc_token_hash(r, role, token);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    has_token = (rc == NGX_OK);

    ngx_http_webrtc_client_addr(r, &addr);

    req.stream = stream;
    req.role = role;
    req.timeout = ccf->consent_timeout;
    req.remote_ufrag = sdp->ice.ufrag;
    req.remote_pwd = sdp->ice.pwd;
    req.nfingerprints = sdp->ice.nfingerprints;
    req.fingerprints = sdp->ice.fingerprints;
    req.client = addr.data;
    req.client_len = addr.len;
    req.token = has_token ? token : NULL;
    req.max_viewers = wlcf->max_viewers;
    req.max_client = wlcf->max_client_sessions;
    req.max_token = wlcf->max_token_sessions;

    /*
     * negotiated against a copy of the stream, without the lock; a
     * publisher that came or went meanwhile makes it again
     */

    for (tries = 0; /* void */; tries++) {

        (void) ngx_webrtc_registry_stream_info(stream, &info);

        ngx_memzero(answer, sizeof(ngx_webrtc_answer_t));

        if (role == NGX_WEBRTC_ROLE_PUBLISHER) {

            if (info.published) {
                goto refused;
            }

            /* viewers waiting for this stream keep their codec if possible */

            rc = ngx_webrtc_sdp_negotiate_publish(sdp, &wlcf->prefs,
                                                  info.nviewers
                                                  ? info.tracks : NULL,
                                                  answer);

        } else {

            if (info.tracks[0].kind == 0 && info.tracks[1].kind == 0) {
                goto refused;
            }

            rc = ngx_webrtc_sdp_negotiate_play(sdp, info.tracks, answer);
        }

        if (rc != NGX_WEBRTC_SDP_OK) {
            out->status = NGX_HTTP_WEBRTC_UNPROCESSABLE;
            return ngx_http_webrtc_reason(out, "bad offer: %s",
                                          answer->error);
        }

        if (role == NGX_WEBRTC_ROLE_VIEWER) {
            for (i = 0; i < 2; i++) {
                do {
                    if (RAND_bytes((u_char *) &ssrc, sizeof(ssrc)) != 1) {
                        ssrc = (uint32_t) ngx_random();
                    }
                } while (ssrc == 0);

                answer->tracks[i].ssrc = ssrc;
            }
        }

        req.version = info.version;
        req.with_viewers = (info.nviewers != 0);
        req.tracks = answer->tracks;

        rc = ngx_webrtc_registry_session_create(&req, &si);

        if (rc != NGX_AGAIN) {
            break;
        }

        if (tries == NGX_HTTP_WEBRTC_NEGOTIATE_TRIES) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "webrtc stream \"%V\" changed while negotiating",
                          stream);

            out->status = NGX_HTTP_SERVICE_UNAVAILABLE;
            return ngx_http_webrtc_reason(out, "stream \"%V\" is changing, "
                                          "retry", stream);
        }
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "webrtc zone is full, increase \"webrtc_zone_size\"");

        out->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        return ngx_http_webrtc_reason(out, "server is full, retry later");
    }

    if (rc == NGX_DECLINED) {
        info.published = (req.refused == NGX_WEBRTC_REFUSED_PUBLISHED);
        goto refused;
    }

    ngx_memcpy(out->id, si.id, NGX_WEBRTC_ID_LEN);
    ngx_memcpy(out->ufrag, si.ufrag, NGX_WEBRTC_UFRAG_LEN);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "webrtc %s session %*s of stream \"%V\" created",
                  role == NGX_WEBRTC_ROLE_PUBLISHER ? "publisher" : "viewer",
                  (size_t) NGX_WEBRTC_ID_LEN, out->id, stream);

    /* the answer */

    answer->ufrag.data = out->ufrag;
    answer->ufrag.len = NGX_WEBRTC_UFRAG_LEN;
    answer->pwd.data = si.pwd;
    answer->pwd.len = NGX_WEBRTC_PWD_LEN;
    answer->fingerprint.data = ccf->fingerprint.data;
    answer->fingerprint.len = ccf->fingerprint.len;
    answer->cname.data = (u_char *) "nginx-webrtc";
    answer->cname.len = sizeof("nginx-webrtc") - 1;
    answer->msid.data = stream->data;
    answer->msid.len = stream->len;
    answer->candidates = wlcf->candidates->elts;
    answer->ncandidates = wlcf->candidates->nelts;
    answer->session_id = ngx_random();

    len = ngx_webrtc_sdp_write_answer(answer_buf, NGX_HTTP_WEBRTC_ANSWER_SIZE,
                                      sdp, answer);
    if (len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "webrtc answer does not fit in %uz bytes",
                      (size_t) NGX_HTTP_WEBRTC_ANSWER_SIZE);

        /* no session without its answer: the stream is free again */

        id.data = out->id;
        id.len = NGX_WEBRTC_ID_LEN;

        (void) ngx_webrtc_registry_session_end(&id, 0, NULL, &owner);

        return NGX_ERROR;
    }

    out->answer.data = answer_buf;
    out->answer.len = len;

    return NGX_OK;

refused:

    if (role == NGX_WEBRTC_ROLE_PUBLISHER && info.published) {
        out->status = NGX_HTTP_CONFLICT;
        return ngx_http_webrtc_reason(out,
                                      "stream \"%V\" is already published",
                                      stream);
    }

    switch (req.refused) {

    case NGX_WEBRTC_REFUSED_VIEWERS:

        /* the capacity an operator measured, not the zone's */

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webrtc stream \"%V\" has %ui viewers, "
                      "\"webrtc_max_viewers\" %ui",
                      stream, req.count, wlcf->max_viewers);

        out->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        return ngx_http_webrtc_reason(out,
                                      "stream \"%V\" has the most "
                                      "viewers allowed, retry later",
                                      stream);

    case NGX_WEBRTC_REFUSED_CLIENT:

        /* what one client address holds, whatever its requests' rate */

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webrtc: client has %ui sessions, "
                      "\"webrtc_max_client_sessions\" %ui",
                      req.count, wlcf->max_client_sessions);

        out->status = NGX_HTTP_TOO_MANY_REQUESTS;
        return ngx_http_webrtc_reason(out, "too many sessions from this "
                                      "address, retry later");

    case NGX_WEBRTC_REFUSED_TOKEN:

        /* and what one token holds, whatever the addresses it is used from */

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webrtc: token has %ui sessions, "
                      "\"webrtc_max_token_sessions\" %ui",
                      req.count, wlcf->max_token_sessions);

        out->status = NGX_HTTP_TOO_MANY_REQUESTS;
        return ngx_http_webrtc_reason(out, "too many sessions with this "
                                      "token, retry later");

    default: /* NGX_WEBRTC_REFUSED_NOT_PUBLISHED, or none yet */
        out->status = NGX_HTTP_NOT_FOUND;
        return ngx_http_webrtc_reason(out, "stream \"%V\" is not published",
                                      stream);
    }
}


/* the client's address (realip's, if it changed it) as bytes */

static void
ngx_http_webrtc_client_addr(ngx_http_request_t *r, ngx_str_t *addr)
{
    struct sockaddr      *sa;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    sa = r->connection->sockaddr;

    switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        addr->data = sin6->sin6_addr.s6_addr;
        addr->len = 16;
        break;
#endif

    case AF_INET:
        addr->data = (u_char *) &((struct sockaddr_in *) sa)->sin_addr;
        addr->len = 4;
        break;

    default:
        /* unix sockets: one client */
        addr->data = (u_char *) "unix";
        addr->len = 4;
        break;
    }
}


/*
 * The bearer token of the role, which the request showed to get here, by
 * its keyed hash (ngx_webrtc_registry_token_hash()): the zone counts a
 * token's sessions without holding it.  NGX_DECLINED: the role needs no
 * token.
 */

static ngx_int_t
ngx_http_webrtc_token_hash(ngx_http_request_t *r, ngx_uint_t role,
    u_char *hash)
{
    ngx_str_t                    token;
    ngx_http_complex_value_t    *cv;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);

    cv = ngx_http_webrtc_token(wlcf, role);

    if (cv == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_complex_value(r, cv, &token) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_webrtc_registry_token_hash(role, &token, hash,
                                          r->connection->log);
}


static ngx_int_t
ngx_http_webrtc_reason(ngx_http_webrtc_offer_t *out, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    out->reason.len = ngx_vslprintf(out->reason.data,
                                    out->reason.data + NGX_MAX_ERROR_STR,
                                    fmt, args)
                      - out->reason.data;
    va_end(args);

    return NGX_OK;
}


/*
 * RFC 9725, 4.3: trickle candidates (204) and, with "If-Match: *",
 * an ICE restart answered with the server's new credentials (200)
 */

static ngx_int_t
ngx_http_webrtc_patch(ngx_http_request_t *r, ngx_http_webrtc_ctx_t *ctx,
    ngx_str_t *body)
{
    int                          rc;
    size_t                       len;
    u_char                      *buf;
    ngx_str_t                   *if_match;
    ngx_uint_t                   restart, same;
    ngx_webrtc_sdp_t            *sdp;
    ngx_webrtc_answer_t         *answer;
    ngx_webrtc_session_info_t    si;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    if_match = r->headers_in.if_match ? &r->headers_in.if_match->value : NULL;
    /* RFC 9110 has a bare *, the WHIP and WHEP examples a quoted one */

    restart = (if_match
               && ((if_match->len == 1 && if_match->data[0] == '*')
                   || (if_match->len == 3
                       && ngx_strncmp(if_match->data, "\"*\"", 3) == 0)));

    sdp = ngx_palloc(r->pool, sizeof(ngx_webrtc_sdp_t));
    if (sdp == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_webrtc_sdp_parse(sdp, body->data, body->len, 1);

    if (rc == NGX_WEBRTC_SDP_OK) {
        rc = ngx_webrtc_sdp_check_fragment(sdp);
    }

    if (rc != NGX_WEBRTC_SDP_OK) {
        return ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST,
                                     "bad sdpfrag: %s", sdp->error);
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);

    if (ngx_webrtc_registry_session_find(&ctx->id, wlcf->role, &ctx->stream,
                                         &si)
        != NGX_OK)
    {
        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_FOUND,
                                     "no such session");
    }

    if (if_match && !restart
        && (if_match->len != NGX_WEBRTC_UFRAG_LEN + 2
            || ngx_strncmp(if_match->data + 1, si.ufrag,
                           NGX_WEBRTC_UFRAG_LEN) != 0))
    {
        return ngx_http_webrtc_error(r, NGX_HTTP_PRECONDITION_FAILED,
                                     "If-Match does not match the "
                                     "session's ETag");
    }

    same = (sdp->ice.ufrag.len == si.remote_ufrag_len
            && ngx_strncmp(sdp->ice.ufrag.data, si.remote_ufrag,
                           si.remote_ufrag_len) == 0);

    if (!restart) {
        /* RFC 8840, 4.4: candidates of another ICE generation */

        if (!same) {
            return ngx_http_webrtc_error(r, NGX_HTTP_WEBRTC_UNPROCESSABLE,
                                         "sdpfrag ice-ufrag does not match "
                                         "the session");
        }

        /* ICE lite: the full agent's checks bring its addresses */

        return ngx_http_webrtc_send(r, NGX_HTTP_NO_CONTENT, NULL, NULL, 0);
    }

    if (same) {
        return ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST,
                                     "ICE restart needs a new ice-ufrag");
    }

    rc = ngx_webrtc_registry_ice_restart(&ctx->id, wlcf->role, &ctx->stream,
                                         &sdp->ice.ufrag, &sdp->ice.pwd, &si);

    if (rc == NGX_ABORT) {
        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_FOUND,
                                     "no such session");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "webrtc session %V ICE restart", &ctx->id);

    answer = ngx_pcalloc(r->pool, sizeof(ngx_webrtc_answer_t));
    buf = ngx_pnalloc(r->pool, NGX_HTTP_WEBRTC_ANSWER_SIZE);

    if (answer == NULL || buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    answer->ufrag.data = si.ufrag;
    answer->ufrag.len = NGX_WEBRTC_UFRAG_LEN;
    answer->pwd.data = si.pwd;
    answer->pwd.len = NGX_WEBRTC_PWD_LEN;
    answer->candidates = wlcf->candidates->elts;
    answer->ncandidates = wlcf->candidates->nelts;

    len = ngx_webrtc_sdp_write_fragment(buf, NGX_HTTP_WEBRTC_ANSWER_SIZE,
                                        answer, si.mid, si.mid_len);
    if (len == 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_webrtc_etag(r, si.ufrag) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webrtc_send(r, NGX_HTTP_OK, ngx_http_webrtc_frag_type,
                                buf, len);
}


static ngx_int_t
ngx_http_webrtc_delete(ngx_http_request_t *r, ngx_http_webrtc_ctx_t *ctx)
{
    ngx_webrtc_owner_t           owner;
    ngx_http_webrtc_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webrtc_module);

    if (ngx_webrtc_registry_session_end(&ctx->id, wlcf->role, &ctx->stream,
                                        &owner)
        != NGX_OK)
    {
        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_FOUND,
                                     "no such session");
    }

    /* the worker serving its media closes it at once */
    ngx_webrtc_relay_close(owner.slot, owner.pid, owner.id,
                           NGX_WEBRTC_CLOSE_DELETED);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "webrtc session %V of stream \"%V\" deleted",
                  &ctx->id, &ctx->stream);

    return ngx_http_webrtc_send(r, NGX_HTTP_OK, NULL, NULL, 0);
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

static ngx_int_t
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


/*
 * GET: the streams, or only the stream of "?stream=NAME", what each
 * worker's media plane did, and the forwarding delay:
 *
 * {"streams":[{"name":S,"live":true,"viewers":N,"uptime":SEC,
 *              "packets_in":N,"bytes_in":N,"packets_lost":N,
 *              "bitrate_in":BPS[,"h264_profile_level_id":"64001f"|null,
 *              "h264_profile":S,"h264_label":"42e01f",
 *              "h264_label_profile":S]},...],
 *  "workers":[{"worker":N,"pid":N,"publishers":N,"viewers":N,
 *              "packets_in":N,"bytes_in":N,"packets_out":N,"bytes_out":N,
 *              "dropped_out":N,"relay_dropped":N},...],
 *  "forwarding":{"packets":N,"delay_us":{"p50":N,"p90":N,"p99":N,
 *                "p999":N},"histogram":{"le_us":[...],"count":[...]}}}
 *
 * "count" has one bucket more than "le_us": those past the last bound.
 */

ngx_int_t
ngx_http_webrtc_status_handler(ngx_http_request_t *r)
{
    u_char                     *p, *end, *buf;
    size_t                      size;
    ngx_str_t                   name;
    ngx_uint_t                  first, i, k, profile;
    ngx_core_conf_t            *cf;
    ngx_webrtc_snapshot_t       snap;
    ngx_webrtc_stream_stat_t   *st;
    ngx_webrtc_worker_stats_t  *ws;
    ngx_atomic_uint_t           delay[NGX_WEBRTC_DELAY_BUCKETS + 1];

    if (r->method != NGX_HTTP_GET && r->method != NGX_HTTP_HEAD) {
        ngx_http_discard_request_body(r);

        if (ngx_http_webrtc_header(r, "Allow", (u_char *) "GET, HEAD", 9)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webrtc_error(r, NGX_HTTP_NOT_ALLOWED,
                                     "method not allowed, GET the status");
    }

    ngx_http_discard_request_body(r);

    if (ngx_http_arg(r, (u_char *) "stream", 6, &name) != NGX_OK) {
        name.len = 0;
    }

    if (name.len && ngx_http_webrtc_stream_name_valid(&name) != NGX_OK) {
        return ngx_http_webrtc_error(r, NGX_HTTP_BAD_REQUEST,
                                     "bad stream name");
    }

    cf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                          ngx_core_module);

    /* the workers of this configuration; a reload with fewer leaves slots */

    if (ngx_webrtc_registry_snapshot(r->pool, &name,
                                     (ngx_uint_t) cf->worker_processes, &snap)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    size = sizeof("{\"streams\":[],\"workers\":[],\"forwarding\":{"
                  "\"packets\":,\"delay_us\":{\"p50\":,\"p90\":,\"p99\":,"
                  "\"p999\":},\"histogram\":{\"le_us\":[],\"count\":[]}}}\n")
           + 5 * NGX_INT64_LEN
           + NGX_WEBRTC_DELAY_BUCKETS * (NGX_INT_T_LEN + 1)
           + (NGX_WEBRTC_DELAY_BUCKETS + 1) * (NGX_ATOMIC_T_LEN + 1)
           + snap.nstreams
             * (sizeof("{\"name\":\"\",\"live\":false,\"viewers\":,"
                       "\"uptime\":,\"packets_in\":,\"bytes_in\":,"
                       "\"packets_lost\":,\"bitrate_in\":,"
                       "\"h264_profile_level_id\":\"123456\","
                       "\"h264_profile\":\"\",\"h264_label\":\"123456\","
                       "\"h264_label_profile\":\"\"},")
                + NGX_WEBRTC_STREAM_LEN + NGX_INT_T_LEN + NGX_TIME_T_LEN
                + 4 * NGX_INT64_LEN
                + 2 * sizeof("predictive high 4:4:4"))
           + snap.nworkers
             * (sizeof("{\"worker\":,\"pid\":,\"publishers\":,\"viewers\":,"
                       "\"packets_in\":,\"bytes_in\":,\"packets_out\":,"
                       "\"bytes_out\":,\"dropped_out\":,"
                       "\"relay_dropped\":,\"keyframe_requests\":},")
                + NGX_INT_T_LEN + 10 * NGX_ATOMIC_T_LEN);

    buf = ngx_pnalloc(r->pool, size);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(buf, "{\"streams\":[", sizeof("{\"streams\":[") - 1);
    end = buf + size;

    for (i = 0; i < snap.nstreams; i++) {
        st = &snap.streams[i];

        p = ngx_slprintf(p, end, "%s{\"name\":\"%V\",\"live\":%s,"
                         "\"viewers\":%ui,\"uptime\":%T,"
                         "\"packets_in\":%uL,\"bytes_in\":%uL,"
                         "\"packets_lost\":%uL,\"bitrate_in\":%uL",
                         i ? "," : "", &st->name,
                         st->live ? "true" : "false",
                         st->nviewers, ngx_time() - st->created,
                         st->packets_in, st->bytes_in, st->packets_lost,
                         st->bitrate_in);

        /* H.264: what the publisher's SPS says, and what its offer did */

        if (st->h264) {
            if (st->h264_sps) {
                profile = ngx_webrtc_h264_profile(st->h264_sps);

                p = ngx_slprintf(p, end,
                                 ",\"h264_profile_level_id\":\"%06xD\","
                                 "\"h264_profile\":\"%s\"",
                                 st->h264_sps,
                                 ngx_webrtc_h264_profile_name(profile));

            } else {
                p = ngx_slprintf(p, end, ",\"h264_profile_level_id\":null");
            }

            profile = ngx_webrtc_h264_profile(st->h264_label);

            p = ngx_slprintf(p, end, ",\"h264_label\":\"%06xD\","
                             "\"h264_label_profile\":\"%s\"",
                             st->h264_label,
                             ngx_webrtc_h264_profile_name(profile));
        }

        p = ngx_slprintf(p, end, "}");
    }

    p = ngx_slprintf(p, end, "],\"workers\":[");

    ngx_memzero(delay, sizeof(delay));

    first = 1;

    for (i = 0; i < snap.nworkers; i++) {
        ws = &snap.workers[i];

        if (ws->pid == 0) {
            /* not started: master_process off, or no stream server */
            continue;
        }

        /*
         * an old worker's last peer may have left after the new one had
         * taken the slot: not below 0
         */

        p = ngx_slprintf(p, end, "%s{\"worker\":%ui,\"pid\":%uA,"
                         "\"publishers\":%A,\"viewers\":%A,"
                         "\"packets_in\":%uA,\"bytes_in\":%uA,"
                         "\"packets_out\":%uA,\"bytes_out\":%uA,"
                         "\"dropped_out\":%uA,\"relay_dropped\":%uA,"
                         "\"keyframe_requests\":%uA}",
                         first ? "" : ",", i, ws->pid,
                         ngx_max((ngx_atomic_int_t) ws->publishers, 0),
                         ngx_max((ngx_atomic_int_t) ws->viewers, 0),
                         ws->packets_in, ws->bytes_in, ws->packets_out,
                         ws->bytes_out, ws->dropped_out, ws->relay_dropped,
                         ws->keyframe_requests);
        first = 0;

        for (k = 0; k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {
            delay[k] += ws->delay[k];
        }
    }

    p = ngx_http_webrtc_status_delay(p, end, delay);

    if (ngx_http_webrtc_header(r, "Cache-Control", (u_char *) "no-store", 8)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_webrtc_send(r, NGX_HTTP_OK, "application/json", buf,
                                p - buf);
}


/*
 * The forwarding delay's percentiles, each interpolated within its
 * bucket, and the buckets.
 */

static u_char *
ngx_http_webrtc_status_delay(u_char *p, u_char *end, ngx_atomic_uint_t *delay)
{
    uint64_t     total, rank, seen, lo, hi;
    ngx_uint_t   i, k;
    static const struct {
        const char  *name;
        uint64_t     permille;
    } pct[] = {
        { "p50", 500 }, { "p90", 900 }, { "p99", 990 }, { "p999", 999 }
    };

    total = 0;

    for (k = 0; k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {
        total += delay[k];
    }

    p = ngx_slprintf(p, end, "],\"forwarding\":{\"packets\":%uL,"
                     "\"delay_us\":{", total);

    for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {

        /* the smallest delay with at least permille of the packets */

        rank = (total * pct[i].permille + 999) / 1000;
        seen = 0;
        hi = 0;

        for (k = 0; total && k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {
            lo = k ? ngx_webrtc_delay_bounds[k - 1] : 0;

            if (k == NGX_WEBRTC_DELAY_BUCKETS) {
                /* past the last bound: no more is known */
                hi = lo;
                break;
            }

            hi = ngx_webrtc_delay_bounds[k];

            if (seen + delay[k] >= rank) {
                hi = lo + (hi - lo) * (rank - seen) / delay[k];
                break;
            }

            seen += delay[k];
        }

        p = ngx_slprintf(p, end, "%s\"%s\":%uL", i ? "," : "", pct[i].name,
                         hi);
    }

    p = ngx_slprintf(p, end, "},\"histogram\":{\"le_us\":[");

    for (k = 0; k < NGX_WEBRTC_DELAY_BUCKETS; k++) {
        p = ngx_slprintf(p, end, "%s%ui", k ? "," : "",
                         ngx_webrtc_delay_bounds[k]);
    }

    p = ngx_slprintf(p, end, "],\"count\":[");

    for (k = 0; k <= NGX_WEBRTC_DELAY_BUCKETS; k++) {
        p = ngx_slprintf(p, end, "%s%uA", k ? "," : "", delay[k]);
    }

    return ngx_slprintf(p, end, "]}}}\n");
}


static void *
ngx_http_webrtc_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_webrtc_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_webrtc_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->role = 0;
     *     conf->prefs = { 0 };
     */

    conf->candidates = NGX_CONF_UNSET_PTR;
    conf->ice_servers = NGX_CONF_UNSET_PTR;
    conf->token = NGX_CONF_UNSET_PTR;
    conf->tokens[NGX_WEBRTC_ROLE_PUBLISHER] = NGX_CONF_UNSET_PTR;
    conf->tokens[NGX_WEBRTC_ROLE_VIEWER] = NGX_CONF_UNSET_PTR;
    conf->origins = NGX_CONF_UNSET_PTR;
    conf->max_message = NGX_CONF_UNSET_SIZE;
    conf->max_viewers = NGX_CONF_UNSET_UINT;
    conf->max_client_sessions = NGX_CONF_UNSET_UINT;
    conf->max_token_sessions = NGX_CONF_UNSET_UINT;
    conf->video_set = 0;
    conf->audio_set = 0;

    return conf;
}


static char *
ngx_http_webrtc_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_webrtc_loc_conf_t *prev = parent;
    ngx_http_webrtc_loc_conf_t *conf = child;

    ngx_uint_t  i;

    static const uint8_t  video[] = {
        NGX_WEBRTC_CODEC_VP8, NGX_WEBRTC_CODEC_H264, NGX_WEBRTC_CODEC_VP9,
        NGX_WEBRTC_CODEC_AV1
    };

    ngx_conf_merge_ptr_value(conf->candidates, prev->candidates, NULL);
    ngx_conf_merge_ptr_value(conf->ice_servers, prev->ice_servers, NULL);
    /*
     * a role's own webrtc_bearer_token, else the one for both roles; those
     * of this level first, so that a location's overrides what it inherits
     * (the main level's are not merged: its token for both roles counts)
     */

    for (i = NGX_WEBRTC_ROLE_PUBLISHER; i <= NGX_WEBRTC_ROLE_VIEWER; i++) {

        if (conf->tokens[i] == NGX_CONF_UNSET_PTR) {
            conf->tokens[i] = conf->token;
        }

        if (conf->tokens[i] == NGX_CONF_UNSET_PTR) {
            conf->tokens[i] = (prev->tokens[i] != NGX_CONF_UNSET_PTR)
                              ? prev->tokens[i] : prev->token;
        }

        if (conf->tokens[i] == NGX_CONF_UNSET_PTR) {
            conf->tokens[i] = NULL;
        }
    }

    ngx_conf_merge_ptr_value(conf->origins, prev->origins, NULL);
    ngx_conf_merge_size_value(conf->max_message, prev->max_message,
                              64 * 1024);
    ngx_conf_merge_uint_value(conf->max_viewers, prev->max_viewers, 0);
    ngx_conf_merge_uint_value(conf->max_client_sessions,
                              prev->max_client_sessions, 32);
    ngx_conf_merge_uint_value(conf->max_token_sessions,
                              prev->max_token_sessions, 32);

    if (!conf->video_set) {
        if (prev->video_set) {
            ngx_memcpy(conf->prefs.video, prev->prefs.video,
                       sizeof(conf->prefs.video));
            conf->prefs.nvideo = prev->prefs.nvideo;

        } else {
            ngx_memcpy(conf->prefs.video, video, sizeof(video));
            conf->prefs.nvideo = sizeof(video);
        }
    }

    if (!conf->audio_set) {
        if (prev->audio_set) {
            ngx_memcpy(conf->prefs.audio, prev->prefs.audio,
                       sizeof(conf->prefs.audio));
            conf->prefs.naudio = prev->prefs.naudio;

        } else {
            conf->prefs.audio[0] = NGX_WEBRTC_CODEC_OPUS;
            conf->prefs.naudio = 1;
        }
    }

    conf->video_set |= prev->video_set;
    conf->audio_set |= prev->audio_set;

    if ((conf->role || conf->websocket) && conf->candidates == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no \"webrtc_candidate\" is defined for "
                           "a webrtc location");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_webrtc_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webrtc_loc_conf_t *wlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (wlcf->role || wlcf->websocket || wlcf->status) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (ngx_strcmp(cmd->name.data, "webrtc_status") == 0) {
        wlcf->status = 1;
        clcf->handler = ngx_http_webrtc_status_handler;

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


/*
 * webrtc_bearer_token token | off [publish | play]: without a role for
 * both, publishers (WHIP, "publish" messages) and viewers (WHEP, "play")
 */

static char *
ngx_http_webrtc_bearer_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webrtc_loc_conf_t *wlcf = conf;

    ngx_str_t                          *value;
    ngx_http_complex_value_t          **field;
    ngx_http_compile_complex_value_t    ccv;

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        field = &wlcf->token;

    } else if (ngx_strcmp(value[2].data, "publish") == 0) {
        field = &wlcf->tokens[NGX_WEBRTC_ROLE_PUBLISHER];

    } else if (ngx_strcmp(value[2].data, "play") == 0) {
        field = &wlcf->tokens[NGX_WEBRTC_ROLE_VIEWER];

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", "
                           "it must be \"publish\" or \"play\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (*field != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        *field = &ngx_http_webrtc_token_off;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0) {
        return "is empty, use \"off\" to let anyone in";
    }

    *field = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (*field == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = *field;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * webrtc_websocket_origins origin | self | * ...: every argument, the
 * directive repeated adds to the list
 */

static char *
ngx_http_webrtc_origins(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webrtc_loc_conf_t *wlcf = conf;

    ngx_str_t                 *value, *o;
    ngx_uint_t                 i;
    ngx_http_webrtc_origin_t   origin;

    if (wlcf->origins == NGX_CONF_UNSET_PTR) {
        wlcf->origins = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (wlcf->origins == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "*") != 0
            && ngx_strcmp(value[i].data, "self") != 0
            && (ngx_http_webrtc_origin_parse(&value[i], &origin) != NGX_OK
                || value[i].len > NGX_HTTP_WEBRTC_ORIGIN_LEN))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\", it must be "
                               "\"scheme://host[:port]\", \"self\" or \"*\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        o = ngx_array_push(wlcf->origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }

        *o = value[i];
    }

    return NGX_CONF_OK;
}


/* the token a role's clients must show, NULL if none */

ngx_http_complex_value_t *
ngx_http_webrtc_token(ngx_http_webrtc_loc_conf_t *wlcf, ngx_uint_t role)
{
    ngx_http_complex_value_t  *token;

    if (role != NGX_WEBRTC_ROLE_PUBLISHER && role != NGX_WEBRTC_ROLE_VIEWER) {
        return NULL;
    }

    token = wlcf->tokens[role];

    return (token == &ngx_http_webrtc_token_off) ? NULL : token;
}


static char *
ngx_http_webrtc_candidate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webrtc_loc_conf_t *wlcf = conf;

    u_char     *p;
    ngx_str_t  *value, *c;
    ngx_url_t   u;

    value = cf->args->elts;

    if (wlcf->candidates == NGX_CONF_UNSET_PTR) {
        wlcf->candidates = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (wlcf->candidates == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[1];
    u.default_port = 10000;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in \"%V\" of the \"webrtc_candidate\" "
                               "directive", u.err, &u.url);
        }

        return NGX_CONF_ERROR;
    }

    if (u.naddrs != 1 || u.wildcard || u.port == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webrtc_candidate\" needs the IP address "
                           "and port peers reach, not \"%V\"", &u.url);
        return NGX_CONF_ERROR;
    }

    c = ngx_array_push(wlcf->candidates);
    if (c == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1 + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    c->data = p;
    c->len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, p,
                           NGX_SOCKADDR_STRLEN, 0);
    c->len = ngx_sprintf(p + c->len, " %d", (int) u.port) - p;

    return NGX_CONF_OK;
}


/*
 * webrtc_ice_server stun:stun.example.com:3478;
 * webrtc_ice_server turn:turn.example.com:3478 username=u credential=p;
 * webrtc_ice_server turn:turn.example.com:3478 secret=s [ttl=10m];
 */

static char *
ngx_http_webrtc_ice_server(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webrtc_loc_conf_t *wlcf = conf;

    ngx_str_t                     *value, s;
    ngx_uint_t                     i;
    ngx_http_webrtc_ice_server_t  *srv;

    value = cf->args->elts;

    if (wlcf->ice_servers == NGX_CONF_UNSET_PTR) {
        wlcf->ice_servers = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_webrtc_ice_server_t));
        if (wlcf->ice_servers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    srv = ngx_array_push(wlcf->ice_servers);
    if (srv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(srv, sizeof(ngx_http_webrtc_ice_server_t));

    srv->url = value[1];

    /*
     * coturn checks the expiry when a TURN session first authenticates,
     * its Allocate, and keeps the key for the session's Refresh requests:
     * enough for a client that allocates after the answer, not an open
     * relay for a day
     */
    srv->ttl = 600;

    if (ngx_strncmp(srv->url.data, "stun:", 5) != 0
        && ngx_strncmp(srv->url.data, "stuns:", 6) != 0
        && ngx_strncmp(srv->url.data, "turn:", 5) != 0
        && ngx_strncmp(srv->url.data, "turns:", 6) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid ICE server URL \"%V\", expected "
                           "stun:, stuns:, turn: or turns:", &srv->url);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "username=", 9) == 0) {
            srv->username.data = value[i].data + 9;
            srv->username.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "credential=", 11) == 0) {
            srv->credential.data = value[i].data + 11;
            srv->credential.len = value[i].len - 11;
            continue;
        }

        if (ngx_strncmp(value[i].data, "secret=", 7) == 0) {
            srv->secret.data = value[i].data + 7;
            srv->secret.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            srv->ttl = ngx_parse_time(&s, 1);
            if (srv->ttl == (time_t) NGX_ERROR || srv->ttl == 0) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if ((srv->username.len == 0) != (srv->credential.len == 0)
        || (srv->secret.len && srv->username.len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webrtc_ice_server\" takes either username= "
                           "and credential=, or secret=");
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < srv->username.len + srv->credential.len; i++) {
        u_char  c;

        c = (i < srv->username.len) ? srv->username.data[i]
            : srv->credential.data[i - srv->username.len];

        if (c == '"' || c == '\\') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "quotes and backslashes are not allowed in "
                               "ICE server credentials");
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_webrtc_codecs(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webrtc_loc_conf_t *wlcf = conf;

    uint8_t     *list, *n;
    ngx_str_t   *value;
    ngx_flag_t  *set, video;
    ngx_uint_t   i, j, codec;

    value = cf->args->elts;
    video = (cmd->name.data[7] == 'v');

    list = video ? wlcf->prefs.video : wlcf->prefs.audio;
    n = video ? &wlcf->prefs.nvideo : &wlcf->prefs.naudio;
    set = video ? &wlcf->video_set : &wlcf->audio_set;

    if (*set) {
        return "is duplicate";
    }

    *set = 1;
    *n = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        codec = ngx_webrtc_codec_by_name(value[i].data, value[i].len);

        if (video ? (codec != NGX_WEBRTC_CODEC_H264
                     && codec != NGX_WEBRTC_CODEC_VP8
                     && codec != NGX_WEBRTC_CODEC_VP9
                     && codec != NGX_WEBRTC_CODEC_AV1)
                  : (codec != NGX_WEBRTC_CODEC_OPUS
                     && codec != NGX_WEBRTC_CODEC_PCMU
                     && codec != NGX_WEBRTC_CODEC_PCMA
                     && codec != NGX_WEBRTC_CODEC_G722))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unsupported %s codec \"%V\"",
                               video ? "video" : "audio", &value[i]);
            return NGX_CONF_ERROR;
        }

        for (j = 0; j < *n; j++) {
            if (list[j] == codec) {
                break;
            }
        }

        if (j == *n) {
            list[(*n)++] = (uint8_t) codec;
        }
    }

    return NGX_CONF_OK;
}
