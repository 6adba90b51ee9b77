// Where untyped input enters: the one object guard (runtime/model/errors.ts), the pages' reader of their
// API's JSON answers (web/client/answer.ts) and the gate registry's one handle type, found and listed by kind.
import { expect } from 'chai';
import { isRecord } from '../../runtime/model/errors.js';
import { bodyOf, readAnswer } from '../../web/client/answer.js';
import { alarmedGateHandle } from '../../runtime/control/gate-alarm.js';
import { findGate, listGates, registerGate, unregisterGate } from '../../runtime/control/gate-registry.js';
import type { EnvelopeConfig } from '../../runtime/model/control.js';

describe('untyped input: isRecord', () => {
  it('is a JSON object: not null, not an array, not a primitive', () => {
    expect(isRecord({})).to.equal(true);
    expect(isRecord({ a: 1 })).to.equal(true);
    for (const v of [null, undefined, [], [1], 'x', 1, true]) expect(isRecord(v), JSON.stringify(v)).to.equal(false);
  });
});

describe('untyped input: the pages read their API answers with readAnswer', () => {
  it('a JSON answer is the body; a refusal gives its error text', async () => {
    const ok = await readAnswer<{ n: number }>(new Response('{"n":3}', { status: 200 }));
    expect(ok).to.deep.equal({ status: 200, body: { n: 3 }, error: undefined });
    expect(bodyOf(ok)).to.deep.equal({ n: 3 });
    const refused = await readAnswer(new Response('{"error":"wrong password"}', { status: 401 }));
    expect(refused.status).to.equal(401);
    expect(refused.error).to.equal('wrong password');
  });

  it('an answer that is not JSON (a proxy page) or empty has no body; bodyOf refuses it as a lost connection would', async () => {
    for (const text of ['<html>Bad gateway</html>', '']) {
      const a = await readAnswer(new Response(text, { status: 200 }));
      expect(a.body, text).to.equal(null);
      expect(a.error, text).to.equal(undefined);
      expect(() => bodyOf(a)).to.throw(/HTTP 200.*not JSON/);
    }
  });

  it('takes an error only when it is text', async () => {
    for (const body of ['{"error":5}', '{"error":""}', '["error"]', '"error"']) {
      expect((await readAnswer(new Response(body, { status: 409 }))).error, body).to.equal(undefined);
    }
  });
});

describe('gate registry: one handle type, found and listed by kind', () => {
  const envelope = { asset: 'a', tag: 't' } as EnvelopeConfig;
  const alarm = { reason: 'ledger missing', remedy: 'restore it' };
  afterEach(() => ['sp', 'mt'].forEach(unregisterGate));

  it('findGate without a kind finds either; with one, only a gate of that kind; listGates likewise', async () => {
    registerGate(
      alarmedGateHandle(
        {
          kind: 'setpoint',
          id: 'sp',
          name: '',
          asset: 'a',
          ledgerLocation: '',
          tag: 't',
          envelope,
          envelopeVersion: 'v',
          twoPersonAboveStep: 1,
        },
        alarm,
      ),
    );
    registerGate(
      alarmedGateHandle({ kind: 'maintenance', id: 'mt', name: '', asset: 'a', ledgerLocation: '', twoPersonAboveEur: 5 }, alarm),
    );
    expect(findGate('sp')?.kind).to.equal('setpoint');
    expect(findGate('mt')?.kind).to.equal('maintenance');
    expect(findGate('sp', 'setpoint')?.tag).to.equal('t');
    expect(findGate('sp', 'maintenance')).to.equal(undefined);
    expect(findGate('mt', 'setpoint')).to.equal(undefined);
    expect(findGate('mt', 'maintenance')?.twoPersonAboveEur).to.equal(5);
    expect(listGates().map((g) => g.id)).to.include.members(['sp', 'mt']);
    expect(listGates('setpoint').map((g) => g.id))
      .to.include('sp')
      .and.not.include('mt');
    expect(listGates('maintenance').map((g) => g.id))
      .to.include('mt')
      .and.not.include('sp');
    // an alarmed gate of either kind lists nothing and refuses, naming why
    for (const g of listGates()) {
      expect(g.views()).to.deep.equal([]);
      expect(await g.decide({ proposalId: 'p', verdict: 'approve', user: 'u', printedName: 'U', reason: 'r' })).to.deep.equal({
        ok: false,
        error: 'the gate refuses to act: ledger missing',
      });
    }
    expect((await findGate('sp', 'setpoint')!.setAutoApproval(true, 'u')).ok).to.equal(false);
  });
});
