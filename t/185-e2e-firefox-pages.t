#!/usr/bin/perl

# The pages in html/ with Firefox ESR: publish.html in Firefox publishes
# over WHIP (max-bundle, VP8) and watch.html in Chromium and in Firefox
# decode it; watch.html in Firefox plays a Chromium publisher over
# WebSocket.  And the client's answer to a refused video (an answer's m=
# section with port 0, rewritten in the page), in Chromium and in Firefox:
# publish.html stays live with audio and says the video was refused,
# watch.html plays the audio without starting over.
# Screenshots are saved in TEST_SCREENSHOTS (build/screenshots).

use strict;
use warnings;

use FindBin;
use File::Path qw/make_path/;
use Cwd qw/abs_path/;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx;
use E2E;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
	for qw/output failure_output todo_output/;

my $html = abs_path("$FindBin::Bin/../html");
my $shots = $ENV{TEST_SCREENSHOTS}
	|| abs_path("$FindBin::Bin/..") . '/build/screenshots';
make_path($shots);

my $t = E2E::start(plan => 30, firefox => 1, http => <<"EOF");
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

my $r = E2E::scenario($t, 'firefox-pages', timeout => 75,
	env => { SHOTS => $shots }) || {};

my ($ff, $ws, $refused) = map { $_ || {} } @$r{qw/ff ws refused/};
my $p = $ff->{publisher} || {};

ok($p->{live}, 'Firefox publish.html over WHIP: live');
is($p->{notice}, '', 'Firefox publish.html: no notice')
	or diag("status: $p->{status}");
is_deeply($p->{refused}, [], 'Firefox publish.html: nothing refused');
for my $b (qw/chromium firefox/) {
	my $v = $ff->{viewers}{$b} || {};
	ok($v->{decoding}, "$b watch.html: decoding "
		. ($v->{stats}{framesDecoded} // 0) . ' frames')
		or diag("status: " . ($v->{status} // '') . ", notice: "
			. ($v->{notice} // ''));
	cmp_ok($v->{stats}{width} // 0, '>', 0, "$b watch.html: width");
	is($v->{state}, 'live', "$b watch.html: state live");
}
ok($p->{viewersSeen}, 'Firefox publish.html shows 2 viewers: '
	. ($p->{stats}{viewers} // 'none'));
cmp_ok($p->{stats}{bitrate} // 0, '>', 0, 'Firefox publish.html shows its bitrate');
ok($p->{stopped}, 'Firefox publish.html stops');

my $v = $ws->{viewers}{firefox} || {};
ok($ws->{publisher}{live}, 'Chromium publish.html over WebSocket: live');
ok($v->{decoding}, 'Firefox watch.html over WebSocket: decoding '
	. ($v->{stats}{framesDecoded} // 0) . ' frames');

# the video refused by the answer, in each browser

for my $b (qw/chromium firefox/) {
	my ($rp, $rv) = map { $_ || {} } @{$refused->{$b} || {}}{qw/publisher viewer/};

	ok($rp->{live} && ($rp->{state} // '') eq 'live',
		"$b publish.html, video refused: live, and still after 1.5 s")
		or diag explain $rp;
	is_deeply($rp->{refused}, ['video'],
		"$b publish.html, video refused: reported");
	like($rp->{notice} // '', qr/^Video was refused by the server \(.*\): publishing audio only\.$/,
		"$b publish.html, video refused: notice");
	like($rp->{status} // '', qr/\(audio only\)/,
		"$b publish.html, video refused: status");

	ok($rv->{live} && ($rv->{state} // '') eq 'live',
		"$b watch.html, video refused: live, and still after 7 s")
		or diag explain $rv;
	is($rv->{sessions}, 1,
		"$b watch.html, video refused: one session, no new start");
	like($rv->{notice} // '', qr/^Video was refused by the server \(.*\): playing audio only\.$/,
		"$b watch.html, video refused: notice");
}

my @shots = @{$r->{shots} || []};
is(scalar(grep { -s $_ } @shots), 8, 'eight screenshots saved');
diag(sprintf "screenshots: %s; scenario %.1f s", $shots, $r->{_secs} // 0);

$t->stop();
