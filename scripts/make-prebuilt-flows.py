#!/usr/bin/env python3
"""Writes the prebuilt flows for plant IT (flows/*.json), deployed with `twinloop deploy FLOW --env SITE.env`.

Every site-specific value is a whole-value `${NAME}` (Node-RED substitutes only whole values, also
inside nested objects); credentials are `${NAME}` inside the config nodes' `credentials`, which
`twinloop deploy` fills in and Node-RED stores encrypted. The config nodes every flow shares (OPC UA
endpoint, broker, InfluxDB, ledger) have the SAME ids and definitions in every flow, so several
prebuilt flows deployed to one Node-RED share one OPC UA session, one MQTT client id and one
historian buffer, and a redeploy replaces them rather than adding copies.

The processing nodes copy the configuration of the demo flow (scripts/make-demo-flow.py), which is
tuned on the plant simulator; the OPC UA items are the reference extruder's (`ns=1;s=extruder.<tag>`).
Checks that flows/site.example.env sets every variable the flows use.
"""
import json, os, re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
DEMO = json.load(open(os.path.join(ROOT, 'examples', 'demo', 'demo-line.json')))
def demo_node(type, name):
    return next(n for n in DEMO if n['type'] == type and n.get('name') == name)
def settings(node, **override):
    """A demo node's configuration, without identity, position and wiring."""
    return {**{k: v for k, v in node.items() if k not in ('id', 'type', 'z', 'x', 'y', 'wires')}, **override}

# ---- shared config nodes: same id and definition in every flow that uses them ----
OPCUA = {'id': 'twinloop-opcua', 'type': 'twin-opcua-endpoint', 'name': 'line OPC UA server',
         'endpointUrl': '${OPCUA_ENDPOINT}', 'securityMode': '${OPCUA_SECURITY_MODE}',
         'securityPolicy': '${OPCUA_SECURITY_POLICY}', 'authMode': 'anonymous', 'acceptUnknownCertificates': False}
BROKER = {'id': 'twinloop-mqtt', 'type': 'twin-mqtt-broker', 'name': 'site broker (UNS)', 'url': '${MQTT_URL}',
          'clientId': '${MQTT_CLIENT_ID}', 'protocolVersion': 5, 'cleanSession': False, 'sessionExpiryS': 3600,
          'keepaliveS': 60, 'reconnectPeriodMs': 1000, 'maxReconnectPeriodMs': 30000, 'tlsCaFile': '', 'tlsCertFile': '',
          'tlsKeyFile': '', 'rejectUnauthorized': True, 'outboxMaxEntries': 100000, 'inflightWindow': 10,
          'credentials': {'user': '${MQTT_USER}', 'password': '${MQTT_PASSWORD}'}}
INFLUX = {'id': 'twinloop-influx', 'type': 'twin-influx-config', 'name': 'site historian', 'url': '${INFLUX_URL}',
          'database': '${INFLUX_DB}', 'createDatabase': True, 'retentionPolicy': '', 'precision': 'ms',
          'site': '${SITE}', 'line': '${LINE}', 'batchSize': 1000, 'flushMs': 1000, 'bufferMaxEntries': 1000000,
          'retryMinMs': 500, 'retryMaxMs': 30000, 'timeoutMs': 10000,
          'credentials': {'user': '${INFLUX_USER}', 'password': '${INFLUX_PASSWORD}'}}
# The signing key stays in Node-RED's own environment (the service's), never in a flow or a deploy.
LEDGER = {'id': 'twinloop-ledger', 'type': 'twin-ledger', 'name': 'line ledger', 'path': '',
          'signingKeyEnv': 'TWINLOOP_SIGNING_KEY'}
TARIFF_DEF = json.load(open(os.path.join(ROOT, 'examples', 'energy', 'tariff-update.json')))
TARIFF = {'id': 'twinloop-tariff', 'type': 'twin-tariff', 'name': 'site tariff',
          'tariff': next(n for n in TARIFF_DEF if n['type'] == 'twin-tariff')['tariff']}

ASSET = '${ASSET}'
TAG_UNITS = {'zone1_temp': 'degC', 'zone2_temp': 'degC', 'zone3_temp': 'degC', 'zone1_sp': 'degC', 'zone2_sp': 'degC',
             'zone3_sp': 'degC', 'zone1_heater_kw': 'kW', 'zone2_heater_kw': 'kW', 'zone3_heater_kw': 'kW',
             'melt_pressure': 'bar', 'melt_temp': 'degC', 'screw_speed': 'rpm', 'motor_power': 'kW',
             'vibration': 'mm/s', 'throughput': 'kg/h', 'quality_index': '%', 'energy_kwh': 'kWh', 'mass_kg': 'kg',
             'mode': '', 'alarm': ''}

class Flow:
    def __init__(self, prefix, label, info):
        self.p, self.tab = prefix, prefix + '-tab'
        self.nodes = [{'id': self.tab, 'type': 'tab', 'label': label, 'disabled': False, 'info': info}]
    def id(self, name):
        return f'{self.p}-{name}'
    def add(self, key, type, x, y, wires=None, **kw):
        n = {'id': self.id(key), 'type': type, 'z': self.tab, 'x': x, 'y': y, **kw}
        if wires is not None:
            n['wires'] = [[self.id(w) for w in out] for out in wires]
        self.nodes.append(n)
    def config(self, *nodes):
        self.nodes.extend(json.loads(json.dumps(n)) for n in nodes)
    def comment(self, key, x, y, title, info):
        self.add(key, 'comment', x, y, name=title, info=info)
    def opcua_in(self, x, y, tags, wires, report_timestamps=False):
        self.add('opcua-in', 'twin-opcua-in', x, y, wires, name='line (OPC UA)', endpoint=OPCUA['id'],
                 items=[{'nodeId': f'ns=1;s=extruder.{t}', 'asset': ASSET, 'tag': t, 'unit': TAG_UNITS[t]} for t in tags],
                 samplingIntervalMs='${OPCUA_SAMPLING_MS}', deadband=0, reportTimestamps=report_timestamps, queueSize=10,
                 maxFutureMs=5000, defaultAsset='')
    def screen(self, x, y, wires):
        s = demo_node('twin-screen', 'screen (OPC UA)')
        self.add('screen', 'twin-screen', x, y, wires, **settings(s, name='screen readings'))
    def historian(self, key, x, y, measurement='', title='historian'):
        self.add(key, 'twin-historian', x, y, [], name=title, influx=INFLUX['id'], measurement=measurement)
    def debug(self, key, x, y, title, complete='payload'):
        self.add(key, 'debug', x, y, None, name=title, active=True, tosidebar=True, console=False, tostatus=False,
                 complete=complete, targetType='msg', statusVal='', statusType='auto')
    def errors(self, y):
        self.add('catch', 'catch', 160, y, [['debug-errors']], name='bad input anywhere', scope=None, uncaught=False)
        self.debug('debug-errors', 420, y, 'errors', complete='error')
    def ledger_records(self, x, y, wires):
        # A gate's state event carries the fsync'ed LedgerRecord (asset, tsMs, type, data): store that.
        self.add('gate-records', 'change', x, y, wires, name='ledger record',
                 rules=[{'t': 'set', 'p': 'payload', 'pt': 'msg', 'to': 'payload.record', 'tot': 'msg'}],
                 action='', property='', to='', reg=False, **{'from': ''})

HISTORIAN_INFO = ('Everything goes to InfluxDB (`INFLUX_URL`, database `INFLUX_DB`) tagged with `SITE` and `LINE`, '
                  'through a disk buffer: nothing is lost while the database is away or Node-RED restarts.')

# ---- (a) line monitoring ----
lm = Flow('tl-line', 'TwinLoop line monitoring', (
    'Prebuilt flow (flows/line-monitoring.json). Reads the line over OPC UA, screens every reading, estimates '
    'the barrel zone temperatures, detects drift and tells sensor faults from process changes; stores readings, '
    'estimates and drift events in the historian and publishes them to the unified namespace under '
    '`<ASSET>/twin/<kind>/<tag>`.\n\nSite values: `OPCUA_*`, `MQTT_*`, `INFLUX_*`, `SITE`, `LINE`, `ASSET` '
    '(see flows/README.md). Deploy with `twinloop deploy flows/line-monitoring.json --env site.env`.'))
lm.config(OPCUA, BROKER, INFLUX)
LM_TAGS = ['zone1_temp', 'zone2_temp', 'zone3_temp', 'melt_pressure', 'melt_temp', 'screw_speed', 'motor_power',
           'vibration', 'throughput', 'quality_index', 'zone1_sp', 'zone2_sp', 'zone3_sp']
estimate = demo_node('twin-estimate', 'zone temperatures')
drift = demo_node('twin-drift', 'drift (extruder)')
# the demo's alarm settings without its ledger: this flow needs no signing key (closed-loop-setpoint.json brings
# the shared ledger; set the node's Ledger to `line ledger` there to record acknowledgements and shelving in it)
alarm = demo_node('twin-alarm', 'alarms (extruder)')
# the modelled tags reach `alarms` as estimates (scored on the twin's own prediction), every other tag as readings
alarm_route = demo_node('switch', 'tags without a model')
lm.comment('comment', 360, 40, 'Line monitoring: OPC UA → screen → estimate and drift → historian and UNS', (
    '`line (OPC UA)` subscribes to the extruder\'s tags (`ns=1;s=extruder.<tag>`) on `OPCUA_ENDPOINT` every '
    '`OPCUA_SAMPLING_MS`, as readings of asset `ASSET`.\n\n`screen readings` marks readings out of range, too fast, '
    'stuck, spiking, stale or badly timestamped as uncertain or bad (they travel on with their quality; flagged '
    'ones also go to the debug sidebar).\n\n`zone temperatures` runs a Kalman filter per heater zone driven by its '
    'setpoint; `drift` watches the screened tags with ADWIN and classifies each change as a sensor fault or a '
    'process change.\n\n`alarms` scores the zone temperatures on the residual of their estimates (a setpoint step the '
    'model predicts raises nothing) and the other process tags against their own history, and manages alarms (ISA-18.2: '
    'one alarm per episode, on/off delays, chattering, priorities); operators acknowledge and supervisors shelve them '
    'on the overview page (`/twinloop/overview`, permissions `twinloop.ack` and `twinloop.shelve`); every action goes '
    'to `alarm events` and the Node-RED log, and to the audit ledger once the node\'s Ledger is set.\n\n'
    + HISTORIAN_INFO + ' `publish to UNS` sends the same records to the site broker.'))
lm.opcua_in(160, 120, LM_TAGS, [['screen']])
lm.screen(400, 120, [['estimate', 'drift', 'alarm-route', 'historian', 'mqtt-out'], ['debug-flagged']])
lm.add('estimate', 'twin-estimate', 660, 200, [['historian', 'mqtt-out', 'alarm']],
       **settings(estimate))
lm.add('drift', 'twin-drift', 660, 260, [['historian', 'mqtt-out', 'debug-drift'], []],
       **settings(drift))
lm.add('alarm-route', 'switch', 520, 320, [[], ['alarm']], **settings(alarm_route))
lm.add('alarm', 'twin-alarm', 660, 320, [['debug-alarm'], []], **settings(alarm, name='alarms', ledger=''))
lm.historian('historian', 940, 120, title='historian (readings, estimates, drift)')
lm.add('mqtt-out', 'twin-mqtt-out', 940, 180, [], name='publish to UNS', broker=BROKER['id'], topicMode='uns',
       prefix='', kind='', topic='', qos=1, retain=False)
lm.debug('debug-flagged', 660, 140, 'flagged readings')
lm.debug('debug-drift', 940, 260, 'drift events')
lm.debug('debug-alarm', 940, 320, 'alarm events')
lm.errors(400)

# ---- (b) closed-loop setpoint ----
cl = Flow('tl-loop', 'TwinLoop closed-loop setpoint', (
    'Prebuilt flow (flows/closed-loop-setpoint.json). Proposes barrel zone 3 and zone 2 setpoints that lower energy '
    'per kg while quality_index stays at or above 98 %; a supervisor approves each on the approvals page '
    '(`/twinloop/approvals`); only signed commands inside the control envelope (`ZONE*_SP_MIN`…`MAX`) are written '
    'to the OPC UA server, read back, and reported to the gate. Everything is in the hash-chained ledger and the '
    'historian.\n\nNode-RED\'s own environment must hold `TWINLOOP_SIGNING_KEY` (at least 32 characters); the '
    'ledger node shows red without it and nothing is ever written.'))
cl.config(OPCUA, INFLUX, LEDGER)
def envelope(sp):
    up = sp.upper()
    demo = demo_node('twin-envelope', f'{sp} envelope')
    return {'id': cl.id(f'envelope-{sp}'), 'type': 'twin-envelope',
            **settings(demo, asset=ASSET, lowLimit=f'${{{up}_MIN}}', highLimit=f'${{{up}_MAX}}', source=OPCUA['id'])}
cl.config(envelope('zone3_sp'), envelope('zone2_sp'))
energy_fn = demo_node('function', 'energy per kg')
cl.comment('comment', 420, 40, 'Propose, approve, write: setpoints under supervision', (
    '**Learn.** `energy per kg` turns heater and drive power and throughput into a KPI reading. Each `propose` '
    'fits energy per kg (and quality_index) against its setpoint and the other zone\'s, over the last hour, and '
    'proposes the setpoint that lowers it while quality_index stays at or above 98 %, never beyond the setpoints '
    'seen.\n\n**Approve.** `approve` holds each proposal until a supervisor (Node-RED login with the '
    '`twinloop.approve` permission) approves or rejects it on `/twinloop/approvals`, with reason and password. '
    'Changes above 5 degC need two supervisors. The envelope (site limits, at most 2 degC a step, 6 degC/min, 20 s '
    'dwell, mode AUTO and no alarm, fresh good readings) is checked at approval and again before every write. '
    'Its plant connection is `line OPC UA server`: only readings received there count, and `write` reads the '
    'interlocks and inputs once more in its own session before each write.\n\n'
    '**Write.** `write` checks the command\'s signature, expiry, target and single use, writes the step over OPC UA, '
    'reads it back and returns the result to the gate, which ramps on.\n\n' + HISTORIAN_INFO +
    ' Gate events are stored as their ledger records (measurement `approval`), write results as `write`.'))
SP = ['zone3_sp', 'zone2_sp']
CL_TAGS = ['zone2_sp', 'zone3_sp', 'zone1_heater_kw', 'zone2_heater_kw', 'zone3_heater_kw', 'motor_power',
           'throughput', 'quality_index', 'melt_temp', 'mode', 'alarm']
GATES = [f'approval-{sp}' for sp in SP]
# every sample, also of a value that holds (mode, alarm): the envelopes need fresh readings from this endpoint
cl.opcua_in(160, 140, CL_TAGS, [['screen']], report_timestamps=True)
cl.screen(380, 140, [['energy', 'propose-zone3_sp', 'propose-zone2_sp', *GATES, 'historian'], []])
cl.add('energy', 'function', 380, 220, [['propose-zone3_sp', 'propose-zone2_sp', *GATES, 'historian']],
       **settings(energy_fn))
for i, sp in enumerate(SP):
    other = SP[1 - i]
    y = 140 + 120 * i
    proposer = demo_node('twin-propose', f'propose {sp}')
    cl.add(f'propose-{sp}', 'twin-propose', 640, y, [[f'approval-{sp}']],
           **settings(proposer, asset=ASSET, inputTags=other))
    cl.add(f'approval-{sp}', 'twin-approval', 880, y, [[f'write-{sp}'], ['gate-records', 'debug-gate']],
           **settings(demo_node('twin-approval', f'approve {sp}'), mode='setpoint', asset='', twoPersonAboveEur='',
                      envelope=cl.id(f'envelope-{sp}'), ledger=LEDGER['id']))
    cl.add(f'write-{sp}', 'twin-opcua-write', 1130, y, [[f'approval-{sp}', 'historian-write'], ['debug-alarms']],
           **settings(demo_node('twin-opcua-write', f'write {sp}'), endpoint=OPCUA['id'], asset=ASSET,
                      envelope=cl.id(f'envelope-{sp}'), ledger=LEDGER['id']))
cl.ledger_records(1130, 340, [['historian-gate']])
cl.historian('historian', 640, 340, title='historian (readings, energy per kg)')
cl.historian('historian-gate', 1380, 340, measurement='approval', title='historian (gate events)')
cl.historian('historian-write', 1380, 120, measurement='write', title='historian (write results)')
cl.debug('debug-gate', 1130, 400, 'gate events')
cl.debug('debug-alarms', 1380, 200, 'write alarms')
cl.errors(460)

# ---- (c) maintenance and energy ----
me = Flow('tl-maint', 'TwinLoop maintenance and energy', (
    'Prebuilt flow (flows/maintenance-energy.json). Remaining useful life of the gearbox bearing from its '
    'vibration (model file `RUL_MODEL`, made by `twinloop fit --kind rul`), the least costly maintenance window '
    'against the production calendar, proposed on the supervisors\' page (`/twinloop/approvals`); and the line\'s '
    'energy cost per kg under the site tariff with its demand charge. RUL, windows, energy cost and demand go to the '
    'historian and the unified namespace.\n\nThe tariff (twin-tariff `site tariff`) and the production calendar (in '
    '`replacement window`) are the reference ones (Europe/Berlin); change them in scripts/make-prebuilt-flows.py for '
    'your sites. Node-RED\'s environment must hold `TWINLOOP_SIGNING_KEY` for the signed maintenance orders.'))
me.config(OPCUA, BROKER, INFLUX, LEDGER, TARIFF)
maint = demo_node('twin-maintenance', 'bearing replacement window')
rul = demo_node('twin-rul', 'bearing RUL')
energy = demo_node('twin-energy', 'energy cost per kg')
me.comment('comment', 420, 40, 'Bearing RUL → maintenance window → approval; energy cost per kg', (
    '**RUL.** `bearing RUL` takes one row a minute of the gearbox vibration through the model `RUL_MODEL` and '
    'estimates the remaining useful life with its P10–P90 interval.\n\n**Window.** `replacement window` ranks every '
    '15-minute start in the next 14 days against the plant calendar (shifts, planned stops, holidays): job 6 h and '
    '€4 000, lost production €2 500/h, a failure €60 000 times the probability of failing first, and the job\'s '
    'energy under the tariff. It proposes the best window, and again only when a clearly better one appears.\n\n'
    '**Approve.** The proposal shows on `/twinloop/approvals`; a supervisor approves it with reason and password; '
    'the gate records it in the ledger and issues a signed maintenance order (debug sidebar). Above €20 000 expected '
    'cost it needs two supervisors.\n\n**Energy.** `energy cost per kg` turns the energy counter and the product-mass '
    'totaliser into cost per 15 minutes and per shift under the `site tariff`, and watches the demand block.\n\n'
    + HISTORIAN_INFO))
me.opcua_in(160, 140, ['vibration', 'energy_kwh', 'mass_kg'], [['screen']])
me.screen(380, 140, [['vibration', 'energy', 'historian'], []])
me.add('vibration', 'switch', 560, 100, [['rul']], name='vibration', property='payload.tag', propertyType='msg',
       rules=[{'t': 'eq', 'v': 'vibration', 'vt': 'str'}], checkall='true', repair=False, outputs=1)
me.add('rul', 'twin-rul', 740, 100, [['maintenance', 'historian', 'mqtt-out']],
       **settings(rul, modelPath='${RUL_MODEL}'))
me.add('maintenance', 'twin-maintenance', 960, 100, [['historian', 'split'], ['approval']],
       **settings(maint, name='replacement window', tariff=TARIFF['id']))
# the ranked list is one array: the historian takes it whole, MQTT one window record per message
me.add('split', 'split', 1180, 40, [['mqtt-out']], name='one window each', splt='\\n', spltType='str', arraySplt=1,
       arraySpltType='len', stream=False, addname='')
me.add('approval', 'twin-approval', 1180, 160, [['debug-orders'], ['gate-records']], name='approve maintenance',
       mode='maintenance', envelope='', asset=ASSET, twoPersonAboveEur='20000', ledger=LEDGER['id'],
       twoPersonAboveStep='', autoApproval=False, autoApprovalMaxStep='', commandTtlMs=60000, kpiTag='')
me.ledger_records(1400, 220, [['historian-gate']])
me.add('energy', 'twin-energy', 740, 260, [['historian', 'mqtt-out'], ['historian', 'mqtt-out'], []],
       **settings(energy, tariff=TARIFF['id']))
me.historian('historian', 1180, 300, title='historian (RUL, windows, energy)')
me.historian('historian-gate', 1620, 220, measurement='approval', title='historian (gate events)')
me.add('mqtt-out', 'twin-mqtt-out', 1400, 40, [], name='publish to UNS', broker=BROKER['id'], topicMode='uns',
       prefix='', kind='', topic='', qos=1, retain=False)
me.debug('debug-orders', 1400, 140, 'maintenance orders')
me.errors(400)

# ---- write, and check consistency ----
REF = re.compile(r'^\$\{(\w+)\}$')
def refs(v, out):
    if isinstance(v, str):
        m = REF.match(v)
        if m: out.add(m.group(1))
    elif isinstance(v, list):
        for x in v: refs(x, out)
    elif isinstance(v, dict):
        for x in v.values(): refs(x, out)
    return out

env_example = open(os.path.join(ROOT, 'flows', 'site.example.env')).read()
example_names = set(re.findall(r'^(?:#\s*)?([A-Z_][A-Z0-9_]*)=', env_example, re.M))
for name, flow in [('line-monitoring', lm), ('closed-loop-setpoint', cl), ('maintenance-energy', me)]:
    nodes = flow.nodes
    ids = [n['id'] for n in nodes]
    assert len(ids) == len(set(ids)), f'{name}: duplicate ids'
    for n in nodes:
        for out in n.get('wires', []):
            for w in out:
                assert w in ids, f'{name}: {n["id"]} wired to missing {w}'
    missing = refs(nodes, set()) - example_names
    assert not missing, f'{name}: flows/site.example.env lacks {sorted(missing)}'
    out = os.path.join(ROOT, 'flows', name + '.json')
    with open(out, 'w') as f:
        json.dump(nodes, f, indent=2)
        f.write('\n')
    print('wrote', os.path.relpath(out, ROOT), f'({len(nodes)} nodes, variables: {" ".join(sorted(refs(nodes, set())))})')
