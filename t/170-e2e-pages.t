#!/usr/bin/perl

# End-to-end through the pages in html/, served by the same nginx:
# publish.html publishes with WebSocket signaling and with WHIP, watch.html
# plays with WHEP and with WebSocket; frames decode, the publisher sees its
# viewers.  Screenshots of the pages are saved in TEST_SCREENSHOTS
# (build/screenshots by default) for a person to look at.

use strict;
use warnings;

use FindBin;
use File::Path qw/make_path/;
use Cwd qw/abs_path/;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

my $html = abs_path("$FindBin::Bin/../html");
my $shots = $ENV{TEST_SCREENSHOTS}
	|| abs_path("$FindBin::Bin/..") . '/build/screenshots';
make_path($shots);

my $t = E2E::start(plan => 17, http => <<"EOF");
        location = /ws {
            webrtc_websocket;
        }

        location = /webrtc/status {
            webrtc_status;
        }

        location /pages/ {
            alias $html/;

            types {
                text/html html;
                text/javascript js;
                text/css css;
            }
        }
EOF

my $r = E2E::scenario($t, 'pages', timeout => 75,
	env => { SHOTS => $shots }) || {};

my ($ws, $whip) = map { $_ || {} } @$r{qw/ws whip/};

ok($ws->{publisher}{live}, 'publish.html over WebSocket: live');
for my $p (qw/whip websocket/) {
	my $v = $ws->{viewers}{$p} || {};
	ok($v->{decoding}, "watch.html over $p: decoding "
		. ($v->{stats}{framesDecoded} // 0) . ' frames');
	cmp_ok($v->{stats}{width} // 0, '>', 0, "watch.html over $p: width");
	is($v->{state}, 'live', "watch.html over $p: state live");
}
ok($ws->{publisher}{viewersSeen}, 'publish.html shows 2 viewers: '
	. ($ws->{publisher}{stats}{viewers} // 'none'));
cmp_ok($ws->{publisher}{stats}{bitrate} // 0, '>', 0,
	'publish.html shows its bitrate');
ok($ws->{publisher}{stopped}, 'publish.html stops');

ok($whip->{publisher}{live}, 'publish.html over WHIP: live');
my $v = $whip->{viewers}{websocket} || {};
ok($v->{decoding}, 'watch.html over WebSocket, WHIP publisher: decoding');
ok($whip->{publisher}{viewersSeen}, 'publish.html over WHIP shows 1 viewer');
ok($whip->{publisher}{stopped}, 'publish.html over WHIP stops');

my @shots = @{$r->{shots} || []};
is(scalar(grep { -s $_ } @shots), 6, 'six screenshots saved');
diag("screenshots: $shots");

ok($t->log_lines(qr/webrtc publisher session \S+ of stream "pages-ws"/),
	'WebSocket publisher session in the log');

$t->stop();
