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
use Test::Nginx::Load qw/tool load_conf load_start load_step_checks
	load_checks kill_worker kill_alerts finish session_found status_text/;
use Time::HiRes qw/time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(41);

$t->write_file_expand('nginx.conf', load_conf(max_sessions => 64))->run();

my $d = $t->testdir();

###########################################################################
# the publisher and 40 viewers, in the background, each bounded by its
# --duration; consent checks every second

my $load = load_start($t, pub_duration => 24, duration => 21,
	before => 'the kills');
my ($t0, $st, %url) = ($load->{t0}, $load->{st}, %{$load->{url}});

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

	my ($pid, $new) = kill_worker($t, $slot);
	$killed{$pid} = 1 if $pid;

	ok($pid && $new && $new != $pid
		&& $t->log_lines(qr/ $pid exited on signal 9/)
		&& $t->worker_pids() == 2,
		"kill $n ($name): worker $slot, pid $pid, replaced by "
		. ($new // 'none'));

	# new sessions, a few seconds: then what became of the old ones

	load_step_checks($t, "kill $n", $n, \%url);
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

my $vs = finish($load->{aud}, $t0 + 35 - time());
my $ps = finish($load->{pub}, $t0 + 37 - time());

load_checks($d, $vs, $ps, 40);

###########################################################################
# the harness's "no alerts" would count the kills: here every alert but
# the 4 kills' own (a worker exited on signal 9, the lock it held, the
# repair) fails, and the harness checks only what comes after

kill_alerts($t, \%killed);
