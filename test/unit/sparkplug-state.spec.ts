/** Sparkplug B 3.0 primary host STATE: topic, payload, and what is read back as one. */
import { expect } from 'chai';
import { parseState, statePayload, stateTopic } from '../../runtime/ingest/sparkplug-state.js';

describe('Sparkplug B primary host STATE', () => {
  it('topic spBv1.0/STATE/<host id>; a host id is one topic level', () => {
    expect(stateTopic('twinloop-acme_2fp1_2fl1')).to.equal('spBv1.0/STATE/twinloop-acme_2fp1_2fl1');
    for (const bad of ['', 'a/b', 'a+', '#']) expect(() => stateTopic(bad), bad).to.throw(/one topic level/);
  });

  it('payload: JSON online and timestamp, read back as written; anything else is not a STATE', () => {
    expect(statePayload(true, 1767225600000)).to.equal('{"online":true,"timestamp":1767225600000}');
    expect(parseState(Buffer.from(statePayload(false, 5)))).to.deep.equal({ online: false, timestamp: 5 });
    for (const bad of ['ONLINE', 'OFFLINE', '{"online":"yes","timestamp":1}', '{"online":true}', ''])
      expect(parseState(bad), bad).to.equal(undefined);
  });
});
