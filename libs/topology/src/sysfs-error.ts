/** A sysfs tree that cannot be read as a PCI topology: which file (relative to the tree root) and why. */
export class SysfsError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file || '.'}: ${problem}`);
    this.name = 'SysfsError';
  }
}

/** Turns a Node fs error into the problem sentence a SysfsError carries. */
export function fsProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'missing';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'not a directory (or a path through a file)';
    case 'EISDIR':
      return 'is a directory, expected a file';
    case 'ELOOP':
      return 'symbolic link loop';
    case 'EINVAL':
      return 'not a symbolic link';
    default:
      return code ? `cannot read (${code})` : `cannot read (${String((err as Error)?.message ?? err)})`;
  }
}
