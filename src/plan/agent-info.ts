import Type, { type Static } from 'typebox';
import { UpgradeStatusSchema } from '../release/protocol.ts';

/**
 * An agent as the server knows it (the built-in one included): the shape of GET
 * /api/v1/agents and what the planners, the mesh and the alert engine read.
 */
export const AgentInfoSchema = Type.Object({
  name: Type.String(),
  display_name: Type.Optional(Type.String()),
  region: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  color: Type.Optional(Type.String()),
  location: Type.Optional(Type.String()),
  addresses: Type.Array(Type.String()),
  intranet_address: Type.Optional(Type.String({ description: 'the address `address: intranet` meshes probe' })),
  public_address: Type.Optional(Type.String({ description: 'the address `address: public` meshes probe' })),
  version: Type.Optional(Type.String()),
  upgrade: Type.Optional(UpgradeStatusSchema),
  last_seen: Type.Optional(Type.Number({ description: 'ms since the epoch; absent until it was heard from' })),
  alive: Type.Boolean(),
  builtin: Type.Boolean(),
  server: Type.Optional(Type.String({ description: 'in a cluster: the server (cluster.server_id) that heard from it last, the one it talks to' })),
});
export type AgentInfo = Static<typeof AgentInfoSchema>;
