export { md5Hex, md5Password } from './md5.ts'
export { saslprep } from './saslprep.ts'
export { clearScramCache, type ScramSession, startScram } from './scram.ts'
