import { z } from 'zod';

/** The `backend:` section of a run config: where the tensors live (src/backend/index.ts picks and starts it). */
export const backendConfigSchema = z
  .strictObject({
    name: z.enum(['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow', 'tensorflow-gpu']).default('auto'),
    /** wasm only: threads for the convolutions (1 = default; 2 uses both cores, src/backend/wasm/threads/). */
    threads: z.number().int().min(1).max(64).default(1),
  })
  .prefault({});

export type BackendConfig = z.infer<typeof backendConfigSchema>;
