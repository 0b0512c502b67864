/** A command that failed (server refusal, unreachable server, bad input): printed as one line, exit code 1. */
export class CliError extends Error {}

/** A command line that cannot be run (unknown flag, stray argument, missing value): one line, exit code 2. */
export class UsageError extends Error {}
