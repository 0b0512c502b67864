import { run } from './cli/index'

await run(process.argv.slice(2), process.env)
