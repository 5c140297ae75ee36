import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callNames, calls, eventNames } from '../../../main/api/contract';
import { dispatch } from '../../../main/api/dispatcher';
import { handlers } from '../../../main/api/handlers';
import { testApp } from '../../helpers/app';
import type { AppContext } from '../../../main/app/context';

let app: AppContext;
let dispose: () => Promise<void>;

beforeAll(() => {
  ({ app, dispose } = testApp());
});
afterAll(async () => dispose());

describe('the contract', () => {
  it('declares calls and events, each call with a handler', () => {
    expect(callNames.length).toBeGreaterThan(5);
    expect(eventNames).toEqual(expect.arrayContaining(['job.progress', 'job.state', 'log.line']));
    for (const name of callNames) expect(typeof handlers[name], name).toBe('function');
    expect(Object.keys(handlers).sort()).toEqual([...callNames].sort());
  });

  it('takes a strict object as every input, so unknown fields are refused', () => {
    for (const name of callNames) {
      const schema = calls[name].input;
      const base = schema instanceof z.ZodEffects ? schema.innerType() : schema;
      expect(base, name).toBeInstanceOf(z.ZodObject);
      expect((base as z.AnyZodObject)._def.unknownKeys, name).toBe('strict');
    }
  });
});

describe('dispatch validates every call', () => {
  const invalidPayloads: [string, unknown][] = [
    ['a number', 42],
    ['a string', 'jobs'],
    ['an array', [1, 2]],
    ['an unknown field', { __proto_pollution__: { admin: true } }],
    ['null prototype trick', JSON.parse('{"__proto__": {"polluted": 1}, "zzz_unknown": 1}')],
  ];

  for (const name of callNames) {
    it(`refuses invalid payloads for ${name} and keeps serving`, async () => {
      for (const [label, payload] of invalidPayloads) {
        const outcome = await dispatch(app, name, payload);
        expect(outcome.ok, `${name} with ${label}`).toBe(false);
        if (!outcome.ok) {
          expect(outcome.error.code, `${name} with ${label}`).toBe('VALIDATION');
          expect(JSON.stringify(outcome.error)).not.toMatch(/\n\s+at /); // no stack trace
        }
      }
      const ping = await dispatch(app, 'app.ping', { echo: name });
      expect(ping).toEqual({ ok: true, result: { pong: true, echo: name } });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  it('refuses unknown and non-string call names', async () => {
    for (const name of ['nope', '__proto__', 'constructor', 'toString', 7, null]) {
      const outcome = await dispatch(app, name, {});
      expect(outcome).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CALL' } });
    }
  });

  it('returns typed NOT_FOUND errors from services', async () => {
    const outcome = await dispatch(app, 'jobs.get', { id: 'job_doesnotexist1' });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('hides stack traces and absolute paths from unexpected failures', async () => {
    const failing = { ...handlers, 'app.ping': () => {
      throw new Error(`ENOENT: no such file, open '/home/someone/secret/catalog.sqlite'`);
    } };
    const outcome = await dispatch(app, 'app.ping', {}, failing as typeof handlers);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('INTERNAL');
      expect(outcome.error.message).not.toContain('/home/someone');
      expect(outcome.error.message).toContain('<path>');
    }
  });
});
