import { expect } from 'bun:test'
import { ConfigError } from '../../src/config'

/** The ConfigError `fn` throws; fails the test if it throws anything else or nothing. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}
