package Test::Nginx;

=pod

=head1 NAME

Test::Nginx - minimal nginx test harness in the style of nginx.org's nginx-tests
Test::Nginx, written from scratch for nginx-webrtc-module.

=head1 SYNOPSIS

Typical use (see t/000-harness.t for a complete example):

  use Test::Nginx qw/http http_req port/;
  my $t = Test::Nginx->new()->has(qw/http/)->plan(2);
  $t->write_file_expand('nginx.conf', $conf)->run();
  is(http_req(GET => '/')->{status}, 200, 'get');
  $t->stop();      # optional: done automatically at END / DESTROY

=head1 DESCRIPTION

Config placeholders (write_file_expand): %%TEST_GLOBALS%% (load_module
lines, pid, error_log debug), %%TEST_GLOBALS_HTTP%% (access_log and all
*_temp_path in the test dir), %%TEST_GLOBALS_STREAM%% (empty for now),
%%TESTDIR%%, %%PORT_NNNN%% and %%PORT_NNNN_UDP%% (= port(NNNN)).

=head2 API

Methods: new(%opts), has(@features), plan($n), testdir(),
write_file($name, $text), write_file_expand($name, $text), read_file($name),
port($n, udp => 1), run(), run_fail(), reload(), stop(), master_pid(),
worker_pids(), log_lines($re), nginx_t($conf) (alias nginx_ok_config).
Exportable functions: port($n, %o), http($raw, %o), http_req($method,
$uri, %o), nginx_t($conf, %o).  All waits and socket operations are
bounded by $Test::Nginx::TIMEOUT (10 s).  See the comments at each sub.

=head2 Plan counting

Every nginx instance started successfully by run() adds
exactly ONE assertion, "no alerts", which is emitted when that instance
is stopped: explicitly by stop(), or automatically by DESTROY / the END
block of this module (which runs before Test::More checks the plan).
The plan you give to $t->plan($n) is passed to Test::More unchanged, so
$n must INCLUDE one "no alerts" test per successful run().  run_fail()
and nginx_t() add no assertions of their own.

"no alerts" fails if error.log has a line with [alert], [emerg], [crit]
or "exited on signal" (lines written before a run_fail() or before the
previous stop() are not checked again), or if a sanitizer wrote a report
(see TEST_NGINX_PRELOAD).

=head2 Options

Test::Nginx->new(no_module => 1) makes %%TEST_GLOBALS%% (and
nginx_t) not load our module (used by the harness self-test).
Environment: TEST_NGINX_BINARY (default /usr/sbin/nginx),
TEST_NGINX_MODULE (default <repo>/build/ngx_http_webrtc_module.so),
TEST_NGINX_LEAVE (keep the temp dir, its path is printed with diag),
TEST_NGINX_PRELOAD (libraries nginx is started with in LD_PRELOAD, for a
module built with -fsanitize=address,undefined: the sanitizers' runtimes;
their reports go to sanitizer/ in the test directory, and each one fails
the "no alerts" assertion with its text; nginx_t() and run_fail() die
with a report of their nginx).

The master runs in the foreground (daemon off) as a child of the test,
so master_pid() is the forked pid.  If the test runs as root, workers run
as "nobody": the test directory is therefore made world-readable (0755).

=cut

use strict;
use warnings;

use Test::More ();
use Carp qw/croak/;
use Cwd qw/abs_path/;
use Exporter qw/import/;
use File::Basename qw/dirname basename/;
use File::Path qw/make_path/;
use File::Temp qw/tempdir/;
use IO::Socket::IP;
use POSIX qw/WNOHANG/;
use Scalar::Util qw/weaken refaddr/;
use Time::HiRes qw/sleep time/;

our @EXPORT_OK = qw/port http http_req nginx_t run_cmd sdp parse_sdp attr
	media sanitizer_env sanitizer_reports/;
our %EXPORT_TAGS = (all => \@EXPORT_OK);

our $TIMEOUT = 10;      # seconds, bound for every wait and socket op

my $REPO = abs_path(dirname(__FILE__) . '/../../..');
my $STREAM_SO = '/usr/lib/nginx/modules/ngx_stream_module.so';

my %PORTS;              # N => port number (TCP and UDP), per process
my %USED;               # port number => 1, numbers already handed out
my %LIVE;               # refaddr => weak ref to running instances
my $OWNER_PID = $$;     # forked children must not stop nginx at END

sub binary { $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx' }
sub preload { $ENV{TEST_NGINX_PRELOAD} }
sub module_path { $ENV{TEST_NGINX_MODULE}
	|| "$REPO/build/ngx_http_webrtc_module.so" }

###########################################################################
# helpers of the tests

# runs a command, 30 s at most; returns its exit status and its output
sub run_cmd { _capture(30, undef, @_) }

# runs a command for $secs at most (then kills it), after $setup in the
# child if given; returns its exit status and its output (stdout, stderr)
sub _capture {
	my ($secs, $setup, @cmd) = @_;
	local $?;
	pipe my $r, my $w or die "pipe: $!";
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		close $r;
		open STDIN, '<', '/dev/null';
		open STDOUT, '>&', $w;
		open STDERR, '>&', $w;
		$setup->() if $setup;
		{ exec { $cmd[0] } @cmd; }
		POSIX::_exit(127);
	}
	close $w;
	my $out = '';
	eval {
		local $SIG{ALRM} = sub { die "timeout\n" };
		alarm $secs;
		local $/;
		$out = <$r> // '';
		alarm 0;
	};
	alarm 0;
	kill 'KILL', $pid if $@;
	waitpid $pid, 0;
	return ($? >> 8, $out);
}

# a captured offer of t/sdp/
sub sdp {
	my ($name) = @_;
	open my $fh, '<:raw', "$REPO/t/sdp/$name.sdp" or die "$name: $!";
	local $/;
	return <$fh>;
}

# a minimal SDP reader: session lines and m= sections with attributes
sub parse_sdp {
	my ($text) = @_;
	my $s = { session => [], media => [] };
	my $cur = $s->{session};
	for my $line (split /\r?\n/, $text // '') {
		if ($line =~ /^m=(\S+) (\d+) (\S+) (.*)$/) {
			my $m = { kind => $1, port => $2, proto => $3,
				fmts => [ split ' ', $4 ], lines => [] };
			push @{$s->{media}}, $m;
			$cur = $m->{lines};
			next;
		}
		push @$cur, $line;
	}
	return $s;
}

# values of a=<name>:<value> (or 1 for a=<name>) in a list of lines
sub attr {
	my ($lines, $name) = @_;
	return map { /^a=\Q$name\E(?::(.*))?$/ ? ($1 // 1) : () } @$lines;
}

# the first m= section of a kind, an empty one if there is none
sub media {
	my ($s, $kind) = @_;
	my ($m) = grep { $_->{kind} eq $kind } @{$s->{media}};
	return $m // { fmts => [], lines => [] };
}

# a self-signed P-256 certificate (as browsers use for DTLS) in the test
# directory: NAME.crt and NAME.key; more openssl req arguments may follow
sub write_cert {
	my ($self, $name, @args) = @_;
	my $d = $self->testdir();
	my ($rc, $out) = run_cmd('openssl', 'req', '-x509', '-newkey', 'ec',
		'-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
		'-subj', "/CN=$name", @args, '-keyout', "$d/$name.key",
		'-out', "$d/$name.crt");
	Test::More::BAIL_OUT("openssl req: $out") if $rc;
	return $self;
}

###########################################################################
# object lifecycle

sub new {
	my ($class, %opts) = @_;
	my $leave = $ENV{TEST_NGINX_LEAVE};
	my $dir = tempdir('nginx-test-XXXXXXXXXX', TMPDIR => 1,
		CLEANUP => !$leave);
	chmod 0755, $dir;       # workers may run as nobody
	Test::More::diag("test directory: $dir") if $leave;
	return bless { _dir => $dir, _log_from => 0, %opts }, $class;
}

sub testdir { $_[0]->{_dir} }
sub master_pid { $_[0]->{_pid} }

# has(@features): skip_all unless every feature is in the nginx build.
# "http" is built in; optional modules need --with-X[_module][=dynamic].
sub has {
	my ($self, @features) = @_;
	local $?;
	my $v = `${\binary()} -V 2>&1`;
	for my $f (@features) {
		next if $f eq 'http' && $v !~ /--without-http\b/;
		next if $v =~ /--with-\Q$f\E(?:_module)?(?:=dynamic)?(?:\s|$)/;
		Test::More::plan(skip_all => "no $f available");
	}
	return $self;
}

sub plan {
	my ($self, $n) = @_;
	Test::More::plan(tests => $n);
	return $self;
}

###########################################################################
# files

sub _path {
	my ($self, $name) = @_;
	return $name =~ m{^/} ? $name : "$self->{_dir}/$name";
}

sub write_file {
	my ($self, $name, $content) = @_;
	my $path = $self->_path($name);
	make_path(dirname($path));
	open my $fh, '>', $path or croak "can't write $path: $!";
	binmode $fh;
	print $fh $content;
	close $fh or croak "can't close $path: $!";
	return $self;
}

sub read_file {
	my ($self, $name) = @_;
	my $path = $self->_path($name);
	open my $fh, '<', $path or croak "can't read $path: $!";
	binmode $fh;
	local $/;
	my $content = <$fh>;
	return defined $content ? $content : '';
}

# Global lines for the main context (module loads, pid, error_log).
sub test_globals {
	my ($self) = @_;
	my $d = $self->{_dir};
	my $s = "load_module $STREAM_SO;\n";
	$s .= 'load_module ' . module_path() . ";\n" unless $self->{no_module};
	return $s . "pid $d/nginx.pid;\nerror_log $d/error.log debug;\n";
}

sub test_globals_http {
	my ($self) = @_;
	my $d = $self->{_dir};
	return "access_log $d/access.log;\n"
		. join('', map { "${_}_temp_path $d/${_}_temp;\n" }
			qw/client_body proxy fastcgi uwsgi scgi/);
}

sub write_file_expand {
	my ($self, $name, $content) = @_;
	$content =~ s/%%TEST_GLOBALS%%/$self->test_globals()/ge;
	$content =~ s/%%TEST_GLOBALS_HTTP%%/$self->test_globals_http()/ge;
	$content =~ s/%%TEST_GLOBALS_STREAM%%//g;
	$content =~ s/%%TESTDIR%%/$self->{_dir}/g;
	$content =~ s/%%PORT_(\d+)(_UDP)?%%/port($1, udp => !!$2)/ge;
	push @{$self->{_expanded}}, $name;
	return $self->write_file($name, $content);
}

# error.log lines matching $re (all lines without $re).
sub log_lines {
	my ($self, $re) = @_;
	my @lines = -e $self->_path('error.log')
		? split(/\n/, $self->read_file('error.log')) : ();
	@lines = grep { /$re/ } @lines if defined $re;
	return @lines;          # count in scalar context
}

sub _tail {
	my ($self, $n) = @_;
	my @l = $self->log_lines();
	my @e = -s $self->_path('nginx.stderr')
		? split(/\n/, $self->read_file('nginx.stderr')) : ();
	@l = @l[-$n .. -1] if @l > $n;
	return join "\n", (@e ? ('stderr:', @e) : ()), 'error.log tail:', @l;
}

###########################################################################
# ports

# port($n, udp => 1): a free port number, stable per $n for the process.
# TCP and UDP variants of the same $n share a number; when the number is
# picked both the TCP and the UDP port are checked to be free.
sub port {
	shift if ref $_[0] && eval { $_[0]->isa(__PACKAGE__) };
	my ($n, %opts) = @_;
	return $PORTS{$n} if exists $PORTS{$n};
	for (1 .. 100) {
		my $tcp = IO::Socket::IP->new(LocalHost => '127.0.0.1',
			LocalPort => 0, Proto => 'tcp', Listen => 1,
			ReuseAddr => 1) or next;
		my $p = $tcp->sockport();
		next if $USED{$p};
		my $udp = IO::Socket::IP->new(LocalHost => '127.0.0.1',
			LocalPort => $p, Proto => 'udp') or next;
		close $udp;
		close $tcp;
		$USED{$p} = 1;
		return $PORTS{$n} = $p;
	}
	croak "can't find a free port for $n";
}

# TCP ports nginx listens on, taken from "listen" directives (without
# "udp"/"quic") in files written with write_file_expand().
sub _listen_ports {
	my ($self) = @_;
	my %ours = map { $_ => 1 } values %PORTS;
	my %seen;
	my @res;
	for my $f (@{$self->{_expanded} || []}) {
		my $c = eval { $self->read_file($f) } // next;
		$c =~ s/#[^\n]*//g;
		while ($c =~ /\blisten\s+([^;]+);/g) {
			my @w = split ' ', $1;
			next if grep { /^(udp|quic)$/ } @w;
			my ($addr, $p) = $w[0] =~ /^(?:(.*):)?(\d+)$/ or next;
			next unless $ours{$p};
			$addr = !defined $addr || $addr =~ /^(\*|0\.0\.0\.0|\[::\])$/
				? '127.0.0.1' : $addr;
			$addr =~ s/^\[(.*)\]$/$1/;
			push @res, [$addr, $p] unless $seen{"$addr $p"}++;
		}
	}
	return @res;
}

###########################################################################
# running nginx

sub _spawn {
	my ($self) = @_;
	my $d = $self->{_dir};
	unlink "$d/nginx.pid";
	my $pid = fork();
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', "$d/nginx.stderr";
		open STDERR, '>&', \*STDOUT;
		_sanitize($d);
		{ exec binary(), '-p', "$d/", '-c', 'nginx.conf',
			'-e', 'error.log', '-g', 'daemon off; master_process on;' }
		POSIX::_exit(127);      # no END blocks in the child
	}
	$self->{_pid} = $pid;
	$self->{_exit} = undef;
	return $pid;
}

# The environment nginx is started with under TEST_NGINX_PRELOAD: the
# sanitizers' runtimes and options, reports to $dir/sanitizer/ (made
# writable for workers running as nobody).  Workers inherit both from the
# master: nginx clears their environment after the runtime has read it.
# Leaks are not reported: nginx frees its pools at exit, not every malloc
# of its libraries.  An error aborts, so that error.log also has "exited
# on signal 6".  Without TEST_NGINX_PRELOAD, glibc's own check: freed
# memory is filled with a pattern (MALLOC_PERTURB_; its per-thread cache,
# which skips that, off), so that a pointer into freed memory reads
# garbage at once instead of what happened to stay there (a peer's pool
# logging through a closed connection's log crashed workers only after
# minutes of a soak, t/086).
sub sanitizer_env {
	my ($dir) = @_;
	return (GLIBC_TUNABLES => 'glibc.malloc.tcache_count=0',
		MALLOC_PERTURB_ => 165) unless preload();
	my $out = "$dir/sanitizer";
	mkdir $out;
	chmod 01777, $out;
	return (LD_PRELOAD => preload(),
		ASAN_OPTIONS => "detect_leaks=0:abort_on_error=1"
			. ":log_path=$out/asan",
		UBSAN_OPTIONS => "halt_on_error=1:print_stacktrace=1"
			. ":log_path=$out/ubsan");
}

# The text of the sanitizers' reports in $dir/sanitizer/; with a hash
# reference, files already in it are skipped and the new ones added.
sub sanitizer_reports {
	my ($dir, $seen) = @_;
	$seen //= {};
	my @out;
	opendir my $dh, "$dir/sanitizer" or return ();
	for my $f (map { "$dir/sanitizer/$_" } sort grep { !/^\./ } readdir $dh) {
		next if $seen->{$f}++;
		open my $fh, '<', $f or next;
		push @out, "$f:\n", <$fh>;
	}
	return @out;
}

sub _sanitize {
	my ($dir) = @_;
	my %env = sanitizer_env($dir);
	@ENV{keys %env} = values %env;
}

# True if the master is still running (reaps it if it has exited).
sub _alive {
	my ($self) = @_;
	my $pid = $self->{_pid} or return 0;
	local $?;               # do not leak wait status to the test script
	return 1 if waitpid($pid, WNOHANG) == 0;
	$self->{_exit} = $?;
	delete $self->{_pid};
	return 0;
}

# Start nginx and wait until it runs; returns true on success, sets
# $self->{_error} otherwise (nginx exited, or timeout: nginx is killed).
sub _start {
	my ($self) = @_;
	croak 'nginx is already running' if $self->{_pid};
	$self->_spawn();
	my @wait = $self->_listen_ports();
	my $end = time() + $TIMEOUT;
	while (time() < $end) {
		if (!$self->_alive()) {
			$self->{_error} = "nginx exited with status "
				. ($self->{_exit} >> 8) . "\n" . $self->_tail(20);
			return 0;
		}
		# pid file, listen sockets, and at least one worker started
		if (-e $self->_path('nginx.pid')) {
			@wait = grep { !_can_connect(@$_) } @wait;
			return 1 unless @wait || !$self->worker_pids();
		}
		sleep 0.05;
	}
	$self->{_error} = "nginx did not start in ${TIMEOUT}s"
		. (@wait ? ' (port ' . join(', ', map { $_->[1] } @wait)
			. ' not listening)' : '') . "\n" . $self->_tail(20);
	$self->_terminate();
	return 0;
}

sub _can_connect {
	my ($addr, $port) = @_;
	my $s = IO::Socket::IP->new(PeerHost => $addr, PeerPort => $port,
		Proto => 'tcp', Timeout => 1) or return 0;
	close $s;
	return 1;
}

# run(): start nginx; dies (with error.log tail) if it fails to start.
sub run {
	my ($self) = @_;
	croak "can't start nginx: $self->{_error}" unless $self->_start();
	$LIVE{refaddr $self} = $self;
	weaken $LIVE{refaddr $self};
	return $self;
}

# run_fail(): for configs that must be rejected.  Returns the failure
# text (stderr + error.log tail, true) if nginx failed to start, undef if
# it started (it is then stopped again, without the "no alerts" check).
# Log lines up to this point are excluded from later "no alerts" checks.
sub run_fail {
	my ($self) = @_;
	my $ok = $self->_start();
	$self->_terminate() if $ok;
	$self->{_log_from} = -s $self->_path('error.log') || 0;
	my @reports = sanitizer_reports($self->{_dir},
		$self->{_reported} //= {});
	croak "sanitizer report from nginx:\n", @reports if @reports;
	return $ok ? undef : $self->{_error};
}

# Child processes of the master (workers, cache manager...), from /proc.
sub worker_pids {
	my ($self) = @_;
	my $master = $self->{_pid} or return ();
	my @pids;
	for my $stat (glob '/proc/[0-9]*/stat') {
		open my $fh, '<', $stat or next;
		my $line = <$fh> // next;
		my ($pid) = $stat =~ m{/proc/(\d+)/};
		my ($ppid) = $line =~ /\)\s+\S+\s+(\d+)/ or next;
		push @pids, $pid if $ppid == $master;
	}
	@pids = sort { $a <=> $b } @pids;
	return @pids;           # count in scalar context
}

# reload(): SIGHUP, then wait until new workers are started and the old
# ones have exited (bounded).  Dies if nginx does not start new workers.
sub reload {
	my ($self) = @_;
	my $master = $self->{_pid} or croak 'nginx is not running';
	my @old = $self->worker_pids();
	my $workers = grep { _cmdline($_) =~ /worker process/ } @old;
	my $started = sub { scalar $self->log_lines(qr/start worker/) };
	my $need = $started->() + ($workers || 1);
	my $from = -s $self->_path('error.log') || 0;
	kill 'HUP', $master;

	my $end = time() + $TIMEOUT;
	while (time() < $end) {
		croak "nginx exited during reload\n" . $self->_tail(20)
			unless $self->_alive();
		last if $started->() >= $need;
		croak "reload failed\n" . $self->_tail(20)    # e.g. bad config
			if substr($self->read_file('error.log'), $from) =~ /\[emerg\]/;
		sleep 0.05;
	}
	croak "no new workers after reload\n" . $self->_tail(20)
		if $started->() < $need;

	# old workers close their listen sockets and exit gracefully
	my %old = map { $_ => 1 } @old;
	while (time() < $end && grep { $old{$_} } $self->worker_pids()) {
		sleep 0.05;
	}
	Test::More::diag('old workers still running after reload')
		if grep { $old{$_} } $self->worker_pids();
	return $self;
}

sub _cmdline {
	open my $fh, '<', "/proc/$_[0]/cmdline" or return '';
	local $/;
	return <$fh> // '';
}

# Stop the master: QUIT, then TERM, then KILL; no log checks.
sub _terminate {
	my ($self) = @_;
	for my $sig ([QUIT => $TIMEOUT], [TERM => 5], [KILL => 5]) {
		return 1 unless $self->_alive();
		kill $sig->[0], $self->{_pid};
		my $end = time() + $sig->[1];
		while (time() < $end) {
			return 1 unless $self->_alive();
			sleep 0.05;
		}
		Test::More::diag("nginx did not exit on $sig->[0]");
	}
	return !$self->_alive();
}

# stop(): stop nginx and run the "no alerts" assertion (once per run()).
sub stop {
	my ($self) = @_;
	return $self unless delete $LIVE{refaddr $self};
	$self->_terminate();

	my $log = $self->_path('error.log');
	my @bad;
	if (open my $fh, '<', $log) {
		seek $fh, $self->{_log_from}, 0;
		@bad = grep { /\[(alert|emerg|crit)\]|exited on signal/ } <$fh>;
		$self->{_log_from} = tell $fh;
	}
	push @bad, sanitizer_reports($self->{_dir},
		$self->{_reported} //= {});
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	Test::More::ok(!@bad, 'no alerts')
		or Test::More::diag("error.log:\n", @bad);
	return $self;
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $@, $!);
	$self->stop() if $$ == $OWNER_PID && $LIVE{refaddr $self};
}

# Runs before Test::Builder's own END block (which checks the plan),
# because Test::More was loaded before this block was compiled.
END {
	if ($$ == $OWNER_PID) {
		local $?;
		$_->stop() for grep { defined } values %LIVE;
	}
}

# nginx_t($conf, %opts) / $t->nginx_t($conf) / $t->nginx_ok_config($conf):
# "nginx -t" on $conf (relative paths: to the test directory for the
# method, to the cwd for the function, which uses a scratch directory).
# The modules of %%TEST_GLOBALS%% are loaded with -g unless the config
# loads them itself (no_module => 1 skips ours).  Returns (exit code,
# combined output).
sub nginx_t {
	my $self = ref $_[0] && eval { $_[0]->isa(__PACKAGE__) } ? shift
		: undef;
	my ($conf, %opts) = @_;
	local $?;
	my $no_module = $opts{no_module} || ($self && $self->{no_module});
	my $dir = $self ? $self->{_dir}
		: tempdir('nginx-t-XXXXXXXXXX', TMPDIR => 1, CLEANUP => 1);
	$conf = $self ? $self->_path($conf) : abs_path($conf) // $conf;

	my $text = -r $conf ? do {
		open my $fh, '<', $conf; local $/; <$fh> // '' } : '';
	my @mods = ($STREAM_SO, $no_module ? () : module_path());
	my $g = join ' ', map { "load_module $_;" }
		grep { $text !~ /^\s*load_module\s+\S*\Q${\basename($_)}\E\s*;/m }
		@mods;

	my ($rc, $out) = _capture($TIMEOUT, sub { _sanitize($dir) }, binary(),
		'-t', '-p', "$dir/", '-c', $conf, '-e', "$dir/nginx-t.log",
		($g ne '' ? ('-g', $g) : ()));

	# a crash fails a test that expects nginx -t to fail as well
	my @reports = sanitizer_reports($dir,
		$self ? ($self->{_reported} //= {}) : {});
	croak "sanitizer report from nginx -t:\n", @reports if @reports;

	return ($rc, $out);
}

sub nginx_ok_config { goto &nginx_t }

###########################################################################
# HTTP client helpers (127.0.0.1 / ::1 only)

# http($raw, %opts): send $raw (plus $opts{body}) and read until close.
# Options: port (default port(8080)), addr (127.0.0.1 or ::1), SSL => 1,
# timeout (default 10 s).  Returns the raw response ('' on error/timeout).
sub http {
	my ($request, %opts) = @_;
	my $addr = $opts{addr} // '127.0.0.1';
	croak "only loopback addresses allowed: $addr"
		unless $addr =~ /^(127\.0\.0\.1|::1|localhost)$/;
	my $port = $opts{port} // port(8080);
	my $timeout = $opts{timeout} // $TIMEOUT;
	$request .= $opts{body} if defined $opts{body};

	my $reply = '';
	eval {
		local $SIG{ALRM} = sub { die "timeout\n" };
		local $SIG{PIPE} = 'IGNORE';
		alarm $timeout;
		my %peer = (PeerHost => $addr, PeerPort => $port,
			Timeout => $timeout);
		my $s;
		if ($opts{SSL}) {
			require IO::Socket::SSL;
			$s = IO::Socket::SSL->new(%peer,
				SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE(),
				SSL_hostname => $opts{SSL_hostname} // 'localhost')
				or die 'ssl connect: ' . IO::Socket::SSL::errstr() . "\n";
		} else {
			$s = IO::Socket::IP->new(%peer, Proto => 'tcp')
				or die "connect: $@\n";
		}
		$s->autoflush(1);
		print $s $request;
		while (1) {
			my $n = sysread($s, my $buf, 65536);
			last unless $n;         # EOF or error
			$reply .= $buf;
		}
		alarm 0;
		close $s;
	};
	alarm 0;
	Test::More::diag("http(): $@") if $@ && !$opts{quiet};
	return $reply;
}

# http_req($method, $uri, %opts): build a request (Host: localhost,
# Connection: close, HTTP/1.1 unless version => '1.0'; headers => {name =>
# value or [values]} or [name => value, ...]; body sets Content-Length),
# send it with http() (same %opts) and parse the response:
#   { status, headers => {lc name => first value}, headers_all =>
#     {lc name => [all values]}, body (de-chunked), raw }
# status is undef if there was no valid response.
sub http_req {
	my ($method, $uri, %opts) = @_;
	my $h = $opts{headers} || {};
	my @h = ref $h eq 'HASH' ? map { $_ => $h->{$_} } sort keys %$h : @$h;
	my %have = map { lc($_) => 1 } @h[grep { !($_ % 2) } 0 .. $#h];
	my $req = "$method $uri HTTP/" . ($opts{version} // '1.1') . "\r\n";
	$req .= "Host: localhost\r\n" unless $have{host};
	$req .= "Connection: close\r\n" unless $have{connection};
	$req .= "Content-Length: " . length($opts{body}) . "\r\n"
		if defined $opts{body} && !$have{'content-length'};
	while (my ($k, $v) = splice @h, 0, 2) {
		$req .= "$k: $_\r\n" for ref $v ? @$v : $v;
	}
	return parse_response(http("$req\r\n", %opts));
}

sub parse_response {
	my ($raw) = @_;
	my %res = (raw => $raw, headers => {}, headers_all => {});
	my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
	return \%res unless defined $head
		&& $head =~ s{^HTTP/\d\.\d\s+(\d{3})[^\n]*\n?}{};
	$res{status} = $1;
	for (split /\r?\n/, $head) {
		my ($k, $v) = /^([^:\s]+)\s*:\s*(.*?)\s*$/ or next;
		push @{$res{headers_all}{lc $k}}, $v;
		$res{headers}{lc $k} //= $v;
	}
	$body //= '';
	$body = _dechunk($body)
		if ($res{headers}{'transfer-encoding'} // '') =~ /chunked/i;
	$res{body} = $body;
	return \%res;
}

sub _dechunk {
	my ($in) = @_;
	my $out = '';
	while ($in =~ s/^([0-9a-fA-F]+)[^\n]*\n//) {
		my $len = hex $1;
		last if $len == 0;
		$out .= substr $in, 0, $len, '';
		$in =~ s/^\r?\n//;
	}
	return $out;
}

1;
