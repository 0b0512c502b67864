import { afterAll, beforeAll, expect } from 'bun:test'
import { startTestServer, type TestServer } from '../helpers/start-server'
import { type Claim, forge, hsToken, noneToken, TEST_SECRET, tamper } from '../helpers/tokens'
import { bearer, call, exported } from './support'

// Every route and transport × every kind of credential, over two files. The target stream team.7.job.1 holds
// events whose data carries T7-SECRET markers (team.8.job.1 holds T8-SECRET ones): a refused request must
// carry none of them, and an allowed read must carry them (so "none" means something).

export type Kind = 'none' | 'expired' | 'notYet' | 'algNone' | 'badSig' | 'otherSecret' | 'forged' | 'wrong' | 'user' | 'admin' | 'ticket'
export const INVALID: Kind[] = ['none', 'expired', 'notYet', 'algNone', 'badSig', 'otherSecret', 'forged']
export const VALID: Kind[] = ['wrong', 'user', 'admin', 'ticket']
export const KINDS: Kind[] = [...INVALID, ...VALID]

const ADMIN: Claim = { publish: ['**'], subscribe: ['**'], admin: true }
export const USER: Claim = { publish: ['team.7.**'], subscribe: ['team.7.**'] }
const WRONG: Claim = { publish: ['other.**'], subscribe: ['other.**'] }

export interface Matrix {
  server: TestServer
  base: string
  wsBase: string
  /** A credential of each kind (null: none at all). */
  cred: Record<Kind, string | null>
  adminToken: string
  userToken: string
  /** A GET with the admin token. */
  adminGet(path: string): ReturnType<typeof call>
}

/** The matrix for one test file: started before its tests, closed after them; the fields are set once it starts. */
export function useMatrix(): Matrix {
  const matrix = {} as Matrix
  beforeAll(async () => {
    Object.assign(matrix, await startMatrix())
  })
  afterAll(() => matrix.server.close())
  return matrix
}

/** A server with a key, a credential of every kind and the marked streams every check reads. */
async function startMatrix(): Promise<Matrix> {
  const cred = {} as Record<Kind, string | null>
  const server = await startTestServer({ 'jwt-secret': TEST_SECRET })
  const base = server.url
  const wsBase = `${base.replace('http', 'ws')}/v1/ws`
  const adminToken = await hsToken(TEST_SECRET, ADMIN, { sub: 'root', expiresInSec: 3600 })
  const userToken = await hsToken(TEST_SECRET, USER, { sub: 'alice', expiresInSec: 3600 })
  cred.none = null
  // The invalid ones would be admin if they were valid: only their validity refuses them.
  cred.expired = await hsToken(TEST_SECRET, ADMIN, { sub: 'root', expiresInSec: -120 })
  cred.notYet = await hsToken(TEST_SECRET, ADMIN, { sub: 'root', expiresInSec: 3600, notBeforeInSec: 600 })
  cred.algNone = noneToken(ADMIN, { sub: 'root', expiresInSec: 3600 })
  cred.badSig = tamper(adminToken)
  cred.otherSecret = await hsToken('another-secret-0123456789-xyz', ADMIN, { sub: 'root', expiresInSec: 3600 })
  cred.forged = forge(userToken, ADMIN, { sub: 'alice', expiresInSec: 3600 })
  cred.wrong = await hsToken(TEST_SECRET, WRONG, { sub: 'mallory', expiresInSec: 3600 })
  cred.user = userToken
  cred.admin = adminToken
  const minted = await call(`${base}/v1/tickets`, { method: 'POST', headers: { ...bearer(userToken), 'Content-Type': 'application/json' }, body: JSON.stringify({ subscribe: ['team.7.**'] }) })
  expect(minted.status).toBe(201)
  cred.ticket = JSON.parse(minted.text).ticket

  const put = async (stream: string, data: string) => {
    const res = await call(`${base}/v1/streams/${stream}/events`, { method: 'POST', headers: { ...bearer(adminToken), 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'secret', data }) })
    expect(res.status).toBe(201)
  }
  for (let n = 1; n <= 3; n++) {
    await put('team.7.job.1', `T7-SECRET-${n}`)
    await put('team.8.job.1', `T8-SECRET-${n}`)
  }
  for (const kind of KINDS) {
    await put(`team.7.close.${kind}`, 'to be closed')
    await put(`team.7.del.${kind}`, 'to be deleted')
  }
  // The precondition of every "nothing leaked" check: both streams hold their events.
  expect((await exported(base, 'team.7.job.1', bearer(adminToken))).map((e) => e.data)).toEqual(['T7-SECRET-1', 'T7-SECRET-2', 'T7-SECRET-3'])
  expect((await exported(base, 'team.8.job.1', bearer(adminToken))).map((e) => e.data)).toEqual(['T8-SECRET-1', 'T8-SECRET-2', 'T8-SECRET-3'])
  return { server, base, wsBase, cred, adminToken, userToken, adminGet: (path) => call(`${base}${path}`, { headers: bearer(adminToken) }) }
}
