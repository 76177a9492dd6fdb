/**
 * A kernel release as `uname -r` prints it (6.18.0-luo2, 6.8.0-45-generic, 5.15.0~rc1): the one
 * grammar for a rollout's targetKernel, checked where the planner accepts it and again where an
 * agent receives it. Hooks may build paths from it (/boot/vmlinuz-<release>), so it is held to the
 * characters such names really use: a letter or digit first (never `-` or `.`, which would read as
 * an option or a relative path), then letters, digits and . _ + ~ -, at most 128 in all.
 */
export const KERNEL_RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/;

export const KERNEL_RELEASE_RULE = 'a kernel release such as 6.18.0-luo2: 1-128 of A-Z a-z 0-9 . _ + ~ -, starting with a letter or digit';

export function isKernelRelease(text: string): boolean {
  return KERNEL_RELEASE.test(text);
}
