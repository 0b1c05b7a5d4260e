package E2E::Coturn;

# Debian's coturn for the TURN tests (t/350-e2e-turn.t, browsers on the
# host; t/351-e2e-turn-netns.t, browsers in a namespace whose UDP is
# dropped): conf-examples/coturn/turnserver.conf with its addresses,
# ports, secret, certificate, database and log moved to the test's own.
# coturn listens on one address of the host (TCP and UDP on one port,
# TLS on another) and relays from 127.0.0.1 to nginx's media address,
# 127.0.0.1 too, and nowhere else; its relay ports are a range of the
# test's own, so the address the module sees is known to be coturn's.
#
#   plan(skip_all => $why) if my $why = E2E::Coturn::unavailable();
#   my ($min, $max) = relay_range(16, $turn, $turns);   # ports to avoid
#   start_coturn($t, listen => '127.0.0.1', port => $turn,
#       tls_port => $turns, secret => $secret, min => $min, max => $max);
#   my $log = coturn_log($t);
#   allocated($log, $username);     # a successful Allocate for it
#   my ($lines, @ports) = relay_paths($t, $session_id);
#   my $hash = spki("$d/cert.pem"); # for Chromium's turns: to coturn
#   stop_coturn();                  # also done by an END block

use strict;
use warnings;

use Cwd qw/abs_path/;
use Exporter 'import';
use File::Basename qw/dirname/;
use IO::Socket::IP;
use POSIX qw/WNOHANG/;
use Test::More ();
use Time::HiRes qw/sleep time/;

our @EXPORT = qw/relay_range start_coturn stop_coturn coturn_log allocated
	relay_paths spki/;

my $REPO = abs_path(dirname(__FILE__) . '/../../../..');

sub turnserver { $ENV{TURNSERVER} || '/usr/bin/turnserver' }

# why the test cannot run coturn here, or undef
sub unavailable {
	return 'no coturn (' . turnserver() . ', Debian coturn)'
		unless -x turnserver();
	return undef;
}

# $n consecutive ports free for UDP on 127.0.0.1 in 20000-30000 (outside
# the kernel's ephemeral ports, 32768-60999), none of @avoid
sub relay_range {
	my ($n, @avoid) = @_;
	my %used = map { $_ => 1 } @avoid;
	TRY: for (1 .. 50) {
		my $base = 20000 + int(rand(10000 - $n));
		for my $p ($base .. $base + $n - 1) {
			next TRY if $used{$p};
			my $s = IO::Socket::IP->new(LocalHost => '127.0.0.1',
				LocalPort => $p, Proto => 'udp') or next TRY;
			close $s;
		}
		return ($base, $base + $n - 1);
	}
	die "no $n free UDP ports in a row\n";
}

my $PID;

# start_coturn($t, listen => address, port => TURN port (UDP and TCP),
# tls_port => TURNS port, secret => the static-auth-secret, min => and
# max => the relay ports): the conf-example with the test's own lines,
# started in the foreground; returns once both TCP ports accept (10 s at
# most: a diag says why not)
sub start_coturn {
	my ($t, %o) = @_;
	my $d = $t->testdir();

	my %own = (
		'listening-ip' => $o{listen},
		'relay-ip' => '127.0.0.1',
		'listening-port' => $o{port},
		'tls-listening-port' => $o{tls_port},
		'min-port' => $o{min},
		'max-port' => $o{max},
		'static-auth-secret' => $o{secret},
		'cert' => "$d/cert.pem",
		'pkey' => "$d/key.pem",
		'allowed-peer-ip' => '127.0.0.1',
	);
	my $conf = '';
	for (split /\n/, $t->read_file(
		"$REPO/conf-examples/coturn/turnserver.conf"))
	{
		next if /^\s*(#|$)/;
		my ($k) = /^\s*([\w-]+)/;
		next if exists $own{$k};
		$conf .= "$_\n";
	}
	$conf .= "$_=$own{$_}\n" for sort keys %own;

	# coturn 4.6 refuses peers on 127.x.x.x and ::1 unless told
	# (allow-loopback-peers; denied-peer-ip does not cover loopback):
	# here the module's media port is on 127.0.0.1
	$conf .= "allow-loopback-peers\n";

	# everything in the test's directory, nothing of a system-wide
	# coturn: its sqlite database, log, pid file
	$conf .= "userdb=$d/turndb\n"
		. "log-file=$d/turnserver.log\nsimple-log\nno-stdout-log\n"
		. "pidfile=$d/turnserver.pid\nverbose\n";
	$t->write_file('turnserver.conf', $conf);

	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', "$d/turnserver.out";
		open STDERR, '>&', \*STDOUT;
		{ exec turnserver(), '-c', "$d/turnserver.conf"; }
		POSIX::_exit(127);
	}
	$PID = $pid;

	my $end = time() + 10;
	while (time() < $end) {
		last if waitpid($pid, WNOHANG) == $pid;
		my $up = grep { IO::Socket::IP->new(PeerHost => $o{listen},
			PeerPort => $_, Proto => 'tcp', Timeout => 1) }
			$o{port}, $o{tls_port};
		return $pid if $up == 2;
		sleep 0.1;
	}
	Test::More::diag('coturn did not start: ', -e "$d/turnserver.out"
		? $t->read_file('turnserver.out') : '');
	return $pid;
}

# TERM, then KILL (5 s each at most)
sub stop_coturn {
	return unless $PID;
	for my $sig ([TERM => 5], [KILL => 5]) {
		if (waitpid($PID, WNOHANG) != 0) {
			undef $PID;
			return;
		}
		kill $sig->[0], $PID;
		my $until = time() + $sig->[1];
		while (time() < $until) {
			if (waitpid($PID, WNOHANG) != 0) {
				undef $PID;
				return;
			}
			sleep 0.05;
		}
	}
}

END { local $?; stop_coturn(); }

sub coturn_log {
	my ($t) = @_;
	my $f = $t->testdir() . '/turnserver.log';
	return -e $f ? $t->read_file('turnserver.log') : '';
}

# a successful Allocate for this username in coturn's log
sub allocated {
	my ($log, $user) = @_;
	return 0 unless defined $user;
	return $log =~ /user <\Q$user\E>: incoming packet ALLOCATE processed, success/;
}

# the client ports of a session's media paths, in the order the module
# took them: its "ICE nominated" line and its "media path moved" (or
# "nominated an address of worker") lines, info level, each on a UDP
# connection whose nginx line "*N udp client ADDRESS:PORT connected" names
# the port (where the module's line names the client's address only:
# nginx's addr_text of a UDP session); clients on 127.0.0.1, coturn's
# relay address.  Returns (the lines, ports).
sub relay_paths {
	my ($t, $id) = @_;
	my (@lines, @ports);
	for my $line ($t->log_lines(qr/session \Q$id\E: (?:ICE nominated|media path moved|nominated an address)/)) {
		push @lines, $line;
		if ($line =~ /client: 127\.0\.0\.1:(\d+)/) {
			push @ports, $1;
			next;
		}
		my ($pid, $conn) = $line =~ /\] (\d+)#\d+: \*(\d+) / or next;
		my ($c) = $t->log_lines(qr/\] $pid#\d+: \*$conn udp client 127\.0\.0\.1:\d+ connected/);
		push @ports, $1 if ($c // '') =~ /udp client 127\.0\.0\.1:(\d+) /;
	}
	return (\@lines, @ports);
}

# base64 of the SHA-256 of a certificate's public key (SPKI): Chromium's
# --ignore-certificate-errors-spki-list
sub spki {
	my ($cert) = @_;
	local $?;
	my $h = `openssl x509 -in $cert -noout -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A`;
	die "openssl: $?" if $?;
	return $h;
}

1;
