#!/usr/bin/perl

# ICE-TCP where UDP is blocked (issue 17): headless Chromium runs in a
# network namespace the test makes (a veth pair to the host, 10.213.N.0/30)
# whose nftables drop every UDP packet it sends.  nginx, on the host end,
# announces its UDP candidate and two TCP ones:
#
#   - a dedicated ICE-TCP port (a stream server with "listen ...; webrtc;");
#   - the port of the HTTPS site itself (standing for 443): a stream server
#     with ssl_preread sends TLS to the site and everything else, ICE-TCP's
#     framed STUN first, to a webrtc server, both with the PROXY protocol,
#     which the site (real_ip_header proxy_protocol) and the webrtc server
#     (set_real_ip_from) read the client's address from.  The page, its
#     WHIP/WHEP and the media all go through that one port.
#
# For each: a publisher and a viewer reach connected, the viewer decodes
# (framesDecoded grows), their selected candidate pairs are TCP to the
# port announced, and the error log shows the sessions nominated on the
# webrtc server with the client's own address (the namespace's, not the
# proxy's).  Before anything, a check that UDP from the namespace is
# really dropped.  Needs root (ip netns, nft).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx qw/port run_cmd/;
use E2E qw/netns_up netns_down/;

if (my $why = E2E::netns_unavailable()) {
	plan(skip_all => $why);
}

###########################################################################
# the namespace: UDP out of it dropped

my ($NS, $HOST, $PEER) = netns_up();

END { netns_down($NS) if $NS; }

###########################################################################

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
        # the site: directly, and behind the front's PROXY protocol
        listen $HOST:%%PORT_8443%% ssl;
        listen 127.0.0.1:%%PORT_8446%% ssl proxy_protocol;
        server_name localhost;

        set_real_ip_from 127.0.0.1;
        real_ip_header proxy_protocol;

        ssl_certificate %%TESTDIR%%/cert.pem;
        ssl_certificate_key %%TESTDIR%%/key.pem;

        root %%TESTDIR%%;

        webrtc_candidate $HOST:%%PORT_8980_UDP%%;
        webrtc_candidate $HOST:%%PORT_8981%% tcp;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location /whip443/ {
            webrtc_candidate $HOST:%%PORT_8980_UDP%%;
            webrtc_candidate $HOST:%%PORT_8445%% tcp;
            webrtc_whip;
        }

        location /whep443/ {
            webrtc_candidate $HOST:%%PORT_8980_UDP%%;
            webrtc_candidate $HOST:%%PORT_8445%% tcp;
            webrtc_whep;
        }
    }
}

stream {
    server {
        listen $HOST:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }

    # a dedicated ICE-TCP port
    server {
        listen $HOST:%%PORT_8981%%;
        webrtc;
    }

    # the "443" front: TLS to the site, anything else to ICE-TCP
    map \$ssl_preread_protocol \$front {
        ""       127.0.0.1:%%PORT_8982%%;
        default  127.0.0.1:%%PORT_8446%%;
    }

    server {
        listen $HOST:%%PORT_8445%%;
        ssl_preread on;
        proxy_pass \$front;
        proxy_protocol on;
    }

    server {
        listen 127.0.0.1:%%PORT_8982%% proxy_protocol;
        set_real_ip_from 127.0.0.1;
        webrtc;
    }
}
EOF

my $t = E2E::start(plan => 18, conf => $conf);

my ($udp, $tcp, $front, $inner) = (port(8980, udp => 1), port(8981),
	port(8445), port(8982));

# UDP from the namespace goes nowhere; TCP does

my ($rc, $out) = run_cmd('ip', 'netns', 'exec', $NS, 'perl', '-MIO::Socket::INET',
	'-e', "my \$s = IO::Socket::INET->new(Proto => 'udp', "
	. "PeerAddr => '$HOST:$udp') or die; defined \$s->send('x') and exit 0; "
	. "print \$!; exit 3");
is($rc, 3, "UDP from the namespace is dropped ($out)");

($rc, $out) = run_cmd('ip', 'netns', 'exec', $NS, 'curl', '-sk', '-o',
	'/dev/null', '-w', '%{http_code}', "https://$HOST:$front/index.html");
is($out, '200', 'the page through the "443" front from the namespace');

###########################################################################

sub path {
	my ($s) = @_;
	my $x = ($s || {})->{path} || {};
	return join ' ', map { $_ // '-' } $x->{remote}{protocol},
		$x->{remote}{port}, $x->{remote}{tcpType};
}

sub decodes {
	my ($v) = @_;
	my $a = $v->{s1}{video}{framesDecoded} // 0;
	my $b = $v->{s2}{video}{framesDecoded} // 0;
	return $a > 0 && $b > $a;
}

for my $case (
	[ 'dedicated ICE-TCP port', "https://$HOST:" . port(8443), '', $tcp,
		$tcp ],
	[ 'port shared with the site', "https://$HOST:$front", '443', $front,
		$inner ])
{
	my ($name, $base, $sfx, $cport, $server) = @$case;
	my $stream = "ns$sfx";

	my $r = E2E::scenario($t, 'ice-tcp', timeout => 60, base => $base,
		netns => $NS, env => {
			PUB => "/whip$sfx/$stream", VIEWS => "/whep$sfx/$stream",
			HOSTS => $HOST,
		}) || {};

	my $p = $r->{publisher} || {};
	my $v = ($r->{viewers} || [])->[0] || {};

	is($p->{status}, 201, "$name: publisher 201");
	is($p->{stats}{state}, 'connected', "$name: publisher connected");
	is(path($p->{stats}), "tcp $cport passive",
		"$name: publisher's media over TCP port $cport");
	is($v->{state}, 'connected', "$name: viewer connected");
	is(path($v->{s2}), "tcp $cport passive",
		"$name: viewer's media over TCP port $cport");
	ok(decodes($v), "$name: viewer decodes, framesDecoded "
		. ($v->{s1}{video}{framesDecoded} // 0) . ' -> '
		. ($v->{s2}{video}{framesDecoded} // 0));

	my @nom = $t->log_lines(qr/ICE nominated .* client: \Q$PEER\E, server: [\d.]+:$server\b/);
	ok((grep { /publisher session/ } @nom) && (grep { /viewer session/ } @nom),
		"$name: nominated on port $server, client $PEER ("
		. scalar(@nom) . ' lines)');

	# the stream's sessions end before the next case's
	$t->log_lines();
}

is(scalar $t->log_lines(qr/ICE nominated .* udp client/), 0,
	'no session nominated over UDP');
