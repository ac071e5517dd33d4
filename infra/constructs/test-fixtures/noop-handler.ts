/** Minimal handler used by construct tests; it is bundled by esbuild when a test asks for bundling. */
export const handler = async (): Promise<{ ok: true }> => ({ ok: true });
