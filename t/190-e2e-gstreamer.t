#!/usr/bin/perl

# End-to-end with GStreamer 1.22 webrtcbin (t/gst/webrtcbin-client.py) as a
# WHIP publisher and a WHEP viewer, VP8 and H.264, with the bundle policies
# it has: max-bundle (every m= section after the first has port 0 and
# a=bundle-only) and max-compat are served, and frames decode on the other
# side, in webrtcbin and in Chromium; webrtcbin also plays streams Chromium
# publishes.  balanced and none (webrtcbin 1.22 sends the same offer for
# both: no a=group:BUNDLE, one transport per m= section) get the documented
# 422.  One viewer offers "OPUS/48000" without channels, as caps without
# encoding-params make webrtcbin write.  On a second nginx with a 10 s
# consent timeout, a webrtcbin publisher with libnice's defaults (Binding
# Indications, no consent checks once connected) stays 15 s: its
# authenticated media keeps the session (it was closed after 10 s before).
# webrtcbin gathers on 127.0.0.1 only, without UPnP.  GST_PYTHON names the
# python3 with python3-gst (/usr/bin/python3 by default).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/e2e/lib";

use POSIX qw/WNOHANG/;
use Test::More;
use Test::Nginx;
use Time::HiRes qw/sleep time/;
use JSON::PP ();
use E2E;

my $PYTHON = $ENV{GST_PYTHON} || '/usr/bin/python3';
my $CLIENT = "$FindBin::Bin/gst/webrtcbin-client.py";
my $E2E = "$FindBin::Bin/e2e";

# skip_all unless python3-gst, webrtcbin and the elements the client uses
# are there (Debian's python3 is asked: another python3 on the PATH may
# lack gi)

sub gst_missing {
	local $?;
	return "no $PYTHON" unless -x $PYTHON;
	my $out = `$PYTHON - 2>&1 <<'EOF'
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('GstSdp', '1.0')
gi.require_version('Nice', '0.1')
from gi.repository import Gst, GstWebRTC, GstSdp, Nice
Gst.init(None)
need = ('webrtcbin nicesrc nicesink dtlssrtpenc srtpenc videotestsrc '
        'audiotestsrc vp8enc vp8dec x264enc avdec_h264 h264parse opusenc '
        'opusdec rtpvp8pay rtpvp8depay rtph264pay rtph264depay rtpopuspay '
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

my @RUNS = (
	# webrtcbin publishes: [stream, codec, policy, webrtcbin viewers
	# ([codec offered, policy]), Chromium viewer?]
	[ 'gst-vp8-mb', 'VP8', 'max-bundle', [[ 'VP8', 'max-bundle' ]], 1 ],
	[ 'gst-h264-mb', 'H264', 'max-bundle', [[ 'H264', 'max-compat' ]], 1 ],
	[ 'gst-vp8-mc', 'VP8', 'max-compat', [[ 'any', 'max-bundle' ]], 0 ],
	[ 'gst-h264-mc', 'H264', 'max-compat', [[ 'H264', 'max-bundle' ]], 0 ],
);

my @CHROME = (
	# Chromium publishes: [stream, codec, webrtcbin viewers]
	[ 'chrome-vp8', 'VP8', [[ 'VP8', 'max-bundle' ],
		[ 'any', 'max-compat', '--opus-no-channels' ]] ],
	[ 'chrome-h264', 'H264', [[ 'H264', 'max-bundle' ]] ],
);

my @REFUSED = (
	[ 'publish', 'balanced' ], [ 'publish', 'none' ],
	[ 'play', 'balanced' ], [ 'play', 'none' ],
);

# the plan: 6 per webrtcbin publisher, 7 per webrtcbin viewer, 4 per
# Chromium viewer, 2 per Chromium publisher, 2 per refused offer, 3 and
# "no alerts" for consent, 1 for the candidates, 1 "no alerts"

my $plan = 1 + 1;
for my $r (@RUNS) {
	$plan += 6 + 7 * @{$r->[3]} + 4 * $r->[4];
}
for my $c (@CHROME) {
	$plan += 2 + 7 * @{$c->[2]};
}
$plan += 2 * @REFUSED;
$plan += 3 + 1;         # consent: a second nginx

if (my $why = gst_missing()) {
	plan(skip_all => $why);
}

my $t = E2E::start(plan => $plan);
my $d = $t->testdir();
my $base = E2E::base();

# a second nginx whose ICE consent expires after 10 s: libnice's agent in
# webrtcbin sends Binding Indications once connected, no consent checks,
# unless its keepalive-conncheck is set (then a Binding Request every
# 4-6 s); the server takes the publisher's SRTP as consent

my $tc = Test::Nginx->new()->has(qw/http stream http_ssl/);
$tc->write_file_expand('nginx.conf', <<"EOF");
%%TEST_GLOBALS%%

webrtc_consent_timeout 10s;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        server_name localhost;

        ssl_certificate $d/cert.pem;
        ssl_certificate_key $d/key.pem;

        webrtc_candidate 127.0.0.1:%%PORT_8981_UDP%%;

        location /whip/ {
            webrtc_whip;
        }
    }
}

stream {
    server {
        listen 127.0.0.1:%%PORT_8981_UDP%% udp;
        webrtc;
    }
}
EOF
$tc->run();

###############################################################################

# background processes, each in its own process group, stdout and stderr in
# the test directory; reap() waits until its limit and kills the group then

my $SPAWNED = 0;

sub spawn {
	my (%o) = @_;
	my $tag = $o{tag} . '-' . ++$SPAWNED;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		setpgrp(0, 0);
		@ENV{keys %{$o{env}}} = values %{$o{env}} if $o{env};
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', "$d/$tag.out";
		open STDERR, '>', "$d/$tag.err";
		chdir $o{dir} if $o{dir};
		{ exec @{$o{argv}} }
		POSIX::_exit(127);
	}
	return { pid => $pid, tag => $tag, start => time(),
		limit => $o{limit}, name => $o{name} };
}

sub reap {
	my ($h) = @_;
	my $end = $h->{start} + $h->{limit};
	my $done;
	while (time() < $end) {
		last if $done = waitpid($h->{pid}, WNOHANG) == $h->{pid};
		sleep 0.05;
	}
	unless ($done) {
		diag("$h->{name}: killed after $h->{limit} s");
		kill 'KILL', -$h->{pid};
		waitpid $h->{pid}, 0;
	}
	my $status = $? >> 8;
	my $secs = time() - $h->{start};

	my $out = $t->read_file("$h->{tag}.out");
	my ($line) = $out =~ /^RESULT (.*)$/m;
	my $res = defined $line ? eval { JSON::PP::decode_json($line) } : undef;

	if (!$res || $res->{error} || $status) {
		my $e = "$h->{tag}.err";
		my $err = -e "$d/$e" ? $t->read_file($e) : '';
		my @err = grep { !/unexpected operator/ } split /\n/, $err;
		@err = @err[-20 .. -1] if @err > 20;
		diag("$h->{name}: exit status $status, "
			. sprintf('%.1f s', $secs)
			. ($res && $res->{error} ? "\nerror: $res->{error}" : '')
			. ($res && $res->{answer_error}
				? "\nanswer refused: $res->{answer_error}" : '')
			. ($res && $res->{log} ? "\nlog:\n  " . join("\n  ",
				@{$res->{log}}) : '')
			. (defined $line ? '' : "\nstdout:\n$out")
			. (@err ? "\nstderr:\n" . join("\n", @err) : ''));
	}
	$res ||= {};
	$res->{_secs} = $secs;
	return $res;
}

# a webrtcbin client: publish /whip/<stream> for $secs after the answer,
# or play /whep/<stream> for $secs after the first decoded frame (waited
# 10 s for); the client stops itself 35 s later at most

sub gst {
	my ($role, $stream, $codec, $policy, $secs, $wait, @o) = @_;
	$wait //= 0;
	my $loc = ($role eq 'publish' ? '/whip/' : '/whep/') . $stream;
	return spawn(tag => "gst-$role-$stream-$policy",
		name => "webrtcbin $role $stream $codec $policy",
		limit => $secs + $wait + 45,
		argv => [ $PYTHON, $CLIENT, $role, $base . $loc,
			'--codec', $codec, '--bundle-policy', $policy,
			'--seconds', $secs, '--wait-publisher', $wait, @o ]);
}

# Chromium through t/e2e/gst-peer.js (lib/scenario.js stops it after
# E2E_TIMEOUT)

sub chromium {
	my ($role, %env) = @_;
	my $timeout = delete $env{TIMEOUT} || 40;
	return spawn(tag => "chromium-$role",
		name => "Chromium $role $env{STREAMS}", limit => $timeout + 20,
		dir => $E2E, argv => [ 'node', "$E2E/gst-peer.js" ],
		env => { E2E_BASE => $base, E2E_TIMEOUT => $timeout,
			E2E_ERROR_LOG => "$d/error.log", E2E_ROLE => $role,
			map { ('E2E_' . $_ => $env{$_}) } keys %env });
}

###############################################################################

my @offers;     # every webrtcbin result, for the candidates check

sub live_sections {
	my ($sdp) = @_;
	return join ' ',
		map { "$_->{media}:" . ($_->{port} ? 'live' : 'port 0') }
		@{($sdp || {})->{media} || []};
}

sub check_gst_publisher {
	my ($r, $n, $codec) = @_;
	push @offers, $r;
	is($r->{status}, 201, "$n: WHIP 201") or diag($r->{body} // '');
	is($r->{answer_error}, undef, "$n: webrtcbin takes the answer");
	ok($r->{connected}, "$n: connected ("
		. ($r->{connection_state} // '-') . ')');
	is(live_sections($r->{answer}), 'video:live audio:live',
		"$n: both m= sections answered live");
	cmp_ok($r->{video_packets} // 0, '>', 30,
		"$n: sent $codec packets: " . ($r->{video_packets} // 0));
	is($r->{delete_status}, 200, "$n: DELETE 200");
}

sub check_gst_viewer {
	my ($r, $n, $codec) = @_;
	push @offers, $r;
	is($r->{status}, 201, "$n: WHEP 201") or diag($r->{body} // '');
	is($r->{answer_error}, undef, "$n: webrtcbin takes the answer");
	ok($r->{connected}, "$n: connected ("
		. ($r->{connection_state} // '-') . ')');
	my ($v) = grep { $_->{media} eq 'video' }
		@{($r->{answer} || {})->{media} || []};
	like(($v || {})->{codecs}[0] // '', qr{^\Q$codec\E/90000$}i,
		"$n: answer codec $codec");
	cmp_ok($r->{video_frames} // 0, '>=', 20, "$n: decoded "
		. ($r->{video_frames} // 0) . ' video frames ('
		. ($r->{video_size} // '-') . ')');
	ok(($r->{video_size} // '') =~ /^\d+x\d+$/, "$n: picture size");
	cmp_ok($r->{audio_buffers} // 0, '>=', 50, "$n: decoded "
		. ($r->{audio_buffers} // 0) . ' audio buffers');
}

my $t0 = time();

# Chromium publishes from the start until told to stop (webrtcbin plays
# its streams last)

my $stop = "$d/chromium-publish.stop";
my $chrome_pub = chromium('publish', TIMEOUT => 90,
	STREAMS => join(',', map { $_->[0] } @CHROME),
	CODECS => join(',', map { $_->[1] } @CHROME), HOLD => 80000,
	STOP => $stop);

# webrtcbin publishes, two streams at a time, until its viewers are done
# (25 s at most); its viewers start with it and retry while
# the stream is not published yet

my $consent = spawn(tag => 'gst-publish-consent',
	name => 'webrtcbin publish with libnice defaults', limit => 60,
	argv => [ $PYTHON, $CLIENT, 'publish',
		'https://127.0.0.1:' . $tc->port(8444) . '/whip/consent',
		'--seconds', 15 ]);

for my $i (0, 2) {
	my @batch = @RUNS[$i .. $i + 1];
	my $stop = "$d/gst-publish-$i.stop";
	my @pubs = map { gst('publish', @$_[0 .. 2], 25, 0,
		'--stop-file', $stop) } @batch;
	my @views = map { my $r = $_;
		[ map { gst('play', $r->[0], @$_[0, 1], 4, 15, @$_[2 .. $#$_]) }
			@{$r->[3]} ] } @batch;
	my @cv = grep { $_->[4] } @batch;
	my $chromium = @cv ? chromium('view', TIMEOUT => 60,
		STREAMS => join ',', map { $_->[0] } @cv) : undef;

	for my $k (0 .. $#batch) {
		my ($stream, $codec, $policy, $viewers) = @{$batch[$k]};
		for my $j (0 .. $#$viewers) {
			check_gst_viewer(reap($views[$k][$j]),
				"$stream: webrtcbin viewer @{$viewers->[$j]}", $codec);
		}
	}
	if ($chromium) {
		my @v = @{reap($chromium)->{viewers} || []};
		for my $r (@cv) {
			my ($stream, $codec) = @$r;
			my ($c) = grep { $_->{stream} eq $stream } @v;
			$c ||= {};
			my ($s1, $s2) = map { ($_ || {})->{video} || {} }
				@$c{qw/s1 s2/};
			my $n = "$stream: Chromium viewer";
			is($c->{status}, 201, "$n: WHEP 201");
			like($c->{answerCodec} // '', qr/^\Q$codec\E\b/i,
				"$n: answer codec");
			cmp_ok($s2->{framesDecoded} // 0, '>',
				$s1->{framesDecoded} // 0, "$n: frames keep coming ("
				. ($s2->{framesDecoded} // 0) . ')');
			cmp_ok($s2->{frameWidth} // 0, '>', 0,
				"$n: frame width " . ($s2->{frameWidth} // 0));
		}
	}
	open my $fh, '>', $stop or die "$stop: $!";
	close $fh;
	for my $k (0 .. $#batch) {
		my ($stream, $codec, $policy) = @{$batch[$k]};
		check_gst_publisher(reap($pubs[$k]),
			"$stream: webrtcbin publisher $codec $policy", $codec);
	}
	diag(sprintf '%s: %.1f s', join(', ', map { $_->[0] } @batch),
		time() - $t0);
}

{
	my $r = reap($consent);
	push @offers, $r;
	my $n = 'webrtcbin publisher without consent checks';
	is($r->{status}, 201, "$n: WHIP 201");
	ok($r->{connected}, "$n: connected");
	is($r->{delete_status}, 200, "$n: its session outlived the 10 s "
		. 'consent timeout (DELETE 200 after 15 s)')
		or diag(join "\n", $tc->log_lines(qr/consent expired/));
	$tc->stop();
}

# webrtcbin plays what Chromium publishes; meanwhile offers without BUNDLE

{
	my @views = map { my $c = $_;
		[ map { gst('play', $c->[0], @$_[0, 1], 4, 20, @$_[2 .. $#$_]) }
			@{$c->[2]} ] } @CHROME;
	my @refused = map { gst($_->[0], $_->[0] eq 'play' ? $CHROME[0][0]
		: 'gst-refused', 'VP8', $_->[1], 2, 20) } @REFUSED;

	for my $k (0 .. $#CHROME) {
		my ($stream, $codec, $viewers) = @{$CHROME[$k]};
		for my $j (0 .. $#$viewers) {
			check_gst_viewer(reap($views[$k][$j]),
				"$stream: webrtcbin viewer @{$viewers->[$j]}", $codec);
		}
	}
	for my $k (0 .. $#REFUSED) {
		my ($role, $policy) = @{$REFUSED[$k]};
		my $r = reap($refused[$k]);
		push @offers, $r;
		my $n = "webrtcbin $role with bundle-policy $policy";
		is($r->{status}, 422, "$n: 422");
		like($r->{body} // '',
			qr/no a=group:BUNDLE, BUNDLE is required/, "$n: the reason");
	}
	open my $fh, '>', $stop or die "$stop: $!";
	close $fh;
	my @p = @{reap($chrome_pub)->{publishers} || []};
	for my $c (@CHROME) {
		my ($p) = grep { $_->{stream} eq $c->[0] } @p;
		$p ||= {};
		is($p->{status}, 201, "$c->[0]: Chromium publisher 201");
		is($p->{state}, 'connected', "$c->[0]: Chromium publisher connected");
	}
	diag(sprintf '%s: %.1f s', join(', ', map { $_->[0] } @CHROME),
		time() - $t0);
}

# the network rule: webrtcbin offered 127.0.0.1 UDP host candidates only,
# with UPnP off

my @bad;
for my $r (@offers) {
	my $n = 'webrtcbin ' . ($r->{role} // '?') . ' '
		. ($r->{bundle_policy} // '?');
	my @c = map { @{$_->{candidates}} }
		@{($r->{offer} || {})->{media} || []};
	push @bad, "$n: no candidates" unless @c;
	push @bad, map { "$n: candidate $_" }
		grep { !/^udp 127\.0\.0\.1 \d+ host$/i } @c;
	push @bad, "$n: UPnP not off" if $r->{upnp} // 1;
}
ok(!@bad, 'webrtcbin offered only 127.0.0.1 UDP host candidates, '
	. 'UPnP off') or diag(join "\n", @bad);


