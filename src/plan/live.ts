import type { Config } from '../config/loader.ts';
import { parseMesh, type MeshConfig } from '../config/mesh-schema.ts';
import type { TargetNode } from '../config/tree.ts';
import { ConfigError } from '../errors.ts';
import { meshTree, type MeshMember } from './mesh.ts';
import type { AgentIdentity } from './plan.ts';

/**
 * Keeps the live target tree in step with the live agents: `config.targets` becomes the
 * config's own tree plus the mesh and static region nodes of the agents alive now, and the
 * planners (built-in agent, agent registry) are told to replan whenever the membership — the
 * live agents, their regions, labels and addresses — changes. Every part of the server that
 * reads `ctx.config().targets` (UI API, plans, alerts) thereby sees the mesh targets.
 */
export class LiveMesh {
  private bases = new WeakMap<Config, TargetNode>();
  private meshes = new WeakMap<Config, MeshConfig>();
  private signature = '';
  private members: MeshMember[] = [];
  private listeners: ((tree: TargetNode, peers: AgentIdentity[]) => void)[] = [];

  /** `members()` lists the agents as they are now, dead ones included (they are filtered here). */
  constructor(private readonly members$: () => (MeshMember & { alive: boolean })[]) {}

  /** The mesh section of a config; throws ConfigError when it is invalid. */
  meshOf(config: Config): MeshConfig {
    let m = this.meshes.get(config);
    if (!m) {
      const { mesh, issues } = parseMesh({ ...config, targets: this.baseOf(config) });
      if (issues.length) throw new ConfigError(issues);
      this.meshes.set(config, (m = mesh));
    }
    return m;
  }

  /** The config's own tree, before any mesh node was added. */
  baseOf(config: Config): TargetNode {
    let b = this.bases.get(config);
    if (!b) this.bases.set(config, (b = config.targets));
    return b;
  }

  /** Called with the new tree and the live peers after every change. */
  onChange(listener: (tree: TargetNode, peers: AgentIdentity[]) => void): void {
    this.listeners.push(listener);
  }

  /** The live agents the last sync saw (the planners' peers). */
  peers(): AgentIdentity[] {
    return this.members.map(({ name, region, labels, builtin }) => ({ name, region, labels, builtin }));
  }

  /**
   * Recomputes the tree when the membership (or the config object) changed; returns whether
   * it did. `force` rebuilds regardless (a new config).
   */
  sync(config: Config, force = false): boolean {
    const live = this.members$().filter((m) => m.alive).map(({ alive: _a, ...m }) => m)
      .sort((a, b) => a.name.localeCompare(b.name));
    const sig = JSON.stringify(live);
    if (!force && sig === this.signature) return false;
    this.signature = sig;
    this.members = live;
    config.targets = meshTree(this.baseOf(config), this.meshOf(config), config, live);
    const peers = this.peers();
    for (const l of this.listeners) l(config.targets, peers);
    return true;
  }
}
