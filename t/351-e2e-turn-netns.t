#!/usr/bin/perl

# TURN where UDP is blocked (issue 17: "With UDP blocked in its namespace,
# a Chromium viewer decodes video ... through coturn with relay-only
# policy").  Headless Chromium runs in a network namespace the test makes
# (a veth pair to the host, 10.213.N.0/30) whose nftables drop every UDP
# packet it sends, as in t/410-e2e-ice-tcp-netns.t.  On the host: the
# HTTPS site on the host's veth address, nginx's media on UDP 127.0.0.1
# (out of the namespace's reach: only a relay gets there), and
# Debian's coturn as t/350-e2e-turn.t runs it (E2E::Coturn), listening on
# the host's veth address and relaying from 127.0.0.1 over UDP to the
# media port.  Chromium, every peer connection with iceTransportPolicy
# 'relay' and the TURN server and credentials of the answer's Link header
# (t/e2e/turn.js), publishes and watches once per transport the namespace
# can still use: TURN over TCP and TURN over TLS (turns:).
#
# First, that the block is real and is what matters: a STUN Binding over
# UDP to coturn's port is answered from the host and cannot even be sent
# from the namespace.  For each transport: both peers connect and the
# viewer decodes frames that keep coming; getStats' selected pair has a
# local candidate of type relay with the transport's relayProtocol (tcp,
# tls) and the module's media address as the remote; coturn's log shows a
# successful allocation with the usernames of the Link header; the
# module's error log says each session's ICE nominated from coturn's relay
# address, the port of the browser's relay candidate.  Last, in the same
# namespace and browser, a relay-only viewer of the TCP case's stream (still
# published) whose location hands out only turn:...?transport=udp never
# connects (8 s): no selected pair, nothing nominated, and coturn never
# hears of its username.  Needs root (ip netns, nft).
#
# It runs alone (TESTS_SEQ of the Makefile): while a namespace exists,
# t/350's pages' client, relay only over TURN/UDP on 127.0.0.1, did not
# connect.
#
# Takes 17-22 s (4 runs): in the scenario (15 s) the TCP publisher is
# connected at 2.8 s (browser start included), its viewer at 4.9 s, the
# TLS ones at 5.0 and 7.1 s, 10-11 frames decoded then 28-32 a second
# later; then the 8 s of the TURN/UDP viewer.
#
# Broken on purpose: coturn started with --no-tcp (a TURNSERVER wrapper):
# every TCP check but the Link header's fails (connects, pair, the
# module's path, allocation, 0 frames), TLS passes; with --no-udp, "coturn
# answers STUN over UDP" fails (recv: Connection refused); without the
# TLS location's webrtc_ice_server, all ten TLS checks fail; with the
# namespace's nftables flushed (UDP not blocked), "UDP from the namespace
# is dropped" fails and the TURN/UDP viewer connects: its four checks
# after the Link header's fail.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Cwd qw/abs_path/;
use Test::More;
use Test::Nginx qw/port run_cmd/;
use E2E qw/netns_up netns_down/;
use E2E::Coturn;

if (my $why = E2E::netns_unavailable() || E2E::Coturn::unavailable()) {
	plan(skip_all => $why);
}

my $REPO = abs_path("$FindBin::Bin/..");
my $html = "$REPO/html";

###########################################################################
# the namespace: UDP out of it dropped

my ($NS, $HOST, $PEER) = netns_up();

END {
	local $?;
	stop_coturn();
	netns_down($NS) if $NS;
}

###########################################################################

# the cases: location prefix => [ URL, relayProtocol ], coturn on the
# host's end of the veth pair
my $turn = port(8990);          # coturn: UDP and TCP
my $turns = port(8991);         # coturn: TLS
my %case = (
	tcp => [ "turn:$HOST:$turn?transport=tcp", 'tcp' ],
	tls => [ "turns:$HOST:$turns?transport=tcp", 'tls' ],
	udp => [ "turn:$HOST:$turn?transport=udp", 'udp' ],
);
my @cases = qw/tcp tls/;

my $secret = sprintf('turn-test-%08x%08x', rand(2 ** 32), rand(2 ** 32));
my ($relay_min, $relay_max) = relay_range(64, $turn, $turns);

# the UDP location's viewer watches the TCP case's stream: its own ttl
# makes its username ("<expiry>:turn-tcp") one the TCP case's are not
my $locations = '';
for my $c (@cases, 'udp') {
	my $ttl = $c eq 'udp' ? ' ttl=20m' : '';
	for my $role (qw/whip whep/) {
		$locations .= <<"EOF";
        location /$c/$role/ {
            webrtc_$role;
            webrtc_ice_server $case{$c}[0] secret=$secret$ttl;
        }
EOF
	}
}

my $conf = <<"EOF";
%%TEST_GLOBALS%%

worker_processes 2;

events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    types {
        text/html html;
    }

    server {
        listen $HOST:%%PORT_8443%% ssl;
        server_name localhost;

        ssl_certificate %%TESTDIR%%/cert.pem;
        ssl_certificate_key %%TESTDIR%%/key.pem;

        root %%TESTDIR%%;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /pages/ {
            alias $html/;

            types {
                text/html html;
                text/javascript js;
            }
        }

$locations
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

my $t = E2E::start(plan => 10 * @cases + 2 + 5 + 1, conf => $conf);

my $d = $t->testdir();
start_coturn($t, listen => $HOST, port => $turn, tls_port => $turns,
	secret => $secret, min => $relay_min, max => $relay_max);

# a STUN Binding request over UDP to coturn's port: answered from the
# host, not even sent from the namespace

my $stun = 'use IO::Socket::INET; use IO::Select; '
	. 'my $s = IO::Socket::INET->new(Proto => "udp", '
	. "PeerAddr => '$HOST:$turn') or die \"socket: \$!\"; "
	. 'my $id = join "", map { chr int rand 256 } 1 .. 12; '
	. 'defined $s->send(pack("nnN", 1, 0, 0x2112A442) . $id) '
	. 'or print("send: $!"), exit 3; '
	. 'IO::Select->new($s)->can_read(2) or print("no answer"), exit 4; '
	. 'defined $s->recv(my $b, 1500) or print("recv: $!"), exit 5; '
	. 'print "type 0x", unpack("H4", $b); '
	. 'exit(unpack("n", $b) == 0x0101 && substr($b, 8, 12) eq $id ? 0 : 6)';

my ($rc, $out) = run_cmd('perl', '-e', $stun);
is($rc, 0, "coturn answers STUN over UDP on $HOST:$turn from the host ($out)");

($rc, $out) = run_cmd('ip', 'netns', 'exec', $NS, 'perl', '-e', $stun);
is($rc, 3, "UDP from the namespace is dropped ($out)");

###########################################################################

my $r = E2E::scenario($t, 'turn', timeout => 75, base => "https://$HOST:"
	. port(8443), netns => $NS, env => { CASES => join(',', @cases),
		NOCONNECT => 'udp', NOCONNECT_WATCH => 'tcp',
		NOCONNECT_MS => 8000, SPKI => spki("$d/cert.pem"),
		HOSTS => $HOST }) || {};

my $clog = coturn_log($t);
my $media = port(8980);

for my $c (@cases) {
	my $x = $r->{cases}{$c} || {};
	my ($url, $proto) = @{$case{$c}};

	for my $who (qw/pub view/) {
		my $p = $x->{$who} || {};
		my $name = $who eq 'pub' ? "$c: publisher" : "$c: viewer";
		my $local = $p->{pair}{local} || {};
		my $remote = $p->{pair}{remote} || {};

		my ($srv) = @{$p->{servers} || []};
		ok(!$p->{error} && ($p->{policy} // '') eq 'relay'
			&& ($p->{status} // 0) == 201 && $srv
			&& $srv->{urls} eq $url
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

		my ($lines, @ports) = relay_paths($t, $p->{id} // 'none');
		ok(@ports && @ports == @$lines
			&& !grep({ $_ < $relay_min || $_ > $relay_max } @ports)
			&& $ports[-1] == ($local->{port} // 0),
			"$name: the module's path is coturn's relay address "
			. '127.0.0.1:' . join(' then ', @ports))
			or diag(join("\n", @$lines) || "no ICE nominated line",
				"\nrelay candidate port " . ($local->{port} // '?'));
	}

	my $user = ($x->{view}{servers} || [{}])->[0]{username};
	ok(allocated($clog, ($x->{pub}{servers} || [{}])->[0]{username})
		&& allocated($clog, $user),
		"$c: coturn allocated for the module's usernames");

	ok(($x->{framesDecoded} // 0) >= 10
		&& ($x->{framesLater} // 0) > $x->{framesDecoded},
		"$c: the viewer decodes through the relay: "
		. ($x->{framesDecoded} // 0) . ' then '
		. ($x->{framesLater} // 0) . ' frames');
}

# TURN over UDP from the namespace: the viewer never connects, so the
# cases above connected through TCP and TLS

my $v = $r->{refused}{udp}{view} || {};
my ($srv) = @{$v->{servers} || []};
my $user = ($srv || {})->{username} // 'none';
ok(!$v->{error} && ($v->{status} // 0) == 201
	&& ($v->{policy} // '') eq 'relay' && $srv
	&& $srv->{urls} eq $case{udp}[0] && $user =~ /^\d+:turn-tcp$/,
	"TURN/UDP: relay only, the Link header's $case{udp}[0]")
	or diag(explain($v));
ok(($v->{state} // 'connected') =~ /^(new|checking|connecting|failed)$/,
	'TURN/UDP: the viewer does not connect in 8 s ('
	. ($v->{state} // 'none') . ')');
ok(!($v->{pair}{local}{candidateType}), 'TURN/UDP: no selected pair')
	or diag(explain($v->{pair}));
is(scalar @{(relay_paths($t, $v->{id} // 'none'))[0]}, 0,
	'TURN/UDP: the module nominated nothing');
ok($clog ne '' && $clog !~ /\Q$user\E/,
	'TURN/UDP: coturn never heard of its username')
	or diag(grep { /\Q$user\E/ } split /\n/, $clog);

stop_coturn();
$t->stop();
