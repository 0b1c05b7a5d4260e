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
	decode slurp/;

sub tool { "$FindBin::Bin/../tools/webrtc-load" }

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

sub slurp {
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	local $/;
	return <$fh> // '';
}

1;
