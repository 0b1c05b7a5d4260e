package E2E::Watch;

# The Perl side of the e2e tests of live sessions across reloads and kills
# (t/310-e2e-reload.t, t/315-e2e-ws-reload.t, t/325-e2e-kill.t): their
# scenario (t/e2e/reload.js, ws-reload.js, kill.js) runs in the background
# while the test reloads nginx or kills workers, and each page's watch
# (t/e2e/lib/watch.js) says what the browsers saw.
#
#   my $node = spawn_scenario($t, 'reload', 60, STREAM => 'reload', ...);
#   my $ready = wait_ready($t, $node);      # the file "ready" appeared
#   reload_twice($t);                       # 2 checks
#   $t->write_file('done', "done\n");
#   my $r = finish_scenario($t, $node, 'reload', $secs) || {};
#   watched_ok(50, $publisher, @viewers);   # a check each:
#   after_ok($r, 'the reloads');
#   transport_ok($watch, 'viewer 0');
#   gap_ok($watch, 'viewer 0');
#   is(events($watch, 'signaling'), '', ...);

use strict;
use warnings;

use Exporter 'import';
use FindBin;
use JSON::PP ();
use POSIX qw/WNOHANG/;
use Test::More ();
use Test::Nginx ();
use Time::HiRes qw/sleep time/;

use E2E;

our @EXPORT = qw/spawn_scenario wait_ready finish_scenario reload_twice
	events watched_ok after_ok transport_ok gap_ok/;

# node t/e2e/$name.js in the background, as E2E::scenario() runs it (its
# own process group, output in the test directory); its pid
sub spawn_scenario {
	my ($t, $name, $timeout, %env) = @_;
	my $d = $t->testdir();

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

# whether the scenario $pid wrote the file "ready" in the test directory
# (40 s at most, less if it exits)
sub wait_ready {
	my ($t, $pid) = @_;
	my $d = $t->testdir();
	my $ready;

	for (1 .. 400) {
		last if $ready = -e "$d/ready";
		last if waitpid($pid, WNOHANG) == $pid;
		sleep 0.1;
	}

	return $ready;
}

# its RESULT once it exits (killed after $secs); undef if none
sub finish_scenario {
	my ($t, $pid, $name, $secs) = @_;
	my $end = time() + $secs;
	my $done;

	while (time() < $end) {
		last if $done = waitpid($pid, WNOHANG) == $pid;
		sleep 0.1;
	}

	unless ($done) {
		Test::More::diag("$name: killed");
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
		Test::More::diag("$name: " . ($res ? "error: $res->{error}\n"
			. join("\n", @{$res->{log} || []}) : "stdout: $out")
			. "\nstderr:\n" . join("\n", @err));
	}

	return $res;
}

# 2 reloads, 3 s apart (the first 1.5 s from now): the configuration
# unchanged, then worker_processes 2 -> 3; a check each, that the workers
# were replaced
sub reload_twice {
	my ($t) = @_;
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

		Test::More::ok(@new == $workers && !grep({ $old{$_} } @new)
			&& !grep({ kill 0, $_ } @old),
			"reload $n (worker_processes " . scalar(@old)
			. " -> $workers): workers @new replaced @old");
	}
}

# the watch's events of a type, "state@ms ..."
sub events {
	my ($w, $type) = @_;
	return join ' ', map { "$_->{state}\@$_->{t}" }
		grep { $_->{type} eq $type } @{($w || {})->{events} || []};
}

# a check: each page (the results' publisher, viewers) was watched over
# $min samples
sub watched_ok {
	my ($min, @pages) = @_;

	Test::More::ok(!grep({ ($_->{watch}{samples} // 0) <= $min } @pages),
		'the pages were watched all along: '
		. join(', ', map { $_->{watch}{samples} // 0 } @pages)
		. ' samples');
}

# a check: the scenario's new publisher and viewer after $what work
sub after_ok {
	my ($r, $what) = @_;
	my $after = $r->{after} || {};

	Test::More::ok(($after->{publisher} // 0) == 201
		&& ($after->{viewer} // 0) == 201 && ($after->{frames} // 0) > 0,
		"a new publisher and viewer after $what: "
		. ($after->{frames} // 0) . ' frames decoded');
}

# a check: the watch's transport stayed connected with the same SRTP cipher
sub transport_ok {
	my ($w, $who) = @_;
	my ($t1, $t2) = @{$w->{transport} || []};

	Test::More::ok($t1 && $t2 && ($t1->{dtlsState} // '') eq 'connected'
		&& ($t2->{dtlsState} // '') eq 'connected'
		&& ($t1->{srtpCipher} // '') ne ''
		&& ($t2->{srtpCipher} // '') eq ($t1->{srtpCipher} // ''),
		"$who: the transport kept its DTLS and SRTP: "
		. join(' -> ', map { ($_->{dtlsState} // '?') . ' '
			. ($_->{srtpCipher} // '?') } grep { $_ } $t1, $t2));
}

# a check: the watch's framesDecoded never stood still over 500 ms (the
# issue's bound).  With the sanitizers' runtimes preloaded (make test's
# ASan pass, beside other tests) the module runs several times slower and
# stood still up to 1.5 s: there the bound is 5 s, which still fails a
# session that lost its media for good (the watch goes on 12 s after the
# last event); that pass is for sanitizer reports, the plain pass holds
# the 500 ms.
sub gap_ok {
	my ($w, $who) = @_;
	my ($f1, $f2) = @{$w->{frames} || []};
	my $bound = Test::Nginx::preload() ? 5000 : 500;

	Test::More::ok(defined $w->{maxGapMs} && $w->{maxGapMs} <= $bound,
		"$who: framesDecoded never stood still over $bound ms: "
		. 'longest ' . ($w->{maxGapMs} // '?') . ' ms, frames '
		. ($f1 // '?') . ' to ' . ($f2 // '?'));
}

1;
