#!/usr/bin/perl

# OBS Studio's WHIP client (plugins/obs-webrtc, 30 to 32), its request
# sequence against the server: a Bearer token on POST and DELETE (also the
# "Bearer Bearer <token>" users make by pasting "Bearer ..." into OBS's
# field), an offer without candidates (t/sdp/obs-*.sdp), exactly 201 with a
# body and a Location, the Location resolved as OBS does (a relative one
# replaces the request path and drops the query), one answer candidate, the
# ICE servers in Link headers, no trickle: a connectivity check from an
# address the offer never named is answered at once; DELETE gives 200.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Compress::Zlib qw/crc32/;
use Digest::SHA qw/hmac_sha1/;
use IO::Select;
use IO::Socket::INET;
use Test::More;
use Test::Nginx qw/http_req port sdp parse_sdp attr media/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(47);

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
        webrtc_ice_server stun:127.0.0.1:3478;

        location /whip/ {
            webrtc_whip;
            webrtc_bearer_token secret;
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

my $MEDIA = port(8980);
my $ORIGIN = 'http://127.0.0.1:' . port(8080);
my $HEX32 = qr/[0-9a-f]{32}/;

###########################################################################
# helpers

# OBS's request: Content-Type application/sdp, Authorization as typed
sub obs_req {
	my ($method, $url, $auth, $body) = @_;
	(my $uri = $url) =~ s{^https?://[^/]+}{};
	return http_req($method, $uri,
		defined $body ? (body => $body) : (),
		headers => {
			defined $body ? ('Content-Type' => 'application/sdp') : (),
			defined $auth ? (Authorization => $auth) : (),
		});
}

# the session URL from the Location as OBS resolves it against the
# endpoint URL (RFC 3986, 5.2: a relative reference replaces the path,
# the query goes)
sub obs_resolve {
	my ($endpoint, $location) = @_;
	return $location if $location =~ m{^[a-z][a-z0-9+.-]*://}i;
	my ($origin) = $endpoint =~ m{^([a-z]+://[^/?#]+)}i;
	return $origin . $location if $location =~ m{^/};
	(my $base = $endpoint) =~ s/[?#].*//s;
	$base =~ s{[^/]*$}{};
	return $base . $location;
}

sub candidates {
	my ($answer) = @_;
	return map { attr($_->{lines}, 'candidate') }
		@{$answer->{media}}, { lines => $answer->{session} };
}

# RFC 5389 / RFC 8445, 7.1.2: a Binding request from the controlling agent
sub stun_attr {
	my ($type, $value) = @_;
	my $pad = (4 - length($value) % 4) % 4;
	return pack('nn', $type, length $value) . $value . ("\0" x $pad);
}

sub stun_check {
	my ($username, $key) = @_;
	my $tid = join '', map { chr(int rand 256) } 1 .. 12;
	my $attrs = stun_attr(0x0006, $username)
		. stun_attr(0x0024, pack('N', 1845501695))
		. stun_attr(0x802A, pack('NN', 7, 8))
		. stun_attr(0x0025, '');
	my $head = pack('nnN', 0x0001, length($attrs) + 24, 0x2112A442) . $tid;
	$attrs .= stun_attr(0x0008, hmac_sha1($head . $attrs, $key));
	$head = pack('nnN', 0x0001, length($attrs) + 8, 0x2112A442) . $tid;
	$attrs .= stun_attr(0x8028,
		pack('N', crc32($head . $attrs) ^ 0x5354554e));
	return (pack('nnN', 0x0001, length $attrs, 0x2112A442) . $tid . $attrs,
		$tid);
}

###########################################################################
# OBS 32.1 publishing H.264, its stream key in the query

my $endpoint = "$ORIGIN/whip/obs?key=k1";
my $offer = sdp('obs-publish-h264');

unlike($offer, qr/^a=candidate/m, 'the offer has no candidates');

my $r = obs_req(POST => $endpoint, undef, $offer);
is($r->{status}, 401, 'no Authorization: 401');
like($r->{headers}{'www-authenticate'} // '', qr/^Bearer\b/,
	'no Authorization: WWW-Authenticate: Bearer');

$r = obs_req(POST => $endpoint, 'Bearer secret', $offer);
is($r->{status}, 201, 'POST: exactly 201');
ok(length($r->{body} // ''), 'POST: a body');
is($r->{headers}{'content-type'}, 'application/sdp',
	'POST: Content-Type application/sdp');
my $location = $r->{headers}{location} // '';
like($location, qr{^/whip/obs/$HEX32$},
	'POST: Location, the session under the request path, no query');

my $session = obs_resolve($endpoint, $location);
is($session, "$ORIGIN$location", 'the Location as OBS resolves it');
is(obs_resolve("$ORIGIN/a/b?x=1", 'c/d'), "$ORIGIN/a/c/d",
	'(a relative path replaces the last segment, the query goes)');

my @links = @{$r->{headers_all}{link} || []};
is_deeply(\@links, [ '<stun:127.0.0.1:3478>; rel="ice-server"' ],
	'the ICE server OBS gathers with, in a Link header');

my $ans = parse_sdp($r->{body} // '');
my @cands = candidates($ans);
is(scalar @cands, 1, 'exactly one answer candidate') or diag explain \@cands;
like($cands[0] // '', qr/^\S+ 1 udp \d+ 127\.0\.0\.1 \Q$MEDIA\E typ host/,
	'the candidate: 127.0.0.1, the media port, host');
is(scalar(map { attr($_->{lines}, 'end-of-candidates') } @{$ans->{media}}),
	1, 'a=end-of-candidates: nothing trickles');
is_deeply([ attr($ans->{session}, 'ice-lite') ], [1], 'a=ice-lite');

my ($audio, $video) = (media($ans, 'audio'), media($ans, 'video'));
is_deeply([ $audio ? attr($audio->{lines}, 'rtpmap') : () ],
	[ '111 opus/48000/2' ], 'audio: opus at 111, mid 0');
is_deeply([ $video ? attr($video->{lines}, 'rtpmap') : () ],
	[ '96 H264/90000' ], 'video: H264 at 96, mid 1');
is_deeply([ map { [ attr($_->{lines}, 'setup') ] } @{$ans->{media}} ],
	[ ['passive'], ['passive'] ], 'a=setup:passive');
is_deeply([ map { [ grep { /^a=(sendrecv|sendonly|recvonly|inactive)$/ }
		@{$_->{lines}} ] } @{$ans->{media}} ],
	[ ['a=recvonly'], ['a=recvonly'] ], 'recvonly');

# no PATCH: a check from an address the offer never had is answered

my ($sufrag) = $r->{body} =~ /^a=ice-ufrag:(\S+?)\r?$/m;
my ($spwd) = $r->{body} =~ /^a=ice-pwd:(\S+?)\r?$/m;
my ($cufrag) = $offer =~ /^a=ice-ufrag:(\S+?)\r?$/m;

my $s = IO::Socket::INET->new(Proto => 'udp',
	PeerAddr => "127.0.0.1:$MEDIA", LocalAddr => '127.0.0.1')
	or die "udp socket: $!";
my ($msg, $tid) = stun_check("$sufrag:$cufrag", $spwd // '');
$s->send($msg);
my $res = '';
$s->recv($res, 2048) if IO::Select->new($s)->can_read(3);
is(unpack('n', $res) // 0, 0x0101,
	'no trickle: a check from a new address gets a Binding success');
is(substr($res, 8, 12), $tid, 'the same transaction id');

# the stream is taken while the session lives

is(obs_req(POST => $endpoint, 'Bearer secret', $offer)->{status}, 409,
	'the stream is published: 409');

# DELETE: Bearer too

$r = obs_req(DELETE => $session, undef);
is($r->{status}, 401, 'DELETE without Authorization: 401');
$r = obs_req(DELETE => $session, 'Bearer wrong');
is($r->{status}, 401, 'DELETE with another token: 401');
is(obs_req(POST => $endpoint, 'Bearer secret', $offer)->{status}, 409,
	'the session is still there');

$r = obs_req(DELETE => $session, 'Bearer secret');
is($r->{status}, 200, 'DELETE with the token: exactly 200');
is(obs_req(DELETE => $session, 'Bearer secret')->{status}, 404,
	'DELETE again: 404');

###########################################################################
# "Bearer Bearer <token>": OBS sends "Bearer " + what the user typed, and
# users type "Bearer <token>"; accepted (src/ngx_http_webrtc_module.c)

$r = obs_req(POST => $endpoint, 'Bearer Bearer secret', $offer);
is($r->{status}, 201, '"Bearer Bearer <token>": 201');
$session = obs_resolve($endpoint, $r->{headers}{location} // '');
is(obs_req(DELETE => $session, 'Bearer Bearer secret')->{status}, 200,
	'"Bearer Bearer <token>": DELETE 200');

for my $auth ('Bearer Bearer wrong', 'Bearer Bearer Bearer secret',
	'Bearer  Bearer  secret ', 'bearer bearer secret', 'Bearer secretBearer')
{
	my $want = $auth =~ /^bearer\s+bearer\s+secret\s*$/i ? 201 : 401;
	$r = obs_req(POST => "$ORIGIN/whip/quirk", $auth, $offer);
	is($r->{status}, $want, "\"$auth\": $want");
	obs_req(DELETE => obs_resolve($endpoint, $r->{headers}{location}),
		'Bearer secret') if $r->{status} == 201;
}

###########################################################################
# other OBS offers (t/sdp/README): 30.x with session-level ICE and DTLS
# attributes, AV1, HEVC (no H.265 yet: 422, never a 201 without video)

for my $name (qw/obs30-publish-h264 obs-publish-av1/) {
	$r = obs_req(POST => "$ORIGIN/whip/$name", 'Bearer secret', sdp($name));
	is($r->{status}, 201, "$name: 201");
	my $a = parse_sdp($r->{body} // '');
	is(scalar(candidates($a)), 1, "$name: one candidate");
	my $v = media($a, 'video');
	is_deeply([ $v->{port} // 0, @{$v->{fmts}} ], [ $MEDIA, 96 ],
		"$name: video accepted at 96");
	is(obs_req(DELETE => obs_resolve("$ORIGIN/whip/$name",
			$r->{headers}{location} // ''), 'Bearer secret')->{status},
		200, "$name: DELETE 200");
}

$r = obs_req(POST => "$ORIGIN/whip/hevc", 'Bearer secret',
	sdp('obs-publish-hevc'));
ok($r->{status} == 422 && ($r->{body} // '') =~ /\S/
	|| $r->{status} == 201 && ($r->{body} // '') =~ /^a=rtpmap:96 H265/m,
	'obs-publish-hevc: 422 with a reason (or H.265 accepted)')
	or diag("$r->{status} $r->{body}");

###########################################################################
# OBS 32.1+ simulcast: it stops unless every offered rid is accepted

$r = obs_req(POST => "$ORIGIN/whip/simulcast", 'Bearer secret',
	sdp('obs-publish-simulcast'));
is($r->{status}, 201, 'obs-publish-simulcast: 201');
my $v = media(parse_sdp($r->{body} // ''), 'video');
is_deeply([ $v ? attr($v->{lines}, 'rid') : () ],
	[ '0 recv', '1 recv', '2 recv' ], 'simulcast: a=rid 0, 1, 2 recv');
is_deeply([ $v ? attr($v->{lines}, 'simulcast') : () ], [ 'recv 0;1;2' ],
	'simulcast: a=simulcast:recv 0;1;2');
is(obs_req(DELETE => obs_resolve("$ORIGIN/whip/simulcast",
		$r->{headers}{location} // ''), 'Bearer secret')->{status},
	200, 'simulcast: DELETE 200');
