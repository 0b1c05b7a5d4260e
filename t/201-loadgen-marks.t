#!/usr/bin/perl

# The load generator's marks (webrtc-load --marks, for bench/run's reload
# and kill phase): the gaps of the viewers' media around an event marked
# on its stdin.  A publisher streams through nginx (2 workers); 4 viewers
# in 2 processes (--procs 2: the parent passes the marks on) get three
# marks.  "calm": nothing happens, every viewer has media and keeps it, a
# gap of some ms.  "pause": 0.3 s after it the publisher is stopped
# (SIGSTOP) for 1.5 s: every viewer's longest gap around it is about
# 1.5 s, a stall, none lost, and the gap is not the calm mark's (it
# starts after the next mark).  "halt": the publisher was stopped for
# good 0.3 s before it: every viewer had media at the mark and none after
# it (lost), and they fail (stalled) when the run ends, counted for that
# label only.  The summary's per-viewer gaps (p50 <= p99 <= max =
# max_gap_ms) include the pause (and the open gap after the halt).
# Skipped if the tool is not built (make tools).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish summary
	decode slurp load_conf/;
use POSIX qw/WNOHANG/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(17);

$t->write_file_expand('nginx.conf', load_conf(status => 0))->run();

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);

# the publisher streams 30 s at most; it is stopped and continued below
my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/marks",
	'--duration', '17', '--bitrate', '500k', '--fps', '25', '--gop', '1s',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

###########################################################################
# 4 viewers, 10 s; the marks on their stdin

pipe(my $in_r, my $in_w) or die "pipe: $!";
$in_w->autoflush(1);

my $vpid = open(my $fh, '-|') // die "fork: $!";

if ($vpid == 0) {
	close $in_w;
	open STDIN, '<&', $in_r or POSIX::_exit(127);
	open STDERR, '>', "$d/viewers.log";
	{ exec tool(), '--whep', "$base/whep/marks", '--viewers', '4',
		'--procs', '2', '--duration', '10', '--http-timeout', '3',
		'--marks', '--mark-window', '2', '--json' }
	POSIX::_exit(127);
}

close $in_r;

my (@lines, $up, $stopped);
my $t0 = time();
my @plan = (
	# s after the viewers are up: a mark, or a signal to the publisher
	[ 1.0, 'calm', undef ],
	[ 2.5, 'pause', undef ],
	[ 2.8, undef, 'STOP' ],
	[ 4.3, undef, 'CONT' ],
	[ 6.0, undef, 'STOP' ],
	[ 6.3, 'halt', undef ],
);

eval {
	local $SIG{ALRM} = sub { die "timeout\n" };
	alarm 25;

	my $buf = '';

	while (1) {
		my $rin = '';
		vec($rin, fileno($fh), 1) = 1;

		if (select(my $rout = $rin, undef, undef, 0.05)) {
			my $n = sysread($fh, $buf, 65536, length $buf);
			last unless $n;

			while ($buf =~ s/^([^\n]*\n)//) {
				my $l = $1;
				push @lines, $l;
				my $j = decode($l) // {};
				$up //= time() if ($j->{connected} // 0) == 4;
			}
		}

		next unless $up && @plan && time() >= $up + $plan[0][0];

		my ($at, $label, $sig) = @{shift @plan};
		print $in_w "$label\n" if $label;

		if ($sig) {
			kill $sig, $pub;
			$stopped = $sig eq 'STOP';
		}
	}

	alarm 0;
};
alarm 0;

if ($@) {
	diag("webrtc-load: $@");
	kill 'KILL', $vpid;
}

close $in_w;
close $fh;
my $status = $? >> 8;

kill 'CONT', $pub if $stopped;

my $sum = summary(@lines);
my %m = map { $_->{label} => $_ } @{$sum->{marks} // []};
my %g = map { $_->{label} => $_ } @{$sum->{mark_groups} // []};

is(join(' ', map { $_->{label} } @{$sum->{marks} // []}), 'calm pause halt',
	'three marks, in order') or diag(join '', @lines, slurp("$d/viewers.log"));
ok(($m{pause}{t} // 0) - ($m{calm}{t} // 0) > 1.3
	&& ($m{halt}{t} // 0) - ($m{pause}{t} // 0) > 3.6,
	"the marks' times: " . join(', ', map { $_->{t} }
		@{$sum->{marks} // []}) . ' s');
is($sum->{connected}, 4, '4 viewers connected');

# nothing happened at "calm": every viewer kept its media
ok(($g{calm}{live} // 0) == 4 && $g{calm}{lost} == 0
	&& $g{calm}{failed} == 0 && $g{calm}{gap_viewers} == 4,
	'calm: 4 viewers with media, none lost, none failed');
ok(defined $g{calm}{gap_max_ms} && $g{calm}{gap_max_ms} < 1000
	&& $g{calm}{gap_p50_ms} <= $g{calm}{gap_p99_ms}
	&& $g{calm}{gap_p99_ms} <= $g{calm}{gap_max_ms},
	'calm: longest gap a viewer p50 ' . ($g{calm}{gap_p50_ms} // '?')
	. ' p99 ' . ($g{calm}{gap_p99_ms} // '?') . ' max '
	. ($g{calm}{gap_max_ms} // '?') . ' ms');

# the publisher stopped for 1.5 s: every viewer's gap about that long
ok(($g{pause}{live} // 0) == 4 && $g{pause}{lost} == 0
	&& $g{pause}{failed} == 0 && $g{pause}{gap_viewers} == 4,
	'pause: 4 viewers with media, none lost, none failed');
ok(($g{pause}{gap_p50_ms} // 0) >= 1300 && $g{pause}{gap_max_ms} < 4000
	&& $g{pause}{gap_p50_ms} <= $g{pause}{gap_p99_ms}
	&& $g{pause}{gap_p99_ms} <= $g{pause}{gap_max_ms}
	&& $m{pause}{max_gap_ms} == $g{pause}{gap_max_ms},
	'pause: longest gap a viewer p50 ' . ($g{pause}{gap_p50_ms} // '?')
	. ' p99 ' . ($g{pause}{gap_p99_ms} // '?') . ' max '
	. ($g{pause}{gap_max_ms} // '?') . ' ms');
cmp_ok($m{calm}{max_gap_ms} // 1e9, '<', 1000,
	'the pause is not counted at the mark before it (its window ends)');

# the publisher stopped for good: lost, and failed (stalled) at the end
ok(($g{halt}{live} // 0) == 4 && $g{halt}{lost} == 4
	&& ($m{halt}{lost} // 0) == 4,
	'halt: 4 viewers had media at the mark, none after it: lost');
ok(($g{halt}{gap_viewers} // -1) == 0 && !defined $g{halt}{gap_max_ms},
	'halt: no gap of a viewer whose media never came back');
ok(($g{halt}{failed} // 0) == 4 && $g{halt}{closed} == 0
	&& ($sum->{fail}{stalled} // 0) == 4,
	'halt: the 4 failed (stalled) when the run ended, for that label only');

# the whole run: the pause is each viewer's longest gap, a stall
ok(($sum->{gap_viewers} // 0) == 4
	&& $sum->{gap_p50_ms} <= $sum->{gap_p99_ms}
	&& $sum->{gap_p99_ms} <= $sum->{gap_max_ms}
	&& $sum->{gap_max_ms} == $sum->{max_gap_ms}
	&& $sum->{gap_p50_ms} >= 1300,
	'run: longest gap a viewer p50 ' . ($sum->{gap_p50_ms} // '?') . ' p99 '
	. ($sum->{gap_p99_ms} // '?') . ' max ' . ($sum->{gap_max_ms} // '?')
	. ' ms = max_gap_ms ' . ($sum->{max_gap_ms} // '?'));
cmp_ok($sum->{stalls} // 0, '>=', 4, 'run: the pause was a stall for each');
is($status, 3, 'exit status 3: viewers failed (stalled)');

###########################################################################
# the publisher ends by itself

is(finish($pub, 25 - (time() - $t0)), 0, 'publisher exited, status 0');

###########################################################################
