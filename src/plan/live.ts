import type { Config } from '../config/loader.ts';
import { parseMesh, type MeshConfig } from '../config/mesh-schema.ts';
import type { TargetNode } from '../config/tree.ts';
import { ConfigError } from '../errors.ts';
import type { AgentInfo } from './agent-info.ts';
import { meshTree, type MeshMember } from './mesh.ts';
import type { AgentIdentity } from './plan.ts';

/**
 * The live target tree: the config's own tree plus the mesh and static region nodes of the
 * agents alive now. A derived view: the loaded config is never changed. `tree(config)` is
 * always consistent with the config it is asked about (computed on first use for a new
 * config); `sync()` notices membership changes — the live agents, their regions, labels and
 * addresses — and tells the planners (built-in agent, agent registry, alert engine) to
 * re-read the tree.
 */
export class LiveMesh {
  private meshes = new WeakMap<Config, MeshConfig>();
  private signature = '';
  private members: MeshMember[] = [];
  private current: { config: Config; tree: TargetNode } | undefined;
  private listeners: ((tree: TargetNode, peers: AgentIdentity[]) => void)[] = [];

  /** `agents()` lists the agents as they are now, dead ones included (they are filtered here). */
  constructor(private readonly agents: () => AgentInfo[]) {}

  /** The mesh section of a config; throws ConfigError when it is invalid. */
  meshOf(config: Config): MeshConfig {
    let m = this.meshes.get(config);
    if (!m) {
      const { mesh, issues } = parseMesh(config);
      if (issues.length) throw new ConfigError(issues);
      this.meshes.set(config, (m = mesh));
    }
    return m;
  }

  /** The live tree of this config: its own targets plus the mesh nodes of the live agents. */
  tree(config: Config): TargetNode {
    if (this.current?.config !== config) {
      this.members = liveMembers(this.agents());
      this.signature = JSON.stringify(this.members);
      this.current = { config, tree: meshTree(config.targets, this.meshOf(config), config, this.members) };
    }
    return this.current.tree;
  }

  /** Called with the new tree and the live peers whenever the membership changes. */
  onChange(listener: (tree: TargetNode, peers: AgentIdentity[]) => void): void {
    this.listeners.push(listener);
  }

  /** The live agents the last sync saw (the planners' peers). */
  peers(): AgentIdentity[] {
    return this.members.map(({ name, region, labels, builtin }) => ({ name, region, labels, builtin }));
  }

  /** Recomputes the tree when the live membership changed; returns whether it did. */
  sync(config: Config): boolean {
    const live = liveMembers(this.agents());
    const sig = JSON.stringify(live);
    if (sig === this.signature && this.current?.config === config) return false;
    this.signature = sig;
    this.members = live;
    const tree = meshTree(config.targets, this.meshOf(config), config, live);
    this.current = { config, tree };
    const peers = this.peers();
    for (const l of this.listeners) l(tree, peers);
    return true;
  }
}

/** The live agents as mesh members, in name order (a stable signature). */
function liveMembers(agents: AgentInfo[]): MeshMember[] {
  return agents.filter((a) => a.alive).map((a) => {
    const m: MeshMember = { name: a.name, region: a.region, labels: a.labels, builtin: a.builtin };
    if (a.intranet_address) m.intranet = a.intranet_address;
    if (a.public_address) m.public = a.public_address;
    return m;
  }).sort((a, b) => a.name.localeCompare(b.name));
}
