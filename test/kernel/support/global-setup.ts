import { luoKernel, type LuoKernel } from './luo-kernel';

declare module 'vitest' {
  export interface ProvidedContext {
    luoKernel: LuoKernel;
  }
}

/** Builds the LUO test kernel once (or finds it cached) and hands its path to every test file. */
export default function setup({ provide }: { provide: <K extends 'luoKernel'>(key: K, value: LuoKernel) => void }): void {
  const kernel = luoKernel();
  process.stderr.write(`test:kernel: kernel ${kernel.release} at ${kernel.bzImage}\n`);
  provide('luoKernel', kernel);
}
