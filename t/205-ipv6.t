#!/usr/bin/perl

# Media over IPv6: nginx with 2 workers on [::1] only, signaling and media;
# a WHIP publisher and 3 WHEP viewers of tools/webrtc-load do ICE, DTLS and
# SRTP over ::1.  The answer's candidate is the IPv6 one, every viewer
# decrypts the stream without loss, the server's sessions are on ::1 and
# end on their DELETE.  Skipped if the tool is not built (make tools) or
# the host has no ::1.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::IP;
use Test::More;
use Test::Nginx qw/port/;
use Test::Nginx::Load qw/tool spawn_tool publisher_up finish run_tool
	summary slurp/;
use Time::HiRes qw/sleep time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();
plan(skip_all => 'no IPv6 loopback')
	unless IO::Socket::IP->new(LocalHost => '::1', Proto => 'udp');

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(9);

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
        listen [::1]:%%PORT_8080%%;
        server_name localhost;

        webrtc_candidate [::1]:%%PORT_8980_UDP%%;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }
    }
}

stream {
    server {
        listen [::1]:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

my $d = $t->testdir();
my $base = 'http://[::1]:' . port(8080);

###########################################################################
# the publisher in the background, 3 viewers in the foreground; bounded

my $pub = spawn_tool($d, 'publisher', '--whip', "$base/whip/six",
	'--duration', '8', '--bitrate', '1000k', '--fps', '30',
	'--http-timeout', '3', '--json');

ok(publisher_up($d, 'publisher'), 'publisher connected over IPv6');

my @out = run_tool($d, 12, undef, '--whep', "$base/whep/six", '--viewers',
	'3', '--duration', '4', '--http-timeout', '3', '--json');
my $sum = summary(@out);

is($sum->{connected} . ' ' . $sum->{failed}, '3 0',
	'3 viewers connected over IPv6, none failed')
	or diag(join '', @out);
cmp_ok($sum->{min_rtp_per_viewer} // 0, '>', 200,
	'each decrypted RTP: at least ' . ($sum->{min_rtp_per_viewer} // 0));
ok(defined $sum->{loss_pct} && $sum->{loss_pct} < 1
	&& defined $sum->{decrypt_errors} && $sum->{decrypt_errors} == 0,
	'loss ' . ($sum->{loss_pct} // '?') . ' %, no decryption errors');

my $status = finish($pub, 15);
is($status, 0, 'publisher exited by itself, status 0');

###########################################################################
# the server's side

my @nominated = $t->log_lines(
	qr/session \w+: ICE nominated .*udp client: ::1,/);
is(scalar @nominated, 4, 'the 4 sessions nominated from ::1');

my @dtls = $t->log_lines(qr/session \w+: DTLS \S+ established/);
is(scalar @dtls, 4, 'their DTLS handshakes completed');

my @deleted = $t->log_lines(qr/session \w+ closed: deleted/);
is(scalar @deleted, 4, 'all 4 sessions closed on their DELETE');
