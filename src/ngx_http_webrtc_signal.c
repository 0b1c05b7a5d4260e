
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "ngx_http_webrtc.h"


/*
 * The signaling core: an offer checked, negotiated against its stream and
 * made a session in the registry, for WHIP, WHEP and WebSocket signaling;
 * and the WHIP/WHEP session resource: trickle, ICE restart, DELETE.
 */


static ngx_int_t ngx_http_webrtc_reason(ngx_http_webrtc_offer_t *out,
    const char *fmt, ...);
static void ngx_http_webrtc_client_addr(ngx_http_request_t *r,
    ngx_str_t *addr);
static ngx_int_t ngx_http_webrtc_token_hash(ngx_http_request_t *r,
    ngx_uint_t role, u_char *hash);


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
        out->status = (rc == NGX_WEBRTC_SDP_ERROR)
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

ngx_int_t
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


ngx_int_t
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
