
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "webrtc_load.h"


/*
 * Offers are Chromium's own (t/sdp/), with this peer's ICE credentials,
 * certificate fingerprint, host candidate and SSRCs substituted for the
 * $-placeholders; answers are parsed with the module's SDP codec.
 */


static void wl_sdp_uuid(char *buf);
static void wl_sdp_token(char *buf, size_t len);
static int wl_sdp_media_pt(ngx_webrtc_sdp_media_t *m, uint8_t *pt,
    uint8_t *codec);


/* the offer of a viewer: t/sdp/chromium-play.sdp */

static const char  wl_sdp_play[] =
    "v=0\r\n"
    "o=- $o 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio $c UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:$k 1 udp 2122260223 127.0.0.1 $c typ host generation 0"
    " network-id 1\r\n"
    "a=ice-ufrag:$u\r\n"
    "a=ice-pwd:$p\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 $f\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2"
    " http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3"
    " http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extension"
    "s-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 35 36 37 38 102 103"
    " 104 107 108 109 114 115 116 117 39 40 41 42 43 44 45 46 47 48 118"
    " 119 120 49\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:$u\r\n"
    "a=ice-pwd:$p\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 $f\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2"
    " http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3"
    " http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extension"
    "s-01\r\n"
    "a=extmap:5"
    " http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6"
    " http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7"
    " http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8"
    " http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n"
    "a=rtcp-fb:100 goog-remb\r\n"
    "a=rtcp-fb:100 transport-cc\r\n"
    "a=rtcp-fb:100 ccm fir\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=rtcp-fb:100 nack pli\r\n"
    "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:35 VP9/90000\r\n"
    "a=rtcp-fb:35 goog-remb\r\n"
    "a=rtcp-fb:35 transport-cc\r\n"
    "a=rtcp-fb:35 ccm fir\r\n"
    "a=rtcp-fb:35 nack\r\n"
    "a=rtcp-fb:35 nack pli\r\n"
    "a=fmtp:35 profile-id=1\r\n"
    "a=rtpmap:36 rtx/90000\r\n"
    "a=fmtp:36 apt=35\r\n"
    "a=rtpmap:37 VP9/90000\r\n"
    "a=rtcp-fb:37 goog-remb\r\n"
    "a=rtcp-fb:37 transport-cc\r\n"
    "a=rtcp-fb:37 ccm fir\r\n"
    "a=rtcp-fb:37 nack\r\n"
    "a=rtcp-fb:37 nack pli\r\n"
    "a=fmtp:37 profile-id=3\r\n"
    "a=rtpmap:38 rtx/90000\r\n"
    "a=fmtp:38 apt=37\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102"
    " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001"
    "f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=rtcp-fb:104 goog-remb\r\n"
    "a=rtcp-fb:104 transport-cc\r\n"
    "a=rtcp-fb:104 ccm fir\r\n"
    "a=rtcp-fb:104 nack\r\n"
    "a=rtcp-fb:104 nack pli\r\n"
    "a=fmtp:104"
    " level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001"
    "f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=104\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=rtcp-fb:108 goog-remb\r\n"
    "a=rtcp-fb:108 transport-cc\r\n"
    "a=rtcp-fb:108 ccm fir\r\n"
    "a=rtcp-fb:108 nack\r\n"
    "a=rtcp-fb:108 nack pli\r\n"
    "a=fmtp:108"
    " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01"
    "f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=rtpmap:114 H264/90000\r\n"
    "a=rtcp-fb:114 goog-remb\r\n"
    "a=rtcp-fb:114 transport-cc\r\n"
    "a=rtcp-fb:114 ccm fir\r\n"
    "a=rtcp-fb:114 nack\r\n"
    "a=rtcp-fb:114 nack pli\r\n"
    "a=fmtp:114"
    " level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01"
    "f\r\n"
    "a=rtpmap:115 rtx/90000\r\n"
    "a=fmtp:115 apt=114\r\n"
    "a=rtpmap:116 H264/90000\r\n"
    "a=rtcp-fb:116 goog-remb\r\n"
    "a=rtcp-fb:116 transport-cc\r\n"
    "a=rtcp-fb:116 ccm fir\r\n"
    "a=rtcp-fb:116 nack\r\n"
    "a=rtcp-fb:116 nack pli\r\n"
    "a=fmtp:116"
    " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001"
    "f\r\n"
    "a=rtpmap:117 rtx/90000\r\n"
    "a=fmtp:117 apt=116\r\n"
    "a=rtpmap:39 H264/90000\r\n"
    "a=rtcp-fb:39 goog-remb\r\n"
    "a=rtcp-fb:39 transport-cc\r\n"
    "a=rtcp-fb:39 ccm fir\r\n"
    "a=rtcp-fb:39 nack\r\n"
    "a=rtcp-fb:39 nack pli\r\n"
    "a=fmtp:39"
    " level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001"
    "f\r\n"
    "a=rtpmap:40 rtx/90000\r\n"
    "a=fmtp:40 apt=39\r\n"
    "a=rtpmap:41 H264/90000\r\n"
    "a=rtcp-fb:41 goog-remb\r\n"
    "a=rtcp-fb:41 transport-cc\r\n"
    "a=rtcp-fb:41 ccm fir\r\n"
    "a=rtcp-fb:41 nack\r\n"
    "a=rtcp-fb:41 nack pli\r\n"
    "a=fmtp:41"
    " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001"
    "f\r\n"
    "a=rtpmap:42 rtx/90000\r\n"
    "a=fmtp:42 apt=41\r\n"
    "a=rtpmap:43 H264/90000\r\n"
    "a=rtcp-fb:43 goog-remb\r\n"
    "a=rtcp-fb:43 transport-cc\r\n"
    "a=rtcp-fb:43 ccm fir\r\n"
    "a=rtcp-fb:43 nack\r\n"
    "a=rtcp-fb:43 nack pli\r\n"
    "a=fmtp:43"
    " level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=f4001"
    "f\r\n"
    "a=rtpmap:44 rtx/90000\r\n"
    "a=fmtp:44 apt=43\r\n"
    "a=rtpmap:45 AV1/90000\r\n"
    "a=rtcp-fb:45 goog-remb\r\n"
    "a=rtcp-fb:45 transport-cc\r\n"
    "a=rtcp-fb:45 ccm fir\r\n"
    "a=rtcp-fb:45 nack\r\n"
    "a=rtcp-fb:45 nack pli\r\n"
    "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\n"
    "a=fmtp:46 apt=45\r\n"
    "a=rtpmap:47 AV1/90000\r\n"
    "a=rtcp-fb:47 goog-remb\r\n"
    "a=rtcp-fb:47 transport-cc\r\n"
    "a=rtcp-fb:47 ccm fir\r\n"
    "a=rtcp-fb:47 nack\r\n"
    "a=rtcp-fb:47 nack pli\r\n"
    "a=fmtp:47 level-idx=5;profile=1;tier=0\r\n"
    "a=rtpmap:48 rtx/90000\r\n"
    "a=fmtp:48 apt=47\r\n"
    "a=rtpmap:118 red/90000\r\n"
    "a=rtpmap:119 rtx/90000\r\n"
    "a=fmtp:119 apt=118\r\n"
    "a=rtpmap:120 ulpfec/90000\r\n"
    "a=rtpmap:49 flexfec-03/90000\r\n"
    "a=rtcp-fb:49 goog-remb\r\n"
    "a=rtcp-fb:49 transport-cc\r\n"
    "a=fmtp:49 repair-window=10000000\r\n"
    ;


/* the offer of a publisher: t/sdp/chromium-publish-vp8.sdp */

static const char  wl_sdp_publish[] =
    "v=0\r\n"
    "o=- $o 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS $m\r\n"
    "m=audio $c UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:$k 1 udp 2122260223 127.0.0.1 $c typ host generation 0"
    " network-id 1\r\n"
    "a=ice-ufrag:$u\r\n"
    "a=ice-pwd:$p\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 $f\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2"
    " http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3"
    " http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extension"
    "s-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\n"
    "a=msid:$m $t\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:$a cname:$n\r\n"
    "a=ssrc:$a msid:$m $t\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116"
    " 117 39 40 45 46 98 99 100 101 118 119 120\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:$u\r\n"
    "a=ice-pwd:$p\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 $f\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2"
    " http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3"
    " http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extension"
    "s-01\r\n"
    "a=extmap:5"
    " http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6"
    " http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7"
    " http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8"
    " http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=sendonly\r\n"
    "a=msid:$m $T\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102"
    " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001"
    "f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=rtcp-fb:104 goog-remb\r\n"
    "a=rtcp-fb:104 transport-cc\r\n"
    "a=rtcp-fb:104 ccm fir\r\n"
    "a=rtcp-fb:104 nack\r\n"
    "a=rtcp-fb:104 nack pli\r\n"
    "a=fmtp:104"
    " level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001"
    "f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=104\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=rtcp-fb:108 goog-remb\r\n"
    "a=rtcp-fb:108 transport-cc\r\n"
    "a=rtcp-fb:108 ccm fir\r\n"
    "a=rtcp-fb:108 nack\r\n"
    "a=rtcp-fb:108 nack pli\r\n"
    "a=fmtp:108"
    " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01"
    "f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=rtpmap:114 H264/90000\r\n"
    "a=rtcp-fb:114 goog-remb\r\n"
    "a=rtcp-fb:114 transport-cc\r\n"
    "a=rtcp-fb:114 ccm fir\r\n"
    "a=rtcp-fb:114 nack\r\n"
    "a=rtcp-fb:114 nack pli\r\n"
    "a=fmtp:114"
    " level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01"
    "f\r\n"
    "a=rtpmap:115 rtx/90000\r\n"
    "a=fmtp:115 apt=114\r\n"
    "a=rtpmap:116 H264/90000\r\n"
    "a=rtcp-fb:116 goog-remb\r\n"
    "a=rtcp-fb:116 transport-cc\r\n"
    "a=rtcp-fb:116 ccm fir\r\n"
    "a=rtcp-fb:116 nack\r\n"
    "a=rtcp-fb:116 nack pli\r\n"
    "a=fmtp:116"
    " level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001"
    "f\r\n"
    "a=rtpmap:117 rtx/90000\r\n"
    "a=fmtp:117 apt=116\r\n"
    "a=rtpmap:39 H264/90000\r\n"
    "a=rtcp-fb:39 goog-remb\r\n"
    "a=rtcp-fb:39 transport-cc\r\n"
    "a=rtcp-fb:39 ccm fir\r\n"
    "a=rtcp-fb:39 nack\r\n"
    "a=rtcp-fb:39 nack pli\r\n"
    "a=fmtp:39"
    " level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001"
    "f\r\n"
    "a=rtpmap:40 rtx/90000\r\n"
    "a=fmtp:40 apt=39\r\n"
    "a=rtpmap:45 AV1/90000\r\n"
    "a=rtcp-fb:45 goog-remb\r\n"
    "a=rtcp-fb:45 transport-cc\r\n"
    "a=rtcp-fb:45 ccm fir\r\n"
    "a=rtcp-fb:45 nack\r\n"
    "a=rtcp-fb:45 nack pli\r\n"
    "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\n"
    "a=fmtp:46 apt=45\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n"
    "a=rtcp-fb:100 goog-remb\r\n"
    "a=rtcp-fb:100 transport-cc\r\n"
    "a=rtcp-fb:100 ccm fir\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=rtcp-fb:100 nack pli\r\n"
    "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:118 red/90000\r\n"
    "a=rtpmap:119 rtx/90000\r\n"
    "a=fmtp:119 apt=118\r\n"
    "a=rtpmap:120 ulpfec/90000\r\n"
    "a=ssrc-group:FID $v $r\r\n"
    "a=ssrc:$v cname:$n\r\n"
    "a=ssrc:$v msid:$m $T\r\n"
    "a=ssrc:$r cname:$n\r\n"
    "a=ssrc:$r msid:$m $T\r\n"
    ;


static ngx_webrtc_sdp_t  wl_sdp;


/* the offer in buf; 0 if it does not fit */

size_t
wl_sdp_offer(wl_peer_t *p, u_char *buf, size_t size)
{
    char         v[64], msid[40], track_a[40], track_v[40], cname[17];
    size_t       n;
    u_char      *out, *end;
    const char  *t, *s;

    wl_sdp_uuid(msid);
    wl_sdp_uuid(track_a);
    wl_sdp_uuid(track_v);
    wl_sdp_token(cname, 16);

    t = (p->role == WL_ROLE_PUBLISHER) ? wl_sdp_publish : wl_sdp_play;

    out = buf;
    end = buf + size;

    for ( /* void */ ; *t; t++) {

        if (*t != '$') {
            if (out == end) {
                return 0;
            }

            *out++ = *t;
            continue;
        }

        s = v;

        switch (*++t) {

        case 'o':
            snprintf(v, sizeof(v), "%llu",
                     (unsigned long long) (((uint64_t) wl_random32() << 31)
                                           ^ wl_random32()));
            break;

        case 'c':
            snprintf(v, sizeof(v), "%u", (unsigned) p->local_port);
            break;

        case 'k':
            snprintf(v, sizeof(v), "%u", (unsigned) wl_random32());
            break;

        case 'u':
            s = p->ufrag;
            break;

        case 'p':
            s = p->pwd;
            break;

        case 'f':
            s = wl_fingerprint;
            break;

        case 'm':
            s = msid;
            break;

        case 't':
            s = track_a;
            break;

        case 'T':
            s = track_v;
            break;

        case 'n':
            s = cname;
            break;

        case 'a':
            snprintf(v, sizeof(v), "%u", (unsigned) p->pub->audio_ssrc);
            break;

        case 'v':
            snprintf(v, sizeof(v), "%u", (unsigned) p->pub->video_ssrc);
            break;

        case 'r':
            snprintf(v, sizeof(v), "%u", (unsigned) p->pub->rtx_ssrc);
            break;

        default:
            return 0;
        }

        n = strlen(s);

        if ((size_t) (end - out) < n) {
            return 0;
        }

        memcpy(out, s, n);
        out += n;
    }

    return out - buf;
}


/*
 * Takes what the media plane needs from the answer: ICE credentials,
 * the sha-256 fingerprint, a loopback host candidate and the payload
 * types.  NULL, or why the answer is unusable.
 */

const char *
wl_sdp_answer(wl_peer_t *p, const u_char *body, size_t len)
{
    char                         addr[64];
    unsigned                     i, j, audio, video;
    uint8_t                      codec;
    ngx_webrtc_sdp_t            *sdp;
    ngx_webrtc_sdp_media_t      *m;
    ngx_webrtc_sdp_transport_t  *t;
    ngx_webrtc_sdp_candidate_t  *c;
    struct sockaddr_in          *sin;
    struct sockaddr_in6         *sin6;

    sdp = &wl_sdp;

    if (ngx_webrtc_sdp_parse(sdp, body, len, 0) != NGX_WEBRTC_SDP_OK) {
        return sdp->error ? sdp->error : "malformed answer";
    }

    if (sdp->nmedia == 0) {
        return "answer without media";
    }

    /* BUNDLE: the first accepted m= section carries the transport */

    t = NULL;

    for (i = 0; i < sdp->nmedia; i++) {
        m = &sdp->media[i];

        if (m->port == 0) {
            continue;
        }

        t = m->transport.ufrag.len ? &m->transport : &sdp->transport;
        break;
    }

    if (t == NULL || t->ufrag.len == 0 || t->pwd.len == 0
        || t->ufrag.len > NGX_WEBRTC_SDP_ICE_MAX
        || t->pwd.len > NGX_WEBRTC_SDP_ICE_MAX)
    {
        return "no ICE credentials in the answer";
    }

    memcpy(p->remote_ufrag, t->ufrag.data, t->ufrag.len);
    p->remote_ufrag[t->ufrag.len] = '\0';
    memcpy(p->remote_pwd, t->pwd.data, t->pwd.len);
    p->remote_pwd[t->pwd.len] = '\0';

    if (t->nfingerprints == 0 && t != &sdp->transport) {
        t = &sdp->transport;
    }

    for (j = 0; j < t->nfingerprints; j++) {
        if (t->fingerprints[j].hash == NGX_WEBRTC_HASH_SHA256) {
            break;
        }
    }

    if (j == t->nfingerprints) {
        return "no sha-256 a=fingerprint in the answer";
    }

    memcpy(p->remote_fp, t->fingerprints[j].value, 32);

    /* a host candidate on loopback, the first one the server prefers */

    p->remote_len = 0;

    for (i = 0; i < sdp->nmedia && p->remote_len == 0; i++) {
        m = &sdp->media[i];

        for (j = 0; j < m->ncandidates; j++) {
            c = &m->candidates[j];

            /* RFC 6544, 4.5: a TCP peer takes the passive candidate */

            if (c->component != 1 || c->transport.len != 3
                || strncasecmp((char *) c->transport.data,
                               p->tcp ? "tcp" : "udp", 3) != 0
                || c->address.len >= sizeof(addr))
            {
                continue;
            }

            memcpy(addr, c->address.data, c->address.len);
            addr[c->address.len] = '\0';

            memset(&p->remote, 0, sizeof(p->remote));
            sin = (struct sockaddr_in *) &p->remote;
            sin6 = (struct sockaddr_in6 *) &p->remote;

            if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
                sin->sin_family = AF_INET;
                sin->sin_port = htons(c->port);

                if (wl_loopback((struct sockaddr *) sin)) {
                    p->remote_len = sizeof(struct sockaddr_in);
                    break;
                }

            } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = htons(c->port);

                if (wl_loopback((struct sockaddr *) sin6)) {
                    p->remote_len = sizeof(struct sockaddr_in6);
                    break;
                }
            }
        }
    }

    if (p->remote_len == 0) {
        return p->tcp ? "no loopback TCP candidate in the answer"
                      : "no loopback UDP candidate in the answer";
    }

    audio = 0;
    video = 0;

    for (i = 0; i < sdp->nmedia; i++) {
        m = &sdp->media[i];

        if (m->port == 0) {
            continue;
        }

        if (m->kind == NGX_WEBRTC_MEDIA_AUDIO && !audio) {
            audio = wl_sdp_media_pt(m, &p->audio_pt, &codec);

        } else if (m->kind == NGX_WEBRTC_MEDIA_VIDEO && !video) {
            video = wl_sdp_media_pt(m, &p->video_pt, &p->video_codec);
        }
    }

    if (!audio && !video) {
        return "the answer accepts no audio or video";
    }

    if (p->role == WL_ROLE_PUBLISHER
        && (!video || p->video_codec != NGX_WEBRTC_CODEC_VP8))
    {
        /* the synthetic stream is VP8 */
        return "the answer did not choose VP8 video";
    }

    if (p->role == WL_ROLE_PUBLISHER && !audio) {
        p->audio_pt = 0xff;
    }

    return NULL;
}


/* the first media format of an m= section, not rtx, red or fec */

static int
wl_sdp_media_pt(ngx_webrtc_sdp_media_t *m, uint8_t *pt, uint8_t *codec)
{
    unsigned                  i;
    ngx_webrtc_sdp_format_t  *f;

    for (i = 0; i < m->nformats; i++) {
        f = &m->formats[i];

        switch (f->codec) {
        case NGX_WEBRTC_CODEC_UNKNOWN:
        case NGX_WEBRTC_CODEC_RTX:
        case NGX_WEBRTC_CODEC_RED:
        case NGX_WEBRTC_CODEC_ULPFEC:
        case NGX_WEBRTC_CODEC_CN:
        case NGX_WEBRTC_CODEC_TELEPHONE_EVENT:
            continue;

        default:
            *pt = f->pt;
            *codec = f->codec;
            return 1;
        }
    }

    return 0;
}


static void
wl_sdp_uuid(char *buf)
{
    u_char  r[16];

    wl_random_fill(r, sizeof(r));

    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;

    snprintf(buf, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
             r[10], r[11], r[12], r[13], r[14], r[15]);
}


/* RFC 8839, 5.4: ice-char = ALPHA / DIGIT / "+" / "/" */

void
wl_sdp_ice_chars(char *buf, size_t len)
{
    size_t   i;
    u_char   r[64];

    static const char  chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    wl_random_fill(r, len);

    for (i = 0; i < len; i++) {
        buf[i] = chars[r[i] & 63];
    }

    buf[len] = '\0';
}


static void
wl_sdp_token(char *buf, size_t len)
{
    wl_sdp_ice_chars(buf, len);
}
