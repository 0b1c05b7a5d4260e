#!/usr/bin/perl

# The module behind a reverse proxy, as conf-examples/reverse-proxy.conf
# sets it up: a front server terminates TLS and proxies WHIP, WHEP and the
# WebSocket (HTTP/1.1 upgrade) to a back server with the module in plain
# HTTP, in the same nginx; media goes to the UDP port directly.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw/sha1_base64/;
use IO::Select;
use IO::Socket::SSL;
use JSON::PP;
use MIME::Base64 qw/encode_base64/;
use POSIX ();
use Test::More;
use Test::Nginx qw/http_req port run_cmd sdp/;
use Time::HiRes qw/sleep time/;

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
my $CT_SDP = 'application/sdp';

my $t = Test::Nginx->new()->has(qw/http stream http_ssl http_v2/)->plan(43);

###########################################################################
# configuration


sub read_text {
	my ($path) = @_;
	open my $fh, '<', $path or die "$path: $!";
	local $/;
	return <$fh>;
}

my $d = $t->testdir();
$t->write_cert('localhost');

# the prefixed location is conf-examples/reverse-proxy.conf's own
my ($rtc) = read_text("$FindBin::Bin/../conf-examples/reverse-proxy.conf")
	=~ /^([ \t]*location \/rtc\/ \{\n.*?^[ \t]*\}\n)/ms;
die "reverse-proxy.conf: no location /rtc/\n" unless $rtc;

my $conf = <<'EOF';
%%TEST_GLOBALS%%

worker_processes 2;

events {}

webrtc_consent_timeout 300s;

http {
    %%TEST_GLOBALS_HTTP%%

    map $http_upgrade $connection_upgrade {
        default  upgrade;
        ''       '';
    }

    upstream webrtc_backend {
        server     127.0.0.1:%%PORT_8081%%;
        keepalive  16;
    }

    # the front: TLS
    server {
        listen 127.0.0.1:%%PORT_8443%% ssl http2 reuseport;
        server_name localhost;

        ssl_certificate     localhost.crt;
        ssl_certificate_key localhost.key;

        location / {
            proxy_pass          http://webrtc_backend;
            proxy_http_version  1.1;
            proxy_set_header    Upgrade     $http_upgrade;
            proxy_set_header    Connection  $connection_upgrade;
            proxy_set_header    Host        $http_host;
            proxy_set_header    X-Forwarded-For  $proxy_add_x_forwarded_for;
            # the page's scheme, for the WebSocket origin check
            proxy_set_header    X-Forwarded-Proto  $scheme;
            proxy_read_timeout  300s;
            proxy_send_timeout  300s;
        }
    }

    # a site of its own at /, the module under a path prefix only, with
    # reverse-proxy.conf's location /rtc/: its relative Location gets the
    # prefix back (proxy_redirect), or the client's PATCH and DELETE miss
    # the session
    server {
        listen 127.0.0.1:%%PORT_8444%% ssl http2 reuseport;
        server_name localhost;

        ssl_certificate     localhost.crt;
        ssl_certificate_key localhost.key;

        location / {
            return 404;
        }

%%RTC_LOCATION%%    }

    log_format back '$server_port "$request" $status "$http_host" '
                    '"$http_x_forwarded_for"';

    # the back: the module, plain HTTP
    server {
        listen 127.0.0.1:%%PORT_8081%% reuseport;
        server_name localhost;

        access_log %%TESTDIR%%/back.log back;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location = /ws {
            webrtc_websocket;
        }

        location = /webrtc/status {
            webrtc_status;
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
$conf =~ s/%%RTC_LOCATION%%/$rtc/;
$t->write_file_expand('nginx.conf', $conf)->run();

my $FRONT = port(8443);
my $PREFIXED = port(8444);
my $MEDIA = port(8980);
my $JSON = JSON::PP->new->canonical;

###########################################################################
# helpers: HTTPS requests and a WebSocket client over TLS


sub req {
	my ($method, $uri, %o) = @_;
	my $port = $o{port} // $FRONT;
	return http_req($method, $uri, SSL => 1, port => $port,
		headers => { Host => "localhost:$port", %{$o{headers} || {}} },
		(defined $o{body} ? (body => $o{body}) : ()));
}

sub status {
	my ($stream) = @_;
	my $r = req(GET => "/webrtc/status?stream=$stream");
	my $j = eval { $JSON->decode($r->{body} // '') } || {};
	return $j->{streams}[0];
}

sub within {
	my ($timeout, $cond) = @_;
	my $end = time() + $timeout;
	while (time() < $end) {
		return 1 if $cond->();
		sleep 0.1;
	}
	return $cond->() ? 1 : 0;
}

sub put {
	my ($c, $bytes) = @_;
	local $SIG{PIPE} = 'IGNORE';
	while (length $bytes) {
		my $n = syswrite($c->{sock}, $bytes);
		return 0 unless $n;
		substr($bytes, 0, $n, '');
	}
	return 1;
}

# more bytes into $c->{buf}: 1, 0 on EOF, undef on timeout; TLS may
# hold decrypted bytes that select() does not see
sub fill {
	my ($c, $deadline) = @_;
	my $s = $c->{sock};
	unless ($s->pending) {
		my $left = $deadline - time();
		return undef if $left <= 0;
		return undef unless IO::Select->new($s)->can_read($left);
	}
	my $n = sysread($s, $c->{buf}, 65536, length $c->{buf});
	return $n ? 1 : 0;
}

sub ws_handshake {
	my (%o) = @_;
	my $path = $o{path} // '/ws';
	my $port = $o{port} // $FRONT;
	my $key = encode_base64(join('', map { chr rand 256 } 1 .. 16), '');
	my $s = IO::Socket::SSL->new(PeerHost => '127.0.0.1', PeerPort => $port,
		SSL_verify_mode => SSL_VERIFY_NONE, SSL_hostname => 'localhost',
		Timeout => 5) or die 'ssl: ' . IO::Socket::SSL::errstr() . "\n";
	my $c = { sock => $s, buf => '', key => $key, headers => {} };
	my $req = "GET $path HTTP/1.1\r\nHost: localhost:$port\r\n"
		. "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		. "Sec-WebSocket-Key: $key\r\nSec-WebSocket-Version: 13\r\n";
	$req .= "Origin: $o{origin}\r\n" if $o{origin};
	put($c, "$req\r\n");
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
	return $c;
}

sub frame {
	my ($op, $payload, %o) = @_;
	my $len = length $payload;
	my $m = ($o{mask} // 1) ? 0x80 : 0;
	my $f = chr(0x80 | $op);
	$f .= $len < 126 ? chr($m | $len) : chr($m | 126) . pack('n', $len);
	return $f . $payload unless $m;
	my $key = pack('N', int rand 0xffffffff);
	return $f . $key . ($payload ^ substr($key x ($len / 4 + 1), 0, $len));
}

sub send_json { put($_[0], frame(0x1, $JSON->encode($_[1]))) }

# the next server frame { opcode, payload }, { eof => 1 } or undef
sub read_frame {
	my ($c, $timeout) = @_;
	my $deadline = time() + ($timeout // 5);
	for (;;) {
		my $b = $c->{buf};
		if (length $b >= 2) {
			my ($b0, $b1) = unpack 'CC', $b;
			my ($len, $hl) = ($b1 & 0x7f, 2);
			($len, $hl) = (unpack('n', substr $b, 2, 2), 4) if $len == 126;
			die "64-bit length from the server\n" if $len == 127;
			if (length $b >= $hl + $len) {
				substr($c->{buf}, 0, $hl + $len, '');
				return { opcode => $b0 & 0xf,
					payload => substr($b, $hl, $len) };
			}
		}
		my $r = fill($c, $deadline);
		return undef unless defined $r;
		return { eof => 1 } unless $r;
	}
}

# the first text message of a type (and matching $pred), others skipped
sub wait_msg {
	my ($c, $type, $timeout, $pred) = @_;
	my $deadline = time() + ($timeout // 5);
	while (my $f = read_frame($c, $deadline - time())) {
		return undef if $f->{eof} || $f->{opcode} == 0x8;
		next unless $f->{opcode} == 0x1;
		my $m = eval { $JSON->decode($f->{payload}) } or next;
		return $m if ($m->{type} // '') eq $type && (!$pred || $pred->($m));
	}
	return undef;
}

###########################################################################
# WHIP through the proxy

my $offer = sdp('chromium-publish-vp8');
my ($ufrag, $pwd) = ($offer =~ /^a=ice-ufrag:(\S+?)\r?$/m,
	$offer =~ /^a=ice-pwd:(\S+?)\r?$/m);

my $r = req(POST => '/whip/test', body => $offer,
	headers => { 'Content-Type' => $CT_SDP });
is($r->{status}, 201, 'WHIP POST through the proxy: 201');
my $loc = $r->{headers}{location} // '';
like($loc, qr{^/whip/test/[0-9a-f]{32}$},
	'WHIP: Location relative, usable through the proxy');
like($r->{headers}{etag} // '', qr/^"[^"]+"$/, 'WHIP: ETag');
like($r->{body} // '', qr/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 $MEDIA typ host\r$/m,
	'WHIP: the candidate is the media address, not the proxy');
ok(within(3, sub { my $s = status('test'); $s && $s->{live} eq '1' }),
	'status through the proxy: live');

$r = req(PATCH => $loc, headers => {
	'Content-Type' => 'application/trickle-ice-sdpfrag',
	'If-Match' => $r->{headers}{etag} },
	body => "a=ice-ufrag:$ufrag\r\na=ice-pwd:$pwd\r\n"
		. "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
		. "a=candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host\r\n");
is($r->{status}, 204, 'PATCH trickle through the proxy: 204');

$r = req(DELETE => $loc);
is($r->{status}, 200, 'DELETE through the proxy: 200');
$r = req(DELETE => $loc);
is($r->{status}, 404, 'DELETE again: 404');
ok(within(3, sub { !status('test') }), 'the session is gone');

# under a path prefix (location /rtc/, proxy_redirect / /rtc/), on a
# front whose / is not the module: the Location names the prefix, and
# PATCH (trickle, ICE restart) and DELETE reach the session

$r = req(POST => '/rtc/whip/prefix', port => $PREFIXED, body => $offer,
	headers => { 'Content-Type' => $CT_SDP });
my $ploc = $r->{headers}{location} // '';

# nginx writes the rewritten Location absolute (absolute_redirect)
is_deeply([ $r->{status}, $ploc
		=~ m{^(https://localhost:$PREFIXED)?/rtc/whip/prefix/[0-9a-f]{32}$}
		? 1 : 0 ], [ 201, 1 ], "prefixed proxy: 201, Location $ploc");
$ploc =~ s{^https://[^/]+}{};
$r = req(PATCH => $ploc, port => $PREFIXED, headers => {
	'Content-Type' => 'application/trickle-ice-sdpfrag',
	'If-Match' => $r->{headers}{etag} },
	body => "a=ice-ufrag:$ufrag\r\na=ice-pwd:$pwd\r\n"
		. "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
		. "a=candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host\r\n");
is($r->{status}, 204, 'prefixed proxy: PATCH 204');

# an ICE restart (If-Match: "*") reaches the session: new credentials and
# ETag, which the next trickle PATCH matches

$r = req(PATCH => $ploc, port => $PREFIXED, headers => {
	'Content-Type' => 'application/trickle-ice-sdpfrag',
	'If-Match' => '"*"' },
	body => "a=ice-ufrag:Rst1\r\na=ice-pwd:restartpasswordrestart1\r\n"
		. "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n");
my $retag = $r->{headers}{etag} // '';
is_deeply([ $r->{status}, $r->{headers}{'content-type'},
		($r->{body} // '') =~ /^a=ice-ufrag:\S+\r$/m ? 1 : 0 ],
	[ 200, 'application/trickle-ice-sdpfrag', 1 ],
	'prefixed proxy: ICE restart 200 with new credentials');
$r = req(PATCH => $ploc, port => $PREFIXED, headers => {
	'Content-Type' => 'application/trickle-ice-sdpfrag',
	'If-Match' => $retag },
	body => "a=ice-ufrag:Rst1\r\na=ice-pwd:restartpasswordrestart1\r\n"
		. "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
		. "a=candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host\r\n");
is($r->{status}, 204, 'prefixed proxy: trickle after the restart, new ETag');

# a viewer through the prefix

$r = req(POST => '/rtc/whep/prefix', port => $PREFIXED,
	body => sdp('chromium-play'),
	headers => { 'Content-Type' => $CT_SDP });
my $vloc = $r->{headers}{location} // '';
is_deeply([ $r->{status}, $vloc
		=~ m{^(https://localhost:$PREFIXED)?/rtc/whep/prefix/[0-9a-f]{32}$}
		? 1 : 0 ], [ 201, 1 ], "prefixed proxy: WHEP 201, Location $vloc");
$vloc =~ s{^https://[^/]+}{};
is(req(DELETE => $vloc, port => $PREFIXED)->{status}, 200,
	'prefixed proxy: WHEP DELETE 200');

is(req(DELETE => $ploc, port => $PREFIXED)->{status}, 200,
	'prefixed proxy: DELETE 200');
ok(within(3, sub { !status('prefix') }), 'prefixed proxy: the session is gone');

# the WebSocket under the prefix, its origin checked against the front's

my $pc = ws_handshake(port => $PREFIXED, path => '/rtc/ws',
	origin => "https://localhost:$PREFIXED");
is($pc->{status}, 101, 'prefixed proxy: WebSocket 101');
send_json($pc, { type => 'ping' });
is_deeply(wait_msg($pc, 'pong'), { type => 'pong' },
	'prefixed proxy: WebSocket ping, pong');
close $pc->{sock};

# keep-alive connections to the back server are reused

$r = req(OPTIONS => '/whip/test');
is($r->{status}, 204, 'OPTIONS through the proxy: 204');

###########################################################################
# the WebSocket through the proxy

my $c = ws_handshake(origin => "https://localhost:$FRONT");
is($c->{status}, 101, 'WebSocket through the proxy: 101');
is($c->{headers}{'sec-websocket-accept'},
	sha1_base64($c->{key} . $GUID) . '=', 'WebSocket: Sec-WebSocket-Accept');
like($c->{headers}{upgrade} // '', qr/^websocket$/i, 'WebSocket: Upgrade');

send_json($c, { type => 'ping' });
is_deeply(wait_msg($c, 'pong'), { type => 'pong' }, 'WebSocket: ping, pong');

send_json($c, { type => 'publish', stream => 'ws', sdp => $offer });
my $m = wait_msg($c, 'answer') || {};
like($m->{session} // '', qr/^[0-9a-f]{32}$/, 'WebSocket publish: answer');
like($m->{sdp} // '', qr/^a=ice-lite\r$/m, 'WebSocket publish: ICE lite');
like($m->{sdp} // '', qr/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 $MEDIA typ host\r$/m,
	'WebSocket publish: the media address');
ok(wait_msg($c, 'viewers', 3, sub { $_[0]{count} == 0 }),
	'WebSocket publish: viewers 0');

$r = req(POST => '/whep/ws', body => sdp('chromium-play'),
	headers => { 'Content-Type' => $CT_SDP });
is($r->{status}, 201, 'WHEP through the proxy: 201');
my $whep = $r->{headers}{location};
ok(wait_msg($c, 'viewers', 3, sub { $_[0]{count} == 1 }),
	'WebSocket: the viewer pushed through the proxy');

# the tunnel carries a message after a quiet second (the module's tick
# runs meanwhile)

sleep 1.5;
send_json($c, { type => 'ping' });
ok(wait_msg($c, 'pong'), 'WebSocket: still open after a quiet while');

# the client leaves: its session ends behind the proxy

close $c->{sock};
ok(within(3, sub { my $s = status('ws'); $s && $s->{live} eq '0' }),
	'WebSocket closed: publisher gone');
is(req(DELETE => $whep)->{status}, 200, 'WHEP viewer deleted');
ok(within(3, sub { !status('ws') }), 'the stream is gone');

# errors come through

$c = ws_handshake(origin => 'https://evil.example');
is($c->{status}, 403, 'foreign Origin through the proxy: 403');
close $c->{sock};

$c = ws_handshake();
is($c->{status}, 101, 'no Origin through the proxy: 101');
put($c, frame(0x1, '{"type":"ping"}', mask => 0));
my $f;
do { $f = read_frame($c) } while ($f && !$f->{eof} && $f->{opcode} != 0x8);
is(($f && $f->{opcode} == 0x8) ? unpack('n', $f->{payload}) : 'none', 1002,
	'unmasked frame through the proxy: close 1002');
close $c->{sock};

$c = ws_handshake();
send_json($c, { type => 'publish', stream => 'x', sdp => "v=0\r\n" });
$m = wait_msg($c, 'error') || {};
is($m->{status}, 400, 'bad offer through the proxy: error 400');
send_json($c, { type => 'stop' });
$f = read_frame($c);
is(($f && $f->{opcode} == 0x8) ? unpack('n', $f->{payload}) : 'none', 1000,
	'stop through the proxy: close 1000');
close $c->{sock};

###########################################################################
# the back server's log: HTTP/1.1 from the proxy, Host with its port

my $back = port(8081);
my $log = $t->read_file('back.log');
like($log, qr{^$back "GET /ws HTTP/1\.1" 101 "localhost:$FRONT" "127\.0\.0\.1"$}m,
	'back server: the upgrade over HTTP/1.1, Host with the port, XFF');
like($log, qr{^$back "POST /whip/test HTTP/1\.1" 201 }m,
	'back server: WHIP');
unlike($t->read_file('error.log'), qr/upstream prematurely closed|\[error\]/,
	'no proxy errors');

$t->stop();
