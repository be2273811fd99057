import {
  deterministicMessageId,
  isTimeOrderedId,
  timeOfId,
  timeOrderedId,
  timeOrderedIdFloor,
} from '../../../lambdas/core/outbound/outbound-ids';

const T = Date.UTC(2026, 11, 2, 14, 47, 22, 123);

describe('timeOrderedId', () => {
  it('encodes the time in 10 and the random bytes in 16 Crockford base32 characters', () => {
    const zeros = timeOrderedId('msg', 0, Buffer.alloc(10));
    expect(zeros).toBe('msg_' + '0'.repeat(26));
    // The ulid package's README example: time 1469918176385 encodes as 01ARYZ6S41.
    const id = timeOrderedId('ep', 1469918176385, Buffer.alloc(10, 0xff));
    expect(id).toBe('ep_01ARYZ6S41' + 'Z'.repeat(16));
  });

  it('packs the random bytes most significant bit first', () => {
    // 0x08 0x42 = 00001 00001 00001 0…: three 1s in a row, then zeros.
    const random = Buffer.from([0x08, 0x42, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(timeOrderedId('atm', 0, random).slice(-16)).toBe('111' + '0'.repeat(13));
  });

  it('sorts by time as a string', () => {
    const times = [0, 1, 31, 32, 1023, 1024, 2 ** 40, T - 1, T, T + 1, 2 ** 48 - 1];
    const ids = times.map((ms) => timeOrderedId('msg', ms, Buffer.alloc(10, 0xff - (ms % 200))));
    expect([...ids].sort()).toEqual(ids);
  });

  it('gives a different id each call (random part) and 26 characters after the prefix', () => {
    const first = timeOrderedId('aud', T);
    const second = timeOrderedId('aud', T);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^aud_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('refuses a time it cannot encode and a random part of the wrong size', () => {
    expect(() => timeOrderedId('msg', -1)).toThrow(RangeError);
    expect(() => timeOrderedId('msg', 2 ** 48)).toThrow(RangeError);
    expect(() => timeOrderedId('msg', 1.5)).toThrow(RangeError);
    expect(() => timeOrderedId('msg', T, Buffer.alloc(9))).toThrow(RangeError);
  });
});

describe('timeOrderedIdFloor', () => {
  it('is at most every id of that millisecond and above every id of the one before', () => {
    const floor = timeOrderedIdFloor('msg', T);
    expect(floor).toBe(timeOrderedId('msg', T, Buffer.alloc(10)));
    expect(timeOrderedId('msg', T, Buffer.alloc(10, 1)) > floor).toBe(true);
    expect(timeOrderedId('msg', T - 1, Buffer.alloc(10, 0xff)) < floor).toBe(true);
  });
});

describe('timeOfId', () => {
  it('reads back the time of every prefix', () => {
    for (const prefix of ['msg', 'ep', 'atm', 'aud'] as const) {
      expect(timeOfId(timeOrderedId(prefix, T))).toBe(T);
    }
    expect(timeOfId(timeOrderedId('msg', 2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });

  it.each([
    ['an unknown prefix', 'evt_' + '0'.repeat(26)],
    ['no prefix', '0'.repeat(26)],
    ['a short body', 'msg_' + '0'.repeat(25)],
    ['a long body', 'msg_' + '0'.repeat(27)],
    ['a letter outside the alphabet', 'msg_' + '0'.repeat(25) + 'U'],
    ['lower case', 'msg_01arz3ndektsv4rrffq69g5fav'],
    ['a time past 48 bits', 'msg_8' + '0'.repeat(25)],
  ])('is undefined for %s', (_case, id) => {
    expect(timeOfId(id)).toBeUndefined();
  });
});

describe('deterministicMessageId', () => {
  it('is the same for the same event and time, so a retried republish writes the same message', () => {
    expect(deterministicMessageId('evt-1', T)).toBe(deterministicMessageId('evt-1', T));
  });

  it('differs by event id and carries the receive time', () => {
    const id = deterministicMessageId('evt-1', T);
    expect(deterministicMessageId('evt-2', T)).not.toBe(id);
    expect(id.slice(0, 14)).toBe(deterministicMessageId('evt-2', T).slice(0, 14));
    expect(timeOfId(id)).toBe(T);
    expect(isTimeOrderedId('msg', id)).toBe(true);
  });

  it('takes its last 16 characters from sha256 of the event id', () => {
    // sha256('') starts e3 b0 c4 42 98 fc 1c 14 9a fb.
    const expected = timeOrderedId('msg', T, Buffer.from('e3b0c44298fc1c149afb', 'hex'));
    expect(deterministicMessageId('', T)).toBe(expected);
  });
});

describe('isTimeOrderedId', () => {
  it('accepts an id of the prefix and refuses other prefixes and shapes', () => {
    const id = timeOrderedId('ep', T);
    expect(isTimeOrderedId('ep', id)).toBe(true);
    expect(isTimeOrderedId('msg', id)).toBe(false);
    expect(isTimeOrderedId('ep', id + '0')).toBe(false);
    const withLetters = timeOrderedId('ep', T, Buffer.alloc(10, 0xff));
    expect(isTimeOrderedId('ep', withLetters)).toBe(true);
    expect(isTimeOrderedId('ep', withLetters.toLowerCase())).toBe(false);
    expect(isTimeOrderedId('ep', 'ep_../../etc/passwd')).toBe(false);
    expect(isTimeOrderedId('ep', '')).toBe(false);
  });
});
