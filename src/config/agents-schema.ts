import Type, { type Static } from 'typebox';

/**
 * The `agents:` section: the remote agents allowed to connect, each with its own secret.
 * Region and labels here are the defaults; an agent's own --region / --label win.
 */
export const AgentEntrySchema = Type.Object({
  name: Type.String({ pattern: '^[-_.0-9A-Za-z]{1,64}$', description: 'agent name: letters, digits, "-", "_", "." (as given to smokemesh agent --name)' }),
  display_name: Type.Optional(Type.String({ minLength: 1 })),
  location: Type.Optional(Type.String({ minLength: 1, description: 'free text, e.g. "Tokyo, JP"' })),
  color: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: 'graph colour, #rrggbb' })),
  region: Type.Optional(Type.String({ minLength: 1 })),
  labels: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
  secret_file: Type.String({ minLength: 1, description: 'file holding the shared secret (mode 600); the agent gets a copy' }),
  heartbeat: Type.Integer({ minimum: 1, maximum: 3600, default: 10, description: 'seconds between heartbeats; the agent is down after 3 missed ones' }),
}, { additionalProperties: false });

export const AgentsSectionSchema = Type.Array(AgentEntrySchema, { default: [] });

export type AgentEntry = Static<typeof AgentEntrySchema>;
