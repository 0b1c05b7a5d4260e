#!/usr/bin/perl

# A session that answers consent but never does DTLS: before, its checks
# kept it forever (a zone slot and an nginx connection each).  With
# webrtc_handshake_timeout 2s its checks are answered for 2 s after the
# offer, then not; it is closed (logged at info) and its URL is gone.
# A session that completes DTLS in time is not touched: the load
# generator's publisher streams on past the deadline.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Test::More;
use Test::Nginx qw/http_req port sdp/;
use Test::Nginx::Load qw/tool run_tool summary/;
use Test::Nginx::STUN qw/stun_check stun_exchange/;
use Time::HiRes qw/sleep time/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(7);

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

worker_processes 2;

events {}

webrtc_handshake_timeout 2s;

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8090_UDP%%;

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
        listen 127.0.0.1:%%PORT_8090_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

my $udp = port(8090, udp => 1);
my $offer = sdp('chromium-publish-vp8');
my ($cufrag) = $offer =~ /a=ice-ufrag:(\S+)/;

my $t0 = time();
my $r = http_req(POST => '/whip/half-open', body => $offer,
	headers => { 'Content-Type' => 'application/sdp' });
is($r->{status}, 201, 'session created');

my ($sufrag) = $r->{body} =~ /a=ice-ufrag:(\S+)/;
my ($spwd) = $r->{body} =~ /a=ice-pwd:(\S+)/;
my $location = $r->{headers}{location};

my $s = IO::Socket::INET->new(Proto => 'udp', PeerAddr => "127.0.0.1:$udp",
	LocalAddr => '127.0.0.1') or die "udp socket: $!";

# a check every 250 ms for 4 s, the way a client keeps consent
my ($first, $last);
while (time() - $t0 < 4) {
	my ($msg) = stun_check(username => "$sufrag:$cufrag", key => $spwd);
	if (defined stun_exchange($s, $msg, 0.25)) {
		$first //= time() - $t0;
		$last = time() - $t0;
	}
	sleep 0.25;
}

ok(defined $first && $first < 1, 'checks answered at first');
# the deadline counts whole seconds (ngx_time()): between 1 and 2 s here
ok(defined $last && $last >= 0.9 && $last < 3,
	sprintf('checks answered until the deadline (last at %.1f s)',
		$last // -1));

like($t->read_file('error.log'),
	qr/\[info\].*webrtc session \w+: no DTLS handshake within 2 s, closing/,
	'closed for the deadline, logged at info');

# the zone closes it: its URL is gone, its stream free
my $gone;
for (1 .. 20) {
	$gone = http_req(DELETE => $location)->{status};
	last if $gone == 404;
	sleep 0.25;
}
is($gone, 404, 'the session is gone');

# a publisher that completes DTLS streams on past the deadline

SKIP: {
	skip 'tools/webrtc-load is not built (make tools)', 1 unless -x tool();

	my @out = run_tool($t->testdir(), 15, undef, '--whip',
		"http://127.0.0.1:" . port(8080) . '/whip/live', '--duration', '4',
		'--json');
	my $sum = summary(@out);
	ok(defined $sum->{pub_failed} && $sum->{pub_failed} == 0
		&& ($sum->{pub_tx_packets} // 0) > 500
		&& ($sum->{pub_rr} // 0) >= 3,
		'a publisher that did DTLS streams for 4 s, reports coming')
		or diag(join '', @out);
}
