#!/usr/bin/perl

# ICE-TCP under load, with tools/webrtc-load: one publisher and 10 UDP
# plus 10 TCP viewers (RFC 6544 passive candidate, RFC 4571 framing) of
# one stream, 2 workers.  Every viewer is served: connected, no stall over
# 1 s, loss under 1 %, no SRTP decryption failure, every consent check
# answered; the TCP viewers really are on TCP: each one's connection is in
# the error log, its session nominated on it ("server: ...:<tcp port>").
# Then a slow viewer: 2 of the TCP viewers stop reading their connection
# (SO_RCVBUF 4096) for 5 s.  The others, UDP and TCP, go on undisturbed;
# the slow ones lose what did not fit in webrtc_tcp_buffer (64k), read
# again and get a key frame within a second of it (the publisher's GOP is
# 30 s: it is the server's request once the queue drained); and the
# workers' memory grows by less than the two queues and a margin while
# they do not read.
#
# The listen has sndbuf=32k: without it Linux grows the send buffer of a
# connection whose reader stalls up to net.ipv4.tcp_wmem's maximum (4 MB),
# which holds seconds of media before webrtc_tcp_buffer fills at all.
# Then a slow viewer on a listen without sndbuf= (the default): the module
# sets the connection's SO_SNDBUF to webrtc_tcp_buffer, so it too loses
# packets and gets a key frame after a 5 s stall, as above, instead of
# seconds of stale media (before it did, 0 lost and no key frame).
# Skipped if the tool is not built (make tools).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish summary slurp
	load_wait status_json viewer_lines workers_memory/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(24);

# ASan: slower, and its quarantine keeps what is freed
my $slow = Test::Nginx::preload() ? 3 : 1;

my $module = Test::Nginx::module_path();

$t->write_file_expand('nginx.conf', <<"EOF")->run();
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $module;

pid %%TESTDIR%%/nginx.pid;
error_log %%TESTDIR%%/error.log info;

worker_processes 2;

events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
        webrtc_candidate 127.0.0.1:%%PORT_8981%% tcp;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location = /status {
            webrtc_status;
        }
    }

    # the same streams, their TCP candidate a listen without sndbuf=
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
        webrtc_candidate 127.0.0.1:%%PORT_8982%% tcp;

        location /whep/ {
            webrtc_whep;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }

    server {
        listen 127.0.0.1:%%PORT_8981%% sndbuf=32k;
        webrtc;
        webrtc_tcp_buffer 64k;
    }

    server {
        listen 127.0.0.1:%%PORT_8982%%;
        webrtc;
        webrtc_tcp_buffer 64k;
    }
}
EOF

my $d = $t->testdir();
my $base = 'http://127.0.0.1:' . port(8080);
my $udp = port(8980, udp => 1);
my $tcp = port(8981);

###############################################################################
# 10 UDP and 10 TCP viewers

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/tcpload",
	'--duration', '30', '--bitrate', '1500k', '--fps', '30', '--gop', '30s',
	'--consent-interval', '1', '--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected');

my $aud = spawn_tool($d, 'mixed', '--whep', "$base/whep/tcpload",
	'--viewers', '20', '--tcp-viewers', '10', '--duration', '6',
	'--consent-interval', '1', '--http-timeout', '3', '--json');

my $st = load_wait($t, 'tcpload', 20);

is($st->{streams}[0]{viewers}, 20, 'the status counts the 20 viewers');

my $vs = finish($aud, 20);
my $sum = summary(split /\n/, slurp("$d/mixed.json"));
my $v = viewer_lines($d, 'mixed');

my @tcpv = grep { $v->{$_}{transport} eq 'tcp' } sort { $a <=> $b } keys %$v;
my @udpv = grep { $v->{$_}{transport} eq 'udp' } sort { $a <=> $b } keys %$v;

ok(defined $vs && $vs == 0 && @tcpv == 10 && @udpv == 10
	&& ($sum->{connected} // 0) == 20 && ($sum->{failed} // 1) == 0
	&& ($sum->{tcp_viewers_connected} // 0) == 10
	&& ($sum->{transport} // '') eq 'mixed',
	'20 viewers connected, 10 over TCP, none failed')
	or diag(slurp("$d/mixed.log"));

served('UDP', [ map { $v->{$_} } @udpv ]);
served('TCP', [ map { $v->{$_} } @tcpv ]);

is($sum->{decrypt_errors}, 0, 'no SRTP decryption failure');
is($sum->{deleted}, 20, 'the 20 viewers DELETEd their sessions');

# the server's side: each TCP viewer's connection, its session nominated
# on it; the UDP viewers' on the UDP port

my ($tcp_ok, $udp_nom) = nominated([ map { $v->{$_}{local_port} } @tcpv ]);

is($tcp_ok, 10, 'the 10 TCP viewers nominated on their own TCP connection '
	. "(server: 127.0.0.1:$tcp)");
cmp_ok($udp_nom, '>=', 10, 'the UDP viewers nominated on the UDP port');

###############################################################################
# two slow TCP viewers: not read for 5 s, 3 s after the start

my $log_from = -s "$d/error.log";

$aud = spawn_tool($d, 'slow', '--whep', "$base/whep/tcpload",
	'--viewers', '20', '--tcp-viewers', '10', '--duration', '11',
	'--consent-interval', '1', '--http-timeout', '3',
	'--tcp-stall-after', '3', '--tcp-stall-for', '5',
	'--tcp-stall-viewers', '2', '--json');

my $t0 = time();
my (@before, @during);

while (time() < $t0 + 10) {
	my $at = time() - $t0;
	my $m = workers_memory($t);

	push @before, $m if $at > 1.5 && $at < 2.8;
	push @during, $m if $at > 3.5 && $at < 7.8;

	sleep 0.2;
}

$vs = finish($aud, 20);
$sum = summary(split /\n/, slurp("$d/slow.json"));
$v = viewer_lines($d, 'slow');

my @stalled = grep { $v->{$_}{stall} } sort { $a <=> $b } keys %$v;
my @others = grep { !$v->{$_}{stall} } sort { $a <=> $b } keys %$v;

ok(defined $vs && ($sum->{connected} // 0) == 20
	&& ($sum->{failed} // 1) == 0 && @stalled == 2 && @others == 18
	&& ($sum->{stall_viewers} // 0) == 2,
	'20 viewers connected, 2 slow ones stopped reading, none failed')
	or diag(slurp("$d/slow.log"));

served('the other', [ map { $v->{$_} } @others ]);

# the slow ones: dropped, then mended by a key frame

my @s = map { $v->{$_}{stall} } @stalled;

ok((grep { $_->{stalled} && $_->{for_ms} >= 4900 } @s) == 2,
	'the 2 slow viewers read nothing for 5 s')
	or diag(explain(\@s));
ok((grep { $_->{rtp_after} > 100 } @s) == 2,
	'they receive media again after it ('
	. join(', ', map { $_->{rtp_after} } @s) . ' RTP packets)')
	or diag(join "\n", grep { /closed|consent|ICE-TCP|timed out|ended/ }
		split /\n/, substr($t->read_file('error.log'), $log_from));
ok((grep { $_->{lost_after} > 0 } @s) == 2,
	'what did not fit in webrtc_tcp_buffer was dropped ('
	. join(', ', map { $_->{lost_after} } @s) . ' packets lost)');
ok((grep { $_->{keyframe} && $_->{keyframe_ms} < 1000 * $slow } @s) == 2,
	'a key frame reaches them within a second of reading again ('
	. join(', ', map { "$_->{keyframe_ms} ms" } @s) . ')');

# memory: the queues of the 2 slow viewers, and a margin for the rest

my $max = sub {
	my ($key, @m) = @_;
	my $x = 0;
	$x = $_->{$key} > $x ? $_->{$key} : $x for @m;
	return $x;
};

my $bound = 2 * 64 + 512;
my $rss0 = $max->('rss', @before);
my $rss1 = $max->('rss', @during);
my $pss0 = $max->('pss', @before);
my $pss1 = $max->('pss', @during);

diag("workers' memory before the stall: Rss $rss0 kB, Pss $pss0 kB; "
	. "during it: Rss $rss1 kB, Pss $pss1 kB (" . @before . ' and '
	. @during . ' samples)');

SKIP: {
	skip 'ASan keeps freed memory in quarantine', 1
		if Test::Nginx::preload();

	ok(@before && @during && $rss1 - $rss0 < $bound,
		'the workers grew by less than 2 x webrtc_tcp_buffer + 512 kB '
		. "($bound kB) while the slow viewers did not read: "
		. ($rss1 - $rss0) . ' kB');
}

my @closed = grep { / closed / } split /\n/,
	substr(slurp("$d/error.log"), $log_from);
my @ended = grep { /webrtc viewer session \w+ closed|send failed/ } @closed;

is(scalar @ended, 0, 'no session closed by the server during the run')
	or diag(join "\n", @ended[0 .. ($#ended > 4 ? 4 : $#ended)]);

###############################################################################
# a slow viewer on a listen without sndbuf=: the kernel's send buffer

$aud = spawn_tool($d, 'deep', '--whep',
	'http://127.0.0.1:' . port(8082) . '/whep/tcpload',
	'--viewers', '2', '--tcp-viewers', '2', '--duration', '8',
	'--consent-interval', '1', '--http-timeout', '3',
	'--tcp-stall-after', '2', '--tcp-stall-for', '5',
	'--tcp-stall-viewers', '1', '--json');

$vs = finish($aud, 20);
$v = viewer_lines($d, 'deep');
my ($deep) = map { $v->{$_}{stall} } grep { $v->{$_}{stall} } keys %$v;
$deep //= {};

ok(defined $vs && ($deep->{stalled} // 0) && ($deep->{rtp_after} // 0) > 100,
	'a slow viewer on the default listen read nothing for 5 s, then media')
	or diag(slurp("$d/deep.log"));

ok(($deep->{lost_after} // 0) > 0 && $deep->{keyframe}
	&& $deep->{keyframe_ms} < 1000 * $slow,
	'without sndbuf=: it lost what did not fit and got a key frame ('
	. ($deep->{lost_after} // '?') . ' lost, key frame '
	. ($deep->{keyframe_ms} // '?') . ' ms after it read again)');

is(finish($pub, 15), 0, 'the publisher ran to its end');

###############################################################################

# 2 checks: $label viewers (their lines) each got media without a stall
# over 1 s, loss under 1 %, every consent check answered
sub served {
	my ($label, $l) = @_;

	my @bad = grep { $_->{stalls} || $_->{rtp_packets} < 100
			|| $_->{lost} > $_->{expected} / 100
			|| $_->{decrypt_errors} || defined $_->{fail} } @$l;

	my ($gap) = sort { $b <=> $a } map { $_->{max_gap_ms} } @$l;

	is(scalar @bad, 0, "$label viewers (" . @$l . ') served: no stall, '
		. 'loss under 1 %, longest gap ' . ($gap // '?') . ' ms')
		or diag(explain($bad[0]));

	my @cu = grep { $_->{consent_unanswered}
		|| $_->{consent_ok} < $_->{consent_sent} - 1 } @$l;

	is(scalar @cu, 0, "$label viewers' consent checks answered")
		or diag(explain($cu[0]));
}

# how many of the TCP viewers' local ports ($ports) connected to the TCP
# listen and had their session nominated on that connection; and the
# sessions nominated on the UDP port
sub nominated {
	my ($ports) = @_;
	my (%conn, %nom);

	for ($t->log_lines(qr/connected to 127\.0\.0\.1:$tcp\b/)) {
		$conn{$2} = $1 if /\*(\d+) client 127\.0\.0\.1:(\d+) connected/;
	}

	for ($t->log_lines(qr/ICE nominated .* server: 127\.0\.0\.1:$tcp\b/)) {
		$nom{$1} = 1 if /\*(\d+) webrtc viewer session/;
	}

	my $ok = grep { defined $conn{$_} && $nom{$conn{$_}} } @$ports;
	my $u = $t->log_lines(
		qr/viewer session \w+: ICE nominated .* server: 127\.0\.0\.1:$udp\b/);

	return ($ok, $u);
}

###############################################################################
