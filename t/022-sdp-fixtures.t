#!/usr/bin/perl

# Every offer in t/sdp/, whoever wrote it (Chromium, Firefox, GStreamer
# webrtcbin, OBS, Safari, or a hand edit), POSTed to a real nginx: a
# publish offer to WHIP, a *-play* offer to WHEP of a VP8 and of an H.264
# stream.  bad-* offers (and the few the server does not support) get a
# 4xx with a one-line reason logged at info; every other one gets 201 and
# an answer a strict parser (webrtcbin's) takes: every m= section has ICE
# credentials, a fingerprint and a=setup, a bundle-only section of the
# BUNDLE group is answered live, never with port 0.  No [alert] at all
# (Test::Nginx's own check).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/http_req sdp parse_sdp attr/;

my $SDP = "$FindBin::Bin/sdp";
my @names = map { (m{([^/]+)\.sdp$})[0] } sort glob("$SDP/*.sdp");

# refused although not named bad-*: what the server does not do
my %unsupported = (
	'obs-publish-hevc' => [ 422, qr/no common video codec/ ],
);

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(2 * @names + 2);

$t->write_file_expand('nginx.conf', <<'EOF')->run();
%%TEST_GLOBALS%%

worker_processes 2;

events {}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%% reuseport;
        server_name localhost;

        add_header X-Worker $pid always;

        webrtc_candidate 127.0.0.1:%%PORT_8980_UDP%%;

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
        listen 127.0.0.1:%%PORT_8980_UDP%% udp reuseport;
        webrtc;
    }
}
EOF

sub post {
	my ($uri, $body) = @_;
	return http_req(POST => $uri, body => $body,
		headers => { 'Content-Type' => 'application/sdp' });
}

sub log_size { -s $t->testdir() . '/error.log' || 0 }

sub logged {
	my ($off, $r, $reason) = @_;
	my $pid = $r->{headers}{'x-worker'} // 'none';
	my $log = substr($t->read_file('error.log'), $off);
	return $log =~ /\[info\] \Q$pid\E#\d+: \*\d+ webrtc: \Q$reason\E, client: /;
}

# what a strict parser wants of every m= section of an answer, and what
# RFC 8843 says of bundle-only ones; '' when all is well
sub answer_problems {
	my ($offer, $answer) = @_;
	my ($o, $a) = (parse_sdp($offer), parse_sdp($answer));
	my ($group) = attr($o->{session}, 'group');
	my %bundled = map { $_ => 1 }
		split ' ', ($group // '') =~ s/^BUNDLE//r;
	my @p;
	push @p, sprintf 'm= sections: %d offered, %d answered',
		scalar @{$o->{media}}, scalar @{$a->{media}}
		if @{$o->{media}} != @{$a->{media}};
	for my $i (0 .. $#{$a->{media}}) {
		my ($am, $om) = ($a->{media}[$i], $o->{media}[$i] // {});
		my @l = (@{$am->{lines}}, @{$a->{session}});
		for my $need (qw/ice-ufrag ice-pwd fingerprint setup mid/) {
			push @p, "m=$i has no a=$need" unless attr(\@l, $need);
		}
		push @p, "m=$i has a=bundle-only"
			if attr($am->{lines}, 'bundle-only');
		my ($mid) = attr($om->{lines} // [], 'mid');
		if (attr($om->{lines} // [], 'bundle-only')
			&& defined $mid && $bundled{$mid}
			&& $om->{kind} =~ /^(audio|video)$/
			&& attr($om->{lines}, 'rtcp-mux'))
		{
			push @p, "bundle-only m=$i ($om->{kind}) answered port 0"
				if $am->{port} == 0;
		}
	}
	return join '; ', @p;
}

# the streams a *-play* offer is played from
for my $s ([ 'fx-vp8', 'chromium-publish-vp8' ],
	[ 'fx-h264', 'chromium-publish-h264' ])
{
	my $r = post("/whip/$s->[0]", sdp($s->[1]));
	die "publishing $s->[1]: $r->{status}" unless $r->{status} == 201;
}

my $start = log_size();

for my $name (@names) {
	my $offer = sdp($name);
	my $bad = $name =~ /^bad-|-bad-/;
	my @uris = $name =~ /-play/ ? ('/whep/fx-vp8', '/whep/fx-h264')
		: ("/whip/fx-$name");

	my (@got, $answered, @problems, @refusals);

	for my $uri (@uris) {
		my $off = log_size();
		my $r = post($uri, $offer);
		push @got, $r->{status};

		if ($r->{status} == 201) {
			$answered++;
			push @problems, answer_problems($offer, $r->{body});
			http_req(DELETE => $r->{headers}{location})
				if $r->{headers}{location};
			next;
		}

		my ($reason) = ($r->{body} // '') =~ /\A([^\n]+)\n\z/;
		push @refusals, ($r->{status} =~ /^4\d\d$/ && defined $reason
			&& logged($off, $r, $reason))
			? "refused: $reason"
			: "$r->{status} without a logged one-line reason";
	}

	if ($bad || $unsupported{$name}) {
		my ($status, $re) = @{$unsupported{$name} // [ qr/4(00|22)/ ]};
		ok(!$answered && $got[0] =~ /^$status$/, "$name: @got");
		like($refusals[0] // '', $re ? qr/^refused: .*$re/ : qr/^refused: /,
			"$name: " . ($refusals[0] // 'answered'));
		next;
	}

	# a play offer may refuse one of the streams, with a reason
	ok($answered && !grep({ !/^refused: / } @refusals),
		"$name: 201 (@got) @refusals");
	is(join('; ', grep { $_ ne '' } @problems), '',
		"$name: answer complete for strict parsers");
}

like(join(' ', @names), qr/firefox-.*gstreamer-.*obs-.*safari-/,
	'offers of Firefox, GStreamer, OBS and Safari are there');
