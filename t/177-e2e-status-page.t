#!/usr/bin/perl

# html/status.html in Chromium while media flows (issue 18, item 5): a
# publisher and 3 viewers (WHIP/WHEP, pages of one Chromium), then
# status.html from the same nginx reads the JSON status location for 8 s.
# Checked in what the page drew, not only in what it read: the stream's
# card with its viewer count (3, as the status JSON says), the points of
# each plot's line in its SVG (viewers, bitrate in, packet loss), bitrate
# points above the time axis, bars in the delay histogram, a row for each
# worker with packets out, the sessions table if the JSON has sessions,
# no console error and no exception.  Then status.html?stream=NAME, the
# stream alone with a row for each of its sessions where the status
# location lists them (?stream=NAME, the per-session data of issue 18
# item 2; none before it).  Then JSON files of the test's own
# (sessions at the top and in a stream, unknown and missing fields; fields
# of the wrong types), a status location answering 403 and one where
# nothing listens: the page shows what there is, or says what is wrong,
# and throws nothing.  A full-page screenshot goes to the test's directory
# and to t/output/status-page.png.  About 25 s.
#
# Each check was seen to fail with html/status.js broken on purpose:
# - plot() drawing its line with no points: the three "points in its
#   line" checks fail (0 points), and "bitrate plotted above 0";
# - bitrate pushed as 0: "bitrate plotted above 0" fails (max 0, no point
#   above the axis);
# - viewers pushed as viewers - 1: "viewer count" fails (2);
# - bars() appending no rect: "histogram has bars" fails (0 bars);
# - drawWorkers() writing no rows: "a row for each worker" fails;
# - a console.error() in poll(): "no console errors" fails, and the "no
#   error" checks of the JSON files, the 403 and the unreachable location;
# - drawSessions() without the sessions of the streams: "sessions of the
#   JSON in a table" fails (one row, its columns only), and with the
#   per-session data in the module, "?stream=...: sessions table" (0 of 4);
# - ?stream= not passed on to the status location: "?stream=...: sessions
#   table" fails (0 rows of 4, with the per-session data in the module);
# - drawDelay() calling le_us.map() without looking at its type: "fields
#   of the wrong types" fails (the page says it could not show them), and
#   both checks of the sessions file (its "forwarding" is {});
# - read() without its 403 branch: "403 said" fails (the text names the
#   status, not the refusal);
# - poll() rethrowing in its catch (a rejected promise): the 403 and
#   unreachable checks fail (no error state, no text, an exception).

use strict;
use warnings;

use FindBin;
use Cwd qw/abs_path/;
use File::Copy qw/copy/;
use File::Path qw/make_path/;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx qw/port/;
use E2E;

my $REPO = abs_path("$FindBin::Bin/..");
my $html = "$REPO/html";
my $VIEWERS = 3;
my $STREAM = 'status-page';

my $t = E2E::start(plan => 27, http => <<"EOF");
        location = /webrtc/status {
            webrtc_status;
        }

        location = /denied/status {
            webrtc_status;
            deny all;
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

my $d = $t->testdir();

# JSON of the test's own: per-session data (at the top and in a stream),
# fields the page does not know, a stream with none but its name; and
# fields of the wrong types
$t->write_file('sessions.json', <<'EOF');
{"streams":[{"name":"fake","live":true,"viewers":2,"bitrate_in":1000000,
             "packets_in":10,"packets_lost":0,"future":{"x":[1,2]},
             "sessions":[{"id":"s1","role":"viewer","bitrate_out":900000,
                          "rtt":{"ms":12},"nacks":3}]},
            {"name":"bare"}],
 "workers":[{"worker":0}],
 "forwarding":{},
 "sessions":[{"id":"s2","stream":"fake","role":"publisher",
              "selected_path":"udp 127.0.0.1:5000","new_thing":true}],
 "something_else":42}
EOF
$t->write_file('odd.json', '{"streams":"none","workers":null,'
	. '"forwarding":{"packets":"x","delay_us":[],"histogram":'
	. '{"le_us":"x","count":[1,"a",null]}},"sessions":7}');
my $shot = "$d/status-page.png";

# nothing listens there: a port of Test::Nginx's that this nginx does not use
my $dead = 'https://127.0.0.1:' . port(8081) . '/webrtc/status';

my $r = E2E::scenario($t, 'status-page', timeout => 50,
	env => { STREAM => $STREAM, VIEWERS => $VIEWERS, SECONDS => 8,
		SHOT => $shot, DENIED => '/denied/status', DEAD => $dead,
		FAKES => '/sessions.json,/odd.json' })
	|| {};

# the status JSON as the scenario read it after each page
my $json = $r->{json} || {};
my $json1 = ($r->{one} || {})->{json} || {};
my ($st) = grep { ($_->{name} // '') eq $STREAM } @{$json->{streams} || []};

###########################################################################
# media flowing

my $p = $r->{publisher} || {};
ok(($p->{status} // 0) == 201 && ($p->{state} // '') eq 'connected',
	'publisher connected');
my @v = @{$r->{viewers} || []};
is(scalar(grep { ($_->{frames} // 0) > 5 } @v), $VIEWERS,
	"$VIEWERS viewers decoding");
is($st && $st->{viewers}, $VIEWERS, "the status JSON: $VIEWERS viewers");

###########################################################################
# the page

my $pg = $r->{page} || {};
my $plots = $pg->{plots} || {};
my $series = $pg->{series} || {};

ok(($pg->{state} // '') eq 'live' && ($pg->{polls}{ok} // 0) >= 6,
	'status page read the status: ' . ($pg->{polls}{ok} // 0)
	. ' reads, ' . ($pg->{statusText} // 'no status text'));
ok($pg->{card} && ($pg->{badge} // '') eq 'LIVE', 'the stream shown live');
ok(($series->{viewers}{value} // '') eq $VIEWERS
	&& ($plots->{viewers}{last} // -1) == $VIEWERS,
	'viewer count: ' . ($series->{viewers}{value} // 'none'));

for my $k (qw/viewers bitrate loss/) {
	my $n = ($series->{$k} || {})->{points} // 0;
	ok($n >= 3 && $n == ($plots->{$k}{points} // -1),
		"$k plot: $n points in its line");
}

ok(($plots->{bitrate}{max} // 0) > 0 && ($series->{bitrate}{above} // 0) > 0,
	'bitrate plotted above 0: max ' . ($plots->{bitrate}{max} // 'none')
	. ' bps, ' . ($series->{bitrate}{above} // 0) . ' points above the axis');

my $h = $pg->{histogram} || {};
ok(($pg->{bars} // 0) > 0 && $pg->{bars} == ($h->{bars} // -1)
	&& ($h->{total} // 0) > 0,
	'histogram has bars: ' . ($pg->{bars} // 0) . ', '
	. ($h->{total} // 0) . ' copies');

my @w = @{$pg->{workers} || []};
my $out = 0;
for (@w) {
	my ($n) = ($_->[5] // '') =~ /^([\d,]+)/;
	$out += ($n // 0) =~ tr/,//dr;
}
ok(@w == @{$json->{workers} || []} && @w >= 1 && $out > 0,
	'a row for each worker: ' . scalar(@w) . ", $out packets out");

# per-session data: a row for each session the JSON lists (the status
# location lists a stream's when asked for it by name), no section where
# it lists none
sub sessions {
	my ($j) = @_;
	my $n = ref $j->{sessions} eq 'ARRAY' ? @{$j->{sessions}} : 0;
	$n += @{$_->{sessions}}
		for grep { ref $_->{sessions} eq 'ARRAY' } @{$j->{streams} || []};
	return $n;
}

for ([$pg, $json, 'status.html'],
	[$r->{one} || {}, $json1, "status.html?stream=$STREAM"])
{
	my ($p, $j, $name) = @$_;
	my $ps = $p->{sessions} || {};
	my $n = sessions($j);
	my $rows = ref $ps->{rows} ? @{$ps->{rows}} : $ps->{rows} // 0;
	if ($n) {
		ok($ps->{shown} && $rows == $n, "$name: sessions table, $rows"
			. " rows of $n: " . join(', ', @{$ps->{columns} || []}));
	} else {
		ok(defined $ps->{shown} && !$ps->{shown} && !$rows,
			"$name: no sessions in the JSON, no sessions table");
	}
}

my $one = $r->{one} || {};
ok(($one->{state} // '') eq 'live'
	&& join(',', @{$one->{cards} || []}) eq $STREAM
	&& !@{$one->{exceptions} || ['none read']} && !@{$one->{console} || []},
	"status.html?stream=$STREAM: the stream alone, no error");

is(join(' | ', @{$pg->{console} || ['none read']}), '',
	'no console errors');
is(join(' | ', @{$pg->{exceptions} || ['none read']}), '', 'no exceptions');

###########################################################################
# the screenshot

my $copy = "$REPO/t/output/status-page.png";
make_path("$REPO/t/output");
unlink $copy;
ok(-s $shot && copy($shot, $copy) && -s $copy, 'screenshot saved');
diag("screenshot: $copy (and $shot, kept with TEST_NGINX_LEAVE=1)");

###########################################################################
# JSON of the test's own

my $f = $r->{fakes}{'/sessions.json'} || {};
my $fs = $f->{sessions} || {};
ok($fs->{shown} && @{$fs->{rows} || []} == 2
	&& join(',', @{$fs->{columns} || []}) =~ /^id,stream,role,.*rtt\.ms/
	&& join(',', @{$f->{cards} || []}) eq 'fake,bare',
	'sessions of the JSON in a table: '
	. join(', ', @{$fs->{columns} || []}));
ok(($f->{state} // '') eq 'live' && !@{$f->{exceptions} || ['none read']}
	&& !@{$f->{console} || []}, 'unknown and missing fields: no error');

my $o = $r->{fakes}{'/odd.json'} || {};
ok(($o->{state} // '') eq 'live' && !@{$o->{exceptions} || ['none read']}
	&& !@{$o->{console} || []} && !@{$o->{cards} || [1]},
	'fields of the wrong types: no error, ' . ($o->{error} // 'live'));

###########################################################################
# status locations that fail

my $den = $r->{denied} || {};
ok(($den->{state} // '') eq 'error' && ($den->{polls}{ok} // 1) == 0,
	'403: the page in its error state');
like($den->{error} // '', qr/refused this browser \(403/, '403 said');
is(join(' | ', @{$den->{exceptions} || ['none read']},
	@{$den->{console} || []}), '', '403: no exceptions, no console errors');

my $dd = $r->{dead} || {};
ok(($dd->{state} // '') eq 'error'
	&& ($dd->{error} // '') =~ /^Cannot reach the status location/,
	'unreachable: said: ' . ($dd->{error} // 'nothing'));
is(join(' | ', @{$dd->{exceptions} || ['none read']},
	@{$dd->{console} || []}), '',
	'unreachable: no exceptions, no console errors');

$t->stop();
