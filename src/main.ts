import { CliError, UsageError } from './cli/errors'
import { run } from './cli/index'

// No top-level await: `--bytecode` builds compile to CommonJS.
run(process.argv.slice(2), process.env).catch((error) => {
  if (error instanceof UsageError || error instanceof CliError) {
    process.stderr.write(`ringcast: ${error.message}\n`)
    process.exit(error instanceof UsageError ? 2 : 1)
  }
  process.stderr.write(`ringcast: ${(error as Error)?.stack ?? error}\n`)
  process.exit(1)
})
