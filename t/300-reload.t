#!/usr/bin/perl

# Live sessions across reloads (issue 16, doc/registry-design.md 11).  A
# webrtc-load publisher and 40 viewers stream through 2 workers while nginx
# reloads 5 times, about 3 s apart: the configuration unchanged, a location
# added, worker_processes 2 -> 3, 3 -> 2, unchanged.  A few seconds after
# each reload (new sessions of another stream meanwhile) the zone still has
# every one of the 41 sessions (a PATCH that cannot match is 412, not 404),
# the status counts the publisher and the 40 viewers, the viewers receive
# media, and the error log has no line that ends one of them; at the end
# webrtc-load saw no stall (no gap over 1 s), every consent check of the
# viewers and of the publisher answered, no failure, no SRTP decryption
# error and no SRTP index used twice with other bytes, and its viewers could
# DELETE their sessions.
#
# Each reload is also checked to have happened (new worker pids, the old
# ones exited, the new configuration in force), and new sessions work
# after it.
# Skipped if the tool is not built (make tools).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Test::Nginx qw/port http_req/;
use Test::Nginx::Load qw/tool load_conf load_start load_step_checks
	load_checks finish/;
use Time::HiRes qw/time/;

plan(skip_all => 'tools/webrtc-load is not built (make tools)')
	unless -x tool();

my $t = Test::Nginx->new()->has(qw/http stream/)->plan(45);

my $added = '';

$t->write_file_expand('nginx.conf', conf(2))->run();

my $d = $t->testdir();

###########################################################################
# the publisher and 40 viewers, in the background, each bounded by its
# --duration; consent checks every second, so that some fall into the
# reloads

my $load = load_start($t, pub_duration => 29, duration => 26,
	before => 'the reloads');
my $t0 = $load->{t0};

###########################################################################
# 5 reloads, each followed by a short publisher and 2 viewers of a stream
# of their own (about 3 s): the spacing

my @steps = (
	['the configuration unchanged', 2],
	['a location added', 2, "location = /added {\n"
		. "            return 204;\n        }"],
	['worker_processes 2 -> 3', 3],
	['worker_processes 3 -> 2', 2],
	['the configuration unchanged again', 2],
);

my $n = 0;

for my $step (@steps) {
	my ($name, $workers, $location) = @$step;
	$n++;

	$added = $location if defined $location;

	my @old = $t->worker_pids();

	$t->write_file_expand('nginx.conf', conf($workers));
	$t->reload();

	my @new = $t->worker_pids();
	my %old = map { $_ => 1 } @old;

	ok(@new == $workers && !grep({ $old{$_} } @new)
		&& !grep({ kill 0, $_ } @old),
		"reload $n ($name): workers @new replaced @old");

	if ($n == 2) {
		is(http_req(GET => '/added')->{status}, 204,
			"reload $n: the added location answers");
	}

	# new sessions, a few seconds: then what became of the old ones

	load_step_checks($t, "reload $n", $n, $load->{url});
}

###########################################################################
# webrtc-load's view of the whole run

my $vs = finish($load->{aud}, $t0 + 40 - time());
my $ps = finish($load->{pub}, $t0 + 42 - time());

load_checks($d, $vs, $ps, 40);

###########################################################################

# the nginx.conf of $workers workers, with the location in $added

sub conf {
	my ($workers) = @_;
	return load_conf(workers => $workers, max_sessions => 64,
		http => $added);
}
