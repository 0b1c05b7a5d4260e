
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webrtc.h"


/* "webrtc_bearer_token off": anyone, on purpose */
static ngx_http_complex_value_t  ngx_http_webrtc_token_off;


void *
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
    conf->resume_timeout = NGX_CONF_UNSET;
    conf->max_viewers = NGX_CONF_UNSET_UINT;
    conf->max_client_sessions = NGX_CONF_UNSET_UINT;
    conf->max_token_sessions = NGX_CONF_UNSET_UINT;
    conf->video_set = 0;
    conf->audio_set = 0;

    return conf;
}


char *
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
    ngx_conf_merge_sec_value(conf->resume_timeout, prev->resume_timeout, 30);
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


/*
 * webrtc_bearer_token token | off [publish | play]: without a role for
 * both, publishers (WHIP, "publish" messages) and viewers (WHEP, "play")
 */

char *
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

char *
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


char *
ngx_http_webrtc_candidate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webrtc_loc_conf_t *wlcf = conf;

    u_char      *p;
    ngx_str_t   *value, *c;
    ngx_url_t    u;
    ngx_uint_t   tcp;

    value = cf->args->elts;

    tcp = 0;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "tcp") == 0) {
            tcp = 1;

        } else if (ngx_strcmp(value[2].data, "udp") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid transport \"%V\" of the "
                               "\"webrtc_candidate\" directive, "
                               "\"udp\" or \"tcp\"", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

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

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1 + NGX_INT_T_LEN
                              + sizeof(" tcp") - 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    /* "addr port", and " tcp" after an ICE-TCP one's */

    c->data = p;
    c->len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, p,
                           NGX_SOCKADDR_STRLEN, 0);
    c->len = ngx_sprintf(p + c->len, tcp ? " %d tcp" : " %d", (int) u.port)
             - p;

    return NGX_CONF_OK;
}


/*
 * webrtc_ice_server stun:stun.example.com:3478;
 * webrtc_ice_server turn:turn.example.com:3478 username=u credential=p;
 * webrtc_ice_server turn:turn.example.com:3478 secret=s [ttl=10m];
 */

char *
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


char *
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
