import Type, { type Static } from 'typebox';
import semver from 'semver';
import { validate } from '../config/validate.ts';
import { SmokemeshError } from '../errors.ts';

/**
 * The shapes of a release: `release.json` inside the tarball (what was built), the manifest an
 * Ed25519 signature covers (what was built + the tarball's digest), and the `.sig` file that
 * carries both. Schemas here are the one source of their types.
 */

/** Release versions are semver (1.2.3, 1.3.0-rc.1): ordered, and safe as a directory name. */
export const VersionSchema = Type.String({ minLength: 5, maxLength: 64, pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$' });

/** Node's names for the CPU architectures a release can be built for. */
export const ArchSchema = Type.String({ pattern: '^(x64|arm64|arm|ia32|ppc64|s390x|riscv64|loong64)$' });

/** `release.json` at the top of the unpacked tarball. */
export const ReleaseInfoSchema = Type.Object({
  name: Type.Literal('smokemesh'),
  version: VersionSchema,
  os: Type.Literal('linux'),
  arch: ArchSchema,
  /** The ABI of the Node.js the native module (better-sqlite3) was built against (process.versions.modules). */
  node_abi: Type.String({ pattern: '^[0-9]+$' }),
  /** Node.js major version the release runs on (the install script checks it). */
  node_major: Type.Integer({ minimum: 20 }),
  built_at: Type.String({ format: 'date-time' }),
}, { additionalProperties: false });
export type ReleaseInfo = Static<typeof ReleaseInfoSchema>;

/** What a signature covers: the release and the exact bytes of its tarball. */
export const ManifestSchema = Type.Object({
  ...ReleaseInfoSchema.properties,
  /** The tarball's file name (smokemesh-<version>-linux-<arch>.tar.gz). */
  file: Type.String({ maxLength: 200 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  size: Type.Integer({ minimum: 1 }),
}, { additionalProperties: false });
export type Manifest = Static<typeof ManifestSchema>;

export const SIGNATURE_FORMAT = 'smokemesh-release-signature/1';

/**
 * The `.sig` file beside a tarball. `manifest` is the JSON text exactly as signed (no
 * re-serialisation can change what was signed); `key_id` names the public key that verifies it.
 */
export const SignatureFileSchema = Type.Object({
  format: Type.Literal(SIGNATURE_FORMAT),
  key_id: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  manifest: Type.String({ maxLength: 4096 }),
  signature: Type.String({ pattern: '^[A-Za-z0-9+/]{86}==$', description: 'Ed25519 signature of manifest, base64' }),
}, { additionalProperties: false });
export type SignatureFile = Static<typeof SignatureFileSchema>;

/** Largest tarball accepted anywhere (upload, download): a release is about 10 MB. */
export const MAX_RELEASE_BYTES = 256 * 1024 * 1024;

/** `smokemesh-<version>-linux-<arch>.tar.gz` */
export function releaseFileName(version: string, arch: string): string {
  return `smokemesh-${version}-linux-${arch}.tar.gz`;
}

/** The version and architecture a release file name stands for, or undefined when it is not one. */
export function parseReleaseFileName(file: string): { version: string; arch: string } | undefined {
  const m = /^smokemesh-(.+)-linux-([a-z0-9]+)\.tar\.gz$/.exec(file);
  if (!m || !isVersion(m[1]!) || validate(ArchSchema, m[2]).length) return undefined;
  return { version: m[1]!, arch: m[2]! };
}

/** Whether `v` is a release version (semver, see VersionSchema). */
export function isVersion(v: string): boolean {
  return validate(VersionSchema, v).length === 0 && semver.valid(v) === v;
}

/** Orders two release versions as semver does (pre-releases before their release): <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b);
}

/** Parses and checks JSON text against a schema; a SMOKEMESH_E_RELEASE naming `what` otherwise. */
export function parseChecked<T>(schema: Parameters<typeof validate>[0], text: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${what} is not JSON: ${(e as Error).message}`);
  }
  const issues = validate(schema, value);
  if (issues.length) {
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${what}: ${issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  }
  return value as T;
}
