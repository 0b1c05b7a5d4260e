#!/usr/bin/perl

# One session's ICE credentials are all a client needs to send valid
# checks, from as many source ports as it likes; each address that passes
# one is an nginx UDP "connection".  With webrtc_max_addresses 4 only four
# addresses of the session are answered and kept, the others are dropped
# at once and logged at info, and nginx's HTTP side keeps answering on a
# worker with 64 worker_connections.  An address that is not the media
# path is closed 5 s after its last check, which frees its place; the
# media path stays.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Test::More;
use Test::Nginx qw/http_req port sdp/;
use Test::Nginx::STUN qw/stun_check/;
use IO::Select;
use Time::HiRes qw/sleep time/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(10);

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

worker_processes 1;

events {
    worker_connections 64;
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8090_UDP%%;

        location /whip/ {
            webrtc_whip;
        }

        location = /ping {
            return 200 "pong\n";
        }
    }
}

stream {
    webrtc_max_addresses 4;

    server {
        listen 127.0.0.1:%%PORT_8090_UDP%% udp;
        webrtc;
    }
}
EOF

my $udp = port(8090, udp => 1);
my $offer = sdp('chromium-publish-vp8');
my ($cufrag) = $offer =~ /a=ice-ufrag:(\S+)/;

my $r = http_req(POST => '/whip/abuse', body => $offer,
	headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'session created');

my ($sufrag) = $r->{body} =~ /a=ice-ufrag:(\S+)/;
my ($spwd) = $r->{body} =~ /a=ice-pwd:(\S+)/;

sub socket_udp {
	my $s = IO::Socket::INET->new(Proto => 'udp',
		PeerAddr => "127.0.0.1:$udp", LocalAddr => '127.0.0.1');
	die "udp socket: $!" unless $s;
	return $s;
}

# a valid check from each socket at once, then the sockets answered
# within a second
sub answered {
	my ($use, @s) = @_;
	for my $s (@s) {
		my ($msg) = stun_check(username => "$sufrag:$cufrag",
			key => $spwd, use => $use);
		$s->send($msg);
	}
	my $sel = IO::Select->new(@s);
	my %got;
	my $end = time() + 1;
	while ((my $left = $end - time()) > 0) {
		for my $s ($sel->can_read($left)) {
			my $buf;
			$s->recv($buf, 2048);
			$got{$s} = 1;
			$sel->remove($s);
		}
	}
	return grep { $got{$_} } @s;
}

# 60 source ports, one check each; the first one answered is nominated

my @ports = map { socket_udp() } 1 .. 60;
my @ok = answered(0, @ports);

is(scalar @ok, 4, '60 addresses with valid checks: 4 answered');

my $path = $ok[0];
ok(answered(1, $path), 'the first one nominated: the media path');

is(http_req(GET => '/ping')->{status}, 200, 'HTTP answers meanwhile');

my $log = $t->read_file('error.log');
like($log, qr/\[info\].*webrtc session \w+: more than 4 addresses, check/,
	'refused addresses logged at info');
unlike($log, qr/worker_connections are not enough/,
	'worker_connections are enough');

# the three other addresses go 5 s after their check, the path stays

sleep 5.5;

my @more = map { socket_udp() } 1 .. 10;
is(scalar answered(0, @more), 3,
	'5 s later 3 places are free again: 3 of 10 new addresses answered');
ok(answered(0, $path), 'the media path is still answered');
is(scalar answered(0, @ok[1 .. 3]), 0,
	'the addresses closed are not answered again (no place)');
