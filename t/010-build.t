#!/usr/bin/perl

# The built module: binary compatibility with the packaged nginx, the
# configuration checks done at "nginx -t", and webrtc_certificate.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX ();
use Test::More;
use Test::Nginx qw/http_req port run_cmd/;

my $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $MODULE = Test::Nginx::module_path();

my @bad;        # [ name, http/main snippet, expected message ]

my $t = Test::Nginx->new()->has(qw/http stream/);

###########################################################################
# configurations nginx -t must reject, each with the message it must print

@bad = (
	['regex location',
		http => 'location ~ ^/whip/ { webrtc_whip; }',
		qr/"webrtc_whip" requires a prefix location/],
	['exact location',
		http => 'location = /whip/ { webrtc_whip; }',
		qr/"webrtc_whip" requires a prefix location/],
	['named location',
		http => 'location @whep { webrtc_whep; }',
		qr/"webrtc_whep" requires a prefix location/],
	['no webrtc_candidate',
		http => 'location /whip/ { webrtc_whip; }',
		qr/no "webrtc_candidate" is defined/, nocand => 1],
	['candidate is a hostname',
		http => 'webrtc_candidate example.com:%%PORT_8980_UDP%%;'
			. ' location /whip/ { webrtc_whip; }',
		qr/"webrtc_candidate" needs the IP address and port peers reach,/
			. qr/ not "example\.com:\d+"/, nocand => 1],
	['candidate is localhost',
		http => 'webrtc_candidate localhost:%%PORT_8980_UDP%%;'
			. ' location /whip/ { webrtc_whip; }',
		qr/"webrtc_candidate" needs the IP address .* not "localhost:\d+"/,
		nocand => 1],
	['candidate is a wildcard *',
		http => 'webrtc_candidate *:%%PORT_8980_UDP%%;'
			. ' location /whip/ { webrtc_whip; }',
		qr/"webrtc_candidate" needs the IP address .* not "\*:\d+"/,
		nocand => 1],
	['candidate is 0.0.0.0',
		http => 'webrtc_candidate 0.0.0.0:%%PORT_8980_UDP%%;'
			. ' location /whip/ { webrtc_whip; }',
		qr/"webrtc_candidate" needs the IP address .* not "0\.0\.0\.0:\d+"/,
		nocand => 1],
	['candidate is [::]',
		http => 'webrtc_candidate [::]:%%PORT_8980_UDP%%;'
			. ' location /whip/ { webrtc_whip; }',
		qr/"webrtc_candidate" needs the IP address .* not "\[::\]:\d+"/,
		nocand => 1],
	['ice server with an http: URL',
		http => 'webrtc_ice_server http://turn.example.org/;'
			. ' location /whip/ { webrtc_whip; }',
		qr/invalid ICE server URL "http:\/\/turn\.example\.org\/"/],
	['ice server username without credential',
		http => 'webrtc_ice_server turn:turn.example.org:3478 username=u;'
			. ' location /whip/ { webrtc_whip; }',
		qr/"webrtc_ice_server" takes either username= and credential=,/
			. qr/ or secret=/],
	['ice server credential without username',
		http => 'webrtc_ice_server turn:turn.example.org credential=p;'
			. ' location /whip/ { webrtc_whip; }',
		qr/"webrtc_ice_server" takes either username= and credential=/],
	['ice server unknown parameter',
		http => 'webrtc_ice_server turn:turn.example.org passwd=p;'
			. ' location /whip/ { webrtc_whip; }',
		qr/invalid parameter "passwd=p"/],
	['unknown video codec',
		http => 'webrtc_video_codecs vp8 h265;'
			. ' location /whip/ { webrtc_whip; }',
		qr/unsupported video codec "h265"/],
	['audio codec as video codec',
		http => 'webrtc_video_codecs opus;'
			. ' location /whip/ { webrtc_whip; }',
		qr/unsupported video codec "opus"/],
	['unknown audio codec',
		http => 'webrtc_audio_codecs opus aac;'
			. ' location /whip/ { webrtc_whip; }',
		qr/unsupported audio codec "aac"/],
	['certificate without key',
		main => 'webrtc_certificate %%TESTDIR%%/webrtc.crt;',
		qr/"webrtc_certificate" and "webrtc_certificate_key" must be set/
			. qr/ together/],
	['key without certificate',
		main => 'webrtc_certificate_key %%TESTDIR%%/webrtc.key;',
		qr/"webrtc_certificate" and "webrtc_certificate_key" must be set/
			. qr/ together/],
	['certificate file missing',
		main => 'webrtc_certificate %%TESTDIR%%/missing.crt;'
			. ' webrtc_certificate_key %%TESTDIR%%/webrtc.key;',
		qr/BIO_new_file\("[^"]*\/missing\.crt"\) failed .*No such file/],
	['key file missing',
		main => 'webrtc_certificate %%TESTDIR%%/webrtc.crt;'
			. ' webrtc_certificate_key %%TESTDIR%%/missing.key;',
		qr/BIO_new_file\("[^"]*\/missing\.key"\) failed .*No such file/],
	['certificate and key do not match',
		main => 'webrtc_certificate %%TESTDIR%%/webrtc.crt;'
			. ' webrtc_certificate_key %%TESTDIR%%/other.key;',
		qr/webrtc certificate "[^"]*webrtc\.crt" does not match key/],
	['certificate file is not PEM',
		main => 'webrtc_certificate %%TESTDIR%%/nginx-ok.conf;'
			. ' webrtc_certificate_key %%TESTDIR%%/webrtc.key;',
		qr/cannot load webrtc certificate "[^"]*nginx-ok\.conf"/],
);

# signature (2) + minimal -t (1) + bad configs + cert run (1 start +
# 2 fingerprint + 1 after reload) + 1 "no alerts"
$t->plan(2 + 1 + @bad + 4 + 1);

###########################################################################
# binary compatibility: the signature string nginx compares at load_module

sub signatures {
	my ($file) = @_;
	open my $fh, '<:raw', $file or return ();
	local $/;
	my $data = <$fh> // '';
	my %s;
	$s{$1}++ while $data =~
		/(?<![\x20-\x7e])([0-9],[0-9],[0-9],[01]{34})(?![\x20-\x7e])/g;
	return sort keys %s;
}

my @nginx_sig = signatures($NGINX);
my @module_sig = signatures($MODULE);

is(scalar(@module_sig), 1, 'exactly one signature in the module')
	or diag("module $MODULE: @module_sig");
is("@module_sig", "@nginx_sig", "module signature equals ${NGINX}'s")
	or diag("nginx: @nginx_sig\nmodule: @module_sig");

###########################################################################
# helpers

# runs a command (list form, no shell), bounded; returns (exit code, output)

sub expand {
	my ($text) = @_;
	my $d = $t->testdir();
	$text =~ s/%%TEST_GLOBALS%%/$t->test_globals()/ge;
	$text =~ s/%%TEST_GLOBALS_HTTP%%/$t->test_globals_http()/ge;
	$text =~ s/%%TESTDIR%%/$d/g;
	$text =~ s/%%PORT_(\d+)(_UDP)?%%/port($1)/ge;
	return $text;
}

sub conf {
	my (%o) = @_;
	my $cand = $o{nocand} ? ''
		: 'webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;';
	return expand(<<"EOF");
%%TEST_GLOBALS%%

${\($o{main} // '')}

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        $cand
        ${\($o{http} // 'location /whip/ { webrtc_whip; } location /whep/ { webrtc_whep; }')}
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF
}

# certificates (P-256, as browsers use for DTLS)
my $d = $t->testdir();
$t->write_cert($_) for qw/webrtc other/;

###########################################################################
# nginx -t

$t->write_file('nginx-ok.conf', conf());
my ($rc, $out) = $t->nginx_t('nginx-ok.conf');
is($rc, 0, 'nginx -t: stream module, webrtc_whip, webrtc_whep, stream webrtc')
	or diag($out);

my $n = 0;
for my $b (@bad) {
	my ($name, $where, $snippet, $re, %o) = @$b;
	my $file = 'bad-' . $n++ . '.conf';
	$t->write_file($file, conf($where => $snippet, %o));
	($rc, $out) = $t->nginx_t($file);
	like("$rc $out", qr/^1 .*\[emerg\].*$re/s, "nginx -t fails: $name")
		or diag($t->read_file($file));
}

###########################################################################
# webrtc_certificate: the answer's fingerprint is that of the certificate
# (a path relative to the configuration prefix, as ssl_certificate)

($rc, $out) = run_cmd('openssl', 'x509', '-noout', '-fingerprint', '-sha256',
	'-in', "$d/webrtc.crt");
my ($cert_fp) = $out =~ /^sha256 Fingerprint=([0-9A-F:]+)\s*$/mi;
BAIL_OUT("openssl x509 -fingerprint: $out") unless $cert_fp;
$cert_fp = uc $cert_fp;

$t->write_file_expand('nginx.conf', <<'EOF');
%%TEST_GLOBALS%%

worker_processes 2;

webrtc_certificate      webrtc.crt;
webrtc_certificate_key  webrtc.key;

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        server_name localhost;

        add_header X-Worker $pid always;
        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

        location /whip/ { webrtc_whip; }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

$t->run();

my $offer = do {
	open my $fh, '<:raw', "$FindBin::Bin/sdp/chromium-publish-h264.sdp"
		or die "offer: $!";
	local $/;
	<$fh>;
};

# POST until both workers have answered (bounded), all must say the same
sub fingerprints {
	my ($tag) = @_;
	my (%fps, %workers, @status, $n);
	for my $i (1 .. 60) {
		my $r = http_req(POST => "/whip/$tag$i",
			headers => { 'Content-Type' => 'application/sdp' },
			body => $offer);
		push @status, $r->{status} // 'none';
		$workers{$r->{headers}{'x-worker'} // 'none'} = 1;
		my @fp = ($r->{body} // '') =~ /^a=fingerprint:sha-256 (\S+)\r?$/mg;
		$fps{$_}++ for @fp;
		$n += @fp;
		last if $i >= 4 && keys %workers >= 2;
	}
	return (\@status, [sort keys %workers], $n, [sort keys %fps]);
}

my ($status, $workers, $nfp, $fps) = fingerprints('cert');
is_deeply([ grep { $_ ne '201' } @$status ], [],
	'publish with the certificate: 201');
is($nfp, 2 * @$status, 'a=fingerprint:sha-256 in both m= sections');
is_deeply([ @$fps, scalar @$workers ], [ $cert_fp, 2 ],
	'fingerprint is the certificate\'s sha-256, in both workers')
	or diag("certificate $cert_fp, answers @$fps, workers @$workers");

$t->reload();
($status, $workers, $nfp, $fps) = fingerprints('reload');
is_deeply([ @$fps, scalar(grep { $_ ne '201' } @$status) ], [ $cert_fp, 0 ],
	'same fingerprint after reload') or diag("answers @$fps, @$status");

$t->stop();
