import { walk, type TargetNode } from '../config/tree.ts';

/** Lookups over one target tree: the region label, the host and the labels of each probed target. */
export interface TargetIndex {
  tree: TargetNode;
  region: Map<string, string>;
  host: Map<string, string>;
  labels: Map<string, Record<string, string>>;
}

const cache = new WeakMap<TargetNode, TargetIndex>();

/** The index of a tree, built once per tree object (the live tree is replaced, never edited). */
export function targetIndex(tree: TargetNode): TargetIndex {
  let ix = cache.get(tree);
  if (!ix) {
    ix = { tree, region: new Map(), host: new Map(), labels: new Map() };
    for (const n of walk(tree)) {
      if (!n.probe) continue;
      if (n.labels.region) ix.region.set(n.path, n.labels.region);
      ix.host.set(n.path, n.probe.host);
      ix.labels.set(n.path, n.labels);
    }
    cache.set(tree, ix);
  }
  return ix;
}
