#!/usr/bin/perl

# ICE-TCP with the two other client stacks (t/405 and t/410 are Chromium's):
# locations whose answers carry only the server's passive TCP candidate
# ("webrtc_candidate 127.0.0.1:PORT tcp;", no UDP candidate), served by a
# stream server "listen PORT; webrtc;", so that ICE can only go over TCP
# (RFC 6544, the client's active side; RFC 4571 framing).
#
#   - headless Firefox ESR (t/e2e/ice-tcp-stacks.js, puppeteer-core over
#     BiDi): a Firefox publisher (WHIP, VP8), a Firefox viewer and a
#     Chromium viewer of its stream.  Firefox gathers TCP candidates by
#     default (media.peerconnection.ice.tcp is true in 153): the profile
#     sets no pref of its own beyond t/e2e/lib/firefox.js's.
#   - GStreamer 1.22 webrtcbin (t/gst/webrtcbin-client.py --ice-tcp: its
#     libnice agent's "ice-tcp" on, which the client turns off by
#     default): a publisher (VP8, max-bundle) and a viewer of its stream.
#
# For each peer: WHIP/WHEP 201 with the TCP candidate only, connected, the
# selected candidate pair TCP to the server's TCP port (getStats in the
# browsers: the transport's selectedCandidatePairId, Firefox 153 has it
# too, local "tcp active" -> remote "tcp PORT passive"; webrtcbin's
# get-stats: its "transport" report's selected-candidate-pair-id, local
# and remote protocol "tcp", no tcptype there), the viewers decode frames
# that keep coming (framesDecoded grows by 10 at least in 1.5 s;
# webrtcbin, 15 frames a second sent: 5 at least in the last second of
# its TICK lines, 20 in all), and nginx's error log has each session (by
# the id of its Location) "ICE nominated" on the TCP listen ("server:
# 127.0.0.1:PORT") and never on the UDP one.  webrtcbin offered
# candidates on 127.0.0.1 only (the network rule), TCP ones among them.
# GST_PYTHON names the python3 with python3-gst (/usr/bin/python3 by
# default).  Firefox's checks are skipped without Firefox ESR (or
# Chromium, puppeteer-core, sqlite3), webrtcbin's without webrtcbin; the
# whole test without both.
#
# Measured (2 cores, beside other tests): 10 plain runs passed in 16.3-
# 27.8 s (load average 1.5-5.9; Firefox's part 10.2-19.9 s, most of it
# the browsers' start, webrtcbin's 5.2-6.9 s), 3 ASan runs in 19.3-37.0 s
# (load 6-8).  The viewers decoded 45-55 frames in the 1.5 s, webrtcbin's
# 15 a second.  The module needed nothing for either stack: Firefox
# connects from a "tcp host active" candidate (it gathers one per
# address, beside the UDP ones), webrtcbin from a TCP candidate libnice
# reports as prflx, both RFC 4571-framed; no info line of the module's
# TCP code but the connections' ends.  Chromium's viewer opened a second
# connection and moved its media path there ("media path moved"), as in
# t/405.
#
# Broken on purpose, each check seen failing:
#   - the locations announce the UDP candidate instead of the TCP one:
#     12 fail (the answers, the 5 selected pairs, the 5 sessions' log
#     lines); connected and decoding pass, over UDP (16.9 s);
#   - the TCP candidate names a port nothing listens on: 21 fail (all but
#     the 201s, webrtcbin's candidates and "no alerts"; 42.9 s);
#   - the frames stop: the Firefox publisher's video replaced by null
#     after the viewers' first frames, the webrtcbin publisher ended 2 s
#     after its answer: the 3 "decodes" fail (Firefox 9 -> 11, Chromium
#     23 -> 25, webrtcbin 10 -> 22 -> 22 -> 22; a mere "grows" passed the
#     browsers at 4 -> 6, hence 10 frames);
#   - webrtcbin without --ice-tcp (the client's default): 9 of its 11
#     fail (never connected, "new"; no pair; 17 packets sent; no frame; no
#     log line; 0 TCP of 2 candidates), Firefox's part skipped with
#     FIREFOX=/nonexistent (12.1 s).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use JSON::PP ();
use POSIX qw/WNOHANG/;
use Test::More;
use Test::Nginx qw/port/;
use Time::HiRes qw/sleep time/;
use E2E;

my $PYTHON = $ENV{GST_PYTHON} || '/usr/bin/python3';
my $CLIENT = "$FindBin::Bin/gst/webrtcbin-client.py";

# why webrtcbin cannot run here, or undef (Debian's python3 is asked:
# another python3 on the PATH may lack gi)

sub gst_missing {
	local $?;
	return "no $PYTHON" unless -x $PYTHON;
	my $out = `$PYTHON - 2>&1 <<'EOF'
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('Nice', '0.1')
from gi.repository import Gst, GstWebRTC, Nice
Gst.init(None)
need = ('webrtcbin nicesrc nicesink videotestsrc audiotestsrc vp8enc '
        'vp8dec opusenc opusdec rtpvp8pay rtpvp8depay rtpopuspay '
        'rtpopusdepay').split()
missing = [e for e in need if Gst.ElementFactory.find(e) is None]
print('missing: ' + ' '.join(missing) if missing else 'ok')
EOF
`;
	return undef if !$? && $out =~ /^ok$/m;
	$out =~ s/\s+\z//;
	my @l = split /\n/, $out;
	return 'GStreamer webrtcbin not usable from Python (' . $l[-1] . ')';
}

my $FF_TESTS = 14;
my $GST_TESTS = 11;

# what E2E::start(firefox => 1) would skip_all for, here for one part
my $ff_why = E2E::_requirements(1);
my $gst_why = gst_missing();

plan(skip_all => "$ff_why; $gst_why") if $ff_why && $gst_why;

my $tcpcand = 'webrtc_candidate 127.0.0.1:%%PORT_8981%% tcp;';

my $t = E2E::start(plan => $FF_TESTS + $GST_TESTS + 1,
	http => <<"HTTP",
        location /whip-tcp/ {
            $tcpcand
            webrtc_whip;
        }

        location /whep-tcp/ {
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

my $d = $t->testdir();
my $tcp = port(8981);
my $t0 = time();

###############################################################################

# the answer: the passive TCP candidate, no UDP one

sub tcp_only {
	my ($sdp) = @_;
	$sdp //= '';
	my $cand = '1 tcp \d+ 127\.0\.0\.1 ' . $tcp
		. ' typ host tcptype passive';
	return $sdp =~ /^a=candidate:\S+ $cand\r?$/m
		&& $sdp !~ /^a=candidate:\S+ \d+ udp /mi;
}

# a browser's selected pair: "protocol tcptype -> protocol port tcptype"
sub path {
	my ($p) = @_;
	$p ||= {};
	my ($l, $r) = map { $_ || {} } @$p{qw/local remote/};
	return join ' ', map { $_ // '-' } $l->{protocol}, $l->{tcpType}, '->',
		$r->{protocol}, $r->{port}, $r->{tcpType};
}

sub frames {
	my ($v) = @_;
	return map { ($v->{$_} || {})->{video}{framesDecoded} // 0 } qw/s1 s2/;
}

# the sessions' "ICE nominated" lines: on the TCP listen, and others
sub nominated {
	my ($location) = @_;
	my $id = E2E::session_id($location) // 'none';
	my @l = $t->log_lines(qr/session \Q$id\E: ICE nominated/);
	my @tcp = grep { /, server: 127\.0\.0\.1:$tcp\b/ } @l;
	return (scalar @tcp, scalar(@l) - @tcp);
}

sub nominated_ok {
	my ($location, $n) = @_;
	my ($on, $off) = nominated($location);
	ok($on >= 1 && $off == 0, "$n: error log: nominated on the TCP "
		. "listen ($on), elsewhere ($off)")
		or diag(join "\n", $t->log_lines(qr/ICE nominated/));
}

###############################################################################
# Firefox: a publisher, a Firefox and a Chromium viewer

SKIP: {
	skip $ff_why, $FF_TESTS if $ff_why;

	my $r = E2E::scenario($t, 'ice-tcp-stacks', timeout => 45, env => {
		PUB => '/whip-tcp/ff-tcp',
		VIEW => '/whep-tcp/ff-tcp',
	}) || {};

	my $p = $r->{publisher} || {};
	my %v = map { $_->{name} => $_ } @{$r->{viewers} || []};
	my ($fv, $cv) = map { $_ || {} } @v{qw/firefox chromium/};

	is($p->{status}, 201, 'Firefox publisher: WHIP 201');
	ok(tcp_only($p->{answer}), 'its answer: the passive TCP candidate, '
		. 'no UDP one') or diag($p->{answer} // '');
	is($p->{state}, 'connected', 'Firefox publisher connected');
	is(path($p->{path}), "tcp active -> tcp $tcp passive",
		'Firefox publisher\'s selected pair: TCP to the TCP port ('
		. ($p->{path}{how} // '-') . ')')
		or diag(explain $p->{path});

	is($fv->{state}, 'connected', 'Firefox viewer connected');
	is(path($fv->{path}), "tcp active -> tcp $tcp passive",
		'Firefox viewer\'s selected pair: TCP')
		or diag(explain $fv->{path});
	my ($f1, $f2) = frames($fv);
	ok($f1 > 0 && $f2 >= $f1 + 10,
		"Firefox viewer decodes: frames $f1 -> $f2 in 1.5 s");

	is($cv->{state}, 'connected', 'Chromium viewer of Firefox connected');
	is(path($cv->{path}), "tcp active -> tcp $tcp passive",
		'Chromium viewer\'s selected pair: TCP')
		or diag(explain $cv->{path});
	($f1, $f2) = frames($cv);
	ok($f1 > 0 && $f2 >= $f1 + 10,
		"Chromium viewer decodes: frames $f1 -> $f2 in 1.5 s");
	ok(tcp_only($cv->{answer}) && tcp_only($fv->{answer}),
		'the viewers\' answers: the TCP candidate only');

	nominated_ok($p->{location}, 'Firefox publisher');
	nominated_ok($fv->{location}, 'Firefox viewer');
	nominated_ok($cv->{location}, 'Chromium viewer');

	my %g;
	$g{$_}++ for @{($p->{path} || {})->{gathered} || []};
	diag(sprintf 'Firefox: %.1f s; its publisher gathered %s',
		$r->{_secs} // 0,
		join(', ', map { "$g{$_} $_" } sort keys %g) || '-');
}

###############################################################################
# webrtcbin: a publisher and a viewer, libnice's ICE-TCP on

# a webrtcbin client in the background, its own process group, output in
# the test directory

sub gst {
	my ($name, @args) = @_;
	my $pid = fork() // die "fork: $!";

	if ($pid == 0) {
		setpgrp(0, 0);
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', "$d/$name.out";
		open STDERR, '>', "$d/$name.err";
		{ exec $PYTHON, $CLIENT, @args, '--codec', 'VP8',
			'--bundle-policy', 'max-bundle', '--ice-tcp' }
		POSIX::_exit(127);
	}

	return $pid;
}

# its RESULT once it exited (killed after $secs), {} if none; and its
# TICK lines
sub gst_result {
	my ($name, $pid, $secs) = @_;
	my $end = time() + $secs;
	my $done;

	while (time() < $end) {
		last if $done = waitpid($pid, WNOHANG) == $pid;
		sleep 0.1;
	}

	unless ($done) {
		diag("webrtcbin $name: killed after $secs s");
		kill 'KILL', -$pid;
		waitpid($pid, 0);
	}

	my $out = -e "$d/$name.out" ? $t->read_file("$name.out") : '';
	my ($line) = $out =~ /^RESULT (.*)$/m;
	my $r = defined $line ? eval { JSON::PP::decode_json($line) } : undef;

	if (!$r || $r->{error} || $r->{answer_error}
		|| @{$r->{bus_errors} || []})
	{
		my $err = -e "$d/$name.err" ? $t->read_file("$name.err") : '';
		my @err = split /\n/, $err;
		splice @err, 0, @err - 20 if @err > 20;
		diag("webrtcbin $name: " . ($line // 'no result') . "\n"
			. join "\n", @err);
	}

	$r ||= {};
	$r->{ticks} = [ map { eval { JSON::PP::decode_json(substr $_, 5) }
		|| () } grep { /^TICK / } split /\n/, $out ];
	return $r;
}

# webrtcbin's selected pairs: "protocol -> protocol port" (its stats have
# no tcptype), each different one
sub gst_path {
	my ($r) = @_;
	my @p = @{$r->{selected_pairs} || []};
	return $r->{selected_pair_error} // 'no stats' unless @p;
	my %paths = map { join(' ', map { $_ // '-' } $_->{local}{protocol},
		'->', $_->{remote}{protocol}, $_->{remote}{port}) => 1 } @p;
	return join ', ', sort keys %paths;
}

SKIP: {
	skip $gst_why, $GST_TESTS if $gst_why;

	my $g0 = time();
	my $stop = "$d/gst-stop";

	# the viewer starts with the publisher, retrying while the stream is
	# not there; it counts 4 s from its first frame

	my $pub = gst('gst-publisher', 'publish', E2E::base() . '/whip-tcp/gst',
		'--seconds', 25, '--stop-file', $stop);
	my $view = gst('gst-viewer', 'play', E2E::base() . '/whep-tcp/gst',
		'--seconds', 4, '--wait-publisher', 15, '--watch');

	my $v = gst_result('gst-viewer', $view, 40);
	open my $fh, '>', $stop or die "$stop: $!";
	close $fh;
	my $p = gst_result('gst-publisher', $pub, 15);

	is($p->{status}, 201, 'webrtcbin publisher: WHIP 201')
		or diag($p->{body} // '');
	ok(!defined $p->{answer_error} && $p->{connected}, 'webrtcbin '
		. 'publisher takes the answer and connects ('
		. ($p->{answer_error} // $p->{connection_state} // '-') . ')');
	is(gst_path($p), "tcp -> tcp $tcp",
		'webrtcbin publisher\'s selected pair: TCP to the TCP port')
		or diag(explain $p->{selected_pairs});
	cmp_ok($p->{video_packets} // 0, '>', 30, 'webrtcbin publisher sent '
		. ($p->{video_packets} // 0) . ' VP8 packets');

	is($v->{status}, 201, 'webrtcbin viewer: WHEP 201')
		or diag($v->{body} // '');
	ok(!defined $v->{answer_error} && $v->{connected}, 'webrtcbin '
		. 'viewer takes the answer and connects ('
		. ($v->{answer_error} // $v->{connection_state} // '-') . ')');
	is(gst_path($v), "tcp -> tcp $tcp",
		'webrtcbin viewer\'s selected pair: TCP')
		or diag(explain $v->{selected_pairs});

	# frames that keep coming: 5 at least in the last second (the last
	# two TICKs; 15 a second are sent), 20 at least in all

	my @f = grep { $_ > 0 } map { $_->{video_frames} // 0 }
		@{$v->{ticks}};
	ok(@f >= 2 && $f[-1] >= $f[-2] + 5 && ($v->{video_frames} // 0) >= 20,
		'webrtcbin viewer decodes: frames ' . join(' -> ', @f)
		. ', ' . ($v->{video_frames} // 0) . ' in all ('
		. ($v->{video_size} // '-') . ')');

	nominated_ok($p->{location}, 'webrtcbin publisher');
	nominated_ok($v->{location}, 'webrtcbin viewer');

	# the network rule: 127.0.0.1 only; TCP candidates offered (libnice's
	# "ice-tcp" took)

	my @c = map { @{$_->{candidates}} } map { @{($_->{offer} || {})->{media}
		|| []} } $p, $v;
	my @tcpc = grep { /^tcp /i } @c;
	my @far = grep { !/^\S+ 127\.0\.0\.1 / } @c;
	ok(@tcpc && !@far, 'webrtcbin offered candidates on 127.0.0.1 only, '
		. scalar(@tcpc) . ' TCP of ' . scalar(@c))
		or diag(join ', ', @c);
	diag(sprintf 'webrtcbin: %.1f s', time() - $g0);
}

diag(sprintf 'all: %.1f s', time() - $t0);
