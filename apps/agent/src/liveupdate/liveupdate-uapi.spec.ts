import { describe, expect, it } from 'vitest';
import { fdOut, fdWithToken, LIVEUPDATE_IOCTL, sessionByName, sessionFinish } from './liveupdate-uapi';

describe('the LUO uAPI encoding (include/uapi/linux/liveupdate.h)', () => {
  it('has the header\'s ioctl numbers: _IO(0xBA, nr)', () => {
    expect(LIVEUPDATE_IOCTL).toEqual({
      CREATE_SESSION: 0xba00,
      RETRIEVE_SESSION: 0xba01,
      SESSION_PRESERVE_FD: 0xba40,
      SESSION_RETRIEVE_FD: 0xba41,
      SESSION_FINISH: 0xba42,
      SESSION_GET_NAME: 0xba43,
    });
  });

  it('lays out each argument with its size first', () => {
    const session = sessionByName('luo-fleet/vm-a');
    expect(session.length).toBe(72);
    expect(session.readUInt32LE(0)).toBe(72);
    expect(session.toString('utf8', 8, 8 + 14)).toBe('luo-fleet/vm-a');
    expect(session[8 + 14]).toBe(0);
    session.writeInt32LE(9, 4);
    expect(fdOut(session)).toBe(9);

    const preserve = fdWithToken(7, 2n ** 64n - 1n);
    expect(preserve.length).toBe(16);
    expect([preserve.readUInt32LE(0), preserve.readInt32LE(4), preserve.readBigUInt64LE(8)]).toEqual([16, 7, 2n ** 64n - 1n]);
    expect([...sessionFinish()]).toEqual([8, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses a session name the kernel could not hold (63 bytes and a NUL at most)', () => {
    expect(() => sessionByName('x'.repeat(63))).not.toThrow();
    expect(() => sessionByName('x'.repeat(64))).toThrow(RangeError);
    expect(() => sessionByName('')).toThrow(RangeError);
  });
});
