import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildConfigSpace, ConfigSpaceError, type ConfigSpaceFields, type ExpressPortType, parseConfigSpace, PCIE_TYPE_CODE } from './config-space';

const fieldsArb: fc.Arbitrary<ConfigSpaceFields> = fc.record({
  vendor: fc.integer({ min: 0, max: 0xffff }),
  device: fc.integer({ min: 0, max: 0xffff }),
  classCode: fc.integer({ min: 0, max: 0xffffff }),
  bridge: fc.boolean(),
  multifunction: fc.boolean(),
  pcieType: fc.option(fc.constantFrom(...(Object.keys(PCIE_TYPE_CODE) as ExpressPortType[]))),
  acs: fc.option(fc.record({ capability: fc.integer({ min: 0, max: 0xffff }), control: fc.integer({ min: 0, max: 0xffff }) })),
  sriov: fc.option(fc.record({ totalVfs: fc.integer({ min: 0, max: 0xffff }) })),
  size: fc.constantFrom(64 as const, 256 as const, 4096 as const),
});

describe('config space', () => {
  it('reads back what was built, as far as the file size allows', () => {
    fc.assert(
      fc.property(fieldsArb, (f) => {
        const bytes = buildConfigSpace(f);
        expect(bytes.length).toBe(f.size);
        expect(bytes.readUInt16LE(0)).toBe(f.vendor);
        expect(bytes.readUInt16LE(2)).toBe(f.device);
        const facts = parseConfigSpace(bytes);
        expect(facts.multifunction).toBe(!!f.multifunction);
        // The capability list starts at 0x40: a 64-byte file ends before it.
        expect(facts.pcieType).toBe(f.size === 64 ? 'unknown' : (f.pcieType ?? 'conventional'));
        if (f.size < 4096) {
          expect(facts.acs).toEqual({ state: 'unknown' });
          expect(facts.sriov).toEqual({ state: 'unknown' });
        } else {
          // Conventional PCI has no extended space, so nothing is written there.
          const acs = f.pcieType && f.acs ? { state: 'present', ...f.acs } : { state: 'absent' };
          expect(facts.acs).toEqual(acs);
          expect(facts.sriov).toEqual(f.pcieType && f.sriov ? { state: 'present', totalVfs: f.sriov.totalVfs } : { state: 'absent' });
        }
      }),
    );
  });

  it('never throws on arbitrary bytes of header size or more, even with looping lists', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 4096 }), (raw) => {
        const facts = parseConfigSpace(Buffer.from(raw));
        expect(['present', 'absent', 'unknown']).toContain(facts.acs.state);
      }),
    );
  });

  it('stops on a capability list that points at itself', () => {
    const bytes = buildConfigSpace({ vendor: 1, device: 2, classCode: 0x020000, pcieType: null, size: 256 });
    bytes[0x41] = 0x40; // PM capability's next pointer back to itself
    expect(parseConfigSpace(bytes).pcieType).toBe('conventional');
    const ext = buildConfigSpace({ vendor: 1, device: 2, classCode: 0x020000, pcieType: 'endpoint', size: 4096 });
    ext.writeUInt32LE((0x100 << 20) | 0x0001, 0x100); // AER pointing at itself, no ACS behind it
    expect(parseConfigSpace(ext).acs).toEqual({ state: 'absent' });
  });

  it('finds ACS after other extended capabilities and reads its words', () => {
    const bytes = buildConfigSpace({ vendor: 0x8086, device: 0x347a, classCode: 0x060400, pcieType: 'root_port', acs: { capability: 0x7f, control: 0x1d }, size: 4096 });
    expect(parseConfigSpace(bytes)).toMatchObject({ pcieType: 'root_port', acs: { state: 'present', capability: 0x7f, control: 0x1d } });
  });

  it('has no PCIe type when the status register says there is no capability list', () => {
    const bytes = buildConfigSpace({ vendor: 1, device: 2, classCode: 0x070002, pcieType: 'endpoint', size: 4096 });
    bytes.writeUInt16LE(0, 0x06);
    expect(parseConfigSpace(bytes).pcieType).toBe('conventional');
  });

  it('rejects less than the 64-byte header', () => {
    expect(() => parseConfigSpace(Buffer.alloc(63))).toThrow(ConfigSpaceError);
  });
});
