
/*
 * Copyright (C) nginx-webrtc-module authors
 */


/* unit tests of the pure RTP/RTCP codec, src/ngx_webrtc_rtp.c */


#include "unit.h"
#include "ngx_webrtc_rtp.h"


static size_t
make_rtp(u_char *p, int ext, int pad)
{
    size_t  n;

    p[0] = 0x80 | (ext ? 0x10 : 0) | (pad ? 0x20 : 0);
    p[1] = 0x80 | 96;                       /* marker, pt 96 */
    ngx_webrtc_put16(p + 2, 1000);
    ngx_webrtc_put32(p + 4, 90000);
    ngx_webrtc_put32(p + 8, 0x11223344);
    n = 12;

    if (ext) {
        /* one-byte header: id 2 len 3 (abs-send-time), id 13 len 1, pad */
        p[n++] = 0xbe;
        p[n++] = 0xde;
        p[n++] = 0;
        p[n++] = 2;                         /* 2 words */
        p[n++] = 0x22;
        p[n++] = 0xaa;
        p[n++] = 0xbb;
        p[n++] = 0xcc;
        p[n++] = 0xd0;
        p[n++] = 0x01;
        p[n++] = 0;
        p[n++] = 0;
    }

    memcpy(p + n, "payload!", 8);
    n += 8;

    if (pad) {
        p[n++] = 0;
        p[n++] = 0;
        p[n++] = 3;
    }

    return n;
}


static void
test_parse(void)
{
    size_t            n;
    ngx_webrtc_rtp_t  rtp;
    u_char            p[64];

    n = make_rtp(p, 0, 0);
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) == 0, "plain packet parses");
    is_int(rtp.pt, 96, "pt");
    is_int(rtp.marker, 1, "marker");
    is_int(rtp.seq, 1000, "seq");
    is_int(rtp.ts, 90000, "timestamp");
    is_int(rtp.ssrc, 0x11223344, "ssrc");
    is_int(rtp.header_len, 12, "header length");
    is_int(rtp.payload_len, 8, "payload length");
    is_int(rtp.ext_offset, 0, "no extension");

    n = make_rtp(p, 1, 1);
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) == 0, "extension and padding parse");
    is_int(rtp.header_len, 24, "header with extension");
    is_int(rtp.ext_offset, 16, "one-byte extension offset");
    is_int(rtp.ext_len, 8, "extension length");
    is_int(rtp.payload_len, 8, "payload without padding");

    ok(ngx_webrtc_rtp_parse(p, 11, &rtp) != 0, "short packet rejected");

    p[0] = 0x40;
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) != 0, "version 1 rejected");

    n = make_rtp(p, 0, 0);
    p[0] |= 0x0f;                           /* 15 CSRCs: 72 bytes */
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) != 0, "CSRCs past the end rejected");

    n = make_rtp(p, 1, 0);
    p[15] = 40;                             /* extension of 160 bytes */
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) != 0,
       "extension past the end rejected");

    n = make_rtp(p, 0, 1);
    p[n - 1] = 200;
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) != 0, "padding past the end rejected");

    p[n - 1] = 0;
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) != 0, "zero padding count rejected");

    n = make_rtp(p, 0, 1);
    p[n - 1] = 8 + 3;
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) == 0 && rtp.payload_len == 0,
       "padding-only packet has no payload");
}


static void
test_rewrite(void)
{
    size_t            n;
    uint8_t           map[16];
    ngx_webrtc_rtp_t  rtp;
    u_char            p[64];

    n = make_rtp(p, 1, 0);
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) == 0, "parse before rewrite");

    memset(map, 0, sizeof(map));
    map[2] = 3;                              /* viewer uses id 3 */

    ngx_webrtc_rtp_rewrite(p, &rtp, 102, 7, 12345, 0xcafebabe, map);

    is_int(p[1], 0x80 | 102, "pt rewritten, marker kept");
    is_int(ngx_webrtc_get16(p + 2), 7, "seq rewritten");
    is_int(ngx_webrtc_get32(p + 4), 12345, "timestamp rewritten");
    is_int(ngx_webrtc_get32(p + 8), 0xcafebabe, "ssrc rewritten");
    is_int(p[16], 0x32, "extension id 2 mapped to 3, length kept");
    ok(p[17] == 0xaa && p[18] == 0xbb && p[19] == 0xcc,
       "extension data kept");
    ok(p[20] == 0 && p[21] == 0, "unnegotiated extension became padding");
    ok(memcmp(p + 24, "payload!", 8) == 0, "payload untouched");

    ok(ngx_webrtc_rtp_parse(p, n, &rtp) == 0 && rtp.seq == 7,
       "rewritten packet parses");

    /* an element whose length runs past the extension block */
    n = make_rtp(p, 1, 0);
    ngx_webrtc_rtp_parse(p, n, &rtp);
    p[20] = 0xdf;                            /* id 13, 16 bytes */
    map[13] = 5;
    ngx_webrtc_rtp_rewrite(p, &rtp, 96, 1, 1, 1, map);
    is_int(p[20], 0xdf, "truncated element left alone");
}


static void
test_rtcp(void)
{
    size_t                  n, m;
    ngx_webrtc_rtcp_t       pkt;
    ngx_webrtc_rtcp_iter_t  it;
    u_char                  buf[256], fci[4];

    n = ngx_webrtc_rtcp_sr(buf, 0x01020304, 0x1122334455667788ULL, 999,
                           10, 2000);
    is_int(n, 28, "SR length");
    ok(ngx_webrtc_is_rtcp(buf, n), "SR is RTCP");
    is_int(ngx_webrtc_get32(buf + 8), 0x11223344, "SR NTP high");
    is_int(ngx_webrtc_get32(buf + 16), 999, "SR RTP timestamp");

    m = ngx_webrtc_rtcp_pli(buf + n, 1, 0x55667788);
    is_int(m, 12, "PLI length");
    is_int(buf[n] & 0x1f, NGX_WEBRTC_RTCP_FMT_PLI, "PLI FMT");
    n += m;

    m = ngx_webrtc_rtcp_remb(buf + n, 1, 4000000, 0x55667788);
    is_int(m, 24, "REMB length");
    ok(memcmp(buf + n + 12, "REMB", 4) == 0, "REMB identifier");
    {
        uint32_t  exp, mant;

        exp = buf[n + 17] >> 2;
        mant = ((uint32_t) (buf[n + 17] & 3) << 16)
               | ngx_webrtc_get16(buf + n + 18);
        ok((uint64_t) mant << exp <= 4000000
           && (uint64_t) (mant + 1) << exp > 4000000,
           "REMB bitrate encodes 4 Mbps (%u << %u)", mant, exp);
    }
    n += m;

    ngx_webrtc_put16(fci, 500);
    ngx_webrtc_put16(fci + 2, 0x0003);
    m = ngx_webrtc_rtcp_nack(buf + n, 1, 2, fci, 4);
    is_int(m, 16, "NACK length");
    n += m;

    ngx_webrtc_rtcp_iter_init(&it, buf, n);

    ok(ngx_webrtc_rtcp_next(&it, &pkt) && pkt.type == NGX_WEBRTC_RTCP_SR
       && pkt.len == 28, "compound: SR");
    ok(ngx_webrtc_rtcp_next(&it, &pkt) && pkt.type == NGX_WEBRTC_RTCP_PSFB
       && pkt.fmt == 1, "compound: PLI");
    ok(ngx_webrtc_rtcp_next(&it, &pkt) && pkt.type == NGX_WEBRTC_RTCP_PSFB
       && pkt.fmt == 15, "compound: REMB");
    ok(ngx_webrtc_rtcp_next(&it, &pkt) && pkt.type == NGX_WEBRTC_RTCP_RTPFB
       && ngx_webrtc_get16(pkt.data + 12) == 500, "compound: NACK");
    ok(!ngx_webrtc_rtcp_next(&it, &pkt), "compound: end");

    /* a length past the end stops the walk */
    ngx_webrtc_put16(buf + 2, 100);
    ngx_webrtc_rtcp_iter_init(&it, buf, n);
    ok(!ngx_webrtc_rtcp_next(&it, &pkt), "overlong RTCP length rejected");

    ngx_webrtc_rtcp_iter_init(&it, buf, 3);
    ok(!ngx_webrtc_rtcp_next(&it, &pkt), "3-byte RTCP rejected");

    buf[0] = 0x80;
    buf[1] = 96;
    ok(!ngx_webrtc_is_rtcp(buf, 12), "RTP pt 96 is not RTCP");
    buf[1] = 0x80 | 72;
    ok(ngx_webrtc_is_rtcp(buf, 12), "second byte 200 is RTCP");
}


static void
test_ext(void)
{
    size_t            n;
    ssize_t           len;
    const u_char     *v;
    ngx_webrtc_rtp_t  rtp;
    uint8_t           map[16];
    u_char            p[64];

    n = make_rtp(p, 1, 0);
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) == 0, "packet with extensions");

    len = ngx_webrtc_rtp_ext(p, &rtp, 2, &v);
    is_int(len, 3, "extension 2: 3 bytes");
    ok(len == 3 && v == p + 17 && v[0] == 0xaa, "extension 2 value");

    len = ngx_webrtc_rtp_ext(p, &rtp, 13, &v);
    is_int(len, 1, "extension 13 after another one");
    ok(len == 1 && v[0] == 0x01, "extension 13 value");

    is_int(ngx_webrtc_rtp_ext(p, &rtp, 5, &v), -1, "absent id");
    is_int(ngx_webrtc_rtp_ext(p, &rtp, 0, &v), -1, "id 0 is padding");
    is_int(ngx_webrtc_rtp_ext(p, &rtp, 15, &v), -1, "id 15 is reserved");

    /* an element whose length runs past the block is not returned */
    p[20] = 0xd3;
    is_int(ngx_webrtc_rtp_ext(p, &rtp, 13, &v), -1, "truncated element");

    /* an rtp-stream-id "0" (RFC 8852) between padding bytes */
    p[16] = 0;
    p[17] = 0x30;
    p[18] = '0';
    p[19] = 0;
    len = ngx_webrtc_rtp_ext(p, &rtp, 3, &v);
    ok(len == 1 && v[0] == '0', "rid \"0\" after padding");

    /*
     * a viewer's map without the publisher's rid id 3 (viewers never
     * negotiate rtp-stream-id): the rid becomes padding, abs-send-time
     * (id 2 -> 5) stays
     */

    n = make_rtp(p, 1, 0);
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) == 0, "packet with extensions");
    p[20] = 0x30;
    p[21] = '0';
    memset(map, 0, sizeof(map));
    map[2] = 5;
    ngx_webrtc_rtp_rewrite(p, &rtp, 96, 1, 2, 3, map);
    is_int(ngx_webrtc_rtp_ext(p, &rtp, 3, &v), -1, "rid gone for the viewer");
    ok(p[20] == 0 && p[21] == 0, "rid bytes are padding");
    len = ngx_webrtc_rtp_ext(p, &rtp, 5, &v);
    ok(len == 3 && v[0] == 0xaa, "abs-send-time renumbered, found");

    n = make_rtp(p, 0, 0);
    ok(ngx_webrtc_rtp_parse(p, n, &rtp) == 0, "packet without extensions");
    is_int(ngx_webrtc_rtp_ext(p, &rtp, 2, &v), -1, "nothing to find");
}


static void
test_h264_sps(void)
{
    /* x264's High profile SPS, level 3.1, as OBS sends it */
    static const u_char  sps[] = {
        0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01
    };
    static const u_char  pps[] = { 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0 };
    static const u_char  idr[] = { 0x65, 0x88, 0x84, 0x00, 0x33 };

    size_t  n;
    u_char  p[64];

    is_int(ngx_webrtc_h264_sps(sps, sizeof(sps)), 0x64001f,
           "single NAL unit SPS: 64001f");

    p[0] = 0x67;
    p[1] = 0x42;
    p[2] = 0xe0;
    p[3] = 0x1f;
    is_int(ngx_webrtc_h264_sps(p, 4), 0x42e01f, "the 3 bytes are enough");
    is_int(ngx_webrtc_h264_sps(p, 3), 0, "truncated SPS");
    is_int(ngx_webrtc_h264_sps(p, 1), 0, "a NAL header only");
    is_int(ngx_webrtc_h264_sps(p, 0), 0, "empty payload");

    p[1] = 0;
    is_int(ngx_webrtc_h264_sps(p, 4), 0, "profile_idc 0");

    is_int(ngx_webrtc_h264_sps(pps, sizeof(pps)), 0, "PPS: none");
    is_int(ngx_webrtc_h264_sps(idr, sizeof(idr)), 0, "IDR slice: none");

    /* STAP-A: SPS and PPS, as Chromium sends them before a key frame */

    n = 0;
    p[n++] = 0x78;
    ngx_webrtc_put16(p + n, sizeof(sps));
    n += 2;
    memcpy(p + n, sps, sizeof(sps));
    n += sizeof(sps);
    ngx_webrtc_put16(p + n, sizeof(pps));
    n += 2;
    memcpy(p + n, pps, sizeof(pps));
    n += sizeof(pps);

    is_int(ngx_webrtc_h264_sps(p, n), 0x64001f, "STAP-A with SPS and PPS");

    /* PPS first, then SPS */

    n = 0;
    p[n++] = 0x78;
    ngx_webrtc_put16(p + n, sizeof(pps));
    n += 2;
    memcpy(p + n, pps, sizeof(pps));
    n += sizeof(pps);
    ngx_webrtc_put16(p + n, sizeof(sps));
    n += 2;
    memcpy(p + n, sps, sizeof(sps));
    n += sizeof(sps);

    is_int(ngx_webrtc_h264_sps(p, n), 0x64001f, "STAP-A with PPS and SPS");
    is_int(ngx_webrtc_h264_sps(p, n - sizeof(sps) + 3), 0,
           "STAP-A whose SPS is cut");
    is_int(ngx_webrtc_h264_sps(p, 1 + 2 + sizeof(pps) + 1), 0,
           "STAP-A cut in a size");

    /* a unit size past the payload */
    ngx_webrtc_put16(p + 1, 200);
    is_int(ngx_webrtc_h264_sps(p, n), 0, "STAP-A unit size past the end");

    /* a 3-byte SPS unit */
    n = 0;
    p[n++] = 0x78;
    ngx_webrtc_put16(p + n, 3);
    n += 2;
    memcpy(p + n, sps, 3);
    n += 3;
    is_int(ngx_webrtc_h264_sps(p, n), 0, "STAP-A with a 3-byte SPS");

    /* STAP-A without an SPS */
    n = 0;
    p[n++] = 0x78;
    ngx_webrtc_put16(p + n, sizeof(pps));
    n += 2;
    memcpy(p + n, pps, sizeof(pps));
    n += sizeof(pps);
    is_int(ngx_webrtc_h264_sps(p, n), 0, "STAP-A with a PPS only");
    is_int(ngx_webrtc_h264_sps(p, 1), 0, "empty STAP-A");

    /* FU-A: the first fragment of an SPS, and a later one */

    p[0] = 0x7c;
    p[1] = 0x80 | 7;
    memcpy(p + 2, sps + 1, sizeof(sps) - 1);
    n = 2 + sizeof(sps) - 1;
    is_int(ngx_webrtc_h264_sps(p, n), 0x64001f, "FU-A start of an SPS");
    is_int(ngx_webrtc_h264_sps(p, 4), 0, "FU-A start cut");

    p[1] = 7;
    is_int(ngx_webrtc_h264_sps(p, n), 0, "FU-A middle fragment");

    p[1] = 0x80 | 5;
    is_int(ngx_webrtc_h264_sps(p, n), 0, "FU-A of an IDR slice");

    /* not H.264: a VP8 payload descriptor and key frame header */

    p[0] = 0x90;
    p[1] = 0x80;
    p[2] = 0x81;
    p[3] = 0x23;
    p[4] = 0x10;
    p[5] = 0x02;
    p[6] = 0x00;
    p[7] = 0x9d;
    p[8] = 0x01;
    p[9] = 0x2a;
    is_int(ngx_webrtc_h264_sps(p, 10), 0, "a VP8 payload");

    /* Opus TOC */
    p[0] = 0x78;
    p[1] = 0x00;
    is_int(ngx_webrtc_h264_sps(p, 2), 0, "a short Opus packet");
}


static void
test_fuzz(void)
{
    size_t                  n, i, k;
    uint32_t                seed;
    uint8_t                 map[16];
    ngx_webrtc_rtp_t        rtp;
    ngx_webrtc_rtcp_t       pkt;
    ngx_webrtc_rtcp_iter_t  it;
    u_char                  base[64], *p;

    seed = 12345;
    n = make_rtp(base, 1, 1);

    for (i = 0; i < sizeof(map); i++) {
        map[i] = (uint8_t) (i % 15);
    }

    for (i = 0; i < 50000; i++) {
        size_t  len;

        seed = seed * 1103515245 + 12345;
        len = (seed >> 8) % (n + 1);

        p = malloc(len ? len : 1);
        memcpy(p, base, len);

        for (k = 0; k < 3 && len; k++) {
            seed = seed * 1103515245 + 12345;
            p[(seed >> 8) % len] = (u_char) (seed >> 20);
        }

        if (ngx_webrtc_rtp_parse(p, len, &rtp) == 0) {
            const u_char  *v;

            (void) ngx_webrtc_rtp_ext(p, &rtp, (uint8_t) (k + 1), &v);
            ngx_webrtc_rtp_rewrite(p, &rtp, 1, 2, 3, 4, map);
        }

        (void) ngx_webrtc_h264_sps(p, len);

        ngx_webrtc_rtcp_iter_init(&it, p, len);
        while (ngx_webrtc_rtcp_next(&it, &pkt)) { /* void */ }

        free(p);
    }

    ok(1, "50000 mutated packets parsed and rewritten without a fault");
}


int
main(int argc, char **argv)
{
    unit_init(argc, argv);

    test_parse();
    test_rewrite();
    test_rtcp();
    test_ext();
    test_h264_sps();
    test_fuzz();

    return done();
}
