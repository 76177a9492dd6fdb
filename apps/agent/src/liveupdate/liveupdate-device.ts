import { closeSync, openSync } from 'node:fs';
import { fdOut, fdWithToken, LIVEUPDATE_IOCTL, sessionByName, sessionFinish } from './liveupdate-uapi';
import { ioctl } from './system-calls';

/**
 * /dev/liveupdate, which only one process may hold open (a second open gets EBUSY). The agent
 * opens it when a step needs it and keeps it: sessions live on in their own fds either way.
 */
export class LiveUpdateDevice {
  private fd: number | undefined;

  constructor(private readonly path: string) {}

  private open(): number {
    this.fd ??= openSync(this.path, 'r+');
    return this.fd;
  }

  /** A new outgoing session (old kernel); closing its fd unpreserves everything in it. */
  createSession(name: string): LiveUpdateSession {
    const arg = sessionByName(name);
    ioctl(`LIVEUPDATE_IOCTL_CREATE_SESSION(${name})`, this.open(), LIVEUPDATE_IOCTL.CREATE_SESSION, arg);
    return new LiveUpdateSession(name, fdOut(arg));
  }

  /** A session the previous kernel preserved (new kernel); each can be retrieved once (ENOENT otherwise). */
  retrieveSession(name: string): LiveUpdateSession {
    const arg = sessionByName(name);
    ioctl(`LIVEUPDATE_IOCTL_RETRIEVE_SESSION(${name})`, this.open(), LIVEUPDATE_IOCTL.RETRIEVE_SESSION, arg);
    return new LiveUpdateSession(name, fdOut(arg));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export class LiveUpdateSession {
  private open = true;

  constructor(
    readonly name: string,
    readonly fd: number,
  ) {}

  /** The kernel takes its own reference: the caller may close `fd` afterwards. */
  preserveFd(fd: number, token: bigint): void {
    ioctl(`LIVEUPDATE_SESSION_PRESERVE_FD(${this.name}, token ${token})`, this.fd, LIVEUPDATE_IOCTL.SESSION_PRESERVE_FD, fdWithToken(fd, token));
  }

  /** A new fd for what was preserved under `token`; fails the same way every time once it failed. */
  retrieveFd(token: bigint): number {
    const arg = fdWithToken(-1, token);
    ioctl(`LIVEUPDATE_SESSION_RETRIEVE_FD(${this.name}, token ${token})`, this.fd, LIVEUPDATE_IOCTL.SESSION_RETRIEVE_FD, arg);
    return fdOut(arg);
  }

  /** Hands the preserved objects over for good; may be tried again if it fails. */
  finish(): void {
    ioctl(`LIVEUPDATE_SESSION_FINISH(${this.name})`, this.fd, LIVEUPDATE_IOCTL.SESSION_FINISH, sessionFinish());
  }

  /** An outgoing session unpreserves its files; a retrieved one is finished. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}
