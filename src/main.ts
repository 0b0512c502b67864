import { run } from './cli/index'

// No top-level await: `--bytecode` builds compile to CommonJS.
run(process.argv.slice(2), process.env).catch((error) => {
  process.stderr.write(`ringcast: ${(error as Error)?.stack ?? error}\n`)
  process.exit(1)
})
