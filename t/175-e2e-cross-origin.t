#!/usr/bin/perl

# conf-examples/cross-origin.conf as it is, on loopback ports: the pages
# on https://pages.example, the signaling on https://signal.example (names
# Chromium maps to 127.0.0.1).  publish.html and watch.html of the pages
# origin publish and play through the signaling origin over WHIP/WHEP and
# over WebSocket; the sessions' DELETEs reach the signaling server; pages
# of https://foreign.example (a third server of the test, not allowed by
# the example) are refused and say so; a missing WebSocket, WHEP or status
# location is reported as such, and a refused status location leaves
# watch.html's stream form.

use strict;
use warnings;

use FindBin;
use Cwd qw/abs_path/;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use Test::More;
use Test::Nginx qw/port/;
use E2E;

my $REPO = abs_path("$FindBin::Bin/..");

my $t = Test::Nginx->new()->has(qw/http stream http_ssl http_v2/);
if (my $why = E2E::_requirements()) {
	plan(skip_all => $why);
}
$t->plan(37);

###########################################################################
# the example, with its ports moved and the test's globals


my $d = $t->testdir();
mkdir "$d/$_" for qw/cert logs temp/;
$t->write_cert('localhost', '-addext',
	'subjectAltName=DNS:pages.example,DNS:signal.example,'
	. 'DNS:foreign.example');
rename "$d/localhost.$_", "$d/cert/localhost.$_" for qw/crt key/;
symlink("$REPO/html", "$d/html") or die "symlink: $!";

my $conf = $t->read_file("$REPO/conf-examples/cross-origin.conf");
my $orig = $conf;

$conf =~ s/^load_module[^\n]*\n//mg;
$conf =~ s/^(error_log|pid)\s[^\n]*\n//mg;
$conf = "%%TEST_GLOBALS%%\n" . $conf;
$conf =~ s/^(\s*listen\s+)(\d+)(\s+udp)/${1}127.0.0.1:%%PORT_${2}_UDP%%$3/mg;
$conf =~ s/^(\s*listen\s+)(\d+)(?=[\s;])/${1}127.0.0.1:%%PORT_$2%%/mg;
$conf =~ s/^(\s*webrtc_candidate\s+127\.0\.0\.1:)(\d+)/$1%%PORT_$2_UDP%%/mg;
$conf =~ s{(https://(?:pages|signal)\.example:)(\d+)}{$1%%PORT_$2%%}g;

# a third origin, with the same pages: not allowed by the signaling
# server; no WebSocket or WHEP location, its status refused
$conf =~ s/^http \{\n/http {
    server {
        listen       127.0.0.1:%%PORT_7443%% ssl http2;
        server_name  foreign.example;

        root  html;

        location = \/webrtc\/status {
            deny  all;
        }
    }
/m;

ok($conf ne $orig && $conf !~ /\b(8443|9443|10000)\b/,
	'the example: every port moved');

$t->write_file_expand('nginx.conf', $conf)->run();

my ($pages, $signal, $foreign) = (
	'https://pages.example:' . port(8443),
	'https://signal.example:' . port(9443),
	'https://foreign.example:' . port(7443));

my $r = E2E::scenario($t, 'cross-origin', timeout => 55, env => {
	PAGES => $pages, SIGNAL => $signal, FOREIGN => $foreign }) || {};

###########################################################################
# publish and play across origins


for my $transport (qw/whip websocket/) {
	my $x = $r->{$transport} || {};
	my ($p, $v) = map { $_ || {} } @$x{qw/publisher viewer/};

	ok($p->{live}, "publish.html of the pages origin over $transport: live")
		or diag(explain($p));
	if ($transport eq 'whip') {
		like($p->{session}{url} // '', qr{^\Q$signal\E/whip/co-whip/\w+$},
			'its session is on the signaling origin');
	} else {
		ok($p->{session}{id}, 'its WebSocket session has an id');
	}
	like($p->{server} // '', qr/\Q$signal\E/,
		'publish.html names the signaling server');
	ok($v->{decoding}, "watch.html over $transport: decoding "
		. ($v->{stats}{framesDecoded} // 0) . ' frames')
		or diag(explain($v));
	cmp_ok($v->{stats}{width} // 0, '>', 0, "watch.html over $transport: width");
	ok($x->{during}{live} && ($x->{during}{viewers} // 0) == 1,
		"$transport: the status shows the stream live with 1 viewer");
	ok($x->{viewerGone}{ok}, "$transport: the viewer left the status"
		. ' with its page');
	ok($x->{stopped}, "publish.html over $transport stops");
	ok($x->{publisherGone}{ok}, "$transport: the stream is not live after Stop");
}

# the DELETEs of publish.html and watch.html reached the signaling server
# (CORS preflight, Expose-Headers: Location): the publisher's, on Stop,
# deleted its session within the 30 s consent timeout; the viewer's, sent
# with keepalive as its page went away, may come after the page's peer
# connection closed and its DTLS close_notify ended the session (404)
my $whip = $r->{whip} || {};
my $access = -e "$d/logs/signal.access.log"
	? $t->read_file('logs/signal.access.log') : '';
my $pid = E2E::session_id($whip->{publisher}{session}{url}) // 'none';
ok(scalar $t->log_lines(qr/webrtc session \Q$pid\E of stream "co-whip" deleted\b.*server: signal\.example/),
	'the publisher\'s DELETE deleted its session on the signaling server');
like($access, qr{"DELETE /whip/co-whip/\Q$pid\E HTTP/[\d.]+" 200 },
	'DELETE /whip/... 200 in the signaling server\'s access log');
my $vid = E2E::session_id($whip->{viewer}{session}{url}) // 'none';
like($access, qr{"DELETE /whep/co-whip/\Q$vid\E HTTP/[\d.]+" (200|404) },
	'the viewer\'s DELETE reached the signaling server');

ok((grep { $_ eq 'co-whip' } @{$whip->{picker}{streams} || []}),
	'watch.html without a stream lists the live stream');

###########################################################################
# a foreign origin


my $f = $r->{foreign} || {};
my $refused = qr/signaling server \Q$signal\E refused this page's origin \Q$foreign\E/;
for my $k (qw/whep websocket whip/) {
	my $page = $k eq 'whip' ? 'publish.html over WHIP' : "watch.html over $k";
	ok($f->{$k}{error}, "$page from a foreign origin: error");
	like($f->{$k}{status} // '', $refused, "$page from a foreign origin:"
		. ' the page says its origin was refused');
}
is($f->{after}{viewers}, 0, 'no viewer from the foreign origin');
is(scalar $t->log_lines(qr/stream "co-foreign" created/), 0,
	'no session from the foreign origin');
like($access, qr{"GET /ws HTTP/1\.1" 403 },
	'the foreign WebSocket was refused by the origin check');

###########################################################################
# missing and refused locations


my $e = $r->{errors} || {};
my $wss = $foreign =~ s/^https/wss/r;
like($e->{ws404}{status} // '', qr{^No WebSocket location at \Q$wss\E/ws},
	'a 404 on /ws: no WebSocket location');
like($e->{whep404}{status} // '',
	qr{^No WHEP location at \Q$foreign\E/whep/co-whip},
	'a 404 on /whep/: no WHEP location');
ok($e->{status403}{state} eq 'idle' && $e->{status403}{form}
	&& ($e->{status403}{list}{status} // 0) == 403,
	'a 403 on the status location: watch.html lets the user type a stream')
	or diag(explain($e->{status403}));
like($e->{status404}{text} // '',
	qr{not available: No status location at \Q$signal\E/no-status},
	'a 404 on the status location: no status location');

$t->stop();
