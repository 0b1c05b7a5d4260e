#!/usr/bin/perl

# Live sessions across a worker's crash with headless Chromium (issue 16
# item 7, doc/registry-design.md 11): a publisher (WHIP) and 2 viewers
# (WHEP) stream through 2 workers (reuseport); the worker serving the
# publisher (the status's per-worker "publishers" is 1) is killed with
# SIGKILL, then, 3 s later, a worker serving only viewers (or, if both
# viewers landed on the publisher's worker, that worker's successor again:
# the test's output says so).  From the moment every viewer decodes until
# 12 s after the second kill (t/e2e/kill.js): each viewer's framesDecoded,
# sampled every 100 ms, never stands still for over 500 ms; no peer
# connection goes to failed or disconnected; no signalingstatechange (no
# renegotiation); each viewer's transport keeps its dtlsState (connected)
# and srtpCipher; after the kills the status still counts the publisher and
# the 2 viewers.
#
# A crash adoption makes the viewers' SRTP jump 1,024 sequence numbers and
# asks the publisher for a key frame: a short freeze is expected; measured
# over 13 runs (load average 5-10 on 2 cores), a run's worst viewer stood
# still 100-420 ms, within the issue's 500 ms.  The standstills of 200 ms
# or more are printed, each placed after its kill, with the PLIs and key
# frames of the publisher.
#
# Also: the browsers were up and decoding before, the master replaced each
# killed worker, the pages were watched all along, a new publisher and
# viewer work after the kills, and the error log has no alert but those of
# the kills (a worker exited on signal 9, the zone lock it held, its
# repair).  Built from 870f51a (before crash adoption), the frames stopped
# at the first kill (15.2 s standstill), Chromium called the 3 connections
# disconnected 7.6-11.6 s into the watch, and the status had lost the
# sessions: 6 checks fail.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use JSON::PP ();
use POSIX qw/WNOHANG/;
use Test::More;
use Test::Nginx qw/port/;
use E2E;
use Time::HiRes qw/sleep time/;

my $VIEWERS = 2;

my $t = E2E::start(plan => 7 + 4 * $VIEWERS + 2 + 2,
	http => 'location = /status { webrtc_status; }');

my $d = $t->testdir();

###########################################################################
# the browsers, in the background: they watch until $d/done

my $t0 = time();
my $node = spawn_scenario('kill', 60, STREAM => 'kill',
	VIEWERS => $VIEWERS, READY => "$d/ready", DONE => "$d/done",
	WATCH => 40000);

my $ready;

for (1 .. 400) {
	last if $ready = -e "$d/ready";
	last if waitpid($node, WNOHANG) == $node;
	sleep 0.1;
}

ok($ready, 'the publisher and 2 viewers decode, '
	. sprintf('%.1f s after the start', time() - $t0));

sleep 1.5;

###########################################################################
# which worker serves what

my $st = status_json('/status?stream=kill');

my ($pw) = grep { ($_->{publishers} // 0) == 1 } @{$st->{workers} // []};
my $pub_slot = $pw->{worker};

ok(defined $pub_slot && ($st->{streams}[0]{viewers} // 0) == $VIEWERS,
	'the publisher served by worker ' . ($pub_slot // '?') . ': '
	. status_text($st));

###########################################################################
# kill 1: the publisher's worker; kill 2, 3 s later: a worker serving only
# viewers, or the publisher's worker's successor if none

my (%killed, @kills);

my $name = 'the publisher\'s worker';
my $slot = $pub_slot // 0;

for my $n (1, 2) {
	if ($n == 2) {
		sleep(max(0, $kills[0]{at} + 3 - time()));

		$st = status_json('/status?stream=kill');
		my ($vw) = grep { ($_->{publishers} // 0) == 0
				&& ($_->{viewers} // 0) > 0 }
			@{$st->{workers} // []};

		if ($vw) {
			$slot = $vw->{worker};
			$name = "a worker with only viewers ($vw->{viewers})";
		} else {
			$name = 'the publisher\'s worker\'s successor, as both '
				. 'viewers are on it (' . status_text($st) . ')';
		}
	}

	$st = status_json();
	my ($w) = grep { $_->{worker} == $slot } @{$st->{workers} // []};
	my $pid = $w->{pid} // 0;
	my $at = time();

	if ($pid) {
		kill 'KILL', $pid;
		$killed{$pid} = 1;
	}

	push @kills, { at => $at, pid => $pid, slot => $slot };

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
		. ($new // 'none') . sprintf(' at %.1f s', $at - $t0));
}

# Chromium would take a connection for disconnected only after several
# consent checks went unanswered: the watch goes on for 12 s after the
# last kill

sleep(max(0, $kills[-1]{at} + 12 - time()));

$st = status_json('/status?stream=kill');

ok(($st->{streams}[0]{viewers} // 0) == $VIEWERS
	&& status_sum($st, 'publishers') == 1
	&& status_sum($st, 'viewers') == $VIEWERS,
	'after the kills the status counts the publisher and the 2 viewers: '
	. status_text($st));

$t->write_file('done', "done\n");

my $r = finish_scenario($node, 'kill', 60 + 20 - (time() - $t0)) || {};
my $p = $r->{publisher} || {};
my @v = map { $_ || {} } @{$r->{viewers} || []}[0 .. $VIEWERS - 1];

ok(($p->{watch}{samples} // 0) > 100
	&& !grep({ ($_->{watch}{samples} // 0) <= 100 } @v),
	'the pages were watched all along: '
	. join(', ', map { $_->{watch}{samples} // 0 } $p, @v)
	. ' samples');

my $after = $r->{after} || {};

ok(($after->{publisher} // 0) == 201 && ($after->{viewer} // 0) == 201
	&& ($after->{frames} // 0) > 0,
	'a new publisher and viewer after the kills: '
	. ($after->{frames} // 0) . ' frames decoded');

###########################################################################
# what the browsers saw

my $pl = $p->{watch}{pli} || [];
my $kf = $p->{watch}{keyFrames} || [];

diag('publisher: PLIs received ' . ($pl->[0] // '?') . ' -> '
	. ($pl->[1] // '?') . ', key frames sent ' . ($kf->[0] // '?')
	. ' -> ' . ($kf->[1] // '?'));

for my $i (0 .. $VIEWERS - 1) {
	my $w = $v[$i]{watch} || {};
	my ($t1, $t2) = @{$w->{transport} || []};

	diag("viewer $i: standstills of 200 ms or more: " . gaps($w));

	is(events($w, 'signaling'), '',
		"viewer $i: no signalingstatechange (no renegotiation)");

	ok($t1 && $t2 && ($t1->{dtlsState} // '') eq 'connected'
		&& ($t2->{dtlsState} // '') eq 'connected'
		&& ($t1->{srtpCipher} // '') ne ''
		&& ($t2->{srtpCipher} // '') eq ($t1->{srtpCipher} // ''),
		"viewer $i: the transport kept its DTLS and SRTP: "
		. join(' -> ', map { ($_->{dtlsState} // '?') . ' '
			. ($_->{srtpCipher} // '?') } grep { $_ } $t1, $t2));

	is(events($w, 'connection'), '',
		"viewer $i: no connection state change (failed, disconnected)");
}

is(events($p->{watch}, 'signaling'), '',
	'publisher: no signalingstatechange');

is(events($p->{watch}, 'connection'), '',
	'publisher: no connection state change (failed, disconnected)');

# the freeze a crash adoption costs (the SRTP jump of 1,024, the key frame
# the publisher is asked for): 100-420 ms in 13 runs, the issue's bound is
# 500 ms

for my $i (0 .. $VIEWERS - 1) {
	my $w = $v[$i]{watch} || {};
	my ($f1, $f2) = @{$w->{frames} || []};

	ok(defined $w->{maxGapMs} && $w->{maxGapMs} <= 500,
		"viewer $i: framesDecoded never stood still over 500 ms: "
		. 'longest ' . ($w->{maxGapMs} // '?') . ' ms, frames '
		. ($f1 // '?') . ' to ' . ($f2 // '?'));
}

###########################################################################
# the harness's "no alerts" would count the kills: here every alert but
# the kills' own (a worker exited on signal 9, the lock it held, the
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

sub max { $_[0] > $_[1] ? $_[0] : $_[1] }

sub status_json {
	my ($uri) = @_;
	my $r = Test::Nginx::http_req(GET => $uri // '/status', SSL => 1,
		port => port(8443), timeout => 3);
	return eval { JSON::PP::decode_json($r->{body} // '') } || {};
}

sub status_sum {
	my ($st, $key) = @_;
	my $n = 0;
	$n += $_->{$key} // 0 for @{$st->{workers} // []};
	return $n;
}

sub status_text {
	my ($st) = @_;
	return 'stream viewers ' . ($st->{streams}[0]{viewers} // 'none')
		. ', workers (worker:pid:publishers/viewers) '
		. join(' ', map { "$_->{worker}:$_->{pid}:"
			. "$_->{publishers}/$_->{viewers}" }
			@{$st->{workers} // []});
}

# a watch's standstills, each as "ms at kill N + s" (or "before kill 1")
sub gaps {
	my ($w) = @_;
	my @g = @{($w || {})->{gaps} || []};
	return 'none' unless @g;
	return join ', ', map {
		my $at = ($w->{epochMs} + $_->{t}) / 1000;
		my ($k) = grep { $kills[$_]{at} <= $at } reverse 0 .. $#kills;
		"$_->{ms} ms " . (defined $k
			? sprintf('at kill %d + %.1f s', $k + 1,
				$at - $kills[$k]{at})
			: sprintf('%.1f s before kill 1', $kills[0]{at} - $at))
	} @g;
}

# the watch's events of a type, "state@ms ..."
sub events {
	my ($w, $type) = @_;
	return join ' ', map { "$_->{state}\@$_->{t}" }
		grep { $_->{type} eq $type } @{($w || {})->{events} || []};
}

# node t/e2e/$name.js in the background, as E2E::scenario() runs it (its
# own process group, output in the test directory); its pid
sub spawn_scenario {
	my ($name, $timeout, %env) = @_;

	my $pid = fork() // die "fork: $!";

	if ($pid == 0) {
		setpgrp(0, 0);
		$ENV{E2E_BASE} = E2E::base();
		$ENV{E2E_TIMEOUT} = $timeout;
		$ENV{E2E_ERROR_LOG} = "$d/error.log";
		$ENV{"E2E_$_"} = $env{$_} for keys %env;
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', "$d/$name.out";
		open STDERR, '>', "$d/$name.err";
		chdir "$FindBin::Bin/e2e";
		{ exec 'node', "$FindBin::Bin/e2e/$name.js" }
		POSIX::_exit(127);
	}

	return $pid;
}

# its RESULT once it exits (killed after $secs); undef if none
sub finish_scenario {
	my ($pid, $name, $secs) = @_;
	my $end = time() + $secs;
	my $done;

	while (time() < $end) {
		last if $done = waitpid($pid, WNOHANG) == $pid;
		sleep 0.1;
	}

	unless ($done) {
		diag("$name: killed");
		kill 'KILL', -$pid;
		waitpid($pid, 0);
	}

	my $out = $t->read_file("$name.out");
	my ($line) = $out =~ /^RESULT (.*)$/m;
	my $res = defined $line ? eval { JSON::PP::decode_json($line) } : undef;

	if (!$res || $res->{error}) {
		my @err = grep { !/unexpected operator/ }
			split /\n/, $t->read_file("$name.err");
		splice @err, 0, @err - 30 if @err > 30;
		diag("$name: " . ($res ? "error: $res->{error}\n"
			. join("\n", @{$res->{log} || []}) : "stdout: $out")
			. "\nstderr:\n" . join("\n", @err));
	}

	return $res;
}
