import type { FlagSpec, Parsed } from './args'

export type Env = Record<string, string | undefined>

/** One `ringcast` command: what help prints about it and how it runs. */
export interface Command {
  name: string
  /** Positional words as help shows them, e.g. `STREAM [DATA]`. */
  words: string
  /** Most positional words it takes (Infinity for a list of patterns). */
  maxWords: number
  summary: string
  /** Further help lines, printed under the usage line. */
  details: string[]
  flags: FlagSpec[]
  run(parsed: Parsed, env: Env): Promise<void>
}
