#!/usr/bin/perl

# Live sessions across reloads with headless Chromium (issue 16,
# doc/registry-design.md 11): a publisher (WHIP) and 2 viewers (WHEP)
# stream while nginx reloads twice, 3 s apart: the configuration
# unchanged, then worker_processes 2 -> 3.  From the moment every viewer
# decodes until 12 s after the second reload (t/e2e/reload.js): each
# viewer's framesDecoded, sampled every 100 ms, never stands still for
# over 500 ms; no peer connection goes to failed or disconnected; no
# signalingstatechange (no renegotiation); each viewer's transport keeps
# its dtlsState (connected) and srtpCipher.
#
# Also: the browsers were up and decoding before, each reload replaced the
# workers, the pages were watched all along, and a new publisher and
# viewer work after the reloads.  Before sessions were handed over, the
# frames stopped at the first reload and Chromium called the connections
# disconnected 6-8 s later.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use JSON::PP ();
use POSIX qw/WNOHANG/;
use Test::More;
use Test::Nginx;
use E2E;
use Time::HiRes qw/sleep time/;

my $VIEWERS = 2;

my $t = E2E::start(plan => 5 + 4 * $VIEWERS + 2 + 1);

my $d = $t->testdir();

###########################################################################
# the browsers, in the background: they watch until $d/done

my $t0 = time();
my $node = spawn_scenario('reload', 60, STREAM => 'reload',
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

###########################################################################
# 2 reloads, 3 s apart

my $conf = $t->read_file('nginx.conf');
my $n = 0;

for my $workers (2, 3) {
	$n++;

	sleep($n == 1 ? 1.5 : 3);

	my @old = $t->worker_pids();

	$conf =~ s/worker_processes \d+;/worker_processes $workers;/;
	$t->write_file('nginx.conf', $conf);
	$t->reload();

	my @new = $t->worker_pids();
	my %old = map { $_ => 1 } @old;

	ok(@new == $workers && !grep({ $old{$_} } @new)
		&& !grep({ kill 0, $_ } @old),
		"reload $n (worker_processes " . scalar(@old)
		. " -> $workers): workers @new replaced @old");
}

# Chromium takes the connection for disconnected only after several
# consent checks went unanswered (the publisher about 6 s after the
# reload, the viewers later): the watch goes on for 12 s more

sleep 12;

$t->write_file('done', "done\n");

my $r = finish_scenario($node, 'reload', 60 + 20 - (time() - $t0)) || {};
my $p = $r->{publisher} || {};
my @v = map { $_ || {} } @{$r->{viewers} || []}[0 .. $VIEWERS - 1];

ok(($p->{watch}{samples} // 0) > 50
	&& !grep({ ($_->{watch}{samples} // 0) <= 50 } @v),
	'the pages were watched all along: '
	. join(', ', map { $_->{watch}{samples} // 0 } $p, @v)
	. ' samples');

my $after = $r->{after} || {};

ok(($after->{publisher} // 0) == 201 && ($after->{viewer} // 0) == 201
	&& ($after->{frames} // 0) > 0,
	'a new publisher and viewer after the reloads: '
	. ($after->{frames} // 0) . ' frames decoded');

###########################################################################
# what the browsers saw; today Chromium keeps its DTLS and SRTP state and
# does not renegotiate when the server drops the sessions, so those hold

for my $i (0 .. $VIEWERS - 1) {
	my $w = $v[$i]{watch} || {};
	my ($t1, $t2) = @{$w->{transport} || []};

	is(events($w, 'signaling'), '',
		"viewer $i: no signalingstatechange (no renegotiation)");

	ok($t1 && $t2 && ($t1->{dtlsState} // '') eq 'connected'
		&& ($t2->{dtlsState} // '') eq 'connected'
		&& ($t1->{srtpCipher} // '') ne ''
		&& ($t2->{srtpCipher} // '') eq ($t1->{srtpCipher} // ''),
		"viewer $i: the transport kept its DTLS and SRTP: "
		. join(' -> ', map { ($_->{dtlsState} // '?') . ' '
			. ($_->{srtpCipher} // '?') } grep { $_ } $t1, $t2));
}

is(events($p->{watch}, 'signaling'), '',
	'publisher: no signalingstatechange');

for my $i (0 .. $VIEWERS - 1) {
	my $w = $v[$i]{watch} || {};
	my ($f1, $f2) = @{$w->{frames} || []};

	ok(defined $w->{maxGapMs} && $w->{maxGapMs} <= 500,
		"viewer $i: framesDecoded never stood still over 500 ms: "
		. 'longest ' . ($w->{maxGapMs} // '?') . ' ms, frames '
		. ($f1 // '?') . ' to ' . ($f2 // '?'));

	is(events($w, 'connection'), '',
		"viewer $i: no connection state change (failed, disconnected)");
}

is(events($p->{watch}, 'connection'), '',
	'publisher: no connection state change (failed, disconnected)');

###########################################################################

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
