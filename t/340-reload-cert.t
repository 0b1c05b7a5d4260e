#!/usr/bin/perl

# The DTLS certificate across reloads (issue 16, doc/registry-design.md
# 7.5).  The certificate nginx generates when none is configured is kept in
# the shared zone: answers given after a reload carry the fingerprint of
# those given before it, so a client that got its answer just before a
# reload finds the same certificate in its DTLS handshake just after; with
# worker_processes changed as well.  A configured certificate is used as
# configured: a reload with another file changes the fingerprint.  A
# restart (a new zone) makes a new certificate.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/http_req sdp/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(9);

my $conf = <<'EOF';
%%TEST_GLOBALS%%

worker_processes %%WORKERS%%;
%%CERT%%

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /whip/ {
            webrtc_whip;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

sub config {
	my ($workers, $cert) = @_;
	(my $c = $conf) =~ s/%%WORKERS%%/$workers/;
	$c =~ s/%%CERT%%/$cert ? "webrtc_certificate %%TESTDIR%%\/$cert.crt;\n"
		. "webrtc_certificate_key %%TESTDIR%%\/$cert.key;" : ''/e;
	$t->write_file_expand('nginx.conf', $c);
}

my $n = 0;

# the fingerprint of an answer to a publisher's offer (a stream each)
sub fingerprint {
	$n++;
	my $r = http_req('POST', "/whip/cert$n", body => sdp('chromium-publish-vp8'),
		headers => { 'Content-Type' => 'application/sdp' });
	return 'status ' . ($r->{status} // 'none')
		unless ($r->{status} // 0) == 201;
	my ($fp) = $r->{body} =~ /^a=fingerprint:(.+?)\r?$/m;
	my ($loc) = $r->{headers}{location} // '';
	http_req('DELETE', $loc) if $loc;
	return $fp // 'none';
}

config(2);
$t->run();

my $fp = fingerprint();
like($fp, qr/^sha-256 [0-9A-F]{2}(:[0-9A-F]{2}){31}$/,
	'a generated certificate, its fingerprint in the answer');

config(2);
$t->reload();
is(fingerprint(), $fp, 'a reload keeps the generated certificate');

config(3);
$t->reload();
is(fingerprint(), $fp, 'a reload with more workers keeps it too');

# a configured certificate is used, and a reload with another one uses that

$t->write_cert('one');
$t->write_cert('two');

config(3, 'one');
$t->reload();
my $one = fingerprint();
isnt($one, $fp, 'a configured certificate replaces the generated one');

config(3, 'two');
$t->reload();
my $two = fingerprint();
isnt($two, $one, 'a reload with another configured certificate uses it');

# back to none: the generated one is still the zone's

config(2);
$t->reload();
is(fingerprint(), $fp, 'without one again: the generated certificate kept');

# a restart is a new zone and a new certificate

$t->stop();
$t->run();
isnt(fingerprint(), $fp, 'a restart makes a new certificate');
