/**
 * A program that must not outlive the daemon, run behind a small perl relay.
 *
 * ExifTool in `-stay_open True -@ -` mode never notices that the process
 * feeding its stdin died: at the end of the pipe its ReadStayOpen polls
 * every 10 ms, for ever (ExifTool 12.57, `exiftool` lines 4367-4430). A
 * daemon killed with SIGKILL, by the OOM killer or by a crash outside
 * systemd's cgroup would leave one such process per session, each waking
 * 100 times a second. The relay sits between the daemon and the program:
 * it copies its stdin to the program's stdin and, when its stdin ends (the
 * daemon closed it or died) or it gets SIGTERM, SIGINT or SIGHUP, kills the
 * program and exits. The program's stdout and stderr are the relay's own
 * pipes, handed down; the relay itself closes them, so they end when the
 * program ends.
 *
 * Perl is there wherever ExifTool is (ExifTool is a perl program). A
 * program that cannot be started makes the relay write `NAME: REASON` on
 * stderr and exit with {@linkcode RELAY_NOT_FOUND} (no such file) or
 * {@linkcode RELAY_CANNOT_RUN} (any other reason), as a shell does.
 *
 * @module
 */

/** The relay's exit status when the program does not exist (as a shell's 127). */
export const RELAY_NOT_FOUND = 127;

/** The relay's exit status when the program exists but cannot be started (as a shell's 126). */
export const RELAY_CANNOT_RUN = 126;

/**
 * The relay, for `perl -e`: `@ARGV` is the program and its arguments.
 * SIGKILL (the one signal it cannot catch) is the only way to part it from
 * its program; stop it with SIGTERM.
 */
export const STDIN_RELAY_PERL = `use strict;
$SIG{PIPE} = 'IGNORE';
my ($pid, $ending);
# A signal that comes before the program has started is acted on once it has.
my $end = sub {
  $ending = 1;
  return unless $pid;
  kill('KILL', $pid);
  waitpid($pid, 0);
  exit(0);
};
$SIG{TERM} = $SIG{INT} = $SIG{HUP} = $end;
$pid = open(my $to, '|-', @ARGV);
if (!$pid) {
  print STDERR "$ARGV[0]: $!\\n";
  exit($!{ENOENT} ? ${RELAY_NOT_FOUND} : ${RELAY_CANNOT_RUN});
}
$end->() if $ending;
open(STDOUT, '>', '/dev/null');
open(STDERR, '>', '/dev/null');
my $buf;
while (sysread(STDIN, $buf, 65536)) {
  my $off = 0;
  while ($off < length($buf)) {
    my $n = syswrite($to, $buf, length($buf) - $off, $off);
    $end->() unless defined($n);
    $off += $n;
  }
}
$end->();
`;

/** What to spawn: a program and its arguments. */
export interface RelayedCommand {
  /** Always "perl". */
  program: string;
  /** `-e`, the relay, `--`, then the program and its arguments. */
  args: string[];
}

/**
 * The command that runs `bin args…` behind the relay. Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const cmd = relayedCommand("exiftool", ["-stay_open", "True"]);
 * assert.equal(cmd.program, "perl");
 * assert.deepEqual(cmd.args.slice(2), ["--", "exiftool", "-stay_open", "True"]);
 * ```
 * @param bin The program (a name looked up on PATH, or a path).
 * @param args Its arguments.
 * @returns `perl` and its arguments.
 */
export function relayedCommand(
  bin: string,
  args: readonly string[],
): RelayedCommand {
  return {
    program: "perl",
    args: ["-e", STDIN_RELAY_PERL, "--", bin, ...args],
  };
}
