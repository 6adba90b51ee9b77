#!/usr/bin/env python3
"""Writes examples/demo/demo-line.json: the demo flow `twinloop start` deploys (and an Import-menu example).
Kept as a script so the many OPC UA items stay consistent with the simulator's tag table."""
import json, os

ASSET = 'demo/plant1/extrusion/line1/extruder'
TAGS = [  # tag, unit
    ('zone1_temp', 'degC'), ('zone2_temp', 'degC'), ('zone3_temp', 'degC'),
    ('melt_pressure', 'bar'), ('melt_temp', 'degC'), ('screw_speed', 'rpm'),
    ('motor_power', 'kW'), ('vibration', 'mm/s'), ('throughput', 'kg/h'), ('quality_index', '%'),
    ('zone1_sp', 'degC'), ('zone2_sp', 'degC'), ('zone3_sp', 'degC'),
    ('mode', ''), ('alarm', ''),  # the envelopes' interlocks: read from the plant connection the writers write through
]
# the tags twin-estimate models, each driven by its setpoint (a known input)
MODELLED = [('zone1_temp', 'zone1_sp'), ('zone2_temp', 'zone2_sp'), ('zone3_temp', 'zone3_sp')]
TAB = 'demo-tab'
def node(id, type, x, y, wires=None, **kw):
    n = {'id': id, 'type': type, 'z': TAB, 'x': x, 'y': y, **kw}
    if wires is not None: n['wires'] = wires
    return n

screen_overrides = [
    {'match': 'zone*_temp', 'lowLimit': 100, 'highLimit': 300, 'maxRatePerS': 5, 'stuckSamples': 30, 'spikeWindow': 11, 'staleAfterMs': 15000},
    {'match': 'melt_temp', 'lowLimit': 100, 'highLimit': 320, 'maxRatePerS': 5, 'spikeWindow': 11, 'staleAfterMs': 15000},
    {'match': 'melt_pressure', 'lowLimit': 0, 'highLimit': 400, 'spikeWindow': 11, 'staleAfterMs': 15000},
    {'match': 'vibration', 'lowLimit': 0, 'highLimit': 50, 'spikeWindow': 11, 'staleAfterMs': 15000},
]
# Spikes: Hampel k = 6 and at least 3 units. Measured on the headless simulator (seeds 1, 2, 7, 30 min
# each, clean): k = 3 / 0.5 flags 324 ordinary readings (235 on melt_pressure); k = 6 / 3 flags 2, and
# still catches every injected 15 degC spike on melt_temp.
def screen(id, name, x, y, wires):
    return node(id, 'twin-screen', x, y, wires, name=name, lowLimit='', highLimit='', maxRatePerS='',
                stuckTolerance=0, stuckSamples=0, stuckWindowMs=0, spikeWindow=0, spikeK=6, spikeMinDelta=3,
                staleAfterMs=0, maxFutureMs=5000, sevRange='bad', sevRate='uncertain', sevStuck='uncertain',
                sevSpike='uncertain', sevDuplicate='bad', sevOutOfOrder='bad', sevFuture='bad', sevStale='bad',
                overrides=screen_overrides, flaggedOutput=True, outputs=2)

flow = [
    {'id': TAB, 'type': 'tab', 'label': 'TwinLoop demo line', 'disabled': False,
     'info': 'The extrusion line of the plant simulator, ingested over OPC UA and MQTT (JSON and Sparkplug B) and screened.\n\n'
             'Endpoints come from the environment: `TWINLOOP_OPCUA_ENDPOINT`, `TWINLOOP_MQTT_URL` (set by `twinloop start`). '
             'The broker login: user `TWINLOOP_MQTT_USER` and the owner-only password file `TWINLOOP_MQTT_PASSWORD_FILE` '
             '(a path, no secret; `twinloop start` makes the password in its home).'},
    {'id': 'demo-opcua-endpoint', 'type': 'twin-opcua-endpoint', 'name': 'plant simulator',
     'endpointUrl': '${TWINLOOP_OPCUA_ENDPOINT}', 'securityMode': 'None', 'securityPolicy': 'None',
     'authMode': 'anonymous', 'acceptUnknownCertificates': False},
    {'id': 'demo-broker', 'type': 'twin-mqtt-broker', 'name': 'site broker', 'url': '${TWINLOOP_MQTT_URL}',
     'clientId': 'twinloop-demo', 'protocolVersion': 4,  # the embedded broker (aedes) speaks MQTT 3.1.1
     'cleanSession': False, 'sessionExpiryS': 3600, 'keepaliveS': 60,
     'reconnectPeriodMs': 1000, 'maxReconnectPeriodMs': 30000, 'tlsCaFile': '', 'tlsCertFile': '', 'tlsKeyFile': '',
     'rejectUnauthorized': True, 'outboxMaxEntries': 100000, 'inflightWindow': 10,
     # the embedded broker's login: a user name and the path of an owner-only password file, no secret
     'username': '${TWINLOOP_MQTT_USER}', 'passwordFile': '${TWINLOOP_MQTT_PASSWORD_FILE}'},

    node('demo-comment', 'comment', 330, 40, name='Ingest the extrusion line three ways, screen it, publish the screened readings',
         info='**OPC UA** (top): `twin-opcua-in` subscribes to ten tags of the simulator at 1 s through the shared session of '
              'the `plant simulator` endpoint. Its readings are screened (range, rate, stuck, spikes, stale, timestamps) by '
              '`twin-screen`, and published back to the unified namespace by `twin-mqtt-out` under '
              '`<asset>/twin/reading/<tag>`. Readings the screen flags also go to the debug sidebar.\n\n'
              '**MQTT JSON** (middle): `twin-mqtt-in` maps `demo/plant1/extrusion/line1/extruder/<tag>` to asset and tag.\n\n'
              '**Sparkplug B** (bottom): the same tags from the simulator\'s edge node, with birth/death and rebirth handling.\n\n'
              'Inject a sensor fault to watch the screen react: write `spike zone1_temp` or `stuck zone2_temp` to the '
              'simulator\'s OPC UA variable `ns=1;s=sim.fault_command`, or type it into `twinloop sim`.'),

    node('demo-opcua-in', 'twin-opcua-in', 170, 120, [['demo-screen-opcua']], name='extruder (OPC UA)',
         endpoint='demo-opcua-endpoint',
         items=[{'nodeId': f'ns=1;s=extruder.{t}', 'asset': ASSET, 'tag': t, **({'unit': u} if u else {})} for t, u in TAGS],
         # every sample, also of a value that holds (mode, alarm): the envelopes need fresh readings
         samplingIntervalMs=1000, deadband=0, reportTimestamps=True, queueSize=10, maxFutureMs=5000, defaultAsset=''),
    screen('demo-screen-opcua', 'screen (OPC UA)', 420, 120, [['demo-mqtt-out', 'demo-estimate', 'demo-drift', 'demo-alarm-route',
                                                             'demo-link-out-overview', 'demo-link-out-plant'], ['demo-debug-flagged']]),
    # the approval gates take their readings from here: the connection their writers write through
    node('demo-link-out-plant', 'link out', 575, 180, None, name='plant readings (OPC UA)', mode='link', links=['demo-link-in-plant']),
    node('demo-mqtt-out', 'twin-mqtt-out', 680, 100, [], name='publish screened', broker='demo-broker',
         topicMode='uns', prefix='', kind='', topic='', qos=1, retain=False),
    node('demo-debug-flagged', 'debug', 690, 160, None, name='flagged readings', active=True, tosidebar=True,
         console=False, tostatus=False, complete='payload', targetType='msg', statusVal='', statusType='auto'),

    node('demo-comment-analytics', 'comment', 950, 40, name='Estimate the zone temperatures, detect drift and tell sensor faults from process changes',
         info='`twin-estimate` runs a first-order Kalman filter per heater zone, driven by its setpoint (the '
              'simulator\'s zones lag their setpoints with time constants of 100–150 s). Estimates carry their '
              'variance and turn uncertain when the model stops fitting (NIS).\n\n'
              '`twin-drift` watches the screened readings with ADWIN and classifies each change against the related '
              'tags: `drift zone2_temp 20` injected into the simulator comes out as a **sensor-fault** (drift) on '
              'zone2_temp, a feed starvation (`disturb feed_starve 0.3`) as a **process-change** on throughput, melt '
              'pressure and motor power. Drift events are published under `<asset>/twin/drift/<tag>`, estimates under '
              '`<asset>/twin/estimate/<tag>`.\n\n'
              '`twin-alarm` (its defaults) scores the zone temperatures on the residual of the estimate\'s one-step '
              'prediction (the setpoints are known inputs: a setpoint step the model predicts raises nothing) and, through '
              '`tags without a model`, every other process tag against its own history; it manages alarms as ISA-18.2 '
              'asks: one alarm per episode, on/off delays, chattering, priorities. Its alarms are on the overview page '
              '(`/twinloop/overview`, Alarms), where a user with `twinloop.ack` acknowledges and one with `twinloop.shelve` '
              'also shelves them (the demo\'s `operator` and `supervisor` logins); every action is recorded in the plant '
              'ledger under the user\'s login. The demo runs without alarms (also through approved setpoint steps); a stuck '
              'thermocouple (`stuck zone3_temp` into the simulator) raises one, a sensor fault of type stuck. A slow sensor drift '
              'of a tag with no model is learned as the new normal here: finding it is `drift (extruder)`\'s job.'),
    # the thermocouples' noise (σ 0.15 °C) as the measurement variance, a level random walk of that size per 1000 s:
    # the model, not the last readings, carries the level, so its one-step prediction is what twin-alarm scores against
    node('demo-estimate', 'twin-estimate', 700, 220, [['demo-mqtt-out-analytics', 'demo-link-out-overview', 'demo-alarm']],
         name='zone temperatures',
         model='first-order', measurementVar=0.0225, levelVarPerS=2.25e-5, slopeVarPerS3=0.0001, initialSlopeVarPerS2=1,
         pairs=', '.join(f'{t}={sp}' for t, sp in MODELLED), gain=1, tauS=120,
         physics='first-order', hybridWindow=200, hybridRefitEvery=20, hybridMinSamples=30, rangeMarginFrac=0.1,
         sensors='', fusedTag='', adaptive='R', adaptWindow=50, nisWindow=20, maxGapMs=300000, uncertainVarFactor=10),
    node('demo-drift', 'twin-drift', 700, 280, [['demo-mqtt-out-analytics', 'demo-debug-drift', 'demo-link-out-overview'], []], name='drift (extruder)',
         method='adwin', params={},
         watch='zone1_temp, zone2_temp, zone3_temp, melt_pressure, melt_temp, motor_power, throughput, vibration, screw_speed',
         related=[{'match': 'zone*_temp', 'tags': 'zone1_temp, zone2_temp, zone3_temp, melt_temp'}],
         classify=True, uncertain='skip', scoreEvery=5, scoreMinChange=0, classifyAfterSamples=120,
         historySamples=1800, resetAfterGapMs=0),
    # the node's defaults (the product): only the watched tags and the ledger are set; the setpoints and the
    # interlock signals (mode, alarm) are not process measurements to alarm on
    # The twin-alarm scores a modelled tag on the residual of the estimate's one-step prediction (its Estimates,
    # above), so it must not also get that tag's Readings; every other tag (and the setpoints, its known inputs)
    # comes as a Reading, scored on the learned baseline.
    node('demo-alarm-route', 'switch', 560, 340, [[], ['demo-alarm']], name='tags without a model', property='payload.tag',
         propertyType='msg', rules=[{'t': 'regex', 'v': '^(' + '|'.join(t for t, _ in MODELLED) + ')$', 'vt': 'str', 'case': False},
                                    {'t': 'else'}],
         checkall='false', repair=False, outputs=2,
         outputLabels=['modelled: alarmed on the estimate', 'no model: alarmed on the learned baseline']),
    node('demo-alarm', 'twin-alarm', 700, 340, [['demo-debug-alarm'], []], name='alarms (extruder)', property='payload',
         watch='zone1_temp, zone2_temp, zone3_temp, melt_pressure, melt_temp, motor_power, throughput, vibration, screw_speed',
         alarmsPerDay=0.03, learnSamples=300, onDelayMs=30000, offDelayMs=60000, deadband=0, chatterCount=3,
         chatterWindowMs=60000, consequence='moderate', consequences=[], roots=[], releaseMs=600000,
         defaultShelveMs=3600000, maxShelveMs=43200000, ratesEveryMs=0, ledger='demo-ledger'),
    node('demo-debug-alarm', 'debug', 960, 340, None, name='alarm events', active=True, tosidebar=True,
         console=False, tostatus=False, complete='payload', targetType='msg', statusVal='', statusType='auto'),
    node('demo-mqtt-out-analytics', 'twin-mqtt-out', 980, 220, [], name='publish estimates and drift', broker='demo-broker',
         topicMode='uns', prefix='', kind='', topic='', qos=1, retain=False),
    node('demo-link-out-overview', 'link out', 1120, 160, None, name='to overview', mode='link', links=['demo-overview-link-in']),
    node('demo-debug-drift', 'debug', 960, 290, None, name='drift events', active=True, tosidebar=True,
         console=False, tostatus=False, complete='payload', targetType='msg', statusVal='', statusType='auto'),

    node('demo-mqtt-in-json', 'twin-mqtt-in', 170, 360, [['demo-screen-mqtt']], name='extruder (MQTT JSON)',
         broker='demo-broker', mode='json', pattern=f'{ASSET}/{{tag}}', assetTemplate=ASSET, tagTemplate='{tag}',
         valuePath='value', timestampPath='tsMs', qualityPath='quality', unitPath='unit', unit='', qos=1,
         maxFutureMs=5000, maxPayloadBytes=1048576, sparkplugGroup='+', rebirthHoldOffMs=5000),
    screen('demo-screen-mqtt', 'screen (MQTT)', 420, 360, [['demo-link-out-readings'], ['demo-debug-flagged-mqtt']]),
    node('demo-link-out-readings', 'link out', 575, 340, None, name='screened readings', mode='link', links=['demo-link-in-readings', 'demo-maint-link-in']),
    node('demo-debug-flagged-mqtt', 'debug', 690, 380, None, name='flagged (MQTT)', active=False, tosidebar=True,
         console=False, tostatus=False, complete='payload', targetType='msg', statusVal='', statusType='auto'),

    node('demo-mqtt-in-spb', 'twin-mqtt-in', 170, 460, [['demo-debug-spb']], name='extruder (Sparkplug B)',
         broker='demo-broker', mode='sparkplug', pattern='', assetTemplate='', tagTemplate='',
         valuePath='value', timestampPath='tsMs', qualityPath='quality', unitPath='unit', unit='', qos=1,
         maxFutureMs=5000, maxPayloadBytes=1048576, sparkplugGroup='plant1', rebirthHoldOffMs=5000),
    node('demo-debug-spb', 'debug', 440, 460, None, name='Sparkplug readings', active=False, tosidebar=True,
         console=False, tostatus=True, complete='payload', targetType='msg', statusVal='payload.value', statusType='msg'),

    node('demo-catch', 'catch', 160, 540, [['demo-debug-errors']], name='bad input anywhere', scope=None, uncaught=False),
    node('demo-debug-errors', 'debug', 420, 540, None, name='errors', active=True, tosidebar=True, console=False,
         tostatus=False, complete='error', targetType='msg', statusVal='', statusType='auto'),
]
# ---- Closed loop (tab 2): propose → approve (supervisors' page) → signed write → read back → ledger ----
LOOP = 'demo-loop-tab'
def lnode(id, type, x, y, wires=None, **kw):
    n = node(id, type, x, y, wires, **kw)
    n['z'] = LOOP
    return n

def envelope(id, tag, low, high):
    return {'id': id, 'type': 'twin-envelope', 'name': f'{tag} envelope', 'asset': ASSET, 'tag': tag, 'unit': 'degC',
            'lowLimit': str(low), 'highLimit': str(high), 'maxStep': '2', 'rateUpPerMin': '6', 'rateDownPerMin': '6',
            'minDwellMs': '20000', 'interlocks': [{'tag': 'mode', 'op': '==', 'value': 1}, {'tag': 'alarm', 'op': '==', 'value': 0}],
            'inputTags': 'quality_index, melt_temp', 'maxInputAgeMs': '15000', 'minQuality': 'good', 'ramp': True,
            'source': 'demo-opcua-endpoint'}

def proposer(id, sp, other, y):
    return lnode(id, 'twin-propose', 620, y, [['demo-approval-' + sp]], name=f'propose {sp}', asset=ASSET, setpointTag=sp,
                 kpiTag='energy_per_kg', mode='minimise', kpiTarget='', constraintTag='quality_index', constraintMin='98',
                 constraintMax='', inputTags=other, model='linear', windowMs=3600000, refitIntervalMs=60000, minSamples=60,
                 settleMs=300000, deadband=0.0005, minChange=1, proposalTtlMs=900000, spLowLimit='', spHighLimit='',
                 intervalPct=90, spResolution=0.1, maxBadPct=20)

def approval(sp, y):
    return lnode('demo-approval-' + sp, 'twin-approval', 880, y, [['demo-write-' + sp], ['demo-debug-decisions']],
                 name=f'approve {sp}', envelope='demo-envelope-' + sp, ledger='demo-ledger', twoPersonAboveStep='5',
                 autoApproval=False, autoApprovalMaxStep='', commandTtlMs=60000, kpiTag='energy_per_kg')

def writer(sp, y):
    return lnode('demo-write-' + sp, 'twin-opcua-write', 1130, y, [['demo-approval-' + sp], ['demo-debug-alarms']],
                 name=f'write {sp}', endpoint='demo-opcua-endpoint', nodeId=f'ns=1;s=extruder.{sp}', asset=ASSET, tag=sp,
                 envelope='demo-envelope-' + sp, ledger='demo-ledger', readBackTimeoutMs=3000, readBackTolerance='')

ENERGY_FN = '''// Energy per kg of product = (three heater zones + drive) kW / throughput kg/h, as a Reading.
// Holds the latest of each part; emits on every throughput reading; quality is the worst part's.
const parts = ['zone1_heater_kw', 'zone2_heater_kw', 'zone3_heater_kw', 'motor_power', 'throughput'];
const r = msg.payload;
if (!r || !parts.includes(r.tag)) return null;
const last = context.get('last') || {};
last[r.tag] = r;
context.set('last', last);
if (r.tag !== 'throughput' || parts.some((t) => !last[t])) return null;
if (r.value < 5) return null; // not producing: no energy per kg
const rank = { good: 0, uncertain: 1, bad: 2 };
const worst = parts.map((t) => last[t].quality).reduce((a, q) => (rank[q] > rank[a] ? q : a), 'good');
const kw = parts.slice(0, 4).reduce((a, t) => a + last[t].value, 0);
return { topic: r.asset + '/energy_per_kg', payload: { asset: r.asset, tag: 'energy_per_kg', value: kw / r.value,
  unit: 'kWh/kg', tsMs: r.tsMs, quality: worst, source: 'demo energy per kg' } };'''

flow += [
    {'id': LOOP, 'type': 'tab', 'label': 'TwinLoop closed loop', 'disabled': False,
     'info': 'Setpoint proposals for barrel zones 3 and 2, approved by a supervisor on the approvals page '
             '(`/twinloop/approvals`), written to the simulator only inside their control envelopes, with every '
             'step in the audit ledger (`twinloop ledger verify <home>/twinloop/ledger/demo-ledger.jsonl`).'},
    {'id': 'demo-ledger', 'type': 'twin-ledger', 'name': 'plant ledger', 'path': 'twinloop/ledger/demo-ledger.jsonl',
     'signingKeyFile': '${TWINLOOP_SIGNING_KEY_FILE}', 'signingKeyEnv': 'TWINLOOP_SIGNING_KEY'},
    envelope('demo-envelope-zone3_sp', 'zone3_sp', 205, 225),
    envelope('demo-envelope-zone2_sp', 'zone2_sp', 195, 215),

    lnode('demo-loop-comment', 'comment', 400, 40, name='Propose, approve, write: the closed loop under supervision',
          info='**Learn.** At start the simulator runs a commissioning step test (zone 3 and zone 2 setpoints stepped up '
               'and back, 7 simulated minutes each, at 40x speed in the first ~45 s). `energy per kg` turns heater and '
               'drive power and throughput into a KPI reading.\n\n'
               '**Propose.** Each `twin-propose` fits energy per kg (and quality_index) against its setpoint and the other '
               'zone\'s, and proposes the setpoint that lowers energy per kg while quality_index stays at or above 98 %, '
               'never beyond the setpoints seen. In this simulator a hotter zone saves energy per kg (a thinner melt '
               'costs the drive more than the heater\'s extra losses), so it proposes raising zone 3 (about 22 '
               'simulated minutes in) and zone 2 (about 29).\n\n'
               '**Approve.** `twin-approval` holds each proposal pending until a supervisor approves or rejects it on '
               'the approvals page (log in with the `supervisor` login `npm start` prints; reason and password again). '
               'Changes above 5 degC need two supervisors. The envelope (limits 205–225 / 195–215 degC, at most 2 degC '
               'a step, 6 degC/min, 20 s dwell, mode AUTO and no alarm, fresh good readings) is checked at approval and '
               'again before every write. The gates and the writers read the setpoint, the interlocks and the inputs from '
               'the OPC UA endpoint the writers write through (the envelope\'s plant connection); the same tags arriving '
               'over MQTT do not count, and each writer reads mode, alarm, quality_index and melt_temp once more in its '
               'own session before it writes.\n\n'
               '**Write.** The gate signs each step (HMAC-SHA256, key in the owner-only file `<home>/signing.key`, '
               'named by `TWINLOOP_SIGNING_KEY_FILE`; never in the environment flow code reads); `twin-opcua-write` '
               'checks signature, expiry, target, single use and the approval in the ledger, writes the step and reads it back; the result goes back '
               'to the gate, which ramps on. Everything is in the hash-chained ledger.'),
    lnode('demo-link-in-readings', 'link in', 120, 160, [['demo-energy', 'demo-propose-zone3', 'demo-propose-zone2']],
          name='screened readings', links=['demo-link-out-readings']),
    # the gates count only readings received from their envelopes' source (the OPC UA endpoint)
    lnode('demo-link-in-plant', 'link in', 120, 60, [['demo-approval-zone3_sp', 'demo-approval-zone2_sp']],
          name='plant readings (OPC UA)', links=['demo-link-out-plant']),
    lnode('demo-energy', 'function', 340, 200, [['demo-propose-zone3', 'demo-propose-zone2', 'demo-approval-zone3_sp',
          'demo-approval-zone2_sp']], name='energy per kg', func=ENERGY_FN, outputs=1, timeout=0, noerr=0, initialize='',
          finalize='', libs=[]),
    proposer('demo-propose-zone3', 'zone3_sp', 'zone2_sp', 140),
    proposer('demo-propose-zone2', 'zone2_sp', 'zone3_sp', 260),
    approval('zone3_sp', 140),
    approval('zone2_sp', 260),
    writer('zone3_sp', 140),
    writer('zone2_sp', 260),
    lnode('demo-debug-decisions', 'debug', 1130, 340, None, name='gate events', active=True, tosidebar=True,
          console=False, tostatus=False, complete='payload', targetType='msg', statusVal='', statusType='auto'),
    lnode('demo-debug-alarms', 'debug', 1380, 200, None, name='write alarms', active=True, tosidebar=True,
          console=False, tostatus=False, complete='payload', targetType='msg', statusVal='', statusType='auto'),
    lnode('demo-loop-catch', 'catch', 140, 380, [['demo-loop-debug-errors']], name='bad input anywhere', scope=None, uncaught=False),
    lnode('demo-loop-debug-errors', 'debug', 400, 380, None, name='errors', active=True, tosidebar=True, console=False,
          tostatus=False, complete='error', targetType='msg', statusVal='', statusType='auto'),
]

# ---- Maintenance and energy (tab 3): RUL of the gearbox bearing → ranked windows → proposal on the page; cost per kg ----
MAINT = 'demo-maint-tab'
def mnode(id, type, x, y, wires=None, **kw):
    n = node(id, type, x, y, wires, **kw)
    n['z'] = MAINT
    return n

TARIFF = json.load(open(os.path.join(os.path.dirname(__file__), '..', 'examples', 'energy', 'tariff-update.json')))
TARIFF = next(n for n in TARIFF if n['type'] == 'twin-tariff')['tariff']
CALENDAR = {
    'shifts': [{'name': 'early', 'start': '06:00', 'end': '14:00'}, {'name': 'late', 'start': '14:00', 'end': '22:00'},
               {'name': 'night', 'start': '22:00', 'end': '06:00'}],
    'week': {d: ['early', 'late', 'night'] for d in ['mon', 'tue', 'wed', 'thu']} | {'fri': ['early', 'late'], 'sat': ['early']},
    'plannedStops': [{'name': 'Saturday maintenance slot', 'days': ['sat'], 'from': '06:00', 'to': '14:00'}],
    'holidays': ['2026-12-25', '2026-12-26', '2027-01-01'],
}
flow += [
    {'id': MAINT, 'type': 'tab', 'label': 'TwinLoop maintenance and energy', 'disabled': False,
     'info': 'Remaining useful life of the extruder\'s gearbox bearing from its vibration, the least costly maintenance '
             'window against the production calendar, proposed to the supervisors\' page; and the line\'s energy cost '
             'per kg under a time-of-use tariff with a demand charge.'},
    {'id': 'demo-tariff', 'type': 'twin-tariff', 'name': 'plant tariff (Berlin TOU)', 'tariff': TARIFF},
    mnode('demo-maint-comment', 'comment', 420, 40, name='Maintenance window for the bearing wear; energy cost per kg',
          info='**RUL.** `twin-rul` reads the gearbox vibration (one row a minute, latest value held) through the model '
               'named by `TWINLOOP_BEARING_MODEL` (`twinloop start` sets it to the package\'s `models/bearing-rul-model.json`, '
               'written by `scripts/make-bearing-model.ts`: a degradation trend fitted on 40 run-to-failure histories of '
               'the simulator\'s bearing) and estimates the remaining useful life with its P10–P90 interval. The demo\'s '
               'bearing starts part-worn.\n\n'
               '**Window.** `twin-maintenance` ranks every 15-minute start in the next 14 days against the plant '
               'calendar (three shifts Mon–Thu, two on Friday, Saturday early shift; a Saturday maintenance slot; '
               'holidays; Europe/Berlin): job 6 h and €4 000, lost production €2 500/h, a failure €60 000 times the '
               'probability of failing first, and the job\'s energy under the tariff. It proposes the best window '
               'once, and again only when a clearly better one appears (10 % and €100 margins).\n\n'
               '**Approve.** `twin-approval` in maintenance mode puts the proposal on the approvals page '
               '(`/twinloop/approvals`) beside the setpoint proposals; a supervisor approves it with reason and password; '
               'the gate records it in the ledger and issues a signed maintenance order (debug sidebar). Above €20 000 '
               'expected cost it needs two supervisors.\n\n'
               '**Energy.** `twin-energy` turns the line\'s energy counter and its product-mass totaliser into cost '
               'per 15 minutes and per shift under the `plant tariff` (time of use, 15-minute demand charge, CO2), '
               'with energy and cost per kg, and watches the running demand block: it alerts before a new monthly '
               'peak is set.\n\n'
               '**Publish.** `twin-mqtt-out` publishes the RUL estimates, the ranked windows (one message each), the '
               'energy costs and the demand status under `<asset>/twin/<kind>` for the overview and other consumers.'),
    mnode('demo-maint-link-in', 'link in', 120, 140, [['demo-maint-vibration', 'demo-energy-cost']], name='screened readings',
          links=['demo-link-out-readings']),
    mnode('demo-maint-vibration', 'switch', 300, 120, [['demo-rul']], name='vibration', property='payload.tag',
          propertyType='msg', rules=[{'t': 'eq', 'v': 'vibration', 'vt': 'str'}], checkall='true', repair=False, outputs=1),
    mnode('demo-rul', 'twin-rul', 500, 120, [['demo-maintenance', 'demo-maint-mqtt-out', 'demo-overview']], name='bearing RUL',
          modelPath='${TWINLOOP_BEARING_MODEL}', assetFrom='payload.asset', rowIntervalMs='60000', emitEveryRows=1),
    mnode('demo-maintenance', 'twin-maintenance', 720, 120, [['demo-maint-split'], ['demo-maint-approval']],
          name='bearing replacement window', job='gearbox bearing replacement', timeZone='Europe/Berlin',
          calendar=json.dumps(CALENDAR, indent=2), jobDurationMin=360, jobCostEur=4000, downtimeCostEurPerHour=2500,
          failureCostEur=60000, horizonDays=14, stepMin=15, topN=5, maxFailureProbability='', allowProductionLoss=True,
          tariff='demo-tariff', jobPowerKw=15, restartEnergyKwh=120, relativeMargin=0.1, absoluteMarginEur=100,
          proposalExpiryMin=1440),
    # the ranked list is one array; MQTT gets one window record per message
    mnode('demo-maint-split', 'split', 900, 60, [['demo-maint-mqtt-out', 'demo-overview']], name='one window each', splt='\\n', spltType='str',
          arraySplt=1, arraySpltType='len', stream=False, addname=''),
    mnode('demo-maint-approval', 'twin-approval', 960, 160, [['demo-debug-orders'], ['demo-debug-maint-events']],
          name='approve maintenance', mode='maintenance', envelope='', asset=ASSET, twoPersonAboveEur='20000',
          ledger='demo-ledger', twoPersonAboveStep='', autoApproval=False, autoApprovalMaxStep='', commandTtlMs=60000, kpiTag=''),
    mnode('demo-debug-orders', 'debug', 1200, 140, None, name='maintenance orders', active=True, tosidebar=True,
          console=False, tostatus=False, complete='payload', targetType='msg', statusVal='', statusType='auto'),
    mnode('demo-debug-maint-events', 'debug', 1200, 190, None, name='maintenance gate events', active=False, tosidebar=True,
          console=False, tostatus=False, complete='payload', targetType='msg', statusVal='', statusType='auto'),
    mnode('demo-maint-mqtt-out', 'twin-mqtt-out', 1080, 60, [], name='publish RUL, windows, energy', broker='demo-broker',
          topicMode='uns', prefix='', kind='', topic='', qos=1, retain=False),
    mnode('demo-energy-cost', 'twin-energy', 500, 280, [['demo-maint-mqtt-out', 'demo-debug-energy', 'demo-overview'], ['demo-maint-mqtt-out', 'demo-overview'], []],
          name='energy cost per kg', tariff='demo-tariff', mode='counter', powerTag='', counterTag='energy_kwh',
          counterModulusKwh='', reactiveTag='', unitsTag='mass_kg', unitsModulus='', unitName='kg', batchTag='',
          intervalMin=15, demandBlockMin='', alertFloorKw=0, maxGapMs=300000, demandEveryMs=60000,
          shifts='06:00 early, 14:00 late, 22:00 night', baselineVars='', baselinePeriods=0),
    mnode('demo-debug-energy', 'debug', 740, 300, None, name='energy cost (per kg)', active=True, tosidebar=True,
          console=False, tostatus=True, complete='payload', targetType='msg', statusVal='payload.costEurPerUnit',
          statusType='msg'),
    mnode('demo-overview-link-in', 'link in', 1060, 300, [['demo-overview']], name='from the line', links=['demo-link-out-overview']),
    mnode('demo-overview', 'twin-overview', 1300, 260, [], name='line overview', windowMin=60, pointsPerSeries=240, maxSeries=500),
    mnode('demo-overview-comment', 'comment', 1300, 220, name='Live overview at /twinloop/overview',
          info='`twin-overview` serves the live overview at `/twinloop/overview`: trends of readings against estimates '
               '(±2σ) with drift marked, RUL with P10–P90, the ranked maintenance windows, energy cost and the demand '
               'block, and the pending proposals. Log in with a Node-RED login (read is enough).'),
    mnode('demo-maint-catch', 'catch', 140, 380, [['demo-maint-debug-errors']], name='bad input anywhere', scope=None, uncaught=False),
    mnode('demo-maint-debug-errors', 'debug', 400, 380, None, name='errors', active=True, tosidebar=True, console=False,
          tostatus=False, complete='error', targetType='msg', statusVal='', statusType='auto'),
]

out = os.path.join(os.path.dirname(__file__), '..', 'examples', 'demo', 'demo-line.json')
with open(out, 'w') as f:
    json.dump(flow, f, indent=2)
    f.write('\n')
print('wrote', os.path.normpath(out))
