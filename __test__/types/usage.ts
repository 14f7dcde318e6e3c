// Type-checked by `npm test` (tsc --noEmit, strict): the committed index.d.ts must accept what the
// README shows and reject what the addon rejects. Each @ts-expect-error line fails the check if
// the typings stop rejecting it.
import * as crypto from '../../index'

declare const key: string
declare const hexKey: string
declare const buf: Buffer
declare const signal: AbortSignal

const token: string = crypto.encryptData('secret', key)
const text: string = crypto.decryptData(token, key)
crypto.encryptData('secret', key, { iv: buf })
const blob: string = crypto.encryptSecure(text, hexKey, { allowWeakKey: false })
crypto.decryptSecure(blob, hexKey)
const creds = crypto.decryptCredentials(crypto.encryptCredentials({ apiKey: 'AK' }, hexKey), hexKey)
void creds

// Credential maps: without `strict`, every decoded value is a string (as the legacy type said).
const stored = crypto.encodeCredentialMap({ apiKey: 'AK', isTestnet: true }, key)
const plain: Record<string, string> = crypto.decodeCredentialMap(stored, key)
const plain2: Record<string, string> = crypto.decodeCredentialMap(stored, key, {})
const plain3: Record<string, string> = crypto.decodeCredentialMap(stored, key, { strict: false })
const strict: Record<string, unknown> = crypto.decodeCredentialMap(stored, key, { strict: true })
// @ts-expect-error with strict, isTestnet keeps its type: not every value is a string
const wrong: Record<string, string> = crypto.decodeCredentialMap(stored, key, { strict: true })
declare const maybeStrict: boolean
// @ts-expect-error a strict flag only known at run time may keep non-strings too
const wrong2: Record<string, string> = crypto.decodeCredentialMap(stored, key, { strict: maybeStrict })
void [plain, plain2, plain3, strict, wrong, wrong2]

async function asyncTwins(): Promise<void> {
  const s: string = await crypto.encryptDataAsync('x', key)
  const d: string = await crypto.decryptDataAsync(s, key)
  const m: Record<string, string> = await crypto.decodeCredentialMapAsync({ a: s }, key)
  void [d, m]
  await crypto.encryptFile('in', 'out', key, { onProgress: (done: number, total: number) => void [done, total], signal })
  await crypto.decryptFileInPlace('out', key)
  const enc: Buffer = crypto.encryptBuffer(buf, key)
  const dec: Buffer = await crypto.decryptBufferAsync(enc, key)
  void dec
  const r = crypto.xchachaEncrypt('secret', hexKey)
  const x: string = crypto.xchachaDecrypt({ ciphertext: r.ciphertext, nonce: r.nonce }, hexKey)
  const k: string = await crypto.deriveKeyFromPasswordAsync('pw', crypto.generateKey().slice(0, 22), { signal })
  void [x, k, r.tag]
}
void asyncTwins

// @ts-expect-error keys are strings, not string | undefined: check process.env first
crypto.encryptData('x', process.env.ENCRYPTION_KEY)
// @ts-expect-error data must be a string
crypto.encryptData(42, key)
// @ts-expect-error options are typed
crypto.encryptSecure('x', hexKey, { allowWeakKeys: true })
