#!/usr/bin/perl

# TURN through a real coturn (issue 17, item 3).  The test starts Debian's
# coturn on 127.0.0.1 with conf-examples/coturn/turnserver.conf (its
# addresses, ports, secret, certificate, database and log moved to the
# test's own: use-auth-secret with the secret of nginx's
# "webrtc_ice_server ... secret=", a UDP/TCP port, a TLS port with the
# E2E certificate, a relay port range of its own).  Chromium, every peer
# connection with iceTransportPolicy 'relay', publishes (WHIP) and
# watches (WHEP) through it with the TURN server and credentials of the
# answer's Link header (parsed by parseLinkHeader of html/webrtc.js, and
# configured before the local description: t/e2e/turn.js says why); once
# per transport to coturn: UDP, TCP and TLS (turns:).
#
# For each transport: both peers connect and the viewer decodes frames
# that keep coming; getStats' selected pair has a local candidate of type
# relay with the transport's relayProtocol, and the module's media address
# as the remote; coturn's log shows a successful allocation with the
# username of the Link header; and the module's error log says the
# session's ICE nominated from coturn's relay address, the port of the
# browser's relay candidate.  Then the proof that the media went through
# coturn with the module's credentials: a location whose secret is wrong
# hands out credentials coturn refuses (its log says so for that username)
# and the relay-only publisher never connects (8 s) nor is nominated.
#
# Broken on purpose: with coturn's allow-loopback-peers line left out
# (coturn then refuses to relay to 127.0.0.1) every case fails "connects"
# and the refused case still passes; with the ICE servers configured
# after the local description, as html/webrtc.js does, Chromium gathers no
# relay candidate and nothing connects (the first run of this test).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Cwd qw/abs_path/;
use IO::Socket::IP;
use POSIX qw/WNOHANG/;
use Test::More;
use Test::Nginx qw/port/;
use Time::HiRes qw/sleep time/;
use E2E;

my $TURNSERVER = $ENV{TURNSERVER} || '/usr/bin/turnserver';
plan(skip_all => "no coturn ($TURNSERVER, Debian coturn)")
	unless -x $TURNSERVER;

my $REPO = abs_path("$FindBin::Bin/..");
my $html = "$REPO/html";

# the cases: location prefix => [ URL, relayProtocol ]
my $turn = port(8990);          # coturn: UDP and TCP
my $turns = port(8991);         # coturn: TLS
my %case = (
	udp => [ "turn:127.0.0.1:$turn?transport=udp", 'udp' ],
	tcp => [ "turn:127.0.0.1:$turn?transport=tcp", 'tcp' ],
	tls => [ "turns:127.0.0.1:$turns?transport=tcp", 'tls' ],
);
my @cases = qw/udp tcp tls/;

my $secret = sprintf('turn-test-%08x%08x', rand(2 ** 32), rand(2 ** 32));

# coturn's relay ports: a range of its own, outside the kernel's ephemeral
# ports (32768-60999) and checked free for UDP, so the relayed address the
# module sees is known to be coturn's
my ($relay_min, $relay_max) = relay_range(16);

my $locations = '';
for my $c (@cases, 'bad') {
	my $url = $case{$c} ? $case{$c}[0] : $case{udp}[0];
	my $s = $c eq 'bad' ? "not-$secret" : $secret;
	for my $role (qw/whip whep/) {
		$locations .= <<"EOF";
        location /$c/$role/ {
            webrtc_$role;
            webrtc_ice_server $url secret=$s;
        }
EOF
	}
}

my $t = E2E::start(plan => 10 * @cases + 6 + 3, http => <<"EOF");
        location /pages/ {
            alias $html/;

            types {
                text/html html;
                text/javascript js;
            }
        }

$locations
EOF

my $d = $t->testdir();
my $coturn = start_coturn();

my $r = E2E::scenario($t, 'turn', timeout => 75,
	env => { CASES => join(',', @cases), NOCONNECT => 'bad',
		NOCONNECT_MS => 8000, SPKI => spki("$d/cert.pem"),
		CLIENT => 'udp' }) || {};

my $clog = -e "$d/turnserver.log" ? $t->read_file('turnserver.log') : '';
my $media = port(8980);

for my $c (@cases) {
	my $x = $r->{cases}{$c} || {};
	my ($url, $proto) = @{$case{$c}};

	for my $who (qw/pub view/) {
		my $p = $x->{$who} || {};
		my $name = $who eq 'pub' ? "$c: publisher" : "$c: viewer";
		my $local = $p->{pair}{local} || {};
		my $remote = $p->{pair}{remote} || {};

		# the client took the Link header's server (the only one of the
		# location) and relays only
		my ($srv) = @{$p->{servers} || []};
		ok(!$p->{error} && ($p->{policy} // '') eq 'relay'
			&& $p->{status} == 201 && $srv && $srv->{urls} eq $url
			&& ($srv->{username} // '') =~ /^\d+:turn-\Q$c\E$/,
			"$name: relay only, the Link header's $url")
			or diag(explain($p));

		is($p->{state}, 'connected', "$name connects");

		ok(($local->{candidateType} // '') eq 'relay'
			&& ($local->{relayProtocol} // '') eq $proto
			&& ($remote->{address} // '') eq '127.0.0.1'
			&& ($remote->{port} // 0) == $media,
			"$name: selected pair relay ($proto) to the media port")
			or diag(explain($p->{pair}));

		# the module: this session nominated from coturn's relay
		# addresses, the last one the browser's selected relay
		# candidate (Chromium may allocate twice and switch: the
		# module logs the path moving)
		my $id = $p->{id} // 'none';
		my ($lines, @ports) = paths($id);
		ok(@ports && @ports == @$lines
			&& !grep({ $_ < $relay_min || $_ > $relay_max } @ports)
			&& $ports[-1] == ($local->{port} // 0),
			"$name: the module's path is coturn's relay address "
			. '127.0.0.1:' . join(' then ', @ports))
			or diag(join("\n", @$lines) || "no ICE nominated line",
				"\nrelay candidate port " . ($local->{port} // '?'));
	}

	# coturn's side: an allocation for the module's username
	my $user = ($x->{view}{servers} || [{}])->[0]{username} // 'none';
	ok(allocated($clog, $x->{pub}{servers}[0]{username})
		&& allocated($clog, $user),
		"$c: coturn allocated for the module's usernames");

	ok(($x->{framesDecoded} // 0) >= 10
		&& ($x->{framesLater} // 0) > $x->{framesDecoded},
		"$c: the viewer decodes through the relay: "
		. ($x->{framesDecoded} // 0) . ' then '
		. ($x->{framesLater} // 0) . ' frames');
}

# the pages' client, relay only: it must set the Link servers before it
# gathers (it set them after setLocalDescription() before 2026-12-07, and
# relay only never connected)
my $cl = $r->{client} || {};
is(($cl->{states}{pub} // 'none') . ' ' . ($cl->{states}{view} // 'none'),
	'connected connected', "pages' client relay only: publisher and player "
	. 'connect' . ($cl->{states}{error} ? " ($cl->{states}{error})" : ''));
ok(($cl->{pubPair}{local}{candidateType} // '') eq 'relay'
	&& ($cl->{viewPair}{local}{candidateType} // '') eq 'relay',
	"pages' client: both over coturn's relay");
ok(($cl->{framesDecoded} // 0) >= 10, "pages' client: the player decodes ("
	. ($cl->{framesDecoded} // 0) . ' frames)');

# credentials coturn refuses: nothing connects, so the cases above went
# through coturn with the module's credentials
my $bad = $r->{refused}{bad}{pub} || {};
my ($srv) = @{$bad->{servers} || []};
my $user = $srv->{username} // 'none';
ok(!$bad->{error} && ($bad->{status} // 0) == 201
	&& ($bad->{policy} // '') eq 'relay' && $srv->{urls} eq $case{udp}[0]
	&& $user =~ /^\d+:turn-bad$/,
	'wrong secret: relay only, the Link header\'s credentials')
	or diag(explain($bad));
ok(($bad->{state} // 'connected') =~ /^(new|checking|connecting|failed)$/,
	'wrong secret: the publisher does not connect in 8 s ('
	. ($bad->{state} // 'none') . ')');
ok(!($bad->{pair}{local}{candidateType}), 'wrong secret: no selected pair')
	or diag(explain($bad->{pair}));
my $id = $bad->{id} // 'none';
is(scalar @{(paths($id))[0]}, 0,
	'wrong secret: the module nominated nothing');
ok($clog =~ /\Q$user\E.*(?:401|Unauthori[sz]ed|wrong|cannot find)/i
	&& !allocated($clog, $user),
	'wrong secret: coturn refused the credentials')
	or diag(grep { /\Q$user\E/ } split /\n/, $clog);

stop_coturn();
$t->stop();

###########################################################################

# the client ports of a session's media paths, in the order the module
# took them: its "ICE nominated" line and its "media path moved" (or
# "nominated an address of worker") lines, info level, each on a UDP
# connection whose nginx line "*N udp client ADDRESS:PORT connected" names
# the port (where the module's line names the client's address only:
# nginx's addr_text of a UDP session).  Returns (the lines, ports).
sub paths {
	my ($id) = @_;
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

# a successful Allocate for this username in coturn's log
sub allocated {
	my ($log, $user) = @_;
	return 0 unless defined $user;
	return $log =~ /user <\Q$user\E>: incoming packet ALLOCATE processed, success/;
}

# $n consecutive ports free for UDP in 20000-30000
sub relay_range {
	my ($n) = @_;
	my %used = map { $_ => 1 } $turn, $turns;
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

# the conf-example with the test's own addresses, ports, secret,
# certificate, files; started in the foreground, pid kept
sub start_coturn {
	my %own = (
		'listening-ip' => '127.0.0.1',
		'relay-ip' => '127.0.0.1',
		'listening-port' => $turn,
		'tls-listening-port' => $turns,
		'min-port' => $relay_min,
		'max-port' => $relay_max,
		'static-auth-secret' => $secret,
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
		{ exec $TURNSERVER, '-c', "$d/turnserver.conf"; }
		POSIX::_exit(127);
	}

	# up when both TCP ports accept (bounded: 10 s)
	my $end = time() + 10;
	while (time() < $end) {
		last if waitpid($pid, WNOHANG) == $pid;
		my $up = grep { IO::Socket::IP->new(PeerHost => '127.0.0.1',
			PeerPort => $_, Proto => 'tcp', Timeout => 1) }
			$turn, $turns;
		return $pid if $up == 2;
		sleep 0.1;
	}
	diag('coturn did not start: ', -e "$d/turnserver.out"
		? $t->read_file('turnserver.out') : '');
	return $pid;
}

sub stop_coturn {
	return unless $coturn;
	for my $sig ([TERM => 5], [KILL => 5]) {
		if (waitpid($coturn, WNOHANG) != 0) {
			undef $coturn;
			return;
		}
		kill $sig->[0], $coturn;
		my $until = time() + $sig->[1];
		while (time() < $until) {
			if (waitpid($coturn, WNOHANG) != 0) {
				undef $coturn;
				return;
			}
			sleep 0.05;
		}
	}
}

END { local $?; stop_coturn() if $coturn; }
