#!/usr/bin/perl

# Access to the signaling: bearer tokens (RFC 6750), and nginx's own
# machinery around a webrtc location: auth_request, deny, limit_req,
# CORS with add_header, ICE servers in Link headers, TLS and HTTP/2.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw/hmac_sha1/;
use IO::Socket::IP;
use MIME::Base64 qw/encode_base64/;
use POSIX ();
use Test::More;
use Test::Nginx qw/http_req port run_cmd sdp/;

my $CT_SDP = 'application/sdp';
my $CT_FRAG = 'application/trickle-ice-sdpfrag';
my $ORIGIN = 'https://app.example.org';

my $t = Test::Nginx->new()->has(qw/http stream http_ssl http_v2
	http_auth_request/)->plan(74);

###########################################################################
# helpers



my $offer = sdp('chromium-publish-vp8');
my ($OU) = $offer =~ /^a=ice-ufrag:(\S+?)\r?$/m;
my ($OP) = $offer =~ /^a=ice-pwd:(\S+?)\r?$/m;

sub post {
	my ($uri, %h) = @_;
	my $body = delete $h{body} // $offer;
	return http_req(POST => $uri, body => $body,
		headers => { 'Content-Type' => $CT_SDP, %h });
}

sub frag {
	my ($u, $p) = @_;
	return "a=ice-ufrag:$u\r\na=ice-pwd:$p\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
		. "a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\r\n"
		. "a=end-of-candidates\r\n";
}

sub patch {
	my ($uri, $body, %h) = @_;
	return http_req(PATCH => $uri, body => $body,
		headers => { 'Content-Type' => $CT_FRAG, %h });
}

sub log_size { -s $t->testdir() . '/error.log' || 0 }
sub log_since { substr($t->read_file('error.log'), $_[0]) }

###########################################################################
# configuration

my $d = $t->testdir();
$t->write_cert('localhost');

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    # a token per stream; "open" needs none
    map $uri $tok {
        ~^/tok/open(/|$)    "";
        ~^/tok/a(/|$)       tokenA;
        default             tokenDefault;
    }

    limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /whip/ {
            webrtc_whip;
            webrtc_bearer_token secret;
        }

        location /tok/ {
            webrtc_whip;
            webrtc_bearer_token $tok;
        }

        # publishers need a token, viewers none; "off" lets anyone in
        # where a token is inherited

        location /outer/ {
            webrtc_bearer_token pubtoken publish;

            location /outer/whip/ {
                webrtc_whip;
            }

            location /outer/whep/ {
                webrtc_whep;
            }

            location /outer/anon/ {
                webrtc_whip;
                webrtc_bearer_token off;
            }
        }

        location /authreq/ {
            webrtc_whip;
            auth_request /auth;
        }

        location = /auth {
            internal;

            if ($http_x_allow = "yes") {
                return 204;
            }

            return 403;
        }

        location /deny/ {
            webrtc_whip;
            deny 127.0.0.1;
        }

        location /limit/ {
            webrtc_whip;
            # burst defaults to 0 ("burst=0" is rejected by nginx 1.22)
            limit_req zone=one nodelay;
        }

        location /cors/ {
            webrtc_whip;
            add_header Access-Control-Allow-Origin $http_origin always;
            add_header Access-Control-Allow-Methods "OPTIONS, POST, PATCH, DELETE" always;
            add_header Access-Control-Allow-Headers "Authorization, Content-Type, If-Match" always;
            add_header Access-Control-Expose-Headers "Location, ETag, Link" always;
            add_header Access-Control-Max-Age 600 always;
        }

        location /corsauth/ {
            webrtc_whip;
            webrtc_bearer_token secret;
            add_header Access-Control-Allow-Origin $http_origin always;
            add_header Access-Control-Allow-Methods "OPTIONS, POST, PATCH, DELETE" always;
            add_header Access-Control-Allow-Headers "Authorization, Content-Type, If-Match" always;
            add_header Access-Control-Expose-Headers "Location, ETag, Link" always;
            add_header Access-Control-Max-Age 600 always;
        }

        location /ice/ {
            webrtc_whip;
            webrtc_ice_server stun:stun.example.org:3478;
            webrtc_ice_server turn:turn.example.org:3478?transport=udp username=user credential=pass;
            webrtc_ice_server turn:turn.example.org:3478 secret=s3cret ttl=1h;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl http2;
        server_name localhost;

        ssl_certificate      localhost.crt;
        ssl_certificate_key  localhost.key;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /whip/ {
            webrtc_whip;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp;
        webrtc;
    }
}
EOF

###########################################################################
# (a) webrtc_bearer_token

my $off = log_size();
my $r = post('/whip/a1');
is($r->{status}, 401, 'no Authorization: 401');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="webrtc"',
	'no Authorization: WWW-Authenticate: Bearer realm="webrtc"');
like($r->{body} // '', qr/\A[^\n]+\n\z/, '401: one-line reason');
{
	ok(log_since($off) !~ /session \S+ of stream "a1" created/,
		'401 creates no session');
	is_deeply([ grep { /\[alert\]/ } split /\n/, log_since($off) ], [],
		'401 logs no alert');
	is(post('/whip/a1', Authorization => 'Bearer secret')->{status}, 201,
		'the stream is still free after the 401');
}

$r = post('/whip/a2', Authorization => 'Bearer wrong');
is($r->{status}, 401, 'wrong token: 401');
{
	is($r->{headers}{'www-authenticate'},
		'Bearer realm="webrtc", error="invalid_token"',
		'wrong token: error="invalid_token"');
	my ($head) = split /\r\n\r\n/, $r->{raw} // '', 2;
	unlike($head // '', qr/\0/, 'wrong token: no NUL byte in the header');
}
{
	is(post('/whip/a2', Authorization => 'Bearer secret')->{status}, 201,
		'the stream is still free after the wrong token');
}

for my $h ('Basic c2VjcmV0', 'Bearer', 'Bearer ', 'secret', 'Bearer secretx',
	'Bearer secre')
{
	is(post('/whip/a9', Authorization => $h)->{status}, 401,
		"Authorization: $h: 401");
}

$r = post('/whip/a3', Authorization => 'Bearer secret');
is($r->{status}, 201, 'right token: 201');
my $a3 = $r->{headers}{location} // '/whip/a3/none';

$r = post('/whip/a4', Authorization => 'Bearer Bearer secret');
is($r->{status}, 201, '"Bearer Bearer <token>" (OBS): 201');
my $a4 = $r->{headers}{location} // '/whip/a4/none';

is(post('/whip/a5', Authorization => 'bearer secret')->{status}, 201,
	'scheme is case-insensitive: 201');

# DELETE and PATCH need the token too
$r = http_req(DELETE => $a3);
is($r->{status}, 401, 'DELETE without token: 401');
{
	is(http_req(DELETE => $a3,
		headers => { Authorization => 'Bearer secret' })->{status}, 200,
		'the 401 DELETE left the session');
}

is(patch($a4, frag($OU, $OP), Authorization => 'Bearer secret')->{status},
	204, 'PATCH with token: 204');
is(patch($a4, frag('Rst3', 'restartpasswordrestart3'), 'If-Match' => '*')
	->{status}, 401, 'ICE restart without token: 401');
{
	is(patch($a4, frag($OU, $OP), Authorization => 'Bearer secret')->{status},
		204, 'the 401 ICE restart left the ICE credentials');
}
is(http_req(DELETE => $a4, headers => { Authorization => 'Bearer wrong' })
	->{status}, 401, 'DELETE with a wrong token: 401');
$r = post('/whip/a6', Authorization => 'Bearer secret');
is(http_req(DELETE => $r->{headers}{location} // '/whip/a6/none',
	headers => { Authorization => 'Bearer secret' })->{status}, 200,
	'DELETE with token: 200');
is(http_req(OPTIONS => '/whip/a6')->{status}, 204,
	'OPTIONS needs no token');

# a token per stream from a map
is(post('/tok/a', Authorization => 'Bearer tokenA')->{status}, 201,
	'map: stream a with its token: 201');
is(post('/tok/b', Authorization => 'Bearer tokenDefault')->{status}, 201,
	'map: stream b with the default token: 201');
is(post('/tok/a', Authorization => 'Bearer tokenDefault')->{status}, 401,
	'map: stream a with the token of another stream: 401');
is(post('/tok/b', Authorization => 'Bearer tokenA')->{status}, 401,
	'map: stream b with the token of stream a: 401');
is(post('/tok/a')->{status}, 401, 'map: stream a without token: 401');
# an empty value fails closed: before, it turned the check off
$r = post('/tok/open', Authorization => 'Bearer tokenA');
is_deeply([ $r->{status}, $r->{body} ],
	[ 401, "no bearer token is set for this stream\n" ],
	'map: a stream whose token is "": 401 whatever is sent');

# a token for one role: publishers need it, viewers do not
is(post('/outer/whip/split')->{status}, 401, 'publish token: WHIP without: 401');
$r = post('/outer/whip/split', Authorization => 'Bearer pubtoken');
is($r->{status}, 201, 'publish token: WHIP with it: 201');
$r = http_req(POST => '/outer/whep/split', body => sdp('chromium-play'),
	headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'publish token: WHEP needs none: 201');
is(post('/outer/anon/anon')->{status}, 201,
	'"webrtc_bearer_token off" under an inherited token: 201');

###########################################################################
# (b) auth_request, (c) deny, (d) limit_req

is(post('/authreq/x')->{status}, 403, 'auth_request denies: 403');
$r = post('/authreq/x', 'X-Allow' => 'yes');
is($r->{status}, 201, 'auth_request allows: 201');
my $ax = $r->{headers}{location} // '/authreq/x/none';
is(http_req(DELETE => $ax)->{status}, 403, 'auth_request denies DELETE: 403');
is(http_req(DELETE => $ax, headers => { 'X-Allow' => 'yes' })->{status}, 200,
	'auth_request allows DELETE: 200');

is(post('/deny/x')->{status}, 403, 'deny: POST 403');
is(http_req(OPTIONS => '/deny/x')->{status}, 403, 'deny: OPTIONS 403');

is(post('/limit/x')->{status}, 201, 'limit_req: first POST 201');
is(post('/limit/y')->{status}, 503, 'limit_req: second POST 503');

###########################################################################
# (e) CORS with add_header ... always

sub cors_ok {
	my ($r, $name, $all) = @_;
	my $h = $r->{headers};
	my @want = ([ 'access-control-allow-origin', qr/^\Q$ORIGIN\E$/ ],
		[ 'access-control-expose-headers',
			qr/(?=.*\bLocation\b)(?=.*\bETag\b)(?=.*\bLink\b)/ ]);
	push @want, [ 'access-control-allow-methods',
			qr/(?=.*\bOPTIONS\b)(?=.*\bPOST\b)(?=.*\bPATCH\b)(?=.*\bDELETE\b)/ ],
		[ 'access-control-allow-headers',
			qr/(?=.*\bauthorization\b)(?=.*\bcontent-type\b)(?=.*\bif-match\b)/i ],
		[ 'access-control-max-age', qr/^600$/ ] if $all;
	my @bad = map { "$_->[0]: " . ($h->{$_->[0]} // 'none') }
		grep { ($h->{$_->[0]} // '') !~ $_->[1] } @want;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is_deeply(\@bad, [], $name);
}

my %pre = (Origin => $ORIGIN, 'Access-Control-Request-Method' => 'POST',
	'Access-Control-Request-Headers' => 'authorization,content-type');

$r = http_req(OPTIONS => '/cors/s', headers => \%pre);
is($r->{status}, 204, 'CORS preflight: 204');
cors_ok($r, 'CORS preflight: all Access-Control headers', 1);

$r = post('/cors/s', Origin => $ORIGIN);
is($r->{status}, 201, 'CORS POST: 201');
cors_ok($r, 'CORS POST: Allow-Origin, Expose-Headers with Location');
my $cs = $r->{headers}{location} // '/cors/s/none';

$r = http_req(OPTIONS => $cs, headers => { %pre,
	'Access-Control-Request-Method' => 'PATCH',
	'Access-Control-Request-Headers' => 'content-type,if-match' });
is($r->{status}, 204, 'CORS preflight of the session: 204');
cors_ok($r, 'CORS preflight of the session: all headers', 1);

$r = post('/cors/bad', Origin => $ORIGIN, body => sdp('bad-no-bundle'));
is($r->{status}, 422, 'CORS error: 422');
cors_ok($r, 'CORS error response: Allow-Origin, Expose-Headers');

$r = http_req(DELETE => $cs, headers => { Origin => $ORIGIN });
is($r->{status}, 200, 'CORS DELETE: 200');
cors_ok($r, 'CORS DELETE: Allow-Origin');

# with a token: the preflight carries none, the 401 is readable by the page
$r = http_req(OPTIONS => '/corsauth/s', headers => \%pre);
is($r->{status}, 204, 'CORS preflight with webrtc_bearer_token: 204');
cors_ok($r, 'CORS preflight with webrtc_bearer_token: all headers', 1);
$r = post('/corsauth/s', Origin => $ORIGIN);
is($r->{status}, 401, 'CORS POST without token: 401');
cors_ok($r, 'CORS 401: Allow-Origin');
$r = post('/corsauth/s2', Origin => $ORIGIN, Authorization => 'Bearer secret');
is($r->{status}, 201, 'CORS POST with token: 201');

###########################################################################
# (f) ICE servers: Link headers, TURN REST API credentials

my $now = time();
$r = post('/ice/test');
is($r->{status}, 201, 'ICE servers: 201');
my @links = @{$r->{headers_all}{link} || []};
is(scalar(grep { /;\s*rel="ice-server"/ } @links), 3,
	'three Link headers with rel="ice-server"') or diag(explain \@links);

my ($stun) = grep { /^<stun:/ } @links;
is($stun, '<stun:stun.example.org:3478>; rel="ice-server"',
	'STUN server without credentials');

my ($static) = grep { /^<turn:turn\.example\.org:3478\?transport=udp>/ } @links;
like($static // '', qr/^<turn:turn\.example\.org:3478\?transport=udp>;\s*
	rel="ice-server";\s*username="user";\s*credential="pass";\s*
	credential-type="password"$/x, 'TURN server with static credentials');

my ($rest) = grep { /^<turn:turn\.example\.org:3478>/ } @links;
my ($user, $expiry, $cred) = ($rest // '') =~ /;\s*username="((\d+):test)";\s*
	credential="([^"]*)";\s*credential-type="password"$/x;
ok(defined $expiry && abs($expiry - ($now + 3600)) <= 5,
	'TURN secret: username "<now + ttl>:<stream>"') or diag($rest);
is($cred, defined $user ? encode_base64(hmac_sha1($user, 's3cret'), '') : 'x',
	'TURN secret: credential is base64(HMAC-SHA1(secret, username))');

my $r2 = post('/ice/other');
my ($u2) = join(' ', @{$r2->{headers_all}{link} || []})
	=~ /username="(\d+:[^"]*)"/;
like($u2 // '', qr/^\d+:other$/, 'TURN secret: the username names the stream');

is(scalar(@{post('/whip/nolink', Authorization => 'Bearer secret')
	->{headers_all}{link} || []}), 0, 'no webrtc_ice_server: no Link');

###########################################################################
# (g) TLS and HTTP/2

$r = http_req(POST => '/whip/tls', SSL => 1, port => port(8443),
	body => $offer, headers => { 'Content-Type' => $CT_SDP });
is($r->{status}, 201, 'POST over TLS: 201');
like($r->{headers}{location} // '', qr{^/whip/tls/[0-9a-f]{32}$},
	'POST over TLS: Location');

SKIP: {
	my ($crc, $cv) = run_cmd('curl', '--version');
	skip 'curl with HTTP/2 is not installed', 3
		if $crc || $cv !~ /^Features:.*\bHTTP2\b/m;

	$t->write_file('offer.sdp', $offer);
	my ($hrc, $hout) = run_cmd('curl', '--http2', '--noproxy', '*', '-k',
		'-s', '-S', '--max-time', '10', '-D', '-', '-o', "$d/h2.answer",
		'-H', "Content-Type: $CT_SDP", '--data-binary', "\@$d/offer.sdp",
		'https://127.0.0.1:' . port(8443) . '/whip/h2');
	like($hout, qr{\AHTTP/2 201\b}, 'POST over HTTP/2: 201') or diag($hout);
	like($hout, qr{^location: /whip/h2/[0-9a-f]{32}\r?$}mi,
		'POST over HTTP/2: Location');
	like(eval { $t->read_file('h2.answer') } // '', qr/^a=ice-lite\r$/m,
		'POST over HTTP/2: the answer');
}

$t->stop();
