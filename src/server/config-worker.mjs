// Entry of the thread that validates a config on reload: the TypeScript sources need tsx's
// loader here too (a worker does not inherit hooks registered with register()).
import { register } from 'tsx/esm/api';

register();
await import('./config-worker.ts');
