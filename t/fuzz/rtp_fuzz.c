
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/*
 * RTP and RTCP as the media path sees them after SRTP: ngx_webrtc_is_rtcp()
 * demultiplexes, ngx_webrtc_rtp_parse() bounds the header, and
 * ngx_webrtc_rtp_rewrite() works on a copy of exactly the packet's length
 * (as a viewer's copy is made); ngx_webrtc_rtcp_next() walks a compound
 * packet and must stay inside it and end.
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
