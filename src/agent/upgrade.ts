import { execFile } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { compareVersions } from '../release/manifest.ts';
import { AGENT_RELEASE_API, type UpgradeStatus, type UpgradeTarget, type UpgradeTargetReply } from '../release/protocol.ts';
import { checkDigest, verifySignature } from '../release/signing.ts';
import { unpackRelease } from '../release/tarball.ts';
import { VERSION } from '../version.ts';
import type { AgentClient } from './client.ts';
import { readUpgradeState, switchCurrent, writeUpgradeState, type InstallLayout, type UpgradeState } from './install-layout.ts';

const run = promisify(execFile);

/** Exit status of an agent that switched `current` to a new version: its supervisor starts it. */
export const EXIT_UPGRADED = 75;

export interface UpgraderOptions {
  client: Pick<AgentClient, 'call' | 'download'>;
  /** The release key given at install (--release-key); none: the agent never upgrades. */
  key: KeyObject | undefined;
  /** Where the agent is installed; none: not installed from a release. */
  layout: InstallLayout | undefined;
  log: Logger;
  /** Also accept an older version than the running one when the server does not call it a roll back. */
  allowDowngrade?: boolean;
  /** How often the server is asked; default 30 s. */
  checkMs?: number;
  /** How long a new version has to deliver rounds before it is given up; default 120 s. */
  trialMs?: number;
  /** Called once `current` names the new version: stop cleanly and exit with EXIT_UPGRADED. */
  onSwitched(version: string): void;
  /** Called when a version on trial was not healthy in time: exit with a failure (the supervisor rolls back). */
  onTrialFailed(error: string): void;
}

/**
 * The agent's half of self-upgrade. Asks the server which version to run; when it is another
 * one: checks the signed manifest with the release key given at install (nothing in it is read
 * before), refuses a downgrade unless the server calls it a roll back (or --allow-downgrade),
 * downloads and checks size and SHA-256 before unpacking beside the running version, runs the
 * new one once as a self-test (`--version`), saves a trial state, points `current` at it and
 * asks to be restarted. The new version commits the trial once its first rounds are accepted;
 * if it does not (or exits), the supervisor (./supervisor.ts) puts the old one back, and the
 * failure is reported in every heartbeat until a later attempt succeeds.
 */
export class Upgrader {
  private state: UpgradeState;
  private timer: NodeJS.Timeout | undefined;
  private trialTimer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;

  constructor(private readonly o: UpgraderOptions) {
    const saved = o.layout ? readUpgradeState(o.layout) : undefined;
    const now = Date.now();
    const disabled = !o.key ? 'no --release-key: this agent does not upgrade itself'
      : !o.layout ? 'not installed from a release (no <prefix>/versions/<version> beside a <prefix>/current link): this agent does not upgrade itself'
      : undefined;
    if (disabled) this.state = { status: { state: 'disabled', error: disabled, at: now, arch: process.arch } };
    else if (saved) this.state = saved;
    else this.state = { status: { state: 'idle', at: now, arch: process.arch } };
    const s = this.state.status;
    if (s.state === 'trial' && s.target !== VERSION) {
      // The supervisor started another version than the one on trial: that one is given up.
      this.set({ ...s, state: 'failed', error: `${s.target} was on trial, but ${VERSION} runs` });
    } else if (s.state === 'downloading' || s.state === 'testing') {
      this.set({ ...s, state: 'failed', error: `interrupted while ${s.state} ${s.target ?? ''}` });
    }
  }

  /** The status every heartbeat carries. */
  status(): UpgradeStatus {
    return this.state.status;
  }

  /** Whether this process runs a version on trial (not committed yet). */
  get onTrial(): boolean {
    // The trial is the new version's: the old process still pushing its spool after the switch is not on trial.
    return this.state.status.state === 'trial' && this.state.status.target === VERSION && !this.stopped;
  }

  /** Starts asking the server (and the trial's deadline when on trial). */
  start(): void {
    if (this.state.status.state === 'disabled') {
      this.o.log.info({ reason: this.state.status.error }, 'self-upgrade disabled');
      return;
    }
    if (this.onTrial) {
      const left = Math.max(0, (this.state.trial_until ?? 0) - Date.now());
      this.o.log.info({ version: VERSION, previous: this.state.status.previous, left_ms: left }, 'running a new version on trial: committed once its rounds are accepted');
      this.trialTimer = setTimeout(() => {
        if (!this.onTrial) return;
        const error = `${VERSION} delivered no rounds within its trial`;
        this.set({ ...this.state.status, state: 'failed', error });
        this.o.onTrialFailed(error);
      }, left);
    }
    const tick = () => {
      this.timer = setTimeout(() => void this.check().finally(() => !this.stopped && tick()), this.o.checkMs ?? 30_000);
    };
    void this.check().finally(() => !this.stopped && tick());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.trialTimer);
  }

  /** The server accepted rounds of this version (or it has nothing to measure): a trial is committed. */
  healthy(): void {
    if (!this.onTrial) return;
    clearTimeout(this.trialTimer);
    const s = this.state.status;
    this.o.log.info({ version: VERSION, previous: s.previous }, 'new version healthy: upgrade committed');
    const { error: _gone, ...rest } = s;
    this.state = { status: { ...rest, state: 'idle', at: Date.now() } };
    this.save();
  }

  /** One question to the server and whatever it leads to. Never throws. */
  async check(): Promise<void> {
    if (this.busy || this.stopped || this.state.status.state === 'disabled' || this.onTrial) return;
    this.busy = true;
    try {
      const r = await this.o.client.call<UpgradeTargetReply>('GET', AGENT_RELEASE_API.target);
      const reply = r.body;
      if (!reply) return;
      const s = this.state.status;
      if (reply.problem) {
        const p = reply.problem;
        if (!(s.state === 'failed' && s.target === p.version && s.rollout === p.rollout && s.attempt === p.attempt)) {
          this.fail({ version: p.version, rollout: p.rollout, attempt: p.attempt }, `the server: ${p.error}`);
        }
        return;
      }
      const t = reply.target;
      if (!t || t.version === VERSION) return;
      if (s.state === 'failed' && s.target === t.version && s.rollout === t.rollout && s.attempt === t.attempt) return; // tried already
      try {
        await this.apply(t);
      } catch (e) {
        this.fail(t, (e as Error).message);
      }
    } catch (e) {
      this.o.log.debug({ err: e }, 'asking the server for a version failed; asking again later');
    } finally {
      this.busy = false;
    }
  }

  private async apply(t: UpgradeTarget): Promise<void> {
    const l = this.o.layout!;
    const base = { target: t.version, rollout: t.rollout, attempt: t.attempt, arch: process.arch };
    this.set({ ...this.keep(), ...base, state: 'downloading' });
    this.o.log.info({ version: t.version, rollout: t.rollout, attempt: t.attempt, rollback: t.rollback }, `upgrading from ${VERSION} to ${t.version}`);
    // The signature first: nothing of the manifest nor the tarball is trusted before.
    const m = verifySignature(t.signature, this.o.key!);
    if (m.version !== t.version || m.file !== t.file) throw new Error(`the signed manifest is for ${m.file} (${m.version}), the server offers ${t.file} (${t.version})`);
    if (m.arch !== process.arch) throw new Error(`${m.file} is for ${m.arch}; this machine is ${process.arch}`);
    if (m.node_abi !== process.versions.modules) throw new Error(`${m.file} is built for Node.js ${m.node_major} (ABI ${m.node_abi}); this agent runs Node.js ${process.versions.node} (ABI ${process.versions.modules})`);
    if (compareVersions(t.version, VERSION) < 0 && !t.rollback && !this.o.allowDowngrade) {
      throw new Error(`${t.version} is older than ${VERSION}: a downgrade is refused unless it is a roll back or the agent runs with --allow-downgrade`);
    }
    const dir = join(l.versions, t.version);
    if (!existsSync(dir)) {
      mkdirSync(l.downloads, { recursive: true, mode: 0o700 });
      const part = join(l.downloads, `${m.file}.part`);
      try {
        const digest = await this.o.client.download(AGENT_RELEASE_API.download + encodeURIComponent(t.file), part, m.size);
        checkDigest(m, digest);
        await unpackRelease(part, dir, { version: m.version, arch: m.arch });
      } finally {
        rmSync(part, { force: true });
      }
    }
    this.set({ ...this.state.status, state: 'testing' });
    const out = await run(process.execPath, [join(dir, 'bin/smokemesh.js'), '--version'], { timeout: 60_000, encoding: 'utf8' })
      .catch((e: Error & { stderr?: string }) => {
        throw new Error(`self-test of ${t.version} failed: ${(e.stderr || e.message).trim().split('\n').slice(-2).join(' ')}`);
      });
    if (out.stdout.trim() !== t.version) throw new Error(`self-test of ${t.version}: it says it is "${out.stdout.trim().slice(0, 40)}"`);
    this.state = { status: { ...base, state: 'trial', previous: VERSION, at: Date.now() }, trial_until: Date.now() + (this.o.trialMs ?? 120_000) };
    this.save();
    switchCurrent(l, t.version);
    this.o.log.info({ version: t.version, previous: VERSION }, `switched to ${t.version}: restarting into it`);
    this.stopped = true;
    this.o.onSwitched(t.version);
  }

  private fail(t: { version: string; rollout: number; attempt: number }, error: string): void {
    this.o.log.error({ version: t.version, rollout: t.rollout, attempt: t.attempt }, `upgrade to ${t.version} refused or failed: ${error}`);
    this.set({ ...this.keep(), state: 'failed', target: t.version, rollout: t.rollout, attempt: t.attempt, error: error.slice(0, 1000), arch: process.arch });
  }

  /** What carries over from one status to the next (the version before the last upgrade). */
  private keep(): Partial<UpgradeStatus> {
    const p = this.state.status.previous;
    return p ? { previous: p } : {};
  }

  private set(s: Omit<UpgradeStatus, 'at'> & { at?: number }): void {
    this.state = { status: { ...s, at: Date.now() } as UpgradeStatus };
    this.save();
  }

  private save(): void {
    if (!this.o.layout) return;
    try {
      writeUpgradeState(this.o.layout, this.state);
    } catch (e) {
      this.o.log.error({ err: e }, 'cannot save the upgrade state');
    }
  }
}
