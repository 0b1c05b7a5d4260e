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
#   my @at = reload_steps($t, [{ workers => 3, conf => sub {...},
#       check => sub {...} }, ...], every => 2.75, before => sub {...});
#   my $aud = audience_start($t, 'reload', 20, 60);  # webrtc-load viewers
#   audience_up($t, $aud);                  # a check
#   audience_mark($aud, 'reload');          # before each event
#   my $status = audience_end($aud);
#   audience_checks($t, $aud, $status);     # 5 checks
#   standstills($watch, 'reload', @at);     # "ms at reload N + s", ...
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
use Test::Nginx::Load ();

our @EXPORT = qw/spawn_scenario wait_ready finish_scenario reload_twice
	reload_steps standstills audience_start audience_up audience_mark
	audience_end audience_checks events watched_ok after_ok transport_ok
	gap_ok unprotect_ok/;

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

	reload_steps($t, [{ workers => 2 }, { workers => 3 }]);
}

# reloads, one a step, $o{every} s apart (3; the first $o{first}, 1.5 s,
# from now).  A step: { workers => N (worker_processes), name => what else
# changed (for the check's name), conf => sub { the configuration's text
# in $_[0], returned changed }, check => sub { checks after it, given its
# number } }; $o{before}->($n) is called just before reload $n.  A check
# each, that the workers were replaced (new pids, as many as asked, the
# old ones gone); returns the times of the reloads.
sub reload_steps {
	my ($t, $steps, %o) = @_;
	my $conf = $t->read_file('nginx.conf');
	my $next = time() + ($o{first} // 1.5);
	my ($n, @at) = (0);

	for my $step (@$steps) {
		$n++;

		sleep($next - time()) if $next > time();

		my @old = $t->worker_pids();
		my $workers = $step->{workers};

		$conf =~ s/worker_processes \d+;/worker_processes $workers;/;
		$conf = $step->{conf}->($conf) if $step->{conf};
		$t->write_file('nginx.conf', $conf);

		$o{before}->($n) if $o{before};

		push @at, time();
		$next = $at[-1] + ($o{every} // 3);

		my @new = hup($t, $workers);
		my %old = map { $_ => 1 } @old;

		Test::More::ok(@new == $workers && !grep({ $old{$_} } @new)
			&& !grep({ kill 0, $_ } @old),
			"reload $n (worker_processes " . scalar(@old)
			. " -> $workers" . ($step->{name} ? ", $step->{name}" : '')
			. "): workers @new replaced @old");

		$step->{check}->($n) if $step->{check};
	}

	return @at;
}

# SIGHUP to the master, then a wait (10 s at most) until its children
# are $workers processes none of which was there before: their pids (the
# children then, if that did not happen).  Not Test::Nginx's reload():
# that reads the whole error log every 50 ms, at debug level and with
# media flowing megabytes by then, on the 2 cores the sessions handed
# over need at that moment (it made the freezes it measures longer)
sub hup {
	my ($t, $workers) = @_;
	my %old = map { $_ => 1 } $t->worker_pids();
	my $from = -s $t->testdir() . '/error.log' || 0;
	my @now;

	kill 'HUP', $t->master_pid();

	for (1 .. 200) {
		sleep 0.05;
		@now = $t->worker_pids();
		last if @now == $workers && !grep { $old{$_} } @now;
	}

	if (@now != $workers || grep { $old{$_} } @now) {
		my $log = substr($t->read_file('error.log'), $from);
		Test::More::diag('reload: ' . join("\n",
			grep { /\[(?:emerg|alert)\]/ } split /\n/, $log));
	}

	return @now;
}

# a watch's standstills (detail: its gaps) as "ms at LABEL N + s" (or
# "s before LABEL 1"), placed after the events at the times @at
sub standstills {
	my ($w, $label, @at) = @_;
	my @g = @{($w || {})->{gaps} || []};

	return 'none' unless @g;
	return join ', ', map {
		my $t = ($w->{epochMs} + $_->{t}) / 1000;
		my ($k) = grep { $at[$_] <= $t } reverse 0 .. $#at;
		"$_->{ms} ms " . (defined $k
			? sprintf('at %s %d + %.1f s', $label, $k + 1,
				$t - $at[$k])
			: sprintf('%.1f s before %s 1', $at[0] - $t, $label))
	} @g;
}

###########################################################################
# webrtc-load viewers beside the browsers

# $n webrtc-load viewers (WHEP) of $stream on the e2e nginx (HTTPS, its
# self-signed certificate), in the background: stdout to audience.json,
# stderr to audience.log in the test directory; consent checks every
# second, SRTP indices checked (--index-check), a line on their stdin
# (audience_mark) marks an event (--marks).  They end (DELETE) after $secs
# or on audience_end.  Returns { pid, marks (the pipe), n, t0 }.
sub audience_start {
	my ($t, $stream, $n, $secs) = @_;
	my $d = $t->testdir();

	pipe(my $r, my $w) or die "pipe: $!";

	my $pid = fork() // die "fork: $!";

	if ($pid == 0) {
		close $w;
		open STDIN, '<&', $r or POSIX::_exit(127);
		open STDOUT, '>', "$d/audience.json";
		open STDERR, '>', "$d/audience.log";
		{ exec Test::Nginx::Load::tool(), '--whep',
			E2E::base() . "/whep/$stream", '--insecure',
			'--viewers', $n, '--duration', $secs,
			'--consent-interval', '1', '--index-check',
			'--http-timeout', '3', '--marks', '--json' }
		POSIX::_exit(127);
	}

	close $r;
	$w->autoflush(1);

	return { pid => $pid, marks => $w, n => $n, t0 => time() };
}

# a check: all of the audience $a connected (its per-second report), 10 s
# at most
sub audience_up {
	my ($t, $a) = @_;
	my $d = $t->testdir();
	my $tick = {};

	for (1 .. 100) {
		$tick = Test::Nginx::Load::last_tick($d, 'audience');
		last if ($tick->{connected} // 0) == $a->{n};
		last if waitpid($a->{pid}, WNOHANG) == $a->{pid};
		sleep 0.1;
	}

	Test::More::ok(($tick->{connected} // 0) == $a->{n},
		"$a->{n} webrtc-load viewers up, "
		. sprintf('%.1f s after their start', time() - $a->{t0}))
		or Test::More::diag(Test::Nginx::Load::slurp("$d/audience.log"));
}

# marks an event for the audience $a (at most 16, 4 labels)
sub audience_mark {
	my ($a, $label) = @_;
	print { $a->{marks} } "$label\n";
}

# ends the audience $a (SIGTERM: its viewers DELETE their sessions) and
# waits for it (15 s at most); its exit status, undef if it had to be
# killed
sub audience_end {
	my ($a) = @_;

	kill 'TERM', $a->{pid};
	my $status = Test::Nginx::Load::finish($a->{pid}, 15);
	close $a->{marks};

	return $status;
}

# what the audience $a saw, its exit status $status (audience_end): 5
# checks, and its gaps (diag: each viewer's longest, the longest around
# each mark).  Its viewers stayed up (all connected to the end, no failure
# of any kind, each DELETEd its session at the end); no stall (a gap of
# over 1 s between a viewer's RTP packets; 5 s under the sanitizers);
# every consent check answered;
# no SRTP decryption failure; no SRTP index that came twice with other
# bytes (a crash adoption moves the index forward by a margin: that is no
# reuse)
sub audience_checks {
	my ($t, $a, $status) = @_;
	my $d = $t->testdir();
	my $n = $a->{n};

	my $sum = Test::Nginx::Load::summary(split /\n/,
		Test::Nginx::Load::slurp("$d/audience.json"));
	my $fail = join ' ', map { "$_:$sum->{fail}{$_}" }
		grep { $sum->{fail}{$_} } sort keys %{$sum->{fail} // {}};

	Test::More::ok(defined $status && ($sum->{launched} // 0) == $n
		&& ($sum->{connected} // 0) == $n && ($sum->{failed} // 1) == 0
		&& $fail eq '' && ($sum->{deleted} // 0) == $n,
		"webrtc-load's $n viewers stayed up: "
		. ($sum->{connected} // 0) . ' connected at the end, '
		. ($sum->{failed} // '?') . ' failed' . ($fail ? " ($fail)" : '')
		. ', ' . ($sum->{deleted} // 0) . ' DELETEd at the end')
		or Test::More::diag(Test::Nginx::Load::slurp("$d/audience.log"));

	Test::More::diag("webrtc-load: each viewer's longest gap: p50 "
		. ($sum->{gap_p50_ms} // '?') . ' ms, p99 '
		. ($sum->{gap_p99_ms} // '?') . ' ms, max '
		. ($sum->{max_gap_ms} // '?') . ' ms; around each mark: '
		. join(', ', map { "$_->{label} $_->{max_gap_ms} ms"
				. ($_->{lost} ? " ($_->{lost} lost)" : '') }
			@{$sum->{marks} // []}));

	# with the sanitizers' runtimes preloaded the bound is 5 s, as in
	# gap_ok (the ASan pass saw gaps of 1.0-1.3 s at reloads and kills
	# beside other tests); it still fails media lost for good

	if (Test::Nginx::preload()) {
		Test::More::ok(defined $sum->{max_gap_ms}
			&& $sum->{max_gap_ms} <= 5000,
			'webrtc-load: no viewer\'s RTP stood still over 5000 ms: '
			. 'the longest gap ' . ($sum->{max_gap_ms} // '?') . ' ms, '
			. ($sum->{stalls} // '?') . ' over 1 s');
	} else {
		Test::More::is($sum->{stalls}, 0, 'webrtc-load: no stall (a gap '
			. 'over 1 s) of any viewer, the longest gap '
			. ($sum->{max_gap_ms} // '?') . ' ms');
	}
	Test::More::is($sum->{consent_unanswered}, 0,
		'webrtc-load: every consent check of the viewers answered ('
		. ($sum->{consent_sent} // 0) . ')');
	Test::More::is($sum->{decrypt_errors}, 0,
		'webrtc-load: no SRTP decryption failure');
	Test::More::is($sum->{nonce_reuse}, 0,
		'webrtc-load: no SRTP index came twice with other bytes');

	return $sum;
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

# a check: the watch's framesDecoded never stood still over 500 ms (issue
# 16).  A viewer whose video broke at a hand-over waits for a key frame;
# the publisher's worker asks for one when the viewers handed over are
# adopted (ngx_webrtc_relay_keyframe_gather), so one key frame serves
# them all.  Before that (2026-12-07), a request within 500 ms of the
# adoption's own was held to the end of the PLI interval: standstills of
# 500-600 ms in about one run in three of t/310 and t/312.  With the
# sanitizers' runtimes preloaded (make test's ASan pass) the module runs
# several times slower: there the bound is 5 s, which still fails a
# session that lost its media for good (the watch goes on 12 s after the
# last event).
sub gap_ok {
	my ($w, $who) = @_;
	my ($f1, $f2) = @{$w->{frames} || []};
	my $bound = Test::Nginx::preload() ? 5000 : 500;

	Test::More::ok(defined $w->{maxGapMs} && $w->{maxGapMs} <= $bound,
		"$who: framesDecoded never stood still over $bound ms: "
		. 'longest ' . ($w->{maxGapMs} // '?') . ' ms, frames '
		. ($f1 // '?') . ' to ' . ($f2 // '?'));
}

# a check: the server's error log has no SRTP or SRTCP packet it failed to
# unprotect (authentication, decryption).  A replay (libsrtp2 error 9 or
# 10) is a duplicate dropped, not such a failure: the publisher's own
# retransmission, on its SSRC (no RTX is negotiated), of a packet the
# server had, which a viewer NACKed from a worker whose NACK cache the
# adoption left empty; those are counted in a diag.
sub unprotect_ok {
	my ($t) = @_;
	my $replay = qr/packet replayed|unprotect failed: (?:9|10)\b/;
	my @all = $t->log_lines(qr/webrtc: SRTC?P (?:packet .* dropped|unprotect)/);
	my @bad = grep { !/$replay/ } @all;

	Test::More::diag(scalar(@all - @bad)
		. ' duplicate SRTP packets dropped as replays') if @all > @bad;

	Test::More::is(scalar @bad, 0, 'the server unprotected every SRTP and '
		. 'SRTCP packet (no "dropped" line but replays)')
		or Test::More::diag(join "\n", @bad[0 .. ($#bad > 4 ? 4 : $#bad)]);
}

1;
