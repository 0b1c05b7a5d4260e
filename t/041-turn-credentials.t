#!/usr/bin/perl

# TURN REST API credentials (webrtc_ice_server ... secret=) fail closed:
# without ttl= they last 10 minutes, not a day (coturn checks the expiry
# when a TURN session first authenticates, its Allocate: a browser
# allocates within seconds of the answer), and only a request that was
# authorized and created a session gets them: never a 401 (no token, a
# wrong one), never the unauthenticated CORS preflight OPTIONS (RFC 9725,
# 4.6 allows ICE servers there), never another 4xx or 5xx (a bad offer,
# 409, 404, 429), never the ICE restart's 200.  An explicit ttl= is kept.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw/hmac_sha1/;
use MIME::Base64 qw/encode_base64/;
use Test::More;
use Test::Nginx qw/http_req sdp/;

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(15);

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;
        webrtc_bearer_token tok;
        webrtc_max_client_sessions 6;

        webrtc_ice_server stun:stun.example.org:3478;
        webrtc_ice_server turn:turn.example.org:3478 secret=s3cret;

        location /whip/ {
            webrtc_whip;
        }

        location /whep/ {
            webrtc_whep;
        }

        location /ttl/ {
            webrtc_whip;
            webrtc_ice_server turn:turn.example.org:3478 secret=s3cret ttl=2h;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8980_UDP%% udp;
        webrtc;
    }
}
EOF

my $pub = sdp('chromium-publish-vp8');
my $play = sdp('chromium-play');

sub post {
	my ($uri, %h) = @_;
	my $body = delete $h{body} // $pub;
	return http_req(POST => $uri, body => $body,
		headers => { 'Content-Type' => 'application/sdp',
			Authorization => 'Bearer tok', %h });
}

sub links { @{$_[0]->{headers_all}{link} || []} }

# the REST API username's expiry, and whether the credential is right
sub rest {
	my ($r) = @_;
	my ($l) = grep { /^<turn:/ } links($r);
	my ($user, $expiry, $cred) = ($l // '') =~ /;\s*username="((\d+):[^"]*)";\s*
		credential="([^"]*)"/x or return;
	return ($expiry,
		$cred eq encode_base64(hmac_sha1($user, 's3cret'), ''));
}

my $now = time();
my $r = post('/whip/s1');
my ($expiry, $good) = rest($r);
is($r->{status}, 201, 'an authorized POST: 201');
ok(defined $expiry && $expiry >= $now + 600 && $expiry <= time() + 600,
	'its TURN credentials expire in 10 minutes by default')
	or diag($expiry ? 'expires in ' . ($expiry - $now) . ' s' : 'none');
ok($good, 'the credential is base64(HMAC-SHA1(secret, username))');

$now = time();
($expiry) = rest(post('/ttl/s2'));
ok(defined $expiry && $expiry >= $now + 7200 && $expiry <= time() + 7200,
	'ttl=2h: 2 hours');

my @none = (
	[ 'no token: 401',
		http_req(POST => '/whip/s3', body => $pub,
			headers => { 'Content-Type' => 'application/sdp' }) ],
	[ 'a wrong token: 401', post('/whip/s3', Authorization => 'Bearer x') ],
	[ 'OPTIONS on the endpoint: 204', http_req(OPTIONS => '/whip/s3') ],
	[ 'OPTIONS on a session: 204',
		http_req(OPTIONS => $r->{headers}{location}) ],
	[ 'a bad offer: 400', post('/whip/s3', body => "v=0\r\nbad\r\n") ],
	[ 'a second publisher: 409', post('/whip/s1') ],
	[ 'a stream never published: 404', post('/whep/s9', body => $play) ],
);

# the sixth session of this address: 429
post('/whep/s1', body => $play) for 1 .. 4;
push @none, [ 'too many sessions: 429', post('/whep/s1', body => $play) ];

# ICE restart (RFC 9725, 4.3.2): new ICE credentials, not new TURN ones
my $frag = "a=ice-ufrag:Rst1\r\na=ice-pwd:restartpasswordrestart1\r\n"
	. "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n";
push @none, [ 'an ICE restart: 200',
	http_req(PATCH => $r->{headers}{location}, body => $frag,
		headers => { 'Content-Type' => 'application/trickle-ice-sdpfrag',
			'If-Match' => '*', Authorization => 'Bearer tok' }) ];

for (@none) {
	my ($name, $res) = @$_;
	my ($status) = $name =~ /(\d+)$/;
	my @l = links($res);
	ok($res->{status} == $status && !@l, "$name, no Link")
		or diag("status $res->{status}, Link: @l");
}

unlike($t->read_file('error.log'), qr/s3cret/, 'the secret is not logged');
