#!/usr/bin/perl

# What one client address holds: limit_req bounds how fast it asks, not
# how many sessions it keeps (before, 5,416 anonymous POSTs on one
# connection filled the zone).  With webrtc_max_client_sessions 3 a
# fourth session of one address, publisher or viewer, gets 429 with its
# reason logged at info (WebSocket offers take the same path), and a
# DELETE frees a place.
# The address is realip's: another address behind the same proxy has
# places of its own.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/http_req sdp/;

my $t = Test::Nginx->new()->has(qw/http stream http_realip/)->plan(9);

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
        webrtc_max_client_sessions 3;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
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

sub post {
	my ($uri, $body, %h) = @_;
	return http_req(POST => $uri, body => $body,
		headers => { 'Content-Type' => 'application/sdp', %h });
}

my $pub = sdp('chromium-publish-vp8');
my $play = sdp('chromium-play');

my @loc = map { post("/whip/s$_", $pub)->{headers}{location} } 1 .. 2;
my $v = post('/whep/s1', $play);

is_deeply([ map { defined $_ ? 201 : 'none' } @loc, $v->{headers}{location} ],
	[ 201, 201, 201 ], 'two publishers and a viewer: 3 sessions');

my $off = length $t->read_file('error.log');

my $r = post('/whip/s3', $pub);
is_deeply([ $r->{status}, $r->{body} ],
	[ 429, "too many sessions from this address, retry later\n" ],
	'a fourth session: 429');
like(substr($t->read_file('error.log'), $off),
	qr/\[info\].*webrtc: client has 3 sessions, "webrtc_max_client_sessions" 3/,
	'logged at info');
is(post('/whep/s2', $play)->{status}, 429, 'a fourth as a viewer: 429');
is(post('/whep/s3', $play)->{status}, 404,
	'the refused publisher left no stream s3 behind');

is(post('/whip/s9', $pub, 'X-Forwarded-For' => '192.0.2.9')->{status}, 201,
	'another address behind the proxy: 201');

is(http_req(DELETE => $loc[1])->{status}, 200, 'DELETE one session');
is(post('/whip/s3', $pub)->{status}, 201, 'then a new one: 201');
