import { expect } from 'chai';
import { engineConfigFromDef } from '../../runtime/energy/energy-config.js';
import { TwinError } from '../../runtime/model/errors.js';

describe('energy config from the editor fields', function () {
  it("takes the form's strings, with the defaults for blanks", function () {
    const cfg = engineConfigFromDef({
      mode: 'power',
      powerTag: ' power_kw ',
      intervalMin: '15',
      maxGapMs: '',
      shifts: '06:00 early, 14:00 late',
    });
    expect(cfg).to.include({ mode: 'power', energyTag: 'power_kw', intervalMinutes: 15, maxGapMs: 300_000, demandEveryMs: 60_000 });
    expect(cfg.shifts).to.have.length(2);
    expect(cfg.baseline).to.equal(undefined);
  });

  it('refuses what cannot work, naming the field (BAD_CONFIG)', function () {
    const bad = (def: Record<string, unknown>, re: RegExp) => {
      expect(() => engineConfigFromDef(def)).to.throw(TwinError, re);
    };
    bad({ mode: 'counter' }, /counterTag is required in counter mode/);
    bad({ mode: 'watts', powerTag: 'p' }, /mode must be 'power' or 'counter'/);
    bad({ powerTag: 'p', intervalMin: '7' }, /intervalMin must be whole minutes dividing a day/);
    bad({ powerTag: 'p', baselinePeriods: '4', baselineVars: 'units' }, /the baseline compares shifts/);
  });
});
