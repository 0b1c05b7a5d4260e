
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <string.h>

#include "ngx_webrtc_srtp.h"


/* a call the compiler cannot drop, as it could a memset() of dead keys */
static void *(*const volatile ngx_webrtc_srtp_wipe)(void *, int, size_t) =
    memset;


/*
 * RFC 5764, 4.2: the material is client_write_key | server_write_key |
 * client_write_salt | server_write_salt.  The keys of our side of the
 * DTLS handshake (client or server) encrypt what we send, the other
 * side's decrypt what arrives.  Any SSRC is accepted both ways; what we
 * send may repeat a sequence number (retransmissions answering NACKs).
 */

srtp_err_status_t
ngx_webrtc_srtp_sessions(srtp_t *in, srtp_t *out, int gcm,
    const u_char *material, int client)
{
    size_t              klen, slen;
    const u_char       *ck, *sk, *cs, *ss;
    srtp_policy_t       pin, pout;
    srtp_err_status_t   err;
    u_char              in_key[32], out_key[32];

    klen = 16;
    slen = gcm ? 12 : 14;

    ck = material;
    sk = material + klen;
    cs = material + 2 * klen;
    ss = material + 2 * klen + slen;

    memcpy(in_key, client ? sk : ck, klen);
    memcpy(in_key + klen, client ? ss : cs, slen);
    memcpy(out_key, client ? ck : sk, klen);
    memcpy(out_key + klen, client ? cs : ss, slen);

    memset(&pin, 0, sizeof(srtp_policy_t));
    memset(&pout, 0, sizeof(srtp_policy_t));

    if (gcm) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pin.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pin.rtcp);

    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pin.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pin.rtcp);
    }

    pout.rtp = pin.rtp;
    pout.rtcp = pin.rtcp;

    pin.ssrc.type = ssrc_any_inbound;
    pin.key = in_key;
    pin.window_size = 1024;

    pout.ssrc.type = ssrc_any_outbound;
    pout.key = out_key;
    pout.window_size = 1024;
    pout.allow_repeat_tx = 1;

    *in = NULL;
    *out = NULL;

    err = srtp_create(in, &pin);

    if (err == srtp_err_status_ok) {
        err = srtp_create(out, &pout);

        if (err != srtp_err_status_ok) {
            srtp_dealloc(*in);
            *in = NULL;
            *out = NULL;
        }
    }

    (void) ngx_webrtc_srtp_wipe(in_key, 0, sizeof(in_key));
    (void) ngx_webrtc_srtp_wipe(out_key, 0, sizeof(out_key));

    return err;
}
