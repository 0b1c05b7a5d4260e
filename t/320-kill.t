#!/usr/bin/perl

# Live sessions across a worker's crash (issue 16, doc/registry-design.md
# 11).  A webrtc-load publisher and 40 viewers stream through 2 workers; the
# worker serving the publisher is killed with SIGKILL, twice (the second
# time the process the master started in its place), then a worker with only
# viewers, twice, a few seconds apart.  A few seconds after each kill (new
# sessions of another stream meanwhile) the zone still has every one of the
# 41 sessions (a PATCH that cannot match is 412, not 404), the status counts
# the publisher and the 40 viewers, the viewers receive media, and the error
# log has no line that ends one of them; at the end webrtc-load saw no stall
# (no gap over 1 s), every consent check answered, no failure, no SRTP
# decryption error and no SRTP index used twice with other bytes, and its
# viewers could DELETE their sessions.  A kill inside the zone's lock (the
# master logs "was locked by") must be followed by the zone's repair, with
# every session still there.
#
# Also: the master started a new worker in the killed one's place, and new
# sessions work after each kill.  The zone's repair after a kill inside
# its lock is not built yet: that check is TODO when such a kill happens.
# Skipped if the tool is not built (make tools).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary slurp created_ids ended_ids session_found status_json
	status_sum last_tick/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(41);

my $module = Test::Nginx::module_path();

$t->write_file_expand('nginx.conf', conf())->run();

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);

###########################################################################
# the publisher and 40 viewers, in the background, each bounded by its
# --duration; consent checks every second

my $t0 = time();

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/load",
	'--duration', '24', '--bitrate', '500k', '--fps', '30', '--gop', '1s',
	'--consent-interval', '1', '--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

my $aud = spawn_tool($d, 'audience', '--whep', "$base/whep/load",
	'--viewers', '40', '--duration', '21', '--consent-interval', '1',
	'--index-check', '--http-timeout', '3', '--json');

# up: DTLS done for all 41, the status counts them
my $st = {};

for (1 .. 100) {
	$st = status_json('/status?stream=load');
	last if ($st->{streams}[0]{viewers} // 0) == 40
		&& $t->log_lines(qr/session \w+: DTLS \S+ established/) >= 41;
	sleep 0.1;
}

my ($pub_id) = created_ids($t, 'load', 'publisher');
my @vid = created_ids($t, 'load', 'viewer');
my %url = map { $_ => "/whep/load/$_" } @vid;
$url{$pub_id} = "/whip/load/$pub_id" if $pub_id;

ok($pub_id && @vid == 40 && ($st->{streams}[0]{viewers} // 0) == 40,
	'the publisher and 40 viewers up, '
	. sprintf('%.1f s after the start', time() - $t0))
	or diag(slurp("$d/audience.log"));

is(scalar(grep { session_found($url{$_}) == 412 } keys %url), 41,
	'the zone finds the 41 sessions before the kills');

# the slot of the worker serving the publisher's media, and another

my ($pw) = grep { ($_->{publishers} // 0) == 1 } @{$st->{workers} // []};
my $pub_slot = $pw->{worker};
my ($other) = grep { $_ != ($pub_slot // -1) }
	map { $_->{worker} } @{$st->{workers} // []};

ok(defined $pub_slot && defined $other
	&& grep({ $_->{worker} == $other && $_->{viewers} > 0 }
		@{$st->{workers} // []}),
	'the publisher served by worker ' . ($pub_slot // '?')
	. ', viewers by worker ' . ($other // '?') . ' too')
	or diag(status_text($st));

###########################################################################
# 4 kills, each followed by a short publisher and 2 viewers of a stream of
# their own (about 3 s): the spacing

my @kills = (
	['the publisher\'s worker', $pub_slot // 0],
	['the publisher\'s worker again', $pub_slot // 0],
	['a worker with only viewers', $other // 1],
	['that worker again', $other // 1],
);

my (%killed, $n);

for my $kill (@kills) {
	my ($name, $slot) = @$kill;
	$n++;

	$st = status_json();
	my ($w) = grep { $_->{worker} == $slot } @{$st->{workers} // []};
	my $pid = $w->{pid} // 0;

	if ($pid) {
		kill 'KILL', $pid;
		$killed{$pid} = 1;
	}

	# the master reaps it and starts another in its slot

	my $new;

	for (1 .. 50) {
		sleep 0.1;
		$st = status_json();
		($w) = grep { $_->{worker} == $slot } @{$st->{workers} // []};
		$new = $w->{pid};
		last if $new && $new != $pid
			&& !grep { $_ == $pid } $t->worker_pids();
	}

	ok($pid && $new && $new != $pid
		&& $t->log_lines(qr/ $pid exited on signal 9/)
		&& $t->worker_pids() == 2,
		"kill $n ($name): worker $slot, pid $pid, replaced by "
		. ($new // 'none'));

	# new sessions, a few seconds: then what became of the old ones

	my @out = run_tool($d, 12, undef, '--whip', "$base/whip/probe$n",
		'--whep', "$base/whep/probe$n", '--viewers', '2',
		'--duration', '2', '--http-timeout', '3', '--json');
	my $sum = summary(@out);

	ok(($sum->{connected} // 0) == 2 && ($sum->{failed} // 1) == 0
		&& ($sum->{min_rtp_per_viewer} // 0) > 20
		&& ($sum->{deleted} // 0) == 2,
		"kill $n: new sessions work, "
		. ($sum->{min_rtp_per_viewer} // 0) . ' packets each at least')
		or diag(join '', @out);

	$st = status_json('/status?stream=load');

	ok(($st->{streams}[0]{viewers} // 0) == 40
		&& status_sum($st, 'publishers') == 1
		&& status_sum($st, 'viewers') == 40,
		"kill $n: the status counts the publisher and 40 viewers")
		or diag(status_text($st));

	my @lost = grep { session_found($url{$_}) != 412 } sort keys %url;

	is(scalar @lost, 0, "kill $n: the zone finds the 41 sessions")
		or diag(scalar @lost . ' not found');

	my $tick = last_tick($d, 'audience');

	ok(($tick->{connected} // 0) == 40 && ($tick->{rtp_pps} // 0) > 1000,
		"kill $n: the 40 viewers receive media, "
		. ($tick->{rtp_pps} // 0) . ' RTP packets a second')
		or diag('connected ', $tick->{connected} // '?');

	my $ended = ended_ids($t);
	my @ended = grep { $ended->{$_} } sort keys %url;

	is(scalar @ended, 0, "kill $n: no session ended in the error log")
		or diag(scalar @ended . ' ended, the first: '
			. $ended->{$ended[0]});
}

###########################################################################
# a kill inside the zone's lock: the master force-unlocks it ("was locked
# by"); the next locker repairs the zone, and no session is lost

my @locked = $t->log_lines(qr/ was locked by \d+/);
my @lost = grep { session_found($url{$_}) != 412 } sort keys %url;

TODO: {
local $TODO = @locked ? 'issue 16: no repair of the zone yet' : undef;

ok(!@locked || ($t->log_lines(qr/webrtc .*repair/) && !@lost),
	@locked ? 'a kill inside the zone lock: repaired, '
		. (41 - @lost) . ' of 41 sessions found'
		: 'no kill inside the zone lock (nothing to repair)')
	or diag(@locked);

}

###########################################################################
# webrtc-load's view of the whole run

my $vs = finish($aud, $t0 + 35 - time());
my $ps = finish($pub, $t0 + 37 - time());

my $sum = summary(split /\n/, slurp("$d/audience.json"));
my $pum = summary(split /\n/, slurp("$d/publisher.json"));

ok(defined $vs && ($sum->{launched} // 0) == 40
	&& ($sum->{connected} // 0) == 40 && defined $ps
	&& ($pum->{pub_tx_packets} // 0) > 1000,
	'webrtc-load ran to its end: 40 viewers connected, the publisher sent '
	. ($pum->{pub_tx_packets} // 0) . ' packets')
	or diag(slurp("$d/audience.log"), slurp("$d/publisher.log"));

diag('longest gap of a viewer: ' . ($sum->{max_gap_ms} // '?') . ' ms, '
	. ($sum->{stalled_viewers} // '?') . ' viewers stalled');

is($sum->{nonce_reuse}, 0, 'no SRTP index came twice with other bytes');
is($sum->{decrypt_errors}, 0, 'no SRTP decryption failure');
is($pum->{pub_failed}, 0, 'the publisher did not fail');

is($sum->{stalls}, 0, 'no stall (a gap over 1 s) of any viewer');
is($sum->{consent_unanswered}, 0, 'every consent check of the viewers '
	. 'answered (' . ($sum->{consent_sent} // 0) . ')');
is($pum->{pub_consent_unanswered}, 0,
	'every consent check of the publisher answered');
is($sum->{failed}, 0, 'no viewer failed');
is(join(' ', map { "$_:$sum->{fail}{$_}" } grep { $sum->{fail}{$_} }
	sort keys %{$sum->{fail} // {}}), '', 'no failure of any kind');
is($sum->{deleted}, 40, 'the 40 viewers DELETEd their sessions at the end');

###########################################################################
# the harness's "no alerts" would count the kills: here every alert but
# the 4 kills' own (a worker exited on signal 9, the lock it held, the
# repair) fails, and the harness checks only what comes after

my @bad = grep {
		!(/ (\d+) exited on signal 9\b/ && $killed{$1})
		&& !(/ was locked by (\d+)/ && $killed{$1})
		&& !/webrtc .*repair/
	} $t->log_lines(qr/\[(?:alert|emerg|crit)\]|exited on signal/);

is(scalar @bad, 0, 'no alerts but those of the ' . keys(%killed)
	. ' kills') or diag(join "\n", @bad);

$t->{_log_from} = -s "$d/error.log";

###########################################################################

sub status_text {
	my ($st) = @_;
	return 'stream viewers ' . ($st->{streams}[0]{viewers} // 'none')
		. ', workers (worker:pid:publishers/viewers): '
		. join(' ', map { "$_->{worker}:$_->{pid}:"
			. "$_->{publishers}/$_->{viewers}" }
			@{$st->{workers} // []});
}

# the nginx.conf, 2 workers

sub conf {
	return <<"EOF";
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $module;

pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

worker_processes 2;

events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
        webrtc_max_client_sessions 64;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location = /status {
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
}
