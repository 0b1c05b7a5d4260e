package Test::Nginx::Load;

# Running tools/webrtc-load from a test, bounded: in the background
# (spawn_tool, finish) or in the foreground (run_tool); reading its JSON
# lines (summary, decode) and files (slurp).

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
	status_sum last_tick/;

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

sub slurp {
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	local $/;
	return <$fh> // '';
}

1;
