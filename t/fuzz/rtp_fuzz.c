
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * RTP and RTCP as the media path sees them after SRTP: ngx_webrtc_is_rtcp()
 * demultiplexes, ngx_webrtc_rtp_parse() bounds the header, and
 * ngx_webrtc_rtp_rewrite() works on a copy of exactly the packet's length
 * (as a viewer's copy is made); ngx_webrtc_rtp_ext() finds extension
 * elements inside the block, ngx_webrtc_h264_sps() reads the payload;
 * ngx_webrtc_rtcp_next() walks a compound packet and must stay inside it
 * and end.
 */


#include "fuzz.h"
#include "ngx_webrtc_rtp.h"


/*
 * publisher id -> viewer id, as a viewer's map is built: odd ids are
 * renumbered, even ones were not negotiated and become padding
 */
static const uint8_t  ext_map[16] = {
    0, 3, 0, 5, 0, 7, 0, 9, 0, 11, 0, 13, 0, 1, 0, 0
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                  *copy;
    size_t                   n;
    ssize_t                  len;
    uint8_t                  id;
    const u_char            *value;
    ngx_webrtc_rtp_t         rtp;
    ngx_webrtc_rtcp_t        pkt;
    ngx_webrtc_rtcp_iter_t   it;

    if (ngx_webrtc_is_rtcp(data, size)) {

        n = 0;

        ngx_webrtc_rtcp_iter_init(&it, data, size);

        while (ngx_webrtc_rtcp_next(&it, &pkt)) {
            fuzz_assert(pkt.len >= 4, "an RTCP packet under 4 bytes");
            fuzz_assert(pkt.data >= data
                        && pkt.data + pkt.len <= data + size,
                        "an RTCP packet outside the compound packet");
            fuzz_assert(++n <= size / 4, "the RTCP walk does not end");
        }

        return 0;
    }

    if (ngx_webrtc_rtp_parse(data, size, &rtp) != 0) {
        return 0;
    }

    fuzz_assert(rtp.header_len >= NGX_WEBRTC_RTP_MIN
                && rtp.header_len + rtp.payload_len <= size,
                "an RTP header or payload past the packet");
    fuzz_assert(rtp.ext_offset == 0
                || (rtp.ext_offset >= NGX_WEBRTC_RTP_MIN
                    && rtp.ext_offset + rtp.ext_len <= rtp.header_len),
                "an RTP header extension past the header");

    /* each one-byte extension element, and an SPS in the payload */

    for (id = 1; id <= 14; id++) {
        len = ngx_webrtc_rtp_ext(data, &rtp, id, &value);

        fuzz_assert(len < 0
                    || (len >= 1 && len <= 16
                        && value >= data + rtp.ext_offset
                        && value + len <= data + rtp.ext_offset + rtp.ext_len),
                    "an extension element outside the extension block");
    }

    (void) ngx_webrtc_h264_sps(data + rtp.header_len, rtp.payload_len);

    /* a copy of exactly the packet, so ASan sees any write past it */

    copy = malloc(size);
    fuzz_assert(copy != NULL, "malloc");

    memcpy(copy, data, size);
    ngx_webrtc_rtp_rewrite(copy, &rtp, 96, 1, 2, 3, ext_map);

    fuzz_assert(memcmp(copy + rtp.header_len, data + rtp.header_len,
                       size - rtp.header_len) == 0,
                "the rewrite changed the payload");

    memcpy(copy, data, size);
    ngx_webrtc_rtp_rewrite(copy, &rtp, 96, 1, 2, 3, NULL);

    free(copy);

    return 0;
}
