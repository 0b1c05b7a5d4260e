#!/usr/bin/perl

# TURN through a real coturn (issue 17, item 3).  The test starts Debian's
# coturn on 127.0.0.1 with conf-examples/coturn/turnserver.conf (its
# addresses, ports, secret, certificate, database and log moved to the
# test's own: use-auth-secret with the secret of nginx's
# "webrtc_ice_server ... secret=", a UDP/TCP port, a TLS port with the
# E2E certificate, a relay port range of its own: t/e2e/lib/E2E/Coturn.pm,
# which t/351-e2e-turn-netns.t uses too).  Chromium, every peer
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
use Test::More;
use Test::Nginx qw/port/;
use E2E;
use E2E::Coturn;

if (my $why = E2E::Coturn::unavailable()) {
	plan(skip_all => $why);
}

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

# coturn's relay ports: a range of its own, so the relayed address the
# module sees is known to be coturn's.  Chromium allocates once per IPv4
# network of the host (loopback, eth0, ...): 8 peer connections took 16
# with two networks, and a third (a test's network namespace, docker0)
# left the pages' client with coturn's 508 "Cannot create socket" and no
# relay candidate; 64 leave room for several
my ($relay_min, $relay_max) = relay_range(64, $turn, $turns);

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
start_coturn($t, listen => '127.0.0.1', port => $turn, tls_port => $turns,
	secret => $secret, min => $relay_min, max => $relay_max);

my $r = E2E::scenario($t, 'turn', timeout => 75,
	env => { CASES => join(',', @cases), NOCONNECT => 'bad',
		NOCONNECT_MS => 8000, SPKI => spki("$d/cert.pem"),
		CLIENT => 'udp' }) || {};

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
		my ($lines, @ports) = relay_paths($t, $id);
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
is(scalar @{(relay_paths($t, $id))[0]}, 0,
	'wrong secret: the module nominated nothing');
ok($clog =~ /\Q$user\E.*(?:401|Unauthori[sz]ed|wrong|cannot find)/i
	&& !allocated($clog, $user),
	'wrong secret: coturn refused the credentials')
	or diag(grep { /\Q$user\E/ } split /\n/, $clog);

stop_coturn();
$t->stop();
