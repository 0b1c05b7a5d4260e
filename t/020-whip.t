#!/usr/bin/perl

# WHIP (RFC 9725) signaling: POST / OPTIONS / PATCH / DELETE, error
# responses, request bodies as nginx reads them, sessions shared by two
# workers, ICE restart, and session expiry.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::IP;
use Test::More;
use Test::Nginx qw/http http_req port sdp parse_sdp attr media/;
use Time::HiRes qw/sleep time/;

my $SDP = "$FindBin::Bin/sdp";
my $CT_SDP = 'application/sdp';
my $CT_FRAG = 'application/trickle-ice-sdpfrag';

# offers of one audio and one video section answered 201 whatever their
# quirks (t/022-sdp-fixtures.t posts every offer of t/sdp)
my @good = ((map { (m{([^/]+)\.sdp$})[0] }
		sort glob("$SDP/chromium-publish-*.sdp")),
	qw/edge-session-level-ice edge-group-ls edge-uppercase-codecs
	edge-lowercase-codecs edge-lf-only edge-obs-h264-high/);

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(129 + @good);

my $conf = <<'EOF';
%%TEST_GLOBALS%%

worker_processes 2;
%%MAIN%%

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_HTTP%% reuseport;
        server_name localhost;

        add_header X-Worker $pid always;
        add_header X-Test 1 always;

        webrtc_candidate 127.0.0.1:%%PORT_MEDIA%%;
        webrtc_candidate [::1]:%%PORT_MEDIA%%;
        # the public address of a 1:1 NAT (documentation range)
        webrtc_candidate 203.0.113.7:%%PORT_MEDIA%%;

        location /whip/ {
            webrtc_whip;
        }

        location /small/ {
            webrtc_whip;
            client_max_body_size 4k;
        }

        location /spill/ {
            webrtc_whip;
            client_body_buffer_size 1k;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_MEDIA%% udp reuseport;
        webrtc;
    }
}
EOF

sub instance_conf {
	my ($http, $media, $main) = @_;
	(my $c = $conf) =~ s/%%PORT_HTTP%%/%%PORT_${http}%%/g;
	$c =~ s/%%PORT_MEDIA%%/%%PORT_${media}_UDP%%/g;
	$c =~ s/%%MAIN%%/$main/;
	return $c;
}

$t->write_file_expand('nginx.conf', instance_conf(8080, 8980, ''))->run();

my $MEDIA = port(8980);

###########################################################################
# helpers


sub ice {
	my ($offer) = @_;
	my ($u) = $offer =~ /^a=ice-ufrag:(\S+?)\r?$/m;
	my ($p) = $offer =~ /^a=ice-pwd:(\S+?)\r?$/m;
	return ($u, $p);
}

my %by_status;          # first response seen for each status

sub req {
	my ($method, $uri, %o) = @_;
	my $r = http_req($method, $uri, %o);
	$by_status{$r->{status}} //= $r if defined $r->{status};
	return $r;
}

sub post {
	my ($uri, $body, %h) = @_;
	return req(POST => $uri, body => $body,
		headers => { 'Content-Type' => $CT_SDP, %h });
}

sub patch {
	my ($uri, $body, %h) = @_;
	return req(PATCH => $uri, body => $body,
		headers => { 'Content-Type' => $CT_FRAG, %h });
}

sub frag {
	my ($ufrag, $pwd) = @_;
	return "a=ice-ufrag:$ufrag\r\na=ice-pwd:$pwd\r\n"
		. "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
		. "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n"
		. "a=end-of-candidates\r\n";
}

sub log_size { -s $t->testdir() . '/error.log' || 0 }

sub log_since {
	my ($tt, $off) = @_;
	return substr($tt->read_file('error.log'), $off);
}

# an error response: status, text/plain, exactly one line, and the same
# reason in error.log at info level ("webrtc: <reason>") from that worker
sub error_is {
	my ($r, $status, $name, $off, $tt) = @_;
	$tt //= $t;
	my $body = $r->{body} // '';
	my ($reason) = $body =~ /\A([^\n]+)\n\z/;
	my $log = log_since($tt, $off);
	my $pid = $r->{headers}{'x-worker'} // 'none';
	my $logged = defined $reason && $reason !~ /[\r\x00-\x1f]/
		&& $log =~ /\[info\] \Q$pid\E#\d+: \*\d+ webrtc: \Q$reason\E, client: /
		? 1 : 0;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is_deeply([ $r->{status}, $r->{headers}{'content-type'},
			defined $reason ? 'one line' : "body: $body", $logged ],
		[ $status, 'text/plain', 'one line', 1 ], $name);
}




# payload type of a codec in an offer's m= section, by rtpmap and fmtp
sub offer_pt {
	my ($m, $codec, $fmtp_re) = @_;
	for my $pt (@{$m->{fmts}}) {
		next unless grep { /^\Q$pt\E \Q$codec\E\//i } attr($m->{lines}, 'rtpmap');
		next if $fmtp_re
			&& !grep { /^\Q$pt\E .*$fmtp_re/ } attr($m->{lines}, 'fmtp');
		return $pt;
	}
	return undef;
}

# keep-alive connection: several requests, all served by one worker
sub ka_connect {
	my ($p) = @_;
	return IO::Socket::IP->new(PeerHost => '127.0.0.1',
		PeerPort => $p // port(8080), Proto => 'tcp', Timeout => 5);
}

sub ka_req {
	my ($s, $method, $uri, %o) = @_;
	my $h = $o{headers} || {};
	my $req = "$method $uri HTTP/1.1\r\nHost: localhost\r\n";
	$req .= "$_: $h->{$_}\r\n" for sort keys %$h;
	$req .= 'Content-Length: ' . length($o{body}) . "\r\n"
		if defined $o{body};
	$req .= "\r\n" . ($o{body} // '');
	my $res = eval {
		local $SIG{ALRM} = sub { die "timeout\n" };
		local $SIG{PIPE} = 'IGNORE';
		alarm 10;
		print $s $req or die "write: $!\n";
		my $buf = '';
		until ($buf =~ /\r\n\r\n/) {
			sysread($s, $buf, 65536, length $buf) or die "eof\n";
		}
		my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
		my $len = $head =~ /^Content-Length:\s*(\d+)/mi ? $1 : 0;
		while (length $rest < $len) {
			sysread($s, $rest, 65536, length $rest) or die "eof\n";
		}
		alarm 0;
		Test::Nginx::parse_response("$head\r\n\r\n$rest");
	};
	alarm 0;
	return $res || {};
}

my $HEX32 = qr/[0-9a-f]{32}/;
my $ICE = qr/[A-Za-z0-9+\/]/;

###########################################################################
# publish: the answer

my $h264 = sdp('chromium-publish-h264');
my $r = post('/whip/test', $h264);
my $ans = parse_sdp($r->{body});
my $offer = parse_sdp($h264);
my ($audio, $video) = (media($ans, 'audio'), media($ans, 'video'));

is($r->{status}, 201, 'publish: 201 Created');
is($r->{headers}{'content-type'}, $CT_SDP, 'publish: Content-Type');
like($r->{headers}{location} // '', qr{^/whip/test/$HEX32$},
	'publish: Location is the session URL');
like($r->{headers}{etag} // '', qr/^"[\x21\x23-\x7e]+"$/,
	'publish: strong ETag');
my $location = $r->{headers}{location} // '/whip/test/none';
my $etag = $r->{headers}{etag} // '';

ok(length($r->{body} // '') && $r->{body} =~ /\r\n\z/
	&& $r->{body} !~ /(?<!\r)\n/, 'answer lines end in CRLF');
is_deeply([ attr($ans->{session}, 'ice-lite') ], [1], 'a=ice-lite');
is_deeply([ attr($ans->{session}, 'group') ], ['BUNDLE 0 1'],
	'a=group:BUNDLE 0 1');

my @ufrag = map { attr($_->{lines}, 'ice-ufrag') } @{$ans->{media}};
my @pwd = map { attr($_->{lines}, 'ice-pwd') } @{$ans->{media}};
my @fp = map { attr($_->{lines}, 'fingerprint') } @{$ans->{media}};

ok(@ufrag == 2 && $ufrag[0] eq $ufrag[1] && $ufrag[0] =~ /^$ICE{8}$/,
	'a=ice-ufrag: 8 ice-chars, the same in both m= sections')
	or diag("@ufrag");
ok(@pwd == 2 && $pwd[0] eq $pwd[1] && $pwd[0] =~ /^$ICE{32}$/,
	'a=ice-pwd: 32 ice-chars (RFC 8445 needs 22)') or diag("@pwd");
ok(@fp == 2 && $fp[0] eq $fp[1]
	&& $fp[0] =~ /^sha-256 [0-9A-F]{2}(?::[0-9A-F]{2}){31}$/,
	'a=fingerprint:sha-256, 32 colon-separated hex pairs') or diag("@fp");
is_deeply([ map { [ attr($_->{lines}, 'setup') ] } @{$ans->{media}} ],
	[ ['passive'], ['passive'] ], 'a=setup:passive');
is_deeply([ map { [ attr($_->{lines}, 'rtcp-mux') ] } @{$ans->{media}} ],
	[ [1], [1] ], 'a=rtcp-mux');
is_deeply([ map { [ attr($_->{lines}, 'mid') ] } @{$ans->{media}} ],
	[ ['0'], ['1'] ], 'a=mid of the offer, in its order');
is_deeply([ map { [ $_->{kind}, $_->{port}, $_->{proto} ] } @{$ans->{media}} ],
	[ [ 'audio', $MEDIA, 'UDP/TLS/RTP/SAVPF' ],
	  [ 'video', $MEDIA, 'UDP/TLS/RTP/SAVPF' ] ],
	'm= lines: the media port, UDP/TLS/RTP/SAVPF');

my @cands = map { [ (split ' ')[1, 2, 4, 5, 6, 7] ] }
	map { attr($_->{lines}, 'candidate') } @{$ans->{media}};
is_deeply([ sort { $a->[2] cmp $b->[2] } @cands ],
	[ [ 1, 'udp', '127.0.0.1', $MEDIA, 'typ', 'host' ],
	  [ 1, 'udp', '203.0.113.7', $MEDIA, 'typ', 'host' ],
	  [ 1, 'udp', '::1', $MEDIA, 'typ', 'host' ] ],
	'a=candidate for every webrtc_candidate, the NAT address included')
	or diag(explain \@cands);
is(scalar(map { attr($_->{lines}, 'end-of-candidates') } @{$ans->{media}}), 1,
	'a=end-of-candidates');
is_deeply([ map { [ grep { /^a=(sendrecv|sendonly|recvonly|inactive)$/ }
		@{$_->{lines}} ] } @{$ans->{media}} ],
	[ ['a=recvonly'], ['a=recvonly'] ], 'recvonly');

my $pt = offer_pt(media($offer, 'video'), 'H264',
	qr/(?=.*packetization-mode=1)(?=.*profile-level-id=42e01f)/i);
is_deeply([ $video ? @{$video->{fmts}} : (),
		$video ? attr($video->{lines}, 'rtpmap') : () ],
	[ $pt, "$pt H264/90000" ], 'video: H264 at the offer\'s payload type');
my ($fmtp) = $video ? grep { /^\Q$pt\E / } attr($video->{lines}, 'fmtp') : ();
like($fmtp // '', qr/(?=.*\bpacketization-mode=1\b)(?=.*\bprofile-level-id=42e01f\b)/i,
	'video: H264 packetization-mode=1, profile-level-id=42e01f');
my $apt = offer_pt(media($offer, 'audio'), 'opus');
is_deeply([ $audio ? @{$audio->{fmts}} : (),
		$audio ? attr($audio->{lines}, 'rtpmap') : () ],
	[ $apt, "$apt opus/48000/2" ], 'audio: opus/48000/2');

# another stream: another session, other ICE credentials
$r = post('/whip/test2', sdp('chromium-publish-vp8'));
my $a2 = parse_sdp($r->{body});
my ($u2) = map { attr($_->{lines}, 'ice-ufrag') } @{$a2->{media}};
my ($p2) = map { attr($_->{lines}, 'ice-pwd') } @{$a2->{media}};
is($r->{status}, 201, 'publish another stream');
ok(defined $u2 && defined $p2 && $u2 ne $ufrag[0] && $p2 ne $pwd[0]
	&& ($r->{headers}{location} // '') =~ m{^/whip/test2/$HEX32$}
	&& substr($r->{headers}{location}, -32) ne substr($location, -32),
	'another session id, ice-ufrag and ice-pwd');

# the stream is taken
my $off = log_size();
$r = post('/whip/test', sdp('chromium-publish-vp8'));
error_is($r, 409, 'second publisher of a stream: 409', $off);

###########################################################################
# OPTIONS, methods

$r = req(OPTIONS => '/whip/test');
is($r->{status}, 204, 'OPTIONS endpoint: 204');
like($r->{headers}{allow} // '', qr/(?=.*\bPOST\b)(?=.*\bOPTIONS\b)/,
	'OPTIONS endpoint: Allow: OPTIONS, POST');
is($r->{headers}{'accept-post'}, $CT_SDP, 'OPTIONS endpoint: Accept-Post');

$r = req(OPTIONS => $location);
is($r->{status}, 204, 'OPTIONS session: 204');
like($r->{headers}{allow} // '', qr/(?=.*\bPATCH\b)(?=.*\bDELETE\b)/,
	'OPTIONS session: Allow: PATCH, DELETE');
is($r->{headers}{'accept-patch'}, $CT_FRAG, 'OPTIONS session: Accept-Patch');

for my $m (qw/GET PUT DELETE/) {
	$off = log_size();
	$r = req($m => '/whip/test', $m eq 'PUT' ? (body => 'x') : ());
	error_is($r, 405, "$m endpoint: 405", $off);
	like($r->{headers}{allow} // '', qr/\bPOST\b/, "$m endpoint: Allow");
}

for my $m (qw/GET POST/) {
	$off = log_size();
	$r = req($m => $location, $m eq 'POST'
		? (body => $h264, headers => { 'Content-Type' => $CT_SDP }) : ());
	error_is($r, 405, "$m session: 405", $off);
	like($r->{headers}{allow} // '', qr/(?=.*\bPATCH\b)(?=.*\bDELETE\b)/,
		"$m session: Allow");
}

###########################################################################
# media types

$off = log_size();
$r = post('/whip/ct', sdp('chromium-publish-vp8'), 'Content-Type' => 'text/plain');
error_is($r, 415, 'POST text/plain: 415', $off);
is($r->{headers}{'accept-post'}, $CT_SDP, 'POST text/plain: Accept-Post');
{
	is_deeply([ grep { /\[alert\]/ } split /\n/, log_since($t, $off) ], [],
		'POST text/plain: no alert');
}

$off = log_size();
$r = req(POST => '/whip/ct', body => sdp('chromium-publish-vp8'));
error_is($r, 415, 'POST without Content-Type: 415', $off);

$off = log_size();
$r = post('/whip/ct', sdp('chromium-publish-vp8'), 'Content-Type' => 'application/sdpx');
error_is($r, 415, 'POST application/sdpx: 415', $off);

$r = post('/whip/ct', sdp('chromium-publish-vp8'),
	'Content-Type' => 'Application/SDP; charset=utf-8');
is($r->{status}, 201, 'POST application/sdp with parameters: 201, '
	. 'the 415s published nothing');

my ($ou, $op) = ice($h264);
$off = log_size();
$r = patch($location, frag($ou, $op), 'Content-Type' => $CT_SDP);
error_is($r, 415, 'PATCH application/sdp: 415', $off);
is($r->{headers}{'accept-patch'}, $CT_FRAG, 'PATCH application/sdp: Accept-Patch');
{
	is_deeply([ grep { /\[alert\]/ } split /\n/, log_since($t, $off) ], [],
		'PATCH application/sdp: no alert');
}

###########################################################################
# request bodies: limits, chunked, buffered to a temporary file

$r = post('/small/big', $h264);
is($r->{status}, 413, 'body over client_max_body_size: 413');

my $chunked = join '', map { sprintf("%x\r\n%s\r\n", length, $_) }
	unpack('(a1000)*', $h264);
$chunked .= "0\r\n\r\n";

sub post_chunked {
	my ($uri) = @_;
	my $res = Test::Nginx::parse_response(http("POST $uri HTTP/1.1\r\n"
		. "Host: localhost\r\nConnection: close\r\n"
		. "Content-Type: $CT_SDP\r\nTransfer-Encoding: chunked\r\n\r\n"
		. $chunked));
	$by_status{$res->{status}} //= $res if defined $res->{status};
	return $res;
}

$r = post_chunked('/small/bigchunked');
is($r->{status}, 413, 'chunked body over client_max_body_size: 413');

$r = post_chunked('/whip/chunked');
is($r->{status}, 201, 'chunked body: 201');

$off = log_size();
$r = post('/spill/file', $h264);
is($r->{status}, 201, 'body buffered to a temporary file: 201');
like(log_since($t, $off), qr/client request body is buffered to a temporary file/,
	'the body was in a temporary file');

$r = post_chunked('/spill/spillchunked');
is($r->{status}, 201, 'chunked body in a temporary file: 201');

###########################################################################
# bad offers

my @bad = (
	[ 'bad-no-bundle', 422 ],
	[ 'bad-no-fingerprint', 400 ],
	[ 'bad-no-ice', 400 ],
	[ 'bad-no-codec', 422 ],
	[ 'bad-two-video', 422 ],
);

for my $b (@bad) {
	$off = log_size();
	$r = post("/whip/$b->[0]", sdp($b->[0]));
	error_is($r, $b->[1], "$b->[0]: $b->[1]", $off);
}

$r = post('/whip/bad-no-bundle', sdp('chromium-publish-vp8'));
is($r->{status}, 201, 'a rejected offer leaves the stream free');

# a BUNDLE group repeating its mids: its answer overflowed the buffer
# ([alert], 500) and the stream kept a publisher (409 for the next one)

(my $huge = sdp('chromium-publish-vp8'))
	=~ s/^a=group:BUNDLE 0 1/'a=group:BUNDLE 0 1' . ' 0' x 9000/me;
$off = log_size();
$r = post('/whip/huge-group', $huge);
error_is($r, 400, 'BUNDLE 0 1 and 9,000 more 0s: 400', $off);
$r = post('/whip/huge-group', sdp('chromium-publish-vp8'));
is($r->{status}, 201, 'BUNDLE 0 1 and 9,000 more 0s: the stream is free');

srand(20261121);
my $garbage = join '', map { chr(int rand 256) } 1 .. 4096;

my @malformed = (
	[ 'empty body', '' ],
	[ 'garbage bytes', $garbage ],
	[ 'NUL bytes', "\0" x 1000 ],
	[ 'binary after v=0', "v=0\r\n" . $garbage ],
	[ 'huge single line', "v=0\r\na=" . ('x' x 900_000) . "\r\n" ],
	[ 'huge line without end', 'v' x 900_000 ],
	[ 'only v=0', "v=0\r\n" ],
);

for my $m (@malformed) {
	$off = log_size();
	$r = post('/whip/malformed', $m->[1]);
	error_is($r, 400, "$m->[0]: 400", $off);
}

$off = log_size();
$r = req(POST => '/whip/malformed', headers => { 'Content-Type' => $CT_SDP });
error_is($r, 400, 'no body at all: 400', $off);

# real offers and hand-edited edge cases
for my $name (@good) {
	$r = post("/whip/good-$name", sdp($name));
	my $g = parse_sdp($r->{body});
	is_deeply([ $r->{status}, map { [ $_->{kind},
			attr($_->{lines}, 'recvonly') ] } @{$g->{media}} ],
		[ 201, [ 'audio', 1 ], [ 'video', 1 ] ], "$name: 201");
}

###########################################################################
# sessions: unknown, malformed URLs, DELETE

my $id = substr($location, -32);
my $random = join '', map { sprintf '%x', int rand 16 } 1 .. 32;
$random =~ s/^./$id =~ m{^0} ? '1' : '0'/e;

for my $u ("/whip/test/$random", '/whip/test/abc', '/whip/test/' . ('z' x 32),
	"/whip/test/${id}0", "/whip/test2/$id", '/whip/test/', '/whip/',
	"/whip/te%20st/$id")
{
	$off = log_size();
	$r = req(DELETE => $u);
	error_is($r, 404, "DELETE $u: 404", $off);
}

$off = log_size();
$r = patch("/whip/test/$random", frag($ou, $op));
error_is($r, 404, 'PATCH unknown session: 404', $off);

$r = post('/whip/del', sdp('chromium-publish-vp8'));
my $del = $r->{headers}{location} // '/whip/del/none';
is(req(DELETE => $del)->{status}, 200, 'DELETE session: 200');
$off = log_size();
$r = req(DELETE => $del);
error_is($r, 404, 'DELETE again: 404', $off);
is(post('/whip/del', sdp('chromium-publish-vp8'))->{status}, 201,
	'the stream can be published again');

###########################################################################
# any worker serves any session

my %workers;

sub other_worker {
	my ($loc, $not) = @_;
	for (1 .. 100) {
		my $s = ka_connect() or next;
		my $o = ka_req($s, OPTIONS => $loc);
		my $w = $o->{headers}{'x-worker'} // next;
		$workers{$w} = 1;
		return $s if $w ne $not;
		close $s;
	}
	return undef;
}

$r = post('/whip/xdelete', sdp('chromium-publish-vp8'));
my $w1 = $r->{headers}{'x-worker'} // 'none';
$workers{$w1} = 1;
my $s = other_worker($r->{headers}{location} // '', $w1);
ok($s, 'a connection to the other worker');
$r = $s ? ka_req($s, DELETE => $r->{headers}{location}) : {};
is($r->{status}, 200, 'DELETE on the other worker: 200');
ok(($r->{headers}{'x-worker'} // $w1) ne $w1,
	'DELETE served by another worker than POST');
$r = $s ? ka_req($s, OPTIONS => '/whip/xdelete') : {};
is($r->{status}, 204, 'keep-alive connection still usable');

my $vp8 = sdp('chromium-publish-vp8');
my ($vu, $vpw) = ice($vp8);
$r = post('/whip/xpatch', $vp8);
$w1 = $r->{headers}{'x-worker'} // 'none';
$workers{$w1} = 1;
my $xloc = $r->{headers}{location} // '';
$s = other_worker($xloc, $w1);
$r = $s ? ka_req($s, PATCH => $xloc, body => frag($vu, $vpw),
	headers => { 'Content-Type' => $CT_FRAG }) : {};
ok($r->{status} && $r->{status} == 204
	&& ($r->{headers}{'x-worker'} // $w1) ne $w1,
	'PATCH served by another worker than POST: 204');

is_deeply([ sort keys %workers ], [ sort { $a <=> $b } $t->worker_pids() ],
	'both workers answered');

###########################################################################
# PATCH: trickle ICE (RFC 8840)

$r = post('/whip/trickle', $vp8);
my $tloc = $r->{headers}{location} // '';
my $tetag = $r->{headers}{etag} // '';

$r = patch($tloc, frag($vu, $vpw));
is($r->{status}, 204, 'trickle: 204');
$r = patch($tloc, frag($vu, $vpw), 'If-Match' => $tetag);
is($r->{status}, 204, 'trickle with If-Match: ETag: 204');

$off = log_size();
$r = patch($tloc, frag($vu, $vpw), 'If-Match' => '"nomatch1"');
error_is($r, 412, 'trickle with another If-Match: 412', $off);

$off = log_size();
$r = patch($tloc, frag('Zz9+', $vpw));
error_is($r, 422, 'trickle with another ice-ufrag: 422', $off);

for my $m ([ 'garbage', "garbage\r\n" ], [ 'no ice-ufrag', "a=foo\r\n" ],
	[ 'binary', $garbage ], [ 'empty', '' ])
{
	$off = log_size();
	$r = patch($tloc, $m->[1]);
	error_is($r, 400, "malformed sdpfrag ($m->[0]): 400", $off);
}

###########################################################################
# PATCH: ICE restart (RFC 9725, 4.3.2)

$r = post('/whip/restart', $vp8);
my $rloc = $r->{headers}{location} // '';
my $retag = $r->{headers}{etag} // '';
my $ra = parse_sdp($r->{body});
my ($ans_u) = attr($ra->{media}[0]{lines} // [], 'ice-ufrag');
my ($ans_p) = attr($ra->{media}[0]{lines} // [], 'ice-pwd');

my ($nu, $np) = ('Rst1', 'restartpasswordrestart1');
$r = patch($rloc, frag($nu, $np), 'If-Match' => '*');
my $rf = parse_sdp($r->{body});
my @rl = (@{$rf->{session}}, map { @{$_->{lines}} } @{$rf->{media}});
my ($new_u) = attr(\@rl, 'ice-ufrag');
my ($new_p) = attr(\@rl, 'ice-pwd');
my $new_etag = $r->{headers}{etag} // '';

is($r->{status}, 200, 'ICE restart: 200');
is($r->{headers}{'content-type'}, $CT_FRAG, 'ICE restart: Content-Type');
ok(defined $new_u && $new_u =~ /^$ICE{4,256}$/ && $new_u ne ($ans_u // ''),
	'ICE restart: new a=ice-ufrag');
ok(defined $new_p && $new_p =~ /^$ICE{22,256}$/ && $new_p ne ($ans_p // ''),
	'ICE restart: new a=ice-pwd');
is(scalar(attr(\@rl, 'candidate')), 3, 'ICE restart: candidates');
ok($new_etag =~ /^"[\x21\x23-\x7e]+"$/ && $new_etag ne $retag,
	'ICE restart: new ETag');

$off = log_size();
$r = patch($rloc, frag($vu, $vpw));
error_is($r, 422, 'after restart, trickle with the old ice-ufrag: 422', $off);
is(patch($rloc, frag($nu, $np))->{status}, 204,
	'after restart, trickle with the new ice-ufrag: 204');
$off = log_size();
$r = patch($rloc, frag($nu, $np), 'If-Match' => $retag);
error_is($r, 412, 'after restart, If-Match: old ETag: 412', $off);
is(patch($rloc, frag($nu, $np), 'If-Match' => $new_etag)->{status}, 204,
	'after restart, If-Match: new ETag: 204');

# failed restarts keep the session
$off = log_size();
$r = patch($rloc, "garbage\r\n", 'If-Match' => '*');
error_is($r, 400, 'ICE restart with a malformed sdpfrag: 400', $off);
$off = log_size();
$r = patch($rloc, frag($nu, $np), 'If-Match' => '*');
error_is($r, 400, 'ICE restart with the same ice-ufrag: 400', $off);
is(patch($rloc, frag($nu, $np), 'If-Match' => $new_etag)->{status}, 204,
	'after failed restarts: session and ETag unchanged');
is(req(DELETE => $rloc)->{status}, 200, 'after failed restarts: DELETE: 200');

# the form of the RFC 9725 and WHEP examples: If-Match: "*"
$r = post('/whip/restartq', $vp8);
my $qloc = $r->{headers}{location} // '';
$r = patch($qloc, frag($nu, $np), 'If-Match' => '"*"');
{
	is($r->{status}, 200, 'ICE restart with If-Match: "*": 200');
}

###########################################################################
# add_header ... always: on every response of the module and of nginx

for my $st (qw/200 201 204 400 404 405 409 412 413 415 422/) {
	is($by_status{$st} && $by_status{$st}{headers}{'x-test'}, '1',
		"add_header always on $st");
}

$t->stop();

###########################################################################
# sessions whose ICE never completes expire (webrtc_consent_timeout)

my $t2 = Test::Nginx->new();
$t2->write_file_expand('nginx.conf',
	instance_conf(8082, 8982, 'webrtc_consent_timeout 2s;'))->run();

$r = http_req(POST => '/whip/exp', port => port(8082), body => $vp8,
	headers => { 'Content-Type' => $CT_SDP });
my $start = time();
my $eloc = $r->{headers}{location} // '/whip/exp/none';
my $eid = substr($eloc, -32);
is($r->{status}, 201, 'expiry: publish');
is(http_req(PATCH => $eloc, port => port(8082), body => frag($vu, $vpw),
	headers => { 'Content-Type' => $CT_FRAG })->{status}, 204,
	'expiry: session alive at first');

my $expired;
while (time() - $start < 10) {
	last if $expired = $t2->log_lines(
		qr/\[info\] .*webrtc publisher session $eid of stream "exp" timed out/);
	sleep 0.1;
}
my $elapsed = time() - $start;
ok($expired && $elapsed > 0.5 && $elapsed < 9,
	'expiry: "timed out" logged after the 2s timeout')
	or diag("elapsed $elapsed");
$r = http_req(DELETE => $eloc, port => port(8082));
is($r->{status}, 404, 'expiry: DELETE after expiry: 404');
is(http_req(POST => '/whip/exp', port => port(8082), body => $vp8,
	headers => { 'Content-Type' => $CT_SDP })->{status}, 201,
	'expiry: the stream can be published again');

$t2->stop();
