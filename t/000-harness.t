#!/usr/bin/perl

# Self-test of t/lib/Test/Nginx.pm with the stock nginx binary (our module
# is not loaded: no_module => 1).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/http http_req port nginx_t/;

# 19 own assertions + 1 "no alerts" for the single successful run()
my $t = Test::Nginx->new(no_module => 1)->has(qw/http stream/)->plan(20);

my $conf = <<'EOF';
%%TEST_GLOBALS%%

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / { return 200 "BODY\n"; }
        location /a { add_header X-A 1 always; return 204; }
        location /link {
            add_header Link "</a>; rel=preload" always;
            add_header Link "</b>; rel=preload" always;
            return 200 "link\n";
        }
        location /echo { return 200 "$request_method $http_x_test\n"; }
    }
}
EOF

(my $c1 = $conf) =~ s/BODY/hello/;
$t->write_file_expand('nginx.conf', $c1);

# config expansion
my $written = $t->read_file('nginx.conf');
like($written, qr/^load_module \/usr\/lib\/nginx\/modules\/ngx_stream_module\.so;$/m,
	'globals: stream module');
unlike($written, qr/webrtc/, 'globals: no_module');
like($written, qr/listen 127\.0\.0\.1:${\port(8080)};/, 'port expanded');
is($t->port(8080), port(8080), 'port stable');
isnt(port(8081), port(8080), 'ports distinct');
is(port(8080, udp => 1), port(8080), 'udp port shares the number');

my ($rc, $out) = nginx_t($t->testdir() . '/nginx.conf', no_module => 1);
is($rc, 0, 'nginx -t ok') or diag($out);

$t->run();
ok($t->master_pid() && kill(0, $t->master_pid()), 'master running');
ok(scalar $t->worker_pids(), 'workers running');

my $r = http_req(GET => '/');
is($r->{status}, 200, 'GET / status');
is($r->{body}, "hello\n", 'GET / body');

$r = http_req(GET => '/a');
is($r->{status}, 204, 'GET /a status');
is($r->{headers}{'x-a'}, '1', 'GET /a header');

$r = http_req(GET => '/link');
is_deeply($r->{headers_all}{link}, ['</a>; rel=preload', '</b>; rel=preload'],
	'repeated headers');

$r = http_req(POST => '/echo', headers => { 'X-Test' => 'foo' },
	body => 'xyz');
is($r->{body}, "POST foo\n", 'POST with headers and body');

like(http("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"), qr/^HTTP\/1\.1 200 .*hello$/s,
	'raw http');

# reload with a changed config
(my $c2 = $conf) =~ s/BODY/reloaded/;
my @old = $t->worker_pids();
$t->write_file_expand('nginx.conf', $c2)->reload();
is(http_req(GET => '/')->{body}, "reloaded\n", 'body after reload');
ok(!grep({ my $o = $_; grep { $_ == $o } $t->worker_pids() } @old),
	'old workers gone');

# a bad config is rejected by nginx -t
$t->write_file('bad.conf', "events {}\nhttp { foo_bar_unknown on; }\n");
($rc, $out) = $t->nginx_t('bad.conf');
like("$rc $out", qr/^1 .*unknown directive "foo_bar_unknown"/s,
	'nginx -t rejects bad config');

$t->stop();   # "no alerts"
