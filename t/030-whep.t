#!/usr/bin/perl

# WHEP (draft-ietf-wish-whep): viewers of a stream published with WHIP,
# codec and payload type of the viewer, viewer sessions, and streams
# whose publisher left.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/http_req port sdp parse_sdp attr media/;

my $CT_SDP = 'application/sdp';
my $CT_FRAG = 'application/trickle-ice-sdpfrag';

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(57);

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

worker_processes 2;

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location /capped/ {
            webrtc_whep;
            webrtc_max_viewers 2;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

###########################################################################
# helpers


sub post {
	my ($uri, $body) = @_;
	return http_req(POST => $uri, body => $body,
		headers => { 'Content-Type' => $CT_SDP });
}




sub direction {
	my ($m) = @_;
	return join ',', grep { /^(sendrecv|sendonly|recvonly|inactive)$/ }
		map { /^a=(.*)$/ } @{$m->{lines}};
}

# payload type of a codec in an m= section, by rtpmap and fmtp
sub pt_of {
	my ($m, $codec, $fmtp_re) = @_;
	for my $pt (@{$m->{fmts}}) {
		next unless grep { /^\Q$pt\E \Q$codec\E\//i }
			attr($m->{lines}, 'rtpmap');
		next if $fmtp_re
			&& !grep { /^\Q$pt\E .*$fmtp_re/ } attr($m->{lines}, 'fmtp');
		return $pt;
	}
	return 'none';
}

# the answer's single video format: [pt, rtpmap, fmtp]
sub answer_video {
	my ($s) = @_;
	my $v = media($s, 'video');
	my $pt = join ' ', @{$v->{fmts}};
	my ($fmtp) = grep { /^\Q$pt\E / } attr($v->{lines}, 'fmtp');
	return ($pt, [ attr($v->{lines}, 'rtpmap') ], $fmtp // '');
}

# the same offer with one payload type renumbered (m= line, rtpmap, fmtp,
# rtcp-fb, apt=), so that it differs from the publisher's number
sub renumber {
	my ($sdp, $old, $new) = @_;
	die "payload type $new is in use\n"
		if $sdp =~ /^a=(?:rtpmap|fmtp|rtcp-fb):$new /m
		|| $sdp =~ /^m=video [^\r\n]* $new(?=[ \r\n])/m;
	$sdp =~ s/^(m=video [^\r\n]*? )$old(?=[ \r\n])/$1$new/m
		or die "no $old in m=video\n";
	$sdp =~ s/^a=(rtpmap|fmtp|rtcp-fb):$old /a=$1:$new /mg;
	$sdp =~ s/\bapt=$old\b/apt=$new/g;
	return $sdp;
}

my $HEX32 = qr/[0-9a-f]{32}/;

###########################################################################
# no publisher yet

my $play = sdp('chromium-play');
my $r = post('/whep/vp8', $play);
is($r->{status}, 404, 'WHEP before any publisher: 404');
like($r->{body} // '', qr/\A[^\n]+\n\z/, 'WHEP 404: one-line reason');

###########################################################################
# VP8

$r = post('/whip/vp8', sdp('chromium-publish-vp8'));
is($r->{status}, 201, 'publish VP8');
my $pub_vp8 = $r->{headers}{location} // '/whip/vp8/none';
my $pub_pt = join ' ', @{media(parse_sdp($r->{body}), 'video')->{fmts}};

$r = post('/whep/vp8', $play);
my $ans = parse_sdp($r->{body});
my $viewer = $r->{headers}{location} // '/whep/vp8/none';
my $viewer_etag = $r->{headers}{etag} // '';

is($r->{status}, 201, 'WHEP: 201 Created');
is($r->{headers}{'content-type'}, $CT_SDP, 'WHEP: Content-Type');
like($viewer, qr{^/whep/vp8/$HEX32$}, 'WHEP: Location');
like($viewer_etag, qr/^"[\x21\x23-\x7e]+"$/, 'WHEP: ETag');
is_deeply([ map { direction($_) } @{$ans->{media}} ], [ 'sendonly', 'sendonly' ],
	'WHEP: sendonly');
is_deeply([ map { [ attr($_->{lines}, 'setup') ] } @{$ans->{media}} ],
	[ ['passive'], ['passive'] ], 'WHEP: a=setup:passive');
is_deeply([ attr($ans->{session}, 'ice-lite'), attr($ans->{session}, 'group') ],
	[ 1, 'BUNDLE 0 1' ], 'WHEP: a=ice-lite, a=group:BUNDLE 0 1');

my $vpt = pt_of(media(parse_sdp($play), 'video'), 'VP8');
my ($pt, $rtpmap) = answer_video($ans);
is_deeply([ $pt, $rtpmap ], [ $vpt, [ "$vpt VP8/90000" ] ],
	'WHEP: VP8 at the viewer\'s payload type');
my $apt = pt_of(media(parse_sdp($play), 'audio'), 'opus');
is_deeply([ @{media($ans, 'audio')->{fmts}}, attr(media($ans, 'audio')->{lines}, 'rtpmap') ],
	[ $apt, "$apt opus/48000/2" ], 'WHEP: opus at the viewer\'s payload type');

# a=ssrc with cname and msid, a=msid, one stream, one track per kind
my @ssrc;
my @msid;
for my $m (@{$ans->{media}}) {
	my %by;
	for (attr($m->{lines}, 'ssrc')) {
		my ($n, $k, $v) = /^(\d+) (\w+):(.*)$/ or next;
		$by{$n}{$k} = $v;
	}
	push @ssrc, [ map { [ $_, $by{$_}{cname}, $by{$_}{msid} ] } keys %by ];
	push @msid, [ attr($m->{lines}, 'msid') ];
}
ok(@ssrc == 2 && (grep { @$_ == 1 && $_->[0][0] > 0 && $_->[0][0] < 2**32
		&& defined $_->[0][1] && length $_->[0][1]
		&& defined $_->[0][2] } @ssrc) == 2
	&& $ssrc[0][0][0] != $ssrc[1][0][0],
	'WHEP: one a=ssrc per m= section, with cname and msid')
	or diag(explain \@ssrc);
ok(@msid == 2 && @{$msid[0]} == 1 && @{$msid[1]} == 1
	&& $msid[0][0] =~ /^(\S+) (\S+)$/ && $msid[1][0] =~ /^\Q$1\E (\S+)$/
	&& $msid[0][0] ne $msid[1][0]
	&& $ssrc[0][0][2] eq $msid[0][0] && $ssrc[1][0][2] eq $msid[1][0],
	'WHEP: a=msid, one stream, as in a=ssrc msid:')
	or diag(explain \@msid);

# another viewer: another session, other SSRCs
$r = post('/whep/vp8', $play);
my $viewer2 = $r->{headers}{location} // '/whep/vp8/none2';
my @ssrc2 = map { (attr($_->{lines}, 'ssrc'))[0] =~ /^(\d+)/ }
	@{parse_sdp($r->{body})->{media}};
ok($r->{status} == 201 && $viewer2 ne $viewer && @ssrc2 == 2
	&& $ssrc2[0] != $ssrc[0][0][0] && $ssrc2[1] != $ssrc[1][0][0],
	'second viewer: own session and SSRCs');

# the viewer's payload type, not the publisher's
my $play123 = renumber($play, $vpt, 123);
$r = post('/whep/vp8', $play123);
($pt, $rtpmap) = answer_video(parse_sdp($r->{body}));
is_deeply([ $r->{status}, $pt, $rtpmap ], [ 201, 123, [ '123 VP8/90000' ] ],
	"viewer numbering VP8 123, publisher $pub_pt: VP8 at 123");
my $viewer3 = $r->{headers}{location} // '/whep/vp8/none3';

# viewer sessions: OPTIONS, trickle, restart
$r = http_req(OPTIONS => '/whep/vp8');
ok($r->{status} == 204 && ($r->{headers}{'accept-post'} // '') eq $CT_SDP,
	'WHEP OPTIONS: 204, Accept-Post');
my ($vu) = sdp('chromium-play') =~ /^a=ice-ufrag:(\S+?)\r?$/m;
my ($vp) = sdp('chromium-play') =~ /^a=ice-pwd:(\S+?)\r?$/m;
sub frag {
	my ($u, $p) = @_;
	return "a=ice-ufrag:$u\r\na=ice-pwd:$p\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
		. "a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n"
		. "a=end-of-candidates\r\n";
}
$r = http_req(PATCH => $viewer, body => frag($vu, $vp),
	headers => { 'Content-Type' => $CT_FRAG, 'If-Match' => $viewer_etag });
is($r->{status}, 204, 'WHEP trickle: 204');
$r = http_req(PATCH => $viewer3, body => frag('Rst2', 'restartpasswordrestart2'),
	headers => { 'Content-Type' => $CT_FRAG, 'If-Match' => '*' });
ok($r->{status} == 200 && ($r->{body} // '') =~ /^a=ice-ufrag:\S+\r$/m,
	'WHEP ICE restart: 200');

###########################################################################
# H264 for a viewer preferring H264

$r = post('/whip/h264', sdp('chromium-publish-h264'));
is($r->{status}, 201, 'publish H264');

my $play264 = sdp('chromium-play-h264');
my $hpt = pt_of(media(parse_sdp($play264), 'video'), 'H264',
	qr/(?=.*packetization-mode=1)(?=.*profile-level-id=42e01f)/i);
$r = post('/whep/h264', $play264);
my ($p, $rm, $fmtp) = answer_video(parse_sdp($r->{body}));
is_deeply([ $r->{status}, $p, $rm ], [ 201, $hpt, [ "$hpt H264/90000" ] ],
	'WHEP H264: the viewer\'s payload type for 42e01f');
like($fmtp, qr/(?=.*\bpacketization-mode=1\b)(?=.*\bprofile-level-id=42e01f\b)/i,
	'WHEP H264: packetization-mode=1, 42e01f');

$r = post('/whep/h264', renumber($play264, $hpt, 124));
($p, $rm, $fmtp) = answer_video(parse_sdp($r->{body}));
is_deeply([ $r->{status}, $p, $rm ], [ 201, 124, [ '124 H264/90000' ] ],
	'viewer numbering H264 42e01f 124: H264 at 124');
like($fmtp, qr/^124 (?=.*\bpacketization-mode=1\b)(?=.*\bprofile-level-id=42e01f\b)/i,
	'renumbered H264: fmtp');

###########################################################################
# OBS: H264 High, opus stereo

$r = post('/whip/obs', sdp('edge-obs-h264-high'));
is($r->{status}, 201, 'publish OBS H264 High');

my $opt = pt_of(media(parse_sdp($play), 'video'), 'H264',
	qr/(?=.*packetization-mode=1)(?=.*profile-level-id=f4001f)/i);
$r = post('/whep/obs', $play);
my $oa = parse_sdp($r->{body});
($p, $rm, $fmtp) = answer_video($oa);
is_deeply([ $r->{status}, $p, $rm ], [ 201, $opt, [ "$opt H264/90000" ] ],
	'WHEP of High profile: H264 at the viewer\'s f4001f payload type');
like($fmtp, qr/\bpacketization-mode=1\b/, 'WHEP of High profile: pmode 1');
my ($afmtp) = attr(media($oa, 'audio')->{lines}, 'fmtp');
like($afmtp // '', qr/^\Q$apt\E .*\bstereo=1\b/, 'WHEP of OBS: opus stereo=1');

###########################################################################
# offers of the wrong direction

$r = post('/whip/wrongdir', $play);
is($r->{status}, 422, 'a receive-only offer to WHIP: 422');

$r = post('/whep/vp8', sdp('chromium-publish-vp8'));
{
	is($r->{status}, 422, 'a send-only offer to WHEP: 422');
}
http_req(DELETE => $r->{headers}{location}) if $r->{status} == 201;

###########################################################################
# sessions of the other kind are not reachable through a location

(my $viewer_id) = $viewer =~ m{/($HEX32)$};
(my $pub_id) = $pub_vp8 =~ m{/($HEX32)$};
$viewer_id //= 'x'; $pub_id //= 'x';

is(http_req(DELETE => "/whip/vp8/$viewer_id")->{status}, 404,
	'viewer Location through /whip/: 404');
is(http_req(PATCH => "/whip/vp8/$viewer_id", body => frag($vu, $vp),
	headers => { 'Content-Type' => $CT_FRAG })->{status}, 404,
	'PATCH viewer through /whip/: 404');
is(http_req(DELETE => "/whep/vp8/$pub_id")->{status}, 404,
	'publisher Location through /whep/: 404');
is(http_req(DELETE => "/whep/h264/$viewer_id")->{status}, 404,
	'viewer Location under another stream: 404');

is(http_req(DELETE => $viewer)->{status}, 200, 'viewer DELETE: 200');
is(http_req(DELETE => $viewer)->{status}, 404, 'viewer DELETE again: 404');
is(http_req(OPTIONS => $pub_vp8)->{status}, 204, 'publisher still there');

###########################################################################
# the publisher leaves: viewers wait for the next one

is(http_req(DELETE => $pub_vp8)->{status}, 200, 'publisher DELETE: 200');
is(http_req(DELETE => $pub_vp8)->{status}, 404, 'publisher DELETE again: 404');
is(http_req(DELETE => $viewer2)->{status}, 200,
	'viewer DELETE after the publisher left: 200');

$r = post('/whep/vp8', $play);
($pt, $rtpmap) = answer_video(parse_sdp($r->{body}));
is_deeply([ $r->{status}, $rtpmap ], [ 201, [ "$vpt VP8/90000" ] ],
	'stream with viewers and no publisher: WHEP 201, the last codec');
my $viewer4 = $r->{headers}{location} // '/whep/vp8/none4';

# a new publisher offering H264 first keeps the waiting viewers' VP8
$r = post('/whip/vp8', sdp('chromium-publish-h264'));
my ($ppt, $prm) = answer_video(parse_sdp($r->{body}));
is_deeply([ $r->{status}, $prm ], [ 201, [ "$ppt VP8/90000" ] ],
	'next publisher: the codec of the waiting viewers (VP8)');
my $pub2 = $r->{headers}{location} // '/whip/vp8/none';

# while without viewers the same offer gets H264
$r = post('/whip/h264b', sdp('chromium-publish-h264'));
($ppt, $prm) = answer_video(parse_sdp($r->{body}));
is_deeply([ $r->{status}, $prm ], [ 201, [ "$ppt H264/90000" ] ],
	'the same offer without viewers: H264');

is(http_req(DELETE => $pub2)->{status}, 200, 'second publisher DELETE');
is(post('/whep/vp8', $play)->{status}, 201,
	'viewers connected, no publisher: WHEP 201');

###########################################################################
# no publisher, no viewers: the stream is gone

$r = post('/whip/gone', sdp('chromium-publish-vp8'));
my $gp = $r->{headers}{location} // '/whip/gone/none';
$r = post('/whep/gone', $play);
my $gv = $r->{headers}{location} // '/whep/gone/none';
is($r->{status}, 201, 'stream "gone": a viewer');
is(http_req(DELETE => $gv)->{status}, 200, 'stream "gone": the viewer leaves');
is(http_req(DELETE => $gp)->{status}, 200, 'stream "gone": the publisher leaves');
$r = post('/whep/gone', $play);
is($r->{status}, 404, 'no publisher and no viewers: WHEP 404');
like($r->{body} // '', qr/\A[^\n]+\n\z/, 'WHEP 404: one-line reason');

###########################################################################
# webrtc_max_viewers 2: a third viewer of the stream gets 503, Retry-After

$r = post('/whip/capped', sdp('chromium-publish-vp8'));
my $cp = $r->{headers}{location} // '/whip/capped/none';
my @cv = map { post('/capped/capped', $play) } 1 .. 2;
is(join(' ', map { $_->{status} } @cv), '201 201',
	'webrtc_max_viewers 2: two viewers 201');

$r = post('/capped/capped', $play);
is($r->{status}, 503, 'webrtc_max_viewers 2: the third 503');
is($r->{headers}{'retry-after'}, 10, 'webrtc_max_viewers: Retry-After');
like($r->{body} // '', qr/\A[^\n]*most viewers allowed[^\n]*\n\z/,
	'webrtc_max_viewers: one-line reason');

is(http_req(DELETE => $cv[0]{headers}{location} // '/capped/capped/none')
	->{status}, 200, 'webrtc_max_viewers: a viewer leaves');
is(post('/capped/capped', $play)->{status}, 201,
	'webrtc_max_viewers: then a viewer is let in');

http_req(DELETE => $cp);

$t->stop();
