#!/usr/bin/perl

# WebSocket signaling (RFC 6455): the handshake and its Origin checks, the
# JSON protocol (publish, play, errors, events pushed by the server, the
# end of a session with its connection), framing edge cases answered with
# the right close code, and graceful shutdown.  The client is written
# here, over IO::Socket::IP, so that it can send broken frames.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw/sha1_base64/;
use IO::Select;
use IO::Socket::IP;
use JSON::PP;
use MIME::Base64 qw/encode_base64/;
use Socket qw/IPPROTO_TCP TCP_NODELAY/;
use Test::More;
use Test::Nginx qw/http_req port sdp/;
use Time::HiRes qw/sleep time/;

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

my $t = Test::Nginx->new()->has(qw/http stream http_v2/)->plan(140);

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

worker_processes 2;

events {}

# sessions without ICE outlive the test
webrtc_consent_timeout 300s;

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location = /ws {
            webrtc_websocket;
            webrtc_websocket_max_message 4k;
        }

        # 64k: room for an offer
        location = /ws-default {
            webrtc_websocket;
        }

        location = /ws-token {
            webrtc_websocket;
            webrtc_bearer_token s3cret;
        }

        location = /ws-split {
            webrtc_websocket;
            webrtc_bearer_token s3cret publish;
        }

        location = /ws-empty {
            webrtc_websocket;
            webrtc_bearer_token $arg_t;
        }

        location = /ws-origins {
            webrtc_websocket;
            webrtc_websocket_origins https://app.example;
        }

        # several in one directive, the page's own among them
        location = /ws-self {
            webrtc_websocket;
            webrtc_websocket_origins https://one.example self
                                     https://two.example:8443;
        }

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location = /webrtc/status {
            webrtc_status;
        }
    }

    # HTTP/2 without TLS (prior knowledge), as curl speaks it
    server {
        listen 127.0.0.1:%%PORT_8081%% http2;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location = /ws {
            webrtc_websocket;
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

my $PORT = port(8080);
my $HOST = "127.0.0.1:$PORT";
my $JSON = JSON::PP->new->canonical;

###########################################################################
# a WebSocket client


sub log_size { -s $t->testdir() . '/error.log' || 0 }
sub log_since { substr($t->read_file('error.log'), $_[0]) }

sub tcp {
	my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $PORT,
		Proto => 'tcp', Timeout => 5) or die "connect: $@\n";
	setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
	binmode $s;
	return $s;
}

sub put {
	my ($c, $bytes) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $s = ref $c eq 'HASH' ? $c->{sock} : $c;
	while (length $bytes) {
		my $n = syswrite($s, $bytes);
		return 0 unless $n;
		substr($bytes, 0, $n, '');
	}
	return 1;
}

# reads more into $c->{buf}; 0 on EOF or error, undef on timeout
sub fill {
	my ($c, $deadline) = @_;
	my $left = $deadline - time();
	return undef if $left <= 0;
	return undef unless IO::Select->new($c->{sock})->can_read($left);
	my $n = sysread($c->{sock}, $c->{buf}, 65536, length $c->{buf});
	return $n ? 1 : 0;
}

# handshake(%o): path, key, version, headers => [name => value...],
# no_upgrade, method, extra (bytes sent with the request), slow.  Returns
# the connection { sock, buf, status, headers, body }.
sub handshake {
	my (%o) = @_;
	my $key = $o{key} // encode_base64(join('', map { chr rand 256 } 1 .. 16), '');
	my $req = ($o{method} // 'GET') . ' ' . ($o{path} // '/ws') . " HTTP/1.1\r\n"
		. "Host: " . ($o{host} // $HOST) . "\r\n";
	$req .= "Upgrade: websocket\r\n" unless $o{no_upgrade};
	$req .= "Connection: Upgrade\r\n";
	$req .= "Sec-WebSocket-Key: $key\r\n" if length $key;
	$req .= "Sec-WebSocket-Version: " . ($o{version} // 13) . "\r\n";
	my @h = @{$o{headers} || []};
	while (my ($k, $v) = splice @h, 0, 2) {
		$req .= "$k: $v\r\n";
	}
	$req .= "\r\n" . ($o{extra} // '');

	my $c = { sock => tcp(), buf => '', key => $key, headers => {} };
	put($c, $req);

	my $deadline = time() + 5;
	while ($c->{buf} !~ /\r\n\r\n/) {
		fill($c, $deadline) or return $c;
	}
	(my $head, $c->{buf}) = split /\r\n\r\n/, $c->{buf}, 2;
	($c->{status}) = $head =~ m{^HTTP/1\.1 (\d{3})};
	for (split /\r\n/, $head) {
		my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
		$c->{headers}{lc $k} //= $v;
	}
	if (($c->{status} // 0) != 101) {
		my $len = $c->{headers}{'content-length'} // 0;
		while (length $c->{buf} < $len) {
			fill($c, $deadline) or last;
		}
		$c->{body} = $c->{buf};
		close $c->{sock};
	}
	return $c;
}

sub ws {
	my (%o) = @_;
	my $c = handshake(%o);
	die "handshake: " . ($c->{status} // 'no response') . "\n"
		unless ($c->{status} // 0) == 101;
	return $c;
}

# a client frame: masked unless mask => 0; fin => 0; rsv => bits;
# len => '16' or '64' forces the length form
sub frame {
	my ($op, $payload, %o) = @_;
	$payload //= '';
	my $len = length $payload;
	my $b0 = ($o{fin} // 1 ? 0x80 : 0) | ($o{rsv} // 0) | $op;
	my $m = ($o{mask} // 1) ? 0x80 : 0;
	my $form = $o{len} // ($len < 126 ? 7 : $len < 65536 ? 16 : 64);
	my $f = chr($b0);
	if ($form eq '7') {
		$f .= chr($m | $len);
	} elsif ($form eq '16') {
		$f .= chr($m | 126) . pack('n', $len);
	} else {
		$f .= chr($m | 127) . pack('NN', $len >> 32, $len & 0xffffffff);
	}
	return $f . $payload unless $m;
	my $key = pack('N', int rand 0xffffffff);
	my $mask = substr($key x (int($len / 4) + 1), 0, $len);
	return $f . $key . ($payload ^ $mask);
}

sub text { frame(0x1, @_) }

sub send_json {
	my ($c, $msg) = @_;
	return put($c, text($JSON->encode($msg)));
}

# the next server frame: { fin, opcode, payload }, { eof => 1 } or undef
# (timeout); server frames must be unmasked
sub read_frame {
	my ($c, $timeout) = @_;
	my $deadline = time() + ($timeout // 5);
	for (;;) {
		my $b = $c->{buf};
		if (length $b >= 2) {
			my ($b0, $b1) = unpack 'CC', $b;
			my ($len, $hl) = ($b1 & 0x7f, 2);
			if ($len == 126 && length $b >= 4) {
				($len, $hl) = (unpack('n', substr $b, 2, 2), 4);
			} elsif ($len == 127 && length $b >= 10) {
				my ($hi, $lo) = unpack 'NN', substr $b, 2, 8;
				($len, $hl) = ($hi * 2**32 + $lo, 10);
			}
			if ($len < 126 || $hl > 2) {
				if (length $b >= $hl + $len) {
					substr($c->{buf}, 0, $hl + $len, '');
					return { fin => $b0 >> 7, rsv => $b0 & 0x70,
						opcode => $b0 & 0xf, masked => $b1 >> 7,
						payload => substr($b, $hl, $len) };
				}
			}
		}
		my $r = fill($c, $deadline);
		return undef unless defined $r;
		return { eof => 1 } unless $r;
	}
}

# the next text message, decoded (other frames are kept in $c->{other});
# { eof => 1 }, { close => frame } or { timeout => 1 } otherwise
sub read_msg {
	my ($c, $timeout) = @_;
	my $deadline = time() + ($timeout // 5);
	for (;;) {
		my $f = read_frame($c, $deadline - time())
			or return { timeout => 1 };
		return { eof => 1 } if $f->{eof};
		if ($f->{opcode} == 0x1) {
			my $m = eval { $JSON->decode($f->{payload}) };
			return $m // { raw => $f->{payload} };
		}
		push @{$c->{other}}, $f;
		return { close => $f } if $f->{opcode} == 0x8;
	}
}

# the first message of a type (and matching $pred), skipping others;
# undef if none arrives in time
sub wait_msg {
	my ($c, $type, $timeout, $pred) = @_;
	my $deadline = time() + ($timeout // 5);
	while (time() < $deadline) {
		my $m = read_msg($c, $deadline - time());
		return undef if $m->{eof} || $m->{close} || $m->{timeout};
		push @{$c->{seen}}, $m;
		return $m if ($m->{type} // '') eq $type && (!$pred || $pred->($m));
	}
	return undef;
}

# the status code of the server's close frame: a number, 'none' (empty
# close frame), 'EOF' or 'timeout'; other frames before it are skipped
sub close_code {
	my ($c, $timeout) = @_;
	my $deadline = time() + ($timeout // 5);
	for (;;) {
		my $f = read_frame($c, $deadline - time());
		return 'timeout' unless $f;
		return 'EOF' if $f->{eof};
		next unless $f->{opcode} == 0x8;
		$c->{close_reason} = substr($f->{payload}, 2);
		return length $f->{payload} >= 2
			? unpack('n', $f->{payload}) : 'none';
	}
}

# the client's own close frame after the server's, then EOF
sub finish {
	my ($c) = @_;
	put($c, frame(0x8, pack('n', 1000)));
	close $c->{sock};
}

# sends bytes on a fresh /ws connection, returns the close code
sub close_code_for {
	my ($bytes, %o) = @_;
	my $c = ws(path => $o{path} // '/ws');
	put($c, $bytes);
	my $code = close_code($c);
	finish($c);
	return $code;
}

sub status {
	my ($stream) = @_;
	my $r = http_req(GET => "/webrtc/status?stream=$stream");
	my $j = eval { $JSON->decode($r->{body} // '') } || {};
	return $j->{streams}[0];
}

# polls until $cond->() is true or $timeout
sub within {
	my ($timeout, $cond) = @_;
	my $end = time() + $timeout;
	while (time() < $end) {
		return 1 if $cond->();
		sleep 0.1;
	}
	return $cond->() ? 1 : 0;
}

###########################################################################
# the handshake

my $c = handshake(key => 'dGhlIHNhbXBsZSBub25jZQ==');
is($c->{status}, 101, 'handshake: 101');
is($c->{headers}{'sec-websocket-accept'}, 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
	'handshake: Sec-WebSocket-Accept of the RFC 6455 example key');
like($c->{headers}{upgrade} // '', qr/^websocket$/i, 'handshake: Upgrade');
like($c->{headers}{connection} // '', qr/^upgrade$/i,
	'handshake: Connection: upgrade');
ok(!exists $c->{headers}{'content-length'}
	&& !exists $c->{headers}{'transfer-encoding'},
	'handshake: no body framing');
send_json($c, { type => 'ping' });
is(read_msg($c)->{type}, 'pong', 'handshake: the socket works');
close $c->{sock};

$c = handshake();
is($c->{headers}{'sec-websocket-accept'},
	sha1_base64($c->{key} . $GUID) . '=', 'handshake: a random key');
close $c->{sock};

$c = handshake(no_upgrade => 1);
is($c->{status}, 426, 'no Upgrade header: 426');
like($c->{headers}{upgrade} // '', qr/^websocket$/i,
	'426 names the protocol in Upgrade');

# HTTP/2 cannot upgrade: a 426 would carry an Upgrade header, which
# HTTP/2 forbids (curl and Chromium failed the stream with PROTOCOL_ERROR)

my $h2 = `curl -s -m 5 --http2-prior-knowledge -D - -o /dev/null http://127.0.0.1:${\ port(8081)}/ws 2>&1`;
is($? >> 8, 0, 'GET over HTTP/2: a valid HTTP/2 response');
like($h2, qr!^HTTP/2 400!m, 'GET over HTTP/2: 400');
unlike($h2, qr/^upgrade:/mi, 'GET over HTTP/2: no Upgrade header');

$c = handshake(headers => [], version => 12);
is($c->{status}, 426, 'version 12: 426');
is($c->{headers}{'sec-websocket-version'}, '13',
	'version 12: Sec-WebSocket-Version: 13');

$c = handshake(key => 'short');
is($c->{status}, 400, 'key of 5 characters: 400');
$c = handshake(key => 'AAAAAAAAAAAAAAAAAAAAAAAA');
is($c->{status}, 400, 'key decoding to 18 bytes: 400');
$c = handshake(key => '!' x 22 . '==');
is($c->{status}, 400, 'key not base64: 400');
$c = handshake(key => '');
is($c->{status}, 400, 'no key: 400');

$c = handshake(method => 'POST', headers => ['Content-Length' => 0]);
is($c->{status}, 405, 'POST: 405');
is($c->{headers}{allow}, 'GET', 'POST: Allow: GET');

# cross-site WebSocket hijacking

$c = handshake(headers => [Origin => "http://$HOST"]);
is($c->{status}, 101, 'Origin of the Host: 101');
close $c->{sock} if $c->{status} == 101;

$c = handshake(headers => [Origin => "http://LOCALHOST:$PORT"],
	host => "localhost:$PORT");
is($c->{status}, 101, 'Origin of the Host, case-insensitive: 101');
close $c->{sock} if $c->{status} == 101;

my $off = log_size();
$c = handshake(headers => [Origin => 'https://evil.example']);
is($c->{status}, 403, 'foreign Origin: 403');
like(log_since($off),
	qr/\[info\] .*webrtc: WebSocket from origin "https:\/\/evil\.example" not allowed/,
	'foreign Origin: info log line');

$c = handshake(headers => [Origin => "http://$HOST.evil.example"]);
is($c->{status}, 403, 'Origin with the Host as a prefix: 403');
$c = handshake(headers => [Origin => 'null']);
is($c->{status}, 403, 'Origin "null": 403');

$c = handshake(path => '/ws-origins',
	headers => [Origin => 'https://app.example']);
is($c->{status}, 101, 'webrtc_websocket_origins: listed origin: 101');
close $c->{sock} if $c->{status} == 101;

$c = handshake(path => '/ws-origins',
	headers => [Origin => 'https://other.example']);
is($c->{status}, 403, 'webrtc_websocket_origins: another origin: 403');
$c = handshake(path => '/ws-origins', headers => [Origin => "http://$HOST"]);
is($c->{status}, 403, 'webrtc_websocket_origins: even the own one: 403');

$c = handshake(path => '/ws-origins');
is($c->{status}, 101, 'no Origin (not a browser): 101');
close $c->{sock} if $c->{status} == 101;

# RFC 6454: scheme, host and port, the scheme's default port when none
# (before, only host:port was compared, and a directive kept its first
# origin only)

$c = handshake(headers => [Origin => "https://$HOST"]);
is($c->{status}, 403, 'own host and port, another scheme: 403');
$c = handshake(headers => [Origin => "https://$HOST",
	'X-Forwarded-Proto' => 'https']);
is($c->{status}, 101, 'https behind a proxy (X-Forwarded-Proto): 101');
close $c->{sock} if $c->{status} == 101;
$c = handshake(headers => [Origin => 'http://localhost'],
	host => 'localhost:80');
is($c->{status}, 101, 'port 80 written or not: the same origin: 101');
close $c->{sock} if $c->{status} == 101;
$c = handshake(headers => [Origin => "http://$HOST/"]);
is($c->{status}, 403, 'an Origin with a path: 403');

for my $o ('https://one.example', "http://$HOST", 'https://two.example:8443')
{
	$c = handshake(path => '/ws-self', headers => [Origin => $o]);
	is($c->{status}, 101, "several origins and self: $o: 101");
	close $c->{sock} if $c->{status} == 101;
}
$c = handshake(path => '/ws-self', headers => [Origin => 'https://two.example']);
is($c->{status}, 403, 'several origins: another port: 403');

###########################################################################
# the JSON protocol

$c = ws();
send_json($c, { type => 'ping' });
is_deeply(read_msg($c), { type => 'pong' }, 'ping: pong');

send_json($c, { type => 'dance' });
my $m = read_msg($c);
is_deeply([ @$m{qw/type status/} ], [ 'error', 400 ], 'unknown type: error 400');
like($m->{reason} // '', qr/unknown message type/, 'unknown type: reason');
send_json($c, { type => 'ping' });
is(read_msg($c)->{type}, 'pong', 'after an error: still open');

put($c, text('hello'));
$m = read_msg($c);
is_deeply([ @$m{qw/type status/} ], [ 'error', 400 ], 'not JSON: error 400');
put($c, text('{"stream":"x"}'));
$m = read_msg($c);
is_deeply([ @$m{qw/type status/} ], [ 'error', 400 ], 'no type: error 400');
put($c, text('{"type":"ping"} x'));
is(read_msg($c)->{status}, 400, 'trailing garbage: error 400');
put($c, text('{"type":"candidate","candidate":"candidate:1 1 udp 1 '
	. '127.0.0.1 9 typ host","mid":"0"}{'));
is(read_msg($c)->{status}, 400, 'two objects: error 400');

put($c, text('{"type":"candidate","candidate":"candidate:1 1 udp 1 '
	. '127.0.0.1 9 typ host","mid":"0"}'));
put($c, text('{"type":"end-of-candidates"}'));
send_json($c, { type => 'ping' });
is(read_msg($c)->{type}, 'pong', 'candidate and end-of-candidates: no reply');

send_json($c, { type => 'publish', stream => 'x', sdp => 'v=0' });
is(read_msg($c)->{status}, 400, 'publish of "v=0": 400');

send_json($c, { type => 'stop' });
is(close_code($c), 1000, 'stop: close 1000');
like($c->{close_reason} // '', qr/stop/, 'stop: a reason');
finish($c);

# errors of an offer

my $pub_sdp = sdp('chromium-publish-h264');
my $play_sdp = sdp('chromium-play');

$c = ws(path => '/ws-default');
send_json($c, { type => 'play', stream => 'never', sdp => $play_sdp });
$m = read_msg($c);
is_deeply([ @$m{qw/type status/} ], [ 'error', 404 ],
	'play of a stream never published: 404');

send_json($c, { type => 'publish', sdp => $pub_sdp });
is_deeply([ @{read_msg($c)}{qw/status reason/} ], [ 400, 'no stream name' ],
	'publish without a stream: 400');
send_json($c, { type => 'publish', stream => 'a/b', sdp => $pub_sdp });
is(read_msg($c)->{status}, 404, 'bad stream name: 404');
send_json($c, { type => 'publish', stream => 'bad' });
is_deeply([ @{read_msg($c)}{qw/status reason/} ], [ 400, 'no sdp offer' ],
	'publish without an sdp: 400');

send_json($c, { type => 'publish', stream => 'bad', sdp => "hello\r\n" });
$m = read_msg($c);
is($m->{status}, 400, 'malformed offer: 400');
like($m->{reason} // '', qr/^bad offer: /, 'malformed offer: reason');

send_json($c, { type => 'publish', stream => 'bad',
	sdp => sdp('bad-no-bundle') });
$m = read_msg($c);
is($m->{status}, 422, 'offer without BUNDLE: 422');
like($m->{reason} // '', qr/^bad offer: .*BUNDLE/, 'offer without BUNDLE: reason');
is(status('bad'), undef, 'no stream after bad offers');
finish($c);

# bearer token: a "token" member

$c = ws(path => '/ws-token');
send_json($c, { type => 'publish', stream => 'tok', sdp => $pub_sdp });
is_deeply([ @{read_msg($c)}{qw/type status reason/} ],
	[ 'error', 401, 'bearer token required' ], 'token: none: 401');
send_json($c, { type => 'publish', stream => 'tok', sdp => $pub_sdp,
	token => 'wrong' });
is_deeply([ @{read_msg($c)}{qw/status reason/} ],
	[ 401, 'invalid bearer token' ], 'token: wrong: 401');
send_json($c, { type => 'publish', stream => 'tok', sdp => $pub_sdp,
	token => 's3cret' });
is(read_msg($c)->{type}, 'answer', 'token: right: answer');
close $c->{sock};

# a publish token: publishing needs it, playing does not (before, one token
# covered both, or none did)

$c = ws(path => '/ws-split');
send_json($c, { type => 'publish', stream => 'split', sdp => $pub_sdp });
is_deeply([ @{read_msg($c)}{qw/status reason/} ],
	[ 401, 'bearer token required' ], 'publish token: publish without: 401');
send_json($c, { type => 'publish', stream => 'split', sdp => $pub_sdp,
	token => 's3cret' });
is(read_msg($c)->{type}, 'answer', 'publish token: publish with it: answer');

my $sv = ws(path => '/ws-split');
send_json($sv, { type => 'play', stream => 'split', sdp => sdp('chromium-play') });
is(read_msg($sv)->{type}, 'answer', 'publish token: play needs none: answer');
close $sv->{sock};
close $c->{sock};

# an empty token lets no one in

$c = ws(path => '/ws-empty');
send_json($c, { type => 'publish', stream => 'empty', sdp => $pub_sdp,
	token => '' });
is_deeply([ @{read_msg($c)}{qw/status reason/} ],
	[ 401, 'no bearer token is set for this stream' ],
	'empty token: 401');
close $c->{sock};

# publish

my $p = ws(path => '/ws-default');
send_json($p, { type => 'publish', stream => 'live', sdp => $pub_sdp });
my $answer = read_msg($p);
is($answer->{type}, 'answer', 'publish: answer');
like($answer->{session} // '', qr/^[0-9a-f]{32}$/, 'publish: 32-hex session');
like($answer->{sdp} // '', qr/^a=ice-lite\r$/m, 'publish: a=ice-lite');
my $MEDIA = port(8980);
like($answer->{sdp} // '',
	qr/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 $MEDIA typ host\r$/m,
	'publish: the candidate');
like($answer->{sdp} // '', qr/^a=rtpmap:\d+ H264\/90000\r$/m,
	'publish: H.264 answered');
ok(wait_msg($p, 'viewers', 3, sub { $_[0]{count} == 0
		&& $_[0]{stream} eq 'live' }),
	'publish: viewers 0 at once');

ok(within(3, sub { my $s = status('live');
		$s && $s->{live} && $s->{live} eq '1' }),
	'status: live');

# a WHEP viewer: the publisher's socket is told

my $r = http_req(POST => '/whep/live', body => $play_sdp,
	headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'WHEP viewer: 201');
my $whep = $r->{headers}{location};
my $start = time();
ok(wait_msg($p, 'viewers', 3, sub { $_[0]{count} == 1 }),
	'publisher: {"type":"viewers","count":1} within 3 s');
cmp_ok(time() - $start, '<', 3, 'publisher: told in time');

# a WebSocket player

my $v = ws(path => '/ws-default');
send_json($v, { type => 'play', stream => 'live', sdp => $play_sdp });
$m = read_msg($v);
is($m->{type}, 'answer', 'play: answer');
like($m->{sdp} // '', qr/^a=sendonly\r$/m, 'play: the answer sends');
ok(wait_msg($v, 'event', 3, sub { $_[0]{event} eq 'publisher-started' }),
	'play: event publisher-started');
ok(wait_msg($p, 'viewers', 3, sub { $_[0]{count} == 2 }),
	'publisher: 2 viewers');

# conflicts

send_json($p, { type => 'publish', stream => 'other', sdp => $pub_sdp });
$m = wait_msg($p, 'error') || {};
is_deeply([ @$m{qw/status reason/} ], [ 409, 'one session per connection' ],
	'a second publish on the socket: 409');
send_json($v, { type => 'play', stream => 'live', sdp => $play_sdp });
is((wait_msg($v, 'error') || {})->{status}, 409,
	'a second play on the socket: 409');

$c = ws(path => '/ws-default');
send_json($c, { type => 'publish', stream => 'live', sdp => $pub_sdp });
$m = read_msg($c);
is($m->{status}, 409, 'a published stream: 409');
like($m->{reason} // '', qr/already published/, 'a published stream: reason');

# a session stopped by its player

send_json($c, { type => 'play', stream => 'live', sdp => $play_sdp });
is(read_msg($c)->{type}, 'answer', 'a third viewer');
ok(within(3, sub { ((status('live') || {})->{viewers} // -1) == 3 }),
	'status: 3 viewers');
send_json($c, { type => 'stop' });
is(close_code($c), 1000, 'the third viewer stops: 1000');
finish($c);
ok(within(3, sub { ((status('live') || {})->{viewers} // -1) == 2 }),
	'status: 2 viewers after stop');

# the publisher's connection ends (no close frame): its session too

close $p->{sock};
$start = time();
ok(within(3, sub { my $s = status('live');
		$s && $s->{live} eq '0' }),
	'publisher gone: status live false within 3 s');
ok(wait_msg($v, 'event', 3, sub { $_[0]{event} eq 'publisher-stopped' }),
	'player: event publisher-stopped');
cmp_ok(time() - $start, '<', 4, 'player: told in time');

# a new publisher: the player is told

$p = ws(path => '/ws-default');
send_json($p, { type => 'publish', stream => 'live', sdp => $pub_sdp });
is(read_msg($p)->{type}, 'answer', 'publish again: answer');
ok(wait_msg($v, 'event', 3, sub { $_[0]{event} eq 'publisher-started' }),
	'player: publisher-started again');
close $p->{sock};
close $v->{sock};

$r = http_req(DELETE => $whep);
is($r->{status}, 200, 'WHEP viewer deleted');
ok(within(3, sub { !status('live') }), 'the stream is gone');

###########################################################################
# framing, each on a fresh connection

is(close_code_for(frame(0x1, '{"type":"ping"}', mask => 0)), 1002,
	'unmasked frame: 1002');
is(close_code_for(frame(0x1, 'x', rsv => 0x40)), 1002, 'RSV1: 1002');
is(close_code_for(frame(0x3, '')), 1002, 'opcode 3: 1002');
is(close_code_for(frame(0xb, '')), 1002, 'opcode 0xB: 1002');

my $pad = sub {
	my ($size) = @_;
	my $base = '{"type":"ping","pad":""}';
	(my $j = $base) =~ s/""/'"' . ('x' x ($size - length $base)) . '"'/e;
	return $j;
};

$c = ws();
put($c, text($pad->(4096)));
is(read_msg($c)->{type}, 'pong', 'message of exactly 4k: pong');
finish($c);

is(close_code_for(text($pad->(4097))), 1009, 'message of 4k + 1: 1009');

$c = ws();
put($c, substr(text('x' x 5000), 0, 8));
is(close_code($c), 1009, 'message over 4k: 1009 from its header');
finish($c);

is(close_code_for(frame(0x1, 'x' x 2000, fin => 0)
		. frame(0x0, 'x' x 2000, fin => 0)
		. frame(0x0, 'x' x 200)), 1009,
	'fragments summing over 4k: 1009');

$c = ws(path => '/ws-default');
put($c, text($pad->(65536)));
is(read_msg($c)->{type}, 'pong', 'default location: 64k message: pong');
finish($c);

is(close_code_for(text($pad->(65537)), path => '/ws-default'), 1009,
	'default location: 64k + 1: 1009');

is(close_code_for(text("{\"type\":\"ping\",\"x\":\"\xff\"}")), 1007,
	'invalid UTF-8: 1007');
is(close_code_for(text("{\"type\":\"ping\",\"x\":\"\xed\xa0\x80\"}")), 1007,
	'UTF-8 surrogate: 1007');
is(close_code_for(frame(0x2, '{"type":"ping"}')), 1003, 'binary: 1003');
is(close_code_for(frame(0x0, '{"type":"ping"}')), 1002,
	'continuation without a message: 1002');
is(close_code_for(frame(0x9, 'x' x 126)), 1002, 'ping of 126 bytes: 1002');
is(close_code_for(frame(0x9, 'x', fin => 0)), 1002,
	'fragmented ping: 1002');
is(close_code_for(frame(0x1, '{"type":', fin => 0)
		. frame(0x1, '"ping"}')), 1002,
	'a new message inside a fragmented one: 1002');

# a text message in 3 fragments, a ping in between

$c = ws();
put($c, frame(0x1, '{"type"', fin => 0));
put($c, frame(0x9, 'are you there'));
my $f = read_frame($c);
is_deeply([ @$f{qw/opcode payload fin masked/} ],
	[ 0xa, 'are you there', 1, 0 ],
	'fragments: the pong of a ping in between, at once');
put($c, frame(0x0, ':"pi', fin => 0));
put($c, frame(0xa, 'unsolicited pong'));
put($c, frame(0x0, 'ng"}'));
$f = read_frame($c);
is_deeply([ @$f{qw/opcode payload fin/} ], [ 0x1, '{"type":"pong"}', 1 ],
	'fragments: the assembled message answered');

# UTF-8 split between fragments is still valid
put($c, frame(0x1, "{\"type\":\"ping\",\"x\":\"\xc3", fin => 0)
	. frame(0x0, "\xa9\"}"));
is(read_msg($c)->{type}, 'pong', 'a character split between fragments');
finish($c);

# close frames

# RFC 6455, 5.5.1: after both sending and receiving a close frame, an
# endpoint MUST close the TCP connection; the server closes first (7.1.1)

$c = ws();
put($c, frame(0x8, pack('n', 1000) . 'bye'));
is(close_code($c), 1000, 'client close 1000: echoed');

{
	is((read_frame($c, 4) || { eof => 'timeout' })->{eof}, 1,
		'client close: the server closes the TCP connection');
}

put($c, 'x');
is((read_frame($c, 3) || {})->{eof}, 1,
	'client close: EOF once the client sends anything');
close $c->{sock};

# a session stopped while its client keeps the connection

$c = ws(path => '/ws-default');
send_json($c, { type => 'publish', stream => 'stopped', sdp => $pub_sdp });
is(read_msg($c)->{type}, 'answer', 'stop: a publisher');
ok(within(3, sub { status('stopped') }), 'stop: the stream is live');
send_json($c, { type => 'stop' });
is(close_code($c), 1000, 'stop: 1000');

{
	ok(within(4, sub { !status('stopped') }),
		'stop: the session ends though the client does not close');
}

finish($c);
ok(within(3, sub { !status('stopped') }),
	'stop: the session ends when the client closes');

is(close_code_for(frame(0x8, pack('n', 4000))), 4000,
	'client close 4000: echoed');
is(close_code_for(frame(0x8, '')), 1000, 'client close without code: 1000');
is(close_code_for(frame(0x8, pack('n', 1005))), 1002,
	'client close 1005: 1002');
is(close_code_for(frame(0x8, 'x')), 1002, 'client close of 1 byte: 1002');
is(close_code_for(frame(0x8, pack('n', 1000) . "\xff")), 1002,
	'client close with invalid UTF-8 reason: 1002');

# a slow client

$c = ws();
my $ok = 1;
for my $byte (split //, text('{"type":"ping"}') . frame(0x9, 'slow')) {
	$ok &&= put($c, $byte);
	sleep 0.01;
}
$f = read_frame($c);
ok($ok && $f && $f->{opcode} == 0x1 && $f->{payload} eq '{"type":"pong"}',
	'one byte per write: pong');
$f = read_frame($c);
ok($f && $f->{opcode} == 0xa && $f->{payload} eq 'slow',
	'one byte per write: the ping answered');
finish($c);

# frames sent with the handshake

$c = ws(extra => text('{"type":"ping"}') . text('{"type":"ping"}'));
is(read_msg($c)->{type}, 'pong', 'frames with the handshake: first pong');
is(read_msg($c)->{type}, 'pong', 'frames with the handshake: second pong');
finish($c);

# frames sent with a handshake whose headers overflow the 1k client
# header buffer: nginx reads them into a large header buffer (8k), and
# all that followed the headers must reach the parser

{
	$c = ws(headers => ['X-Pad' => 'p' x 2000],
		extra => text($pad->(2400)) x 2 . text('{"type":"ping"}'));
	my ($pongs, $end) = (0, time() + 3);
	while ($pongs < 3 && time() < $end) {
		my $m = read_msg($c, $end - time());
		last if $m->{eof} || $m->{close} || $m->{timeout};
		$pongs++ if ($m->{type} // '') eq 'pong';
	}
	is($pongs, 3, 'large headers and 4.8k of frames with them: 3 pongs');
	close $c->{sock};
}

# the handshake one byte per write

{
	my $key = 'dGhlIHNhbXBsZSBub25jZQ==';
	my $s = tcp();
	my $req = "GET /ws HTTP/1.1\r\nHost: $HOST\r\nUpgrade: websocket\r\n"
		. "Connection: Upgrade\r\nSec-WebSocket-Key: $key\r\n"
		. "Sec-WebSocket-Version: 13\r\n\r\n" . text('{"type":"ping"}');
	for my $byte (split //, $req) {
		put($s, $byte);
		sleep 0.002;
	}
	$c = { sock => $s, buf => '' };
	my $deadline = time() + 5;
	fill($c, $deadline) while $c->{buf} !~ /\r\n\r\n/ && time() < $deadline;
	$c->{buf} =~ s/^(.*?)\r\n\r\n//s;
	my $head = $1 // '';
	ok($head =~ m{^HTTP/1\.1 101} && read_msg($c)->{type} eq 'pong',
		'handshake and frame one byte per write: pong');
	finish($c);
}

###########################################################################
# graceful shutdown with open WebSockets

$c = ws();
$p = ws(path => '/ws-default');
send_json($p, { type => 'publish', stream => 'bye', sdp => $pub_sdp });
is(read_msg($p)->{type}, 'answer', 'shutdown: a publisher');

$start = time();
$t->stop();
my $took = time() - $start;
cmp_ok($took, '<', 5, 'shutdown: nginx exits promptly with open WebSockets');

my $code = close_code($c, 1);
like($code, qr/^(1001|EOF)$/, 'shutdown: close 1001 or at least EOF');

{
	is($code, 1001, 'shutdown: close frame 1001');
}

$code = close_code($p, 1);
like($code, qr/^(1001|EOF)$/, 'shutdown: the publisher: 1001 or EOF');
