import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { SmokemeshError } from '../errors.ts';
import {
  ManifestSchema, SIGNATURE_FORMAT, SignatureFileSchema, parseChecked,
  type Manifest, type ReleaseInfo, type SignatureFile,
} from './manifest.ts';

/**
 * Ed25519 signing of releases (node:crypto). A signature covers a manifest: the release's
 * identity (version, architecture, Node ABI) and the SHA-256 and size of its tarball, so an
 * agent checks the signature first and the tarball's bytes against it before unpacking.
 */

/** A new key pair as PEM (PKCS#8 private, SPKI public) and the public key's id. */
export function generateReleaseKeys(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** First 16 hex digits of the SHA-256 of the public key (SPKI DER): names the key in a signature. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Reads a private release key; refuses one that group or others can read, or that is not Ed25519. */
export function readPrivateKey(file: string): KeyObject {
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release key ${file}: cannot read it: ${(e as Error).message}`);
  }
  if (mode & 0o077) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release key ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release key ${file}: not a PEM private key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release key ${file}: an ${key.asymmetricKeyType} key; release keys are Ed25519 (smokemesh release keygen)`);
  return key;
}

/** Reads a public release key (PEM, Ed25519), the one agents trust (`--release-key`). */
export function readPublicKey(file: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release key ${file}: cannot read it: ${(e as Error).message}`);
  }
  return parsePublicKey(text, file);
}

/** A public Ed25519 key from PEM text; `where` names it in errors. */
export function parsePublicKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release key ${where}: not a PEM public key: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release key ${where}: an ${key.asymmetricKeyType} key; release keys are Ed25519`);
  return key;
}

/** SHA-256 (hex) of bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Signs the release `info` whose tarball `file` has `digest` and `size`. */
export function signRelease(info: ReleaseInfo, file: string, digest: { sha256: string; size: number }, privateKey: KeyObject): SignatureFile {
  const manifest: Manifest = { ...info, file, sha256: digest.sha256, size: digest.size };
  const text = JSON.stringify(manifest);
  return {
    format: SIGNATURE_FORMAT,
    key_id: keyIdOf(createPublicKey(privateKey)),
    manifest: text,
    signature: sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64'),
  };
}

/**
 * Checks a `.sig` file's signature with the trusted key and returns its manifest. Throws
 * SMOKEMESH_E_RELEASE when the file is malformed, made with another key, or does not verify.
 * The manifest is only returned once the signature is good: nothing in it is read before.
 */
export function verifySignature(sigText: string, publicKey: KeyObject): Manifest {
  const sig = parseChecked<SignatureFile>(SignatureFileSchema, sigText, 'release signature');
  const trusted = keyIdOf(publicKey);
  if (sig.key_id !== trusted) {
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release signature: made with key ${sig.key_id}, but the trusted release key is ${trusted} (--release-key)`);
  }
  if (!verify(null, Buffer.from(sig.manifest, 'utf8'), publicKey, Buffer.from(sig.signature, 'base64'))) {
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `release signature: does not verify with key ${trusted}: the manifest or the signature was altered`);
  }
  return parseChecked<Manifest>(ManifestSchema, sig.manifest, 'signed release manifest');
}

/** Throws SMOKEMESH_E_RELEASE unless the tarball's size and SHA-256 are the manifest's. */
export function checkDigest(manifest: Manifest, digest: { sha256: string; size: number }): void {
  if (digest.size !== manifest.size) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${manifest.file}: ${digest.size} bytes, but the signed manifest says ${manifest.size}: the tarball was altered or cut short`);
  if (digest.sha256 !== manifest.sha256) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${manifest.file}: SHA-256 ${digest.sha256.slice(0, 16)}…, but the signed manifest says ${manifest.sha256.slice(0, 16)}…: the tarball was altered`);
}

/** The manifest of a `.sig` file without checking the signature (for the server's index, never for trust). */
export function unverifiedManifest(sigText: string): Manifest {
  const sig = parseChecked<SignatureFile>(SignatureFileSchema, sigText, 'release signature');
  return parseChecked<Manifest>(ManifestSchema, sig.manifest, 'release manifest');
}
