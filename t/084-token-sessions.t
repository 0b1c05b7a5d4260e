#!/usr/bin/perl

# What one bearer token holds: webrtc_max_client_sessions bounds the
# sessions of one address, so a leaked token used from many addresses
# could still fill the zone.  With webrtc_max_token_sessions 3 a fourth
# publisher with one token gets 429 whatever its address (realip's, from
# X-Forwarded-For), with the reason logged at info; another token still
# publishes, the same token's viewers are counted apart from its
# publishers, and a DELETE frees a place.  The zone keeps a keyed hash of
# the token, never the token itself: the shared memory mapping is read
# from /proc and searched for it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/http_req sdp/;

my $t = Test::Nginx->new()->has(qw/http stream http_realip/)->plan(11);

my $TOKA = 'tokA-8c1e5f0b7d9a4e23';
my $TOKB = 'tokB-3f6a2d9e0c4b8f17';

$t->write_file_expand('nginx.conf', <<"EOF")->run();
%%TEST_GLOBALS%%

events {}

webrtc_zone_size 1m;

http {
    %%TEST_GLOBALS_HTTP%%

    # streams a* take token A, b* token B, for both roles
    map \$uri \$tok {
        ~^/wh[ie]p/a    $TOKA;
        default         $TOKB;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
        webrtc_max_token_sessions 3;
        webrtc_bearer_token \$tok;

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

my $pub = sdp('chromium-publish-vp8');
my $play = sdp('chromium-play');

# each request from an address of its own
my $addr = 0;

sub post {
	my ($uri, $body, $tok) = @_;
	$addr++;
	return http_req(POST => $uri, body => $body,
		headers => { 'Content-Type' => 'application/sdp',
			'X-Forwarded-For' => "192.0.2.$addr",
			Authorization => "Bearer $tok" });
}

my @loc = map { post("/whip/a$_", $pub, $TOKA)->{headers}{location} } 1 .. 3;
is_deeply([ map { defined $_ ? 201 : 'none' } @loc ], [ 201, 201, 201 ],
	'three publishers with token A from three addresses');

my $off = length $t->read_file('error.log');

my $r = post('/whip/a4', $pub, $TOKA);
is_deeply([ $r->{status}, $r->{body} ],
	[ 429, "too many sessions with this token, retry later\n" ],
	'a fourth with token A from a fourth address: 429');
like(substr($t->read_file('error.log'), $off),
	qr/\[info\].*webrtc: token has 3 sessions, "webrtc_max_token_sessions" 3/,
	'logged at info');
is(post('/whep/a4', $play, $TOKA)->{status}, 404,
	'the refused publisher left no stream a4 behind');

is(post('/whip/b1', $pub, $TOKB)->{status}, 201, 'token B: 201');

my @v = map { post('/whep/a1', $play, $TOKA)->{status} } 1 .. 4;
is_deeply(\@v, [ 201, 201, 201, 429 ],
	'token A for viewers: counted apart from its publishers, bound 3');

is(http_req(DELETE => $loc[1],
	headers => { Authorization => "Bearer $TOKA" })->{status}, 200,
	'DELETE one of token A\'s publishers');
is(post('/whip/a4', $pub, $TOKA)->{status}, 201, 'then a new one: 201');
is(post('/whip/a5', $pub, $TOKA)->{status}, 429, 'and no more');

# the zone: the one shared mapping of 1m (webrtc_zone_size) in the master

SKIP: {
	my $pid = $t->master_pid();
	my $zone;

	no warnings 'portable';

	if (open my $maps, '<', "/proc/$pid/maps") {
		for (<$maps>) {
			my ($from, $to, $perm) = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/
				or next;
			next unless $perm =~ /s$/
				&& hex($to) - hex($from) == 1024 * 1024;
			$zone = [ hex($from), hex($to) - hex($from) ];
		}
	}

	my $mem;
	if ($zone && open $mem, '<:raw', "/proc/$pid/mem") {
		sysseek($mem, $zone->[0], 0);
		my $n = sysread($mem, my $buf, $zone->[1]) // 0;
		$zone = $n == $zone->[1] ? $buf : undef;
	} else {
		$zone = undef;
	}

	skip 'the zone cannot be read from /proc', 1 unless defined $zone;

	my $ids = () = $zone =~ /[0-9a-f]{32}/g;
	ok($ids > 0 && index($zone, $TOKA) < 0 && index($zone, $TOKB) < 0,
		'the zone holds sessions, and neither token in clear')
		or diag("session ids seen: $ids");
}
