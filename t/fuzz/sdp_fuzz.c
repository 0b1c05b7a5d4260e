
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * An SDP offer as the WHIP and WHEP handlers take it: parsed, checked,
 * negotiated as a publisher's and as a viewer's (against the tracks of a
 * stream published by a Chromium-like offer), and answered into a buffer
 * of the handler's size.  An offer that negotiates must get an answer that
 * fits and parses back, and tracks within the limits of their arrays (the
 * handlers copy them into the zone, the relay indexes by their ids).  The
 * same input as a trickle ICE fragment (PATCH) must have credentials
 * within theirs.
 */


#include "fuzz.h"
#include "ngx_webrtc_sdp.h"
#include "sdp_answer.h"


#define ANSWER_SIZE  16384      /* NGX_HTTP_WEBRTC_ANSWER_SIZE */


static const char  stream_offer[] =
    "v=0\r\n"
    "o=- 1 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:wzdI\r\n"
    "a=ice-pwd:ghZnNFre9NBo2dvpI6YfmdjL\r\n"
    "a=fingerprint:sha-256 C6:AC:9B:D1:DD:49:2C:9D:6A:27:EA:26:72:82:AA:04:"
    "64:F7:83:10:48:24:B2:8A:4D:8D:DC:59:CC:9D:C0:70\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=ssrc:1918823544 cname:3AgX+s5A0H/xKQMU\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:wzdI\r\n"
    "a=ice-pwd:ghZnNFre9NBo2dvpI6YfmdjL\r\n"
    "a=fingerprint:sha-256 C6:AC:9B:D1:DD:49:2C:9D:6A:27:EA:26:72:82:AA:04:"
    "64:F7:83:10:48:24:B2:8A:4D:8D:DC:59:CC:9D:C0:70\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;"
    "profile-level-id=42e01f\r\n"
    "a=ssrc:3046467341 cname:3AgX+s5A0H/xKQMU\r\n";


/* big structures: static, not on the stack */
static ngx_webrtc_sdp_t          offer;
static ngx_webrtc_sdp_t          reply;
static ngx_webrtc_answer_t       answer;
static ngx_webrtc_track_t        stream[2];
static ngx_webrtc_codec_prefs_t  prefs;
static u_char                    out[ANSWER_SIZE];


static void answer_check(ngx_webrtc_answer_t *a, const char *what);
static void transport_check(ngx_webrtc_sdp_transport_t *t);


int LLVMFuzzerInitialize(int *argc, char ***argv);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    prefs.audio[prefs.naudio++] = NGX_WEBRTC_CODEC_OPUS;
    prefs.video[prefs.nvideo++] = NGX_WEBRTC_CODEC_H264;
    prefs.video[prefs.nvideo++] = NGX_WEBRTC_CODEC_VP8;
    prefs.video[prefs.nvideo++] = NGX_WEBRTC_CODEC_VP9;
    prefs.video[prefs.nvideo++] = NGX_WEBRTC_CODEC_AV1;

    answer_init(&answer);

    fuzz_assert(ngx_webrtc_sdp_parse(&offer, (const u_char *) stream_offer,
                                     sizeof(stream_offer) - 1, 0)
                == NGX_WEBRTC_SDP_OK
                && ngx_webrtc_sdp_check_offer(&offer) == NGX_WEBRTC_SDP_OK
                && ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL,
                                                    &answer)
                   == NGX_WEBRTC_SDP_OK,
                "the stream's offer does not negotiate");

    memcpy(stream, answer.tracks, sizeof(stream));

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ngx_webrtc_sdp_parse(&offer, data, size, 1) == NGX_WEBRTC_SDP_OK
        && ngx_webrtc_sdp_check_fragment(&offer) == NGX_WEBRTC_SDP_OK)
    {
        transport_check(&offer.ice);
    }

    if (ngx_webrtc_sdp_parse(&offer, data, size, 0) != NGX_WEBRTC_SDP_OK) {
        fuzz_assert(offer.error != NULL, "a parse error without a reason");
        return 0;
    }

    if (ngx_webrtc_sdp_check_offer(&offer) != NGX_WEBRTC_SDP_OK) {
        fuzz_assert(offer.error != NULL, "a check error without a reason");
        return 0;
    }

    transport_check(&offer.ice);

    /* as a publisher's, alone and with viewers waiting for the stream */

    answer_init(&answer);

    if (ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, NULL, &answer)
        == NGX_WEBRTC_SDP_OK)
    {
        answer_check(&answer, "publish");

    } else {
        fuzz_assert(answer.error != NULL, "a publish error without a reason");
    }

    answer_init(&answer);

    if (ngx_webrtc_sdp_negotiate_publish(&offer, &prefs, stream, &answer)
        == NGX_WEBRTC_SDP_OK)
    {
        answer_check(&answer, "publish, viewers waiting");
    }

    /* as a viewer's */

    answer_init(&answer);

    if (ngx_webrtc_sdp_negotiate_play(&offer, stream, &answer)
        == NGX_WEBRTC_SDP_OK)
    {
        answer.tracks[0].ssrc = 0x11111111;
        answer.tracks[1].ssrc = 0x22222222;
        answer_check(&answer, "play");

    } else {
        fuzz_assert(answer.error != NULL, "a play error without a reason");
    }

    return 0;
}


/* the ICE credentials and fingerprints the handlers copy */

static void
transport_check(ngx_webrtc_sdp_transport_t *t)
{
    fuzz_assert(t->ufrag.len <= NGX_WEBRTC_SDP_ICE_MAX
                && t->pwd.len <= NGX_WEBRTC_SDP_ICE_MAX,
                "ICE credentials past NGX_WEBRTC_SDP_ICE_MAX");
    fuzz_assert(t->nfingerprints <= NGX_WEBRTC_SDP_MAX_FINGERPRINTS,
                "too many fingerprints");
}


/*
 * The tracks stay within their arrays, and the answer fits the handler's
 * buffer and a browser could parse it.
 */

static void
answer_check(ngx_webrtc_answer_t *a, const char *what)
{
    size_t               len;
    unsigned             i, e;
    ngx_webrtc_track_t  *tr;

    for (i = 0; i < 2; i++) {
        tr = &a->tracks[i];

        if (tr->kind == 0) {
            continue;
        }

        fuzz_assert(tr->pt < 128, "a payload type over 127");
        fuzz_assert(tr->mid_len <= NGX_WEBRTC_SDP_MID_LEN,
                    "a mid past its array");
        fuzz_assert(tr->fmtp_len <= NGX_WEBRTC_SDP_FMTP_LEN,
                    "an fmtp past its array");

        for (e = 0; e < NGX_WEBRTC_EXT_N; e++) {
            fuzz_assert(tr->ext[e] < 15,
                        "a header extension id over 14 (one-byte form)");
        }
    }

    len = ngx_webrtc_sdp_write_answer(out, sizeof(out), &offer, a);

    if (len == 0 || len > sizeof(out)) {
        fprintf(stderr, "%s: the answer does not fit\n", what);
        abort();
    }

    if (ngx_webrtc_sdp_parse(&reply, out, len, 0) != NGX_WEBRTC_SDP_OK) {
        fprintf(stderr, "%s: the answer does not parse back: %s at line "
                "%u\n%.*s\n", what, reply.error, reply.error_line,
                (int) len, out);
        abort();
    }

    fuzz_assert(reply.nmedia == offer.nmedia,
                "the answer has not as many m= sections as the offer");
}
