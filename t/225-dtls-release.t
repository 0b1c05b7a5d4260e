#!/usr/bin/perl

# The SSL object of a peer that completed DTLS and sends no media is
# released all the same (issue 14, finding 2): a viewer that answers
# consent and never sends RTCP (tools/webrtc-load --no-rtcp) no longer
# keeps its ~70 KB for as long as it checks.  10 s after its handshake the
# server logs at info that it released the DTLS state, and the viewer's
# media goes on: the SRTP context outlives the SSL object.  A viewer that
# sends receiver reports is released on the first, without that line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish summary
	decode slurp/;
use POSIX qw/WNOHANG/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(9);

# info, not debug: a line per packet would be the load
my $module = Test::Nginx::module_path();

$t->write_file_expand('nginx.conf', <<"EOF")->run();
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $module;

pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

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

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);
my $RELEASED = qr/webrtc session ([0-9a-f]{32}): no SRTP or SRTCP 10000 ms /
	. qr/after the DTLS handshake, DTLS state released/;

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/quiet",
	'--duration', '22', '--bitrate', '300k', '--fps', '15', '--gop', '2s',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

# a viewer as browsers are, beside it
my $talker = spawn_tool($d, 'talker', '--whep', "$base/whep/quiet",
	'--viewers', '1', '--duration', '16', '--http-timeout', '3', '--json');

# the quiet viewer: consent every 2 s, no RTCP; the lines it printed by
# the time the release is in the log are before it
my $quiet = spawn_tool($d, 'quiet', '--whep', "$base/whep/quiet",
	'--viewers', '1', '--duration', '16', '--no-rtcp',
	'--consent-interval', '2', '--http-timeout', '3', '--json');
my ($before, $end) = (undef, time() + 30);

while (time() < $end && waitpid($quiet, WNOHANG) != $quiet) {
	$before //= () = slurp("$d/quiet.json") =~ /\n/g
		if $t->read_file('error.log') =~ $RELEASED;
	sleep 0.1;
}

kill 'KILL', $quiet if time() >= $end;

my @out = split /\n/, slurp("$d/quiet.json");
my @after = grep { ($_->{type} // '') eq 'tick' }
	map { decode($_) // {} } @out[($before // @out) .. $#out];
my $sum = summary(@out);
is_deeply([ $sum->{connected} // 0, $sum->{failed} // 0,
	$sum->{rr_sent} // 0 ], [ 1, 0, 0 ],
	'the quiet viewer connected, did not fail, and sent no RTCP')
	or diag(join "\n", @out, slurp("$d/quiet.log"));
ok(($sum->{consent_ok} // 0) >= 6 && !$sum->{consent_unanswered},
	'its consent checks were answered: ' . ($sum->{consent_ok} // 0));

my $log = $t->read_file('error.log');
my @released = $log =~ /$RELEASED/g;
is(scalar @released, 1, 'one session\'s DTLS state released without media');

my ($at, $rel);
if (@released) {
	($at) = $log =~ /^(\S+ \S+) .*session $released[0]: DTLS \S+ established/m;
	($rel) = $log =~ /^(\S+ \S+) .*session $released[0]: no SRTP/m;
}
my $secs = defined $at && defined $rel ? secs($rel) - secs($at) : -1;
ok($secs >= 9 && $secs <= 11, "$secs s after its handshake");

# media after the release: every second of it, and no gap
my @rtp = map { $_->{rtp_pps} // 0 } @after;
ok(@rtp >= 3 && !grep({ $_ == 0 } @rtp),
	"media after the release, each second: @rtp packets");
ok(!$sum->{stalls} && ($sum->{max_gap_ms} // 1e9) < 1000,
	'no stall: longest gap ' . ($sum->{max_gap_ms} // 'none') . ' ms');

is(finish($talker, 10), 0, 'the viewer that sends RTCP exited well');
finish($pub, 15);

sub secs {
	my ($h, $m, $s) = $_[0] =~ /(\d+):(\d+):(\d+)$/;
	return $h * 3600 + $m * 60 + $s;
}
