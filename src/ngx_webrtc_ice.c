
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include "ngx_webrtc.h"


/*
 * ICE lite (RFC 8445, 2.5) on libnice's STUN usage API: the server
 * answers the full agent's connectivity checks and never sends its own.
 */


typedef struct {
    ngx_webrtc_ice_result_t      *result;
    u_char                        pwd[NGX_WEBRTC_PWD_LEN];
} ngx_webrtc_ice_validate_ctx_t;


static bool ngx_webrtc_ice_validater(StunAgent *agent, StunMessage *msg,
    uint8_t *username, uint16_t username_len, uint8_t **password,
    size_t *password_len, void *user_data);


/* comprehension-required attributes of browsers' checks must be known */

static const uint16_t  ngx_webrtc_ice_attrs[] = {
    STUN_ATTRIBUTE_USERNAME,
    STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_PRIORITY,
    STUN_ATTRIBUTE_USE_CANDIDATE,
    STUN_ATTRIBUTE_ICE_CONTROLLED,
    STUN_ATTRIBUTE_ICE_CONTROLLING,
    STUN_ATTRIBUTE_FINGERPRINT,
    0
};


/*
 * Validates a connectivity check and builds the response in out.
 * NGX_OK: a valid Binding request, result filled, *outlen bytes to send;
 * NGX_DECLINED: not for us, or not valid: nothing changes, nothing is sent.
 */

ngx_int_t
ngx_webrtc_ice_process(ngx_log_t *log, u_char *in, size_t len,
    struct sockaddr *sa, socklen_t socklen, u_char *out, size_t *outlen,
    ngx_webrtc_ice_result_t *result)
{
    bool                           control;
    uint64_t                       tie;
    StunAgent                      agent;
    StunMessage                    req, resp;
    StunValidationStatus           valid;
    StunUsageIceReturn             rc;
    struct sockaddr_storage        src;
    ngx_webrtc_ice_validate_ctx_t  vctx;

    ngx_memzero(result, sizeof(ngx_webrtc_ice_result_t));

    /*
     * RFC 8445, 11: a Binding Indication is a keepalive (libnice sends
     * them on the selected pair); it needs no answer and says nothing
     */

    if (len >= 20 && in[0] == 0x00 && in[1] == 0x11) {
        return NGX_DECLINED;
    }

    /* a USERNAME must be there to look up: no lock for what has none */

    if (len < 20 || ngx_strlchr(in + 20, in + len, ':') == NULL) {
        result->error = "STUN message without a USERNAME ignored";
        return NGX_DECLINED;
    }

    stun_agent_init(&agent, ngx_webrtc_ice_attrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS
                    | STUN_AGENT_USAGE_USE_FINGERPRINT);

    vctx.result = result;

    /* RFC 8445, 7.3: MESSAGE-INTEGRITY and FINGERPRINT before anything */

    valid = stun_agent_validate(&agent, &req, in, len,
                                ngx_webrtc_ice_validater, &vctx);

    if (valid != STUN_VALIDATION_SUCCESS) {

        result->found = 0;

        /* the caller logs it, at info once per address */

        result->error = (valid == STUN_VALIDATION_UNAUTHORIZED
                         || valid == STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST)
                        ? "STUN check with an unknown username or a bad "
                          "MESSAGE-INTEGRITY ignored"
                        : "invalid STUN message ignored";

        return NGX_DECLINED;
    }

    if (stun_message_get_class(&req) != STUN_REQUEST
        || stun_message_get_method(&req) != STUN_BINDING
        || !result->found)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_STREAM, log, 0,
                       "webrtc: STUN message is not a Binding request");
        return NGX_DECLINED;
    }

    if (socklen > sizeof(src)) {
        return NGX_DECLINED;
    }

    ngx_memzero(&src, sizeof(src));
    ngx_memcpy(&src, sa, socklen);

    /*
     * RFC 8445, 6.1.1 and 7.3.1.1: a lite agent is always controlled; the
     * largest tie-breaker makes a check from another controlled agent a
     * 487 Role Conflict, never a role switch
     */

    control = false;
    tie = UINT64_MAX;

    rc = stun_usage_ice_conncheck_create_reply(&agent, &req, &resp, out,
                                               outlen, &src, socklen,
                                               &control, tie,
                                          STUN_USAGE_ICE_COMPATIBILITY_RFC5245);

    if (rc != STUN_USAGE_ICE_RETURN_SUCCESS || control
        || stun_message_get_class(&resp) != STUN_RESPONSE)
    {
        result->error = "STUN check refused, role conflict";

        /* an error response (487) is still due */
        return *outlen ? NGX_ABORT : NGX_DECLINED;
    }

    result->use_candidate = stun_usage_ice_conncheck_use_candidate(&req);
    result->priority = stun_usage_ice_conncheck_priority(&req);

    return NGX_OK;
}


/*
 * USERNAME is "<our ufrag>:<their ufrag>" (RFC 8445, 7.2.2); the password
 * is ours.  The registry copies the session's id out, for the caller to
 * find it again.
 */

static bool
ngx_webrtc_ice_validater(StunAgent *agent, StunMessage *msg,
    uint8_t *username, uint16_t username_len, uint8_t **password,
    size_t *password_len, void *user_data)
{
    ngx_webrtc_ice_validate_ctx_t  *vctx = user_data;

    u_char  *colon;
    size_t   local_len, remote_len;

    colon = ngx_strlchr(username, username + username_len, ':');
    if (colon == NULL) {
        return false;
    }

    local_len = colon - username;
    remote_len = username + username_len - colon - 1;

    if (ngx_webrtc_registry_ice_lookup(username, local_len, colon + 1,
                                       remote_len, vctx->pwd,
                                       vctx->result->id)
        != NGX_OK)
    {
        return false;
    }

    vctx->result->found = 1;

    *password = vctx->pwd;
    *password_len = NGX_WEBRTC_PWD_LEN;

    return true;
}
