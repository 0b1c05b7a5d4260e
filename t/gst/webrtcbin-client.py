#!/usr/bin/python3

"""GStreamer webrtcbin as a WHIP publisher or a WHEP viewer, for t/190.

    webrtcbin-client.py publish|play URL [--codec VP8|H264|any]
        [--bundle-policy max-bundle|max-compat|balanced|none]
        [--seconds N] [--stop-file FILE] [--wait-publisher N]
        [--first-frame N] [--no-keyframe-requests] [--drop-first N]
        [--opus-no-channels] [--keepalive-conncheck] [--no-candidates]
        [--save-offer FILE] [--save-answer FILE] [--watch] [--ice-tcp]

publish: videotestsrc and audiotestsrc, encoded with vp8enc or x264enc
(constrained baseline, no B-frames, packetization-mode 1) and opusenc,
sent on sendonly transceivers.  play: recvonly video and audio
transceivers; the video is decoded and its frames counted, the audio
decoded and its buffers counted.

The offer is sent once ICE gathering is complete (or at once with
--no-candidates) as application/sdp over HTTPS (the certificate is not
verified, no proxy is used), again every 250 ms while the answer is 404
for --wait-publisher seconds (a viewer started with its publisher); a 201
answer is applied, media runs for --seconds (a publisher: from the
answer, or until --stop-file exists; a viewer: from its first decoded
video frame, which it waits --first-frame seconds for), then the session
is deleted.  A viewer's depayloaders and decoders ask for a key frame
(RTCP PLI) when they miss one (not with --no-keyframe-requests, webrtcbin
applications' default); --drop-first drops the video packets of its first
N seconds, key frame included.  The last line on stdout is
"RESULT {json}".  The libnice agent gathers on 127.0.0.1 only, UDP only,
without UPnP (no SSDP multicast leaves the machine).  libnice's defaults
send Binding Indications, not requests, once connected: a server that
enforces RFC 7675 consent ends the session after its consent timeout;
--keepalive-conncheck makes the agent send Binding Requests instead.
--ice-tcp (t/406) lets the agent gather TCP candidates too (libnice's
"ice-tcp": active, passive and simultaneous-open on 127.0.0.1, RFC 6544)
and adds "selected_pairs" to the result: the selected candidate pair of
each ICE transport from webrtcbin's get-stats at the end ([{"local":
{"protocol", "port", "candidate-type", ...}, "remote": {...}}], the
first also as "selected_pair"), or "selected_pair_error" if get-stats
has none.
Every wait is bounded: the whole run ends after --seconds plus
--wait-publisher plus --first-frame plus 25 s at most.

--watch (t/313, live sessions across reloads and kills) adds to the
result "epoch" (the wall clock of the start, s since 1970: the states'
times are from it) and, for a viewer, "max_frame_gap_ms" (the longest
time between two decoded video frames, from the first until the end,
the end included) and "frame_gaps" (each of 200 ms or more: [s after
the start when it began, ms]); and prints a line "TICK {json}" every
second: the counters so far and the connection state; "finished_after"
is when it began to end (the states after it are the teardown's).
"""

import argparse
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstSdp', '1.0')
gi.require_version('GstWebRTC', '1.0')

from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

try:
    gi.require_version('Nice', '0.1')
    from gi.repository import Nice  # noqa: E402
except (ValueError, ImportError):
    Nice = None


POLICIES = {
    'none': GstWebRTC.WebRTCBundlePolicy.NONE,
    'balanced': GstWebRTC.WebRTCBundlePolicy.BALANCED,
    'max-compat': GstWebRTC.WebRTCBundlePolicy.MAX_COMPAT,
    'max-bundle': GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE,
}

VIDEO_CAPS = {
    'VP8': 'application/x-rtp,media=video,encoding-name=VP8,payload=96,'
           'clock-rate=90000',
    'H264': 'application/x-rtp,media=video,encoding-name=H264,payload=102,'
            'clock-rate=90000,packetization-mode=(string)1,'
            'profile-level-id=(string)42e01f,'
            'level-asymmetry-allowed=(string)1',
}

AUDIO_CAPS = ('application/x-rtp,media=audio,encoding-name=OPUS,payload=111,'
              'clock-rate=48000,encoding-params=(string)2')

VIDEO_SRC = ('videotestsrc is-live=true pattern=ball'
             ' ! video/x-raw,width=320,height=240,framerate=15/1'
             ' ! videoconvert ! queue max-size-buffers=2 leaky=downstream')

VIDEO_ENC = {
    'VP8': 'vp8enc deadline=1 keyframe-max-dist=15 target-bitrate=300000'
           ' ! rtpvp8pay name=vpay pt=96 mtu=1200 picture-id-mode=15-bit',
    'H264': 'x264enc tune=zerolatency speed-preset=ultrafast bframes=0'
            ' key-int-max=15 bitrate=300'
            ' ! video/x-h264,profile=constrained-baseline'
            ' ! rtph264pay name=vpay pt=102 mtu=1200 config-interval=-1'
            ' aggregate-mode=zero-latency',
}

AUDIO_SRC = ('audiotestsrc is-live=true wave=sine volume=0.2'
             ' ! audioconvert ! audioresample ! opusenc'
             ' ! rtpopuspay name=apay pt=111')


def sdp_summary(text):
    """The lines of an SDP a test asserts on, per m= section."""

    s = {'group': None, 'ice_lite': False, 'media': [], 'lf_only': False}
    if text is None:
        return None
    s['lf_only'] = '\r\n' not in text
    m = None
    for line in re.split(r'\r?\n', text):
        if line.startswith('m='):
            f = line[2:].split()
            m = {'media': f[0], 'port': int(f[1]), 'proto': f[2],
                 'pts': f[3:], 'mid': None, 'dir': None, 'codecs': [],
                 'fingerprint': False, 'ufrag': False, 'pwd': False,
                 'setup': None, 'bundle_only': False, 'candidates': [],
                 'fmtp': []}
            s['media'].append(m)
            continue
        if line.startswith('a=group:'):
            s['group'] = line[8:]
        elif line == 'a=ice-lite':
            s['ice_lite'] = True
        if m is None:
            continue
        if line.startswith('a=mid:'):
            m['mid'] = line[6:]
        elif line in ('a=sendonly', 'a=recvonly', 'a=sendrecv',
                      'a=inactive'):
            m['dir'] = line[2:]
        elif line.startswith('a=rtpmap:'):
            m['codecs'].append(line[9:].split(' ', 1)[1])
        elif line.startswith('a=fmtp:'):
            m['fmtp'].append(line[7:])
        elif line.startswith('a=fingerprint:'):
            m['fingerprint'] = True
        elif line.startswith('a=ice-ufrag:'):
            m['ufrag'] = True
        elif line.startswith('a=ice-pwd:'):
            m['pwd'] = True
        elif line.startswith('a=setup:'):
            m['setup'] = line[8:]
        elif line == 'a=bundle-only':
            m['bundle_only'] = True
        elif line.startswith('a=candidate:'):
            f = line[12:].split()
            if len(f) >= 8:
                m['candidates'].append('%s %s %s %s' % (f[2], f[4], f[5],
                                                        f[7]))
    return s


class Client:

    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.t0 = time.monotonic()
        self.res = {
            'role': args.role, 'url': args.url,
            'bundle_policy': args.bundle_policy, 'codec': args.codec,
            'status': None, 'location': None, 'error': None,
            'answer_error': None, 'bus_errors': [],
            'states': [], 'connected': False,
            'video_frames': 0, 'audio_buffers': 0,
            'video_packets': 0, 'audio_packets': 0,
        }
        self.agents = []
        self.offer_sent = False
        self.deleting = False
        self.location = None

        opener_ctx = ssl.create_default_context()
        opener_ctx.check_hostname = False
        opener_ctx.verify_mode = ssl.CERT_NONE
        self.http = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=opener_ctx))

        self.pipe = Gst.Pipeline.new('client')
        self.pipe.connect('deep-element-added', self.on_element_added)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect('message', self.on_message)

        self.webrtc = Gst.ElementFactory.make('webrtcbin', 'webrtc')
        self.webrtc.set_property('bundle-policy',
                                 POLICIES[args.bundle_policy])
        self.pipe.add(self.webrtc)

        for sig, cb in (('notify::ice-gathering-state', self.on_state),
                        ('notify::ice-connection-state', self.on_state),
                        ('notify::connection-state', self.on_state)):
            self.webrtc.connect(sig, cb)

        if args.role == 'publish':
            self.build_publish()
        else:
            self.build_play()

    # the agent behind webrtcbin's nicesrc/nicesink: loopback, UDP only,
    # no UPnP; set when the transport is made (at create-offer), before
    # set-local-description starts gathering

    def on_element_added(self, _bin, _sub, el):
        f = el.get_factory()
        if f is None or f.get_name() not in ('nicesrc', 'nicesink'):
            return
        agent = el.get_property('agent')
        if agent is None or any(a is agent for a in self.agents):
            return
        self.agents.append(agent)
        agent.set_property('upnp', False)
        agent.set_property('ice-tcp', bool(self.args.ice_tcp))
        if self.args.keepalive_conncheck:
            agent.set_property('keepalive-conncheck', True)
        if Nice is not None:
            addr = Nice.Address.new()
            addr.set_from_string('127.0.0.1')
            agent.add_local_address(addr)
            self.res['local_address'] = '127.0.0.1'
        self.res['upnp'] = agent.get_property('upnp')
        self.res['ice_tcp'] = agent.get_property('ice-tcp')

    def build_publish(self):
        a = self.args
        desc = (VIDEO_SRC + ' ! ' + VIDEO_ENC[a.codec]
                + ' ! queue name=vq   ' + AUDIO_SRC + ' ! queue name=aq')
        self.src = Gst.parse_bin_from_description(desc, False)
        self.pipe.add(self.src)

        for q, pay, name in (('vq', 'vpay', 'video_packets'),
                             ('aq', 'apay', 'audio_packets')):
            self.src.get_by_name(pay).get_static_pad('src').add_probe(
                Gst.PadProbeType.BUFFER | Gst.PadProbeType.BUFFER_LIST,
                self.count, name)
            srcpad = self.src.get_by_name(q).get_static_pad('src')
            ghost = Gst.GhostPad.new(q, srcpad)
            self.src.add_pad(ghost)
            sink = self.webrtc.request_pad_simple('sink_%u')
            if ghost.link(sink) != Gst.PadLinkReturn.OK:
                raise RuntimeError('cannot link ' + q)
            trans = sink.get_property('transceiver')
            trans.set_property(
                'direction', GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        self.sinks = [self.webrtc.get_static_pad('sink_0'),
                      self.webrtc.get_static_pad('sink_1')]

    def build_play(self):
        a = self.args
        if a.codec == 'any':
            vcaps = Gst.Caps.from_string(VIDEO_CAPS['VP8'] + ';'
                                         + VIDEO_CAPS['H264'])
        else:
            vcaps = Gst.Caps.from_string(VIDEO_CAPS[a.codec])
        recv = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
        self.webrtc.emit('add-transceiver', recv, vcaps)
        acaps = AUDIO_CAPS
        if a.opus_no_channels:
            # "OPUS/48000" without "/2", as caps without encoding-params
            # give (many webrtcbin applications write them so)
            acaps = acaps.replace(',encoding-params=(string)2', '')
        self.webrtc.emit('add-transceiver', recv,
                         Gst.Caps.from_string(acaps))
        self.webrtc.connect('pad-added', self.on_pad_added)
        self.sinks = []

    def count(self, _pad, info, name):
        # payloaders push buffer lists (one RTP packet a buffer)
        if info.type & Gst.PadProbeType.BUFFER_LIST:
            self.res[name] += info.get_buffer_list().length()
        else:
            self.res[name] += 1
        if self.args.watch and name == 'video_frames':
            self.frame_gap(time.monotonic())
        if name == 'video_frames' and self.res[name] == 1:
            GLib.idle_add(self.on_first_frame)
        return Gst.PadProbeReturn.OK

    # --watch: the time between decoded video frames

    def frame_gap(self, now):
        if self.last_frame is not None:
            gap = round((now - self.last_frame) * 1000)
            if gap > self.res['max_frame_gap_ms']:
                self.res['max_frame_gap_ms'] = gap
            if gap >= 200:
                self.res['frame_gaps'].append(
                    [round(self.last_frame - self.t0, 2), gap])
        self.last_frame = now

    def tick(self):
        if self.deleting:
            return False
        tick = {k: self.res[k] for k in ('video_frames', 'audio_buffers',
                                         'video_packets', 'audio_packets')}
        tick['t'] = round(time.monotonic() - self.t0, 2)
        tick['connection_state'] = \
            self.webrtc.get_property('connection-state').value_nick
        print('TICK ' + json.dumps(tick, sort_keys=True), flush=True)
        return True

    # a viewer counts for --seconds from its first decoded video frame
    # (or gives up --first-frame seconds after the answer)

    def on_first_frame(self):
        self.res['first_frame_after'] = round(time.monotonic() - self.t0, 2)
        GLib.timeout_add(int(self.args.seconds * 1000), self.finish)
        return False

    def first_factory(self, *names):
        for n in names:
            if Gst.ElementFactory.find(n) is not None:
                return n
        return None

    def on_pad_added(self, _el, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        caps = pad.get_current_caps()
        st = caps.get_structure(0)
        enc = (st.get_string('encoding-name') or '').upper()
        if enc == 'VP8':
            chain = ['rtpvp8depay', 'vp8dec']
        elif enc == 'H264':
            dec = self.first_factory('avdec_h264', 'openh264dec')
            chain = ['rtph264depay', 'h264parse', dec]
        elif enc == 'OPUS':
            chain = ['rtpopusdepay', 'opusdec']
        else:
            chain = []
        if None in chain or not chain:
            self.res.setdefault('unhandled_pads', []).append(
                caps.to_string())
            chain = []
        media = st.get_string('media')
        self.res.setdefault('pads', []).append(enc)
        els = [Gst.ElementFactory.make(n) for n in ['queue'] + chain]
        for e in els[1:] if not self.args.no_keyframe_requests else []:
            # ask for a key frame (RTCP PLI) when one is missing: after a
            # loss, or on joining a stream between its key frames
            if e.find_property('request-keyframe'):
                e.set_property('request-keyframe', True)
            if e.find_property('automatic-request-sync-points'):
                e.set_property('automatic-request-sync-points', True)
        sink = Gst.ElementFactory.make('fakesink')
        sink.set_property('sync', False)
        sink.set_property('async', False)
        els.append(sink)
        for e in els:
            self.pipe.add(e)
        for x, y in zip(els, els[1:]):
            x.link(y)
        if chain:
            name = 'video_frames' if media == 'video' else 'audio_buffers'
            decpad = els[-2].get_static_pad('src')
            decpad.add_probe(Gst.PadProbeType.BUFFER, self.count, name)
            if media == 'video':
                self.res['video_decoder'] = chain[-1]
                decpad.connect('notify::caps', self.on_video_caps)
        for e in els:
            e.sync_state_with_parent()
        if media == 'video' and self.args.drop_first > 0:
            # lose the first packets, key frame included, as a viewer
            # whose SRTP was not ready yet would
            self.drop_until = time.monotonic() + self.args.drop_first
            pad.add_probe(Gst.PadProbeType.BUFFER, self.drop_first)
        pad.link(els[0].get_static_pad('sink'))

    def drop_first(self, _pad, _info):
        if time.monotonic() < self.drop_until:
            self.res['dropped'] = self.res.get('dropped', 0) + 1
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.REMOVE

    def on_video_caps(self, pad, _pspec):
        caps = pad.get_current_caps()
        if caps is None:
            return
        st = caps.get_structure(0)
        ok_w, w = st.get_int('width')
        ok_h, h = st.get_int('height')
        if ok_w and ok_h:
            self.res['video_size'] = '%dx%d' % (w, h)

    def on_state(self, el, pspec):
        v = el.get_property(pspec.name)
        name = v.value_nick
        self.res['states'].append('%.2f %s %s' % (
            time.monotonic() - self.t0, pspec.name, name))
        if pspec.name == 'connection-state' and name == 'connected':
            self.res['connected'] = True
            self.res['connected_after'] = round(
                time.monotonic() - self.t0, 2)
        if (pspec.name == 'ice-gathering-state' and name == 'complete'
                and not self.args.no_candidates):
            GLib.idle_add(self.send_offer)

    def on_message(self, _bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            self.res['bus_errors'].append('%s: %s' % (
                msg.src.get_name(), err.message))
        return True

    # offer: once the sink pads have caps (publish) or at once (play)

    def start(self):
        self.pipe.set_state(Gst.State.PLAYING)
        self.caps_wait = 0
        if self.args.watch:
            self.res['epoch'] = round(
                time.time() - (time.monotonic() - self.t0), 3)
            self.last_frame = None
            if self.args.role == 'play':
                self.res['max_frame_gap_ms'] = 0
                self.res['frame_gaps'] = []
            GLib.timeout_add(1000, self.tick)
        GLib.timeout_add(50, self.maybe_create_offer)
        GLib.timeout_add_seconds(int(self.args.seconds
                                     + self.args.wait_publisher
                                     + self.args.first_frame) + 25,
                                 self.on_deadline)
        self.loop.run()

    def maybe_create_offer(self):
        if any(p.get_current_caps() is None for p in self.sinks):
            self.caps_wait += 1
            if self.caps_wait > 100:
                self.fail('no caps on the sink pads after 5 s')
                return False
            return True
        self.webrtc.emit('create-offer', None,
                         Gst.Promise.new_with_change_func(self.on_offer,
                                                          None))
        return False

    def on_offer(self, promise, _data):
        reply = promise.get_reply()
        offer = reply.get_value('offer') if reply else None
        if offer is None:
            GLib.idle_add(self.fail, 'create-offer failed: %s' % (
                reply.to_string() if reply else 'no reply'))
            return
        self.res['offer_no_candidates'] = offer.sdp.as_text()
        self.webrtc.emit('set-local-description', offer,
                         Gst.Promise.new_with_change_func(self.on_local,
                                                          None))

    def on_local(self, promise, _data):
        reply = promise.get_reply()
        if reply is not None and reply.has_field('error'):
            GLib.idle_add(self.fail, 'set-local-description: %s'
                          % reply.get_value('error').message)
            return
        if self.args.no_candidates:
            GLib.idle_add(self.send_offer)
        else:
            # gathering on loopback takes milliseconds: 5 s is plenty
            GLib.timeout_add_seconds(5, self.send_offer)

    def send_offer(self):
        if self.offer_sent:
            return False
        self.offer_sent = True
        if self.args.no_candidates:
            sdp = self.res.pop('offer_no_candidates')
        else:
            self.res.pop('offer_no_candidates', None)
            sdp = self.webrtc.get_property('local-description').sdp.as_text()
        self.res['gathering_complete'] = (
            self.webrtc.get_property('ice-gathering-state')
            == GstWebRTC.WebRTCICEGatheringState.COMPLETE)
        self.res['offer'] = sdp_summary(sdp)
        if self.args.save_offer:
            with open(self.args.save_offer, 'wb') as f:
                f.write(sdp.encode())
        self.sdp = sdp
        self.post_until = time.monotonic() + self.args.wait_publisher
        self.posts = 0
        self.post_offer()
        return False

    # a viewer may start before its publisher: a 404 is retried every
    # 250 ms until --wait-publisher seconds have passed

    def post_offer(self):
        req = urllib.request.Request(self.args.url, data=self.sdp.encode(),
                                     method='POST', headers={
                                         'Content-Type': 'application/sdp'})
        self.posts += 1
        try:
            with self.http.open(req, timeout=10) as r:
                status, body = r.status, r.read().decode()
                self.location = r.headers.get('Location')
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode(errors='replace')
        except OSError as e:
            return self.fail('POST: %s' % e)
        if status == 404 and time.monotonic() < self.post_until:
            if self.posts == 1:
                GLib.timeout_add(250, self.post_offer)
            return True
        self.res['posts'] = self.posts
        self.res['status'] = status
        self.res['location'] = self.location
        if status != 201:
            self.res['body'] = body.strip()
            return self.finish()
        if not self.location:
            return self.fail('201 without Location')
        self.res['answer'] = sdp_summary(body)
        if self.args.save_answer:
            with open(self.args.save_answer, 'wb') as f:
                f.write(body.encode())

        ok, msg = GstSdp.SDPMessage.new_from_text(body)
        if ok != GstSdp.SDPResult.OK:
            return self.fail('answer does not parse')
        answer = GstWebRTC.WebRTCSessionDescription.new(
            GstWebRTC.WebRTCSDPType.ANSWER, msg)
        self.webrtc.emit('set-remote-description', answer,
                         Gst.Promise.new_with_change_func(self.on_remote,
                                                          None))
        return False

    def on_remote(self, promise, _data):
        reply = promise.get_reply()
        if reply is not None and reply.has_field('error'):
            self.res['answer_error'] = reply.get_value('error').message
            GLib.idle_add(self.finish)
            return
        self.res['answer_applied_after'] = round(
            time.monotonic() - self.t0, 2)
        if self.args.role == 'play':
            GLib.timeout_add(int(self.args.first_frame * 1000), self.no_frame)
        else:
            GLib.timeout_add(int(self.args.seconds * 1000), self.finish)
        if self.args.stop_file:
            GLib.timeout_add(100, self.check_stop_file)

    def no_frame(self):
        if 'first_frame_after' not in self.res:
            self.finish()
        return False

    def check_stop_file(self):
        if self.deleting:
            return False
        if os.path.exists(self.args.stop_file):
            self.res['stopped_by_file'] = True
            return self.finish()
        return True

    def on_stats(self, promise, _data):
        self.stats = promise.get_reply()
        self.stats_done = True

    def collect_stats(self):
        """webrtcbin's get-stats, reduced to the RTP counters."""

        self.stats_done = False
        self.stats = None
        self.webrtc.emit('get-stats', None,
                         Gst.Promise.new_with_change_func(self.on_stats,
                                                          None))
        end = time.monotonic() + 2
        while not self.stats_done and time.monotonic() < end:
            time.sleep(0.02)
        out = {}
        st = self.stats
        if self.args.ice_tcp:
            self.selected_pair(st)
        for i in range(st.n_fields() if st is not None else 0):
            v = st.get_value(st.nth_field_name(i))
            if not isinstance(v, Gst.Structure):
                continue
            t = v.get_name()
            if t not in ('inbound-rtp', 'outbound-rtp'):
                continue
            d = {}
            for k in ('ssrc', 'packets-received', 'packets-lost',
                      'packets-sent', 'bytes-sent', 'bytes-received',
                      'pli-count', 'fir-count', 'nack-count'):
                if v.has_field(k):
                    d[k] = v.get_value(k)
            kind = v.get_string('kind') if v.has_field('kind') else None
            out['%s-%s-%s' % (t, kind, d.get('ssrc'))] = d
        return out

    def selected_pair(self, st):
        """--ice-tcp: each transport's selected candidate pair, its
        local and remote candidates' protocol, port and type."""

        by_id = {}
        for i in range(st.n_fields() if st is not None else 0):
            v = st.get_value(st.nth_field_name(i))
            if isinstance(v, Gst.Structure) and v.has_field('id'):
                by_id[v.get_string('id')] = v

        def plain(x):
            return x if isinstance(x, (bool, int, float, str)) else str(x)

        def fields(v, names):
            return {k: plain(v.get_value(k)) for k in names
                    if v.has_field(k)}

        pairs = []
        for v in by_id.values():
            if (v.get_name() != 'transport'
                    or not v.has_field('selected-candidate-pair-id')):
                continue
            pair = by_id.get(v.get_string('selected-candidate-pair-id'))
            if pair is None:
                continue
            p = {}
            for side in ('local', 'remote'):
                k = side + '-candidate-id'
                c = by_id.get(pair.get_string(k)) if pair.has_field(k) \
                    else None
                if c is not None:
                    p[side] = fields(c, ('protocol', 'address', 'port',
                                         'candidate-type', 'priority',
                                         'relay-protocol'))
            pairs.append(p)
        if pairs:
            self.res['selected_pair'] = pairs[0]
            self.res['selected_pairs'] = pairs
        else:
            self.res['selected_pair_error'] = \
                'no transport with a selected candidate pair in get-stats'

    def delete(self):
        if not self.location:
            return
        url = urllib.parse.urljoin(self.args.url, self.location)
        req = urllib.request.Request(url, method='DELETE')
        try:
            with self.http.open(req, timeout=10) as r:
                self.res['delete_status'] = r.status
        except urllib.error.HTTPError as e:
            self.res['delete_status'] = e.code
        except OSError as e:
            self.res['delete_status'] = str(e)

    def finish(self):
        if self.deleting:
            return False
        self.deleting = True
        if self.args.watch and self.last_frame is not None:
            # the standstill up to the end counts: frames that stopped
            # for good
            self.frame_gap(time.monotonic())
        if self.args.watch:
            self.res['finished_after'] = round(time.monotonic() - self.t0, 2)
        w = self.webrtc
        self.res['ice_connection_state'] = \
            w.get_property('ice-connection-state').value_nick
        self.res['connection_state'] = \
            w.get_property('connection-state').value_nick
        if self.res['status'] == 201:
            try:
                self.res['stats'] = self.collect_stats()
            except Exception as e:      # stats are informative only
                self.res['stats_error'] = str(e)
        self.delete()
        self.loop.quit()
        return False

    def fail(self, why):
        if self.res['error'] is None:
            self.res['error'] = why
        return self.finish()

    def on_deadline(self):
        return self.fail('deadline: %d s' % (self.args.seconds
                                             + self.args.wait_publisher
                                             + self.args.first_frame
                                             + 25))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('role', choices=('publish', 'play'))
    p.add_argument('url')
    p.add_argument('--codec', default='VP8', choices=('VP8', 'H264', 'any'))
    p.add_argument('--bundle-policy', default='max-bundle',
                   choices=sorted(POLICIES))
    p.add_argument('--seconds', type=float, default=4)
    p.add_argument('--no-candidates', action='store_true')
    p.add_argument('--wait-publisher', type=float, default=0)
    p.add_argument('--first-frame', type=float, default=10)
    p.add_argument('--no-keyframe-requests', action='store_true')
    p.add_argument('--drop-first', type=float, default=0)
    p.add_argument('--opus-no-channels', action='store_true')
    p.add_argument('--stop-file')
    p.add_argument('--keepalive-conncheck', action='store_true')
    p.add_argument('--save-offer')
    p.add_argument('--save-answer')
    p.add_argument('--watch', action='store_true')
    p.add_argument('--ice-tcp', action='store_true')
    a = p.parse_args()
    if a.role == 'publish' and a.codec == 'any':
        p.error('publish needs --codec VP8 or H264')
    a.seconds = max(0.0, min(a.seconds, 60.0))
    a.wait_publisher = max(0.0, min(a.wait_publisher, 60.0))
    a.first_frame = max(0.0, min(a.first_frame, 60.0))

    Gst.init(None)
    c = Client(a)
    try:
        c.start()
    finally:
        c.res['secs'] = round(time.monotonic() - c.t0, 2)
        c.pipe.set_state(Gst.State.NULL)
        print('RESULT ' + json.dumps(c.res, sort_keys=True), flush=True)
    ok = (c.res['error'] is None and c.res['answer_error'] is None
          and not c.res['bus_errors'])
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
