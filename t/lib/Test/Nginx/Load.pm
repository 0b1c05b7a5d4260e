package Test::Nginx::Load;

# Running tools/webrtc-load from a test, bounded: in the background
# (spawn_tool, finish) or in the foreground (run_tool); reading its JSON
# lines (summary, decode) and files (slurp).  For the tests of live
# sessions across reloads and kills (t/300, t/320, t/330) and the other
# load tests: their nginx.conf (load_conf), a publisher and viewers up
# (load_start, load_wait), what became of them after an event
# (load_step_checks) and at the end of the run (load_checks); a worker
# killed (kill_worker) and the alerts of killed workers (kill_alerts).

use strict;
use warnings;

use Exporter 'import';
use FindBin;
use JSON::PP ();
use POSIX qw/WNOHANG/;
use Test::More ();
use Time::HiRes qw/sleep time/;

our @EXPORT_OK = qw/tool spawn_tool publisher_up finish run_tool summary
	decode slurp created_ids ended_ids session_found status_json
	status_sum last_tick status_text load_conf load_start load_wait
	load_step_checks load_checks kill_worker kill_alerts viewer_lines
	workers_memory/;

# TEST_WEBRTC_LOAD: another build of it
sub tool { $ENV{TEST_WEBRTC_LOAD} || "$FindBin::Bin/../tools/webrtc-load" }

# the tool in the background, stdout to $dir/$name.json and stderr to
# $dir/$name.log; returns its pid
sub spawn_tool {
	my ($dir, $name, @args) = @_;

	my $pid = fork();
	die "fork: $!" unless defined $pid;

	if ($pid == 0) {
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', "$dir/$name.json";
		open STDERR, '>', "$dir/$name.log";
		{ exec tool(), @args }
		POSIX::_exit(127);
	}

	return $pid;
}

# whether the tool spawned as $name says its publisher connected, within
# 5 s; its log is shown if not
sub publisher_up {
	my ($dir, $name) = @_;

	for (1 .. 100) {
		return 1 if slurp("$dir/$name.log") =~ /publisher connected/;
		sleep 0.05;
	}

	Test::More::diag(slurp("$dir/$name.log"));
	return 0;
}

# its exit status once it ends, or undef if killed after $timeout seconds
sub finish {
	my ($pid, $timeout) = @_;
	my $end = time() + $timeout;

	while (time() < $end) {
		return $? if waitpid($pid, WNOHANG) == $pid;
		sleep 0.1;
	}

	kill 'KILL', $pid;
	waitpid($pid, 0);
	return undef;
}

# the tool in the foreground: its stdout lines, $each (if any) called
# after each; stderr to $dir/viewers.log, shown if it failed; killed after
# $timeout seconds
sub run_tool {
	my ($dir, $timeout, $each, @args) = @_;
	my @lines;

	my $pid = open(my $fh, '-|') // die "fork: $!";

	if ($pid == 0) {
		open STDERR, '>', "$dir/viewers.log";
		{ exec tool(), @args }
		POSIX::_exit(127);
	}

	eval {
		local $SIG{ALRM} = sub { die "timeout\n" };
		alarm $timeout;
		while (my $line = <$fh>) {
			push @lines, $line;
			$each->() if $each;
		}
		alarm 0;
	};
	alarm 0;

	if ($@) {
		Test::More::diag("webrtc-load: $@");
		kill 'KILL', $pid;
	}

	close $fh;
	Test::More::diag(slurp("$dir/viewers.log")) if $? >> 8;

	return @lines;
}

# the summary among the tool's JSON lines
sub summary {
	my ($sum) = map { decode($_) } grep { /"type":"summary"/ } @_;
	return $sum // {};
}

sub decode {
	my ($line) = @_;
	return eval { JSON::PP::decode_json($line) };
}

# the last per-second report of the tool spawned as $name ({} if none)
sub last_tick {
	my ($dir, $name) = @_;
	my ($line) = grep { /"type":"tick"/ }
		reverse split /\n/, slurp("$dir/$name.json");
	return decode($line // '') // {};
}

# the ids of the sessions of $stream the error log says were created, in
# order; of one role ('viewer', 'publisher') if given
sub created_ids {
	my ($t, $stream, $role) = @_;
	my $r = defined $role ? quotemeta $role : '\\w+';
	return map { /webrtc $r session (\w+) of stream "\Q$stream\E" created/ }
		$t->log_lines(qr/ session \w+ of stream "\Q$stream\E" created/);
}

# id => the first error log line that ends the session: closed in the
# media plane, deleted by signaling, timed out in the zone
sub ended_ids {
	my ($t) = @_;
	my %ended;

	my $re = ' session \w+ (?:closed: '
		. '|of stream "[^"]*" (?:deleted|timed out))';

	for ($t->log_lines(qr/$re/)) {
		my ($id) = / session (\w+) (?:closed|of stream)/ or next;
		$ended{$id} //= $_;
	}

	return \%ended;
}

# whether the zone still has session $id at $url (.../whep/STREAM/ID): a
# PATCH with an If-Match that cannot match changes nothing and is 412 for
# a session that exists, 404 for one that does not; the status code
sub session_found {
	my ($url) = @_;
	my $r = Test::Nginx::http_req(PATCH => $url, timeout => 3, headers => {
			'Content-Type' => 'application/trickle-ice-sdpfrag',
			'If-Match' => '"0"' },
		body => "a=ice-ufrag:probe\r\n"
			. "a=ice-pwd:probeprobeprobeprobe00\r\n");
	return $r->{status} // 0;
}

# the status location's JSON ({} if none)
sub status_json {
	my ($uri) = @_;
	my $r = Test::Nginx::http_req(GET => $uri // '/status', timeout => 3);
	return decode($r->{body} // '') // {};
}

# a counter of the status summed over the workers
sub status_sum {
	my ($st, $key) = @_;
	my $n = 0;
	$n += $_->{$key} // 0 for @{$st->{workers} // []};
	return $n;
}

# the status as a line: the stream's viewers, each worker's slot, pid,
# publishers and viewers
sub status_text {
	my ($st) = @_;
	return 'stream viewers ' . ($st->{streams}[0]{viewers} // 'none')
		. ', workers (worker:pid:publishers/viewers): '
		. join(' ', map { "$_->{worker}:$_->{pid}:"
			. "$_->{publishers}/$_->{viewers}" }
			@{$st->{workers} // []});
}

###########################################################################
# the load tests' nginx

# the nginx.conf of the load tests: WHIP and WHEP on port 8080, webrtc on
# 8980/udp (reuseport), the error log at info; workers => N (2),
# zone_size => 'webrtc_zone_size' (none), max_sessions =>
# 'webrtc_max_client_sessions' (none), status => 0 for no /status location
# (there is one), http => more of the server{} (a location), main => more
# of the main context (a directive)
sub load_conf {
	my (%o) = @_;
	my $module = Test::Nginx::module_path();
	my $workers = $o{workers} // 2;

	my $main = "worker_processes $workers;\n";
	$main .= "webrtc_zone_size $o{zone_size};\n" if defined $o{zone_size};
	$main .= "$o{main}\n" if defined $o{main};

	my $server = '';
	$server .= "        webrtc_max_client_sessions $o{max_sessions};\n"
		if defined $o{max_sessions};

	my $locations = '';
	$locations .= <<'EOF' if $o{status} // 1;

        location = /status {
            webrtc_status;
        }
EOF
	$locations .= "\n        $o{http}\n" if defined $o{http} && $o{http} ne '';

	return <<"EOF";
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $module;

pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

$main
events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
$server
        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }
$locations    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF
}

# waits (10 s at most) until the status counts $viewers viewers of $stream
# and the error log has $viewers + 1 DTLS handshakes done; the status
sub load_wait {
	my ($t, $stream, $viewers) = @_;
	my $st = {};

	for (1 .. 100) {
		$st = status_json("/status?stream=$stream");
		last if ($st->{streams}[0]{viewers} // 0) == $viewers
			&& $t->log_lines(qr/session \w+: DTLS \S+ established/)
				>= $viewers + 1;
		sleep 0.1;
	}

	return $st;
}

# a publisher and viewers => N (40) of the stream "load", in the background
# (spawned as "publisher" and "audience"), each bounded by its duration
# (pub_duration, duration) and checking consent every second; 3 checks:
# the publisher connected, it and the viewers up (load_wait), the zone
# finds them all "before $o{before}".  Returns { pub, aud (pids), t0 (the
# start), st (the status once up), url (session id => its resource) }.
sub load_start {
	my ($t, %o) = @_;
	my $d = $t->testdir();
	my $base = 'http://127.0.0.1:' . Test::Nginx::port(8080);
	my $viewers = $o{viewers} // 40;

	my $t0 = time();

	my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/load",
		'--duration', $o{pub_duration}, '--bitrate', '500k', '--fps',
		'30', '--gop', '1s', '--consent-interval', '1',
		'--http-timeout', '3', '--json');

	Test::More::ok(publisher_up($d, 'publisher'), 'publisher connected');

	my $aud = spawn_tool($d, 'audience', '--whep', "$base/whep/load",
		'--viewers', $viewers, '--duration', $o{duration},
		'--consent-interval', '1', '--index-check', '--http-timeout',
		'3', '--json');

	# up: DTLS done for all, the status counts them
	my $st = load_wait($t, 'load', $viewers);

	my ($pub_id) = created_ids($t, 'load', 'publisher');
	my @vid = created_ids($t, 'load', 'viewer');
	my %url = map { $_ => "/whep/load/$_" } @vid;
	$url{$pub_id} = "/whip/load/$pub_id" if $pub_id;

	Test::More::ok($pub_id && @vid == $viewers
		&& ($st->{streams}[0]{viewers} // 0) == $viewers,
		"the publisher and $viewers viewers up, "
		. sprintf('%.1f s after the start', time() - $t0))
		or Test::More::diag(slurp("$d/audience.log"));

	Test::More::is(scalar(grep { session_found($url{$_}) == 412 }
			keys %url), $viewers + 1,
		'the zone finds the ' . ($viewers + 1)
		. " sessions before $o{before}");

	return { pub => $pub, aud => $aud, t0 => $t0, st => $st,
		url => \%url };
}

# after event $n ("reload $n", "kill $n": $label): 5 checks.  New
# sessions work (a short publisher and 2 viewers of the stream "probe$n",
# about 3 s: the spacing); then, of the sessions in $url (id => resource,
# load_start) and the $viewers viewers (40) of "load": the status counts
# them, the zone finds them, the viewers receive media, the error log has
# no line that ends one of them
sub load_step_checks {
	my ($t, $label, $n, $url, $viewers) = @_;
	my $d = $t->testdir();
	my $base = 'http://127.0.0.1:' . Test::Nginx::port(8080);
	my $all = ($viewers //= 40) + 1;

	my @out = run_tool($d, 12, undef, '--whip', "$base/whip/probe$n",
		'--whep', "$base/whep/probe$n", '--viewers', '2',
		'--duration', '2', '--http-timeout', '3', '--json');
	my $sum = summary(@out);

	Test::More::ok(($sum->{connected} // 0) == 2
		&& ($sum->{failed} // 1) == 0
		&& ($sum->{min_rtp_per_viewer} // 0) > 20
		&& ($sum->{deleted} // 0) == 2,
		"$label: new sessions work, "
		. ($sum->{min_rtp_per_viewer} // 0) . ' packets each at least')
		or Test::More::diag(join '', @out);

	my $st = status_json('/status?stream=load');

	Test::More::ok(($st->{streams}[0]{viewers} // 0) == $viewers
		&& status_sum($st, 'publishers') == 1
		&& status_sum($st, 'viewers') == $viewers,
		"$label: the status counts the publisher and $viewers viewers")
		or Test::More::diag(status_text($st));

	my @lost = grep { session_found($url->{$_}) != 412 } sort keys %$url;

	Test::More::is(scalar @lost, 0,
		"$label: the zone finds the $all sessions")
		or Test::More::diag(scalar @lost . ' not found');

	my $tick = last_tick($d, 'audience');

	Test::More::ok(($tick->{connected} // 0) == $viewers
		&& ($tick->{rtp_pps} // 0) > 1000,
		"$label: the $viewers viewers receive media, "
		. ($tick->{rtp_pps} // 0) . ' RTP packets a second')
		or Test::More::diag('connected ', $tick->{connected} // '?');

	my $ended = ended_ids($t);
	my @ended = grep { $ended->{$_} } sort keys %$url;

	Test::More::is(scalar @ended, 0,
		"$label: no session ended in the error log")
		or Test::More::diag(scalar @ended . ' ended, the first: '
			. $ended->{$ended[0]});
}

# webrtc-load's view of the whole run, of the publisher and $viewers
# viewers spawned as "publisher" and "audience" in $dir, their exit
# statuses $vs and $ps (finish): 10 checks, and the longest gap (diag).
# It ran to its end; no SRTP index came twice with other bytes, no SRTP
# decryption failure, the publisher did not fail; no stall (a gap over
# 1 s), every consent check answered, no failure, the viewers DELETEd
# their sessions
sub load_checks {
	my ($dir, $vs, $ps, $viewers) = @_;

	my $sum = summary(split /\n/, slurp("$dir/audience.json"));
	my $pum = summary(split /\n/, slurp("$dir/publisher.json"));

	Test::More::ok(defined $vs && ($sum->{launched} // 0) == $viewers
		&& ($sum->{connected} // 0) == $viewers && defined $ps
		&& ($pum->{pub_tx_packets} // 0) > 1000,
		"webrtc-load ran to its end: $viewers viewers connected, "
		. 'the publisher sent ' . ($pum->{pub_tx_packets} // 0)
		. ' packets')
		or Test::More::diag(slurp("$dir/audience.log"),
			slurp("$dir/publisher.log"));

	Test::More::diag('longest gap of a viewer: '
		. ($sum->{max_gap_ms} // '?') . ' ms, '
		. ($sum->{stalled_viewers} // '?') . ' viewers stalled');

	Test::More::is($sum->{nonce_reuse}, 0,
		'no SRTP index came twice with other bytes');
	Test::More::is($sum->{decrypt_errors}, 0, 'no SRTP decryption failure');
	Test::More::is($pum->{pub_failed}, 0, 'the publisher did not fail');

	Test::More::is($sum->{stalls}, 0,
		'no stall (a gap over 1 s) of any viewer');
	Test::More::is($sum->{consent_unanswered}, 0,
		'every consent check of the viewers answered ('
		. ($sum->{consent_sent} // 0) . ')');
	Test::More::is($pum->{pub_consent_unanswered}, 0,
		'every consent check of the publisher answered');
	Test::More::is($sum->{failed}, 0, 'no viewer failed');
	Test::More::is(join(' ', map { "$_:$sum->{fail}{$_}" }
			grep { $sum->{fail}{$_} }
			sort keys %{$sum->{fail} // {}}), '',
		'no failure of any kind');
	Test::More::is($sum->{deleted}, $viewers,
		"the $viewers viewers DELETEd their sessions at the end");
}

# SIGKILL to the worker of slot $slot (found in the status $status->()
# returns: status_json by default), then a wait (5 s at most) until the
# master has reaped it and started another in its slot; returns the pid
# killed (0 if none), the new one (undef if none) and the time of the kill
sub kill_worker {
	my ($t, $slot, $status) = @_;
	$status //= \&status_json;

	my $st = $status->();
	my ($w) = grep { $_->{worker} == $slot } @{$st->{workers} // []};
	my $pid = $w->{pid} // 0;
	my $at = time();

	kill 'KILL', $pid if $pid;

	# the master reaps it and starts another in its slot

	my $new;

	for (1 .. 50) {
		sleep 0.1;
		$st = $status->();
		($w) = grep { $_->{worker} == $slot } @{$st->{workers} // []};
		$new = $w->{pid};
		last if $new && $new != $pid
			&& !grep { $_ == $pid } $t->worker_pids();
	}

	return ($pid, $new, $at);
}

# the harness's "no alerts" would count kills: 1 check, that the error
# log has no alert but those of the workers killed ($killed: pid => 1):
# a worker exited on signal 9, the zone lock it held, the repair; then
# the harness checks only what comes after
sub kill_alerts {
	my ($t, $killed) = @_;

	my @bad = grep {
			!(/ (\d+) exited on signal 9\b/ && $killed->{$1})
			&& !(/ was locked by (\d+)/ && $killed->{$1})
			&& !/webrtc .*repair/
		} $t->log_lines(qr/\[(?:alert|emerg|crit)\]|exited on signal/);

	Test::More::is(scalar @bad, 0, 'no alerts but those of the '
		. keys(%$killed) . ' kills') or Test::More::diag(join "\n", @bad);

	$t->{_log_from} = -s ($t->testdir() . '/error.log');
}

sub slurp {
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	local $/;
	return <$fh> // '';
}

###########################################################################
# ICE-TCP load (t/415)

# the per-viewer JSON lines ({"type":"viewer"}, with --tcp-viewers) of the
# tool spawned as $name in $dir: index => the line decoded
sub viewer_lines {
	my ($dir, $name) = @_;
	my %v;

	for (grep { /"type":"viewer"/ } split /\n/, slurp("$dir/$name.json")) {
		my $l = decode($_) or next;
		$v{$l->{index}} = $l;
	}

	return \%v;
}

# the memory of nginx's workers from /proc, summed: { rss, pss } in kB
# (smaps_rollup; rss from status if it has none)
sub workers_memory {
	my ($t) = @_;
	my %m = (rss => 0, pss => 0);

	for my $pid ($t->worker_pids()) {
		my $r = slurp("/proc/$pid/smaps_rollup");
		$m{rss} += $1 if $r =~ /^Rss:\s+(\d+) kB/m;
		$m{pss} += $1 if $r =~ /^Pss:\s+(\d+) kB/m;
		$m{rss} += $1 if $r !~ /^Rss:/m
			&& slurp("/proc/$pid/status") =~ /^VmRSS:\s+(\d+) kB/m;
	}

	return \%m;
}

1;
