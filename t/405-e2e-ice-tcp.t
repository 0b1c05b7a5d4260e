#!/usr/bin/perl

# ICE-TCP with headless Chromium (issue 17): locations whose answers carry
# only the server's passive TCP candidate ("webrtc_candidate ... tcp") make
# Chromium connect over TCP (RFC 6544, its active side).  A publisher over
# TCP; viewers of its stream over TCP, over UDP, and with both candidates
# offered (where UDP, of the higher priority, must win).  Each viewer
# decodes video (framesDecoded grows); the selected candidate pair of each
# peer connection says which transport carries the media, and the error
# log says it too (the nominating connection's server address).  The
# same stream reaches UDP and TCP viewers at once.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx qw/port/;
use E2E;

my $tcpcand = 'webrtc_candidate 127.0.0.1:%%PORT_8981%% tcp;';

my $t = E2E::start(plan => 16,
	http => <<"HTTP",
        location /whip-tcp/ {
            $tcpcand
            webrtc_whip;
        }

        location /whep-tcp/ {
            $tcpcand
            webrtc_whep;
        }

        location /whep-both/ {
            webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
            $tcpcand
            webrtc_whep;
        }
HTTP
	stream => <<'STREAM');
    server {
        listen 127.0.0.1:%%PORT_8981%%;
        webrtc;
    }
STREAM

my $tcp = port(8981);
my $udp = port(8980, udp => 1);

my $r = E2E::scenario($t, 'ice-tcp', timeout => 60, env => {
	PUB => '/whip-tcp/icetcp',
	VIEWS => '/whep-tcp/icetcp,/whep/icetcp,/whep-both/icetcp',
}) || {};

my $p = $r->{publisher} || {};
my @v = map { $_ || {} } @{$r->{viewers} || []}[0 .. 2];

# the path of a peer connection: "protocol port tcptype local-tcptype"
sub path {
	my ($s) = @_;
	my $x = ($s || {})->{path} || {};
	return join ' ', map { $_ // '-' } $x->{remote}{protocol},
		$x->{remote}{port}, $x->{remote}{tcpType}, $x->{local}{tcpType};
}

sub decodes {
	my ($v) = @_;
	my $a = $v->{s1}{video}{framesDecoded} // 0;
	my $b = $v->{s2}{video}{framesDecoded} // 0;
	return $a > 0 && $b > $a;
}

is($p->{status}, 201, 'publisher over TCP: 201');
like($p->{answer} // '',
	qr/^a=candidate:\d+ 1 tcp \d+ 127\.0\.0\.1 $tcp typ host tcptype passive\r?$/m,
	'its answer has the passive TCP candidate');
unlike($p->{answer} // '', qr/^a=candidate:\S+ 1 udp /m, '... and no UDP one');
is($p->{stats}{state}, 'connected', 'publisher connected');
is(path($p->{stats}), "tcp $tcp passive active",
	'publisher\'s media over TCP to the passive candidate');

is($v[0]{state}, 'connected', 'TCP viewer connected');
is(path($v[0]{s2}), "tcp $tcp passive active", 'TCP viewer\'s path is TCP');
ok(decodes($v[0]), 'TCP viewer decodes: framesDecoded '
	. ($v[0]{s1}{video}{framesDecoded} // 0) . ' -> '
	. ($v[0]{s2}{video}{framesDecoded} // 0));

is($v[1]{state}, 'connected', 'UDP viewer connected');
like(path($v[1]{s2}), qr/^udp $udp /, 'UDP viewer\'s path is UDP');
ok(decodes($v[1]), 'UDP viewer of the TCP publisher decodes');

is($v[2]{state}, 'connected', 'viewer offered both connected');
like(path($v[2]{s2}), qr/^udp $udp /, '... over UDP, the higher priority');
ok(decodes($v[2]), '... and decodes');

# the server's side: sessions nominated on the TCP listen

my @nom = $t->log_lines(qr/ICE nominated .* server: 127\.0\.0\.1:$tcp\b/);
my @pubnom = grep { /publisher session/ } @nom;
my @vnom = grep { /viewer session/ } @nom;

ok(@pubnom >= 1 && @vnom >= 1,
	'the error log has the publisher and a viewer nominated over TCP ('
	. scalar(@nom) . ' lines)');
